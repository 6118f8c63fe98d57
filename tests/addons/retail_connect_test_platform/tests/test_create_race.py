from odoo import api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

TOKEN = "access_token"


@tagged("post_install", "-at_install")
class TestCreateRace(TransactionCase):
    """Two workers renew the same access token at once: one secret, no failure.

    Two real transactions on two cursors, interleaved by hand: B's snapshot is
    taken before A commits (queue_job reads the job first), so after taking
    the lock B still does not see A's secret. The data is committed, so the
    test removes what it created.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            backend = self._env(cr)["retail.backend"].create(
                {"name": "Race", "platform": "testshop", "environment": "sandbox"}
            )
            self.backend_id = backend.id
        self.addCleanup(self._cleanup)

    def _env(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["retail.secret"].search([("backend_id", "=", self.backend_id)]).unlink()
            env["retail.backend"].browse(self.backend_id).unlink()

    def _renew(self, env, value):
        backend = env["retail.backend"].browse(self.backend_id)
        backend._lock_external("amazon.token", backend.id)
        env["retail.secret"].sudo()._write_secret(backend.id, TOKEN, value)

    def test_concurrent_token_renewal_retries_then_reuses(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a, env_b = self._env(cr_a), self._env(cr_b)
            # both jobs have started: their snapshots predate any renewal
            env_a["retail.backend"].browse(self.backend_id).name  # noqa: B018
            env_b["retail.backend"].browse(self.backend_id).name  # noqa: B018
            self._renew(env_a, "token-a")
            cr_a.commit()
            # B does not see A's secret: a retry, not a duplicate key failure
            with self.assertRaises(RetryableJobError), mute_logger("odoo.sql_db"):
                self._renew(env_b, "token-b")
            cr_b.rollback()
        with self.registry.cursor() as cr_retry:
            env = self._env(cr_retry)
            self._renew(env, "token-b")
            cr_retry.commit()
            secrets = env["retail.secret"].search(
                [("backend_id", "=", self.backend_id), ("name", "=", TOKEN)]
            )
            self.assertEqual(len(secrets), 1)
            self.assertEqual(
                env["retail.secret"]._read_secret(self.backend_id, TOKEN), "token-b"
            )
