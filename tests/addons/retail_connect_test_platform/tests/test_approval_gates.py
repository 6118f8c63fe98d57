"""Four eyes on a live production backend: policies and secrets.

Once a production backend of the production database has gone live, changing
a policy's system of record, direction or timing and rotating a secret are
approval requests a second Retail Manager decides (retail_approval_gates.py).
The platforms' bulk actions go through the same gate
(retail_connect_shopify/tests/test_bulk_approval.py).
"""

import json
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

OPTION = "retail_connect_production_db"
MANAGER = "base.group_user,retail_connect_base.group_manager"


@tagged("post_install", "-at_install")
class TestApprovalGates(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.alice = new_test_user(cls.env, login="rc_gate_alice", groups=MANAGER)
        cls.bob = new_test_user(cls.env, login="rc_gate_bob", groups=MANAGER)
        cls.Approval = cls.env["retail.approval"]
        cls.live = cls._backend("Live shop")
        cls.live.api_key = "key-v1"
        cls.live.webhook_secret = "whsec-v1"
        cls.live.write({"state": "active", "activated_db_uuid": cls.live._db_uuid()})
        cls.inventory = cls.live._policy("inventory")

    @classmethod
    def _backend(cls, name, environment="production"):
        url = (
            "https://api.testshop.example"
            if environment == "production"
            else "http://127.0.0.1:8070"
        )
        return cls.env["retail.backend"].create(
            {
                "name": name,
                "platform": "testshop",
                "environment": environment,
                "base_url": url,
            }
        )

    def setUp(self):
        super().setUp()
        # this database is the production one for the whole test
        patcher = patch.dict(config.options, {OPTION: self.env.cr.dbname})
        patcher.start()
        self.addCleanup(patcher.stop)

    def _requests(self, backend, action):
        return self.Approval.search(
            [("backend_id", "=", backend.id), ("action", "=", action)]
        )

    # ------------------------------------------------------------ policies
    def test_a_policy_change_waits_for_a_second_manager(self):
        self.assertEqual(self.inventory.direction, "off")
        self.inventory.with_user(self.alice).write(
            {"direction": "out", "timing": "realtime", "safety_stock": 4}
        )
        self.assertEqual(
            (self.inventory.direction, self.inventory.timing), ("off", "hybrid")
        )
        self.assertEqual(self.inventory.safety_stock, 4, "ungoverned fields apply")
        self.assertTrue(self.inventory.approval_pending)
        approval = self._requests(self.live, "policy")
        self.assertEqual(len(approval), 1)
        self.assertEqual(
            (approval.state, approval.requester_id, approval.policy_id),
            ("pending", self.alice, self.inventory),
        )
        self.assertIn("Off → Export (Odoo → platform)", approval.reason)
        self.assertIn("Real-time with polling backstop → Real-time", approval.reason)
        self.assertIn("requested by", approval.message_ids[:1].body)
        self.assertIn("requested by", self.live.message_ids[:1].body)
        # the same change asked again is the same request
        self.inventory.with_user(self.alice).write(
            {"direction": "out", "timing": "realtime"}
        )
        self.assertEqual(len(self._requests(self.live, "policy")), 1)

        with self.assertRaisesRegex(UserError, "another Retail Manager"):
            approval.with_user(self.alice).action_approve()
        self.assertEqual(self.inventory.direction, "off")
        approval.with_user(self.bob).action_approve()
        self.assertEqual(
            (self.inventory.direction, self.inventory.timing), ("out", "realtime")
        )
        self.assertEqual((approval.state, approval.approver_id), ("approved", self.bob))
        self.assertTrue(approval.executed_at)
        self.assertFalse(self.inventory.approval_pending)
        self.assertIn("approved by", self.live.message_ids[:1].body)

    def test_an_approved_change_runs_exactly_once(self):
        self.inventory.with_user(self.alice).write({"direction": "out"})
        approval = self._requests(self.live, "policy")
        approval.with_user(self.bob).action_approve()
        ran_at = approval.executed_at
        with self.assertRaisesRegex(UserError, "already Approved"):
            approval.with_user(self.bob).action_approve()
        # run again by any path: refused, nothing changes
        with self.assertRaisesRegex(UserError, "already ran"):
            approval.with_user(self.bob)._run()
        self.assertEqual(approval.executed_at, ran_at)

    def test_a_rejected_change_never_runs(self):
        self.inventory.with_user(self.alice).write({"direction": "out"})
        approval = self._requests(self.live, "policy")
        approval.with_user(self.bob).action_reject()
        with self.assertRaisesRegex(UserError, "already Rejected"):
            approval.with_user(self.bob).action_approve()
        self.assertEqual(self.inventory.direction, "off")
        self.assertEqual(approval.state, "rejected")
        self.assertFalse(approval.executed_at)

    def test_a_forged_context_does_not_skip_the_approval(self):
        """An RPC client sends any context, but only ids, never a record."""
        self.inventory.with_user(self.alice).write({"direction": "out"})
        approval = self._requests(self.live, "policy")
        approval.with_user(self.bob).action_approve()
        self.inventory.with_user(self.alice).with_context(
            retail_connect_approval=approval.id
        ).write({"direction": "in"})
        self.assertEqual(self.inventory.direction, "out")
        self.assertEqual(len(self._requests(self.live, "policy")), 2)
        # an approval of another policy does not approve this one
        product = self.live._policy("product")
        product.with_user(self.alice).with_context(
            retail_connect_approval=approval
        ).write({"direction": "in"})
        self.assertEqual(product.direction, "off")

    def test_a_policy_does_not_move_onto_a_live_production_backend(self):
        sandbox = self._backend("Sandbox", environment="sandbox")
        with self.assertRaisesRegex(UserError, "does not move"):
            sandbox._policy("payment").with_user(self.alice).write(
                {"backend_id": self.live.id}
            )

    def test_not_gated_off_production_before_go_live_or_when_turned_off(self):
        sandbox = self._backend("Sandbox", environment="sandbox")
        sandbox.write({"state": "active"})
        sandbox._policy("inventory").with_user(self.alice).write({"direction": "out"})
        self.assertEqual(sandbox._policy("inventory").direction, "out")
        draft = self._backend("Not live yet")
        draft._policy("inventory").with_user(self.alice).write({"direction": "out"})
        self.assertEqual(
            draft._policy("inventory").direction, "out", "its go-live is approved"
        )
        with patch.dict(config.options, {OPTION: "another_db"}):
            self.inventory.with_user(self.alice).write({"timing": "batch"})
        self.assertEqual(self.inventory.timing, "batch", "not the production db")
        self.env.company.retail_four_eyes = False
        self.inventory.with_user(self.alice).write({"direction": "out"})
        self.assertEqual(self.inventory.direction, "out")
        self.assertFalse(self.Approval.search([("action", "=", "policy")]))

    # ------------------------------------------------------------- secrets
    def test_a_secret_rotation_waits_encrypted(self):
        self.live.with_user(self.alice).api_key = "key-v2"
        self.assertEqual(self.live._get_secret("api_key"), "key-v1", "still in use")
        approval = self._requests(self.live, "secret")
        self.assertEqual(len(approval), 1)
        self.assertNotIn("key-v2", approval.reason)
        self.assertNotIn("key-v2", approval.sudo().payload)
        self.assertNotIn("key-v2", str(approval.sudo().read()))
        with self.assertRaisesRegex(UserError, "already waits"):
            self.live.with_user(self.bob).api_key = "key-v3"
        with self.assertRaisesRegex(UserError, "another Retail Manager"):
            approval.with_user(self.alice).action_approve()
        approval.with_user(self.bob).action_approve()
        self.assertEqual(self.live._get_secret("api_key"), "key-v2")
        names = self.env["retail.secret"].sudo()._names_set(self.live.ids)
        self.assertEqual(
            names[self.live.id], {"api_key", "webhook_secret"}, "nothing left pending"
        )
        with self.assertRaisesRegex(UserError, "already Approved"):
            approval.with_user(self.bob).action_approve()

    def test_a_rejected_rotation_leaves_nothing(self):
        self.live.with_user(self.alice).webhook_secret = "whsec-v2"
        approval = self._requests(self.live, "secret")
        approval.with_user(self.bob).action_reject()
        self.assertEqual(self.live._webhook_secrets(), ["whsec-v1"])
        names = self.env["retail.secret"].sudo()._names_set(self.live.ids)
        self.assertEqual(names[self.live.id], {"api_key", "webhook_secret"})

    def test_an_approved_webhook_rotation_keeps_the_grace_period(self):
        self.live.with_user(self.alice).webhook_secret = "whsec-v2"
        self.assertEqual(self.live._webhook_secrets(), ["whsec-v1"])
        self._requests(self.live, "secret").with_user(self.bob).action_approve()
        self.assertEqual(self.live._webhook_secrets(), ["whsec-v2", "whsec-v1"])

    def test_clearing_a_secret_is_a_request_too(self):
        self.live.with_user(self.alice).api_key = False
        self.assertEqual(self.live._get_secret("api_key"), "key-v1")
        approval = self._requests(self.live, "secret")
        self.assertTrue(json.loads(approval.sudo().payload)["clear"])
        approval.with_user(self.bob).action_approve()
        self.assertFalse(self.live._get_secret("api_key"))

    def test_secrets_not_gated_first_value_platform_renewal_or_turned_off(self):
        self.live.with_user(self.alice).client_secret = "first"
        self.assertEqual(self.live._get_secret("client_secret"), "first", "setup")
        # a platform renewing its own token runs as superuser
        self.live.sudo()._set_secret("api_key", "renewed")
        self.assertEqual(self.live._get_secret("api_key"), "renewed")
        sandbox = self._backend("Sandbox", environment="sandbox")
        sandbox.api_key = "a"
        sandbox.write({"state": "active"})
        sandbox.with_user(self.alice).api_key = "b"
        self.assertEqual(sandbox._get_secret("api_key"), "b")
        self.env.company.retail_four_eyes = False
        self.live.with_user(self.alice).api_key = "key-v9"
        self.assertEqual(self.live._get_secret("api_key"), "key-v9")
        self.assertFalse(self.Approval.search([("action", "=", "secret")]))

    # --------------------------------------------------------------- misc
    def test_only_managers_decide_and_nobody_edits_the_audit_log(self):
        self.inventory.with_user(self.alice).write({"direction": "out"})
        approval = self._requests(self.live, "policy")
        user = new_test_user(
            self.env,
            login="rc_gate_user",
            groups="base.group_user,retail_connect_base.group_user",
        )
        with self.assertRaises(AccessError):
            approval.with_user(user).action_approve()
        with self.assertRaises(AccessError):
            approval.with_user(user).action_reject()
        self.assertEqual(approval.with_user(user).reason, approval.reason)
        for who in (user, self.bob):
            with self.assertRaises(AccessError):
                approval.with_user(who).write({"reason": "nothing to see"})
            with self.assertRaises(AccessError):
                approval.with_user(who).unlink()
        self.assertEqual(self.inventory.direction, "off")

    def test_an_approved_promotion_writes_the_policies_of_a_live_backend(self):
        config_file = self.live._promotion_export()
        config_file["policies"]["inventory"]["direction"] = "out"
        config_file["policies"]["inventory"]["safety_stock"] = 2.0
        self.Approval.with_user(self.alice)._request(
            self.live, "promote", payload=json.dumps(config_file)
        )
        self._requests(self.live, "promote").with_user(self.bob).action_approve()
        self.assertEqual(self.inventory.direction, "out")
        self.assertFalse(self._requests(self.live, "policy"), "approved as a whole")

    def test_a_policy_of_a_live_production_backend_is_not_deleted(self):
        with self.assertRaisesRegex(UserError, "direction to Off"):
            self.inventory.with_user(self.alice).unlink()
        self.assertTrue(self.inventory.exists())
