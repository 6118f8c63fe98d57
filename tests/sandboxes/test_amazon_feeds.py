"""SP-API sandbox: Feeds (``JSON_LISTINGS_FEED`` through a pre-signed
document), settlement reports (Reports API, GZIP TSV) and ORDER_CHANGE
notifications; answers checked against ``feeds_2021-06-30.json``,
``reports_2021-06-30.json``, the listings feed schemas and
``OrderChangeNotification.json`` (see ``test_amazon.py``)."""
# ruff: noqa: F811 (the ``sb`` fixture is imported)

import csv
import gzip
import io
import json
from decimal import Decimal

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandboxes.amazon import contract
from sandboxes.amazon.settlement import COLUMNS
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
from sandboxes.toolkit import SandboxServer

FEEDS = "feeds_2021-06-30.json"
REPORTS = "reports_2021-06-30.json"
SELLER = "A1SANDBOXSELLEREU"
JSON_TYPE = "application/json; charset=UTF-8"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


def listing(sb, sku, **kwargs):
    requests.post(sb.test_url + "/__sandbox__/listings", json={"sku": sku, **kwargs})


def view(sb, sku):
    return requests.get(f"{sb.test_url}/__sandbox__/listings/{SELLER}/{sku}").json()


def message(n, sku, quantity, product_type="PRODUCT"):
    return {
        "messageId": n,
        "sku": sku,
        "operationType": "PATCH",
        "productType": product_type,
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [
                    {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
                ],
            }
        ],
    }


def feed_body(messages, seller=SELLER):
    return {"header": {"sellerId": seller, "version": "2.0"}, "messages": messages}


def upload(sb, access, content, content_type=JSON_TYPE):
    answer = call(
        sb,
        "POST",
        "/feeds/2021-06-30/documents",
        access,
        model=FEEDS,
        json={"contentType": content_type},
    )
    assert answer.status_code == 201
    document = answer.json()
    assert document["url"].startswith("http://127.0.0.1:")
    assert not document["url"].startswith(sb.test_url + "/")  # another host
    put = requests.put(
        document["url"],
        data=content,
        headers={"Content-Type": content_type},
        timeout=10,
    )
    return document, put


def submit(sb, access, document_id, marketplaces=(DE,), feed_type="JSON_LISTINGS_FEED"):
    return call(
        sb,
        "POST",
        "/feeds/2021-06-30/feeds",
        access,
        model=FEEDS,
        json={
            "feedType": feed_type,
            "marketplaceIds": list(marketplaces),
            "inputFeedDocumentId": document_id,
        },
    )


def get_feed(sb, access, feed_id):
    return call(sb, "GET", f"/feeds/2021-06-30/feeds/{feed_id}", access, model=FEEDS)


def report_of(sb, access, document_id):
    answer = call(
        sb, "GET", f"/feeds/2021-06-30/documents/{document_id}", access, model=FEEDS
    ).json()
    assert answer["compressionAlgorithm"] == "GZIP"
    raw = requests.get(answer["url"], timeout=10).content
    return json.loads(gzip.decompress(raw))


# ------------------------------------------------------------------ feeds
def test_listings_feed_end_to_end_on_the_clock(sb):
    listing(sb, "A", quantity={DE: 1})
    listing(sb, "B", quantity={DE: 1}, product_type="SHOES")
    access = token(sb)
    content = json.dumps(
        feed_body(
            [
                message(1, "A", 10),
                message(2, "B", 20, product_type="PRODUCT"),  # not the listing's type
                message(3, "C", 30, product_type="NOPE"),
                {"messageId": 4, "sku": "D", "operationType": "PATCH"},
            ]
        )
    )
    document, put = upload(sb, access, content)
    assert put.status_code == 200
    feed_id = submit(sb, access, document["feedDocumentId"]).json()["feedId"]
    assert get_feed(sb, access, feed_id).json()["processingStatus"] == "IN_QUEUE"
    assert view(sb, "A")["quantity"] == {DE: 1}
    sb.clock.advance(30)
    feed = get_feed(sb, access, feed_id).json()
    assert feed["processingStatus"] == "IN_PROGRESS"
    assert "processingStartTime" in feed and "resultFeedDocumentId" not in feed
    sb.clock.advance(60)
    feed = get_feed(sb, access, feed_id).json()
    assert feed["processingStatus"] == "DONE"
    assert feed["processingEndTime"] and feed["marketplaceIds"] == [DE]
    assert view(sb, "A")["quantity"] == {DE: 10}
    assert view(sb, "B")["quantity"] == {DE: 1}
    report = report_of(sb, access, feed["resultFeedDocumentId"])
    if HAVE_CONTRACT:
        assert (
            contract.schema_problems(
                "listings-feed-processing-report-schema-v2.json", report
            )
            == []
        )
    assert report["header"] == {"sellerId": SELLER, "version": "2.0", "feedId": feed_id}
    assert report["summary"] == {
        "errors": 3,
        "warnings": 0,
        "messagesProcessed": 4,
        "messagesAccepted": 1,
        "messagesInvalid": 3,
    }
    by_message = {(i["messageId"], i["sku"], i["code"]) for i in report["issues"]}
    assert by_message == {(2, "B", "8101"), (3, "C", "4000003"), (4, "D", "4000001")}


