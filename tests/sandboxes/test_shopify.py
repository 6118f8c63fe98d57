"""Plain pytest tests of the Shopify sandbox (no Odoo), over HTTP.

The contract tests compare the sandbox's schema and webhook payloads with the
official Shopify files of ``shared/contracts`` (``RC_CONTRACTS``); they skip
when that folder is absent, unless ``RC_REQUIRE_CONTRACTS=1``.
"""

import base64
import hashlib
import hmac
import json
import os
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    is_non_null_type,
)
from graphql.pyutils import Undefined
from werkzeug.wrappers import Request, Response

from sandboxes import available
from sandboxes.shopify import (
    SCHEMA,
    SCHEMA_PATH,
    WEBHOOK_RETRY_DELAYS,
    ShopifySandbox,
    gid_number,
    sign,
    verify,
)
from sandboxes.toolkit import Clock, SandboxServer, utc_iso

EPOCH = 1_793_000_000.0  # 2026-10-26T07:33:20Z
TOKEN = "shpat_test"
REPO = Path(__file__).resolve().parents[2]
CONTRACTS = Path(os.environ.get("RC_CONTRACTS") or REPO.parent / "shared" / "contracts")
SHOPIFY_CONTRACTS = CONTRACTS / "shopify"
# What the sandbox adds to the September 2025 schema (see shopify_schema.graphql).
SCHEMA_ADDITIONS = {
    "@idempotent",
    "InventoryQuantityInput.changeFromQuantity",
    "InventoryChangeInput.changeFromQuantity",
    "InventorySetQuantitiesUserErrorCode.CHANGE_FROM_QUANTITY_STALE",
    "InventorySetQuantitiesUserErrorCode.IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
    "InventorySetQuantitiesUserErrorCode.IDEMPOTENCY_CONCURRENT_REQUEST",
    "InventorySetQuantitiesUserErrorCode.IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
    "InventoryAdjustQuantitiesUserErrorCode.CHANGE_FROM_QUANTITY_STALE",
    "InventoryAdjustQuantitiesUserErrorCode.IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
    "InventoryAdjustQuantitiesUserErrorCode.IDEMPOTENCY_CONCURRENT_REQUEST",
    "InventoryAdjustQuantitiesUserErrorCode.IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
    # 2026-01 bulk operations (https://shopify.dev/release-notes/2026-01)
    "QueryRoot.bulkOperation",
    "QueryRoot.bulkOperations",
    "BulkOperationConnection",
    "BulkOperationEdge",
    "BulkOperationsSortKeys",
    "BulkOperationUserErrorCode.LIMIT_REACHED",
}
# Keys of current webhook payloads that the (older) REST fixtures predate, by
# normalised path (see ``kind``).
REST_ADDITIONS = {
    "": {"admin_graphql_api_id", "phone", "current_total_price", "refunds"}
    | {"payment_gateway_names"},
    "<line item>": {"admin_graphql_api_id", "current_quantity"},
    "customer": {"admin_graphql_api_id", "phone", "tax_exempt"},
    "customer.default_address": {"customer_id"},
    "addresses[]": {"customer_id"},
    "default_address": {"customer_id"},
    "refund_line_items[]": {"location_id", "restock_type", "subtotal", "total_tax"},
    "transactions[]": {"admin_graphql_api_id", "currency"},
    "fulfillments[]": {"admin_graphql_api_id", "location_id", "name"},
}

