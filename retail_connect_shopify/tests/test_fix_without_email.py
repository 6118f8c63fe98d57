"""A fix completes whatever the user's mail settings (issue 15)."""

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestFixWithoutEmail(ShopifyCase):
    def test_map_sku_by_a_retail_user_without_email(self):
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "No e-mail",
                    "login": "rc_no_email",
                    "email": False,
                    "groups_id": [
                        (4, self.env.ref("retail_connect_base.group_user").id),
                        (4, self.env.ref("sales_team.group_sale_manager").id),
                    ],
                }
            )
        )
        self.assertFalse(user.partner_id.email)
        order = self.new_order(
            lines=[{"sku": "NEW-SKU-9", "quantity": 1, "price": "5.00"}]
        )
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        exception = event.exception_id
        env = self.env(user=user)
        product = env["product.product"].create(
            {"name": "New", "type": "consu", "taxes_id": [(6, 0, self.tax.ids)]}
        )
        env["shopify.map.sku"].create(
            {"exception_id": exception.id, "product_id": product.id}
        ).action_map_and_retry()
        self.assertEqual(product.default_code, "NEW-SKU-9")
        self.assertIn("NEW-SKU-9", exception.message_ids[:2].mapped("body")[-1])
        run_jobs(self.env)
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(exception.state, "resolved")
