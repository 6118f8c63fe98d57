from odoo.tests import tagged

from ..lib.mappers import numeric_id
from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestCustomerPrivacy(ShopifyCase):
    def test_customer_bindings_keep_no_personal_value(self):
        """A customer's binding refers to Shopify's customer number: neither
        the e-mail nor any other personal value is kept with it."""
        amy = self.sandbox.add_customer("amy@example.com", "Amy", "Lee", "+4930123456")
        self.sandbox.emit("customers/create", amy["id"])
        order = self.new_order()  # Jane Doe, a new customer
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        bindings = self.Binding.search(
            [("backend_id", "=", self.backend.id), ("res_model", "=", "res.partner")]
        )
        self.assertEqual(len(bindings), 2)
        jane = self.sandbox.order(order["id"])["customerId"]
        self.assertEqual(
            set(bindings.mapped("external_ref")),
            {numeric_id(amy["id"]), numeric_id(jane)},
        )
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(b)::text FROM retail_binding b WHERE id IN %s",
            (tuple(bindings.ids),),
        )
        stored = " ".join(row[0] for row in self.env.cr.fetchall())
        for value in (
            "amy@example.com",
            "jane@example.com",
            "Amy",
            "Jane",
            "4930123456",
            "4915112345678",
            "Hauptstr",
        ):
            self.assertNotIn(value, stored)
