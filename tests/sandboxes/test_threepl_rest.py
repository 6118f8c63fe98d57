"""Plain pytest tests of the 3PL sandbox's REST face (no Odoo), over HTTP."""

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandboxes import available
from sandboxes.threepl import DEFAULT_CHANNEL, ThreePLSandbox, verify
from sandboxes.toolkit import Clock, SandboxServer

EPOCH = 1_793_000_000  # 2026-10-26T07:33:20Z
CHANNEL = DEFAULT_CHANNEL["id"]


class Receiver:
    """A webhook endpoint: records every POST, answers ``statuses`` in turn."""

    def __init__(self):
        self.received = []
        self.statuses = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append((dict(request.headers), request.get_data()))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)

    def topics(self):
        return [headers["X-Webhook-Topic"] for headers, _ in self.received]

    def bodies(self):
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def sb():
    sandbox = ThreePLSandbox(
        clock=Clock(EPOCH, frozen=True),
        channels=[DEFAULT_CHANNEL, {"id": 2002, "name": "wholesale"}],
    )
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        yield sandbox


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/3pl/webhook"
        yield app


def api(sb, method, path, *, token=True, channel=CHANNEL, headers=None, **kwargs):
    headers = dict(headers or {})
    if token:
        headers.setdefault("Authorization", f"Bearer {sb.token}")
    if channel is not None:
        headers.setdefault("shipbob_channel_id", str(channel))
    kwargs.setdefault("timeout", 10)
    return requests.request(method, sb.test_url + path, headers=headers, **kwargs)


def order_body(ref="SO-1/OUT-1", sku="SKU-A", qty=2, **extra):
    body = {
        "reference_id": ref,
        "order_number": "1001",
        "shipping_method": "Standard",
        "type": "DTC",
        "recipient": {
            "name": "Jane Doe",
            "address": {
                "address1": "100 N Racine Ave",
                "city": "Chicago",
                "state": "IL",
                "country": "US",
                "zip_code": "60607",
            },
            "email": "jane@example.com",
        },
        "products": [{"reference_id": sku, "name": sku, "quantity": qty}],
    }
    body.update(extra)
    return body


def create(sb, ref="SO-1/OUT-1", **kwargs):
    answer = api(sb, "POST", "/2026-07/order", json=order_body(ref, **kwargs))
    assert answer.status_code == 201, answer.text
    return answer.json()


