"""Plain pytest tests of the Stripe sandbox (no Odoo), over HTTP.

Every API answer is checked against Stripe's OpenAPI contract
(``shared/contracts/stripe``, ``RC_CONTRACTS``) by :func:`api`; without the
contract folder that check is skipped, unless ``RC_REQUIRE_CONTRACTS=1``.
"""

import hashlib
import hmac
import json
import os
import threading
import time

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandboxes import available
from sandboxes.stripe import (
    API_VERSION,
    SECRET_KEY,
    StripeSandbox,
    contract,
    verify_header,
)
from sandboxes.toolkit import Clock, SandboxServer

EPOCH = 1_793_000_000  # 2026-10-26T07:33:20Z
HAVE_CONTRACT = contract.contract_dir() is not None
if not HAVE_CONTRACT and os.environ.get("RC_REQUIRE_CONTRACTS") == "1":
    raise RuntimeError("RC_REQUIRE_CONTRACTS=1 but the Stripe contract is absent")


class Receiver:
    """A webhook endpoint: records every POST, answers ``statuses`` in turn
    (then 200)."""

    def __init__(self):
        self.received = []
        self.statuses = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append((dict(request.headers), request.get_data()))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)

    def events(self):
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def sb():
    sandbox = StripeSandbox(clock=Clock(EPOCH, frozen=True))
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        yield sandbox


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/stripe/webhook"
        yield app


def api(sb, method, path, key=SECRET_KEY, headers=None, **kwargs):
    """Call the sandbox; check the answer against the contract."""
    headers = dict(headers or {})
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    answer = requests.request(
        method, sb.test_url + path, headers=headers, timeout=10, **kwargs
    )
    assert answer.headers["Request-Id"].startswith("req_")
    if HAVE_CONTRACT:
        problems = contract.problems(method, path, answer.status_code, answer.json())
        assert problems == [], problems
    return answer


def admin(sb, path, payload=None):
    answer = requests.post(sb.test_url + "/__sandbox__/" + path, json=payload or {})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def pay(sb, amount=1000, **extra):
    return admin(sb, "payments", {"amount": amount, **extra})


def endpoint(sb, receiver, **extra):
    data = {"url": receiver.url, "enabled_events[]": "*", **extra}
    answer = api(sb, "POST", "/v1/webhook_endpoints", data=data)
    assert answer.status_code == 200, answer.text
    return answer.json()


# ------------------------------------------------------------ registration
def test_registered_as_a_sandbox():
    assert available()["stripe"] is StripeSandbox


# ---------------------------------------------------------- auth, versions
def test_missing_and_invalid_keys_are_refused_as_stripe_does(sb):
    none = api(sb, "GET", "/v1/balance", key=None)
    assert none.status_code == 401
    assert none.json()["error"]["type"] == "invalid_request_error"
    assert "You did not provide an API key" in none.json()["error"]["message"]
    wrong = api(sb, "GET", "/v1/balance", key="sk_test_wrongwrongwrong1234")
    assert wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert "wrongwrong" not in message and message.endswith("1234")
    basic = api(sb, "GET", "/v1/balance", key=None, auth=(SECRET_KEY, ""))
    assert basic.status_code == 200


def test_restricted_key_needs_the_permission(sb):
    key = admin(sb, "keys", {"permissions": {"balance": "read", "refund": "write"}})[
        "key"
    ]
    assert key.startswith("rk_test_")
    charge = pay(sb)["charge"]["id"]
    assert api(sb, "GET", "/v1/balance_transactions", key=key).status_code == 200
    # write implies read
    assert api(sb, "GET", "/v1/refunds", key=key).status_code == 200
    denied = api(sb, "GET", f"/v1/charges/{charge}", key=key)
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "'rak_charge_read' permission" in error["message"]
    assert key not in error["message"]
    post = api(
        sb, "POST", "/v1/payouts", key=key, data={"amount": 1, "currency": "usd"}
    )
    assert post.status_code == 403 and "rak_payout_write" in post.text


