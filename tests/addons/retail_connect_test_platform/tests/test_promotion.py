"""Promotion: a backend's configuration from staging to production.

The file carries policies and settings, never a secret; importing it shows the
changes first; on a production backend of the production database applying it
is an approval request (four eyes) that runs once approved.
"""

import base64
import json
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

OPTION = "retail_connect_production_db"
MANAGER = "base.group_user,retail_connect_base.group_manager"


@tagged("post_install", "-at_install")
class TestPromotion(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.alice = new_test_user(cls.env, login="rc_promo_alice", groups=MANAGER)
        cls.bob = new_test_user(cls.env, login="rc_promo_bob", groups=MANAGER)
        Backend = cls.env["retail.backend"]
        cls.staging = Backend.create(
            {
                "name": "Staging shop",
                "platform": "testshop",
                "environment": "sandbox",
                "base_url": "http://127.0.0.1:8070",
                "job_max_retries": 5,
            }
        )
        cls.staging.access_token = "staging-token-secret"
        cls.staging._policy("inventory").write(
            {"direction": "out", "timing": "realtime", "safety_stock": 3}
        )
        cls.production = Backend.create(
            {
                "name": "Live shop",
                "platform": "testshop",
                "environment": "production",
                "base_url": "https://api.testshop.example",
            }
        )
        cls.production.access_token = "live-token-secret"

    def _export(self, backend):
        action = backend.with_user(self.alice).action_promotion_export()
        wizard = self.env["retail.promotion"].browse(action["res_id"])
        return wizard.file, json.loads(base64.b64decode(wizard.file))

    def _import(self, backend, file, user=None):
        return (
            self.env["retail.promotion"]
            .with_user(user or self.alice)
            .create({"backend_id": backend.id, "file": file})
        )

    def _production_db(self):
        return patch.dict(config.options, {OPTION: self.env.cr.dbname})

    def _inventory(self, backend):
        policy = backend._policy("inventory")
        return (policy.direction, policy.timing, policy.safety_stock)

    def test_the_file_has_the_configuration_and_no_secret(self):
        file, content = self._export(self.staging)
        self.assertEqual(content["policies"]["inventory"]["safety_stock"], 3)
        self.assertEqual(content["backend"]["job_max_retries"], 5)
        raw = base64.b64decode(file).decode()
        self.assertNotIn("staging-token-secret", raw)
        self.assertNotIn("127.0.0.1", raw, "nor the address of the staging platform")

    def test_round_trip_shows_the_changes_then_applies_them(self):
        file, content = self._export(self.staging)
        wizard = self._import(self.production, file)
        self.assertIn("Inventory: Direction: off → out", wizard.changes)
        self.assertIn("Inventory: Safety Stock: 0.0 → 3.0", wizard.changes)
        self.assertEqual(self._inventory(self.production), ("off", "hybrid", 0))
        wizard.action_apply()  # a test database: no approval
        self.assertEqual(self._inventory(self.production), ("out", "realtime", 3))
        self.assertEqual(self.production.job_max_retries, 5)
        self.assertEqual(
            self.production._get_secret("access_token"), "live-token-secret"
        )
        self.assertEqual(
            self.production.base_url, "https://api.testshop.example", "kept"
        )
        _file, again = self._export(self.production)
        self.assertEqual(again["policies"], content["policies"])
        self.assertIn("Nothing to change", self._import(self.production, file).changes)
        with self.assertRaisesRegex(UserError, "Nothing to change"):
            self._import(self.production, file).action_apply()

    def test_a_file_of_another_platform_or_no_configuration_is_refused(self):
        _file, content = self._export(self.staging)
        content["platform"] = "shopify"
        wrong = base64.b64encode(json.dumps(content).encode())
        with self.assertRaisesRegex(UserError, "platform shopify"):
            self._import(self.production, wrong).action_apply()
        garbage = base64.b64encode(b"not json")
        with self.assertRaisesRegex(UserError, "not JSON"):
            self._import(self.production, garbage).action_apply()
        self.assertEqual(self._inventory(self.production), ("off", "hybrid", 0))

    def test_promotion_to_production_needs_another_managers_approval(self):
        file, _content = self._export(self.staging)
        approvals = self.env["retail.approval"]
        with self._production_db():
            answer = self._import(self.production, file).action_apply()
            self.assertEqual(answer["params"]["type"], "warning")
            self.assertEqual(self._inventory(self.production), ("off", "hybrid", 0))
            approval = approvals.search(
                [("backend_id", "=", self.production.id), ("action", "=", "promote")]
            )
            self.assertEqual(approval.requester_id, self.alice)
            self.assertIn("Safety Stock", approval.reason)
            with self.assertRaisesRegex(UserError, "another Retail Manager"):
                approval.with_user(self.alice).action_approve()
            approval.with_user(self.bob).action_approve()
        self.assertEqual(self._inventory(self.production), ("out", "realtime", 3))
        self.assertEqual(approval.state, "approved")
        self.assertTrue(approval.executed_at)
        self.assertEqual(self.production.state, "draft", "promotion activates nothing")
