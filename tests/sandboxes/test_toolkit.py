"""Plain pytest tests of the sandbox toolkit and the TestShop sandbox (no Odoo)."""

import base64
import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandboxes import available
from sandboxes.testshop import TestShopSandbox, encode_cursor, sign, verify
from sandboxes.toolkit import (
    Clock,
    FaultPlan,
    LeakyBucket,
    RecordedRequest,
    Recorder,
    SandboxServer,
    TokenBucket,
)

EPOCH = 1_700_000_000.0
AUTH = {"Authorization": "Bearer tok"}


class Receiver:
    """A webhook endpoint that records every delivery."""

    def __init__(self, status=200):
        self.status = status
        self.deliveries = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.deliveries.append((dict(request.headers), request.get_data()))
        return Response("ok", status=self.status)(environ, start_response)


@pytest.fixture
def shop():
    sandbox = TestShopSandbox(
        token="tok", webhook_secret="whsec", clock=Clock(EPOCH, frozen=True)
    )
    with SandboxServer(sandbox):
        yield sandbox


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/hooks"
        yield app


def call(shop, method, path, key=None, headers=None, **kwargs):
    headers = {**AUTH, **(headers or {})}
    if key:
        headers["Idempotency-Key"] = key
    return requests.request(
        method, shop.url + path, headers=headers, timeout=5, **kwargs
    )


# ---------------------------------------------------------------- toolkit
def test_clock_frozen_and_running():
    clock = Clock(EPOCH, frozen=True)
    assert clock.now() == EPOCH
    assert clock.advance(10) == EPOCH + 10
    clock.set(EPOCH - 5)
    assert clock.now() == EPOCH - 5
    clock.reset()
    assert clock.now() == EPOCH
    running = Clock()
    running.advance(3600)
    assert abs(running.now() - time.time() - 3600) < 1


def test_token_bucket_wait_and_refill():
    clock = Clock(EPOCH, frozen=True)
    bucket = TokenBucket(2, 0.5, clock)
    assert bucket.try_take() == (True, 0.0, 1.0)
    assert bucket.try_take() == (True, 0.0, 0.0)
    assert bucket.try_take() == (False, 2.0, 0.0)
    assert bucket.try_take(3)[:2] == (False, math.inf)
    clock.advance(1)
    assert bucket.try_take() == (False, 1.0, 0.5)
    clock.advance(100)
    assert bucket.available == 2
    leaky = LeakyBucket(40, 2, clock)
    leaky.try_take(30)
    assert leaky.level == 30


def test_fault_plan_matching_and_counts():
    plan = FaultPlan()
    plan.add("status", status=502, path="/api/v1/orders", times=2)
    plan.add("throttle", operation="customers_list")
    assert plan.take("/api/v1/customers", "customers_get") is None
    assert plan.take("/api/v1/customers", "customers_list").kind == "throttle"
    assert plan.take("/api/v1/customers", "customers_list") is None
    assert plan.take("/api/v1/orders/1").status == 502
    assert plan.take("/api/v1/orders/2").status == 502
    assert len(plan) == 0
    assert plan.add("timeout", seconds=300).seconds == 30
    with pytest.raises(ValueError):
        plan.add("explode")


def test_fault_skip_lets_the_first_matching_requests_through():
    """Fail the second call of an operation once: ``skip=1``."""
    plan = FaultPlan()
    plan.add("status", status=500, operation="FulfillmentCreate", skip=1)
    assert plan.take("/graphql.json", "Other") is None
    assert plan.take("/graphql.json", "FulfillmentCreate") is None
    assert plan.take("/graphql.json", "FulfillmentCreate").status == 500
    assert plan.take("/graphql.json", "FulfillmentCreate") is None
    with pytest.raises(ValueError):
        plan.add("status", skip=-1)


def test_recorder_is_bounded():
    recorder = Recorder(maxlen=3)
    for index in range(5):
        recorder.record(
            RecordedRequest("GET", f"/p/{index}", "", {}, b"", EPOCH + index)
        )
    assert [item.path for item in recorder.requests()] == ["/p/2", "/p/3", "/p/4"]
    assert len(recorder.requests("/p/4")) == 1
    recorder.clear()
    assert len(recorder) == 0


