"""The 3PL backend and its messages, without the sandbox: platform defaults,
write-only secrets, the setup checklist, masked payloads, access rights."""

import json

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.retail_connect_base.models.retail_backend import MASKED

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END"


@tagged("post_install", "-at_install")
class TestThreeplBackend(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.backend = cls.env["retail.backend"].create(
            {"name": "Acme 3PL", "platform": "threepl", "environment": "sandbox"}
        )
        cls.user = new_test_user(
            cls.env,
            login="threepl_user",
            groups="base.group_user,retail_connect_base.group_user",
        )

    def test_defaults_follow_the_platform(self):
        backend = self.backend
        self.assertEqual(backend.api_version, "2026-07")
        # 150 requests per minute
        self.assertEqual(backend.rate_limit_capacity, 150)
        self.assertAlmostEqual(backend.rate_limit_per_second * 60, 150)
        self.assertEqual(backend.webhook_replay_window, 300)
        self.assertEqual(backend.threepl_transport, "rest")
        self.assertEqual(backend._api_url(), "https://api.shipbob.com")
        directions = {p.domain: p.direction for p in backend.policy_ids}
        self.assertEqual(directions["shipment"], "both")
        self.assertEqual(directions["inventory"], "in")
        self.assertEqual(directions["order"], "off")

    def test_sftp_private_key_is_write_only(self):
        self.backend.threepl_sftp_private_key = KEY
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.threepl_sftp_private_key, MASKED)
        shown = self.backend.read(["threepl_sftp_private_key"])
        self.assertNotIn("OPENSSH", str(shown))
        self.assertEqual(self.backend._get_secret("sftp_private_key"), KEY)
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).read(["threepl_sftp_private_key"])

    def test_webhook_secret_rotation_keeps_the_previous_one(self):
        self.backend.webhook_secret = "whsec_b2xk"
        self.backend.webhook_secret = "whsec_bmV3"
        self.assertEqual(self.backend._webhook_secrets(), ["whsec_bmV3", "whsec_b2xk"])

    def test_checklist_names_what_is_missing(self):
        steps = {s["key"]: s for s in self.backend.setup_steps}
        self.assertEqual(steps["credentials"]["state"], "todo")
        self.assertIn("API token", steps["credentials"]["result"])
        self.assertIn("3PL channel ID", steps["credentials"]["result"])
        self.assertEqual(steps["warehouses"]["state"], "todo")
        self.assertEqual(steps["webhooks"]["state"], "blocked")
        self.backend.write(
            {
                "access_token": "pat_secret",
                "threepl_channel_id": "42",
                "threepl_warehouse_ids": [(6, 0, self.env.ref("stock.warehouse0").ids)],
            }
        )
        # the token is a secret, not a field the checklist depends on: the
        # form reads the record again after saving
        self.backend.invalidate_recordset(["setup_steps"])
        steps = {s["key"]: s for s in self.backend.setup_steps}
        self.assertEqual(steps["credentials"]["state"], "done")
        self.assertEqual(steps["warehouses"]["state"], "done")
        # SFTP asks for its own credentials and has no webhooks
        self.backend.threepl_transport = "sftp"
        steps = {s["key"]: s for s in self.backend.setup_steps}
        self.assertIn("SFTP private key", steps["credentials"]["result"])
        self.assertNotIn("webhooks", steps)

    def test_payload_is_masked_for_users(self):
        message = self.env["threepl.message"].create(
            {
                "backend_id": self.backend.id,
                "message_type": "shipping_order",
                "direction": "out",
                "purpose": "new",
                "order_ref": "WH/OUT/00001",
                "transport": "rest",
                "payload": json.dumps(
                    {
                        "order_ref": "WH/OUT/00001",
                        "ship_to": {
                            "name": "Jane Doe",
                            "street": "1 Main Street",
                            "email": "jane@example.com",
                        },
                        "lines": [{"sku": "SKU-1", "qty": 2}],
                    }
                ),
            }
        )
        as_user = message.with_user(self.user)
        shown = as_user.payload_masked
        for personal in ("Jane Doe", "1 Main Street", "jane@example.com"):
            self.assertNotIn(personal, shown)
        self.assertIn("SKU-1", shown)
        with self.assertRaises(AccessError):
            as_user.read(["payload"])
        # users read messages, only managers change them
        with self.assertRaises(AccessError):
            as_user.write({"state": "done"})

    def test_message_id_is_unique_per_backend(self):
        values = {
            "backend_id": self.backend.id,
            "message_type": "shipping_advice",
            "direction": "in",
            "message_id": "order-1",
            "transport": "rest",
        }
        self.env["threepl.message"].create(values)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["threepl.message"].create(values)
