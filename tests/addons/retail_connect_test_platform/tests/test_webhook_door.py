"""The webhook door: what is refused before anything is parsed or stored.

Every delivery goes through Odoo's real HTTP stack (``url_open``).
"""

import base64
import hashlib
import hmac
import http.client
import json
import time
from unittest.mock import patch
from urllib.parse import urlsplit

from werkzeug.formparser import FormDataParser

from odoo.tests import tagged

from odoo.addons.retail_connect_base.models.retail_sync_policy import DOMAINS

from .common import SECRET, TestShopCase, sign


@tagged("post_install", "-at_install")
class TestWebhookDoor(TestShopCase):
    def setUp(self):
        super().setUp()
        self.customer = self.sandbox.add_customer("door@example.com", "Door")

    def post_raw(self, raw, headers=None, *, secret=SECRET, timestamp=None, url=None):
        """POST ``raw`` with TestShop headers signed here, ``headers`` on top."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": "application/json",
            "X-TestShop-Topic": "customer/created",
            "X-TestShop-Event-Id": f"evt_{time.monotonic_ns()}",
            "X-TestShop-Timestamp": str(timestamp),
            "X-TestShop-Signature": sign(raw, timestamp, secret),
        }
        all_headers.update(headers or {})
        return self.url_open(url or self.webhook_url(), data=raw, headers=all_headers)

    def stored(self):
        return self.Event.search([("backend_id", "=", self.backend.id)])

    def assert_refused(self, answer, status):
        self.assertEqual(answer.status_code, status, answer.text)
        self.assertFalse(self.stored(), "a refused delivery stores nothing")

    # ------------------------------------------------------------- the body
    def test_form_bodies_are_refused_before_odoo_parses_them(self):
        parsed = []
        original = FormDataParser.parse

        def spy(parser, *args, **kwargs):
            parsed.append(args[1])
            return original(parser, *args, **kwargs)

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        with patch.object(FormDataParser, "parse", spy):
            small = self.post_raw(b"a=1&b=2", form)
            multipart = self.post_raw(
                b"--xx\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                b"1\r\n--xx--\r\n",
                {"Content-Type": "multipart/form-data; boundary=xx"},
            )
            # chunked: no Content-Length, the form parser would read it all
            chunked = self.url_open(
                self.webhook_url(), data=iter([b"a=1&", b"b=2"] * 1000), headers=form
            )
            # announces 64 MiB: refused on the announcement, nothing is read
            huge = self.announce(64 * 1024 * 1024, form)
        self.assertEqual(parsed, [], "Odoo parsed a form body of a webhook")
        self.assertEqual(small.status_code, 415)
        self.assertEqual(multipart.status_code, 415)
        self.assertEqual(chunked.status_code, 411)
        self.assertEqual(huge, 413)
        self.assertEqual(self.announce(64 * 1024 * 1024), 413, "JSON alike")
        self.assertFalse(self.stored())

    def announce(self, length, headers=None):
        """POST a few bytes announced as ``length``; return the status."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.http_port(), timeout=5
        )
        try:
            connection.putrequest("POST", urlsplit(self.webhook_url()).path)
            for name, value in {
                "Content-Type": "application/json",
                **(headers or {}),
            }.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(length))
            connection.endheaders(b"a=1")
            return connection.getresponse().status
        finally:
            connection.close()

    def test_body_that_is_not_utf8_json_object_is_refused(self):
        event = self.event_for(self.customer)
        utf16 = self.post_raw(json.dumps(event).encode("utf-16"))
        self.assert_refused(utf16, 400)
        listed = self.post_raw(json.dumps([event]).encode())
        self.assert_refused(listed, 400)

    def test_deeply_nested_json_is_a_400_not_a_500(self):
        event = self.event_for(self.customer)
        event["data"]["note"] = "NEST"
        raw = json.dumps(event).encode()
        # deeper than Python's parser can go (RecursionError)
        deepest = raw.replace(b'"NEST"', b"[" * 100_000 + b"]" * 100_000)
        self.assert_refused(self.post_raw(deepest), 400)
        # a depth Python accepts but the suite does not keep
        deep = raw.replace(b'"NEST"', b"[" * 100 + b"]" * 100)
        json.loads(deep)
        self.assert_refused(self.post_raw(deep), 400)
        # a nesting bracket inside a string is text, not depth
        text = raw.replace(b'"NEST"', json.dumps("[" * 500).encode())
        self.assertEqual(self.post_raw(text).status_code, 200)

    # ------------------------------------------------------------ enumeration
    def test_unknown_backend_draft_backend_and_bad_signature_answer_alike(self):
        raw = json.dumps(self.event_for(self.customer)).encode()
        draft = self.env["retail.backend"].create(
            {"name": "Draft", "platform": "testshop", "environment": "sandbox"}
        )
        draft.webhook_secret = SECRET
        answers = {
            "unknown backend": self.post_raw(
                raw, url=self.webhook_url().rsplit("/", 1)[0] + "/999999"
            ),
            "draft backend": self.post_raw(raw, url=self.webhook_url(draft)),
            "bad signature": self.post_raw(raw, secret="not-the-secret"),
            "no signature": self.post_raw(raw, {"X-TestShop-Signature": ""}),
        }
        seen = {name: (a.status_code, a.text) for name, a in answers.items()}
        self.assertEqual(len(set(seen.values())), 1, seen)
        self.assertEqual(seen["bad signature"][0], 401)
        self.assertFalse(
            self.Event.search([]).filtered(lambda e: e.backend_id == draft)
        )
        self.assertFalse(self.stored())

    # ------------------------------------------------------------- replays
    def test_captured_body_resent_with_a_new_event_id_is_a_duplicate(self):
        raw = json.dumps(self.event_for(self.customer)).encode()
        first = self.post_raw(raw, {"X-TestShop-Event-Id": "evt_first"})
        again = self.post_raw(raw, {"X-TestShop-Event-Id": "evt_second"})
        self.assertEqual((first.status_code, first.text), (200, "stored"))
        self.assertEqual((again.status_code, again.text), (200, "duplicate"))
        event = self.stored()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.dedup_key, "evt_first")
        # another body (a real change) is another event
        self.sandbox.update_customer(self.customer["id"], name="Door Two")
        changed = self.event_for(
            self.sandbox.customer(self.customer["id"]), topic="customer/updated"
        )
        answer = self.post_raw(
            json.dumps(changed).encode(),
            {"X-TestShop-Topic": "customer/updated", "X-TestShop-Event-Id": "evt_3"},
        )
        self.assertEqual((answer.status_code, answer.text), (200, "stored"))
        self.assertEqual(len(self.stored()), 2)

    def test_timestamp_that_is_not_a_time_is_refused(self):
        raw = json.dumps(self.event_for(self.customer)).encode()
        for value in ("yesterday", "9" * 30, "-1", "1.7e9", ""):
            with self.subTest(timestamp=value):
                mac = hmac.new(
                    SECRET.encode(), f"{value}.".encode() + raw, hashlib.sha256
                )
                answer = self.post_raw(
                    raw,
                    {
                        "X-TestShop-Timestamp": value,
                        "X-TestShop-Signature": base64.b64encode(mac.digest()).decode(),
                    },
                )
                self.assertEqual(answer.status_code, 400, answer.text)
                self.assertFalse(self.stored())

    # ------------------------------------------------------ bounded headers
    def test_oversized_or_control_character_headers_are_refused(self):
        raw = json.dumps(self.event_for(self.customer)).encode()
        cases = {
            "event id": {"X-TestShop-Event-Id": "e" * 8000},
            "topic": {"X-TestShop-Topic": "customer/" + "t" * 8000},
            "event id with NUL": {"X-TestShop-Event-Id": "evt\x00nul"},
        }
        for name, headers in cases.items():
            with self.subTest(header=name):
                self.assert_refused(self.post_raw(raw, headers), 400)
        # the subject comes from the body: bounded as well
        long_id = dict(self.customer, id="cus_" + "9" * 8000)
        event = self.event_for(long_id, event_id="evt_long_subject")
        self.assert_refused(self.post_raw(json.dumps(event).encode()), 400)

    # -------------------------------------------------------------- topics
    def test_topic_the_platform_does_not_handle_is_parked_with_the_reason(self):
        event = self.event_for(self.customer, topic="customer/deleted")
        answer = self.post_raw(
            json.dumps(event).encode(), {"X-TestShop-Topic": "customer/deleted"}
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        parked = self.stored()
        self.assertEqual(len(parked), 1)
        self.assertEqual(parked.state, "skipped_policy")
        self.assertIn("customer/deleted", parked.error)
        self.assertFalse(parked.job_uuid, "no job for a topic nobody handles")
        other = self.event_for(self.customer, topic="zz/top", event_id="evt_zz")
        self.post_raw(json.dumps(other).encode(), {"X-TestShop-Topic": "zz/top"})
        zz = self.stored().filtered(lambda e: e.topic == "zz/top")
        self.assertEqual(zz.state, "skipped_policy")
        # no business domain, and nothing a view cannot show (once: 'false')
        selection = dict(self.Event._fields["domain"].selection)
        self.assertTrue(not zz.domain or zz.domain in selection, zz.domain)
        self.assertNotIn(zz.domain, dict(DOMAINS))
