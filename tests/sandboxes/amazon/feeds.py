"""Feeds API 2021-06-30 with ``JSON_LISTINGS_FEED``.

From ``feeds_2021-06-30.json`` and
https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide:

1. ``POST /feeds/2021-06-30/documents`` {``contentType``} -> 201
   {``feedDocumentId``, ``url``}: a pre-signed PUT URL on the document host
   (``storage.py``), 5 minutes;
2. PUT the feed contents there with that content type;
3. ``POST /feeds/2021-06-30/feeds`` {``feedType``, ``marketplaceIds``,
   ``inputFeedDocumentId``} -> 202 {``feedId``};
4. ``GET /feeds/2021-06-30/feeds/{feedId}``: ``processingStatus`` goes
   ``IN_QUEUE`` -> ``IN_PROGRESS`` -> ``DONE`` (or ``FATAL`` when the
   document cannot be processed at all), with ``processingStartTime``,
   ``processingEndTime`` and, when done, ``resultFeedDocumentId``; here on
   the sandbox clock (``feed_queue_seconds``, ``feed_processing_seconds``);
5. ``GET /feeds/2021-06-30/documents/{id}`` -> {``feedDocumentId``, ``url``,
   ``compressionAlgorithm``}: the processing report, GZIP-compressed ("If the
   feed document contents have been compressed, the compression algorithm
   used is returned", ``FeedDocument``).

The feed document follows ``listings-feed-schema-v2.json`` ({``header``:
{``sellerId``, ``version``: "2.0"}, ``messages`` [{``messageId``, ``sku``,
``operationType``, ``productType``, ``patches``}]}, at most 25,000 messages);
the report follows ``listings-feed-processing-report-schema-v2.json``
({``header`` {``sellerId``, ``version``, ``feedId``}, ``issues`` per message
(``messageId``, ``sku``, ``code``, ``severity``, ``message``), ``summary``
{``errors``, ``warnings``, ``messagesProcessed``, ``messagesAccepted``,
``messagesInvalid``}}). A message is checked like ``patchListingsItem``
(``listings.py``) and applied when it has no error. The flat-file and XML
inventory feed types were removed on 2025-07-31
(https://developer-docs.amazon.com/sp-api/changelog/deprecation-of-feed-types):
``createFeed`` refuses them with 400.
"""

from __future__ import annotations

import gzip
import json
import secrets
import uuid

from ..toolkit import ApiError
from . import listings
from .orders import iso

LISTINGS_FEED = "JSON_LISTINGS_FEED"
REMOVED_TYPES = {
    "POST_INVENTORY_AVAILABILITY_DATA",
    "POST_FLAT_FILE_INVLOADER_DATA",
    "POST_FLAT_FILE_LISTINGS_DATA",
    "POST_PRODUCT_DATA",
    "POST_PRODUCT_PRICING_DATA",
    "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA",
}
OPERATION_TYPES = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
MAX_MESSAGES = 25000


def reset(sb) -> None:
    sb.feed_documents = {}
    sb.feeds = {}
    sb.feed_seq = 50_000_000_000 + sb._id_base()


def tick(sb) -> None:
    now = sb.clock.now()
    for feed in sb.feeds.values():
        start = feed["created"] + sb.feed_queue_seconds
        if feed["status"] == "IN_QUEUE" and now >= start:
            feed["status"], feed["start"] = "IN_PROGRESS", start
        end = (feed.get("start") or start) + sb.feed_processing_seconds
        if feed["status"] == "IN_PROGRESS" and now >= end:
            _process(sb, feed, end)


def _document_id(seller) -> str:
    suffix = secrets.token_hex(6).upper()
    return f"amzn1.tortuga.4.{seller.region}.{uuid.uuid4()}.T{suffix}"


def create_document(sb, seller, body) -> dict:
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type:
        raise ApiError(400, "InvalidInput", "contentType is required.")
    document_id = _document_id(seller)
    sb.feed_documents[document_id] = {
        "seller_id": seller.seller_id,
        "content_type": content_type,
        "result": False,
    }
    sb.storage.open_slot(document_id, content_type)
    return {
        "feedDocumentId": document_id,
        "url": sb.storage.presign("PUT", document_id, content_type),
    }


