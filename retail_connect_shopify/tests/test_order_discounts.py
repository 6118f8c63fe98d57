from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestOrderDiscounts(ShopifyCase):
    """Order-level discounts are only in the lines' discountAllocations
    (LineItem.totalDiscountSet excludes them): Odoo's total must still be
    exactly what Shopify charged."""

    def import_order(self, order):
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "done", event.error)
        return self.sale_orders()

    def shopify_totals(self, order):
        order = self.sandbox.order(order["id"])
        return {k: float(v) for k, v in order["totals"].items()}

    def test_order_wide_code_product_discount_and_free_shipping(self):
        order = self.new_order(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 2},
                {"sku": "MUG-002", "quantity": 1},
            ],
            shipping={"title": "DHL", "price": "4.90"},
            discount_applications=[
                {
                    "type": "automatic",
                    "title": "Mugs -10%",
                    "percentage": 10,
                    "target": {"skus": ["MUG-002"]},
                },
                {"type": "code", "code": "SAVE5", "amount": "5.00"},
                {
                    "type": "code",
                    "code": "FREESHIP",
                    "percentage": 100,
                    "target": "shipping",
                },
            ],
        )
        totals = self.shopify_totals(order)
        sale = self.import_order(order)
        self.assertEqual(len(sale), 1)
        self.assertEqual(round(sale.amount_total, 2), totals["current_total"])
        self.assertEqual(round(sale.amount_tax, 2), totals["tax"])
        self.assertEqual(round(sale.amount_untaxed, 2), totals["subtotal"])
        self.assertFalse(
            sale.order_line.filtered(lambda line: "Rounding" in line.name),
            "exact, not patched by a rounding line",
        )

    def test_large_line_with_an_order_discount_stays_exact(self):
        # 1000 x 123.45 and 1 x 50.00 less 1,000.00 off the order: the big
        # line takes 999.60, 0.8097...% of it, which no 2-decimal percentage
        # gives back to the cent (0.81% would be 999.95)
        order = self.new_order(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 1000, "price": "123.45"},
                {"sku": "MUG-002", "quantity": 1, "price": "50.00"},
            ],
            discount_applications=[
                {"type": "code", "code": "BIGORDER", "amount": "1000.00"}
            ],
        )
        totals = self.shopify_totals(order)
        sale = self.import_order(order)
        self.assertEqual(round(sale.amount_untaxed, 2), totals["subtotal"])
        self.assertEqual(round(sale.amount_total, 2), totals["current_total"])
        shirt = sale.order_line.filtered(
            lambda line: line.product_id == self.products["TSHIRT-001"]
        )
        self.assertEqual(shirt.product_uom_qty, 1000)
        self.assertEqual(shirt.price_unit, 123.45, "the price the customer saw")
