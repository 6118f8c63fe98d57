"""A delivery a connector holds (stock.picking._retail_hold, from the base:
a Stripe dispute, say) is not sent to the 3PL; once released it is, once."""

from odoo.tests import tagged

from .common import ThreeplCase, run_jobs


@tagged("post_install", "-at_install")
class TestHeldDelivery(ThreeplCase):
    def test_a_held_delivery_waits_then_is_sent_once(self):
        picking = self.sell((self.mug, 1))
        # held after its shipping order was recorded, before its job ran
        picking._retail_hold("Payment disputed.", "test.hold:1")
        run_jobs(self.env)
        self.assertFalse(self.remote_orders(picking.name), "held: not sent")
        (message,) = self.messages(message_type="shipping_order")
        self.assertEqual(message.state, "draft")
        # made ready again while held: still nothing sent
        picking.do_unreserve()
        picking.action_assign()
        run_jobs(self.env)
        self.assertFalse(self.remote_orders(picking.name))

        self.assertEqual(picking._retail_release_hold("other:2"), picking.browse())
        self.assertTrue(picking.retail_hold, "only what held it releases it")
        picking._retail_release_hold("test.hold:1")
        run_jobs(self.env)
        self.assertEqual(message.state, "acknowledged")
        self.assertEqual(len(self.remote_orders(picking.name)), 1)
        self.assertEqual(len(self.messages(message_type="shipping_order")), 1)

    def test_a_delivery_held_before_it_is_ready_is_sent_once_released(self):
        self.env["stock.quant"]._update_available_quantity(
            self.tee, self.warehouse.lot_stock_id, -50
        )
        picking = self.sell((self.tee, 1))
        self.assertNotEqual(picking.state, "assigned")
        picking._retail_hold("Payment disputed.", "test.hold:2")
        self.env["stock.quant"]._update_available_quantity(
            self.tee, self.warehouse.lot_stock_id, 5
        )
        picking.action_assign()
        self.assertEqual(picking.state, "assigned")
        run_jobs(self.env)
        self.assertFalse(self.messages(message_type="shipping_order"))
        picking._retail_release_hold()
        run_jobs(self.env)
        self.assertEqual(len(self.remote_orders(picking.name)), 1)
