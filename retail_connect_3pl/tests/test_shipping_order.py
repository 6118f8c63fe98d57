"""Deliveries ready in the 3PL warehouse become shipping orders, through real
HTTP to the 3PL sandbox and real queue jobs: one order per delivery whatever
the retries, cancellations before shipment cancel it, after shipment they
open an exception."""

from odoo.tests import tagged

from ..lib.rest import RestTransport
from .common import ThreeplCase, WarehouseError, floor, run_jobs


@tagged("post_install", "-at_install")
class TestShippingOrder(ThreeplCase):
    def test_a_ready_delivery_is_sent_once(self):
        picking = self.sell((self.mug, 2), (self.tee, 1))
        self.assertEqual(picking.state, "assigned")
        (message,) = self.messages(message_type="shipping_order")
        self.assertEqual(message.state, "draft")
        run_jobs(self.env)
        self.assertEqual(message.state, "acknowledged")
        (order,) = self.remote_orders(picking.name)
        self.assertEqual(str(order["id"]), message.remote_ref)
        self.assertEqual(
            sorted((line["sku"], line["qty"]) for line in order["lines"]),
            [("MUG-1", 2), ("TEE-1", 1)],
        )
        self.assertEqual(order["recipient"]["address"]["city"], "Chicago")
        # made ready again (unreserved, reserved): still one message, one order
        picking.do_unreserve()
        picking.action_assign()
        run_jobs(self.env)
        self.assertEqual(len(self.messages(message_type="shipping_order")), 1)
        self.assertEqual(len(self.remote_orders(picking.name)), 1)

    def test_a_delivery_elsewhere_is_not_sent(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "warehouse_id": self.env.ref("stock.warehouse0").id,
                "order_line": [(0, 0, {"product_id": self.mug.id})],
            }
        )
        order.action_confirm()
        self.assertFalse(self.messages())

    def test_a_retry_after_a_lost_answer_adopts_the_order(self):
        picking = self.sell((self.mug, 1))
        (message,) = self.messages()
        # the first try reached the 3PL, its answer was lost: the job retries
        payload = self.backend._threepl_order_payload(message)
        RestTransport(self.backend._threepl_client()).send(payload)
        run_jobs(self.env)
        self.assertEqual(message.state, "acknowledged")
        self.assertEqual(len(self.remote_orders(picking.name)), 1)
        self.assertEqual(
            message.remote_ref, str(self.remote_orders(picking.name)[0]["id"])
        )

    def test_a_throttled_order_waits_the_time_the_3pl_asks(self):
        picking = self.sell((self.mug, 1))
        self.sandbox.inject_fault("throttle", seconds=7, path="/2026-07/order")
        (job,) = run_jobs(self.env)
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.retry, 0, "a throttle uses up no retry")
        (message,) = self.messages()
        self.assertEqual(message.state, "draft")
        run_jobs(self.env)
        self.assertEqual(message.state, "acknowledged")
        self.assertEqual(len(self.remote_orders(picking.name)), 1)

    def test_a_3pl_down_gives_up_with_an_exception(self):
        picking = self.sell((self.mug, 1))
        self.sandbox.inject_fault("status", status=503, times=None)
        run_jobs(self.env, rounds=3)
        (message,) = self.messages()
        # refused nothing: it keeps its place in the backlog
        self.assertEqual(message.state, "draft")
        self.assertIn("Gave up", message.error)
        (exception,) = self.open_exceptions(f"order:{picking.name}")
        self.assertIn("Gave up after 3 attempts", exception.message)
        self.assertFalse(self.remote_orders(picking.name))
        # the 3PL is back: Retry sends it, and the exception resolves
        self.sandbox.faults.clear()
        exception.action_retry()
        run_jobs(self.env)
        self.assertEqual(message.state, "acknowledged")
        self.assertFalse(self.open_exceptions(f"order:{picking.name}"))

    def test_a_cancel_before_shipment_cancels_the_order(self):
        picking = self.sell((self.mug, 1))
        run_jobs(self.env)
        picking.sale_id._action_cancel()
        self.assertEqual(picking.state, "cancel")
        run_jobs(self.env)
        cancel = self.messages(purpose="cancel")
        self.assertEqual(cancel.state, "done")
        (order,) = self.remote_orders(picking.name)
        self.assertEqual(order["status"], "Cancelled")
        # a cancelled order is never shipped
        with self.assertRaises(WarehouseError):
            floor.ship(self.sandbox, picking.name)

    def test_a_cancel_before_sending_sends_nothing(self):
        picking = self.sell((self.mug, 1))
        picking.action_cancel()
        run_jobs(self.env)
        self.assertFalse(self.remote_orders(picking.name))
        self.assertEqual(set(self.messages().mapped("state")), {"done"})

    def test_a_cancel_after_shipment_opens_an_exception(self):
        picking = self.sell((self.mug, 1))
        run_jobs(self.env)
        floor.ship(self.sandbox, picking.name)  # its advice is not in yet
        picking.action_cancel()
        run_jobs(self.env)
        cancel = self.messages(purpose="cancel")
        self.assertEqual(cancel.state, "error")
        (exception,) = self.open_exceptions(f"cancel:{picking.name}")
        self.assertEqual(exception.category, "conflict")
        self.assertIn("shipped it already", exception.message)
        self.assertEqual(self.remote_orders(picking.name)[0]["status"], "Fulfilled")