ORDERS_PAGE = """
query SyncOrders($first: Int!, $after: String, $q: String) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id name updatedAt }
  }
}"""
SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange
      item { id } location { id } } }
    userErrors { code field message }
  }
}"""
FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes { id status
      lineItems(first: 10) { nodes { id remainingQuantity totalQuantity
        lineItem { id sku } } } } }
  }
}"""
FULFILL = """
mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""


class Receiver:
    """A webhook endpoint that records every delivery."""

    def __init__(self):
        self.deliveries = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.deliveries.append((dict(request.headers), request.get_data()))
        return Response("ok")(environ, start_response)


@pytest.fixture
def shop():
    sandbox = ShopifySandbox(
        shop="acme.myshopify.com",
        access_token=TOKEN,
        client_id="cid",
        client_secret="csecret",
        clock=Clock(EPOCH, frozen=True),
    )
    with SandboxServer(sandbox):
        yield sandbox


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/hooks"
        yield app


@pytest.fixture
def stock(shop):
    """A location and two products with stock there."""
    location = shop.add_location("Warehouse")["id"]
    shirt = shop.add_product(
        "T-Shirt",
        [{"sku": "TS-1", "price": "29.95", "inventory": {location: 10}}],
    )
    mug = shop.add_product(
        "Mug", [{"sku": "MUG-1", "price": "12.50", "inventory": {location: 5}}]
    )
    return {
        "location": location,
        "shirt": shirt["variants"][0]["inventoryItemId"],
        "mug": mug["variants"][0]["inventoryItemId"],
    }


def gql(shop, query, variables=None, *, token=TOKEN, version="2026-10"):
    headers = {"X-Shopify-Access-Token": token} if token else {}
    return requests.post(
        f"{shop.url}/admin/api/{version}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=10,
    )


def data(answer) -> dict:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def set_input(rows, name="available"):
    return {"name": name, "reason": "correction", "quantities": rows}


# ----------------------------------------------------------- auth, versions
def test_client_credentials_token_expires_on_the_clock(shop):
    url = f"{shop.url}/admin/oauth/access_token"
    form = {"grant_type": "client_credentials", "client_id": "cid"}
    wrong = requests.post(url, data={**form, "client_secret": "nope"}, timeout=5)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client"
    grant = requests.post(url, data={**form, "client_secret": "csecret"}, timeout=5)
    assert grant.status_code == 200
    body = grant.json()
    assert body["access_token"].startswith("shpat_")
    assert body["expires_in"] == 86399 and body["scope"]
    token = body["access_token"]
    assert data(gql(shop, "{ shop { name } }", token=token))["shop"]["name"] == "Acme"
    shop.clock.advance(86399)
    expired = gql(shop, "{ shop { name } }", token=token)
    assert expired.status_code == 401
    assert "Invalid API key or access token" in expired.json()["errors"]
    # the fixed token of the constructor never expires
    assert gql(shop, "{ shop { name } }").status_code == 200


def test_missing_token_is_401_and_versions_fall_forward(shop):
    answer = gql(shop, "{ shop { id } }", token=None)
    assert answer.status_code == 401
    assert answer.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or "
        "wrong password)"
    }
    assert gql(shop, "{ shop { id } }", token="shpat_bad").status_code == 401
    served = gql(shop, "{ shop { id } }", version="2024-01")
    assert served.headers["X-Shopify-API-Version"] == "2026-01"
    assert gql(shop, "{ shop { id } }").headers["X-Shopify-API-Version"] == "2026-10"
    no_query = requests.post(
        f"{shop.url}/admin/api/2026-10/graphql.json",
        json={},
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=5,
    )
    assert no_query.status_code == 400


# ------------------------------------------------------ execution, errors
def test_answers_hold_exactly_the_selected_fields(shop, stock):
    result = data(gql(shop, "{ shop { name myshopifyDomain plan { displayName } } }"))
    assert result == {
        "shop": {
            "name": "Acme",
            "myshopifyDomain": "acme.myshopify.com",
            "plan": {"displayName": "Plus"},
        }
    }


def test_deprecated_fields_are_named_in_a_header(shop):
    """X-Shopify-API-Deprecated-Reason lists the deprecated fields a query
    used (changelog graphql-return-actual-deprecation-reasons, 2025-04)."""
    shop.add_customer(email="jane@example.com", first_name="Jane")
    old = "{ customers(first: 5) { nodes { id email phone } } }"
    new = """{ customers(first: 5) { nodes { id
      defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } } } }"""
    answer = gql(shop, old)
    assert answer.headers["X-Shopify-API-Deprecated-Reason"] == (
        "Customer.email, Customer.phone"
    )
    assert answer.headers["X-Shopify-API-Version"] == "2026-10"
    answer = gql(shop, new)
    assert data(answer)["customers"]["nodes"][0]["defaultEmailAddress"] == {
        "emailAddress": "jane@example.com"
    }
    assert "X-Shopify-API-Deprecated-Reason" not in answer.headers
    assert gql(shop, new, version="2024-01").headers["X-Shopify-API-Version"] == (
        "2026-01"
    )


def test_unknown_field_and_bad_variable_are_graphql_errors(shop):
    body = gql(shop, "{ shop { name bogus } }").json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["message"] == "Field 'bogus' doesn't exist on type 'Shop'"
    assert error["extensions"] == {
        "code": "undefinedField",
        "typeName": "Shop",
        "fieldName": "bogus",
    }
    assert error["locations"]
    body = gql(shop, ORDERS_PAGE, {"first": "ten"}).json()
    assert body["errors"][0]["message"].startswith(
        "Variable $first of type Int! was provided invalid value"
    )
    body = gql(shop, "{ orders { nodes { id } } }").json()
    assert "first or last" in body["errors"][0]["message"]


def test_paginated_orders_since_a_date_returns_each_order_once(shop, stock):
    stale = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    old = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    shop.clock.advance(86400)
    since = utc_iso(shop.clock.now())
    new = [shop.add_order(None, [{"sku": "MUG-1", "quantity": 1}]) for _ in range(4)]
    shop.clock.advance(1)
    shop.update_order(old["id"], note="updated later")
    seen, after, pages = [], None, 0
    while True:
        page = data(
            gql(
                shop,
                ORDERS_PAGE,
                {"first": 2, "after": after, "q": f"updated_at:>='{since}'"},
            )
        )["orders"]
        seen += [node["id"] for node in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [o["id"] for o in new] + [old["id"]]  # by updatedAt, id
    assert stale["id"] not in seen
    later = data(gql(shop, ORDERS_PAGE, {"first": 10, "q": "updated_at:>2030-01-01"}))
    assert later["orders"]["nodes"] == []


def test_order_shape(shop, stock):
    customer = shop.add_customer(
        "jane@example.com",
        "Jane",
        "Doe",
        "+4915112345678",
        address={"address1": "Hauptstr. 1", "city": "Berlin", "countryCode": "DE"},
    )
    order = shop.add_order(
        customer["id"],
        [{"sku": "TS-1", "quantity": 2}],
        shipping={"title": "DHL", "price": "4.90"},
        taxes=[{"title": "VAT", "rate": 0.19}],
    )
    query = """query($id: ID!) { order(id: $id) {
      name displayFinancialStatus displayFulfillmentStatus
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount } }
      taxLines { title rate priceSet { shopMoney { amount } } }
      customer { email } shippingAddress { city countryCodeV2 }
      lineItems(first: 5) { nodes { sku quantity variant { sku } } }
      transactions { kind status amountSet { shopMoney { amount } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert result["name"] == "#1001"
    assert result["displayFinancialStatus"] == "PAID"
    assert result["displayFulfillmentStatus"] == "UNFULFILLED"
    # 2 x 29.95 + 4.90, 19% VAT on both
    assert result["currentTotalPriceSet"]["shopMoney"] == {
        "amount": "77.11",
        "currencyCode": "EUR",
    }
    assert result["totalTaxSet"]["shopMoney"]["amount"] == "12.31"
    assert result["shippingAddress"] == {"city": "Berlin", "countryCodeV2": "DE"}
    assert result["lineItems"]["nodes"] == [
        {"sku": "TS-1", "quantity": 2, "variant": {"sku": "TS-1"}}
    ]
    assert result["transactions"][0]["kind"] == "SALE"
    assert shop.inventory(stock["shirt"], stock["location"]) == 8
    assert shop.inventory(stock["shirt"], stock["location"], "committed") == 2


def test_discounts_order_level_only_in_allocations(shop, stock):
    """A product discount is line level (in totalDiscountSet), an order-wide
    code is order level (only in discountAllocations), free shipping lowers
    the shipping line's discountedPriceSet; taxes on what is left."""
    order = shop.add_order(
        None,
        [{"sku": "TS-1", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}],
        shipping={"title": "DHL", "price": "4.90"},
        taxes=[{"title": "VAT", "rate": 0.19}],
        discount_applications=[
            {
                "type": "automatic",
                "title": "Mugs -10%",
                "percentage": 10,
                "target": {"skus": ["MUG-1"]},
            },
            {"type": "code", "code": "SAVE5", "amount": "5.00"},
            {
                "type": "code",
                "code": "FREESHIP",
                "percentage": 100,
                "target": "shipping",
            },
        ],
    )
    query = """query($id: ID!) { order(id: $id) {
      currentTotalPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      cartDiscountAmountSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      discountCodes
      discountApplications(first: 10) { nodes {
        __typename index allocationMethod targetSelection targetType
        value { ... on MoneyV2 { amount } ... on PricingPercentageValue { percentage } }
        ... on DiscountCodeApplication { code }
        ... on AutomaticDiscountApplication { title } } }
      shippingLines(first: 5) { nodes {
        originalPriceSet { shopMoney { amount } }
        discountedPriceSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } }
          discountApplication { index } }
        taxLines { priceSet { shopMoney { amount } } } } }
      lineItems(first: 5) { nodes {
        sku quantity
        originalUnitPriceSet { shopMoney { amount } }
        discountedUnitPriceSet { shopMoney { amount } }
        totalDiscountSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } }
          discountApplication { index targetSelection } }
        taxLines { priceSet { shopMoney { amount } } } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]

    def amount(bag):
        return bag["shopMoney"]["amount"]

    assert result["discountCodes"] == ["SAVE5", "FREESHIP"]
    assert [
        (n["__typename"], n["targetSelection"], n["targetType"], n["allocationMethod"])
        for n in result["discountApplications"]["nodes"]
    ] == [
        ("AutomaticDiscountApplication", "ENTITLED", "LINE_ITEM", "ACROSS"),
        ("DiscountCodeApplication", "ALL", "LINE_ITEM", "ACROSS"),
        ("DiscountCodeApplication", "ALL", "SHIPPING_LINE", "EACH"),
    ]
    assert result["discountApplications"]["nodes"][1]["value"] == {"amount": "5.00"}
    shirt, mug = result["lineItems"]["nodes"]
    # line level only: the shirt has no discount of its own, the mug 10%
    assert amount(shirt["totalDiscountSet"]) == "0.00"
    assert amount(mug["totalDiscountSet"]) == "1.25"
    assert amount(mug["discountedUnitPriceSet"]) == "11.25"
    # the 5.00 code spread over 59.90 and 11.25: 4.21 + 0.79
    assert [
        (amount(a["allocatedAmountSet"]), a["discountApplication"]["index"])
        for a in shirt["discountAllocations"]
    ] == [("4.21", 1)]
    assert [
        (amount(a["allocatedAmountSet"]), a["discountApplication"]["index"])
        for a in mug["discountAllocations"]
    ] == [("1.25", 0), ("0.79", 1)]
    assert amount(result["cartDiscountAmountSet"]) == "5.00"
    (ship,) = result["shippingLines"]["nodes"]
    assert amount(ship["originalPriceSet"]) == "4.90"
    assert amount(ship["discountedPriceSet"]) == "0.00"
    assert [amount(a["allocatedAmountSet"]) for a in ship["discountAllocations"]] == [
        "4.90"
    ]
    # 19% VAT on 55.69 and 10.46, none on free shipping
    assert [amount(t["priceSet"]) for t in shirt["taxLines"]] == ["10.58"]
    assert [amount(t["priceSet"]) for t in mug["taxLines"]] == ["1.99"]
    assert [amount(t["priceSet"]) for t in ship["taxLines"]] == ["0.00"]
    assert amount(result["totalTaxSet"]) == "12.57"
    assert amount(result["totalDiscountsSet"]) == "11.15"
    assert amount(result["currentTotalPriceSet"]) == "78.72"
    # the order's total is its lines at their original prices less every
    # allocation, plus taxes: what an importer must reproduce
    lines = [*result["lineItems"]["nodes"]]
    rebuilt = (
        sum(
            float(amount(n["originalUnitPriceSet"])) * n["quantity"]
            - sum(
                float(amount(a["allocatedAmountSet"])) for a in n["discountAllocations"]
            )
            for n in lines
        )
        + 12.57
    )
    assert round(rebuilt, 2) == 78.72


def test_discount_values_are_checked(shop, stock):
    with pytest.raises(ValueError, match="amount or a percentage"):
        shop.add_order(None, [{"sku": "TS-1"}], discount_applications=[{"code": "X"}])
    with pytest.raises(ValueError, match="applies to no line"):
        shop.add_order(
            None,
            [{"sku": "TS-1"}],
            discount_applications=[{"code": "X", "amount": "1", "target": "shipping"}],
        )


def test_custom_items_gift_cards_tips_and_duties(shop, stock):
    """What a real shop sells besides its catalog: a custom item (no variant,
    no SKU), a gift card (untaxed, never discounted), a tip (not fulfillable)
    and duties, paid partly with a gift card."""
    order = shop.add_order(
        None,
        [
            {"sku": "TS-1", "quantity": 1},
            {"title": "Engraving", "price": "5.00"},
            {"title": "Gift card", "price": "25.00", "gift_card": True},
        ],
        taxes=[{"title": "VAT", "rate": 0.19}],
        tip="3.00",
        duties={"TS-1": "2.40"},
        gift_card_payment="20.00",
        discount_applications=[{"type": "code", "code": "TEN", "percentage": 10}],
    )
    query = """query($id: ID!) { order(id: $id) {
      currentTotalPriceSet { shopMoney { amount } }
      totalTipReceivedSet { shopMoney { amount } }
      currentTotalDutiesSet { shopMoney { amount } }
      paymentGatewayNames
      transactions { gateway kind amountSet { shopMoney { amount } } }
      fulfillmentOrders(first: 5) { nodes { lineItems(first: 10) { nodes {
        lineItem { title } } } } }
      lineItems(first: 10) { nodes {
        title sku variant { id } isGiftCard nonFulfillableQuantity
        originalUnitPriceSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        duties { price { shopMoney { amount } } }
        taxLines { priceSet { shopMoney { amount } } } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]

    def amount(bag):
        return bag["shopMoney"]["amount"]

    shirt, engraving, card, tip = result["lineItems"]["nodes"]
    assert (engraving["sku"], engraving["variant"]) == (None, None)
    assert card["isGiftCard"] and card["taxLines"] == []
    assert card["discountAllocations"] == [], "gift cards are never discounted"
    assert (tip["title"], tip["variant"], tip["nonFulfillableQuantity"]) == (
        "Tip",
        None,
        1,
    )
    assert tip["taxLines"] == [] and tip["discountAllocations"] == []
    assert [amount(d["price"]) for d in shirt["duties"]] == ["2.40"]
    assert amount(result["totalTipReceivedSet"]) == "3.00"
    assert amount(result["currentTotalDutiesSet"]) == "2.40"
    # 10% of 34.95 is 3.50, spread 3.00 + 0.50: 26.95 and 4.50, 19% VAT
    # 5.12 and 0.86; gift card 25.00, tip 3.00, duties 2.40
    assert amount(result["currentTotalPriceSet"]) == "67.83"
    titles = [
        line["lineItem"]["title"]
        for fo in result["fulfillmentOrders"]["nodes"]
        for line in fo["lineItems"]["nodes"]
    ]
    assert "Tip" not in titles and "Gift card" in titles
    assert result["paymentGatewayNames"] == ["gift_card", "shopify_payments"]
    assert [(t["gateway"], amount(t["amountSet"])) for t in result["transactions"]] == [
        ("gift_card", "20.00"),
        ("shopify_payments", "47.83"),
    ]


def test_taxes_charged_on_duties_are_in_the_total(shop, stock):
    """Duty.taxLines: "A list of taxes charged on the duty": the customer
    pays them, so the order's tax and total count them."""
    order = shop.add_order(
        None,
        [{"sku": "TS-1", "quantity": 1, "price": "20.00"}],
        taxes=[{"title": "VAT", "rate": 0.19}],
        duties={"TS-1": {"price": "2.40", "taxes": [{"title": "VAT", "rate": 0.2}]}},
    )
    query = """query($id: ID!) { order(id: $id) {
      currentTotalPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      currentTotalDutiesSet { shopMoney { amount } }
      lineItems(first: 5) { nodes { duties {
        price { shopMoney { amount } }
        taxLines { rate priceSet { shopMoney { amount } } } } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    (line,) = result["lineItems"]["nodes"]
    (duty,) = line["duties"]
    assert duty["price"]["shopMoney"]["amount"] == "2.40"
    assert [
        (t["rate"], t["priceSet"]["shopMoney"]["amount"]) for t in duty["taxLines"]
    ] == [(0.2, "0.48")]
    assert result["currentTotalDutiesSet"]["shopMoney"]["amount"] == "2.40"
    # VAT 3.80 on the shirt, 0.48 on the duty
    assert result["totalTaxSet"]["shopMoney"]["amount"] == "4.28"
    assert result["currentTotalPriceSet"]["shopMoney"]["amount"] == "26.68"


def test_test_orders_and_pos_orders_say_so(shop, stock):
    web = shop.add_order(None, [{"sku": "TS-1"}])
    test = shop.add_order(None, [{"sku": "TS-1"}], test=True)
    pos = shop.add_order(None, [{"sku": "MUG-1"}], source_name="pos")
    query = "query($id: ID!) { order(id: $id) { test sourceName } }"
    answers = [
        data(gql(shop, query, {"id": order["id"]}))["order"]
        for order in (web, test, pos)
    ]
    assert answers == [
        {"test": False, "sourceName": "web"},
        {"test": True, "sourceName": "web"},
        {"test": False, "sourceName": "pos"},
    ]
    assert shop.payload("orders/create", test["id"])["test"] is True
    assert shop.payload("orders/create", pos["id"])["source_name"] == "pos"


# -------------------------------------------------------------- throttling
def test_throttled_when_the_bucket_is_drained_then_restored(shop):
    shop.bucket.drain()
    body = gql(shop, "{ shop { name } }").json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0
    shop.clock.advance(1)
    assert data(gql(shop, "{ shop { name } }"))["shop"]["name"] == "Acme"
    shop.throttle_status_code = 429
    shop.bucket.drain()
    answer = gql(shop, "{ shop { name } }")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"


def test_cost_extensions_refund_the_unused_part(shop, stock):
    shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    body = gql(shop, ORDERS_PAGE, {"first": 50}).json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 50 * 1
    assert cost["actualQueryCost"] == 2 + 1
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 2000 - 3,
        "restoreRate": 100.0,
    }
    nested = """{ orders(first: 100) { nodes { id
      lineItems(first: 100) { nodes { id } } } } }"""
    body = gql(shop, nested).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 100 * (1 + 102)


def test_injected_faults_answer_shopify_shapes(shop):
    shop.inject_fault("status", status=500)
    answer = gql(shop, "{ shop { id } }")
    assert answer.status_code == 500
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    shop.inject_fault("status", status=503)
    assert gql(shop, "{ shop { id } }").json() == {"errors": "Service Unavailable"}
    shop.inject_fault("throttle", times=2)
    assert gql(shop, "{ shop { id } }").json()["errors"][0]["message"] == "Throttled"
    assert gql(shop, "{ shop { id } }").json()["errors"][0]["message"] == "Throttled"
    assert gql(shop, "{ shop { id } }").status_code == 200


# --------------------------------------------------------------- inventory
def test_inventory_set_quantities_batches_up_to_250(shop):
    location = shop.add_location("Warehouse")["id"]
    product = shop.add_product(
        "Many",
        [{"sku": f"S-{i}", "options": {"Size": str(i)}} for i in range(251)],
    )
    items = [v["inventoryItemId"] for v in product["variants"]]
    rows = [
        {
            "inventoryItemId": item,
            "locationId": location,
            "quantity": 7,
            "changeFromQuantity": 0,
        }
        for item in items
    ]
    before = shop.bucket.available
    body = gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "k1"}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert shop.bucket.available == before, "a refused request is free"
    assert shop.inventory(items[0], location) == 0
    result = data(
        gql(shop, SET_QUANTITIES, {"input": set_input(rows[:250]), "key": "k2"})
    )["inventorySetQuantities"]
    assert result["userErrors"] == []
    changes = result["inventoryAdjustmentGroup"]["changes"]
    assert len(changes) == 500  # available and on_hand per item
    assert changes[0]["delta"] == 7 and changes[0]["quantityAfterChange"] == 7
    assert shop.inventory(items[249], location) == 7
    assert shop.inventory(items[250], location) == 0


def test_stale_change_from_quantity_applies_nothing(shop, stock):
    rows = [
        {
            "inventoryItemId": stock["shirt"],
            "locationId": stock["location"],
            "quantity": 3,
            "changeFromQuantity": 10,
        },
        {
            "inventoryItemId": stock["mug"],
            "locationId": stock["location"],
            "quantity": 3,
            "changeFromQuantity": 4,  # it is 5
        },
    ]
    result = data(gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "a"}))
    payload = result["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {
            "code": "CHANGE_FROM_QUANTITY_STALE",
            "field": ["input", "quantities", "1", "changeFromQuantity"],
            "message": payload["userErrors"][0]["message"],
        }
    ]
    assert shop.inventory(stock["shirt"], stock["location"]) == 10
    rows[1]["changeFromQuantity"] = None  # explicit opt-out
    payload = data(gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "b"}))
    assert payload["inventorySetQuantities"]["userErrors"] == []
    assert shop.inventory(stock["mug"], stock["location"]) == 3
    del rows[0]["changeFromQuantity"]  # omitted: refused since 2026-04
    payload = data(gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "c"}))
    error = payload["inventorySetQuantities"]["userErrors"][0]
    assert error["field"] == ["input", "quantities", "0", "changeFromQuantity"]


def test_idempotent_replay_changes_once_and_the_directive_is_required(shop, stock):
    row = {
        "inventoryItemId": stock["shirt"],
        "locationId": stock["location"],
        "quantity": 4,
        "changeFromQuantity": None,
    }
    adjust = """mutation Adjust($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: "same") {
        inventoryAdjustmentGroup { id } userErrors { code field message } } }"""
    changes = [{**row, "delta": 2}]
    del changes[0]["quantity"]
    adjust_input = {"name": "available", "reason": "received", "changes": changes}
    first = data(gql(shop, adjust, {"input": adjust_input}))
    again = data(gql(shop, adjust, {"input": adjust_input}))
    assert first == again
    assert shop.inventory(stock["shirt"], stock["location"]) == 12
    adjust_input["changes"][0]["delta"] = 3
    other = data(gql(shop, adjust, {"input": adjust_input}))
    (error,) = other["inventoryAdjustQuantities"]["userErrors"]
    assert error["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert shop.inventory(stock["shirt"], stock["location"]) == 12
    bare = SET_QUANTITIES.replace(" @idempotent(key: $key)", "").replace(
        ", $key: String!", ""
    )
    body = gql(shop, bare, {"input": set_input([row])}).json()
    assert body["data"] == {"inventorySetQuantities": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert body["errors"][0]["path"] == ["inventorySetQuantities"]
    assert shop.inventory(stock["shirt"], stock["location"]) == 12


def test_idempotency_only_on_the_mutations_that_support_it(shop, stock):
    """implementing-idempotency: the details apply only to the mutations that
    support @idempotent; on fulfillmentCreate the key deduplicates nothing."""
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 2}])
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    (fulfillment_order,) = found["fulfillmentOrders"]["nodes"]
    (line,) = fulfillment_order["lineItems"]["nodes"]
    request = {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}],
            }
        ]
    }
    keyed = FULFILL.replace(
        "fulfillmentCreate(fulfillment: $fulfillment)",
        'fulfillmentCreate(fulfillment: $fulfillment) @idempotent(key: "k")',
    )
    first = data(gql(shop, keyed, {"fulfillment": request}))["fulfillmentCreate"]
    again = data(gql(shop, keyed, {"fulfillment": request}))["fulfillmentCreate"]
    assert first["fulfillment"]["id"] != again["fulfillment"]["id"]
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    assert found["displayFulfillmentStatus"] == "FULFILLED"


def test_failed_or_running_key_is_refused_not_replayed(shop, stock):
    """IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED and IDEMPOTENCY_CONCURRENT_REQUEST
    (2026-10 InventorySetQuantitiesUserErrorCode)."""
    at, shirt = stock["location"], stock["shirt"]
    row = {"inventoryItemId": shirt, "locationId": at, "quantity": 4}
    stale = {"input": set_input([{**row, "changeFromQuantity": 9}]), "key": "k1"}
    payload = data(gql(shop, SET_QUANTITIES, stale))["inventorySetQuantities"]
    assert payload["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    payload = data(gql(shop, SET_QUANTITIES, stale))["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {
            "code": "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
            "field": None,
            "message": payload["userErrors"][0]["message"],
        }
    ]
    assert shop.inventory(shirt, at) == 10
    good = {"input": set_input([{**row, "changeFromQuantity": 10}]), "key": "k2"}
    with shop.hold_idempotency_key("k2"):
        payload = data(gql(shop, SET_QUANTITIES, good))["inventorySetQuantities"]
    assert payload["userErrors"][0]["code"] == "IDEMPOTENCY_CONCURRENT_REQUEST"
    assert shop.inventory(shirt, at) == 10
    payload = data(gql(shop, SET_QUANTITIES, good))["inventorySetQuantities"]
    assert payload["userErrors"] == [] and shop.inventory(shirt, at) == 4


def test_adjust_any_quantity_name_with_its_ledger_document(shop, stock):
    """InventoryAdjustQuantitiesUserErrorCode: INVALID_QUANTITY_DOCUMENT,
    INVALID_AVAILABLE_DOCUMENT, limits of +-2,000,000,000."""
    at, shirt = stock["location"], stock["shirt"]
    adjust = """mutation Adjust($input: InventoryAdjustQuantitiesInput!,
                                $key: String!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
        inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
        userErrors { code field message } } }"""
    counter = iter(range(100))

    def run(name, delta, ledger=None):
        change = {"inventoryItemId": shirt, "locationId": at, "delta": delta}
        change["changeFromQuantity"] = None
        if ledger:
            change["ledgerDocumentUri"] = ledger
        variables = {
            "input": {"name": name, "reason": "damaged", "changes": [change]},
            "key": f"adj-{next(counter)}",
        }
        return data(gql(shop, adjust, variables))["inventoryAdjustQuantities"]

    def codes(payload):
        return [error["code"] for error in payload["userErrors"]]

    assert codes(run("damaged", 2)) == ["INVALID_QUANTITY_DOCUMENT"]
    assert codes(run("available", 2, "odoo://x/1")) == ["INVALID_AVAILABLE_DOCUMENT"]
    assert codes(run("committed", 2, "odoo://x/1")) == ["INVALID_QUANTITY_NAME"]
    done = run("damaged", 2, "odoo://x/1")
    assert done["userErrors"] == []
    assert {
        c["name"]: c["quantityAfterChange"]
        for c in done["inventoryAdjustmentGroup"]["changes"]
    } == {"damaged": 2, "on_hand": 12}
    assert shop.inventory(shirt, at) == 10
    assert shop.inventory(shirt, at, "damaged") == 2
    assert run("available", 1_500_000_000)["userErrors"] == []
    assert codes(run("available", 600_000_000)) == ["INVALID_QUANTITY_TOO_HIGH"]


def test_refund_restock_types_move_stock_as_documented(shop, stock):
    """NO_RESTOCK moves nothing; CANCEL gives unfulfilled units back; RETURN
    restocks fulfilled ones (RefundLineItemRestockType)."""
    at, shirt = stock["location"], stock["shirt"]
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 3}])
    line_id = order["lineItems"][0]["id"]

    def remaining():
        found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
        return sum(
            line["remainingQuantity"]
            for fo in found["fulfillmentOrders"]["nodes"]
            for line in fo["lineItems"]["nodes"]
        )

    assert shop.inventory(shirt, at) == 7
    spec = {"line_item_id": line_id, "quantity": 1, "restock_type": "NO_RESTOCK"}
    shop.refund_order(order["id"], [spec])
    assert shop.inventory(shirt, at) == 7, "not restocked"
    assert shop.inventory(shirt, at, "committed") == 3 and remaining() == 3
    shop.refund_order(order["id"], [{**spec, "restock_type": "CANCEL"}])
    assert shop.inventory(shirt, at) == 8 and remaining() == 2
    shop.fulfill(order["id"])
    assert shop.inventory(shirt, at, "on_hand") == 8
    shop.refund_order(order["id"], [{**spec, "restock_type": "RETURN"}])
    assert shop.inventory(shirt, at) == 9


def test_schema_defaults_follow_the_official_schema():
    """QueryRoot.orders(sortKey:) defaults to PROCESSED_AT and
    FulfillmentInput.notifyCustomer to false in the official schema."""
    orders = SCHEMA.query_type.fields["orders"].args["sortKey"]
    notify = SCHEMA.type_map["FulfillmentInput"].fields["notifyCustomer"]
    assert orders.default_value == "PROCESSED_AT"
    assert notify.default_value is False


LEVELS = """query Levels($ids: [ID!]!, $at: ID!) { nodes(ids: $ids) {
  ... on InventoryItem { id inventoryLevel(locationId: $at) {
    quantities(names: ["available", "committed", "on_hand", "reserved",
                       "damaged", "safety_stock", "quality_control", "incoming"]) {
      name quantity } } } } }"""


def levels(shop, items, location):
    nodes = data(gql(shop, LEVELS, {"ids": items, "at": location}))["nodes"]
    return [
        {q["name"]: q["quantity"] for q in node["inventoryLevel"]["quantities"]}
        if node
        else None
        for node in nodes
    ]


def test_inventory_states_orders_commit_and_on_hand_is_their_sum(shop, stock):
    """Shopify's documented states: an order moves units from available to
    committed (on_hand unchanged), a fulfilment takes them out of committed and
    on_hand; the unavailable states count in on_hand, incoming does not."""
    shirt, at = stock["shirt"], stock["location"]
    shop.set_inventory(shirt, at, damaged=2, reserved=1, incoming=5)
    (level,) = levels(shop, [shirt], at)
    assert level == {
        "available": 10,
        "committed": 0,
        "on_hand": 13,
        "reserved": 1,
        "damaged": 2,
        "safety_stock": 0,
        "quality_control": 0,
        "incoming": 5,
    }
    first = shop.add_order(None, [{"sku": "TS-1", "quantity": 3}])
    shop.add_order(None, [{"sku": "TS-1", "quantity": 2}])
    (level,) = levels(shop, [shirt], at)
    assert (level["available"], level["committed"], level["on_hand"]) == (5, 5, 13)
    shop.fulfill(first["id"])
    (level,) = levels(shop, [shirt], at)
    assert (level["available"], level["committed"], level["on_hand"]) == (5, 2, 10)
    # setting on_hand moves available only: committed and the rest stay
    rows = [{"inventoryItemId": shirt, "locationId": at, "quantity": 12}]
    rows[0]["changeFromQuantity"] = 10
    payload = data(
        gql(shop, SET_QUANTITIES, {"input": set_input(rows, "on_hand"), "key": "oh"})
    )["inventorySetQuantities"]
    assert payload["userErrors"] == []
    (level,) = levels(shop, [shirt], at)
    assert (level["available"], level["committed"], level["on_hand"]) == (7, 2, 12)
    assert (level["damaged"], level["reserved"]) == (2, 1)


def test_stale_after_an_order_then_reread_shows_the_commitment(shop, stock):
    """The compare-and-set sees the channel's own decrement (an order)."""
    shirt, at = stock["shirt"], stock["location"]
    shop.add_order(None, [{"sku": "TS-1", "quantity": 3}])
    rows = [
        {"inventoryItemId": shirt, "locationId": at, "quantity": 11},
        {"inventoryItemId": stock["mug"], "locationId": at, "quantity": 6},
    ]
    rows[0]["changeFromQuantity"], rows[1]["changeFromQuantity"] = 10, 5
    payload = data(gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "cas"}))[
        "inventorySetQuantities"
    ]
    assert [e["code"] for e in payload["userErrors"]] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert payload["userErrors"][0]["field"][2] == "0"
    assert shop.inventory(stock["mug"], at) == 5, "nothing is applied"
    shirt_level, mug_level = levels(shop, [shirt, stock["mug"]], at)
    assert (shirt_level["available"], shirt_level["committed"]) == (7, 3)
    assert mug_level["available"] == 5


def test_deleted_variant_is_an_invalid_inventory_item(shop, stock):
    at = stock["location"]
    variant = shop.variant_by_sku("TS-1")
    shop.delete_variant(variant["id"])
    assert shop.inventory(stock["shirt"], at) is None
    rows = [
        {"inventoryItemId": stock["shirt"], "locationId": at, "quantity": 4},
        {"inventoryItemId": stock["mug"], "locationId": at, "quantity": 4},
    ]
    for row in rows:
        row["changeFromQuantity"] = None
    payload = data(
        gql(shop, SET_QUANTITIES, {"input": set_input(rows), "key": "gone"})
    )["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "INVALID_INVENTORY_ITEM"
    assert error["field"] == ["input", "quantities", "0", "inventoryItemId"]
    assert shop.inventory(stock["mug"], at) == 5, "nothing is applied"
    assert levels(shop, [stock["shirt"], stock["mug"]], at)[0] is None
    payload = data(
        gql(shop, SET_QUANTITIES, {"input": set_input(rows[1:]), "key": "rest"})
    )["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert shop.inventory(stock["mug"], at) == 4


def test_inventory_a_new_key_is_a_new_write_the_same_key_replays(shop, stock):
    """5 -> 3 -> 5 -> 3: each write under its own key applies, even with the
    values of an earlier one; a retry under an old key only replays its answer."""
    at, shirt = stock["location"], stock["shirt"]
    answers, current = {}, 10
    for key, target in (("w1", 5), ("w2", 3), ("w3", 5), ("w4", 3)):
        row = {"inventoryItemId": shirt, "locationId": at, "quantity": target}
        row["changeFromQuantity"] = current
        variables = {"input": set_input([row]), "key": key}
        answers[key] = (variables, data(gql(shop, SET_QUANTITIES, variables)))
        assert answers[key][1]["inventorySetQuantities"]["userErrors"] == []
        assert shop.inventory(shirt, at) == target
        current = target
    variables, first = answers["w3"]
    assert data(gql(shop, SET_QUANTITIES, variables)) == first
    assert shop.inventory(shirt, at) == 3, "a replay changes nothing"


def test_nodes_reads_up_to_250_ids(shop, stock):
    ids = [stock["shirt"]] * 251
    body = gql(shop, LEVELS, {"ids": ids, "at": stock["location"]}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    unknown = "gid://shopify/InventoryItem/999"
    found = levels(shop, [stock["mug"], unknown], stock["location"])
    assert found[0]["available"] == 5 and found[1] is None


# ------------------------------------------------------------- fulfillment
def test_fulfillment_partial_then_complete(shop, stock):
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 3}])
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    (fulfillment_order,) = found["fulfillmentOrders"]["nodes"]
    (line,) = fulfillment_order["lineItems"]["nodes"]
    assert line["remainingQuantity"] == 3 and line["lineItem"]["sku"] == "TS-1"

    def fulfill(quantity, tracking=None):
        request = {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fulfillment_order["id"],
                    "fulfillmentOrderLineItems": [
                        {"id": line["id"], "quantity": quantity}
                    ],
                }
            ],
            "notifyCustomer": False,
            "trackingInfo": tracking,
        }
        return data(gql(shop, FULFILL, {"fulfillment": request}))["fulfillmentCreate"]

    too_many = fulfill(4)
    assert too_many["fulfillment"] is None and too_many["userErrors"]
    first = fulfill(1, {"company": "DHL", "number": "JJD01", "url": "https://t/1"})
    assert first["fulfillment"]["status"] == "SUCCESS"
    assert first["fulfillment"]["trackingInfo"] == [
        {"company": "DHL", "number": "JJD01", "url": "https://t/1"}
    ]
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    assert found["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert found["fulfillmentOrders"]["nodes"][0]["status"] == "IN_PROGRESS"
    assert fulfill(2)["userErrors"] == []
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    assert found["displayFulfillmentStatus"] == "FULFILLED"
    assert found["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    assert fulfill(1)["userErrors"][0]["message"].endswith("status= closed.")
    assert shop.inventory(stock["shirt"], stock["location"], "committed") == 0
    assert shop.inventory(stock["shirt"], stock["location"], "on_hand") == 7


def test_one_fulfillment_per_assigned_location(shop, stock):
    """fulfillmentCreate: the fulfillment orders of one call "are assigned to
    the same location"; mixing locations is refused and changes nothing."""
    store = shop.add_location("Store")["id"]
    shop.set_inventory(stock["mug"], store, 4)
    order = shop.add_order(
        None,
        [
            {"sku": "TS-1", "quantity": 1, "location": stock["location"]},
            {"sku": "MUG-1", "quantity": 1, "location": store},
        ],
    )
    query = FULFILLMENT_ORDERS.replace(
        "nodes { id status", "nodes { id status assignedLocation { location { id } }"
    )
    found = data(gql(shop, query, {"id": order["id"]}))["order"]
    fos = found["fulfillmentOrders"]["nodes"]
    assert {fo["assignedLocation"]["location"]["id"] for fo in fos} == {
        stock["location"],
        store,
    }

    def group(fo):
        return {
            "fulfillmentOrderId": fo["id"],
            "fulfillmentOrderLineItems": [
                {"id": line["id"], "quantity": line["remainingQuantity"]}
                for line in fo["lineItems"]["nodes"]
            ],
        }

    both = {"lineItemsByFulfillmentOrder": [group(fo) for fo in fos]}
    refused = data(gql(shop, FULFILL, {"fulfillment": both}))["fulfillmentCreate"]
    assert refused["fulfillment"] is None
    assert refused["userErrors"][0]["field"] == [
        "fulfillment",
        "lineItemsByFulfillmentOrder",
    ]
    assert shop.inventory(stock["shirt"], stock["location"], "committed") == 1
    for fo in fos:
        one = {"lineItemsByFulfillmentOrder": [group(fo)]}
        made = data(gql(shop, FULFILL, {"fulfillment": one}))["fulfillmentCreate"]
        assert made["userErrors"] == []
    found = data(gql(shop, FULFILLMENT_ORDERS, {"id": order["id"]}))["order"]
    assert found["displayFulfillmentStatus"] == "FULFILLED"


def test_tracking_updated_after_the_fulfillment(shop, stock):
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    made = shop.fulfill(order["id"], {"company": "DHL", "number": "OLD"})
    update = """mutation T($id: ID!, $t: FulfillmentTrackingInput!) {
      fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $t) {
        fulfillment { id trackingInfo { company number url } }
        userErrors { field message } } }"""
    tracking = {"company": "UPS", "number": "1Z9", "url": "https://t/1Z9"}
    result = data(gql(shop, update, {"id": made["id"], "t": tracking}))
    payload = result["fulfillmentTrackingInfoUpdate"]
    assert payload["userErrors"] == []
    assert payload["fulfillment"]["trackingInfo"] == [tracking]
    unknown = {"id": "gid://shopify/Fulfillment/999", "t": tracking}
    payload = data(gql(shop, update, unknown))["fulfillmentTrackingInfoUpdate"]
    assert payload["fulfillment"] is None and payload["userErrors"]


def test_a_refund_paid_back_in_many_transactions_pages_them(shop, stock):
    """Order.transactions and Order.refunds are lists (``first`` "Truncate the
    array result to this size"); Refund.transactions is an
    OrderTransactionConnection, read with cursors (Admin GraphQL schema;
    https://shopify.dev/docs/api/usage/pagination-graphql)."""
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 2}])
    line_id = order["lineItems"][0]["id"]
    refund = shop.refund_order(
        order["id"], [{"line_item_id": line_id, "quantity": 2}], split=105
    )
    query = """query($id: ID!) { order(id: $id) {
      transactions { id kind amountSet { shopMoney { amount } } }
      refunds { id transactions(first: 20) {
        pageInfo { hasNextPage endCursor } nodes { id } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    refunds = [t for t in result["transactions"] if t["kind"] == "REFUND"]
    assert len(result["transactions"]) == 106 and len(refunds) == 105
    total = sum(Decimal(t["amountSet"]["shopMoney"]["amount"]) for t in refunds)
    assert total == Decimal(refund["amount"]) == Decimal("59.90")
    truncated = data(
        gql(
            shop,
            query.replace("transactions {", "transactions(first: 100) {"),
            {"id": order["id"]},
        )
    )
    assert len(truncated["order"]["transactions"]) == 100
    connection = result["refunds"][0]["transactions"]
    assert len(connection["nodes"]) == 20 and connection["pageInfo"]["hasNextPage"]
    page = """query($id: ID!, $after: String) { node(id: $id) { ... on Refund {
      transactions(first: 250, after: $after) {
        pageInfo { hasNextPage } nodes { id } } } } }"""
    rest = data(
        gql(
            shop,
            page,
            {"id": refund["id"], "after": connection["pageInfo"]["endCursor"]},
        )
    )["node"]["transactions"]
    assert not rest["pageInfo"]["hasNextPage"]
    ids = [n["id"] for n in connection["nodes"] + rest["nodes"]]
    assert sorted(ids) == sorted(t["id"] for t in refunds)


def test_refund_and_cancel(shop, stock):
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 2}])
    line_id = order["lineItems"][0]["id"]
    shop.fulfill(order["id"])
    shop.refund_order(order["id"], [{"line_item_id": line_id, "quantity": 1}])
    query = """query($id: ID!) { order(id: $id) { displayFinancialStatus
      lineItems(first: 1) { nodes { currentQuantity } }
      refunds { totalRefundedSet { shopMoney { amount } }
        refundLineItems(first: 5) { nodes { quantity restockType } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert result["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert result["lineItems"]["nodes"][0]["currentQuantity"] == 1
    assert result["refunds"][0]["totalRefundedSet"]["shopMoney"]["amount"] == "29.95"
    assert result["refunds"][0]["refundLineItems"]["nodes"] == [
        {"quantity": 1, "restockType": "RETURN"}
    ]
    assert shop.inventory(stock["shirt"], stock["location"]) == 9  # returned
    other = shop.add_order(None, [{"sku": "MUG-1", "quantity": 2}])
    assert shop.inventory(stock["mug"], stock["location"]) == 3
    cancelled = shop.cancel_order(other["id"], refund=True)
    assert cancelled["cancelledAt"] and cancelled["financialStatus"] == "REFUNDED"
    assert shop.inventory(stock["mug"], stock["location"]) == 5


# ------------------------------------------------------ catalog, customers
def test_searches_and_node(shop, stock):
    jane = shop.add_customer("jane@example.com", "Jane", "Doe", "+49 151 1234")
    shop.add_customer("john@example.com", "John", "Roe")
    query = """query($q: String) { customers(first: 5, query: $q) {
      nodes { id email } } }"""
    found = data(gql(shop, query, {"q": "email:jane@example.com"}))
    assert [c["id"] for c in found["customers"]["nodes"]] == [jane["id"]]
    found = data(gql(shop, query, {"q": "phone:+491511234"}))
    assert [c["id"] for c in found["customers"]["nodes"]] == [jane["id"]]
    variants = data(
        gql(shop, '{ productVariants(first: 5, query: "sku:MUG-1") { nodes { sku } } }')
    )
    assert variants["productVariants"]["nodes"] == [{"sku": "MUG-1"}]
    node_query = """query($id: ID!, $at: ID!) { node(id: $id) { id
      ... on InventoryItem { sku inventoryLevel(locationId: $at) {
        quantities(names: ["available", "on_hand", "committed"]) {
          name quantity } } } } }"""
    variables = {"id": stock["mug"], "at": stock["location"]}
    node = data(gql(shop, node_query, variables))["node"]
    assert node["sku"] == "MUG-1"
    assert node["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 5},
        {"name": "on_hand", "quantity": 5},
        {"name": "committed", "quantity": 0},
    ]


def test_product_set_creates_then_replaces_variants(shop, stock):
    mutation = """
    mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
      productSet(input: $input, identifier: $identifier, synchronous: true) {
        product { id handle options { name values }
          variants(first: 10) { nodes { sku price barcode
            inventoryItem { id } selectedOptions { name value } } } }
        userErrors { code field message } } }"""
    size = [{"name": "S"}, {"name": "M"}]
    created = data(
        gql(
            shop,
            mutation,
            {
                "input": {
                    "title": "Hoodie",
                    "productOptions": [{"name": "Size", "values": size}],
                    "variants": [
                        {
                            "sku": f"HD-{v['name']}",
                            "price": "49.00",
                            "optionValues": [{"optionName": "Size", "name": v["name"]}],
                            "inventoryQuantities": [
                                {
                                    "locationId": stock["location"],
                                    "name": "available",
                                    "quantity": 3,
                                }
                            ],
                        }
                        for v in size
                    ],
                }
            },
        )
    )["productSet"]
    assert created["userErrors"] == []
    product = created["product"]
    assert product["handle"] == "hoodie"
    assert product["options"] == [{"name": "Size", "values": ["S", "M"]}]
    assert [v["sku"] for v in product["variants"]["nodes"]] == ["HD-S", "HD-M"]
    item = product["variants"]["nodes"][0]["inventoryItem"]["id"]
    assert shop.inventory(item, stock["location"]) == 3
    updated = data(
        gql(
            shop,
            mutation,
            {
                "identifier": {"id": product["id"]},
                "input": {
                    "variants": [
                        {
                            "sku": "HD-S",
                            "price": "45.00",
                            "barcode": "400",
                            "optionValues": [{"optionName": "Size", "name": "S"}],
                        }
                    ]
                },
            },
        )
    )["productSet"]["product"]
    (variant,) = updated["variants"]["nodes"]
    assert (variant["price"], variant["barcode"]) == ("45.00", "400")
    assert variant["inventoryItem"]["id"] == item, "the variant was kept"
    assert updated["options"] == [{"name": "Size", "values": ["S"]}]


# -------------------------------------------------------- bulk operations
RUN_BULK = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { code field message } } }"""
RUN_GROUPED = """mutation($q: String!) {
  bulkOperationRunQuery(query: $q, groupObjects: true) {
    bulkOperation { id status } userErrors { code field message } } }"""
BULK_BY_ID = """query($id: ID!) { bulkOperation(id: $id) { id status errorCode
  objectCount rootObjectCount url partialDataUrl completedAt } }"""
ORDERS_WITH_LINES = (
    "{ orders { edges { node { id name "
    "lineItems { edges { node { id sku quantity } } } } } } }"
)


def run_bulk(shop, inner, *, grouped=False) -> dict:
    answer = data(gql(shop, RUN_GROUPED if grouped else RUN_BULK, {"q": inner}))
    return answer["bulkOperationRunQuery"]


def bulk_by_id(shop, operation_id) -> dict | None:
    return data(gql(shop, BULK_BY_ID, {"id": operation_id}))["bulkOperation"]


def jsonl(url) -> list[dict]:
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines()]


def misattached(lines) -> int:
    """Children that do not follow their own parent's block of lines."""
    last, wrong = None, 0
    for line in lines:
        if "__parentId" not in line:
            last = line["id"]
        elif line["__parentId"] != last:
            wrong += 1
    return wrong


def test_bulk_operation_to_jsonl(shop, stock):
    first = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    shop.add_order(
        None, [{"sku": "TS-1", "quantity": 1}, {"sku": "MUG-1", "quantity": 2}]
    )
    inner = (
        "{ orders { edges { node { id name "
        "lineItems { edges { node { id sku } } } } } } }"
    )
    started = run_bulk(shop, inner, grouped=True)
    assert (
        started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    )
    operation = started["bulkOperation"]["id"]
    assert bulk_by_id(shop, operation)["status"] == "RUNNING"
    shop.clock.advance(shop.bulk_seconds)
    done = bulk_by_id(shop, operation)
    assert done["status"] == "COMPLETED"
    assert (done["objectCount"], done["rootObjectCount"]) == ("5", "2")
    lines = jsonl(done["url"])
    # groupObjects: true, each child right after its parent
    assert lines[0] == {"id": first["id"], "name": "#1001"}
    assert lines[1] == {
        "id": first["lineItems"][0]["id"],
        "sku": "TS-1",
        "__parentId": first["id"],
    }
    assert [line.get("__parentId") is None for line in lines] == [
        True,
        False,
        True,
        False,
        False,
    ]
    bad = run_bulk(shop, "{ orders { edges { node { bogus } } } }")
    assert bad["userErrors"][0]["code"] == "INVALID"
    # products with their variants; finish_bulk() does not wait for the clock
    inner = "{ products { nodes { id title variants { nodes { id sku } } } } }"
    started = run_bulk(shop, inner, grouped=True)
    assert started["userErrors"] == []
    shop.finish_bulk(started["bulkOperation"]["id"])
    lines = jsonl(bulk_by_id(shop, started["bulkOperation"]["id"])["url"])
    assert [(line.get("title"), line.get("sku")) for line in lines] == [
        ("T-Shirt", None),
        (None, "TS-1"),
        ("Mug", None),
        (None, "MUG-1"),
    ]
    assert lines[1]["__parentId"] == lines[0]["id"]
    # currentBulkOperation, deprecated, still reads the newest one
    current = data(gql(shop, "{ currentBulkOperation { id status } }"))
    assert current["currentBulkOperation"] == {
        "id": started["bulkOperation"]["id"],
        "status": "COMPLETED",
    }


def test_bulk_lines_are_not_grouped_by_default(shop, stock):
    """From 2026-01 ``groupObjects`` defaults to false: only ``__parentId``
    ties a child to its parent, which may come later or far before."""
    run_query = SCHEMA.mutation_type.fields["bulkOperationRunQuery"]
    assert run_query.args["groupObjects"].default_value is False
    orders = [
        shop.add_order(
            None,
            [
                {"sku": "TS-1", "quantity": n},
                {"sku": "MUG-1", "quantity": n},
                {"sku": "TS-1", "quantity": n + 10},
            ],
        )
        for n in (1, 2, 3, 4)
    ]
    parents = {
        line["id"]: order["id"] for order in orders for line in order["lineItems"]
    }
    started = run_bulk(shop, ORDERS_WITH_LINES)  # no groupObjects argument
    assert started["userErrors"] == []
    shop.finish_bulk(started["bulkOperation"]["id"])
    done = bulk_by_id(shop, started["bulkOperation"]["id"])
    assert (done["objectCount"], done["rootObjectCount"]) == ("16", "4")
    lines = jsonl(done["url"])
    children = [line for line in lines if "__parentId" in line]
    assert {line["id"]: line["__parentId"] for line in children} == parents
    assert sorted(line["id"] for line in lines if "__parentId" not in line) == sorted(
        order["id"] for order in orders
    )
    position = {line["id"]: index for index, line in enumerate(lines)}
    assert any(position[c["id"]] < position[c["__parentId"]] for c in children)
    assert misattached(lines) > 0, "'the last order seen' is not the parent"
    # asked for, the grouping is kept
    started = run_bulk(shop, ORDERS_WITH_LINES, grouped=True)
    shop.finish_bulk(started["bulkOperation"]["id"])
    grouped = jsonl(bulk_by_id(shop, started["bulkOperation"]["id"])["url"])
    assert misattached(grouped) == 0
    assert sorted(map(json.dumps, grouped)) == sorted(map(json.dumps, lines))


def test_five_bulk_queries_run_at_a_time(shop, stock):
    shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    inner = "{ orders { edges { node { id name } } } }"
    started = [run_bulk(shop, inner) for _ in range(5)]
    assert [answer["userErrors"] for answer in started] == [[]] * 5
    ids = [answer["bulkOperation"]["id"] for answer in started]
    assert len(set(ids)) == 5
    sixth = run_bulk(shop, inner)
    assert sixth["bulkOperation"] is None
    assert [(e["code"], e["field"]) for e in sixth["userErrors"]] == [
        ("LIMIT_REACHED", None)
    ]
    assert [bulk_by_id(shop, i)["status"] for i in ids] == ["RUNNING"] * 5
    assert bulk_by_id(shop, "gid://shopify/BulkOperation/999999") is None
    listing = """query($q: String, $reverse: Boolean, $first: Int) {
      bulkOperations(first: $first, query: $q, reverse: $reverse) {
        nodes { id status } pageInfo { hasNextPage } } }"""

    def listed(**variables):
        variables.setdefault("first", 10)
        return data(gql(shop, listing, variables))["bulkOperations"]

    assert [n["id"] for n in listed()["nodes"]] == ids[::-1], "newest first"
    assert [n["id"] for n in listed(reverse=True)["nodes"]] == ids
    assert listed(first=2)["pageInfo"]["hasNextPage"] is True
    shop.finish_bulk(ids[0])
    running = listed(q="status:running operation_type:query")["nodes"]
    assert [n["id"] for n in running] == ids[:0:-1]
    assert [n["id"] for n in listed(q="status:completed")["nodes"]] == [ids[0]]
    # a finished one frees its place
    assert run_bulk(shop, inner)["userErrors"] == []
    assert run_bulk(shop, inner)["userErrors"][0]["code"] == "LIMIT_REACHED"


def test_bulk_cancel_goes_through_canceling_and_notifies(shop, stock, receiver):
    create = """
    mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        userErrors { message } } }"""
    variables = {"topic": "BULK_OPERATIONS_FINISH", "sub": {"uri": receiver.url}}
    assert data(gql(shop, create, variables))["webhookSubscriptionCreate"] == {
        "userErrors": []
    }
    shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    operation = run_bulk(shop, ORDERS_WITH_LINES)["bulkOperation"]["id"]
    cancel = """mutation($id: ID!) { bulkOperationCancel(id: $id) {
      bulkOperation { id status } userErrors { field message } } }"""
    answer = data(gql(shop, cancel, {"id": operation}))["bulkOperationCancel"]
    assert answer == {
        "bulkOperation": {"id": operation, "status": "CANCELING"},
        "userErrors": [],
    }
    assert bulk_by_id(shop, operation)["status"] == "CANCELING"
    assert receiver.deliveries == []
    again = data(gql(shop, cancel, {"id": operation}))["bulkOperationCancel"]
    assert again["userErrors"][0]["field"] == ["id"]
    shop.clock.advance(shop.bulk_cancel_seconds)
    canceled = bulk_by_id(shop, operation)
    assert canceled["status"] == "CANCELED"
    assert canceled["url"] is None and canceled["completedAt"]
    ((headers, raw),) = receiver.deliveries
    assert headers["X-Shopify-Topic"] == "bulk_operations/finish"
    body = json.loads(raw)
    assert (body["admin_graphql_api_id"], body["status"]) == (operation, "canceled")
    # the time it needed passes: it stays canceled, nothing more is sent
    shop.clock.advance(shop.bulk_seconds)
    assert bulk_by_id(shop, operation)["status"] == "CANCELED"
    assert len(receiver.deliveries) == 1


def test_failed_bulk_operation_serves_its_partial_data(shop, stock):
    for n in (1, 2, 3):
        shop.add_order(None, [{"sku": "TS-1", "quantity": n}])
    timed_out = run_bulk(shop, ORDERS_WITH_LINES)["bulkOperation"]["id"]
    shop.finish_bulk(timed_out, status="FAILED", error_code="TIMEOUT")
    failed = bulk_by_id(shop, timed_out)
    assert (failed["status"], failed["errorCode"]) == ("FAILED", "TIMEOUT")
    assert failed["url"] is None and failed["partialDataUrl"]
    partial = jsonl(failed["partialDataUrl"])
    assert len(partial) == int(failed["objectCount"]) == 3, "half of six lines"
    denied = run_bulk(shop, ORDERS_WITH_LINES)["bulkOperation"]["id"]
    shop.finish_bulk(denied, status="FAILED", error_code="ACCESS_DENIED")
    failed = bulk_by_id(shop, denied)
    assert (failed["partialDataUrl"], failed["objectCount"]) == (None, "0")
    # the partial data URL, too, lives seven days
    url = bulk_by_id(shop, timed_out)["partialDataUrl"]
    shop.clock.advance(7 * 86400 + 1)
    assert requests.get(url, timeout=5).status_code == 400


def test_completed_bulk_operation_expires_after_seven_days(shop, stock):
    shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    operation = run_bulk(shop, ORDERS_WITH_LINES)["bulkOperation"]["id"]
    shop.finish_bulk(operation)
    shop.clock.advance(7 * 86400)
    assert bulk_by_id(shop, operation)["status"] == "COMPLETED"
    shop.clock.advance(1)
    assert bulk_by_id(shop, operation)["status"] == "EXPIRED"


def test_bulk_query_connection_limits(shop, stock):
    """At most five connections, nested at most two levels deep."""

    def connection(name) -> str:
        return f"{name} {{ edges {{ node {{ id }} }} }}"

    five = " ".join(
        connection(f"{alias}: {name}")
        for alias, name in (
            ("a", "lineItems"),
            ("b", "lineItems"),
            ("c", "shippingLines"),
            ("d", "fulfillmentOrders"),
        )
    )
    inner = "{ orders { edges { node { id " + five + " } } } }"
    assert run_bulk(shop, inner)["userErrors"] == []
    six = five + " " + connection("e: shippingLines")
    inner = "{ orders { edges { node { id " + six + " } } } }"
    (error,) = run_bulk(shop, inner)["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID", ["query"])
    assert "more than 5 connections" in error["message"]
    deep = (
        "{ orders { edges { node { id fulfillmentOrders { edges { node { id "
        + connection("lineItems")
        + " } } } } } } }"
    )
    (error,) = run_bulk(shop, deep)["userErrors"]
    assert error["code"] == "INVALID" and "2 levels deep" in error["message"]


def test_bulk_result_is_a_signed_url_on_the_storage_host(shop, stock):
    """The file is not on the shop's API host: anyone with the signed URL may
    download it for seven days, and the storage records what it was sent."""
    shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    run = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
      bulkOperation { id } userErrors { code } } }"""
    data(gql(shop, run, {"q": "{ orders { edges { node { id name } } } }"}))
    shop.finish_bulk()
    poll = "{ currentBulkOperation { status url } }"
    url = data(gql(shop, poll))["currentBulkOperation"]["url"]
    parsed, api = urlparse(url), urlparse(shop.url)
    assert parsed.netloc != api.netloc, "another host than the Admin API"
    assert parsed.path.startswith(
        "/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/"
    )
    query = parse_qs(parsed.query)
    assert set(query) == {"GoogleAccessId", "Expires", "Signature"}
    assert int(query["Expires"][0]) == int(EPOCH) + 7 * 86400
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200
    assert json.loads(answer.text.splitlines()[0])["name"] == "#1001"
    (received,) = shop.storage.requests()
    assert "X-Shopify-Access-Token" not in received.headers
    assert shop.requests(parsed.path) == [], "the API host never saw the download"
    forged = url.replace(query["Expires"][0], str(int(EPOCH) + 30 * 86400))
    refused = requests.get(forged, timeout=5)
    assert refused.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in refused.text
    shop.clock.advance(7 * 86400 + 1)
    expired = requests.get(url, timeout=5)
    assert expired.status_code == 400
    assert "<Code>ExpiredToken</Code>" in expired.text


# ---------------------------------------------------------------- webhooks
def test_webhook_delivery_is_signed_with_a_stable_event_id(shop, stock, receiver):
    create = """
    mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        webhookSubscription { id topic uri } userErrors { field message } } }"""
    for topic in ("ORDERS_CREATE", "BULK_OPERATIONS_FINISH"):
        made = data(gql(shop, create, {"topic": topic, "sub": {"uri": receiver.url}}))[
            "webhookSubscriptionCreate"
        ]
        assert (
            made["userErrors"] == [] and made["webhookSubscription"]["topic"] == topic
        )
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    (event,) = shop.emit("orders/create", order["id"], deliver=False)
    shop.flush_webhooks(duplicate_every=1)
    assert len(receiver.deliveries) == 2
    (h1, raw1), (h2, raw2) = receiver.deliveries
    assert raw1 == raw2
    assert verify(raw1, h1["X-Shopify-Hmac-Sha256"], "csecret")
    expected = base64.b64encode(
        hmac.new(b"csecret", raw1, hashlib.sha256).digest()
    ).decode()
    assert h1["X-Shopify-Hmac-Sha256"] == expected == sign(raw1, "csecret")
    assert h1["X-Shopify-Topic"] == "orders/create"
    assert h1["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
    assert h1["X-Shopify-Api-Version"] == "2026-10"
    assert h1["X-Shopify-Event-Id"] == h2["X-Shopify-Event-Id"] == event["id"]
    assert h1["X-Shopify-Webhook-Id"] != h2["X-Shopify-Webhook-Id"]
    uuid.UUID(h1["X-Shopify-Webhook-Id"])
    assert h1["X-Shopify-Triggered-At"].endswith("Z")
    payload = json.loads(raw1)
    assert payload["admin_graphql_api_id"] == order["id"]
    assert payload["line_items"][0]["sku"] == "TS-1"
    # a finished bulk operation notifies its subscribers
    run = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
      userErrors { message } } }"""
    products = "{ products { edges { node { id } } } }"
    assert data(gql(shop, run, {"q": products}))["bulkOperationRunQuery"] == {
        "userErrors": []
    }
    shop.finish_bulk()
    headers, raw = receiver.deliveries[-1]
    assert headers["X-Shopify-Topic"] == "bulk_operations/finish"
    assert json.loads(raw)["status"] == "completed"


