"""Listings Items API 2021-08-01: ``patchListingsItem`` of
``/attributes/fulfillment_availability`` (merchant-fulfilled quantity), and
the listings the sandbox keeps per seller, SKU and marketplace.

From ``listingsItems_2021-08-01.json`` and
https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference:

- ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...``
  (required, comma-delimited) with ``ListingsItemPatchRequest``
  {``productType``, ``patches`` [{``op``: add|replace|merge|delete, ``path``,
  ``value``}] (at least one)} -> 200 ``ListingsItemSubmissionResponse``
  {``sku``, ``status``: ACCEPTED|INVALID|VALID, ``submissionId``,
  ``issues``}; ``mode=VALIDATION_PREVIEW`` validates without applying
  (``VALID``). A body that does not fit: 400 ``InvalidInput`` "Request has
  missing or invalid parameters and cannot be parsed." (the message SP-API
  sends, jlevers/selling-partner-api#240).
- Problems with the listing are ``issues`` in a 200 with status ``INVALID``
  (amzn/selling-partner-api-models#5219: "HTTP 200 only means ..."): a
  product type Amazon does not know: code ``4000003`` "The Amazon product type
  specified is invalid or not supported." (#5241); a product type other than
  the listing's: ``8101`` "Invalid ProductType value for SKU: [...]" (#2381); a
  value that does not fit the attribute: ``4000001`` "The provided value for
  'Fulfillment Availability' is invalid." (#5219), category
  ``INVALID_ATTRIBUTE``.
- A SKU the seller has no listing for is *accepted*: Amazon keeps the offer
  data without an item, which is not buyable until the item exists ("This is
  expected behavior", amzn/selling-partner-api-docs#3748). The sandbox keeps
  such a partial listing (``buyable`` false in the admin view).
- ``fulfillment_availability`` = [{``fulfillment_channel_code``: ``DEFAULT``
  (merchant) , ``quantity`` >= 0}] (the attribute in the listings feed
  example, ``listings-feed-schema-v2.example.json``); the quantity is kept
  for each marketplace of the request. A merchant order takes its units off
  the listing's quantity in its marketplace.
- A ``sellerId`` other than the token's seller: 403 ``Unauthorized``.
- ``GET`` of the same path (``getListingsItem``, ``includedData`` of
  ``summaries`` (default), ``fulfillmentAvailability``, ``issues``...): the
  listing's summary per requested marketplace (``BUYABLE`` and
  ``DISCOVERABLE`` when it has an item), its ``fulfillmentAvailability``
  (``fulfillmentChannelCode``: ``DEFAULT`` for merchant, ``AMAZON_*`` for
  FBA, and the quantity in the first requested marketplace); an offer
  without an item has no summary and the issue "'[item_name]' is required
  but not supplied." (code ``90220`` as in
  ``listings-feed-processing-report-schema-v2.example.json``); no listing:
  404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ..toolkit import ApiError

PATH = "/attributes/fulfillment_availability"
# product types the sandbox's catalog knows (LUGGAGE: the official feed example)
PRODUCT_TYPES = {
    "PRODUCT",
    "LUGGAGE",
    "SHIRT",
    "SHOES",
    "HOME",
    "KITCHEN",
    "TOYS_AND_GAMES",
}
UNPARSABLE = "Request has missing or invalid parameters and cannot be parsed."


@dataclass
class Listing:
    seller_id: str
    sku: str
    product_type: str | None  # None: offer data only (no item yet)
    channel: str = "DEFAULT"  # DEFAULT (merchant) or AMAZON_NA/EU/FE (FBA)
    quantity: dict[str, int] = field(default_factory=dict)  # per marketplace
    submissions: list[str] = field(default_factory=list)
    created: float = 0.0
    updated: float = 0.0

    @property
    def buyable(self) -> bool:
        return self.product_type is not None

    def view(self) -> dict:
        return {
            "sellerId": self.seller_id,
            "sku": self.sku,
            "productType": self.product_type,
            "fulfillmentChannelCode": self.channel,
            "quantity": dict(self.quantity),
            "buyable": self.buyable,
            "submissions": len(self.submissions),
        }


def reset(sb) -> None:
    sb.listings = {}
    sb.book.listeners.append(lambda order, change, when: _sold(sb, order, change))


def tick(sb) -> None:
    pass


def add(sb, seller_id, sku, product_type="PRODUCT", channel="DEFAULT", quantity=None):
    """Seed a listing: ``quantity`` {marketplace: units}."""
    now = sb.clock.now()
    listing = Listing(
        seller_id, sku, product_type, channel, dict(quantity or {}), [], now, now
    )
    sb.listings[(seller_id, sku)] = listing
    return listing


def _sold(sb, order, change) -> None:
    if change != "NewOrder" or order.fulfilled_by != "MERCHANT":
        return
    for item in order.items:
        listing = sb.listings.get((order.seller_id, item.sku))
        if listing is not None and order.marketplace_id in listing.quantity:
            left = listing.quantity[order.marketplace_id] - item.quantity
            listing.quantity[order.marketplace_id] = max(0, left)


def issue(code, message, attribute=None, category=None) -> dict:
    # ``categories`` is required by the model's ``Issue`` (may be empty)
    body = {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "categories": [category] if category else [],
    }
    if attribute:
        body["attributeNames"] = [attribute]
    return body


def _quantity_problem(patch: dict) -> bool:
    if patch.get("op") == "delete":
        return False
    value = patch.get("value")
    if not isinstance(value, list) or len(value) != 1:
        return True
    entry = value[0]
    quantity = entry.get("quantity")
    return (
        entry.get("fulfillment_channel_code") != "DEFAULT"
        or not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or quantity < 0
    )


def patch(sb, seller, seller_id, sku, marketplaces, body, mode=None) -> dict:
    if seller_id != seller.seller_id:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
    if not marketplaces:
        raise ApiError(400, "InvalidInput", UNPARSABLE, details="marketplaceIds")
    for marketplace in marketplaces:
        if marketplace not in seller.marketplaces:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {marketplace}.")
    product_type = body.get("productType")
    patches = body.get("patches")
    if (
        not isinstance(product_type, str)
        or not isinstance(patches, list)
        or not patches
        or not all(
            isinstance(p, dict)
            and p.get("op") in ("add", "replace", "merge", "delete")
            and isinstance(p.get("path"), str)
            for p in patches
        )
    ):
        raise ApiError(400, "InvalidInput", UNPARSABLE)
    issues = check(sb, seller_id, sku, product_type, patches)
    submission = uuid.uuid4().hex
    if issues:
        status = "INVALID"
    elif mode == "VALIDATION_PREVIEW":
        status = "VALID"
    else:
        status = "ACCEPTED"
        apply(sb, seller_id, sku, patches, marketplaces, submission)
    return {"sku": sku, "status": status, "submissionId": submission, "issues": issues}


def check(sb, seller_id, sku, product_type, patches) -> list[dict]:
    """The issues of a patch submission (empty: it is accepted)."""
    listing = sb.listings.get((seller_id, sku))
    issues = []
    if product_type not in PRODUCT_TYPES:
        issues.append(
            issue(
                "4000003",
                "The Amazon product type specified is invalid or not supported.",
            )
        )
    elif (
        listing is not None and listing.buyable and listing.product_type != product_type
    ):
        issues.append(issue("8101", f"Invalid ProductType value for SKU: [{sku}]."))
    for item in patches:
        if item["path"] == PATH and _quantity_problem(item):
            issues.append(
                issue(
                    "4000001",
                    "The provided value for 'Fulfillment Availability' is invalid.",
                    "fulfillment_availability",
                    "INVALID_ATTRIBUTE",
                )
            )
    return issues


def apply(sb, seller_id, sku, patches, marketplaces, submission) -> None:
    """Apply accepted patches: the merchant quantity per marketplace."""
    listing = sb.listings.get((seller_id, sku))
    if listing is None:
        listing = add(sb, seller_id, sku, product_type=None)
    listing.submissions.append(submission)
    listing.updated = sb.clock.now()
    for item in patches:
        if item["path"] != PATH:
            continue
        for marketplace in marketplaces:
            if item["op"] == "delete":
                listing.quantity.pop(marketplace, None)
            else:
                listing.quantity[marketplace] = item["value"][0]["quantity"]


INCLUDED = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)


def get(sb, seller, seller_id, sku, marketplaces, included) -> dict:
    from .orders import iso

    if seller_id != seller.seller_id:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
    if not marketplaces:
        raise ApiError(400, "InvalidInput", UNPARSABLE, details="marketplaceIds")
    for marketplace in marketplaces:
        if marketplace not in seller.marketplaces:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {marketplace}.")
    listing = sb.listings.get((seller_id, sku))
    if listing is None:
        raise ApiError(404, "NotFound", f"SKU '{sku}' not found in marketplace.")
    included = set(included or ["summaries"])
    body: dict = {"sku": sku}
    if "summaries" in included:
        body["summaries"] = [
            {
                "marketplaceId": marketplace,
                "productType": listing.product_type,
                "conditionType": "new_new",
                "status": ["BUYABLE", "DISCOVERABLE"],
                "createdDate": iso(listing.created),
                "lastUpdatedDate": iso(listing.updated),
            }
            for marketplace in marketplaces
            if listing.buyable
        ]
    if "fulfillmentAvailability" in included:
        availability = {"fulfillmentChannelCode": listing.channel}
        if marketplaces[0] in listing.quantity:
            availability["quantity"] = listing.quantity[marketplaces[0]]
        body["fulfillmentAvailability"] = [availability]
    if "issues" in included:
        body["issues"] = (
            []
            if listing.buyable
            else [
                issue(
                    "90220",
                    "'[item_name]' is required but not supplied.",
                    "item_name",
                    "MISSING_ATTRIBUTE",
                )
            ]
        )
    return body
