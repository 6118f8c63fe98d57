"""Retention: how long the inbox, the exchange log and closed exceptions live.

Periods are per backend (its form, "Retention"), counted from the moment a
record was settled:

- an event is settled in a final state: done, skipped (any reason), dead, or
  failed once its exception is resolved or ignored; from then on (the latest of
  its reception, its processing and its exception's resolution) its payload is
  purged after ``payload_retention_days`` (the event row stays, with
  ``payload_purged``) and the whole event is deleted after
  ``event_retention_days``. Events still waiting or failed with an open
  exception are never touched: they are someone's work;
- an exchange (a call to the platform) is deleted ``exchange_retention_days``
  after it was made;
- a shadow record (what a backend in shadow would have written) is deleted
  ``shadow_retention_days`` after it was recorded;
- a resolved or ignored exception is deleted ``exception_retention_days`` after
  its resolution, once no event refers to it any more (events go first, so a
  failed event never loses the exception that says why).

One cron (``_cron_retention``) does it in batches: each statement touches at
most ``BATCH`` rows, each kind at most ``MAX_BATCHES`` statements per call; the
cron reports its progress (``ir.cron._notify_progress``) so Odoo's runner calls
it again, in a new transaction, while work is left. Nothing commits by itself.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .retail_event import FINAL

BATCH = 5000
MAX_BATCHES = 4
# events a person no longer needs: final, or failed with a closed exception
SETTLED = """
    (e.state IN %(final)s
     OR (e.state = 'failed' AND x.state IN ('resolved', 'ignored')))