def test_orders_older_than_60_days_need_read_all_orders(shop, stock):
    old = shop.add_order(
        None,
        [{"sku": "TS-1", "quantity": 1}],
        created_at=utc_iso(EPOCH - 61 * 86400),
    )
    recent = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    one = "query($id: ID!) { order(id: $id) { id } }"
    many = "{ orders(first: 10) { nodes { id } } }"
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert data(gql(shop, one, {"id": old["id"]}))["order"] is None
    assert data(gql(shop, one, {"id": recent["id"]}))["order"]["id"] == recent["id"]
    listed = [n["id"] for n in data(gql(shop, many))["orders"]["nodes"]]
    assert listed == [recent["id"]]
    assert data(gql(shop, nodes, {"ids": [old["id"]]}))["nodes"] == [None]
    scopes = "{ currentAppInstallation { accessScopes { handle } } }"
    granted = data(gql(shop, scopes))["currentAppInstallation"]["accessScopes"]
    assert "read_all_orders" not in {s["handle"] for s in granted}
    shop.scope += ",read_all_orders"
    granted = data(gql(shop, scopes))["currentAppInstallation"]["accessScopes"]
    assert "read_all_orders" in {s["handle"] for s in granted}
    assert data(gql(shop, one, {"id": old["id"]}))["order"]["id"] == old["id"]
    assert len(data(gql(shop, many))["orders"]["nodes"]) == 2


