from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestOrderExtras(ShopifyCase):
    """Lines of a real shop that are no catalog product: each lands on the
    backend's service product for it, and the order's total is Shopify's."""

    def test_custom_item_gift_card_tip_duties_and_free_shipping(self):
        order = self.new_order(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 1},
                {"title": "Engraving", "price": "5.00"},
                {"title": "Gift card", "price": "25.00", "gift_card": True},
            ],
            shipping={"title": "DHL", "price": "4.90"},
            tip="3.00",
            duties={"TSHIRT-001": "2.40"},
            gift_card_payment="20.00",
            discount_applications=[
                {
                    "type": "code",
                    "code": "FREESHIP",
                    "percentage": 100,
                    "target": "shipping",
                }
            ],
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "done", event.error)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        total = float(self.sandbox.order(order["id"])["totals"]["current_total"])
        self.assertEqual(round(sale.amount_total, 2), total)
        self.assertEqual(sale.state, "sale", "paid, partly with a gift card")
        backend = self.backend
        by_product = {line.product_id: line for line in sale.order_line}
        expected = {
            backend.shopify_custom_product_id: ("Engraving", 5.95),
            backend.shopify_gift_card_product_id: ("Gift card", 25.00),
            backend.shopify_tip_product_id: ("Tip", 3.00),
            backend.shopify_duties_product_id: ("Duties (Shopify)", 2.40),
        }
        for product, (name, amount) in expected.items():
            self.assertTrue(product, f"{name}: product created on first use")
            self.assertEqual(product.type, "service")
            self.assertEqual(by_product[product].name, name)
            self.assertEqual(by_product[product].price_total, amount)
        shipping = by_product[backend.shopify_shipping_product_id]
        self.assertEqual(shipping.price_total, 0.0)
        self.assertIn("4.90", shipping.name, "the free shipping is visible")
        self.assertFalse(
            self.env["retail.sync.exception"].search([("backend_id", "=", backend.id)])
        )

    def test_taxes_charged_on_duties_are_in_the_odoo_total(self):
        """Duty.taxLines: a duty taxed at 19% lands on the duties product
        with that tax, an untaxed one without: Odoo's total is Shopify's."""
        order = self.new_order(
            lines=[
                {"sku": "TSHIRT-001", "quantity": 1},
                {"sku": "MUG-002", "quantity": 1},
            ],
            duties={
                "TSHIRT-001": {
                    "price": "2.40",
                    "taxes": [{"title": "VAT", "rate": 0.19}],
                },
                "MUG-002": "1.00",
            },
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(event.state, "done", event.error)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        total = float(self.sandbox.order(order["id"])["totals"]["current_total"])
        self.assertEqual(round(sale.amount_total, 2), total)
        duties = sale.order_line.filtered(
            lambda line: line.product_id == self.backend.shopify_duties_product_id
        )
        self.assertEqual(
            sorted((line.price_subtotal, line.price_total) for line in duties),
            [(1.0, 1.0), (2.4, 2.86)],  # 2.40 + 19% VAT 0.46
        )
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id)]
            )
        )