@needs_contract
def test_the_official_example_feed_is_accepted(sb):
    example = json.loads(
        (contract.contract_dir() / "listings-feed-schema-v2.example.json").read_text()
    )
    assert contract.schema_problems("listings-feed-schema-v2.json", example) == []
    example["header"]["sellerId"] = SELLER
    access = token(sb)
    document, _ = upload(sb, access, json.dumps(example))
    feed_id = submit(sb, access, document["feedDocumentId"]).json()["feedId"]
    sb.clock.advance(90)
    access = token(sb)
    feed = get_feed(sb, access, feed_id).json()
    assert feed["processingStatus"] == "DONE"
    report = report_of(sb, access, feed["resultFeedDocumentId"])
    assert report["summary"]["messagesInvalid"] == 0, report
    assert report["summary"]["messagesProcessed"] == len(example["messages"])
    assert view(sb, "My-SKU-B")["quantity"] == {DE: 10}  # PARTIAL_UPDATE
    assert view(sb, "My-SKU-D")["quantity"] == {DE: 10}  # PATCH replace
    assert view(sb, "My-SKU-E")["quantity"] == {DE: 10}  # PATCH merge
    assert view(sb, "My-SKU-C")["quantity"] == {}  # AMAZON_NA: FBA's count


def test_feed_document_that_cannot_be_read_is_fatal(sb):
    access = token(sb)
    broken, _ = upload(sb, access, "{not json")
    missing = call(
        sb,
        "POST",
        "/feeds/2021-06-30/documents",
        access,
        model=FEEDS,
        json={"contentType": JSON_TYPE},
    ).json()
    foreign, _ = upload(
        sb, access, json.dumps(feed_body([message(1, "A", 1)], "OTHER"))
    )
    ids = [
        submit(sb, access, doc["feedDocumentId"]).json()["feedId"]
        for doc in (broken, missing, foreign)
    ]
    sb.clock.advance(90)
    for feed_id in ids:
        feed = get_feed(sb, access, feed_id).json()
        assert feed["processingStatus"] == "FATAL"
        report = report_of(sb, access, feed["resultFeedDocumentId"])
        assert (
            report["summary"]["errors"] == 1 and "messageId" not in report["issues"][0]
        )