# --------------------------------------------------------------- testshop
def test_auth_refused(shop):
    answer = requests.get(shop.url + "/api/v1/customers", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    answer = requests.get(
        shop.url + "/api/v1/customers",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert answer.status_code == 401
    answer = call(shop, "GET", "/api/v1/customers")
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Limit"] == "10"
    assert answer.headers["X-RateLimit-Remaining"] == "9"
    uuid.UUID(answer.headers["X-Request-Id"], version=4)


def test_throttling_and_recovery(shop):
    remaining = [
        call(shop, "GET", "/api/v1/customers").headers["X-RateLimit-Remaining"]
        for _ in range(10)
    ]
    assert remaining == [str(n) for n in range(9, -1, -1)]
    answer = call(shop, "GET", "/api/v1/customers")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == "throttled"
    shop.clock.advance(1)  # 5 tokens a second
    answer = call(shop, "GET", "/api/v1/customers")
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Remaining"] == "4"
    # An injected throttle answers 429 although tokens are left.
    shop.inject_fault("throttle", seconds=7)
    answer = call(shop, "GET", "/api/v1/customers")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"


def test_pagination_returns_each_customer_once(shop):
    shop.capacity = 1000  # this test is about paging, not throttling
    shop.reset()
    expected = []
    for index in range(23):
        expected.append(shop.add_customer(f"c{index}@x.test", f"C{index}")["id"])
        if index % 4 == 0:  # some customers share their updated_at
            shop.clock.advance(1)
    shop.clock.advance(1)
    shop.update_customer("cus_1", name="moved to the end")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        answer = call(shop, "GET", "/api/v1/customers", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [customer["id"] for customer in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert seen[-1] == "cus_1"
    # updated_since is inclusive: cus_22 shares cus_23's updated_at.
    since = shop.customer("cus_23")["updated_at"]
    answer = call(shop, "GET", "/api/v1/customers", params={"updated_since": since})
    ids = [customer["id"] for customer in answer.json()["data"]]
    assert ids == ["cus_22", "cus_23", "cus_1"]
    for limit in ("0", "101", "ten"):
        answer = call(shop, "GET", "/api/v1/customers", params={"limit": limit})
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] == "limit"


def test_invalid_cursor(shop):
    forged = base64.urlsafe_b64encode(b'["yesterday", "cus_1"]').decode()
    for cursor in ("garbage!", forged, encode_cursor("2024-01-01T00:00:00.000Z", "x")):
        answer = call(shop, "GET", "/api/v1/customers", params={"cursor": cursor})
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert (error["code"], error["param"]) == ("invalid_request", "cursor")


def test_idempotent_create_update_and_mismatch(shop):
    body = {"email": "ann@x.test", "name": "Ann"}
    first = call(shop, "POST", "/api/v1/customers", key="k1", json=body)
    assert first.status_code == 201
    # Same body serialized in another key order is the same request.
    again = call(
        shop,
        "POST",
        "/api/v1/customers",
        key="k1",
        data=json.dumps({"name": "Ann", "email": "ann@x.test"}),
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert len(shop.customers) == 1
    other = call(shop, "POST", "/api/v1/customers", key="k1", json={"email": "b@x"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_mismatch"
    missing = call(shop, "POST", "/api/v1/customers", json=body)
    assert missing.json()["error"]["code"] == "idempotency_key_required"
    invalid = call(shop, "POST", "/api/v1/customers", key="k2", json={"name": "Nom"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["param"] == "email"
    unknown = call(shop, "POST", "/api/v1/customers", key="k3", json={**body, "x": 1})
    assert (unknown.status_code, unknown.json()["error"]["param"]) == (400, "x")

    cid = first.json()["id"]
    shop.clock.advance(60)
    updated = call(
        shop, "PUT", f"/api/v1/customers/{cid}", key="u1", json={"phone": "1"}
    )
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["updated_at"] > first.json()["updated_at"]
    call(shop, "PUT", f"/api/v1/customers/{cid}", key="u1", json={"phone": "1"})
    assert shop.customer(cid)["version"] == 2
    assert call(shop, "GET", "/api/v1/customers/cus_99").status_code == 404
    assert call(shop, "GET", f"/api/v1/customers/{cid}").json()["phone"] == "1"
    # Keys live 24 hours on the clock.
    shop.clock.advance(24 * 3600)
    call(shop, "POST", "/api/v1/customers", key="k1", json=body)
    assert len(shop.customers) == 2


def test_injected_500_then_success(shop):
    shop.inject_fault("status", status=500, path="/api/v1/customers")
    answer = call(shop, "GET", "/api/v1/customers")
    assert answer.status_code == 500
    assert answer.json() == {"error": {"code": "internal", "message": "injected"}}
    assert call(shop, "GET", "/api/v1/customers").status_code == 200
    # The same through the admin route, twice, for one operation only.
    admin = requests.post(
        shop.url + "/__sandbox__/faults",
        json={
            "kind": "status",
            "status": 503,
            "times": 2,
            "operation": "customers_get",
        },
        timeout=5,
    )
    assert admin.status_code == 201
    assert call(shop, "GET", "/api/v1/customers").status_code == 200
    assert call(shop, "GET", "/api/v1/customers/cus_1").status_code == 503
    assert call(shop, "GET", "/api/v1/customers/cus_1").status_code == 503
    assert call(shop, "GET", "/api/v1/customers/cus_1").status_code == 404
    assert len(shop.requests("/api/v1/customers")) == 6


def test_timeout_fault_still_writes_and_retry_replays(shop):
    shop.inject_fault("timeout", seconds=0.5)
    body = {"email": "slow@x.test"}
    with pytest.raises(requests.Timeout):
        requests.post(
            shop.url + "/api/v1/customers",
            headers={**AUTH, "Idempotency-Key": "slow"},
            json=body,
            timeout=0.1,
        )
    deadline = time.monotonic() + 3
    while not shop.customers and time.monotonic() < deadline:
        time.sleep(0.05)
    retry = call(shop, "POST", "/api/v1/customers", key="slow", json=body)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert list(shop.customers) == ["cus_1"]


def test_webhook_signature_and_duplicates(shop, receiver):
    shop.webhook_url = receiver.url
    customer = shop.add_customer("w@x.test", "Web")
    event = shop.emit("customer/created", customer)
    assert len(receiver.deliveries) == 1
    headers, raw = receiver.deliveries[0]
    assert json.loads(raw) == event
    assert headers["X-Testshop-Topic"] == "customer/created"
    assert headers["X-Testshop-Event-Id"] == event["id"]
    assert headers["X-Testshop-Timestamp"] == str(int(EPOCH))
    assert headers["X-Testshop-Signature"] == sign(raw, int(EPOCH), "whsec")
    assert verify(
        raw, headers["X-Testshop-Timestamp"], headers["X-Testshop-Signature"], "whsec"
    )
    assert not verify(raw + b" ", int(EPOCH), headers["X-Testshop-Signature"], "whsec")

    shop.clock.advance(30)
    answers = shop.webhooks.deliver(event, duplicate=True)
    assert answers == [(200, "ok"), (200, "ok")]
    ids = [h["X-Testshop-Event-Id"] for h, _ in receiver.deliveries]
    assert ids == [event["id"]] * 3
    # Redeliveries are signed again, at their own time.
    headers, raw = receiver.deliveries[-1]
    assert headers["X-Testshop-Timestamp"] == str(int(EPOCH) + 30)
    assert verify(raw, int(EPOCH) + 30, headers["X-Testshop-Signature"], "whsec")


def test_webhook_queue_reorder_and_auto(shop, receiver):
    shop.webhook_url = receiver.url
    shop.webhook_mode = "queue"
    first = shop.add_customer("a@x.test", "A", emit=True)
    shop.update_customer(first["id"], name="A2", emit=True)
    assert receiver.deliveries == []
    answers = shop.flush_webhooks(order="reverse", duplicate_every=1)
    assert [status for status, _ in answers] == [200] * 4
    topics = [h["X-Testshop-Topic"] for h, _ in receiver.deliveries]
    assert topics == ["customer/updated"] * 2 + ["customer/created"] * 2

    receiver.deliveries.clear()
    shop.webhook_mode = "sync"
    shop.auto_webhooks = True
    created = call(shop, "POST", "/api/v1/customers", key="a1", json={"email": "b@x"})
    call(shop, "POST", "/api/v1/customers", key="a1", json={"email": "b@x"})  # replay
    assert len(receiver.deliveries) == 1
    event = json.loads(receiver.deliveries[0][1])
    assert event["topic"] == "customer/created"
    assert event["data"] == created.json()


def test_admin_routes(shop):
    url = shop.url + "/__sandbox__"
    now = requests.post(url + "/clock", json={"advance": 90}, timeout=5).json()
    assert now["now"] == EPOCH + 90
    assert now["iso"] == "2023-11-14T22:14:50.000Z"
    call(shop, "GET", "/api/v1/customers")
    recorded = requests.get(url + "/requests", timeout=5).json()
    assert [r["path"] for r in recorded] == ["/api/v1/customers"]
    assert recorded[0]["time"] == EPOCH + 90
    seeded = requests.post(url + "/customers", json={"email": "s@x"}, timeout=5)
    assert seeded.status_code == 201
    bad = requests.post(url + "/faults", json={"kind": "boom"}, timeout=5)
    assert bad.status_code == 400
    assert requests.post(url + "/reset", timeout=5).status_code == 200
    assert shop.customers == {} and shop.requests() == []
    assert shop.clock.now() == EPOCH


def test_registry_and_cli():
    assert list(available()) == ["testshop", "shopify", "stripe", "threepl"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with subprocess.Popen(
        [sys.executable, "-m", "sandboxes", "--all", "--port-base", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            name, url = proc.stdout.readline().split()
            assert name == "testshop"
            answer = requests.get(url + "/api/v1/customers", headers=AUTH, timeout=5)
            assert answer.status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=5) == 0
