"""Shipping advice from the 3PL's signed webhooks, through Odoo's real HTTP
stack, the event inbox and its queue jobs: the delivery validated with carrier
and tracking, once; a short shipment makes a backorder and an exception; an
advice Odoo cannot place opens an exception."""

import json
import time

from odoo.tests import tagged

from ..lib.rest import RestTransport, ThreeplClient
from ..lib.verifier import sign
from .common import ThreeplCase, floor, run_jobs


@tagged("post_install", "-at_install")
class TestShippingAdvice(ThreeplCase):
    def sent(self, *lines):
        picking = self.sell(*lines)
        run_jobs(self.env)
        self.assertEqual(self.messages(picking_id=picking.id).state, "acknowledged")
        return picking

    def events(self):
        return self.env["retail.event"].search([("backend_id", "=", self.backend.id)])

    def test_a_shipment_validates_the_delivery(self):
        picking = self.sent((self.mug, 2), (self.tee, 1))
        floor.ship(self.sandbox, picking.name, carrier="USPS")
        attempts = self.deliver_webhooks()
        self.assertEqual({a.status for a in attempts}, {200})
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(
            {m.product_id: m.quantity for m in picking.move_ids},
            {self.mug: 2, self.tee: 1},
        )
        shipment = self.sandbox.warehouse.orders[
            int(self.messages(purpose="new").remote_ref)
        ]["shipments"][0]
        tracking = self.sandbox.warehouse.shipments[shipment]["packages"][0]
        self.assertEqual(picking.carrier_tracking_ref, tracking["tracking_number"])
        self.assertEqual(picking.carrier_id, self.usps)
        advice = self.messages(message_type="shipping_advice")
        self.assertEqual(advice.state, "done")
        self.assertEqual(advice.picking_id, picking)
        self.assertEqual(self.messages(purpose="new").state, "done")
        self.assertEqual(self.events().state, "done")

    def test_duplicate_advices_are_applied_once(self):
        picking = self.sent((self.mug, 2))
        floor.ship(self.sandbox, picking.name)
        # every webhook delivered twice (the same webhook-id)
        self.deliver_webhooks(duplicate_every=1)
        (event,) = self.events()
        run_jobs(self.env)
        # the same advice again under another webhook id (a second
        # subscription, a 3PL resending): applied once
        order = self.remote_orders(picking.name)[0]
        raw = json.dumps({"reference_id": picking.name, "order_id": order["id"]})
        self.post(raw.encode(), "msg_resent", "order.shipped")
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self.messages(message_type="shipping_advice")), 1)
        self.assertEqual(
            sorted(self.events().mapped("state")), ["done", "skipped_duplicate"]
        )
        self.assertEqual(sum(picking.move_ids.mapped("quantity")), 2)

    def test_a_short_shipment_makes_a_backorder_and_an_exception(self):
        picking = self.sent((self.mug, 3), (self.tee, 1))
        floor.ship(self.sandbox, picking.name, {"MUG-1": 1, "TEE-1": 1})
        # order.shipped and order.shipment.cancelled: one advice
        self.deliver_webhooks(order="reverse")
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            {m.product_id: m.quantity for m in picking.move_ids},
            {self.mug: 1, self.tee: 1},
        )
        backorder = picking.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.move_ids.product_id, self.mug)
        self.assertEqual(backorder.move_ids.product_uom_qty, 2)
        (exception,) = self.open_exceptions(f"short:{picking.name}")
        self.assertIn("MUG-1 × 2 (out_of_stock)", exception.message)
        self.assertEqual(exception._record(), backorder)
        self.assertEqual(len(self.messages(message_type="shipping_advice")), 1)

    def test_nothing_shipped_leaves_the_delivery_with_an_exception(self):
        picking = self.sent((self.mug, 1))
        floor.refuse(self.sandbox, picking.name, reason="damaged")
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "assigned")
        (exception,) = self.open_exceptions(f"short:{picking.name}")
        self.assertIn("will not ship", exception.message)
        self.assertIn("damaged", exception.message)

    def test_an_advice_for_an_order_odoo_never_sent(self):
        client = self.backend._threepl_client()
        message = {
            "type": "shipping_order",
            "message_id": "m-1",
            "purpose": "new",
            "order_ref": "ELSEWHERE-1",
            "ship_to": {
                "name": "Bob",
                "street": "1 St",
                "city": "X",
                "country_code": "US",
            },
            "lines": [{"line_no": 1, "sku": "MUG-1", "qty": 1}],
        }
        RestTransport(client).send(message)
        floor.ship(self.sandbox, "ELSEWHERE-1")
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(self.events().state, "failed")
        (exception,) = self.open_exceptions("order:ELSEWHERE-1")
        self.assertEqual(exception.category, "mapping")
        self.assertIn("never sent", exception.message)

    def test_an_advice_for_a_delivery_already_done(self):
        picking = self.sent((self.mug, 1))
        picking.move_ids.quantity = 1
        picking.move_ids.picked = True
        picking._action_done()
        floor.ship(self.sandbox, picking.name)
        self.deliver_webhooks()
        run_jobs(self.env)
        (exception,) = self.open_exceptions(f"order:{picking.name}")
        self.assertEqual(exception.category, "conflict")
        self.assertFalse(self.messages(message_type="shipping_advice"))

    def test_lost_webhooks_are_caught_by_the_poll(self):
        shipped = self.sent((self.mug, 1))
        waiting = self.sent((self.tee, 1))
        floor.ship(self.sandbox, shipped.name)
        self.sandbox.hub.queue.clear()  # the 3PL gave up on the webhooks
        policy = self.backend._policy("shipment")
        self.assertIn("1 changes seen, 1 new events", policy._job_poll())
        run_jobs(self.env)
        self.assertEqual(shipped.state, "done")
        self.assertEqual(waiting.state, "assigned")
        # done: the next poll asks only for the delivery still waiting
        self.assertIn("0 changes seen", policy._job_poll())

    def test_the_poll_after_the_webhook_applies_nothing_twice(self):
        picking = self.sent((self.mug, 1))
        floor.ship(self.sandbox, picking.name)
        policy = self.backend._policy("shipment")
        policy._job_poll()  # before the webhook
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            sorted(self.events().mapped("state")), ["done", "skipped_duplicate"]
        )
        self.assertEqual(len(self.messages(message_type="shipping_advice")), 1)

    # --------------------------------------------------------- the door
    def post(self, raw, msg_id, topic, secret=None, stamp=None):
        stamp = str(stamp or int(time.time()))
        secret = secret or self.backend._get_secret("webhook_secret")
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

    def test_forged_or_stale_webhooks_are_refused(self):
        raw = json.dumps({"reference_id": "WH/OUT/1"}).encode()
        forged = self.post(raw, "msg_1", "order.shipped", secret="whsec_Zm9yZ2Vk")
        self.assertEqual(forged.status_code, 401)
        stale = self.post(raw, "msg_2", "order.shipped", stamp=int(time.time()) - 900)
        self.assertEqual(stale.status_code, 400)
        self.assertFalse(self.events())
        fresh = self.post(raw, "msg_3", "order.shipped")
        self.assertEqual((fresh.status_code, fresh.text), (200, "stored"))

    def test_the_previous_secret_signs_during_a_rotation(self):
        old = self.backend._get_secret("webhook_secret")
        self.backend._threepl_register_webhook()
        self.assertNotEqual(self.backend._get_secret("webhook_secret"), old)
        raw = json.dumps({"reference_id": "WH/OUT/1"}).encode()
        answer = self.post(raw, "msg_old", "order.shipped", secret=old)
        self.assertEqual(answer.status_code, 200)
        # the old subscription is gone at the 3PL: one subscription left
        self.assertEqual(len(self.sandbox.hub.subscriptions), 1)

    def test_the_client_follows_next_page(self):
        for number in range(3):
            RestTransport(self.backend._threepl_client()).send(
                {
                    "type": "shipping_order",
                    "message_id": f"m-{number}",
                    "purpose": "new",
                    "order_ref": f"REF-{number}",
                    "ship_to": {
                        "name": "Bob",
                        "street": "1 St",
                        "city": "X",
                        "country_code": "US",
                    },
                    "lines": [{"line_no": 1, "sku": "MUG-1", "qty": 1}],
                }
            )
        client = self.backend._threepl_client()
        self.assertIsInstance(client, ThreeplClient)
        refs = [
            o["reference_id"]
            for o in client.list_all("order", {"Limit": 1}, operation="order.list")
        ]
        self.assertEqual(refs, ["REF-0", "REF-1", "REF-2"])