class FailingReceiver(Receiver):
    """An endpoint that answers 503 until ``up`` is set."""

    up = False

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.deliveries.append((dict(request.headers), request.get_data()))
        status = 200 if self.up else 503
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture
def failing_receiver():
    app = FailingReceiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/hooks"
        yield app


def subscribe(shop, topic, uri):
    create = """
    mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        webhookSubscription { id } userErrors { message } } }"""
    made = data(gql(shop, create, {"topic": topic, "sub": {"uri": uri}}))
    return made["webhookSubscriptionCreate"]["webhookSubscription"]["id"]


def subscription_ids(shop):
    query = "{ webhookSubscriptions(first: 50) { nodes { id } } }"
    return {n["id"] for n in data(gql(shop, query))["webhookSubscriptions"]["nodes"]}


def test_failed_delivery_is_retried_with_the_same_event_on_the_clock(
    shop, stock, failing_receiver
):
    subscribe(shop, "ORDERS_CREATE", failing_receiver.url)
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    (event,) = shop.emit("orders/create", order["id"], deliver=True)
    assert len(failing_receiver.deliveries) == 1
    assert shop.webhooks.deliver_due() == [], "nothing is due before the backoff"
    shop.clock.advance(60)
    failing_receiver.up = True
    assert [status for status, _ in shop.webhooks.deliver_due()] == [200]
    (h1, raw1), (h2, raw2) = failing_receiver.deliveries
    assert raw1 == raw2, "a retry sends the original payload"
    assert h1["X-Shopify-Event-Id"] == h2["X-Shopify-Event-Id"] == event["id"]
    assert h1["X-Shopify-Triggered-At"] == h2["X-Shopify-Triggered-At"]
    assert h1["X-Shopify-Webhook-Id"] != h2["X-Shopify-Webhook-Id"]
    shop.clock.advance(5 * 3600)
    assert shop.webhooks.deliver_due() == [], "a delivered event is not retried"