def test_pinned_version_is_answered_and_an_unknown_one_refused(sb):
    pinned = api(
        sb, "GET", "/v1/balance", headers={"Stripe-Version": "2024-09-30.acacia"}
    )
    assert pinned.headers["Stripe-Version"] == "2024-09-30.acacia"
    default = api(sb, "GET", "/v1/balance")
    assert default.headers["Stripe-Version"] == API_VERSION
    # the first release of each major and later monthly releases all answer
    for version in ("2025-09-30.clover", "2026-03-25.dahlia", "2026-04-22.dahlia"):
        answer = api(sb, "GET", "/v1/balance", headers={"Stripe-Version": version})
        assert answer.status_code == 200, version
        assert answer.headers["Stripe-Version"] == version
    unknown = api(sb, "GET", "/v1/balance", headers={"Stripe-Version": "2099-01-01"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == {
        "type": "invalid_request_error",
        "message": "Invalid Stripe API version: 2099-01-01",
    }


# ----------------------------------------------------- forms, expand, errors
def test_form_encoded_nested_parameters_and_expand(sb):
    customer = api(
        sb, "POST", "/v1/customers", data={"email": "ana@example.com"}
    ).json()
    answer = api(
        sb,
        "POST",
        "/v1/payment_intents",
        data={
            "amount": "2500",
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_visa",
            "customer": customer["id"],
            "metadata[odoo_order]": "S00042",
            "metadata[shop]": "main",
            "expand[]": ["latest_charge.balance_transaction", "customer"],
        },
    )
    assert answer.status_code == 200, answer.text
    intent = answer.json()
    assert intent["status"] == "succeeded"
    assert intent["metadata"] == {"odoo_order": "S00042", "shop": "main"}
    assert intent["customer"]["email"] == "ana@example.com"
    txn = intent["latest_charge"]["balance_transaction"]
    assert txn["amount"] == 2500 and txn["fee"] == 103 and txn["net"] == 2397
    plain = api(sb, "GET", f"/v1/payment_intents/{intent['id']}").json()
    assert isinstance(plain["latest_charge"], str)


def test_unknown_parameter_and_bad_expand_are_400_with_param(sb):
    unknown = api(sb, "GET", "/v1/charges", params={"colour": "red"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "colour"
    intent = pay(sb)["payment_intent"]["id"]
    bad = api(sb, "GET", f"/v1/payment_intents/{intent}", params={"expand[]": "amount"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "expand"


def test_missing_object_is_resource_missing(sb):
    answer = api(sb, "GET", "/v1/charges/ch_nothing")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "resource_missing"
    assert error["message"] == "No such charge: 'ch_nothing'"
    assert error["param"] == "charge"


def test_declined_card_is_a_402_card_error(sb):
    answer = api(
        sb,
        "POST",
        "/v1/payment_intents",
        data={
            "amount": 500,
            "currency": "usd",
            "confirm": "true",
            "payment_method": "pm_card_chargeDeclined",
        },
    )
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"


# --------------------------------------------------------------- pagination
def test_pagination_visits_every_object_once(sb):
    for number in range(25):
        admin(sb, "customers", {"email": f"c{number}@example.com"})
        sb.clock.advance(1)
    seen, params = [], {"limit": 10}
    while True:
        body = api(sb, "GET", "/v1/customers", params=params).json()
        seen += [c["email"] for c in body["data"]]
        if not body["has_more"]:
            break
        params = {"limit": 10, "starting_after": body["data"][-1]["id"]}
    assert seen == [f"c{n}@example.com" for n in reversed(range(25))]
    first = api(sb, "GET", "/v1/customers", params={"limit": 3}).json()["data"]
    back = api(
        sb, "GET", "/v1/customers", params={"limit": 2, "ending_before": first[2]["id"]}
    ).json()
    assert [c["id"] for c in back["data"]] == [c["id"] for c in first[:2]]
    assert back["has_more"] is False
    assert api(sb, "GET", "/v1/customers", params={"limit": 101}).status_code == 400
    both = {"starting_after": first[0]["id"], "ending_before": first[1]["id"]}
    assert api(sb, "GET", "/v1/customers", params=both).status_code == 400


# ----------------------------------------------------------------- payouts
def test_automatic_payout_lists_its_transactions_and_adds_up_to_the_cent(sb):
    euro = pay(sb, 10000, currency="eur", exchange_rate="1.0843")
    plain = pay(sb, 5000)
    disputed = pay(sb, 2000)
    refund = admin(sb, "refunds", {"charge": plain["charge"]["id"], "amount": 1500})
    admin(sb, "disputes", {"charge": disputed["charge"]["id"]})
    assert euro["balance_transaction"]["amount"] == 10843
    assert euro["balance_transaction"]["exchange_rate"] == 1.0843
    sb.clock.advance(2 * 86400)
    later = pay(sb, 700)  # still pending: not in this payout
    payout = admin(sb, "payouts")
    assert payout["automatic"] is True
    assert payout["reconciliation_status"] == "in_progress"
    admin(sb, f"payouts/{payout['id']}/paid")
    paid = api(sb, "GET", f"/v1/payouts/{payout['id']}").json()
    assert (paid["status"], paid["reconciliation_status"]) == ("paid", "completed")

    txns, params = [], {"payout": payout["id"], "limit": 2, "expand[]": "data.source"}
    while True:
        body = api(sb, "GET", "/v1/balance_transactions", params=params).json()
        txns += body["data"]
        if not body["has_more"]:
            break
        params = {**params, "starting_after": body["data"][-1]["id"]}
    kinds = sorted((t["type"], t["reporting_category"]) for t in txns)
    assert kinds == [
        ("adjustment", "dispute"),
        ("charge", "charge"),
        ("charge", "charge"),
        ("charge", "charge"),
        ("payout", "payout"),
        ("refund", "refund"),
    ]
    for txn in txns:
        assert txn["net"] == txn["amount"] - txn["fee"]
        assert txn["fee"] == sum(d["amount"] for d in txn["fee_details"])
        assert txn["currency"] == "usd"
    settled = [t for t in txns if t["type"] != "payout"]
    assert sum(t["net"] for t in settled) == payout["amount"]
    assert later["balance_transaction"]["id"] not in {t["id"] for t in txns}
    (own,) = [t for t in txns if t["type"] == "payout"]
    assert own["amount"] == -payout["amount"] and own["source"]["id"] == payout["id"]
    (ref,) = [t for t in txns if t["type"] == "refund"]
    assert ref["source"]["id"] == refund["id"] and ref["amount"] == -1500
    (dispute,) = [t for t in txns if t["type"] == "adjustment"]
    assert dispute["amount"] == -2000 and dispute["fee"] == 1500


def test_payout_transactions_are_listed_once_reconciliation_completed(sb):
    pay(sb, 3000)
    sb.clock.advance(2 * 86400)
    payout = admin(sb, "payouts")
    admin(sb, f"payouts/{payout['id']}/paid", {"reconcile": False})
    paid = api(sb, "GET", f"/v1/payouts/{payout['id']}").json()
    assert (paid["status"], paid["reconciliation_status"]) == ("paid", "in_progress")
    params = {"payout": payout["id"], "limit": 100}
    early = api(sb, "GET", "/v1/balance_transactions", params=params).json()
    assert early["data"] == [] and early["has_more"] is False
    types = [e["type"] for e in api(sb, "GET", "/v1/events").json()["data"]]
    assert "payout.reconciliation_completed" not in types
    admin(sb, f"payouts/{payout['id']}/reconcile")
    events = api(sb, "GET", "/v1/events", params={"limit": 1}).json()["data"]
    assert events[0]["type"] == "payout.reconciliation_completed"
    done = api(sb, "GET", "/v1/balance_transactions", params=params).json()
    assert sorted(t["type"] for t in done["data"]) == ["charge", "payout"]


def test_pending_funds_are_not_paid_out_and_manual_payouts_are_not_reconcilable(sb):
    pay(sb, 3000)
    sb.clock.advance(2 * 86400)
    pay(sb, 7000)  # not yet available
    payout = admin(sb, "payouts")
    assert payout["amount"] == 3000 - 117
    sb.clock.advance(2 * 86400)
    manual = api(sb, "POST", "/v1/payouts", data={"amount": 100, "currency": "usd"})
    assert manual.status_code == 200
    assert manual.json()["automatic"] is False
    assert manual.json()["reconciliation_status"] == "not_applicable"
    listed = api(
        sb, "GET", "/v1/balance_transactions", params={"payout": manual.json()["id"]}
    )
    assert listed.status_code == 400
    too_much = api(sb, "POST", "/v1/payouts", data={"amount": 10**9, "currency": "usd"})
    assert too_much.json()["error"]["code"] == "balance_insufficient"


# -------------------------------------------------------------- idempotency
def refund_with_key(sb, charge, key, amount=100):
    return api(
        sb,
        "POST",
        "/v1/refunds",
        headers={"Idempotency-Key": key},
        data={"charge": charge, "amount": amount},
    )


def test_same_key_replays_the_first_answer_and_refunds_once(sb):
    charge = pay(sb)["charge"]["id"]
    first = refund_with_key(sb, charge, "refund-1")
    again = refund_with_key(sb, charge, "refund-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    refunds = api(sb, "GET", "/v1/refunds", params={"charge": charge}).json()["data"]
    assert len(refunds) == 1
    other = refund_with_key(sb, charge, "refund-1", amount=200)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    # a 400 raised by the endpoint is saved too, a bad parameter is not
    too_much = refund_with_key(sb, charge, "refund-2", amount=99999)
    assert too_much.json()["error"]["code"] == "amount_too_large"
    assert (
        refund_with_key(sb, charge, "refund-2", amount=99999).headers.get(
            "Idempotent-Replayed"
        )
        == "true"
    )


def test_keys_expire_after_24_hours_on_the_sandbox_clock(sb):
    charge = pay(sb)["charge"]["id"]
    first = refund_with_key(sb, charge, "k")
    sb.clock.advance(24 * 3600 - 1)
    assert refund_with_key(sb, charge, "k").json()["id"] == first.json()["id"]
    sb.clock.advance(1)
    later = refund_with_key(sb, charge, "k")
    assert later.status_code == 200 and later.json()["id"] != first.json()["id"]


def test_a_500_is_saved_and_replayed_with_should_retry_false(sb):
    charge = pay(sb)["charge"]["id"]
    sb.inject_fault("status", status=500, path="/v1/refunds")
    failed = refund_with_key(sb, charge, "boom")
    assert failed.status_code == 500
    assert failed.json()["error"]["type"] == "api_error"
    assert failed.headers["Stripe-Should-Retry"] == "false"
    replay = refund_with_key(sb, charge, "boom")
    assert replay.status_code == 500 and replay.json() == failed.json()
    assert api(sb, "GET", "/v1/refunds").json()["data"] == []
    assert refund_with_key(sb, charge, "fresh").status_code == 200


def test_gateway_errors_say_retry_and_are_not_saved(sb):
    charge = pay(sb)["charge"]["id"]
    sb.inject_fault("status", status=503, path="/v1/refunds")
    unavailable = refund_with_key(sb, charge, "k503")
    assert unavailable.status_code == 503
    assert unavailable.headers["Stripe-Should-Retry"] == "true"
    assert refund_with_key(sb, charge, "k503").status_code == 200


def test_concurrent_use_of_a_key_is_409(sb):
    sb.inject_fault("timeout", seconds=1.0, path="/v1/customers")
    answers = {}

    def slow():
        answers["slow"] = api(
            sb,
            "POST",
            "/v1/customers",
            headers={"Idempotency-Key": "c"},
            data={"email": "a@example.com"},
        )

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    # the slow request has not reached the idempotency layer yet (it sleeps
    # in the fault); wait until it holds the key
    deadline = time.time() + 3
    while sb.idempotency.get("c") is None and time.time() < deadline:
        time.sleep(0.02)
    busy = api(
        sb,
        "POST",
        "/v1/customers",
        headers={"Idempotency-Key": "c"},
        data={"email": "a@example.com"},
    )
    thread.join()
    assert busy.status_code == 409
    assert busy.json()["error"]["type"] == "idempotency_error"
    assert answers["slow"].status_code == 200
    customers = api(sb, "GET", "/v1/customers").json()["data"]
    assert len(customers) == 1


# -------------------------------------------------------------- rate limit
def test_rate_limit_is_429_rate_limit_until_the_second_passes(sb):
    admin(sb, "config", {"rate_limit": 3})
    for _ in range(3):
        assert api(sb, "GET", "/v1/balance").status_code == 200
    limited = api(sb, "GET", "/v1/balance")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit"
    sb.clock.advance(1)
    assert api(sb, "GET", "/v1/balance").status_code == 200
    sb.inject_fault("throttle", path="/v1/balance")
    assert api(sb, "GET", "/v1/balance").status_code == 429


# ------------------------------------------------------------------ events
def test_events_filter_by_created_and_type_and_keep_the_request(sb):
    charge = pay(sb, 4000)["charge"]["id"]
    sb.clock.advance(60)
    since = EPOCH + 60
    api(
        sb,
        "POST",
        "/v1/refunds",
        headers={"Idempotency-Key": "r1"},
        data={"charge": charge, "amount": 1000},
    )
    recent = api(sb, "GET", "/v1/events", params={"created[gte]": since}).json()
    assert sorted(e["type"] for e in recent["data"]) == [
        "charge.refunded",
        "refund.created",
    ]
    (refunded,) = [e for e in recent["data"] if e["type"] == "charge.refunded"]
    # only ``*.updated`` events carry previous_attributes (events/object)
    assert "previous_attributes" not in refunded["data"]
    assert refunded["data"]["object"]["amount_refunded"] == 1000
    assert refunded["request"]["idempotency_key"] == "r1"
    typed = api(sb, "GET", "/v1/events", params={"type": "payment_intent.*"}).json()
    assert {e["type"] for e in typed["data"]} == {
        "payment_intent.created",
        "payment_intent.succeeded",
    }
    sb.clock.advance(31 * 86400)
    assert api(sb, "GET", "/v1/events").json()["data"] == []


def test_dispute_won_reinstates_the_funds(sb):
    charge = pay(sb, 3000)["charge"]["id"]
    dispute = admin(sb, "disputes", {"charge": charge})
    assert dispute["status"] == "needs_response"
    assert dispute["evidence_details"]["due_by"] == EPOCH + 7 * 86400
    admin(sb, f"disputes/{dispute['id']}/close", {"outcome": "won"})
    closed = api(sb, "GET", "/v1/events", params={"type": "charge.dispute.closed"})
    (event,) = closed.json()["data"]
    assert "previous_attributes" not in event["data"]
    assert event["data"]["object"]["status"] == "won"
    txns = api(sb, "GET", "/v1/balance_transactions", params={"type": "adjustment"})
    assert sorted(
        (t["reporting_category"], t["amount"], t["fee"]) for t in txns.json()["data"]
    ) == [("dispute", -3000, 1500), ("dispute_reversal", 3000, 0)]
    lost = api(sb, "POST", f"/v1/disputes/{dispute['id']}/close")
    assert lost.status_code == 400


def test_submitted_evidence_puts_the_dispute_under_review(sb):
    """``POST /v1/disputes/:id`` stages evidence (``submit=false``) or submits
    it (the default): ``under_review``, ``charge.dispute.updated`` with the
    previous status; a closed dispute takes no more evidence."""
    charge = pay(sb, 3000)["charge"]["id"]
    dispute = admin(sb, "disputes", {"charge": charge})
    path = f"/v1/disputes/{dispute['id']}"
    staged = api(
        sb,
        "POST",
        path,
        data={"evidence[product_description]": "A course", "submit": "false"},
    ).json()
    assert staged["status"] == "needs_response"
    assert staged["evidence"]["product_description"] == "A course"
    assert staged["evidence_details"]["submission_count"] == 0
    assert api(sb, "POST", path, data={"evidence[x]": "y"}).status_code == 400
    submitted = api(sb, "POST", path, data={"metadata[case]": "42"}).json()
    assert submitted["status"] == "under_review"
    assert submitted["evidence_details"]["has_evidence"] is True
    assert submitted["evidence_details"]["submission_count"] == 1
    assert submitted["metadata"] == {"case": "42"}
    updated = api(
        sb, "GET", "/v1/events", params={"type": "charge.dispute.updated"}
    ).json()["data"]
    assert [e["data"]["previous_attributes"] for e in updated] == [
        {"status": "needs_response"}
    ]
    once_more = api(sb, "POST", path, data={"evidence[receipt]": "r"})
    assert once_more.status_code == 400
    admin(sb, f"disputes/{dispute['id']}/close", {"outcome": "lost"})
    assert api(sb, "POST", path, data={"submit": "true"}).status_code == 400


def test_only_updated_events_carry_previous_attributes(sb):
    """ "previous_attributes: ... (only included in events of type
    ``*.updated``)" (https://docs.stripe.com/api/events/object)."""
    charge = pay(sb, 3000)["charge"]["id"]
    admin(sb, "refunds", {"charge": charge, "amount": 100})
    dispute = admin(sb, "disputes", {"charge": charge})
    admin(sb, f"disputes/{dispute['id']}/close", {"outcome": "lost"})
    pay(sb, 10000)
    sb.clock.advance(3 * 86400)
    payout = admin(sb, "payouts")
    admin(sb, f"payouts/{payout['id']}/paid")
    events = api(sb, "GET", "/v1/events", params={"limit": 100}).json()["data"]
    with_previous = {e["type"] for e in events if "previous_attributes" in e["data"]}
    assert with_previous == {"payout.updated"}
    (updated,) = [e for e in events if e["type"] == "payout.updated"]
    assert updated["data"]["previous_attributes"] == {"status": "pending"}


def test_a_pending_refund_settles_with_charge_refund_updated(sb):
    charge = pay(sb, 3000)["charge"]["id"]
    admin(sb, "config", {"refund_status": "pending"})
    refund = api(sb, "POST", "/v1/refunds", data={"charge": charge, "amount": 1000})
    assert refund.status_code == 200
    refund = refund.json()
    assert (refund["status"], refund["pending_reason"]) == ("pending", "processing")
    assert api(sb, "GET", f"/v1/charges/{charge}").json()["amount_refunded"] == 1000
    admin(sb, f"refunds/{refund['id']}/status", {"status": "succeeded"})
    updated = api(
        sb, "GET", "/v1/events", params={"type": "charge.refund.updated"}
    ).json()["data"]
    (event,) = updated
    assert event["data"]["object"]["id"] == refund["id"]
    assert event["data"]["object"]["status"] == "succeeded"
    assert event["data"]["previous_attributes"] == {
        "status": "pending",
        "pending_reason": "processing",
    }
    again = api(sb, "GET", "/v1/events", params={"type": "refund.updated"}).json()
    assert [e["data"]["object"]["status"] for e in again["data"]] == ["succeeded"]


def test_a_failed_refund_returns_the_money_to_the_balance(sb):
    charge = pay(sb, 3000)["charge"]["id"]
    refund = admin(sb, "refunds", {"charge": charge})
    assert refund["status"] == "succeeded"
    admin(
        sb,
        f"refunds/{refund['id']}/status",
        {"status": "failed", "failure_reason": "expired_or_canceled_card"},
    )
    failed = api(
        sb,
        "GET",
        f"/v1/refunds/{refund['id']}",
        params={"expand[]": "failure_balance_transaction"},
    ).json()
    assert (failed["status"], failed["failure_reason"]) == (
        "failed",
        "expired_or_canceled_card",
    )
    back = failed["failure_balance_transaction"]
    kind = (back["type"], back["reporting_category"])
    assert kind == ("adjustment", "refund_failure")
    assert (back["amount"], back["net"]) == (3000, 3000)
    assert back["source"] == refund["id"]
    (event,) = api(
        sb, "GET", "/v1/events", params={"type": "charge.refund.updated"}
    ).json()["data"]
    assert event["data"]["previous_attributes"] == {
        "status": "succeeded",
        "failure_balance_transaction": None,
        "failure_reason": None,
    }
    charged = api(sb, "GET", f"/v1/charges/{charge}").json()
    assert (charged["amount_refunded"], charged["refunded"]) == (0, False)
    # the customer can still be refunded another way
    assert api(sb, "POST", "/v1/refunds", data={"charge": charge}).status_code == 200


def test_a_charged_back_charge_cannot_be_refunded(sb):
    charge = pay(sb, 3000)["charge"]["id"]
    dispute = admin(sb, "disputes", {"charge": charge})
    assert dispute["is_charge_refundable"] is False
    answer = api(sb, "POST", "/v1/refunds", data={"charge": charge})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "charge_disputed"
    assert api(sb, "GET", "/v1/refunds").json()["data"] == []


@pytest.mark.skipif(not HAVE_CONTRACT, reason="Stripe contract folder absent")
def test_contract_event_payload_objects_fit_their_schemas(sb):
    charge = pay(sb, 3000)["charge"]["id"]
    admin(sb, "refunds", {"charge": charge, "amount": 100})
    admin(sb, "disputes", {"charge": charge})
    pay(sb, 10000)
    sb.clock.advance(3 * 86400)
    payout = admin(sb, "payouts")
    admin(sb, f"payouts/{payout['id']}/paid")
    events = api(sb, "GET", "/v1/events", params={"limit": 100}).json()["data"]
    assert len(events) >= 12
    for event in events:
        kind = event["data"]["object"]["object"]
        assert contract.component_problems(kind, event["data"]["object"]) == []


# ---------------------------------------------------------------- webhooks
def test_endpoint_secret_is_returned_once_and_deliveries_are_signed(sb, receiver):
    created = endpoint(sb, receiver, api_version="2024-09-30.acacia")
    secret = created["secret"]
    assert secret.startswith("whsec_")
    again = api(sb, "GET", f"/v1/webhook_endpoints/{created['id']}").json()
    assert "secret" not in again
    pay(sb)
    attempts = sb.flush_webhooks()
    assert {a.status for a in attempts} == {200}
    assert [e["type"] for e in receiver.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    for headers, body in receiver.received:
        header = headers["Stripe-Signature"]
        assert header.startswith(f"t={EPOCH},v1=") and ",v0=" in header
        # HMAC-SHA256 of "t.payload" with the endpoint secret, computed here
        expected = hmac.new(
            secret.encode(), f"{EPOCH}.".encode() + body, hashlib.sha256
        ).hexdigest()
        assert f"v1={expected}" in header.split(",")
        assert verify_header(body, header, secret, now=EPOCH)
        assert not verify_header(body, header, "whsec_other", now=EPOCH)
        assert not verify_header(body + b" ", header, secret, now=EPOCH)
        event = json.loads(body)
        assert event["api_version"] == "2024-09-30.acacia"
        if HAVE_CONTRACT:
            assert contract.component_problems("event", event) == []
    assert api(sb, "GET", "/v1/events").json()["data"][0]["pending_webhooks"] == 0


def test_failed_deliveries_are_retried_three_times_over_hours(sb, receiver):
    endpoint(sb, receiver, **{"enabled_events[]": "customer.created"})
    receiver.statuses = [500, 500, 500, 500]
    admin(sb, "customers", {"email": "x@example.com"})
    assert [a.status for a in sb.flush_webhooks()] == [500]
    assert sb.flush_webhooks() == []  # the retry is due in an hour
    for hours in (1, 2, 3):
        sb.clock.advance(hours * 3600)
        assert [a.attempt for a in sb.flush_webhooks()] == [hours + 1]
    assert sb.hub.queue == [] and len(sb.hub.failed) == 1
    failed = api(sb, "GET", "/v1/events", params={"delivery_success": "false"})
    assert [e["type"] for e in failed.json()["data"]] == ["customer.created"]
    # stamped with the time of each attempt, not of the event
    stamps = [h["Stripe-Signature"].split(",")[0] for h, _ in receiver.received]
    assert stamps[-1] == f"t={EPOCH + 6 * 3600}"


def test_deliveries_can_come_late_twice_and_out_of_order(sb, receiver):
    secret = endpoint(sb, receiver, **{"enabled_events[]": "customer.created"})[
        "secret"
    ]
    for number in range(3):
        admin(sb, "customers", {"email": f"n{number}@example.com"})
    sb.clock.advance(3600)  # late: an hour after the events
    sb.flush_webhooks(order="reverse", duplicate_every=1)
    emails = [e["data"]["object"]["email"] for e in receiver.events()]
    assert emails == [f"n{n}@example.com" for n in (2, 2, 1, 1, 0, 0)]
    assert len({e["id"] for e in receiver.events()}) == 3
    receiver.received.clear()
    admin(sb, "customers", {"email": "old@example.com"})
    sb.flush_webhooks(signature_age=600)
    ((headers, body),) = receiver.received
    now = EPOCH + 3600
    assert not verify_header(body, headers["Stripe-Signature"], secret, now=now)
    assert verify_header(
        body, headers["Stripe-Signature"], secret, now=now, tolerance=900
    )


def test_rolled_secret_signs_with_both_until_the_old_one_expires(sb, receiver):
    created = endpoint(sb, receiver, **{"enabled_events[]": "customer.created"})
    old = created["secret"]
    new = admin(sb, f"webhook_endpoints/{created['id']}/roll", {"expires_in": 3600})[
        "secret"
    ]
    admin(sb, "customers", {"email": "a@example.com"})
    sb.flush_webhooks()
    ((headers, body),) = receiver.received
    assert headers["Stripe-Signature"].count("v1=") == 2
    assert verify_header(body, headers["Stripe-Signature"], old, now=EPOCH)
    assert verify_header(body, headers["Stripe-Signature"], new, now=EPOCH)
    sb.clock.advance(3600)
    admin(sb, "customers", {"email": "b@example.com"})
    sb.flush_webhooks()
    headers, body = receiver.received[-1]
    assert headers["Stripe-Signature"].count("v1=") == 1
    now = EPOCH + 3600
    assert not verify_header(body, headers["Stripe-Signature"], old, now=now)
    assert verify_header(body, headers["Stripe-Signature"], new, now=now)


def test_sync_mode_delivers_after_the_request(receiver):
    sandbox = StripeSandbox(clock=Clock(EPOCH, frozen=True), webhook_mode="sync")
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        endpoint(sandbox, receiver, **{"enabled_events[]": "customer.created"})
        api(sandbox, "POST", "/v1/customers", data={"email": "s@example.com"})
        assert [e["type"] for e in receiver.events()] == ["customer.created"]
