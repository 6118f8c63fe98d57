"""The Odoo-free building blocks (lib/): masking, throttle, secrets, signatures.

The framework's behaviour through real HTTP, queue jobs and a platform lives in
``tests/addons/retail_connect_test_platform`` (a test-only platform).
"""

import json

from cryptography.fernet import Fernet

from odoo.tests import BaseCase, tagged

from ..lib import masking, secrets, throttle
from ..lib.errors import SecretKeyMissing
from ..lib.http import parse_retry_after
from ..lib.webhook import b64_hmac, matches_any


@tagged("post_install", "-at_install")
class TestLib(BaseCase):
    def test_masking_hides_secrets_and_personal_data(self):
        body = json.dumps(
            {
                "email": "jane@example.com",
                "customer": {"phone": "+4915112345678", "first_name": "Jane"},
                "note": "call jane@example.com or +49 151 1234 5678",
                "access_token": "shpat_abc",
                "sku": "TSHIRT-001",
                "quantity": 2,
            }
        )
        masked = masking.mask_body(body)
        for leak in ("jane@example.com", "4915112345678", "Jane", "shpat_abc"):
            self.assertNotIn(leak, masked)
        self.assertIn("TSHIRT-001", masked)
        self.assertIn('"quantity": 2', masked)
        headers = masking.mask_headers(
            {"Authorization": "Bearer x", "X-Shopify-Access-Token": "y", "Accept": "z"}
        )
        self.assertEqual(headers["Accept"], "z")
        self.assertEqual(set(headers.values()) - {"z"}, {masking.MASK})

    def test_token_bucket_grants_then_says_how_long_to_wait(self):
        state = throttle.BucketState(capacity=2, rate=1, tokens=2, updated_at=0)
        state, wait = throttle.take(state, 0)
        self.assertEqual(wait, 0)
        state, wait = throttle.take(state, 0)
        self.assertEqual(wait, 0)
        state, wait = throttle.take(state, 0)
        self.assertAlmostEqual(wait, 1.0)
        state, wait = throttle.take(state, 1.0)
        self.assertEqual(wait, 0, "one token restored after a second")
        state = throttle.observe(state, 1.0, available=0, capacity=10, rate=5)
        _state, wait = throttle.take(state, 1.0, cost=5)
        self.assertAlmostEqual(wait, 1.0)

    def test_secrets_roundtrip_rotation_and_missing_key(self):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        token = secrets.encrypt(secrets.make_cipher([old]), "value")
        self.assertNotIn("value", token)
        both = secrets.make_cipher([new, old])
        self.assertEqual(secrets.decrypt(both, token), "value")
        rotated = secrets.rotate(both, token)
        self.assertEqual(secrets.decrypt(secrets.make_cipher([new]), rotated), "value")
        with self.assertRaises(SecretKeyMissing):
            secrets.decrypt(secrets.make_cipher([new]), token)
        with self.assertRaises(SecretKeyMissing):
            secrets.make_cipher(secrets.keys_from("", environ={}))
        with self.assertRaises(SecretKeyMissing):
            secrets.make_cipher(["not-a-key"])

    def test_signature_matches_current_or_previous_secret_only(self):
        body = b'{"id": 1}'
        sig_old = b64_hmac("old", body)

        def expected(secret):
            return b64_hmac(secret, body)

        self.assertTrue(matches_any(expected, sig_old, ["new", "old"]))
        self.assertFalse(matches_any(expected, sig_old, ["new"]))
        self.assertFalse(matches_any(expected, "", ["new", "old"]))
        self.assertFalse(matches_any(expected, sig_old, []))

    def test_retry_after_seconds_and_http_date(self):
        self.assertEqual(parse_retry_after("7"), 7.0)
        self.assertEqual(
            parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0), 60.0
        )
        self.assertIsNone(parse_retry_after(None))
        self.assertIsNone(parse_retry_after("soon"))