def test_eight_failed_retries_over_four_hours_delete_the_subscription(
    shop, stock, failing_receiver, receiver
):
    failing = subscribe(shop, "ORDERS_CREATE", failing_receiver.url)
    healthy = subscribe(shop, "ORDERS_CREATE", receiver.url)
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    shop.emit("orders/create", order["id"], deliver=True)
    start = shop.clock.now()
    for retry in range(8):
        assert failing in subscription_ids(shop), f"still there before retry {retry}"
        shop.clock.advance(max(WEBHOOK_RETRY_DELAYS))  # past any backoff step
        assert len(shop.webhooks.deliver_due()) == 1
    assert len(failing_receiver.deliveries) == 9, "the first attempt and 8 retries"
    assert subscription_ids(shop) == {healthy}, "only the failing one is deleted"
    assert len(receiver.deliveries) == 1, "the healthy endpoint got it once"
    shop.clock.advance(24 * 3600)
    assert shop.webhooks.deliver_due() == []
    assert sum(WEBHOOK_RETRY_DELAYS) == 4 * 3600
    assert shop.clock.now() > start


def test_delivery_gives_up_after_five_seconds(shop):
    assert shop.webhooks.timeout == 5.0


def test_auto_webhooks_follow_api_writes(shop, stock, receiver):
    shop.auto_webhooks = True
    shop.webhook_url = receiver.url
    row = {
        "inventoryItemId": stock["mug"],
        "locationId": stock["location"],
        "quantity": 1,
        "changeFromQuantity": 5,
    }
    for _ in range(2):  # the replay sends nothing
        data(gql(shop, SET_QUANTITIES, {"input": set_input([row]), "key": "x"}))
    (headers, raw), *_ = receiver.deliveries
    assert len(receiver.deliveries) == 1
    assert headers["X-Shopify-Topic"] == "inventory_levels/update"
    assert json.loads(raw)["available"] == 1


