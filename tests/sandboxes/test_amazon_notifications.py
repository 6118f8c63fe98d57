"""SP-API sandbox: ORDER_CHANGE notifications (envelopes validated against
``OrderChangeNotification.json``), duplicates, delivery, the Notifications
API v1, and a chaos test of faults and expiring tokens (see
``test_amazon.py``)."""
# ruff: noqa: F811 (the ``sb`` fixture is imported)

import json

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandboxes.amazon import contract
from sandboxes.test_amazon import (  # noqa: F401
    DE,
    GB,
    HAVE_CONTRACT,
    call,
    needs_contract,
    sb,
    seed,
    token,
)
from sandboxes.test_amazon_settlement import ship_all
from sandboxes.toolkit import SandboxServer


def queued(sb):
    return requests.get(sb.test_url + "/__sandbox__/notifications").json()[
        "notifications"
    ]


def check_envelopes(envelopes):
    if HAVE_CONTRACT:
        for envelope in envelopes:
            assert (
                contract.schema_problems("OrderChangeNotification.json", envelope) == []
            )


def subscribe(sb, event_filter=None, seller=None):
    """The connector's setup: a destination (grantless) and the seller's
    ORDER_CHANGE subscription; returns the subscription."""
    app = grantless(sb)
    destination = call(
        sb,
        "POST",
        "/notifications/v1/destinations",
        app,
        model=NOTIFICATIONS,
        json={"name": "rc", "resourceSpecification": {"sqs": {"arn": SQS}}},
    ).json()["payload"]
    body = {"payloadVersion": "1.0", "destinationId": destination["destinationId"]}
    if event_filter is not None:
        body["processingDirective"] = {"eventFilter": event_filter}
    answer = call(
        sb,
        "POST",
        "/notifications/v1/subscriptions/ORDER_CHANGE",
        seller or token(sb),
        model=NOTIFICATIONS,
        json=body,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["payload"]


def test_nothing_is_sent_without_a_subscription(sb):
    # https://developer-docs.amazon.com/sp-api/docs/subscribe-to-mfn-notifications:
    # notifications reach an application "to which you are subscribed"
    order = seed(sb, DE)
    ship_all(sb, order)
    assert queued(sb) == []
    forced = requests.post(
        sb.test_url + "/__sandbox__/notifications", json={"order_id": order["orderId"]}
    ).json()
    assert forced["sent"] is False and queued(sb) == []


def test_event_filter_order_change_types_and_marketplaces(sb):
    # notifications.json EventFilter: orderChangeTypes / marketplaceIds
    sub = subscribe(
        sb,
        {
            "eventFilterType": "ORDER_CHANGE",
            "orderChangeTypes": ["BuyerRequestedChange"],
            "marketplaceIds": [GB],
        },
    )
    de_order = seed(sb, DE)
    gb_order = seed(sb, GB)
    ship_all(sb, gb_order)
    assert queued(sb) == []  # status changes are filtered out
    for order in (de_order, gb_order):
        requests.post(
            f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/cancel_request"
        )
    [envelope] = queued(sb)
    payload = envelope["Payload"]["OrderChangeNotification"]
    assert payload["AmazonOrderId"] == gb_order["orderId"]
    assert payload["OrderChangeType"] == "BuyerRequestedChange"
    assert envelope["NotificationMetadata"]["SubscriptionId"] == sub["subscriptionId"]


def test_event_filter_is_validated(sb):
    seller = token(sb)
    for bad in (
        {"eventFilter": {"orderChangeTypes": ["OrderStatusChange"]}},  # no type
        {"eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED"}},
        {
            "eventFilter": {
                "eventFilterType": "ORDER_CHANGE",
                "orderChangeTypes": ["Everything"],
            }
        },
        {
            "eventFilter": {"eventFilterType": "ORDER_CHANGE"},
            "filterExpression": "true",
        },
    ):
        app = grantless(sb)
        destination = call(
            sb,
            "POST",
            "/notifications/v1/destinations",
            app,
            model=NOTIFICATIONS,
            json={"name": "rc", "resourceSpecification": {"sqs": {"arn": SQS}}},
        ).json()["payload"]
        answer = call(
            sb,
            "POST",
            "/notifications/v1/subscriptions/ORDER_CHANGE",
            seller,
            model=NOTIFICATIONS,
            json={
                "payloadVersion": "1.0",
                "destinationId": destination["destinationId"],
                "processingDirective": bad,
            },
        )
        assert answer.status_code == 400, bad
    # nothing was subscribed: no notification
    seed(sb, DE)
    assert queued(sb) == []