def test_presigned_url_rules(sb):
    access = token(sb)
    document, put = upload(sb, access, "{}", content_type=JSON_TYPE)
    wrong_type = requests.put(
        document["url"], data="{}", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert wrong_type.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in wrong_type.text
    tampered = requests.put(
        document["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0"),
        data="{}",
        headers={"Content-Type": JSON_TYPE},
        timeout=10,
    )
    assert tampered.status_code == 403
    as_get = requests.get(document["url"], timeout=10)
    assert as_get.status_code == 403  # the URL signs a PUT
    sb.clock.advance(301)  # "This URL expires after 5 minutes"
    late = requests.put(
        document["url"], data="{}", headers={"Content-Type": JSON_TYPE}, timeout=10
    )
    assert late.status_code == 403
    assert "Request has expired" in late.text


def test_create_feed_errors(sb):
    access = token(sb)
    document, _ = upload(sb, access, json.dumps(feed_body([message(1, "A", 1)])))
    doc_id = document["feedDocumentId"]
    removed = submit(sb, access, doc_id, feed_type="POST_INVENTORY_AVAILABILITY_DATA")
    assert removed.status_code == 400
    assert "no longer supported" in removed.json()["errors"][0]["message"]
    assert submit(sb, access, doc_id, feed_type="MADE_UP").status_code == 400
    assert (
        submit(sb, access, doc_id, marketplaces=("ATVPDKIKX0DER",)).status_code == 400
    )
    assert submit(sb, access, "amzn1.tortuga.4.eu.nope").status_code == 400
    other = token(sb, "Atzr|sandbox-refresh-token-na")
    assert submit(sb, other, doc_id, marketplaces=("ATVPDKIKX0DER",)).status_code == 400
    assert get_feed(sb, other, "1").status_code == 404


def test_create_feed_rate_is_documented_burst_15(sb):
    access = token(sb)
    document, _ = upload(sb, access, json.dumps(feed_body([message(1, "A", 1)])))
    for _ in range(15):
        assert submit(sb, access, document["feedDocumentId"]).status_code == 202
    throttled = submit(sb, access, document["feedDocumentId"])
    assert throttled.status_code == 429
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    sb.clock.advance(121)  # 0.0083 per second: one every 120.5 s
    access = token(sb)
    assert submit(sb, access, document["feedDocumentId"]).status_code == 202


# ------------------------------------------------------------ settlements
def ship_all(sb, order):
    body = {
        "marketplaceId": order["salesChannel"]["marketplaceId"],
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "T1",
            "shipDate": "2026-10-26T08:00:00Z",
            "orderItems": [
                {"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]}
                for i in order["orderItems"]
            ],
        },
    }
    answer = requests.post(
        f"{sb.test_url}/orders/v0/orders/{order['orderId']}/shipmentConfirmation",
        json=body,
        headers={"x-amz-access-token": token(sb)},
        timeout=10,
    )
    assert answer.status_code == 204


def settlement_rows(sb, access, report):
    document = call(
        sb,
        "GET",
        f"/reports/2021-06-30/documents/{report['reportDocumentId']}",
        access,
        model=REPORTS,
    ).json()
    assert document["compressionAlgorithm"] == "GZIP"
    text = gzip.decompress(requests.get(document["url"], timeout=10).content).decode()
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def reports(sb, access, **params):
    params.setdefault("reportTypes", SETTLEMENT)
    return call(
        sb, "GET", "/reports/2021-06-30/reports", access, model=REPORTS, params=params
    )


def test_settlement_report_on_its_schedule_adds_up(sb):
    mfn = seed(
        sb,
        DE,
        items=[
            {
                "sku": "A",
                "quantity": 2,
                "price": "10.00",
                "tax": "1.90",
                "shipping": "3.00",
            },
            {
                "sku": "B",
                "quantity": 1,
                "price": "5.55",
                "tax": "1.05",
                "promotion": "0.55",
            },
        ],
    )
    ship_all(sb, mfn)
    fba = seed(
        sb,
        DE,
        fulfilled_by="AMAZON",
        ship_after=3600,
        items=[{"sku": "F", "quantity": 3, "price": "7.00", "tax": "1.33"}],
    )
    seed(sb, DE, items=[{"sku": "U", "quantity": 1, "price": "99.00"}])  # not shipped
    access = token(sb)
    assert reports(sb, access).json() == {"reports": []}
    sb.clock.advance(14 * 86400)
    access = token(sb)
    found = reports(sb, access, processingStatuses="DONE").json()["reports"]
    assert len(found) == 1
    report = found[0]
    assert report["reportType"] == SETTLEMENT and report["marketplaceIds"] == [DE]
    assert (
        call(
            sb,
            "GET",
            f"/reports/2021-06-30/reports/{report['reportId']}",
            access,
            model=REPORTS,
        ).json()
        == report
    )
    rows = settlement_rows(sb, access, report)
    head, lines = rows[0], rows[1:]
    assert head["currency"] == "EUR" and head["settlement-start-date"]
    assert head["amount"] == "" and head["deposit-date"]
    total = sum(Decimal(row["amount"]) for row in lines)
    assert Decimal(head["total-amount"]) == total
    amounts = {}
    for row in lines:
        key = (
            row["order-id"],
            row["sku"],
            row["amount-type"],
            row["amount-description"],
        )
        amounts[key] = Decimal(row["amount"])
        assert row["settlement-id"] == head["settlement-id"]
    m, f = mfn["orderId"], fba["orderId"]
    assert amounts[(m, "A", "ItemPrice", "Principal")] == Decimal("20.00")
    assert amounts[(m, "A", "ItemPrice", "Tax")] == Decimal("3.80")
    assert amounts[(m, "A", "ItemPrice", "Shipping")] == Decimal("3.00")
    assert amounts[(m, "A", "ItemFees", "Commission")] == Decimal("-3.45")
    assert amounts[(m, "B", "Promotion", "Principal")] == Decimal("-0.55")
    assert amounts[(f, "F", "ItemFees", "FBAPerUnitFulfillmentFee")] == Decimal("-9.00")
    assert ("", "", "other-transaction", "Current Reserve Amount") in amounts
    fulfilment = {
        row["order-id"]: row["fulfillment-id"] for row in lines if row["order-id"]
    }
    assert fulfilment == {m: "MFN", f: "AFN"}
    settled = requests.get(sb.test_url + "/__sandbox__/settlements").json()[
        "settlements"
    ]
    assert [s["total"] for s in settled] == [head["total-amount"]]


def test_next_settlement_has_refunds_and_releases_the_reserve(sb):
    order = seed(
        sb, GB, items=[{"sku": "A", "quantity": 2, "price": "50.00", "tax": "10.00"}]
    )
    ship_all(sb, order)
    first = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()["settlement"]
    assert first["currency"] == "GBP"
    item = order["orderItems"][0]["orderItemId"]
    refund = requests.post(
        f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/refund",
        json={"items": [{"orderItemId": item, "quantity": 1}]},
    )
    assert refund.status_code == 200
    too_much = requests.post(
        f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/refund",
        json={"items": [{"orderItemId": item, "quantity": 2}]},
    )
    assert too_much.status_code == 400
    second = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()["settlement"]
    access = token(sb)
    found = reports(sb, access).json()["reports"]
    assert [r["reportId"] for r in found] == [second["report_id"], first["report_id"]]
    lines = settlement_rows(sb, access, found[0])[1:]
    amounts = {
        (r["transaction-type"], r["amount-type"], r["amount-description"]): Decimal(
            r["amount"]
        )
        for r in lines
    }
    assert amounts[("Refund", "ItemPrice", "Principal")] == Decimal("-50.00")
    assert amounts[("Refund", "ItemPrice", "Tax")] == Decimal("-10.00")
    assert amounts[("Refund", "ItemFees", "Commission")] == Decimal("7.50")
    assert amounts[("Refund", "ItemFees", "RefundCommission")] == Decimal("-1.50")
    released = amounts[
        ("other-transaction", "other-transaction", "Previous Reserve Amount Balance")
    ]
    assert released > 0
    assert Decimal(second["total"]) == sum(Decimal(r["amount"]) for r in lines)
    # nothing new: no third report
    third = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()
    assert third == {"settlement": None}


def test_get_reports_paging_and_parameters(sb):
    for _ in range(3):
        order = seed(sb, DE)
        ship_all(sb, order)
        requests.post(
            sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE}
        )
    access = token(sb)
    first = reports(sb, access, pageSize="2").json()
    mixed = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": first["nextToken"], "pageSize": "2"},
    )
    assert mixed.status_code == 400  # nextToken must be the only parameter
    page = reports(sb, access, pageSize="2").json()
    assert len(page["reports"]) == 2
    rest = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": page["nextToken"]},
    ).json()
    assert len(rest["reports"]) == 1 and "nextToken" not in rest
    mixed = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": "x", "pageSize": "2"},
    )
    assert mixed.status_code == 400
    assert (
        call(
            sb, "GET", "/reports/2021-06-30/reports", access, model=REPORTS
        ).status_code
        == 400
    )
    assert reports(sb, access, pageSize="101").status_code == 400
    assert reports(sb, token(sb, "Atzr|sandbox-refresh-token-na")).json() == {
        "reports": []
    }


def test_report_document_of_another_seller_is_not_found(sb):
    order = seed(sb, DE)
    ship_all(sb, order)
    requests.post(sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE})
    report = reports(sb, token(sb)).json()["reports"][0]
    other = token(sb, "Atzr|sandbox-refresh-token-na")
    path = f"/reports/2021-06-30/documents/{report['reportDocumentId']}"
    assert call(sb, "GET", path, other, model=REPORTS).status_code == 404


def test_get_report_document_rate(sb):
    order = seed(sb, DE)
    ship_all(sb, order)
    requests.post(sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE})
    access = token(sb)
    report = reports(sb, access).json()["reports"][0]
    path = f"/reports/2021-06-30/documents/{report['reportDocumentId']}"
    for _ in range(15):
        answer = call(sb, "GET", path, access, model=REPORTS)
        assert answer.status_code == 200
        assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert call(sb, "GET", path, access, model=REPORTS).status_code == 429


# ---------------------------------------------------------- notifications
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


def test_each_status_change_is_an_order_change_notification(sb):
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
