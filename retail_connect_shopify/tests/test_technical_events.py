"""Events of no business domain are stored, shown and processed (issue 15)."""

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestTechnicalEvents(ShopifyCase):
    def test_bulk_operation_finish_is_processed_and_the_backfill_goes_on(self):
        self.backend.action_shopify_backfill()
        run_jobs(self.env, channel="root.retail_connect.bulk")  # starts it
        operation = self.sandbox.finish_bulk()
        self.sandbox.emit("bulk_operations/finish", operation["id"])
        event = self.Event.search(
            [
                ("backend_id", "=", self.backend.id),
                ("topic", "=", "bulk_operations/finish"),
            ]
        )
        self.assertEqual(len(event), 1)
        self.assertIn(event.domain, dict(event._fields["domain"].selection))
        run_jobs(self.env, channel="root.retail_connect.realtime")
        self.assertEqual(event.state, "done", event.error)
        # the backfill went on: its check found the finished operation
        run_jobs(self.env, channel="root.retail_connect.bulk")
        bound = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "product.product"),
            ]
        )
        self.assertEqual(set(bound.mapped("external_ref")), {"TSHIRT-001", "MUG-002"})