"""
SETTLED_AT = "GREATEST(e.received_at, e.processed_at, x.resolved_at)"
UTC_NOW = "(now() AT TIME ZONE 'utc')"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    payload_retention_days = fields.Integer(
        "Event payloads (days)",
        default=30,
        help="Days a settled event keeps its payload (the platform's data, "
        "personal data included); the event itself stays, without it.",
    )
    event_retention_days = fields.Integer(
        "Events (days)",
        default=90,
        help="Days a settled event is kept at all. At least 7: an event is also "
        "what recognises a platform's late re-delivery as a duplicate.",
    )
    exchange_retention_days = fields.Integer(
        "Exchange log (days)",
        default=30,
        help="Days the log of calls to the platform is kept.",
    )
    shadow_retention_days = fields.Integer(
        "Shadow records (days)",
        default=30,
        help="Days the records of a shadow run (what would have been written, "
        "personal data included) are kept.",
    )
    exception_retention_days = fields.Integer(
        "Closed exceptions (days)",
        default=180,
        help="Days a resolved or ignored exception is kept after its "
        "resolution (and after its events are gone).",
    )

    @api.constrains(
        "payload_retention_days",
        "event_retention_days",
        "exchange_retention_days",
        "shadow_retention_days",
        "exception_retention_days",
    )
    def _check_retention(self):
        for backend in self:
            if (
                min(
                    backend.payload_retention_days,
                    backend.exchange_retention_days,
                    backend.shadow_retention_days,
                    backend.exception_retention_days,
                )
                < 1
                or backend.event_retention_days < 7
            ):
                raise ValidationError(
                    self.env._(
                        "%(backend)s: retention periods are at least one day, and "
                        "seven for events (they recognise late re-deliveries).",
                        backend=backend.name,
                    )
                )

    # ------------------------------------------------------------- the cron
    @api.model
    def _cron_retention(self):
        """Purge and delete what is past its retention, in bounded batches."""
        done = 0
        more = False
        for step in (
            self._retention_purge_payloads,
            self._retention_delete_events,
            self._retention_delete_exchanges,
            self._retention_delete_shadow_records,
            self._retention_delete_exceptions,
        ):
            count, left = self._retention_batches(step)
            done += count
            more = more or left
        # the runner calls again (new transaction) while something is left
        self.env["ir.cron"]._notify_progress(done=done, remaining=BATCH if more else 0)
        return done

    @api.model
    def _retention_batches(self, step):
        """Run ``step(limit)`` until a batch is not full or the bound is hit;
        return ``(rows, more_left)``."""
        total = 0
        for _ in range(MAX_BATCHES):
            count = step(BATCH)
            total += count
            if count < BATCH:
                return total, False
        return total, True

    def _retention_execute(self, query, params):
        self.env.cr.execute(query, params)
        return self.env.cr.rowcount

    @api.model
    def _retention_purge_payloads(self, limit):
        self.env.flush_all()
        count = self._retention_execute(
            f"""
            WITH batch AS (
                SELECT e.id FROM retail_event e
                  JOIN retail_backend b ON b.id = e.backend_id
             LEFT JOIN retail_sync_exception x ON x.id = e.exception_id
                 WHERE e.payload IS NOT NULL AND {SETTLED}
                   AND {SETTLED_AT} < {UTC_NOW}
                       - make_interval(days => b.payload_retention_days)
                 LIMIT %(limit)s
                   FOR UPDATE OF e SKIP LOCKED
            )
            UPDATE retail_event SET payload = NULL, payload_purged = true
              FROM batch WHERE retail_event.id = batch.id
            """,
            {"final": (*FINAL, "dead"), "limit": limit},
        )
        self.env["retail.event"].invalidate_model(["payload", "payload_purged"])
        return count

    @api.model
    def _retention_delete_events(self, limit):
        self.env.flush_all()
        count = self._retention_execute(
            f"""
            WITH batch AS (
                SELECT e.id FROM retail_event e
                  JOIN retail_backend b ON b.id = e.backend_id
             LEFT JOIN retail_sync_exception x ON x.id = e.exception_id
                 WHERE {SETTLED}
                   AND {SETTLED_AT} < {UTC_NOW}
                       - make_interval(days => b.event_retention_days)
                 LIMIT %(limit)s
                   FOR UPDATE OF e SKIP LOCKED
            )
            DELETE FROM retail_event USING batch WHERE retail_event.id = batch.id
            """,
            {"final": (*FINAL, "dead"), "limit": limit},
        )
        self.env["retail.event"].invalidate_model()
        return count

    @api.model
    def _retention_delete_exchanges(self, limit):
        return self._retention_delete_older(
            "retail.exchange", "exchange_retention_days", limit
        )

    @api.model
    def _retention_delete_shadow_records(self, limit):
        return self._retention_delete_older(
            "retail.shadow.record", "shadow_retention_days", limit
        )

    @api.model
    def _retention_delete_older(self, model, days_field, limit):
        """Delete up to ``limit`` rows of ``model`` created longer ago than
        their backend's ``days_field``: rows nothing else refers to."""
        self.env.flush_all()
        table = self.env[model]._table  # ours, never user input
        count = self._retention_execute(
            f"""
            WITH batch AS (
                SELECT r.id FROM {table} r
                  JOIN retail_backend b ON b.id = r.backend_id
                 WHERE r.create_date < {UTC_NOW}
                       - make_interval(days => b.{days_field})
                 LIMIT %(limit)s
            )
            DELETE FROM {table} USING batch WHERE {table}.id = batch.id
            """,
            {"limit": limit},
        )
        self.env[model].invalidate_model()
        return count

    @api.model
    def _retention_delete_exceptions(self, limit):
        self.env.flush_all()
        self.env.cr.execute(
            f"""
            SELECT x.id FROM retail_sync_exception x
              JOIN retail_backend b ON b.id = x.backend_id
             WHERE x.state IN ('resolved', 'ignored')
               AND x.resolved_at < {UTC_NOW}
                   - make_interval(days => b.exception_retention_days)
               AND NOT EXISTS (
                   SELECT 1 FROM retail_event e WHERE e.exception_id = x.id)
             LIMIT %s
            """,
            (limit,),
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        # through the ORM: their chatter, followers and activities go with them
        self.env["retail.sync.exception"].sudo().browse(ids).unlink()
        return len(ids)

    # --------------------------------------------- on request (erasure)
    def _purge_event_payloads(self, events, reason=None):
        """Purge the payloads of ``events`` now, whatever their retention.

        An erasure request (a customer's, a shop's) cannot wait for the
        retention period. Events still waiting (received, queued) have nothing
        left to apply: with a ``reason`` they are skipped with it. Return how
        many payloads were purged.
        """
        if not events:
            return 0
        self.env.flush_all()
        count = self._retention_execute(
            """
            UPDATE retail_event SET payload = NULL, payload_purged = true
             WHERE id IN %s AND payload IS NOT NULL
            """,
            (tuple(events.ids),),
        )
        if reason:
            self.env.cr.execute(
                """
                UPDATE retail_event
                   SET state = 'skipped_policy', error = %s, job_uuid = NULL,
                       processed_at = now() at time zone 'utc'
                 WHERE id IN %s AND state IN ('received', 'queued')
                """,
                (reason, tuple(events.ids)),
            )
        events.invalidate_recordset(
            ["payload", "payload_purged", "state", "error", "job_uuid", "processed_at"]
        )
        return count

    def _purge_exchanges(self, needles=None):
        """Forget this backend's exchange log: all of it, or (``needles``) the
        bodies and errors of the calls whose bodies mention one of them (a
        customer's or an order's id). Return how many exchanges were touched."""
        self.ensure_one()
        if needles is None:
            return self._retention_execute(
                "DELETE FROM retail_exchange WHERE backend_id = %s", (self.id,)
            )
        needles = [str(n) for n in needles if n]
        if not needles:
            return 0
        count = self._retention_execute(
            """
            UPDATE retail_exchange
               SET request_body = NULL, response_body = NULL, error = NULL
             WHERE backend_id = %s
               AND EXISTS (
                   SELECT 1 FROM unnest(%s::text[]) AS n
                    WHERE strpos(COALESCE(request_body, ''), n) > 0
                       OR strpos(COALESCE(response_body, ''), n) > 0
                       OR strpos(COALESCE(error, ''), n) > 0)
            """,
            (self.id, needles),
        )
        self.env["retail.exchange"].invalidate_model(
            ["request_body", "response_body", "error"]
        )
        return count
