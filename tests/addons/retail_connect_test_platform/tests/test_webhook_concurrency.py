import json
import time

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.retail_connect_test_platform.models import retail_backend as platform

from .common import SECRET, sign

BODY = json.dumps(
    {
        "id": "evt_captured",
        "topic": "customer/created",
        "data": {"id": "cus_race", "email": "race@example.com"},
    }
).encode()


@tagged("post_install", "-at_install")
class TestWebhookIngestConcurrency(TransactionCase):
    """Two requests deliver the same body under two event ids at once.

    Two real transactions on two cursors, interleaved by hand (as in
    test_binding_concurrency). The data is committed, so the test removes it.
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
            self._env(cr)["retail.backend"].browse(self.backend_id).unlink()

    def _ingest(self, cr, event_id):
        """What the webhook route does with a signed delivery of BODY."""
        env = self._env(cr)
        backend = env["retail.backend"].browse(self.backend_id)
        timestamp = int(time.time())
        headers = {
            "X-TestShop-Topic": "customer/created",
            "X-TestShop-Event-Id": event_id,
            "X-TestShop-Timestamp": str(timestamp),
            "X-TestShop-Signature": sign(BODY, timestamp, SECRET),
        }
        delivery = platform.TestShopVerifier([SECRET]).accept(headers, BODY, 3600)
        return env["retail.event"]._ingest(backend, delivery, "webhook")

    def test_same_body_under_two_event_ids_in_two_transactions_is_one_event(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            # both requests have started: their snapshots predate any event
            for cr in (cr_a, cr_b):
                cr.execute(
                    "SELECT 1 FROM retail_backend WHERE id = %s", [self.backend_id]
                )
            _event, created_a = self._ingest(cr_a, "evt_first")
            cr_a.commit()
            try:
                with mute_logger("odoo.sql_db"):
                    _event, created_b = self._ingest(cr_b, "evt_second")
            except SerializationFailure:
                # what Odoo's HTTP layer does: the request runs again
                cr_b.rollback()
                event_b, created_b = self._ingest(cr_b, "evt_second")
                self.assertEqual(event_b.dedup_key, "evt_first")
            cr_b.commit()
            cr_a.execute(
                "SELECT dedup_key FROM retail_event WHERE backend_id = %s",
                [self.backend_id],
            )
            keys = [row[0] for row in cr_a.fetchall()]
        self.assertTrue(created_a)
        self.assertFalse(created_b)
        self.assertEqual(keys, ["evt_first"])
