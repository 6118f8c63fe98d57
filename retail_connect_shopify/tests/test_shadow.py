"""Shadow mode on Shopify: orders computed and compared, stock computed and
its request recorded; nothing written in Odoo, no mutation sent to Shopify."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import run_jobs
from .test_stock import StockCase


def mutations(sandbox):
    """The GraphQL mutations Shopify received (writes), by operation name."""
    return [
        (request.json() or {}).get("operationName")
        for request in sandbox.requests("/admin/api/")
        if "mutation" in ((request.json() or {}).get("query") or "")
    ]


@tagged("post_install", "-at_install")
class TestShopifyShadow(StockCase):
    def setUp(self):
        super().setUp()
        self.Shadow = self.env["retail.shadow.record"]
        self.sandbox.recorder.clear()
        self.env.company.retail_four_eyes = True

    def managers(self):
        groups = "base.group_user,retail_connect_base.group_manager"
        return (
            new_test_user(self.env, login="rc_shadow_alice", groups=groups),
            new_test_user(self.env, login="rc_shadow_bob", groups=groups),
        )

    def counts(self):
        return {
            model: self.env[model].search_count([])
            for model in ("sale.order", "stock.picking", "stock.move", "res.partner")
        }

    def shadows(self, **domain):
        return self.Shadow.search(
            [("backend_id", "=", self.backend.id)]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def test_an_order_in_shadow_is_computed_not_written(self):
        self.backend.action_shadow_start()
        before = self.counts()
        order = self.new_order(shipping={"title": "DHL", "price": "4.90"})
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env, rounds=2)
        self.assertEqual(self.counts(), before, "no order, picking or partner")
        self.assertFalse(self.sale_orders())
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "shadow")
        shadow = self.shadows(kind="import")
        self.assertEqual(len(shadow), 1)
        self.assertEqual(
            (shadow.change, shadow.domain, shadow.event_id), ("create", "order", event)
        )
        diff = {row["field"]: row for row in json.loads(shadow.diff)}
        self.assertAlmostEqual(diff["amount_total"]["after"], 77.11, places=2)
        self.assertIsNone(diff["amount_total"]["before"])
        self.assertEqual(diff["client_order_ref"]["after"], order["name"])
        self.assertEqual(diff["state"]["after"], "sale")
        self.assertIn("77.11", shadow.diff_html)
        self.assertFalse(mutations(self.sandbox), "nothing written on Shopify")
        self.assertTrue(self.sandbox.requests("/admin/api/"), "the order was read")

    def test_a_changed_order_in_shadow_shows_the_fields_it_would_change(self):
        order = self.new_order(financial_status="PARTIALLY_PAID")
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env, rounds=2)
        sale = self.sale_orders()
        self.assertEqual(sale.state, "draft", "half paid: a quotation")
        self.backend.action_shadow_start()
        self.sandbox.clock.advance(5)
        self.sandbox.update_order(order["id"], financial_status="PAID")
        self.sandbox.emit("orders/updated", order["id"])
        self.sandbox.recorder.clear()
        before = self.counts()
        run_jobs(self.env, rounds=2)
        self.assertEqual(sale.state, "draft", "not confirmed in Odoo")
        self.assertEqual(self.counts(), before, "no delivery made")
        shadow = self.shadows(kind="import")
        self.assertEqual(len(shadow), 1)
        self.assertEqual((shadow.change, shadow.res_id), ("update", sale.id))
        diff = {row["field"]: row for row in json.loads(shadow.diff)}
        self.assertEqual(
            (diff["state"]["before"], diff["state"]["after"]), ("draft", "sale")
        )
        self.assertNotIn("amount_total", diff, "only what changes")
        self.assertFalse(mutations(self.sandbox))

    def test_stock_in_shadow_records_the_request_and_sends_nothing(self):
        self.backend.action_shadow_start()
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertFalse(self._set_calls(), "no inventorySetQuantities reached Shopify")
        self.assertFalse(mutations(self.sandbox))
        self.assertEqual(self._remote("TSHIRT-001"), 10)
        level = self.env["shopify.stock.level"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertTrue(level.dirty, "nothing marked as published")
        shadow = self.shadows(kind="export")
        self.assertEqual(len(shadow), 1)
        self.assertEqual(
            (shadow.operation, shadow.method, shadow.domain, shadow.change),
            ("InventorySet", "POST", "inventory", "send"),
        )
        self.assertTrue(shadow.url.endswith("/graphql.json"))
        body = json.loads(shadow.request_body)
        quantity = body["variables"]["input"]["quantities"][0]
        self.assertEqual(quantity["inventoryItemId"], self.items["TSHIRT-001"])
        self.assertEqual(quantity["quantity"], 51)
        self.assertEqual(quantity["changeFromQuantity"], 10)
        self.assertTrue(shadow.idempotency_key.endswith(":stock:0:0"))
        self.assertEqual(body["variables"]["key"], "***", "masked as in the log")

    def test_a_button_that_writes_says_it_was_not_sent(self):
        self.backend.action_shadow_start()
        with self.assertRaisesRegex(UserError, "in shadow mode: WebhookCreate"):
            self.backend.action_shopify_register_webhooks()
        self.assertFalse(mutations(self.sandbox), "no webhook registered")

    def test_a_policy_in_shadow_leaves_the_other_domains_live(self):
        self.backend._policy("inventory").action_shadow_start()
        order = self.new_order()
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env, rounds=3)
        self.assertEqual(len(self.sale_orders()), 1, "orders are live")
        self.assertFalse(self._set_calls(), "stock is in shadow")
        self.assertTrue(self.shadows(kind="export", domain="inventory"))
        self.assertFalse(self.shadows(kind="import"))

    def test_leaving_shadow_sends_again(self):
        self.env.company.retail_four_eyes = False
        self.backend.action_shadow_start()
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertFalse(self._set_calls())
        self.backend.action_shadow_leave()
        self.assertFalse(self.backend.shadow)
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(len(self._set_calls()), 1)
        self.assertEqual(self._remote("TSHIRT-001"), 52)

    def _request_leave(self, target, user):
        answer = target.with_user(user).action_shadow_leave()
        self.assertIn("Approval requested", answer["params"]["message"])
        self.assertTrue(target.shadow, "still in shadow until approved")
        approval = self.env["retail.approval"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("action", "=", "shadow_leave"),
                ("state", "=", "pending"),
            ]
        )
        self.assertEqual(len(approval), 1)
        return approval

    def test_leaving_shadow_is_approved_by_another_manager(self):
        alice, bob = self.managers()
        self.backend.with_user(alice).action_shadow_start()
        approval = self._request_leave(self.backend, alice)
        with self.assertRaisesRegex(UserError, "another Retail Manager"):
            approval.with_user(alice).action_approve()
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertFalse(self._set_calls(), "pending: still in shadow")
        approval.with_user(bob).action_approve()
        self.assertFalse(self.backend.shadow)
        self.assertEqual((approval.state, approval.approver_id), ("approved", bob))
        self.assertTrue(approval.executed_at)
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(len(self._set_calls()), 1, "live: sent")
        self.assertEqual(self._remote("TSHIRT-001"), 52)

    def test_a_rejected_request_leaves_it_in_shadow(self):
        alice, bob = self.managers()
        policy = self.backend._policy("inventory")
        policy.with_user(alice).action_shadow_start()
        approval = self._request_leave(policy, alice)
        approval.with_user(bob).action_reject()
        self.assertTrue(policy.shadow)
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertFalse(self._set_calls())
        self.assertTrue(self.shadows(kind="export", domain="inventory"))
        # the policy's own approval: approved, only that policy goes live
        approval = self._request_leave(policy, alice)
        approval.with_user(bob).action_approve()
        self.assertFalse(policy.shadow)

    def test_shadow_is_left_only_through_its_button(self):
        alice, _bob = self.managers()
        self.backend.action_shadow_start()
        self.backend._policy("order").action_shadow_start()
        for target in (self.backend, self.backend._policy("order")):
            with self.assertRaisesRegex(UserError, "Leave shadow mode"):
                target.with_user(alice).write({"shadow": False})
            self.assertTrue(target.shadow)
        user = new_test_user(
            self.env,
            login="rc_shadow_user",
            groups="base.group_user,retail_connect_base.group_user",
        )
        for method in ("action_shadow_start", "action_shadow_leave"):
            with self.assertRaises(AccessError):
                getattr(self.backend.with_user(user), method)()
        self.assertTrue(self.backend.shadow)
        self.assertFalse(
            self.env["retail.approval"]
            .search([])
            .filtered(lambda a: a.action == "shadow_leave")
        )
