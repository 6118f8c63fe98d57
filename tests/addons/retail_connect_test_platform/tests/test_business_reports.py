"""Reporting for the business: orders per channel, sync lag against the
objective, deliveries done but not sent to their channel."""

from datetime import timedelta

from lxml import etree

from odoo import fields

from .common import TestShopCase


class TestBusinessReports(TestShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create(
            {"name": "Mug", "is_storable": True, "list_price": 10}
        )
        cls.customer = cls.env["res.partner"].create({"name": "A buyer"})
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.product, cls.warehouse.lot_stock_id, 10
        )
        cls.other = cls.env["retail.backend"].create(
            {"name": "Warehouse provider", "platform": "testshop"}
        )

    def _event(self, key, lag_minutes, **values):
        now = fields.Datetime.now()
        return self.Event.sudo().create(
            dict(
                {
                    "backend_id": self.backend.id,
                    "company_id": self.backend.company_id.id,
                    "topic": "orders/create",
                    "domain": "order",
                    "dedup_key": key,
                    "state": "done",
                    "occurred_at": now - timedelta(minutes=lag_minutes),
                    "received_at": now - timedelta(minutes=lag_minutes),
                    "processed_at": now,
                },
                **values,
            )
        )

    def _order(self, backend=None):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1})
                ],
            }
        )
        if backend:
            order.sudo().retail_backend_id = backend
        return order

    def test_sync_lag_counts_late_events_against_the_objective(self):
        self.backend._policy("order").latency_objective_minutes = 5
        self._event("on-time", 1)
        late = self._event("late", 30)
        # neither a replay nor backfill traffic measures the sync
        self._event("replayed", 90, replay_of_id=late.id)
        self._event("backfill", 600, traffic="bulk")
        self._event("failed", 60, state="failed")
        self.env.flush_all()
        Report = self.env["retail.sync.lag.report"]
        [row] = Report.read_group(
            [("backend_id", "=", self.backend.id)],
            [
                "event_count:sum",
                "breached_count:sum",
                "lag_max_s:max",
                "objective_s:max",
            ],
            ["domain"],
        )
        self.assertEqual(row["event_count"], 2)
        self.assertEqual(row["breached_count"], 1, "only the late event is late")
        self.assertAlmostEqual(row["lag_max_s"], 1800, delta=5)
        self.assertEqual(row["objective_s"], 300)

    def test_sync_lag_report_is_readable_by_a_retail_user_of_the_company_only(self):
        self._event("seen", 1)
        self.env.flush_all()
        other = self.env["res.company"].create({"name": "Other"})
        user = self.env["res.users"].create(
            {
                "name": "Other company user",
                "login": "rc_lag_other",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "groups_id": [
                    (6, 0, [self.env.ref("retail_connect_base.group_user").id])
                ],
            }
        )
        rows = self.env["retail.sync.lag.report"].with_user(user).search([])
        self.assertFalse(rows, "another company's lag must not show")
        self.assertTrue(
            self.env["retail.sync.lag.report"].with_user(self.owner).search([])
        )

    def test_orders_per_channel_in_sales_analysis(self):
        self._order(self.backend)
        self._order(self.backend)
        self._order()  # typed in Odoo: no channel
        self.env.flush_all()
        rows = self.env["sale.report"].read_group(
            [("retail_backend_id", "!=", False)],
            ["order_reference:count_distinct"],
            ["retail_backend_id"],
        )
        self.assertEqual(
            [(row["retail_backend_id"][0], row["order_reference"]) for row in rows],
            [(self.backend.id, 2)],
        )

    def test_orders_per_channel_default_filters_are_combined_with_and(self):
        # Odoo ORs the filters of one group: "From a channel" and "Not
        # cancelled" in one group showed every order typed in Odoo as well
        view = self.env.ref("retail_connect_base.sale_report_view_search_channel")
        arch = self.env["sale.report"].get_views([(view.id, "search")])["views"][
            "search"
        ]["arch"]
        group, group_of = 0, {}
        for node in etree.fromstring(arch).iter("filter", "separator", "group"):
            if node.tag != "filter":
                group += 1
            elif node.get("name"):
                group_of[node.get("name")] = group
        self.assertNotEqual(
            group_of["retail_channel"], group_of["retail_not_cancelled"]
        )

    def test_deliveries_done_but_not_sent_to_their_channel(self):
        order = self._order(self.backend)
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 1
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        not_sent = [
            ("retail_backend_id", "!=", False),
            ("picking_type_code", "=", "outgoing"),
            ("state", "=", "done"),
            ("retail_sent_at", "=", False),
        ]
        Picking = self.env["stock.picking"]
        self.assertIn(picking, Picking.search(not_sent))
        # bound by another backend (a warehouse provider): still not on the channel
        self.Binding._bind(self.other, picking, "3pl-order-1")
        self.assertIn(picking, Picking.search(not_sent))
        self.assertFalse(picking.retail_sent_at)
        self.Binding._bind(self.backend, picking, "fulfillment-1")
        picking.invalidate_recordset(["retail_sent_at"])
        self.assertNotIn(picking, Picking.search(not_sent))
        self.assertTrue(picking.retail_sent_at)
        self.assertIn(picking, Picking.search([("retail_sent_at", "!=", False)]))