def test_each_status_change_is_an_order_change_notification(sb):
    subscribe(sb)
    order = seed(sb, DE, pending_seconds=600)
    sb.clock.advance(600)
    access = token(sb)
    call(sb, "GET", f"/orders/2026-01-01/orders/{order['orderId']}", access)
    ship_all(sb, order)
    envelopes = queued(sb)
    check_envelopes(envelopes)
    summaries = [e["Payload"]["OrderChangeNotification"] for e in envelopes]
    assert [s["Summary"]["OrderStatus"] for s in summaries] == [
        "Pending",
        "Unshipped",
        "Shipped",
    ]
    assert {s["OrderChangeType"] for s in summaries} == {"OrderStatusChange"}
    assert summaries[1]["OrderChangeTrigger"]["TimeOfOrderChange"] == (
        "2026-10-26T07:43:20.000Z"
    )
    assert summaries[2]["Summary"]["NumberOfItemsShipped"] == 2
    assert summaries[0]["Summary"]["FulfillmentType"] == "MFN"
    ids = {e["NotificationMetadata"]["NotificationId"] for e in envelopes}
    assert len(ids) == 3


def test_admin_publishes_duplicates_and_buyer_cancel_requests(sb):
    subscribe(sb)
    order = seed(sb, GB, fulfilled_by="AMAZON")
    requests.delete(sb.test_url + "/__sandbox__/notifications")
    made = requests.post(
        sb.test_url + "/__sandbox__/notifications",
        json={"order_id": order["orderId"], "duplicates": 2},
    ).json()
    cancel = requests.post(
        f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/cancel_request"
    ).json()
    envelopes = queued(sb)
    check_envelopes(envelopes)
    assert [e["NotificationMetadata"]["NotificationId"] for e in envelopes] == [
        made["NotificationMetadata"]["NotificationId"]
    ] * 3 + [cancel["NotificationMetadata"]["NotificationId"]]
    payload = cancel["Payload"]["OrderChangeNotification"]
    assert payload["OrderChangeType"] == "BuyerRequestedChange"
    assert payload["Summary"]["OrderItems"][0]["IsBuyerRequestedCancel"] is True
    assert payload["Summary"]["FulfillmentType"] == "AFN"
    taken = requests.post(
        sb.test_url + "/__sandbox__/notifications/receive", json={"max": 3}
    ).json()["notifications"]
    assert len(taken) == 3 and len(queued(sb)) == 1


class Receiver:
    def __init__(self):
        self.bodies = []

    def __call__(self, environ, start_response):
        self.bodies.append(json.loads(Request(environ).get_data()))
        return Response("ok")(environ, start_response)


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/amazon/notifications"
        yield app


def test_flush_posts_bodies_with_duplicates(sb, receiver):
    subscribe(sb)
    seed(sb, DE)
    seed(sb, DE)
    answer = requests.post(
        sb.test_url + "/__sandbox__/notifications/flush",
        json={"url": receiver.url, "duplicate_every": 1},
    ).json()
    assert [d["status"] for d in answer["delivered"]] == [200] * 4
    ids = [b["NotificationMetadata"]["NotificationId"] for b in receiver.bodies]
    assert len(ids) == 4 and len(set(ids)) == 2
    check_envelopes(receiver.bodies)
    assert queued(sb) == []


# ------------------------------------------------------ Notifications API
NOTIFICATIONS = "notifications.json"
SQS = "arn:aws:sqs:eu-west-1:123456789012:retail-connect"


