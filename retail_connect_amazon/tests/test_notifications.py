"""ORDER_CHANGE notifications: subscription through the Notifications API,
the relay's deliveries to the webhook URL (authenticated by the webhook
secret, deduplicated on NotificationId), each triggering a getOrder."""

import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import AmazonCase, run_jobs

KEY = "relay-key-0123456789"
HEADER = "X-Retail-Connect-Key"
ARN = "arn:aws:sqs:eu-west-1:123456789012:amazon-orders"


@tagged("post_install", "-at_install")
class TestOrderChangeNotifications(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.write(
            {
                "webhook_secret": KEY,
                "amazon_destination_kind": "sqs",
                "amazon_sqs_arn": ARN,
            }
        )

    def setUp(self):
        super().setUp()
        # the sandbox forgot its subscriptions (reset): subscribe again
        self.backend.sudo().write(
            {"amazon_destination_id": False, "amazon_subscription_id": False}
        )

    def subscribe(self):
        return self.backend.action_amazon_subscribe_notifications()

    def sandbox_receive(self):
        from sandboxes.amazon import notifications

        return notifications.receive(self.sandbox)

    def relay(self, envelope, key=KEY):
        """POST one notification to the webhook URL, as the relay does."""
        headers = {"Content-Type": "application/json"}
        if key:
            headers[HEADER] = key
        return self.url_open(
            f"/retail_connect/webhook/{self.backend.id}",
            data=json.dumps(envelope).encode(),
            headers=headers,
        )

    def notification_events(self):
        return self.Event.search(
            [("backend_id", "=", self.backend.id), ("topic", "=", "order/notification")]
        )

    def test_subscribe_creates_the_destination_and_the_subscription_once(self):
        self.subscribe()
        subscription = self.sandbox.subscriptions[
            (self.sandbox_seller(), "ORDER_CHANGE")
        ]
        self.assertEqual(
            self.backend.amazon_subscription_id, subscription["subscriptionId"]
        )
        destination = self.sandbox.destinations[subscription["destinationId"]]
        self.assertEqual(destination["resource"], {"sqs": {"arn": ARN}})
        self.assertEqual(
            subscription["processingDirective"]["eventFilter"]["orderChangeTypes"],
            ["OrderStatusChange", "BuyerRequestedChange"],
        )
        # pressed again (the ids forgotten): the same destination, the same
        # subscription (Amazon's 409 read back)
        self.backend.sudo().write(
            {"amazon_destination_id": False, "amazon_subscription_id": False}
        )
        self.subscribe()
        self.assertEqual(len(self.sandbox.destinations), 1)
        self.assertEqual(
            self.backend.amazon_subscription_id, subscription["subscriptionId"]
        )

    def test_subscribing_needs_the_webhook_secret(self):
        self.backend.webhook_secret = False
        with self.assertRaisesRegex(UserError, "webhook secret"):
            self.subscribe()
        self.assertFalse(self.sandbox.subscriptions)

    def sandbox_seller(self):
        return self.backend.amazon_seller_id

    def test_an_order_notified_twice_and_polled_twice_is_one_sale_order(self):
        self.subscribe()
        self.sandbox_receive()  # nothing of before
        order = self.place()
        envelopes = self.sandbox_receive()
        self.assertEqual(len(envelopes), 1, "one NewOrder notification")
        envelope = envelopes[0]
        self.assertEqual(
            envelope["NotificationMetadata"]["SubscriptionId"],
            self.backend.amazon_subscription_id,
        )
        first = self.relay(envelope)
        again = self.relay(envelope)  # SQS delivers at least once
        self.assertEqual((first.status_code, first.text), (200, "stored"))
        self.assertEqual((again.status_code, again.text), (200, "duplicate"))
        self.assertEqual(len(self.notification_events()), 1)
        run_jobs(self.env)
        sale = self.sale_of(order.order_id)
        self.assertTrue(sale, "imported at once, before any poll")
        self.assertEqual(sale.state, "sale")
        self.assertEqual(len(self.exchanges("getOrder")), 1)
        self.poll()
        self.poll()
        self.assertEqual(self.sale_orders(), sale)
        self.assertEqual(len(sale.order_line.filtered("product_id.is_storable")), 1)

    def test_forged_or_foreign_notifications_are_refused_and_store_nothing(self):
        self.subscribe()
        self.sandbox_receive()
        self.place()
        envelope = self.sandbox_receive()[0]
        self.assertEqual(self.relay(envelope, key=None).status_code, 401)
        self.assertEqual(self.relay(envelope, key="guess").status_code, 401)
        foreign = json.loads(json.dumps(envelope))
        foreign["Payload"]["OrderChangeNotification"]["SellerId"] = "A2OTHERSELLER"
        foreign["NotificationMetadata"]["NotificationId"] = "another-id"
        self.assertEqual(self.relay(foreign).status_code, 401)
        self.assertFalse(self.notification_events())
        self.assertFalse(self.exchanges("getOrder"))

    def test_an_eventbridge_event_is_unwrapped(self):
        self.subscribe()
        self.sandbox_receive()
        order = self.place()
        envelope = self.sandbox_receive()[0]
        event = {
            "version": "0",
            "id": "e-1",
            "detail-type": "ORDER_CHANGE",
            "source": "aws.partner/sellingpartnerapi.amazon.com",
            "detail": envelope,
        }
        self.assertEqual(self.relay(event).text, "stored")
        run_jobs(self.env)
        self.assertTrue(self.sale_of(order.order_id))