def test_admin_routes_seed_and_emit(shop, receiver):
    url = f"{shop.url}/__sandbox__"
    shop.webhook_url = receiver.url
    location = requests.post(url + "/locations", json={"name": "W"}, timeout=5).json()
    product = {"title": "Cap", "variants": [{"sku": "CAP", "price": "9.00"}]}
    assert requests.post(url + "/products", json=product, timeout=5).status_code == 201
    order = requests.post(
        url + "/orders",
        json={"lines": [{"sku": "CAP", "quantity": 1}], "location": location["id"]},
        timeout=5,
    ).json()
    emitted = requests.post(
        url + "/emit", json={"topic": "orders/create", "id": order["id"]}, timeout=5
    )
    assert emitted.status_code == 200 and len(receiver.deliveries) == 1
    history = requests.get(url + "/webhooks", timeout=5).json()["history"]
    assert history[0]["status"] == 200


def test_store_currency_changes_only_before_the_first_sale(shop):
    url = f"{shop.url}/__sandbox__"
    answer = requests.post(url + "/config", json={"currency": "USD"}, timeout=5)
    assert answer.json()["currency"] == "USD"
    requests.post(
        url + "/products",
        json={"title": "Cap", "variants": [{"sku": "CAP", "price": "9.00"}]},
        timeout=5,
    )
    order = requests.post(
        url + "/orders", json={"lines": [{"sku": "CAP", "quantity": 1}]}, timeout=5
    ).json()
    assert order["currency"] == "USD"
    refused = requests.post(url + "/config", json={"currency": "EUR"}, timeout=5)
    assert refused.status_code == 400 and shop.currency == "USD"
    bogus = requests.post(url + "/config", json={"currency": "XXY"}, timeout=5)
    assert bogus.status_code == 400


def test_registered_after_testshop():
    # new sandboxes are appended: Shopify's demo port never moves
    assert list(available())[:2] == ["testshop", "shopify"]


# --------------------------------------------------------------- contracts
def contract(relative: str) -> Path:
    path = SHOPIFY_CONTRACTS / relative
    if not path.exists():
        if os.environ.get("RC_REQUIRE_CONTRACTS") == "1":
            pytest.fail(f"RC_REQUIRE_CONTRACTS=1 but {path} is missing")
        pytest.skip(f"contracts folder absent ({path}); set RC_CONTRACTS to check")
    return path


def has_default(value) -> bool:
    default = getattr(value, "default_value", Undefined)
    if default is Undefined:  # graphql-core 3.3 keeps SDL defaults here
        default = getattr(value, "default", None) or Undefined
    return default is not Undefined


def schema_differences(ours, official) -> list[str]:
    problems = []
    for name, mine in ours.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        theirs = official.type_map.get(name)
        if theirs is None and name in SCHEMA_ADDITIONS:
            continue
        if theirs is None or type(theirs) is not type(mine):
            problems.append(f"type {name}: missing or another kind")
            continue
        if isinstance(mine, GraphQLEnumType):
            problems += [
                f"enum value {name}.{value}"
                for value in mine.values
                if value not in theirs.values
                and f"{name}.{value}" not in SCHEMA_ADDITIONS
            ]
            continue
        if isinstance(mine, GraphQLObjectType | GraphQLInterfaceType):
            extra = {i.name for i in mine.interfaces} - {
                i.name for i in theirs.interfaces
            }
            problems += [f"{name} implements {i}" for i in sorted(extra)]
        if not hasattr(mine, "fields"):
            continue
        for field_name, field in mine.fields.items():
            key = f"{name}.{field_name}"
            other = theirs.fields.get(field_name)
            if other is None:
                if key not in SCHEMA_ADDITIONS:
                    problems.append(f"field {key}")
                continue
            if str(field.type) != str(other.type):
                problems.append(f"field {key}: {field.type} != {other.type}")
            for arg_name, arg in getattr(field, "args", {}).items():
                other_arg = other.args.get(arg_name)
                if other_arg is None or str(arg.type) != str(other_arg.type):
                    problems.append(f"argument {key}({arg_name})")
            for arg_name, other_arg in getattr(other, "args", {}).items():
                required = is_non_null_type(other_arg.type) and not has_default(
                    other_arg
                )
                if required and arg_name not in field.args:
                    problems.append(f"required argument {key}({arg_name}) absent")
        if isinstance(mine, GraphQLInputObjectType):
            for field_name, other in theirs.fields.items():
                required = is_non_null_type(other.type) and not has_default(other)
                if required and field_name not in mine.fields:
                    problems.append(f"required input field {name}.{field_name} absent")
    official_directives = {d.name for d in official.directives}
    problems += [
        f"directive @{d.name}"
        for d in ours.directives
        if d.name not in official_directives and f"@{d.name}" not in SCHEMA_ADDITIONS
    ]
    return problems


def test_contract_schema_is_a_subset_of_the_official_one():
    path = contract("graphql/shopify-cli/admin_schema.graphql")
    official = build_schema(path.read_text(encoding="utf-8"), assume_valid=True)
    assert schema_differences(SCHEMA, official) == []
    # the checker itself catches a wrong type
    broken = SCHEMA_PATH.read_text().replace(
        "  name: String!\n  email", "  name: Int\n  email"
    )
    assert schema_differences(build_schema(broken), official) == [
        "field Shop.name: Int != String!"
    ]


def kind(path: str) -> str:
    """Normalise a key path: every line item and every tax line is one kind."""
    if path.endswith("tax_lines[]"):
        return "<tax line>"
    if path == "line_items[]" or path.endswith((".line_items[]", ".line_item")):
        return "<line item>"
    return path


def key_paths(value, prefix="", paths=None) -> dict[str, set]:
    """``{normalised path: keys}`` of the objects in a JSON value."""
    paths = {} if paths is None else paths
    if isinstance(value, dict):
        paths.setdefault(kind(prefix), set()).update(value)
        for key, item in value.items():
            key_paths(item, f"{prefix}.{key}" if prefix else key, paths)
    elif isinstance(value, list):
        for item in value:
            key_paths(item, f"{prefix}[]", paths)
    return paths


def fixture_keys(*relatives) -> dict[str, set]:
    """Keys per path over fixtures (each unwrapped from its root key)."""
    merged: dict[str, set] = {}
    for relative in relatives:
        body = json.loads(contract(relative).read_text(encoding="utf-8"))
        (body,) = body.values()
        for path, keys in key_paths(body).items():
            merged.setdefault(path, set()).update(keys)
    return merged