def subscribe(sb, receiver, topics=None):
    answer = api(
        sb,
        "POST",
        "/2026-07/webhook",
        json={
            "topics": topics
            or [
                "order.shipped",
                "order.shipment.cancelled",
                "order.shipment.tracking.updated",
            ],
            "url": receiver.url,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


# ------------------------------------------------------------ auth, versions
def test_bearer_token_required(sb):
    assert api(sb, "GET", "/2026-07/channel", token=False).status_code == 401
    wrong = api(sb, "GET", "/2026-07/channel", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "No valid API key provided."
    ok = api(sb, "GET", "/2026-07/channel")
    assert ok.status_code == 200
    assert ok.json()["items"][0]["id"] == CHANNEL


def test_channels_are_a_page_of_items(sb):
    # https://developer.shipbob.com/2026-07/api/channels/get-channels
    answer = api(sb, "GET", "/2026-07/channel").json()
    assert set(answer) == {"items", "next", "prev"}
    ids = [c["id"] for c in answer["items"]]
    one = api(sb, "GET", "/2026-07/channel?RecordsPerPage=1").json()
    assert [c["id"] for c in one["items"]] == ids[:1]
    assert one["next"].startswith("/2026-07/channel?")  # a path, as documented
    rest = api(sb, "GET", one["next"]).json()
    assert [c["id"] for c in one["items"] + rest["items"]] == ids


def test_date_versioned_paths(sb):
    assert api(sb, "GET", "/2026-01/channel").status_code == 200
    assert api(sb, "GET", "/2024-01/channel").status_code == 404
    assert api(sb, "GET", "/channel").status_code == 404


def test_channel_header_required_to_create_and_must_be_known(sb):
    missing = api(sb, "POST", "/2026-07/order", channel=None, json=order_body())
    assert missing.status_code == 400
    assert "shipbob_channel_id" in missing.json()
    unknown = api(sb, "POST", "/2026-07/order", channel=999, json=order_body())
    assert unknown.status_code == 403
    assert sb.warehouse.orders == {}


# ------------------------------------------------------------------ orders
def test_create_and_get_order(sb):
    order = create(sb)
    assert order["status"] == "Processing"
    assert order["reference_id"] == "SO-1/OUT-1"
    assert order["products"][0]["reference_id"] == "SKU-A"
    assert order["shipments"][0]["status"] == "Processing"
    again = api(sb, "GET", f"/2026-07/order/{order['id']}").json()
    assert again == order


def test_invalid_order_is_refused_with_the_field(sb):
    body = order_body()
    del body["recipient"]["address"]["city"]
    answer = api(sb, "POST", "/2026-07/order", json=body)
    assert answer.status_code == 400
    assert "recipient.address" in answer.json()
    assert sb.warehouse.orders == {}


def test_duplicate_reference_id_is_422_and_creates_nothing(sb):
    first = create(sb)
    second = api(sb, "POST", "/2026-07/order", json=order_body())
    assert second.status_code == 422
    assert "same reference_id" in second.json()["message"]
    listed = api(sb, "GET", "/2026-07/order", params={"ReferenceIds": "SO-1/OUT-1"})
    assert [o["id"] for o in listed.json()] == [first["id"]]


def test_order_type_is_required_in_2026_07_without_default(sb):
    # https://developer.shipbob.com/2026-07/api/orders/create-order: type
    # (DTC, DropShip, B2B) is Required
    body = order_body()
    del body["type"]
    answer = api(sb, "POST", "/2026-07/order", json=body)
    assert answer.status_code == 400 and "type" in answer.json()
    wrong = api(sb, "POST", "/2026-07/order", json=order_body(type="Retail"))
    assert wrong.status_code == 400 and "type" in wrong.json()
    assert api(sb, "GET", "/2026-07/order").json() == []  # nothing created
    assert create(sb)["type"] == "DTC"


def test_b2b_order_without_retailer_data_is_422(sb):
    # "DropShip and B2B orders must also include retailer_program_data and
    # shipping_terms, or the create request fails validation with a 422"
    answer = api(sb, "POST", "/2026-07/order", json=order_body(type="B2B"))
    assert answer.status_code == 422
    assert "retailer_program_data" in answer.json()["message"]
    b2b = order_body(
        type="B2B",
        retailer_program_data={"purchase_order_number": "PO-7"},
        shipping_terms={"carrier_type": "Parcel", "payment_term": "Prepaid"},
    )
    created = api(sb, "POST", "/2026-07/order", json=b2b)
    assert created.status_code == 201 and created.json()["type"] == "B2B"


def test_reference_id_is_unique_per_channel(sb):
    create(sb)
    other = api(sb, "POST", "/2026-07/order", channel=2002, json=order_body())
    assert other.status_code == 201
    # each channel sees only its own order
    mine = api(sb, "GET", "/2026-07/order").json()
    assert [o["channel"]["id"] for o in mine] == [CHANNEL]


def test_pagination_by_next_page_header(sb):
    for n in range(5):
        create(sb, f"OUT-{n}")
    seen, path, pages = [], "/2026-07/order?Limit=2", 0
    while path:
        answer = api(sb, "GET", path)
        pages += 1
        seen += [o["reference_id"] for o in answer.json()]
        path = answer.headers.get("next-page")
    assert pages == 3
    assert seen == [f"OUT-{n}" for n in range(5)]


def test_cancel_open_order(sb):
    order = create(sb)
    answer = api(sb, "POST", f"/2026-07/order/{order['id']}:cancel")
    assert answer.status_code == 200
    result = answer.json()
    assert result["order"]["status"] == "Cancelled"
    assert result["canceled_shipment_results"][0]["is_success"] is True
    with pytest.raises(Exception, match="Cancelled"):
        sb.ship(order["id"])


def test_cancel_needs_channel_header(sb):
    order = create(sb)
    answer = api(sb, "POST", f"/2026-07/order/{order['id']}:cancel", channel=None)
    assert answer.status_code == 400
    assert sb.warehouse.orders[order["id"]]["status"] == "Processing"


def test_cancel_after_shipment_is_refused(sb):
    sb.stock("SKU-A", 10)
    order = create(sb)
    sb.ship(order["id"])
    answer = api(sb, "POST", f"/2026-07/order/{order['id']}:cancel")
    assert answer.status_code == 422
    assert "has shipped" in answer.json()["message"]
    assert sb.warehouse.orders[order["id"]]["status"] == "Fulfilled"


def test_ship_without_stock_is_a_clear_error(sb):
    order = create(sb)
    with pytest.raises(Exception, match="SKU-A: 0 on hand"):
        sb.ship(order["id"])
    assert sb.warehouse.orders[order["id"]]["status"] == "Processing"


def test_shipments_with_tracking(sb):
    sb.stock("SKU-A", 10)
    order = create(sb)
    sb.ship(order["id"], carrier="UPS", service="Ground")
    shipments = api(sb, "GET", f"/2026-07/order/{order['id']}/shipment").json()
    assert shipments[0]["status"] == "Completed"
    assert shipments[0]["tracking"]["carrier"] == "UPS"
    assert shipments[0]["tracking"]["tracking_number"]
    one = api(sb, "GET", f"/2026-07/order/{order['id']}/shipment/{shipments[0]['id']}")
    assert one.json() == shipments[0]


# -------------------------------------------------------------- inventory
def test_inventory_levels_on_hand_committed_fulfillable(sb):
    sb.stock("SKU-A", 10)
    order = create(sb, qty=3)
    item = api(sb, "GET", "/2026-07/inventory-level").json()["items"][0]
    assert item["sku"] == "SKU-A"
    assert item["total_on_hand_quantity"] == 10
    assert item["total_committed_quantity"] == 3
    assert item["total_fulfillable_quantity"] == 7
    grouped = api(sb, "GET", "/2026-07/inventory-level/locations").json()
    per_fc = grouped["items"][0]["locations"][0]
    assert per_fc["on_hand_quantity"] == 10 and per_fc["fulfillable_quantity"] == 7
    sb.ship(order["id"])
    item = api(sb, "GET", "/2026-07/inventory-level").json()["items"][0]
    assert item["total_on_hand_quantity"] == 7
    assert item["total_committed_quantity"] == 0


def test_inventory_levels_answer_is_the_documented_page_object(sb):
    # https://developer.shipbob.com/2026-07/api/inventory/get-all-inventory-levels
    sb.stock("SKU-A", 4)
    answer = api(sb, "GET", "/2026-07/inventory-level").json()
    assert set(answer) == {"first", "items", "last", "next", "prev"}
    assert answer["first"] is None and answer["prev"] is None
    assert answer["next"] is None and answer["last"] is None
    [item] = answer["items"]
    assert set(item) == {
        "inventory_id",
        "name",
        "sku",
        "total_awaiting_quantity",
        "total_backordered_quantity",
        "total_committed_quantity",
        "total_exception_quantity",
        "total_fulfillable_quantity",
        "total_internal_transfer_quantity",
        "total_on_hand_quantity",
        "total_sellable_quantity",
    }
    one = api(sb, "GET", f"/2026-07/inventory-level/{item['inventory_id']}")
    assert one.json() == item
    assert api(sb, "GET", "/2026-07/inventory-level/999999").status_code == 404


def test_inventory_levels_page_size_and_next_url_walk_every_item(sb):
    for n in range(5):
        sb.stock(f"SKU-{n}", n + 1)
    seen, url, pages = [], "/2026-07/inventory-level?PageSize=2", 0
    while url:
        answer = api(sb, "GET", url).json()
        assert len(answer["items"]) <= 2
        seen += [item["sku"] for item in answer["items"]]
        pages += 1
        nxt = answer["next"]
        url = nxt[nxt.index("/2026-07/") :] if nxt else None
    assert pages == 3
    assert seen == [f"SKU-{n}" for n in range(5)]  # each once, none lost
    first = api(sb, "GET", "/2026-07/inventory-level?PageSize=2").json()
    assert "Cursor=" in first["next"] and first["last"]
    assert api(sb, "GET", "/2026-07/inventory-level?PageSize=0").status_code == 400
    bad = api(sb, "GET", "/2026-07/inventory-level?Cursor=nonsense")
    assert bad.status_code == 400


# -------------------------------------------------------------- rate limit
def test_rate_limit_150_per_minute_sliding_window(sb):
    for _ in range(100):
        assert api(sb, "GET", "/2026-07/channel").status_code == 200
    sb.clock.advance(30)
    for _ in range(50):
        answer = api(sb, "GET", "/2026-07/channel")
        assert answer.status_code == 200
    assert answer.headers["x-remaining-calls"] == "0"
    limited = api(sb, "GET", "/2026-07/channel")
    assert limited.status_code == 429
    assert limited.headers["x-retry-after"] == "30"
    assert limited.headers["x-remaining-calls"] == "0"
    assert limited.json() == {
        "statusCode": 429,
        "message": "Rate limit is exceeded. Try again in 30 seconds.",
    }
    sb.clock.advance(29)
    assert api(sb, "GET", "/2026-07/channel").status_code == 429
    sb.clock.advance(1)  # the first 100 leave the window
    assert api(sb, "GET", "/2026-07/channel").status_code == 200


# ------------------------------------------------------------------ faults
def test_outage_window_answers_503_then_recovers(sb):
    sb.add_outage(EPOCH + 10, EPOCH + 70)
    assert api(sb, "GET", "/2026-07/channel").status_code == 200
    sb.clock.advance(10)
    assert api(sb, "GET", "/2026-07/channel").status_code == 503
    assert api(sb, "POST", "/2026-07/order", json=order_body()).status_code == 503
    assert sb.warehouse.orders == {}
    sb.clock.advance(60)
    assert api(sb, "GET", "/2026-07/channel").status_code == 200


def test_injected_5xx_and_throttle(sb):
    sb.inject_fault("status", status=502, path="/2026-07/order")
    assert api(sb, "POST", "/2026-07/order", json=order_body()).status_code == 502
    sb.inject_fault("throttle", seconds=7)
    throttled = api(sb, "GET", "/2026-07/channel")
    assert throttled.status_code == 429
    assert throttled.headers["x-retry-after"] == "7"
    assert api(sb, "POST", "/2026-07/order", json=order_body()).status_code == 201


def test_injected_timeout_still_creates_the_order(sb):
    # a slow server does the work: the client's retry must find the order
    sb.inject_fault("timeout", seconds=1.5, path="/2026-07/order")
    with pytest.raises(requests.Timeout):
        api(sb, "POST", "/2026-07/order", json=order_body(), timeout=0.5)
    deadline = time.monotonic() + 5
    while not sb.warehouse.orders and time.monotonic() < deadline:
        time.sleep(0.05)
    retry = api(sb, "POST", "/2026-07/order", json=order_body())
    assert retry.status_code == 422
    assert len(sb.warehouse.orders) == 1


# ---------------------------------------------------------------- webhooks
def test_subscriptions_create_list_delete(sb, receiver):
    created = subscribe(sb, receiver)
    assert created["secret"].startswith("whsec_")
    answer = api(sb, "GET", "/2026-07/webhook").json()
    assert set(answer) == {"items", "next", "prev"}  # get-subscriptions 2026-07
    listed = answer["items"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert isinstance(created["id"], str) and listed[0]["enabled"] is True
    assert "secret" not in listed[0]
    bad = api(
        sb,
        "POST",
        "/2026-07/webhook",
        json={"topics": ["order.nope"], "url": receiver.url},
    )
    assert bad.status_code == 400 and "topics" in bad.json()
    assert api(sb, "DELETE", f"/2026-07/webhook/{created['id']}").status_code == 204
    sb.stock("SKU-A", 5)
    sb.ship(create(sb)["id"])
    sb.flush_webhooks()
    assert receiver.received == []


def test_subscriptions_list_pages_with_records_per_page_and_cursor(sb, receiver):
    made = [subscribe(sb, receiver)["id"] for _ in range(3)]
    first = api(sb, "GET", "/2026-07/webhook?RecordsPerPage=2").json()
    assert len(first["items"]) == 2 and first["prev"] is None
    rest = api(sb, "GET", first["next"]).json()
    assert [s["id"] for s in first["items"] + rest["items"]] == made
    assert rest["next"] is None and rest["prev"]


def test_order_shipped_webhook_is_signed(sb, receiver):
    secret = subscribe(sb, receiver)["secret"]
    sb.stock("SKU-A", 5)
    order = create(sb)
    sb.ship(order["id"])
    sb.flush_webhooks()
    [(headers, body)] = receiver.received
    assert headers["X-Webhook-Topic"] == "order.shipped"
    assert headers["Webhook-Id"].startswith("msg_")
    assert headers["Webhook-Timestamp"] == str(EPOCH)
    assert headers["Webhook-Signature"].startswith("v1,")
    # computed here from the Standard Webhooks spec, not with the sandbox's code
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    assert headers["Webhook-Signature"].split() == ["v1," + expected.decode()]
    assert verify(secret, headers, body, now=EPOCH)
    assert not verify(secret, headers, body + b" ", now=EPOCH)
    assert not verify(secret, headers, body, now=EPOCH + 3600)  # replayed late
    payload = json.loads(body)
    assert payload["reference_id"] == "SO-1/OUT-1"
    assert payload["status"] == "Completed"
    assert payload["tracking"]["tracking_number"]


def test_partial_shipment_ships_some_and_cancels_the_rest(sb, receiver):
    subscribe(sb, receiver)
    sb.stock("SKU-A", 5)
    sb.stock("SKU-B", 5)
    body = order_body()
    body["products"].append({"reference_id": "SKU-B", "name": "B", "quantity": 4})
    order = api(sb, "POST", "/2026-07/order", json=body).json()
    sb.ship(order["id"], {"SKU-A": 2, "SKU-B": 1}, reason="damaged")
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipped", "order.shipment.cancelled"]
    shipped, short = receiver.bodies()
    assert {
        p["sku"]: p["inventory_items"][0]["quantity"] for p in shipped["products"]
    } == {
        "SKU-A": 2,
        "SKU-B": 1,
    }
    assert {
        p["sku"]: p["inventory_items"][0]["quantity"] for p in short["products"]
    } == {"SKU-B": 3}
    assert short["status_details"][0]["description"] == "damaged"
    again = api(sb, "GET", f"/2026-07/order/{order['id']}").json()
    assert again["status"] == "PartiallyFulfilled"


def test_not_shipped_at_all(sb, receiver):
    subscribe(sb, receiver)
    order = create(sb)
    sb.refuse(order["id"], reason="address_invalid")
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipment.cancelled"]
    assert receiver.bodies()[0]["status_details"][0]["description"] == "address_invalid"
    assert (
        api(sb, "GET", f"/2026-07/order/{order['id']}").json()["status"] == "Cancelled"
    )


def test_failed_delivery_is_retried_on_the_clock_with_the_same_id(sb, receiver):
    secret = subscribe(sb, receiver)["secret"]
    sb.stock("SKU-A", 5)
    sb.ship(create(sb)["id"])
    receiver.statuses = [500]
    sb.flush_webhooks()
    sb.flush_webhooks()  # not due yet
    assert len(receiver.received) == 1
    sb.clock.advance(5)
    sb.flush_webhooks()
    assert len(receiver.received) == 2
    (first, _), (second, body) = receiver.received
    assert first["Webhook-Id"] == second["Webhook-Id"]
    assert second["Webhook-Timestamp"] == str(EPOCH + 5)
    assert verify(secret, second, body, now=EPOCH + 5)
    assert sb.hub.queue == []


def test_gives_up_after_24_hours_of_retries(sb, receiver):
    subscribe(sb, receiver)
    sb.stock("SKU-A", 5)
    sb.ship(create(sb)["id"])
    receiver.statuses = [500] * 20
    sb.flush_webhooks()
    while sb.hub.queue:
        sb.clock.set(sb.hub.queue[0]["due"])
        sb.flush_webhooks()
    # immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h later; the next
    # 10 h would end past 24 hours after the first attempt
    offsets = [a.time - EPOCH for a in sb.hub.attempts]
    assert offsets == [0, 5, 305, 2105, 9305, 27305, 63305]
    assert len(receiver.received) == 7
    assert len(sb.hub.failed) == 1


def test_duplicate_and_reordered_delivery(sb, receiver):
    subscribe(sb, receiver)
    sb.stock("SKU-A", 5)
    order = create(sb)
    fact = sb.ship(order["id"])
    sb.track(fact["shipment"]["id"], "InTransit")
    sb.flush_webhooks(order="reverse", duplicate_every=1)
    assert receiver.topics() == [
        "order.shipment.tracking.updated",
        "order.shipment.tracking.updated",
        "order.shipped",
        "order.shipped",
    ]
    ids = [headers["Webhook-Id"] for headers, _ in receiver.received]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


def test_sync_mode_delivers_after_the_admin_action(sb, receiver):
    subscribe(sb, receiver)
    sb.webhook_mode = "sync"
    sb.stock("SKU-A", 5)
    order = create(sb)
    answer = requests.post(
        sb.test_url + "/__sandbox__/ship",
        json={"order": order["reference_id"]},
        timeout=10,
    )
    assert answer.json()["status"] == "Fulfilled"
    assert receiver.topics() == ["order.shipped"]


def test_registered_for_python_m_sandboxes():
    assert "threepl" in available()