def create_feed(sb, seller, body) -> dict:
    feed_type = body.get("feedType")
    marketplaces = body.get("marketplaceIds")
    document_id = body.get("inputFeedDocumentId")
    if not isinstance(feed_type, str) or not isinstance(document_id, str):
        raise ApiError(
            400, "InvalidInput", "feedType and inputFeedDocumentId are required."
        )
    if not isinstance(marketplaces, list) or not marketplaces:
        raise ApiError(400, "InvalidInput", "marketplaceIds is required.")
    if feed_type in REMOVED_TYPES:
        raise ApiError(
            400, "InvalidInput", f"Feed type {feed_type} is no longer supported."
        )
    if feed_type != LISTINGS_FEED:
        raise ApiError(400, "InvalidInput", f"Invalid feed type {feed_type}.")
    for marketplace in marketplaces:
        if marketplace not in seller.marketplaces:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {marketplace}.")
    document = sb.feed_documents.get(document_id)
    if document is None or document["seller_id"] != seller.seller_id:
        raise ApiError(400, "InvalidInput", "Invalid inputFeedDocumentId.")
    sb.feed_seq += 1
    feed_id = str(sb.feed_seq)
    sb.feeds[feed_id] = {
        "feedId": feed_id,
        "seller_id": seller.seller_id,
        "feedType": feed_type,
        "marketplaceIds": list(marketplaces),
        "created": sb.clock.now(),
        "status": "IN_QUEUE",
        "input": document_id,
    }
    return {"feedId": feed_id}


def get_feed(sb, seller, feed_id) -> dict:
    feed = sb.feeds.get(feed_id)
    if feed is None or feed["seller_id"] != seller.seller_id:
        raise ApiError(404, "NotFound", f"Feed {feed_id} not found.")
    body = {
        "feedId": feed_id,
        "feedType": feed["feedType"],
        "marketplaceIds": feed["marketplaceIds"],
        "createdTime": iso(feed["created"]),
        "processingStatus": feed["status"],
    }
    if feed.get("start") is not None:
        body["processingStartTime"] = iso(feed["start"])
    if feed.get("end") is not None:
        body["processingEndTime"] = iso(feed["end"])
    if feed.get("result"):
        body["resultFeedDocumentId"] = feed["result"]
    return body


def get_document(sb, seller, document_id) -> dict:
    document = sb.feed_documents.get(document_id)
    if document is None or document["seller_id"] != seller.seller_id:
        raise ApiError(404, "NotFound", f"Feed document {document_id} not found.")
    body = {
        "feedDocumentId": document_id,
        "url": sb.storage.presign("GET", document_id),
    }
    if document["result"]:
        body["compressionAlgorithm"] = "GZIP"
    return body


# -------------------------------------------------------------- processing
def _process(sb, feed, end) -> None:
    seller = sb.sellers[feed["seller_id"]]
    raw = sb.storage.get(feed["input"])
    issues: list[dict] = []
    summary = {
        "errors": 0,
        "warnings": 0,
        "messagesProcessed": 0,
        "messagesAccepted": 0,
        "messagesInvalid": 0,
    }
    fatal = None
    try:
        document = json.loads(raw) if raw is not None else None
    except ValueError:
        document = None
        fatal = "The feed document is not valid JSON."
    if raw is None:
        fatal = "The feed document was not uploaded."
    elif fatal is None:
        fatal = _header_problem(document, seller)
    if fatal is None:
        for message in document["messages"]:
            _message(sb, seller, feed, message, issues, summary)
    else:
        issues.append({"code": "100001", "severity": "ERROR", "message": fatal})
        summary["errors"] = 1
    report = {
        "header": {
            "sellerId": seller.seller_id,
            "version": "2.0",
            "feedId": feed["feedId"],
        },
        "issues": issues,
        "summary": summary,
    }
    result_id = _document_id(seller)
    sb.feed_documents[result_id] = {
        "seller_id": seller.seller_id,
        "content_type": "application/json",
        "result": True,
    }
    sb.storage.put(
        result_id, gzip.compress(json.dumps(report).encode()), "application/json"
    )
    feed.update(status="FATAL" if fatal else "DONE", end=end, result=result_id)
    feed["report"] = report