def unknown_keys(payload, reference, skip=()) -> list[str]:
    problems = []
    for path, keys in key_paths(payload).items():
        if path.startswith(skip):
            continue
        known = reference.get(path)
        if known is None:
            problems.append(f"{path or '<root>'}: no such object in the fixtures")
            continue
        extra = keys - known - REST_ADDITIONS.get(path, set())
        problems += [f"{path or '<root>'}.{key}" for key in sorted(extra)]
    return problems


def test_contract_webhook_payloads_use_the_fixtures_keys(shop, stock):
    fixtures = {
        "order": [
            "shopify_python_api/order.json",
            "shopify_api_ruby/order_with_properties.json",
        ],
        "refund": ["shopify_python_api/refund.json"],
        "customer": [
            "shopify_python_api/customer.json",
            "shopify_api_ruby/customers.json",
        ],
        "level": ["shopify_python_api/inventory_level.json"],
    }
    keys = {
        name: fixture_keys(*(f"rest-fixtures/{path}" for path in paths))
        for name, paths in fixtures.items()
    }
    keys["order"] = {
        **fixture_keys("webhooks/shopify-fulfillment-integration/order.json"),
        **keys["order"],
    }
    # line items and tax lines have one shape wherever they appear
    shared = {}
    for reference in keys.values():
        for path in ("<line item>", "<tax line>"):
            shared.setdefault(path, set()).update(reference.get(path, ()))
    for reference in keys.values():
        reference.update(shared)
    customer = shop.add_customer(
        "jane@example.com",
        "Jane",
        "Doe",
        "+4915112345678",
        address={"address1": "Hauptstr. 1", "city": "Berlin", "countryCode": "DE"},
    )
    order = shop.add_order(
        customer["id"],
        [{"sku": "TS-1", "quantity": 2}],
        shipping={"title": "DHL", "price": "4.90"},
        taxes=[{"title": "VAT", "rate": 0.19}],
    )
    shop.fulfill(order["id"], {"company": "DHL", "number": "1", "url": "https://t"})
    line_id = order["lineItems"][0]["id"]
    refund = shop.refund_order(order["id"], [{"line_item_id": line_id, "quantity": 1}])
    order_payload = shop.payload("orders/updated", order["id"])
    assert order_payload["refunds"] and order_payload["fulfillments"]
    assert unknown_keys(order_payload, keys["order"], skip="refunds[]") == []
    for nested in order_payload["refunds"]:
        assert unknown_keys(nested, keys["refund"]) == []
    refund_payload = shop.payload("refunds/create", refund["id"])
    assert unknown_keys(refund_payload, keys["refund"]) == []
    customer_payload = shop.payload("customers/update", customer["id"])
    assert unknown_keys(customer_payload, keys["customer"]) == []
    level = shop.payload("inventory_levels/update", (stock["shirt"], stock["location"]))
    assert unknown_keys(level, keys["level"]) == []


