"""The Odoo-free building blocks (lib/): masking, throttle, secrets, signatures.

The framework's behaviour through real HTTP, queue jobs and a platform lives in
``tests/addons/retail_connect_test_platform`` (a test-only platform).
"""

import json
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from werkzeug.wrappers import Request, Response

from odoo.tests import BaseCase, tagged

from ..lib import masking, secrets, throttle
from ..lib.errors import ForeignHostError, RemoteError, SecretKeyMissing
from ..lib.http import RetailHttpClient, parse_retry_after
from ..lib.webhook import b64_hmac, matches_any
from .common import sandboxes

sandboxes()
from sandboxes.toolkit import SandboxServer  # noqa: E402


class Recorder:
    """A host that records the headers it receives; ``/hop`` redirects to
    ``target``, ``/fail`` answers a 422 echoing the request body."""

    def __init__(self):
        self.seen = []
        self.target = None

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append(dict(request.headers))
        if request.path == "/hop":
            response = Response(status=302, headers={"Location": self.target})
        elif request.path == "/fail":
            response = Response(request.get_data(), status=422)
        else:
            response = Response("ok")
        return response(environ, start_response)


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

    def test_names_are_judged_in_context(self):
        body = {
            "name": "#1001",
            "line_items": [{"name": "IPod Nano - green", "title": "IPod Nano"}],
            "billing_address": {
                "name": "Bob Norman",
                "address1": "Chestnut Street 92",
                "country_code": "US",
            },
            "customer": {"default_address": {"name": "Bob Norman"}, "id": 7},
            "shipping": {"name": "Jenny Rosen", "address": {"line1": "1 Main St"}},
            "shop_owner": "Steve Jobs",
            "tracking_company": "UPS",
            "verified_email": True,
            "email_marketing_consent": {"state": "subscribed"},
        }
        masked = json.loads(masking.mask_body(body))
        for leak in ("Bob Norman", "Chestnut", "Jenny Rosen", "1 Main St", "Steve"):
            self.assertNotIn(leak, json.dumps(masked))
        self.assertEqual(masked["name"], "#1001")
        self.assertEqual(masked["line_items"][0]["name"], "IPod Nano - green")
        self.assertEqual(masked["line_items"][0]["title"], "IPod Nano")
        self.assertEqual(masked["billing_address"]["country_code"], "US")
        self.assertEqual(masked["customer"]["id"], 7)
        self.assertEqual(masked["tracking_company"], "UPS")
        self.assertIs(masked["verified_email"], True)
        self.assertEqual(masked["email_marketing_consent"]["state"], "subscribed")
        stripe_customer = {"object": "customer", "name": "Jenny Rosen", "id": "cus_1"}
        self.assertEqual(
            masking.mask_data(stripe_customer),
            {"object": "customer", "name": masking.MASK, "id": "cus_1"},
        )
        self.assertEqual(
            masking.mask_form({"shipping[name]": "Jenny", "metadata[order]": "1001"}),
            {"shipping[name]": masking.MASK, "metadata[order]": "1001"},
        )

    def test_urls_and_error_texts_are_masked(self):
        url = masking.mask_url(
            "https://storage.googleapis.com/bucket/file?GoogleAccessId="
            "svc%40acct.iam.gserviceaccount.com&Expires=1700000000"
            "&Signature=c2lnbmF0dXJl%2Bx%3D&access_token=shpat_x&limit=5"
        )
        for leak in ("c2lnbmF0dXJl", "shpat_x", "svc"):
            self.assertNotIn(leak, url)
        self.assertIn("Expires=1700000000", url)
        self.assertIn("limit=5", url)
        text = masking.mask_text(
            "connection error: Max retries exceeded with url: /f?X-Amz-Signature="
            "abc123&client_secret=cs_1 (422 {'first_name': 'Bob', 'sku': 'X-1', "
            '"phone": "+49 151 1234 5678"}) Authorization: Bearer tok_9 '
            "order 450789469 of 2024-01-02 for jane@example.com"
        )
        for leak in ("abc123", "cs_1", "Bob", "1234 5678", "tok_9", "jane@"):
            self.assertNotIn(leak, text)
        for kept in ("'sku': 'X-1'", "450789469", "2024-01-02"):
            self.assertIn(kept, text)

    def test_credentials_go_to_the_api_host_only(self):
        api, storage = Recorder(), Recorder()
        with SandboxServer(api) as api_server, SandboxServer(storage) as other:
            client = RetailHttpClient(
                api_server.url, headers={"X-Api-Token": "tok_secret"}
            )
            client.request("GET", "/ok", operation="path")
            client.request("GET", f"{api_server.url}/ok", operation="same origin")
            self.assertEqual(
                [h.get("X-Api-Token") for h in api.seen], ["tok_secret"] * 2
            )
            port = urlsplit(api_server.url).port
            for elsewhere in (f"{other.url}/file", f"http://localhost:{port}/ok"):
                with self.assertRaises(ForeignHostError):
                    client.request("GET", elsewhere, operation="download")
            self.assertEqual((len(api.seen), storage.seen), (2, []))
            client.request("GET", f"{other.url}/file", operation="dl", anonymous=True)
            api.target = f"{other.url}/file"
            client.request("GET", "/hop", operation="redirected")
            self.assertEqual(len(storage.seen), 2)
            for headers in storage.seen:
                self.assertNotIn("tok_secret", str(headers))
            with self.assertRaises(RemoteError) as refused:
                client.request(
                    "POST",
                    "/fail",
                    operation="refused",
                    json={"customer": {"email": "bob@example.com", "name": "Bob"}},
                )
            self.assertNotIn("bob@example.com", str(refused.exception))
            self.assertNotIn("Bob", str(refused.exception))

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