def grantless(sb, scope="sellingpartnerapi::notifications"):
    answer = requests.post(
        sb.test_url + "/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )
    return answer.json()["access_token"]


def test_destination_and_subscription_then_envelopes_carry_it(sb):
    app = grantless(sb)
    seller = token(sb)
    created = call(
        sb,
        "POST",
        "/notifications/v1/destinations",
        app,
        model=NOTIFICATIONS,
        json={"name": "rc", "resourceSpecification": {"sqs": {"arn": SQS}}},
    )
    assert created.status_code == 200
    destination = created.json()["payload"]
    assert destination["resource"] == {"sqs": {"arn": SQS}}
    # destinations need the grantless token, subscriptions the seller's
    assert (
        call(
            sb,
            "POST",
            "/notifications/v1/destinations",
            seller,
            model=NOTIFICATIONS,
            json={"name": "x", "resourceSpecification": {"sqs": {"arn": SQS}}},
        ).status_code
        == 403
    )
    other_scope = grantless(sb, "sellingpartnerapi::client_credential:rotation")
    assert (
        call(
            sb,
            "GET",
            "/notifications/v1/destinations",
            other_scope,
            model=NOTIFICATIONS,
        ).status_code
        == 403
    )
    listed = call(sb, "GET", "/notifications/v1/destinations", app, model=NOTIFICATIONS)
    assert listed.json()["payload"] == [destination]
    body = {"payloadVersion": "1.0", "destinationId": destination["destinationId"]}
    path = "/notifications/v1/subscriptions/ORDER_CHANGE"
    assert (
        call(sb, "POST", path, app, model=NOTIFICATIONS, json=body).status_code == 403
    )
    subscription = call(sb, "POST", path, seller, model=NOTIFICATIONS, json=body)
    assert subscription.status_code == 200
    sub_id = subscription.json()["payload"]["subscriptionId"]
    again = call(sb, "POST", path, seller, model=NOTIFICATIONS, json=body)
    assert again.status_code == 409
    assert (
        call(sb, "GET", path, seller, model=NOTIFICATIONS).json()["payload"][
            "subscriptionId"
        ]
        == sub_id
    )
    by_id = call(sb, "GET", f"{path}/{sub_id}", app, model=NOTIFICATIONS)
    assert by_id.json()["payload"]["destinationId"] == destination["destinationId"]
    seed(sb, DE)
    envelope = queued(sb)[-1]
    assert envelope["NotificationMetadata"]["SubscriptionId"] == sub_id
    in_use = call(
        sb,
        "DELETE",
        f"/notifications/v1/destinations/{destination['destinationId']}",
        app,
        model=NOTIFICATIONS,
    )
    assert in_use.status_code == 409
    assert (
        call(sb, "DELETE", f"{path}/{sub_id}", app, model=NOTIFICATIONS).status_code
        == 200
    )
    assert call(sb, "GET", path, seller, model=NOTIFICATIONS).status_code == 404


# ------------------------------------------------------------------ chaos
def test_chaos_faults_timeouts_and_expiring_tokens(sb):
    access = token(sb)
    seed(sb, DE)
    sb.clock.advance(300)
    sb.inject_fault("status", status=500, operation="searchOrders")
    sb.inject_fault("timeout", seconds=0.2, operation="searchOrders")
    sb.inject_fault("status", status=503, operation="lwaToken")
    params = {"lastUpdatedAfter": "2026-10-26T00:00:00Z"}
    first = call(sb, "GET", "/orders/2026-01-01/orders", access, params=params)
    assert first.status_code == 500
    assert first.json()["errors"][0]["code"] == "InternalFailure"
    slow = call(sb, "GET", "/orders/2026-01-01/orders", access, params=params)
    assert slow.status_code == 200 and len(slow.json()["orders"]) == 1
    requests.post(sb.test_url + "/__sandbox__/lwa/expire")
    assert (
        call(sb, "GET", "/orders/2026-01-01/orders", access, params=params).status_code
        == 403
    )
    down = requests.post(
        sb.test_url + "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "Atzr|sandbox-refresh-token-eu",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
        },
    )
    assert down.status_code == 503
    assert (
        call(
            sb, "GET", "/orders/2026-01-01/orders", token(sb), params=params
        ).status_code
        == 200
    )