def _header_problem(document, seller) -> str | None:
    if not isinstance(document, dict):
        return "The feed document must be a JSON object."
    header = document.get("header")
    messages = document.get("messages")
    if not isinstance(header, dict) or header.get("version") != "2.0":
        return "The feed header must give version 2.0."
    if header.get("sellerId") != seller.seller_id:
        return "The sellerId of the feed header is not the feed's seller."
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return "The feed must hold 1 to 25000 messages."
    return None


def _message(sb, seller, feed, message, issues, summary) -> None:
    summary["messagesProcessed"] += 1
    message_id = message.get("messageId") if isinstance(message, dict) else None
    sku = message.get("sku") if isinstance(message, dict) else None
    found: list[dict] = []
    if (
        not isinstance(message_id, int)
        or isinstance(message_id, bool)
        or message_id < 1
    ):
        found.append(_issue("The message has no valid messageId."))
        message_id = None
    if not isinstance(sku, str) or not sku:
        found.append(_issue("The message has no sku."))
        sku = None
    operation = message.get("operationType") if isinstance(message, dict) else None
    if operation not in OPERATION_TYPES:
        found.append(_issue(f"Invalid operationType {operation!r}."))
    elif operation in ("UPDATE", "PARTIAL_UPDATE") and not found:
        attributes = message.get("attributes")
        if not isinstance(message.get("productType"), str) or not (
            isinstance(attributes, dict) and attributes
        ):
            found.append(
                _issue(f"An {operation} message needs productType and attributes.")
            )
        elif message["productType"] not in listings.PRODUCT_TYPES:
            found.append(
                {
                    "code": "4000003",
                    "severity": "ERROR",
                    "message": "The Amazon product type specified is invalid or "
                    "not supported.",
                }
            )
    elif operation == "PATCH" and not found:
        patches = message.get("patches")
        if not isinstance(message.get("productType"), str) or not (
            isinstance(patches, list)
            and patches
            and all(
                isinstance(p, dict) and isinstance(p.get("path"), str) for p in patches
            )
        ):
            found.append(_issue("A PATCH message needs productType and patches."))
        else:
            for problem in listings.check(
                sb, seller.seller_id, sku, message["productType"], patches
            ):
                found.append(
                    {
                        "code": problem["code"],
                        "severity": problem["severity"],
                        "message": problem["message"],
                        **(
                            {"attributeName": problem["attributeNames"][0]}
                            if problem.get("attributeNames")
                            else {}
                        ),
                    }
                )
    for problem in found:
        if message_id is not None:
            problem["messageId"] = message_id
        if sku is not None:
            problem["sku"] = sku
        issues.append(problem)
    if found:
        summary["errors"] += len(found)
        summary["messagesInvalid"] += 1
        return
    summary["messagesAccepted"] += 1
    submission = f"{feed['feedId']}-{message_id}"
    if operation == "PATCH":
        listings.apply(
            sb,
            seller.seller_id,
            sku,
            message["patches"],
            feed["marketplaceIds"],
            submission,
        )
    elif operation == "DELETE":
        sb.listings.pop((seller.seller_id, sku), None)
    else:
        _update(sb, seller, feed, message, submission)


def _issue(message: str) -> dict:
    return {"code": "4000001", "severity": "ERROR", "message": message}


def _update(sb, seller, feed, message, submission) -> None:
    """UPDATE / PARTIAL_UPDATE: the listing's attributes; the sandbox keeps
    the merchant quantity of ``fulfillment_availability`` (``DEFAULT``);
    FBA quantities (``AMAZON_*``) are Amazon's to count."""
    key = (seller.seller_id, message["sku"])
    listing = sb.listings.get(key)
    if listing is None:
        # UPDATE gives the whole item; a PARTIAL_UPDATE of an unknown SKU
        # holds offer data only
        product_type = (
            message["productType"] if message["operationType"] == "UPDATE" else None
        )
        listing = listings.add(sb, seller.seller_id, message["sku"], product_type)
    elif message["operationType"] == "UPDATE":
        listing.product_type = message["productType"]
    listing.submissions.append(submission)
    for entry in message["attributes"].get("fulfillment_availability") or []:
        if (
            isinstance(entry, dict)
            and entry.get("fulfillment_channel_code") == "DEFAULT"
        ):
            quantity = entry.get("quantity")
            if isinstance(quantity, int) and quantity >= 0:
                for marketplace in feed["marketplaceIds"]:
                    listing.quantity[marketplace] = quantity
