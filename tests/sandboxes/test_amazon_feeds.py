"""SP-API sandbox: Feeds 2021-06-30 (``JSON_LISTINGS_FEED`` through a
pre-signed document on the document host, processing on the clock, the
processing report); answers checked against ``feeds_2021-06-30.json`` and
the listings feed schemas (see ``test_amazon.py``)."""
# ruff: noqa: F811 (the ``sb`` fixture is imported)

import gzip
import json

import requests

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
