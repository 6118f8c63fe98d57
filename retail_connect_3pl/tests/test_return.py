"""Return advice over both transports, through the sandbox's signed webhooks
and SFTP inbox and the queue jobs: a return the 3PL processed makes one
return receipt of the delivery, validated, its damaged units scrapped, once
whatever the duplicates; a return Odoo cannot place opens an exception."""

import json
import time

from odoo.tests import tagged

from ..lib.verifier import sign
from .common import SftpTransport, ThreeplCase, floor, run_jobs


class ReturnMixin:
    def on_hand(self, product):
        return product.with_context(
            location=self.warehouse.lot_stock_id.id
        ).qty_available

    def returns(self, delivery):
        return self.env["stock.picking"].search([("return_id", "=", delivery.id)])

    def advices(self):
        return self.messages(message_type="return_advice")

    def returned(self, delivery, items, lines=None):
        ret = floor.arrive_return(
            self.sandbox, delivery.name, lines or [{"sku": "MUG-1", "qty": 2}]
        )
        floor.complete_return(self.sandbox, ret["id"], items)
        return ret


@tagged("post_install", "-at_install")
class TestReturnRest(ReturnMixin, ThreeplCase):
    def shipped(self, *lines):
        picking = self.sell(*lines)
        run_jobs(self.env)
        floor.ship(self.sandbox, picking.name)
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        return picking

    def post(self, raw, msg_id, topic):
        stamp = str(int(time.time()))
        secret = self.backend._webhook_secrets()[0]
        return self.url_open(
            self.backend.webhook_url,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": stamp,
                "webhook-signature": sign(secret, msg_id, stamp, raw),
                "x-webhook-topic": topic,
            },
        )

    def test_a_return_makes_one_return_receipt(self):
        delivery = self.shipped((self.mug, 2))
        before = self.on_hand(self.mug)
        ret = self.returned(delivery, [{"sku": "MUG-1", "restocked": 1, "damaged": 1}])
        # return.created and return.completed, each delivered twice
        self.deliver_webhooks(duplicate_every=1)
        run_jobs(self.env)
        # the completed return again under another webhook id
        raw = json.dumps({"id": ret["id"], "status": "Completed"}).encode()
        self.post(raw, "msg_return_resent", "return.completed")
        run_jobs(self.env)
        (receipt,) = self.returns(delivery)
        self.assertEqual(receipt.state, "done")
        received = receipt.move_ids.filtered(lambda m: not m.scrapped)
        self.assertEqual(received.quantity, 2)
        # one back on the shelf, one received damaged and scrapped
        self.assertEqual(self.on_hand(self.mug) - before, 1)
        scrap = self.env["stock.scrap"].search([("picking_id", "=", receipt.id)])
        self.assertEqual(scrap.scrap_qty, 1)
        (advice,) = self.advices()
        self.assertEqual(advice.picking_id, receipt)
        self.assertEqual(advice.state, "done")
        self.assertEqual(advice.remote_ref, "RMA-" + delivery.name)
        self.assertEqual(advice.sale_id, delivery.sale_id)

    def test_a_return_of_an_order_odoo_never_sent(self):
        delivery = self.shipped((self.mug, 1))
        ret = self.returned(delivery, None, [{"sku": "MUG-1", "qty": 1}])
        # the 3PL lost track of the shipment the return is of
        self.sandbox.warehouse.returns[ret["id"]]["original_shipment_id"] = 999999
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertFalse(self.returns(delivery))
        (exception,) = self.open_exceptions(f"return:RMA-{delivery.name}")
        self.assertIn("no delivery Odoo shipped", exception.message)


@tagged("post_install", "-at_install")
class TestReturnSftp(ReturnMixin, SftpTransport, ThreeplCase):
    def test_a_return_advice_file_makes_one_return_receipt(self):
        delivery = self.sell((self.mug, 2))
        run_jobs(self.env)
        floor.ship(self.sandbox, delivery.name)
        self.poll()
        self.assertEqual(delivery.state, "done")
        before = self.on_hand(self.mug)
        self.sandbox.sftp.add_file_fault("duplicate")
        self.returned(delivery, [{"sku": "MUG-1", "restocked": 2}])
        self.poll()
        self.sandbox.sftp.release()  # the same advice dropped again
        self.poll()
        self.poll()
        (receipt,) = self.returns(delivery)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(self.on_hand(self.mug) - before, 2)
        self.assertEqual(len(self.advices()), 1)
        self.assertFalse(self.sandbox.sftp.info()["files"]["inbox"])
