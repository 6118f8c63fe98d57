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

    _sql_constraints = [
        ("bucket_uniq", "UNIQUE(backend_id, bucket)", "One row per bucket.")
    ]

    @api.model
    def _take(self, backend, bucket, cost, capacity, rate, available=None):
        """Take ``cost`` tokens; return the seconds to wait (0 when granted).

        With ``available`` (what the platform reported), the bucket is aligned
        first and nothing is taken when ``cost`` is 0.
        """
        now = time.time()
        try:
            return self._take_in(backend, bucket, cost, capacity, rate, available, now)
        except pg_errors.ForeignKeyViolation:
            # a backend created in this very transaction is not visible to the
            # side transaction yet: its first calls are not limited
            return 0.0

    @api.model
    def _take_in(self, backend, bucket, cost, capacity, rate, available, now):
        with side_cursor(self.env, read_committed=True) as cr:
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
                "SELECT capacity, rate, tokens, updated_epoch "
                "FROM retail_throttle_bucket WHERE backend_id=%s AND bucket=%s "
                "FOR UPDATE",
                (backend.id, bucket),
            )
            state = throttle.BucketState(*cr.fetchone())
            state.capacity, state.rate = capacity or state.capacity, rate or state.rate
            if available is not None:
                state = throttle.observe(state, now, available=available)
            state, wait = throttle.take(state, now, cost)
            cr.execute(
                "UPDATE retail_throttle_bucket SET capacity=%s, rate=%s, tokens=%s, "
                "updated_epoch=%s WHERE backend_id=%s AND bucket=%s",
                (
                    state.capacity,
                    state.rate,
                    state.tokens,
                    state.updated_at,
                    backend.id,
                    bucket,
                ),
            )
        return wait
