"""Go-live governance: the integration map and four-eyes approvals.

The production database is the one the server option
``retail_connect_production_db`` names (test_production_db.py); there a
production backend goes live only without a blocking conflict of the map and,
when the company asks (on by default), once a second manager approved it.
"""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

OPTION = "retail_connect_production_db"
MANAGER = "base.group_user,retail_connect_base.group_manager"


@tagged("post_install", "-at_install")
class TestGoLiveGovernance(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.alice = new_test_user(cls.env, login="rc_gov_alice", groups=MANAGER)
        cls.bob = new_test_user(cls.env, login="rc_gov_bob", groups=MANAGER)
        cls.Backend = cls.env["retail.backend"]
        cls.Map = cls.env["retail.integration.map"]
        cls.Approval = cls.env["retail.approval"]

    def _backend(self, name, environment="production"):
        url = (
            "https://api.testshop.example"
            if environment == "production"
            else "http://127.0.0.1:8070"
        )
        return self.Backend.create(
            {
                "name": name,
                "platform": "testshop",
                "environment": environment,
                "base_url": url,
            }
        )

    def _production_db(self):
        return patch.dict(config.options, {OPTION: self.env.cr.dbname})

    def _row(self, backend, domain):
        return self.Map.search(
            [("backend_id", "=", backend.id), ("domain", "=", domain)]
        )

    # ----------------------------------------------------------------- map
    def test_map_shows_the_system_of_record_of_each_flow(self):
        shop = self._backend("Web shop")
        shop._policy("product").write(
            {"direction": "in", "system_of_record": "platform"}
        )
        shop._policy("inventory").write({"direction": "out", "timing": "realtime"})
        customer = self._row(shop, "customer")
        self.assertEqual(len(customer), 1, "one row per backend and domain")
        self.assertEqual(
            (customer.record_holder, customer.direction, customer.timing),
            ("Web shop", "both", "hybrid"),
        )
        product = self._row(shop, "product")
        self.assertEqual((product.record_holder, product.direction), ("Web shop", "in"))
        inventory = self._row(shop, "inventory")
        self.assertEqual(
            (inventory.record_holder, inventory.direction, inventory.timing),
            ("Odoo", "out", "realtime"),
        )
        self.assertFalse(inventory.conflict_level == "blocking")
        flowing = self.Map.search(
            [("backend_id", "=", shop.id), ("direction", "!=", "off")]
        )
        self.assertEqual(
            sorted(flowing.mapped("domain")), ["customer", "inventory", "product"]
        )

    def test_two_systems_of_record_are_a_conflict_on_the_map(self):
        first, second = self._backend("Shop A"), self._backend("Shop B")
        for backend in first | second:
            backend._policy("inventory").write(
                {"direction": "in", "system_of_record": "platform"}
            )
        rows = self.Map.search(
            [("domain", "=", "inventory"), ("conflict_level", "=", "blocking")]
        )
        self.assertEqual(rows.backend_id, first | second)
        for row in rows:
            self.assertIn("Shop A", row.conflict)
            self.assertIn("Shop B", row.conflict)
        # one owner again: no conflict left
        second._policy("inventory").system_of_record = "odoo"
        self.assertFalse(
            self.Map.search(
                [("domain", "=", "inventory"), ("conflict_level", "=", "blocking")]
            )
        )

    def test_each_conflict_of_the_map(self):
        shop = self._backend("Shop")
        product = shop._policy("product")
        product.write({"direction": "out", "system_of_record": "platform"})
        inventory = shop._policy("inventory")
        inventory.write({"direction": "out", "safety_stock": 0})
        customer = shop._policy("customer")

        def codes(policy):
            return {
                (code, level) for code, level, _m in policy._map_conflicts()[policy.id]
            }

        self.assertIn(("export_over_record", "blocking"), codes(product))
        self.assertIn(("no_owner", "warning"), codes(customer))
        customer.owner_user_id = self.alice
        self.assertEqual(codes(customer), set())
        self.assertNotIn("no_safety_stock", {c for c, _l in codes(inventory)})
        marketplace = patch.object(
            type(self.Backend), "_is_marketplace", lambda backend: True
        )
        with marketplace:
            self.assertIn(("no_safety_stock", "blocking"), codes(inventory))
            inventory.safety_stock = 2
            self.assertNotIn("no_safety_stock", {c for c, _l in codes(inventory)})

    def test_a_conflict_blocks_activation_on_production_only(self):
        first, second = self._backend("Shop A"), self._backend("Shop B")
        for backend in first | second:
            backend._policy("product").write(
                {"direction": "in", "system_of_record": "platform"}
            )
        self.env.company.retail_four_eyes = False
        with self._production_db():
            with self.assertRaisesRegex(UserError, "system of record of Products"):
                first.action_activate()
            self.assertEqual(first.state, "draft")
            self.assertIn("Shop B", first.map_conflict, "the backend shows why")
            sandbox = self._backend("Sandbox", environment="sandbox")
            sandbox._policy("product").write(
                {"direction": "in", "system_of_record": "platform"}
            )
            sandbox.action_activate()  # a sandbox backend is not a go-live
            self.assertEqual(sandbox.state, "active")
        # a test database (the option names no database): not governed
        first.action_activate()
        self.assertEqual(first.state, "active")
        # fixed: production goes live
        first.action_pause()
        for other in second | sandbox:
            other._policy("product").system_of_record = "odoo"
        with self._production_db():
            first.action_resume()
        self.assertEqual(first.state, "active")

    # ------------------------------------------------------------ four eyes
    def _request_as_alice(self, backend):
        with self._production_db():
            answer = backend.with_user(self.alice).action_activate()
        self.assertEqual(answer["params"]["type"], "warning")
        self.assertIn("Approval requested", answer["params"]["message"])
        self.assertEqual(backend.state, "draft", "nothing ran before the approval")
        approval = self.Approval.search([("backend_id", "=", backend.id)])
        self.assertEqual(len(approval), 1)
        self.assertEqual(
            (approval.state, approval.requester_id, approval.action),
            ("pending", self.alice, "activate"),
        )
        self.assertTrue(backend.approval_pending)
        return approval

    def test_the_requester_cannot_approve_and_the_approval_activates(self):
        backend = self._backend("Live shop")
        approval = self._request_as_alice(backend)
        with self._production_db():
            # asking again does not make a second request
            backend.with_user(self.alice).action_activate()
            self.assertEqual(
                self.Approval.search_count([("backend_id", "=", backend.id)]), 1
            )
            with self.assertRaisesRegex(UserError, "another Retail Manager"):
                approval.with_user(self.alice).action_approve()
            self.assertEqual(approval.state, "pending")
            self.assertEqual(backend.state, "draft")
            approval.with_user(self.bob).action_approve()
        self.assertEqual(backend.state, "active")
        self.assertEqual((approval.state, approval.approver_id), ("approved", self.bob))
        self.assertTrue(approval.decided_at and approval.executed_at)
        self.assertFalse(backend.approval_pending)
        self.assertIn("approved by", backend.message_ids[:1].body)
        # an approval runs once: approving again is refused, resuming asks again
        with self.assertRaisesRegex(UserError, "already Approved"):
            approval.with_user(self.bob).action_approve()
        backend.action_pause()
        with self._production_db():
            backend.with_user(self.bob).action_resume()
        self.assertEqual(backend.state, "paused")
        self.assertEqual(
            self.Approval.search(
                [("backend_id", "=", backend.id), ("state", "=", "pending")]
            ).requester_id,
            self.bob,
        )

    def test_a_rejected_request_never_runs(self):
        backend = self._backend("Live shop")
        approval = self._request_as_alice(backend)
        with self._production_db():
            approval.with_user(self.bob).action_reject()
            self.assertEqual(approval.state, "rejected")
            with self.assertRaisesRegex(UserError, "already Rejected"):
                approval.with_user(self.bob).action_approve()
        self.assertEqual(backend.state, "draft")

    def test_nobody_writes_an_approval_but_its_buttons(self):
        backend = self._backend("Live shop")
        approval = self._request_as_alice(backend)
        for values in ({"state": "approved"}, {"approver_id": self.bob.id}):
            with self.assertRaises(AccessError):
                approval.with_user(self.alice).write(values)
        with self.assertRaises(AccessError):
            self.Approval.with_user(self.alice).create(
                {
                    "backend_id": backend.id,
                    "action": "activate",
                    "requester_id": self.bob.id,
                    "requested_at": "2026-01-01 00:00:00",
                    "state": "approved",
                }
            )
        user = new_test_user(
            self.env,
            login="rc_gov_user",
            groups="base.group_user,retail_connect_base.group_user",
        )
        with self.assertRaises(AccessError):
            approval.with_user(user).action_approve()
        self.assertEqual(approval.state, "pending")

    def test_small_teams_turn_four_eyes_off(self):
        backend = self._backend("Live shop")
        self.env.company.retail_four_eyes = False
        with self._production_db():
            backend.with_user(self.alice).action_activate()
        self.assertEqual(backend.state, "active")
        self.assertFalse(self.Approval.search([("backend_id", "=", backend.id)]))
