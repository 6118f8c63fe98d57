"""Stripe deliveries at the door, through Odoo's real HTTP stack: signed by
the sandbox (``Stripe-Signature: t=,v1=``) or forged, fresh or stale, during
a secret roll."""

import json
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import StripeCase, sandboxes

sandboxes()
from sandboxes.stripe import signature_header  # noqa: E402


@tagged("post_install", "-at_install")
class TestStripeWebhooks(StripeCase):
    def setUp(self):
        super().setUp()
        self.pay(12000)
        event = self.sandbox.ledger.all("event")[0]
        self.raw = json.dumps(self.sandbox.ledger.render(event)).encode()

    def post(self, raw, header):
        return self.url_open(
            self.backend.webhook_url,
            data=raw,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )

    def secret(self):
        return self.backend._get_secret("webhook_secret")

    def test_sandbox_deliveries_are_stored_once_each(self):
        attempts = self.flush(duplicate_every=1)
        self.assertTrue(attempts)
        self.assertEqual({a["status"] for a in attempts}, {200})
        events = self.events()
        # the subscribed events, each delivered twice: one row per event id
        self.assertEqual(
            sorted(events.mapped("topic")),
            ["charge.succeeded", "payment_intent.succeeded"],
        )

    def test_an_event_type_not_handled_is_parked(self):
        event = self.sandbox.ledger.all("event")[-1]  # payment_intent.created
        raw = json.dumps(self.sandbox.ledger.render(event)).encode()
        header = signature_header(raw, [self.secret()], int(time.time()))
        answer = self.post(raw, header)
        self.assertEqual((answer.status_code, answer.text), (200, "parked"))
        self.assertEqual(self.events().state, "skipped_policy")

    def test_forged_signature_is_refused(self):
        header = signature_header(self.raw, ["whsec_forged"], int(time.time()))
        answer = self.post(self.raw, header)
        self.assertEqual(answer.status_code, 401)
        self.assertFalse(self.events())

    def test_only_v0_or_no_timestamp_is_refused(self):
        stamp = int(time.time())
        header = signature_header(self.raw, [self.secret()], stamp)
        v0_only = ",".join(p for p in header.split(",") if not p.startswith("v1="))
        self.assertEqual(self.post(self.raw, v0_only).status_code, 401)
        no_t = ",".join(p for p in header.split(",") if not p.startswith("t="))
        self.assertEqual(self.post(self.raw, no_t).status_code, 401)
        self.assertFalse(self.events())

    def test_stale_signature_is_refused(self):
        attempts = self.flush(signature_age=600)
        self.assertTrue(attempts)
        self.assertEqual({a["status"] for a in attempts}, {400})
        self.assertFalse(self.events())
        # Stripe retries later with a fresh signature: then it is stored
        header = signature_header(self.raw, [self.secret()], int(time.time()))
        answer = self.post(self.raw, header)
        self.assertEqual((answer.status_code, answer.text), (200, "stored"))

    def test_body_tampered_after_signing_is_refused(self):
        header = signature_header(self.raw, [self.secret()], int(time.time()))
        tampered = self.raw.replace(b'"usd"', b'"eur"')
        self.assertEqual(self.post(tampered, header).status_code, 401)

    def test_both_secrets_are_valid_during_a_roll_and_the_old_one_expires(self):
        old = self.secret()
        endpoint = self.backend.stripe_webhook_endpoint
        rolled = self.admin(f"webhook_endpoints/{endpoint}/roll", {"expires_in": 3600})[
            "secret"
        ]
        # Stripe signs with both; Odoo still knows only the old one
        attempts = self.flush()
        self.assertEqual({a["status"] for a in attempts}, {200})
        self.backend.webhook_secret = rolled
        self.assertEqual(self.secret(), rolled)
        stamp = int(time.time())
        raw = self.raw.replace(b'"livemode"', b'"livemode" ', 1)
        self.assertEqual(
            self.post(raw, signature_header(raw, [old], stamp)).status_code, 200
        )
        self.backend.webhook_previous_valid_until = fields.Datetime.now() - timedelta(
            seconds=1
        )
        raw2 = self.raw.replace(b'"livemode"', b'"livemode"  ', 1)
        self.assertEqual(
            self.post(raw2, signature_header(raw2, [old], stamp)).status_code, 401
        )
