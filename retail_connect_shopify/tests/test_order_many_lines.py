import time

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

STATUS = """query S($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments(first: 10) { status }
} }"""


@tagged("post_install", "-at_install")
class TestOrderManyLines(ShopifyCase):
    """Issue 7, point 7: an order of more lines than one page of lineItems
    (and more fulfillment orders than one page) is read page after page, not
    refused."""

    def _run_jobs_until_idle(self):
        # three pages of an order cost more than the bucket holds at once:
        # the job waits for the local limiter (real time) and runs again
        for _attempt in range(20):
            if not run_jobs(self.env):
                return
            time.sleep(0.3)

    def test_an_order_of_120_lines_imports_whole_and_its_delivery_fulfils_all(self):
        skus = ("TSHIRT-001", "MUG-002")
        items = {
            sku: self.sandbox.variant_by_sku(sku)["inventoryItemId"] for sku in skus
        }
        # six locations: more fulfillment orders than one page of five
        locations = [self.location["id"]] + [
            self.sandbox.add_location(f"Store {n}")["id"] for n in range(1, 6)
        ]
        for location in locations:
            for item in items.values():
                self.sandbox.set_inventory(item, location, 20)
        for product in self.products.values():
            self.env["stock.quant"]._update_available_quantity(
                product, self.warehouse.lot_stock_id, 100
            )
        # distinct prices: a line lost, doubled or priced from its neighbour
        # changes the total
        lines = [
            {
                "sku": skus[n % 2],
                "quantity": 1 + n % 3,
                "price": f"{10 + n * 0.37:.2f}",
                "location": locations[n % 6],
            }
            for n in range(120)
        ]
        order = self.new_order(lines=lines)
        self.sandbox.emit("orders/create", order["id"])
        self._run_jobs_until_idle()
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "done", event.error)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale.state, "sale")
        products = sale.order_line.filtered(lambda line: line.product_id.is_storable)
        self.assertEqual(len(products), 120)
        self.assertEqual(
            [(line.product_uom_qty, line.price_unit) for line in products],
            [(spec["quantity"], float(spec["price"])) for spec in lines],
        )
        total = float(self.sandbox.order(order["id"])["totals"]["current_total"])
        self.assertEqual(round(sale.amount_total, 2), total)
        self.assertFalse(sale.order_line.filtered(lambda line: "Rounding" in line.name))
        # the delivery fulfils every line, at every location
        picking = sale.picking_ids
        self.assertEqual(len(picking.move_ids), 120)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking._action_done()
        self._run_jobs_until_idle()
        _status, body, _wait = self.sandbox.graphql(STATUS, {"id": order["id"]})
        remote = body["data"]["order"]
        self.assertEqual(remote["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(len(remote["fulfillments"]), 6, "one per location")
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )

    def test_a_refund_of_55_lines_is_credited_whole_and_edits_nothing(self):
        """A refund of more lines than one page of Refund.refundLineItems:
        its credit note holds every line in shop money, and the order read
        again still counts each refunded unit (no edit, no conflict)."""
        for sku in ("TSHIRT-001", "MUG-002"):
            item = self.sandbox.variant_by_sku(sku)["inventoryItemId"]
            self.sandbox.set_inventory(item, self.location["id"], 100)
        lines = [
            {"sku": ("TSHIRT-001", "MUG-002")[n % 2], "price": f"{10 + n * 0.37:.2f}"}
            for n in range(55)
        ]
        order = self.new_order(lines=[dict(spec, quantity=2) for spec in lines])
        self.sandbox.emit("orders/create", order["id"])
        self._run_jobs_until_idle()
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        line_ids = [line["id"] for line in self.sandbox.order(order["id"])["lineItems"]]
        refund = self.sandbox.refund_order(
            order["id"],
            [
                {"line_item_id": i, "quantity": 1, "restock_type": "NO_RESTOCK"}
                for i in line_ids
            ],
        )
        self.sandbox.emit("refunds/create", refund["id"])
        self.sandbox.emit("orders/updated", order["id"])
        self._run_jobs_until_idle()
        credit = self.env["account.move"].search(
            [("move_type", "=", "out_refund"), ("invoice_origin", "=", sale.name)]
        )
        self.assertEqual(len(credit), 1)
        self.assertEqual(credit.state, "posted")
        credited = credit.invoice_line_ids.filtered("sale_line_ids")
        self.assertEqual(len(credited), 55, "every refunded line")
        self.assertEqual(
            sorted(credited.mapped("price_unit")),
            sorted(float(spec["price"]) for spec in lines),
        )
        # beside them at most the cents Shopify's per-line tax rounding adds
        adjustment = credit.invoice_line_ids - credited
        self.assertLess(abs(sum(adjustment.mapped("price_unit"))), 0.3)
        self.assertAlmostEqual(credit.amount_total, float(refund["amount"]), places=2)
        products = sale.order_line.filtered(lambda line: line.product_id.is_storable)
        self.assertEqual(set(products.mapped("product_uom_qty")), {2.0})
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )
        self.assertEqual(
            set(
                self.Event.search([("backend_id", "=", self.backend.id)]).mapped(
                    "state"
                )
            ),
            {"done"},
        )
