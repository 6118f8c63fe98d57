import time

from psycopg2 import errors as pg_errors

from odoo import api, fields, models

from ..lib import throttle
from .common import side_cursor


class RetailThrottleBucket(models.Model):
    """Shared rate budget of a backend: one row per (backend, bucket).

    Every worker takes tokens here before calling a platform, so concurrent jobs
    stay under the remote limit together. The row is updated in its own short
    transaction: holding it until the job ends would serialize the workers.

    Capacity and restore rate start from the backend's settings; once the
    platform reports its own (Shopify's throttleStatus: a Plus shop restores
    1,000 points a second, not 100), the bucket keeps what it learned and the
    settings no longer overwrite it.
    """

    _name = "retail.throttle.bucket"
    _description = "Retail Connect Rate Bucket"
    _log_access = False

    backend_id = fields.Many2one("retail.backend", required=True, ondelete="cascade")
    bucket = fields.Char(required=True)
    capacity = fields.Float()
    rate = fields.Float()
    tokens = fields.Float()
    updated_epoch = fields.Float()
    learned = fields.Boolean(help="Capacity and rate as the platform reported them")

    _sql_constraints = [
        ("bucket_uniq", "UNIQUE(backend_id, bucket)", "One row per bucket.")
    ]

    @api.model
    def _take(self, backend, bucket, cost, capacity, rate, available=None, check=None):
        """Take ``cost`` tokens; return the seconds to wait (0 when granted).

        ``capacity`` and ``rate`` are the configured ones, used until the
        platform reported its own (:meth:`_observe`). With ``available`` (what
        the platform reported), the bucket is aligned first and nothing is
        taken when ``cost`` is 0. ``check(learned)`` is called first, in the
        same transaction, with the ``(capacity, rate)`` the platform reported
        (None while only the configured ones are known): it may raise to
        refuse the call, and then nothing is taken.
        """
        return self._update(
            backend, bucket, cost, capacity, rate, available, check=check
        )

    @api.model
    def _observe(
        self,
        backend,
        bucket,
        available,
        capacity,
        rate,
        learned_capacity=None,
        learned_rate=None,
    ):
        """Align the bucket with what the platform reported: tokens left and,
        when it says so, its capacity and restore rate (kept from then on)."""
        return self._update(
            backend,
            bucket,
            0,
            capacity,
            rate,
            available,
            learned=(learned_capacity, learned_rate),
        )

    @api.model
    def _update(
        self, backend, bucket, cost, capacity, rate, available, learned=None, check=None
    ):
        """One short side transaction (READ COMMITTED: every worker updates
        this row) around :meth:`_update_in`."""
        try:
            with side_cursor(self.env, read_committed=True) as cr:
                return self._update_in(
                    cr, backend, bucket, cost, capacity, rate, available, learned, check
                )
        except pg_errors.ForeignKeyViolation:
            # a backend created in this very transaction is not visible to the
            # side transaction yet: its first calls are not limited
            if check:
                check(None)
            return 0.0

    @api.model
    def _update_in(
        self, cr, backend, bucket, cost, capacity, rate, available, learned, check
    ):
        """Update the bucket on ``cr``, a side transaction in READ COMMITTED
        (the exchange log also writes a call's reported budget on its own:
        ``retail.exchange._record``)."""
        now = time.time()
        cr.execute(
            """
            INSERT INTO retail_throttle_bucket
                   (backend_id, bucket, capacity, rate, tokens, updated_epoch)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (backend_id, bucket) DO NOTHING
            """,
            (backend.id, bucket, capacity, rate, capacity, now),
        )
        cr.execute(
            "SELECT capacity, rate, tokens, updated_epoch, learned "
            "FROM retail_throttle_bucket WHERE backend_id=%s AND bucket=%s "
            "FOR UPDATE",
            (backend.id, bucket),
        )
        *row, was_learned = cr.fetchone()
        if check:
            check(tuple(row[:2]) if was_learned else None)
        state = throttle.BucketState(*row)
        if not was_learned:  # configured values hold until learned ones
            state.capacity = capacity or state.capacity
            state.rate = rate or state.rate
        learned_capacity, learned_rate = learned or (None, None)
        now_learned = bool(was_learned or learned_capacity or learned_rate)
        if available is not None or learned_capacity or learned_rate:
            state = throttle.observe(
                state,
                now,
                available=available,
                capacity=learned_capacity,
                rate=learned_rate,
            )
        state, wait = throttle.take(state, now, cost)
        cr.execute(
            "UPDATE retail_throttle_bucket SET capacity=%s, rate=%s, tokens=%s, "
            "updated_epoch=%s, learned=%s WHERE backend_id=%s AND bucket=%s",
            (
                state.capacity,
                state.rate,
                state.tokens,
                state.updated_at,
                now_learned,
                backend.id,
                bucket,
            ),
        )
        return wait
