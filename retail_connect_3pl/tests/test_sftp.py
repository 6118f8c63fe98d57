"""The SFTP transport against the sandbox's SFTP server (paramiko, on
127.0.0.1): shipping orders written as CSV files (atomic rename), the 3PL's
acks and shipping advice read from the inbox through the event inbox, once,
whatever the duplicates and half-written files; the pinned host key."""

from odoo.tests import tagged

from .common import SftpTransport, ThreeplCase, floor, new_key, run_jobs


@tagged("post_install", "-at_install")
class TestSftp(SftpTransport, ThreeplCase):
    def files(self, folder):
        return self.sandbox.sftp.info()["files"][folder]

    def shipped(self, picking, *args, **kwargs):
        floor.ship(self.sandbox, picking.name, *args, **kwargs)

    def test_an_order_goes_as_a_file_and_is_acknowledged(self):
        picking = self.sell((self.mug, 2))
        run_jobs(self.env)
        (message,) = self.messages()
        self.assertEqual(message.state, "sent")
        (order,) = self.remote_orders(picking.name)
        self.assertEqual(order["transport"], "sftp")
        self.assertEqual(
            [(ln["sku"], ln["qty"]) for ln in order["lines"]], [("MUG-1", 2)]
        )
        self.poll()
        self.assertEqual(message.state, "acknowledged")
        self.poll()  # the ack, stored, is archived
        self.assertFalse(self.files("inbox"))
        self.assertEqual(len(self.files("archive")), 1)

    def test_shipping_advice_file_validates_the_delivery_once(self):
        picking = self.sell((self.mug, 3))
        run_jobs(self.env)
        self.sandbox.sftp.add_file_fault("duplicate")
        self.shipped(picking, {"MUG-1": 2})
        self.poll()
        self.sandbox.sftp.release()  # the same advice dropped again
        self.poll()
        self.poll()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 1)
        self.assertTrue(picking.carrier_tracking_ref)
        self.assertEqual(len(self.messages(message_type="shipping_advice")), 1)
        self.assertTrue(self.open_exceptions(f"short:{picking.name}"))
        self.assertFalse(self.files("inbox"))

    def test_a_half_written_file_waits_for_the_whole_one(self):
        picking = self.sell((self.mug, 1))
        run_jobs(self.env)
        self.poll()  # the ack
        self.sandbox.sftp.add_file_fault("truncate")
        self.shipped(picking)
        self.poll()
        self.assertEqual(picking.state, "assigned")
        # being written is no error: nothing for a person to do yet
        self.assertFalse(
            self.Exception.search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )
        (name,) = [n for n in self.files("inbox") if n.startswith("shipping_advice")]
        self.sandbox.sftp.redeliver(name)
        self.poll()
        self.assertEqual(picking.state, "done")

    def test_a_cancel_after_shipment_is_refused_with_an_exception(self):
        picking = self.sell((self.mug, 1))
        run_jobs(self.env)
        self.sandbox.sftp.add_file_fault("hold")  # its advice is late
        self.shipped(picking)
        picking.action_cancel()
        run_jobs(self.env)
        self.poll()
        cancel = self.messages(purpose="cancel")
        self.assertEqual(cancel.state, "error")
        (exception,) = self.open_exceptions(f"cancel:{picking.name}")
        self.assertEqual(exception.category, "conflict")

    def test_another_host_key_is_refused(self):
        self.backend.threepl_sftp_host_key = new_key()[1]  # another server
        self.sell((self.mug, 1))
        run_jobs(self.env)
        (message,) = self.messages()
        self.assertEqual(message.state, "error")
        self.assertIn("not the pinned one", message.error)
        self.assertFalse(self.sandbox.sftp.info()["files"]["outbox"])
        self.assertFalse(self.sandbox.warehouse.orders)
