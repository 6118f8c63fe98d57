from psycopg2 import errors as pg_errors

from odoo import api, fields, models

from ..lib.masking import mask_text, mask_url
from .common import side_cursor


class RetailExchange(models.Model):
    """Outbound log: every call to a platform, with secrets and personal data masked.

    Written on a side cursor so a call stays logged even when the job that made
    it is rolled back and retried. What could still say too much even masked
    (the URL, the error text, the bodies) is for managers only; users see the
    call's shape (operation, status, timing, throttling).
    """

    _name = "retail.exchange"
    _description = "Retail Connect Exchange"
    _order = "id desc"
    _rec_name = "operation"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one("res.company", index=True)
    operation = fields.Char(required=True)
    method = fields.Char()
    url = fields.Char(groups="retail_connect_base.group_manager")
    status = fields.Integer(index=True)
    ok = fields.Boolean(index=True)
    duration_ms = fields.Float("Duration (ms)", aggregator="avg")
    attempt = fields.Integer()
    idempotency_key = fields.Char()
    request_id = fields.Char("Remote request id")
    throttle_state = fields.Char()
    error = fields.Text(groups="retail_connect_base.group_manager")
    request_body = fields.Text(groups="retail_connect_base.group_manager")
    response_body = fields.Text(groups="retail_connect_base.group_manager")
    create_date = fields.Datetime(index=True)

    @api.model
    def _record(self, backend, exchange, also=None):
        """Log ``exchange`` in a side transaction; ``also(cr)`` writes in the
        same one what else the call's answer said (the budget it reported:
        ``retail.backend._log_exchange``), one commit per call's aftermath.
        The transaction is READ COMMITTED, as the rate bucket's must be."""
        try:
            with side_cursor(self.env, read_committed=True) as cr:
                self._insert(cr, backend, exchange)
                if also:
                    also(cr)
        except pg_errors.ForeignKeyViolation:
            # the backend is not committed yet: log in the caller's transaction
            # (its bucket cannot be written before it is: not limited yet)
            with self.env.cr.savepoint():
                self._insert(self.env.cr, backend, exchange)

    @api.model
    def _insert(self, cr, backend, exchange):
        cr.execute(
            """
            INSERT INTO retail_exchange
                   (backend_id, company_id, operation, method, url, status, ok,
                    duration_ms, attempt, idempotency_key, request_id,
                    throttle_state, error, request_body, response_body,
                    create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                    %s, %s, now() at time zone 'utc', now() at time zone 'utc')
            """,
            (
                backend.id,
                backend.company_id.id,
                exchange.operation,
                exchange.method,
                mask_url(exchange.url),
                exchange.status,
                bool(exchange.status and 200 <= exchange.status < 300),
                round(exchange.duration_ms, 1),
                exchange.attempt,
                exchange.idempotency_key,
                exchange.request_id,
                exchange.throttle_state,
                mask_text(exchange.error),
                exchange.request_body,
                exchange.response_body,
                self.env.uid,
                self.env.uid,
            ),
        )
