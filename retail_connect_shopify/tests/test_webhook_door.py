"""Shopify deliveries at the door: what a captured or fuzzed delivery gets.

Shopify signs the body only (``X-Shopify-Hmac-Sha256``); its headers (event id,
topic, ``X-Shopify-Triggered-At``) can be rewritten by whoever captured a
delivery. Deliveries go through Odoo's real HTTP stack.
"""

import json
import time
import uuid

from odoo.tests import tagged

from .common import ShopifyCase


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@tagged("post_install", "-at_install")
class TestShopifyWebhookDoor(ShopifyCase):
    def setUp(self):
        super().setUp()
        self.order = self.new_order()

    def signed(self, topic="orders/create", payload=None):
        """(raw body, headers) of a delivery as Shopify sends it."""
        payload = payload or self.sandbox.payload(topic, self.order["id"])
        raw = json.dumps(payload).encode()
        event = {
            "id": str(uuid.uuid4()),
            "topic": topic,
            "triggered_at": utc_now(),
            "api_version": self.sandbox.api_version,
        }
        return raw, self.sandbox._sign_delivery(raw, event)

    def post(self, raw, headers):
        return self.url_open(self.sandbox.webhook_url, data=raw, headers=headers)

    def stored(self):
        return self.Event.search([("backend_id", "=", self.backend.id)])

    def test_delivery_without_or_with_an_unparseable_triggered_at_is_refused(self):
        raw, headers = self.signed()
        missing = dict(headers)
        del missing["X-Shopify-Triggered-At"]
        answer = self.post(raw, missing)
        self.assertEqual(answer.status_code, 400, answer.text)
        for value in ("yesterday", "2026-13-45T99:00:00Z", "9" * 40):
            with self.subTest(triggered_at=value):
                answer = self.post(raw, {**headers, "X-Shopify-Triggered-At": value})
                self.assertEqual(answer.status_code, 400, answer.text)
        self.assertFalse(self.stored(), "a refused delivery stores nothing")
        answer = self.post(raw, headers)
        self.assertEqual((answer.status_code, answer.text), (200, "stored"))

    def test_captured_delivery_resent_with_new_ids_and_time_is_a_duplicate(self):
        raw, headers = self.signed()
        self.assertEqual(self.post(raw, headers).text, "stored")
        # the signature covers the body only: whoever captured it can rewrite
        # every header and send it again
        self.sandbox.clock.advance(60)
        replay = {
            **headers,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": utc_now(),
        }
        answer = self.post(raw, replay)
        self.assertEqual((answer.status_code, answer.text), (200, "duplicate"))
        self.assertEqual(len(self.stored()), 1)

    def test_fuzzed_signed_deliveries_get_a_4xx_and_store_nothing(self):
        raw, headers = self.signed()
        long_id = self.post(raw, {**headers, "X-Shopify-Event-Id": "e" * 8000})
        self.assertEqual(long_id.status_code, 400, long_id.text)
        long_topic = self.post(
            raw, {**headers, "X-Shopify-Topic": "orders/" + "x" * 300}
        )
        self.assertEqual(long_topic.status_code, 400, long_topic.text)
        payload = self.sandbox.payload("orders/create", self.order["id"])
        payload["note"] = "NEST"
        nested_raw = (
            json.dumps(payload)
            .encode()
            .replace(b'"NEST"', b"[" * 50_000 + b"]" * 50_000)
        )
        _raw, nested_headers = self.signed(payload=payload)
        nested_headers["X-Shopify-Hmac-Sha256"] = self.sign(nested_raw)
        nested = self.post(nested_raw, nested_headers)
        self.assertEqual(nested.status_code, 400, nested.text)
        self.assertFalse(self.stored())

    def test_topic_shopify_addon_does_not_handle_is_parked(self):
        raw, headers = self.signed(
            "app/uninstalled", payload={"id": 1, "domain": "acme.myshopify.com"}
        )
        answer = self.post(raw, headers)
        self.assertEqual(answer.status_code, 200, answer.text)
        event = self.stored()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.state, "skipped_policy")
        self.assertIn("app/uninstalled", event.error)
        self.assertFalse(event.job_uuid)

    def sign(self, raw):
        from sandboxes.shopify import sign  # noqa: PLC0415

        return sign(raw, self.sandbox.webhook_secret)
