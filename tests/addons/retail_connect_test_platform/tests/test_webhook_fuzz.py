"""Fuzzing the webhook door with validly signed, malformed deliveries.

Seeded, bounded (200 deliveries over real HTTP): the same run every time, so a
failure reproduces. Whatever arrives: never a 5xx, nothing stored for a refused
delivery, nothing unbounded in a column, and the event views still load.
"""

import base64
import hashlib
import hmac
import json
import random
import string
import time

from odoo.tests import tagged

from .common import SECRET, TestShopCase

DELIVERIES = 200
SEED = 16
BOUNDED = ("topic", "dedup_key", "subject_key", "correlation_id")
MAX_LENGTH = 255


def signature(raw, timestamp, secret=SECRET):
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class Fuzzer:
    """Random deliveries: a valid one, then one or two mutations."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def text(self, low=0, high=40, alphabet=string.printable):
        return "".join(self.rng.choices(alphabet, k=self.rng.randint(low, high)))

    def header_text(self, low=0, high=40):
        # what a client can put in a header (no CR/LF), NUL and latin-1 included
        alphabet = string.ascii_letters + string.digits + " -_/:.\x00\x01\x7féü€"
        return self.text(low, high, alphabet).lstrip(" ").encode("utf-8")

    def json_value(self, depth=0):
        kind = self.rng.choice("sinbldx" if depth < 6 else "sinb")
        if kind == "s":
            return self.text()
        if kind == "i":
            return self.rng.randint(-(10**20), 10**20)
        if kind == "n":
            return None
        if kind == "b":
            return self.rng.random() < 0.5
        if kind == "l":
            return [self.json_value(depth + 1) for _ in range(self.rng.randint(0, 4))]
        if kind == "x":
            return "x" * self.rng.randint(300, 20_000)
        return {
            self.text(1, 10): self.json_value(depth + 1)
            for _ in range(self.rng.randint(0, 4))
        }

    def delivery(self, index):
        rng = self.rng
        customer = {
            "id": f"cus_{index}",
            "email": f"fuzz{index}@example.com",
            "name": self.text(),
            "updated_at": "2026-11-01T10:00:00Z",
        }
        event = {
            "id": f"evt_fuzz_{index}",
            "topic": rng.choice(["customer/created", "customer/updated"]),
            "data": customer,
        }
        headers = {
            "Content-Type": "application/json",
            "X-TestShop-Topic": event["topic"],
            "X-TestShop-Event-Id": event["id"],
        }
        timestamp = str(int(time.time()))
        raw = None
        for mutation in rng.sample(MUTATIONS, rng.choice([0, 1, 1, 2])):
            result = mutation(self, event, headers, customer)
            if isinstance(result, bytes):
                raw = result
            elif isinstance(result, str):
                timestamp = result
        raw = raw if raw is not None else json.dumps(event).encode()
        headers["X-TestShop-Timestamp"] = timestamp
        headers["X-TestShop-Signature"] = signature(raw, timestamp)
        if rng.random() < 0.05:
            headers["X-TestShop-Signature"] = signature(raw, timestamp, "guess")
        return raw, headers


def long_event_id(fz, event, headers, customer):
    headers["X-TestShop-Event-Id"] = "e" * fz.rng.randint(200, 9000)


def odd_event_id(fz, event, headers, customer):
    headers["X-TestShop-Event-Id"] = fz.header_text()


def odd_topic(fz, event, headers, customer):
    headers["X-TestShop-Topic"] = fz.rng.choice(
        [
            fz.header_text(),
            "customer/" + "t" * fz.rng.randint(200, 9000),
            "customer/deleted",
            "order/created",
            "",
        ]
    )


def odd_subject(fz, event, headers, customer):
    customer["id"] = fz.rng.choice(
        ["cus_" + "9" * fz.rng.randint(200, 9000), fz.text(), 12, None, ["x"]]
    )


def odd_updated_at(fz, event, headers, customer):
    customer["updated_at"] = fz.rng.choice(
        ["tomorrow", "2026-02-30T00:00:00Z", 17, None, fz.text(), "9" * 40]
    )


def odd_timestamp(fz, event, headers, customer):
    now = int(time.time())
    return fz.rng.choice(
        [
            "yesterday",
            "",
            "9" * fz.rng.randint(12, 60),
            "-5",
            str(now - 10 * 86400),
            str(now + 10 * 86400),
            f"{now}.5",
            f"{now}\x00",
        ]
    )


def odd_body(fz, event, headers, customer):
    choice = fz.rng.randrange(7)
    if choice == 0:
        return fz.rng.randbytes(fz.rng.randint(1, 3000))
    if choice == 1:
        return json.dumps(fz.json_value()).encode()
    if choice == 2:
        depth = fz.rng.choice([40, 70, 1000, 100_000])
        return (
            json.dumps(event)
            .encode()
            .replace(
                b'"data": {',
                b'"data": {"deep": ' + b"[" * depth + b"]" * depth + b", ",
                1,
            )
        )
    if choice == 3:
        return json.dumps(event).encode(fz.rng.choice(["utf-16", "utf-32"]))
    if choice == 4:
        return json.dumps(event, ensure_ascii=False).encode("latin-1", "replace")
    if choice == 5:
        customer["name"] = fz.json_value()
        customer["extra"] = {fz.text(): fz.json_value() for _ in range(3)}
        return None
    return json.dumps(event).encode()[: fz.rng.randint(0, 200)]


def odd_content_type(fz, event, headers, customer):
    headers["Content-Type"] = fz.rng.choice(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
            "application/json; charset=latin-1",
            fz.header_text(),
        ]
    )


MUTATIONS = [
    long_event_id,
    odd_event_id,
    odd_topic,
    odd_subject,
    odd_updated_at,
    odd_timestamp,
    odd_body,
    odd_content_type,
]


@tagged("post_install", "-at_install")
class TestWebhookFuzz(TestShopCase):
    def test_fuzzed_deliveries_never_fail_the_server_nor_store_the_unbounded(self):
        fuzzer = Fuzzer(SEED)
        statuses = {}
        for index in range(DELIVERIES):
            raw, headers = fuzzer.delivery(index)
            before = self.Event.search_count([])
            chunked = fuzzer.rng.random() < 0.03  # no Content-Length
            answer = self.url_open(
                self.webhook_url(),
                data=iter([raw]) if chunked else raw,
                headers=headers,
            )
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            context = f"delivery {index}: {headers!r} {raw[:300]!r}"
            self.assertLess(answer.status_code, 500, context)
            if answer.status_code != 200:
                self.assertEqual(
                    self.Event.search_count([]), before, f"stored: {context}"
                )
        # the run exercised both sides of the door
        self.assertGreater(statuses.get(200, 0), 20, statuses)
        self.assertGreater(sum(n for s, n in statuses.items() if s != 200), 50)

        events = self.Event.search([("backend_id", "=", self.backend.id)])
        domains = dict(self.Event._fields["domain"].selection)
        for event in events:
            for name in BOUNDED:
                value = event[name] or ""
                self.assertLessEqual(len(value), MAX_LENGTH, f"{name}: {value[:80]}")
                self.assertNotIn("\x00", value)
            self.assertLessEqual(
                len(event.payload or ""), self.backend.webhook_max_bytes
            )
            self.assertTrue(not event.domain or event.domain in domains)
            if event.topic not in ("customer/created", "customer/updated"):
                self.assertEqual(event.state, "skipped_policy", event.topic)

        # the views the users open load every stored event
        for view in ("list", "form"):
            fields = self.Event.get_views([(False, view)])["models"]["retail.event"]
            spec = {name: {} for name in fields["fields"]}
            self.assertEqual(len(events.web_read(spec)), len(events))