# ------------------------------------------------- money, currency, payment
def test_presentment_currency_money_bags_keep_shop_money(shop, stock):
    """An order paid in USD in a EUR shop: every MoneyBag has shopMoney in EUR
    and presentmentMoney in USD (MoneyBag, Admin GraphQL); REST refunds give
    line subtotals and transactions in the customer's currency."""
    order = shop.add_order(
        None,
        [{"sku": "TS-1", "quantity": 2}],
        presentment_currency="USD",
        presentment_rate="1.10",
    )
    line_id = order["lineItems"][0]["id"]
    refund = shop.refund_order(order["id"], [{"line_item_id": line_id, "quantity": 1}])
    query = """query($id: ID!) { order(id: $id) {
      currencyCode presentmentCurrencyCode
      currentTotalPriceSet { shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode } }
      lineItems(first: 1) { nodes { originalUnitPriceSet {
        shopMoney { amount } presentmentMoney { amount currencyCode } } } }
      transactions { kind amountSet { shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode } } }
      refunds { totalRefundedSet { shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert (result["currencyCode"], result["presentmentCurrencyCode"]) == (
        "EUR",
        "USD",
    )
    total = result["currentTotalPriceSet"]
    assert total["shopMoney"] == {"amount": "29.95", "currencyCode": "EUR"}
    assert total["presentmentMoney"] == {"amount": "32.95", "currencyCode": "USD"}
    unit = result["lineItems"]["nodes"][0]["originalUnitPriceSet"]
    assert unit["shopMoney"]["amount"] == "29.95"
    assert unit["presentmentMoney"] == {"amount": "32.95", "currencyCode": "USD"}
    sale, back = result["transactions"]
    assert sale["amountSet"]["shopMoney"] == {"amount": "59.90", "currencyCode": "EUR"}
    assert sale["amountSet"]["presentmentMoney"]["currencyCode"] == "USD"
    assert back["amountSet"]["presentmentMoney"]["amount"] == "32.95"
    refunded = result["refunds"][0]["totalRefundedSet"]
    assert refunded["shopMoney"] == {"amount": "29.95", "currencyCode": "EUR"}
    assert refunded["presentmentMoney"] == {"amount": "32.95", "currencyCode": "USD"}
    payload = shop.payload("refunds/create", refund["id"])
    assert payload["transactions"][0]["amount"] == "32.95"
    assert payload["transactions"][0]["currency"] == "USD"
    assert payload["refund_line_items"][0]["subtotal"] == "32.95"
    assert shop.payload("orders/updated", order["id"])["currency"] == "EUR"
    with pytest.raises(ValueError):
        shop.add_order(None, [{"sku": "MUG-1"}], presentment_currency="USD")


def test_order_transactions_as_shopify_documents_them(shop, stock):
    """Order.transactions (OrderTransaction, Admin GraphQL,
    https://shopify.dev/docs/api/admin-graphql/latest/objects/OrderTransaction):
    kind, status, gateway, amountSet in shop and presentment money,
    processedAt and parentTransaction. A declined attempt stays a FAILURE
    (OrderTransactionStatus); marking an authorized order paid captures the
    authorization (orderMarkAsPaid: "capture an existing authorized
    transaction"), the capture's parent being the authorization; a refund's
    parent is the successful sale, through the sale's gateway."""
    query = """query($id: ID!) { order(id: $id) { displayFinancialStatus
      transactions { id kind status gateway processedAt
        amountSet { shopMoney { amount currencyCode }
          presentmentMoney { amount currencyCode } }
        parentTransaction { id kind } } } }"""
    paid = shop.add_order(
        None,
        [{"sku": "MUG-1", "quantity": 2}],
        gateway="paypal",
        declined=1,
        presentment_currency="USD",
        presentment_rate="1.10",
    )
    line_id = paid["lineItems"][0]["id"]
    shop.refund_order(paid["id"], [{"line_item_id": line_id, "quantity": 1}])
    failed, sale, refund = data(gql(shop, query, {"id": paid["id"]}))["order"][
        "transactions"
    ]
    assert (failed["kind"], failed["status"], failed["gateway"]) == (
        "SALE",
        "FAILURE",
        "paypal",
    )
    assert (sale["kind"], sale["status"], sale["gateway"]) == (
        "SALE",
        "SUCCESS",
        "paypal",
    )
    assert sale["amountSet"]["shopMoney"] == {"amount": "25.00", "currencyCode": "EUR"}
    assert sale["amountSet"]["presentmentMoney"] == {
        "amount": "27.50",
        "currencyCode": "USD",
    }
    assert sale["processedAt"] and sale["parentTransaction"] is None
    assert (refund["kind"], refund["gateway"]) == ("REFUND", "paypal")
    assert refund["parentTransaction"] == {"id": sale["id"], "kind": "SALE"}
    assert refund["amountSet"]["shopMoney"]["amount"] == "12.50"

    held = shop.add_order(
        None, [{"sku": "MUG-1"}], financial_status="AUTHORIZED", gateway="manual"
    )
    shop.update_order(held["id"], financial_status="PAID")
    result = data(gql(shop, query, {"id": held["id"]}))["order"]
    assert result["displayFinancialStatus"] == "PAID"
    authorization, capture = result["transactions"]
    assert authorization["kind"] == "AUTHORIZATION"
    assert (capture["kind"], capture["status"], capture["gateway"]) == (
        "CAPTURE",
        "SUCCESS",
        "manual",
    )
    assert capture["parentTransaction"] == {
        "id": authorization["id"],
        "kind": "AUTHORIZATION",
    }
    assert capture["amountSet"]["shopMoney"]["amount"] == "12.50"


def test_partially_paid_until_the_rest_is_captured(shop, stock):
    """PARTIALLY_PAID: "a payment was manually captured for the order with an
    amount less than the full order value" (OrderDisplayFinancialStatus)."""
    order = shop.add_order(
        None, [{"sku": "MUG-1", "quantity": 2}], financial_status="PARTIALLY_PAID"
    )
    query = """query($id: ID!) { order(id: $id) { displayFinancialStatus
      transactions { kind amountSet { shopMoney { amount } } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert result["displayFinancialStatus"] == "PARTIALLY_PAID"
    assert [t["amountSet"]["shopMoney"]["amount"] for t in result["transactions"]] == [
        "12.50"
    ]
    shop.update_order(order["id"], financial_status="PAID")
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert result["displayFinancialStatus"] == "PAID"
    paid = [t["amountSet"]["shopMoney"]["amount"] for t in result["transactions"]]
    assert paid == ["12.50", "12.50"]
    with pytest.raises(ValueError):
        shop.add_order(None, [{"sku": "MUG-1"}], financial_status="HALF_PAID")


def test_compliance_webhooks_go_to_the_compliance_url_signed(shop, receiver):
    """The three mandatory compliance topics carry the documented bodies
    (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance),
    go to the app's compliance URL only, signed like any webhook; no Admin API
    subscription can be made to them."""
    jane = shop.add_customer("jane@example.com", "Jane", "Doe", "+4915112345678")
    order = shop.add_order(jane["id"], [{"sku": "X", "quantity": 1, "price": "5"}])
    other = shop.add_order(None, [{"sku": "X", "quantity": 1, "price": "5"}])
    shop.webhook_url = receiver.url + "/ordinary"
    with pytest.raises(ValueError, match="compliance_url"):
        shop.redact_shop()
    assert receiver.deliveries == []
    shop.compliance_url = receiver.url
    customer = {"id": gid_number(jane["id"]), "email": jane["email"]}
    customer["phone"] = "+4915112345678"
    shop.request_customer_data(jane["id"])
    shop.redact_customer(jane["id"])
    shop.redact_shop()
    (h1, raw1), (h2, raw2), (h3, raw3) = receiver.deliveries
    assert [h["X-Shopify-Topic"] for h, _raw in receiver.deliveries] == [
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    ]
    for headers, raw in receiver.deliveries:
        assert verify(raw, headers["X-Shopify-Hmac-Sha256"], "csecret")
        assert headers["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"]
    assert {d.event["url"] for d in shop.webhooks.history} == {receiver.url}
    request = json.loads(raw1)
    assert request == {
        "shop_id": 1,
        "shop_domain": "acme.myshopify.com",
        "orders_requested": [gid_number(order["id"])],
        "customer": customer,
        "data_request": {"id": request["data_request"]["id"]},
    }
    assert isinstance(request["data_request"]["id"], int)
    assert json.loads(raw2) == {
        "shop_id": 1,
        "shop_domain": "acme.myshopify.com",
        "customer": customer,
        "orders_to_redact": [gid_number(order["id"])],
    }
    assert gid_number(other["id"]) not in json.loads(raw2)["orders_to_redact"]
    assert json.loads(raw3) == {"shop_id": 1, "shop_domain": "acme.myshopify.com"}
    # compliance topics are no WebhookSubscriptionTopic
    create = """
    mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        userErrors { message } } }"""
    answer = gql(shop, create, {"topic": "CUSTOMERS_REDACT", "sub": {"uri": "x"}})
    assert answer.status_code == 200 and answer.json()["errors"]
    # the admin route sends them too
    sent = requests.post(
        f"{shop.url}/__sandbox__/compliance",
        json={"topic": "customers/redact", "customer_id": jane["id"], "orders": []},
        timeout=5,
    )
    assert sent.status_code == 200, sent.text
    assert json.loads(receiver.deliveries[-1][1])["orders_to_redact"] == []


# ---------------------------------------------------------------- returns
RETURN_QUERY = """query R($id: ID!) { return(id: $id) {
  id name status order { id }
  returnLineItems(first: 10) { nodes {
    quantity fulfillmentLineItem { quantity lineItem { id } } } }
  reverseFulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) {
    nodes { id totalQuantity fulfillmentLineItem { lineItem { id } }
      dispositions { type quantity location { id } } } } } }
  refunds(first: 5) { nodes { id return { id } } }
} }"""


def test_return_requested_approved_disposed_refunded_closed(shop, stock):
    """returnRequest (REQUESTED, no reverse fulfillment order), approve (OPEN,
    one reverse fulfillment order), dispose (RESTOCKED back to available,
    NOT_RESTOCKED not), a refund for the return (Refund.return), close."""
    at, shirt = stock["location"], stock["shirt"]
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 3}])
    line_id = order["lineItems"][0]["id"]
    with pytest.raises(ValueError, match="fulfilled"):
        shop.request_return(order["id"], [{"line_item_id": line_id, "quantity": 1}])
    shop.fulfill(order["id"])
    assert shop.inventory(shirt, at) == 7
    ret = shop.request_return(order["id"], [{"line_item_id": line_id, "quantity": 2}])
    found = data(gql(shop, RETURN_QUERY, {"id": ret["id"]}))["return"]
    assert found["status"] == "REQUESTED" and found["order"]["id"] == order["id"]
    assert found["reverseFulfillmentOrders"]["nodes"] == []
    assert found["returnLineItems"]["nodes"] == [
        {
            "quantity": 2,
            "fulfillmentLineItem": {"quantity": 3, "lineItem": {"id": line_id}},
        }
    ]
    with pytest.raises(ValueError, match="OPEN"):
        shop.dispose_return(
            ret["id"], [{"line_item_id": line_id, "quantity": 1, "location_id": at}]
        )
    shop.approve_return(ret["id"])
    with pytest.raises(ValueError, match="can return"):  # 2 of 3 in this return
        shop.create_return(order["id"], [{"line_item_id": line_id, "quantity": 2}])
    shop.dispose_return(
        ret["id"],
        [
            {
                "line_item_id": line_id,
                "quantity": 1,
                "type": "RESTOCKED",
                "location_id": at,
            },
            {"line_item_id": line_id, "quantity": 1, "type": "NOT_RESTOCKED"},
        ],
    )
    assert shop.inventory(shirt, at) == 8, "only the restocked unit is available"
    with pytest.raises(ValueError, match="more than"):
        shop.dispose_return(
            ret["id"], [{"line_item_id": line_id, "quantity": 1, "location_id": at}]
        )
    with pytest.raises(ValueError, match="work done"):
        shop.cancel_return(ret["id"])
    refund = shop.refund_return(ret["id"])
    assert shop.inventory(shirt, at) == 8, "the refund restocks nothing more"
    shop.close_return(ret["id"])
    found = data(gql(shop, RETURN_QUERY, {"id": ret["id"]}))["return"]
    assert found["status"] == "CLOSED"
    (rfo,) = found["reverseFulfillmentOrders"]["nodes"]
    assert rfo["status"] == "CLOSED"
    assert rfo["lineItems"]["nodes"][0]["dispositions"] == [
        {"type": "RESTOCKED", "quantity": 1, "location": {"id": at}},
        {"type": "NOT_RESTOCKED", "quantity": 1, "location": None},
    ]
    assert found["refunds"]["nodes"] == [
        {"id": refund["id"], "return": {"id": ret["id"]}}
    ]
    query = """query($id: ID!) { node(id: $id) { ... on Refund { return { id }
      refundLineItems(first: 5) { nodes { quantity restockType } } } } }"""
    node = data(gql(shop, query, {"id": refund["id"]}))["node"]
    assert node["return"] == {"id": ret["id"]}
    assert node["refundLineItems"]["nodes"] == [
        {"quantity": 2, "restockType": "NO_RESTOCK"}
    ]
    shop.reopen_return(ret["id"])
    assert shop.return_(ret["id"])["status"] == "OPEN"


def test_declined_return_frees_its_units_and_refund_restocks_once(shop, stock):
    at, mug = stock["location"], stock["mug"]
    order = shop.add_order(None, [{"sku": "MUG-1", "quantity": 2}])
    line_id = order["lineItems"][0]["id"]
    shop.fulfill(order["id"])
    first = shop.request_return(order["id"], [{"line_item_id": line_id, "quantity": 2}])
    shop.decline_return(first["id"])
    ret = shop.create_return(order["id"], [{"line_item_id": line_id, "quantity": 2}])
    assert ret["status"] == "OPEN" and ret["name"].endswith("-R2")
    assert shop.inventory(mug, at) == 3
    refund = shop.refund_return(
        ret["id"], [{"line_item_id": line_id, "quantity": 1}], restock=True
    )
    assert shop.inventory(mug, at) == 4, "restocked once, by the return"
    assert refund["lines"][0]["restockType"] == "RETURN"
    (rfo,) = shop.return_(ret["id"])["reverseFulfillmentOrders"]
    assert [d["type"] for d in rfo["lines"][0]["dispositions"]] == ["RESTOCKED"]
    assert (
        shop.payload("refunds/create", refund["id"])["refund_line_items"][0][
            "restock_type"
        ]
        == "return"
    )


def test_return_webhooks_and_admin_routes(shop, stock, receiver):
    """returns/* and reverse_fulfillment_orders/dispose are subscribable topics
    (WebhookSubscriptionTopic) whose payload names the return and its order."""
    for topic in ("RETURNS_APPROVE", "REVERSE_FULFILLMENT_ORDERS_DISPOSE"):
        created = data(
            gql(
                shop,
                """mutation($t: WebhookSubscriptionTopic!,
                  $s: WebhookSubscriptionInput!) {
                  webhookSubscriptionCreate(topic: $t, webhookSubscription: $s) {
                    userErrors { message } } }""",
                {"t": topic, "s": {"uri": receiver.url, "format": "JSON"}},
            )
        )
        assert created["webhookSubscriptionCreate"]["userErrors"] == []
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 1}])
    shop.fulfill(order["id"])
    number = order["id"].rsplit("/", 1)[1]
    answer = requests.post(
        f"{shop.url}/__sandbox__/returns",
        json={
            "order": int(number),
            "lines": [{"line_item_id": order["lineItems"][0]["id"], "quantity": 1}],
            "emit": True,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    ret = answer.json()
    ret_number = ret["id"].rsplit("/", 1)[1]
    answer = requests.post(
        f"{shop.url}/__sandbox__/returns/{ret_number}/dispose",
        json={
            "dispositions": [
                {
                    "line_item_id": order["lineItems"][0]["id"],
                    "quantity": 1,
                    "type": "RESTOCKED",
                    "location_id": stock["location"],
                }
            ],
            "emit": True,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    topics = [h["X-Shopify-Topic"] for h, _ in receiver.deliveries]
    assert topics == ["returns/approve", "reverse_fulfillment_orders/dispose"]
    approve = json.loads(receiver.deliveries[0][1])
    assert approve["admin_graphql_api_id"] == ret["id"]
    assert approve["status"] == "open"
    assert approve["order"]["admin_graphql_api_id"] == order["id"]
    dispose = json.loads(receiver.deliveries[1][1])
    assert dispose["order_id"] == int(number)
    assert dispose["dispositions"][0]["type"] == "restocked"


# ------------------------------------------------------------ order edits
def test_order_edit_adds_removes_and_changes_quantities(shop, stock, receiver):
    shop.webhook_url = receiver.url
    order = shop.add_order(
        None,
        [{"sku": "TS-1", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}],
        shipping={"title": "Standard", "price": "5.00"},
    )
    shirt_line, mug_line = (line["id"] for line in order["lineItems"])
    assert shop.inventory(stock["shirt"], stock["location"]) == 8
    edit = requests.post(
        f"{shop.url}/__sandbox__/orders/{gid_number(order['id'])}/edit",
        json={
            "quantities": {shirt_line: 3, mug_line: 0},
            "add": [{"sku": "MUG-1", "quantity": 2, "price": "11.00"}],
            "emit": True,
        },
        timeout=10,
    ).json()
    topics = [h["X-Shopify-Topic"] for h, _ in receiver.deliveries]
    assert topics == ["orders/edited", "orders/updated"]
    body = json.loads(receiver.deliveries[0][1])["order_edit"]
    assert body == edit and body["order_id"] == gid_number(order["id"])
    assert body["line_items"]["removals"] == [{"id": gid_number(mug_line), "delta": 1}]
    assert body["line_items"]["additions"][0] == {
        "id": gid_number(shirt_line),
        "delta": 1,
    }
    query = """query($id: ID!) { order(id: $id) { displayFinancialStatus
      currentTotalPriceSet { shopMoney { amount } }
      lineItems(first: 5) { nodes { sku quantity currentQuantity
        unfulfilledQuantity } } } }"""
    result = data(gql(shop, query, {"id": order["id"]}))["order"]
    assert result["lineItems"]["nodes"] == [
        {"sku": "TS-1", "quantity": 3, "currentQuantity": 3, "unfulfilledQuantity": 3},
        # a removed line stays, with a zero currentQuantity
        {"sku": "MUG-1", "quantity": 1, "currentQuantity": 0, "unfulfilledQuantity": 0},
        {"sku": "MUG-1", "quantity": 2, "currentQuantity": 2, "unfulfilledQuantity": 2},
    ]
    # 3 x 29.95 + 2 x 11.00 + 5.00; paid 64.90 before: a balance is due
    assert result["currentTotalPriceSet"]["shopMoney"]["amount"] == "116.85"
    assert result["displayFinancialStatus"] == "PARTIALLY_PAID"
    # stock follows: one more shirt committed, the removed mug back, two taken
    assert shop.inventory(stock["shirt"], stock["location"]) == 7
    assert shop.inventory(stock["mug"], stock["location"]) == 3
    assert shop.inventory(stock["mug"], stock["location"], "committed") == 2


def test_order_edit_refuses_fulfilled_units(shop, stock):
    order = shop.add_order(None, [{"sku": "TS-1", "quantity": 2}])
    line = order["lineItems"][0]["id"]
    shop.fulfill(order["id"])
    with pytest.raises(ValueError, match="only unfulfilled units"):
        shop.edit_order(order["id"], quantities={line: 1})
    assert shop.order(order["id"])["lineItems"][0]["quantity"] == 2
    edit = shop.edit_order(order["id"], add=[{"sku": "MUG-1", "quantity": 1}])
    assert edit["line_items"]["removals"] == []
    assert shop.order(order["id"])["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"


def test_order_edit_mutations_stage_then_commit(shop, stock, receiver):
    shop.auto_webhooks = True
    shop.webhook_url = receiver.url
    order = shop.add_order(
        None, [{"sku": "TS-1", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}]
    )
    shirt_line = order["lineItems"][0]["id"]
    begin = """mutation($id: ID!) { orderEditBegin(id: $id) {
      calculatedOrder { id lineItems(first: 5) { nodes { id sku quantity } } }
      userErrors { field message } } }"""
    calc = data(gql(shop, begin, {"id": order["id"]}))["orderEditBegin"]
    calc_id = calc["calculatedOrder"]["id"]
    nodes = calc["calculatedOrder"]["lineItems"]["nodes"]
    assert [n["sku"] for n in nodes] == ["TS-1", "MUG-1"]
    shirt_calc = nodes[0]["id"]
    assert shirt_calc.startswith("gid://shopify/CalculatedLineItem/")
    add = """mutation($id: ID!, $v: ID!, $q: Int!) {
      orderEditAddVariant(id: $id, variantId: $v, quantity: $q) {
        calculatedLineItem { id sku quantity } userErrors { field message } } }"""
    mug_variant = shop.variant_by_sku("MUG-1")["id"]
    refused = data(gql(shop, add, {"id": calc_id, "v": mug_variant, "q": 1}))
    assert refused["orderEditAddVariant"]["userErrors"][0]["field"] == ["variantId"]
    set_quantity = """mutation($id: ID!, $line: ID!, $q: Int!) {
      orderEditSetQuantity(id: $id, lineItemId: $line, quantity: $q, restock: true) {
        calculatedLineItem { quantity } userErrors { field message } } }"""
    staged = data(gql(shop, set_quantity, {"id": calc_id, "line": shirt_calc, "q": 1}))
    assert staged["orderEditSetQuantity"]["calculatedLineItem"] == {"quantity": 1}
    # nothing changes before the commit
    assert shop.order(order["id"])["lineItems"][0]["quantity"] == 2
    assert receiver.deliveries == []
    commit = """mutation($id: ID!) { orderEditCommit(id: $id, staffNote: "phone") {
      order { lineItems(first: 5) { nodes { sku currentQuantity } } }
      userErrors { field message } } }"""
    done = data(gql(shop, commit, {"id": calc_id}))["orderEditCommit"]
    assert done["userErrors"] == []
    assert done["order"]["lineItems"]["nodes"][0] == {
        "sku": "TS-1",
        "currentQuantity": 1,
    }
    topics = [h["X-Shopify-Topic"] for h, _ in receiver.deliveries]
    assert topics == ["orders/edited", "orders/updated"]
    body = json.loads(receiver.deliveries[0][1])["order_edit"]
    assert body["line_items"]["removals"] == [
        {"id": gid_number(shirt_line), "delta": 1}
    ]
    assert body["staff_note"] == "phone"
    assert shop.inventory(stock["shirt"], stock["location"]) == 9
    again = data(gql(shop, commit, {"id": calc_id}))["orderEditCommit"]
    assert again["userErrors"] and again["order"] is None
