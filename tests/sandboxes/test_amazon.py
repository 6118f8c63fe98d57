"""Plain pytest tests of the SP-API sandbox (no Odoo), over HTTP: LWA, the
access token, regional hosts, usage plans and the Orders API v2026-01-01.

Every API answer is checked against the official model
(``shared/contracts/amazon``, ``RC_CONTRACTS``) by :func:`call`; without the
contract folder that check is skipped, unless ``RC_REQUIRE_CONTRACTS=1``.
"""

import os
import re
import threading

import pytest
import requests

from sandboxes import available
from sandboxes.amazon import (
    CLIENT_ID,
    CLIENT_SECRET,
    AmazonSandbox,
    contract,
)
from sandboxes.amazon.catalog import MODEL_OF, USAGE_PLANS
from sandboxes.toolkit import Clock, SandboxServer, utc_iso

EPOCH = 1_793_000_000  # 2026-10-26T07:33:20Z
DE, GB, FR, US = "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A13V1IB3VIYZZH", "ATVPDKIKX0DER"
JP = "A1VC38T7YXB528"
EU_REFRESH = "Atzr|sandbox-refresh-token-eu"
NA_REFRESH = "Atzr|sandbox-refresh-token-na"
ORDERS = "/orders/2026-01-01/orders"
HAVE_CONTRACT = contract.contract_dir() is not None
if not HAVE_CONTRACT and os.environ.get("RC_REQUIRE_CONTRACTS") == "1":
    raise RuntimeError("RC_REQUIRE_CONTRACTS=1 but the Amazon contract is absent")
needs_contract = pytest.mark.skipif(
    not HAVE_CONTRACT, reason="shared/contracts/amazon absent (set RC_CONTRACTS)"
)


@pytest.fixture
def sb():
    sandbox = AmazonSandbox(clock=Clock(EPOCH, frozen=True))
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        yield sandbox


def lwa(sb, url=None, **form):
    form.setdefault("client_id", CLIENT_ID)
    form.setdefault("client_secret", CLIENT_SECRET)
    return requests.post((url or sb.test_url) + "/auth/o2/token", data=form, timeout=10)


def token(sb, refresh=EU_REFRESH):
    answer = lwa(sb, grant_type="refresh_token", refresh_token=refresh)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def call(sb, method, path, access=None, model=None, url=None, **kwargs):
    """Call the sandbox with ``access``; check the answer against the model."""
    headers = kwargs.pop("headers", {})
    if access is not None:
        headers["x-amz-access-token"] = access
    answer = requests.request(
        method, (url or sb.test_url) + path, headers=headers, timeout=10, **kwargs
    )
    assert answer.headers["x-amzn-RequestId"]
    model = model or "orders_2026-01-01.json"
    if HAVE_CONTRACT and answer.content:
        problems = contract.problems(
            model, method, path, answer.status_code, answer.json()
        )
        assert problems == [], problems
        if "x-amzn-RateLimit-Limit" in answer.headers:
            listed = contract.headers_of(model, method, path, answer.status_code)
            assert "x-amzn-RateLimit-Limit" in listed
    return answer


def seed(sb, marketplace=DE, **kwargs):
    kwargs.setdefault("items", [{"sku": "SKU-1", "quantity": 2, "price": "19.99"}])
    answer = requests.post(
        sb.test_url + "/__sandbox__/orders",
        json={"marketplace_id": marketplace, **kwargs},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def search(sb, access, **params):
    params.setdefault("lastUpdatedAfter", utc_iso(EPOCH - 3600))
    return call(sb, "GET", ORDERS, access, params=params)


# ------------------------------------------------------------------- LWA
def test_refresh_token_grant_gives_a_one_hour_bearer_token(sb):
    answer = lwa(sb, grant_type="refresh_token", refresh_token=EU_REFRESH)
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|")
    seed(sb)
    sb.clock.advance(3599)
    assert search(sb, body["access_token"]).status_code == 200
    sb.clock.advance(1)
    expired = search(sb, body["access_token"])
    assert expired.status_code == 403
    assert expired.json()["errors"][0] == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "The access token you provided has expired.",
    }


@pytest.mark.parametrize(
    "form, status, error",
    [
        (
            {"grant_type": "refresh_token", "refresh_token": "Atzr|nope"},
            400,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        (
            {
                "grant_type": "refresh_token",
                "refresh_token": EU_REFRESH,
                "client_secret": "x",
            },
            401,
            "invalid_client",
        ),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            {"grant_type": "client_credentials", "scope": "sellingpartnerapi::x"},
            400,
            "invalid_scope",
        ),
    ],
)
def test_lwa_errors(sb, form, status, error):
    answer = lwa(sb, **form)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_revoked_refresh_token_is_invalid_grant_and_kills_its_tokens(sb):
    access = token(sb)
    requests.post(
        sb.test_url + "/__sandbox__/lwa/revoke", json={"refresh_token": EU_REFRESH}
    )
    answer = lwa(sb, grant_type="refresh_token", refresh_token=EU_REFRESH)
    assert answer.json()["error"] == "invalid_grant"
    assert search(sb, access).status_code == 403


def test_grantless_token_is_refused_by_seller_operations(sb):
    answer = lwa(
        sb, grant_type="client_credentials", scope="sellingpartnerapi::notifications"
    )
    assert answer.status_code == 200
    assert answer.json()["scope"] == "sellingpartnerapi::notifications"
    assert search(sb, answer.json()["access_token"]).status_code == 403


@pytest.mark.parametrize(
    "header, details",
    [
        (None, "Access token is missing in the request header."),
        (
            "Atza|forged",
            "The access token you provided is revoked, malformed or invalid.",
        ),
    ],
)
def test_missing_or_unknown_access_token_is_403(sb, header, details):
    answer = search(sb, header)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["details"] == details
    assert "x-amzn-RateLimit-Limit" not in answer.headers


def test_expire_admin_route_expires_every_access_token(sb):
    access = token(sb)
    requests.post(sb.test_url + "/__sandbox__/lwa/expire")
    assert search(sb, access).status_code == 403
    assert search(sb, token(sb)).status_code == 200


# ----------------------------------------------------------------- hosts
def test_regional_host_refuses_a_seller_of_another_region(sb):
    eu = token(sb)
    na = token(sb, NA_REFRESH)
    params = {"lastUpdatedAfter": utc_iso(EPOCH - 3600)}
    assert call(sb, "GET", ORDERS, eu, url=sb.region_url("eu"), params=params).ok
    wrong = call(sb, "GET", ORDERS, eu, url=sb.region_url("na"), params=params)
    assert wrong.status_code == 403
    assert call(sb, "GET", ORDERS, na, url=sb.region_url("na"), params=params).ok
    # the LWA endpoint answers on every host
    assert lwa(
        sb,
        url=sb.region_url("fe"),
        grant_type="refresh_token",
        refresh_token=NA_REFRESH,
    ).ok


def test_seller_queries_only_its_marketplaces(sb):
    seed(sb, US)
    seed(sb, DE)
    sb.clock.advance(300)
    eu = token(sb)
    answer = search(sb, eu, marketplaceIds=US)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"
    orders = search(sb, eu).json()["orders"]
    assert [o["salesChannel"]["marketplaceId"] for o in orders] == [DE]


# ------------------------------------------------------------ usage plans
def test_search_orders_burst_then_429_quota_exceeded_then_refill(sb):
    access = token(sb)
    for _ in range(20):  # burst 20
        answer = search(sb, access)
        assert answer.status_code == 200
        assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    throttled = search(sb, access)
    assert throttled.status_code == 429
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    # another operation has its own bucket
    assert call(sb, "GET", ORDERS + "/111-0000000-0000000", access).status_code == 404
    sb.clock.advance(177)  # one token every 1 / 0.0056 = 178.6 s
    assert search(sb, access).status_code == 429
    sb.clock.advance(2)
    assert search(sb, access).status_code == 200


def test_concurrent_burst_lets_exactly_the_burst_through(sb):
    access = token(sb)
    codes = []

    def hit():
        codes.append(search(sb, access).status_code)

    threads = [threading.Thread(target=hit) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (codes.count(200), codes.count(429)) == (20, 20)


def test_buckets_are_per_seller(sb):
    eu, na = token(sb), token(sb, NA_REFRESH)
    requests.post(sb.test_url + "/__sandbox__/throttle/drain", json={"operation": "x"})
    search(sb, eu)
    requests.post(
        sb.test_url + "/__sandbox__/throttle/drain", json={"operation": "searchOrders"}
    )
    assert search(sb, eu).status_code == 429
    assert search(sb, na).status_code == 200


def test_get_order_burst_is_30(sb):
    access = token(sb)
    order = seed(sb)
    path = f"{ORDERS}/{order['orderId']}"
    assert all(call(sb, "GET", path, access).ok for _ in range(30))
    assert call(sb, "GET", path, access).status_code == 429
    sb.clock.advance(2)  # 0.5 per second
    assert call(sb, "GET", path, access).ok


@needs_contract
@pytest.mark.parametrize("operation", sorted(USAGE_PLANS))
def test_usage_plans_are_the_models(operation):
    assert contract.usage_plan(MODEL_OF[operation], operation) == USAGE_PLANS[operation]


def test_injected_faults_use_the_error_list(sb):
    access = token(sb)
    sb.inject_fault("status", status=503, operation="searchOrders")
    answer = search(sb, access)
    assert answer.status_code == 503
    assert answer.json()["errors"][0]["code"] == "ServiceUnavailable"
    sb.inject_fault("throttle", operation="searchOrders")
    assert search(sb, access).json()["errors"][0]["code"] == "QuotaExceeded"
    assert search(sb, access).status_code == 200


# ---------------------------------------------------------------- orders
def test_search_sees_an_order_two_minutes_after_its_update(sb):
    access = token(sb)
    order = seed(sb)
    answer = search(sb, access).json()
    assert answer["orders"] == []
    assert answer["lastUpdatedBefore"] == "2026-10-26T07:31:20Z"
    sb.clock.advance(120)
    assert [o["orderId"] for o in search(sb, access).json()["orders"]] == [
        order["orderId"]
    ]


def test_search_parameter_rules(sb):
    access = token(sb)
    after = utc_iso(EPOCH - 3600)
    bad = [
        {},
        {"createdAfter": after, "lastUpdatedAfter": after},
        {"createdAfter": after, "lastUpdatedBefore": after},
        {"lastUpdatedAfter": after, "createdBefore": after},
        {"lastUpdatedAfter": after, "lastUpdatedBefore": utc_iso(EPOCH - 60)},
        {"lastUpdatedAfter": after, "lastUpdatedBefore": utc_iso(EPOCH - 7200)},
        {"lastUpdatedAfter": after, "maxResultsPerPage": "0"},
        {"lastUpdatedAfter": after, "maxResultsPerPage": "101"},
        {"lastUpdatedAfter": after, "fulfillmentStatuses": "DONE"},
        {"lastUpdatedAfter": after, "includedData": "EVERYTHING"},
        {"lastUpdatedAfter": "yesterday"},
        {"lastUpdatedAfter": after, "marketplaceIds": "XYZ"},
    ]
    for params in bad:
        answer = call(sb, "GET", ORDERS, access, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["errors"][0]["code"] == "InvalidInput"
    ok = call(sb, "GET", ORDERS, access, params={"createdAfter": after})
    assert ok.status_code == 200 and "createdBefore" in ok.json()


def test_filters_marketplace_status_fulfilled_by_and_created(sb):
    access = token(sb)
    mfn_de = seed(sb, DE)
    afn_gb = seed(sb, GB, fulfilled_by="AMAZON")
    sb.clock.advance(600)
    pending_fr = seed(sb, FR, pending_seconds=3600)
    sb.clock.advance(300)

    def ids(**params):
        return [o["orderId"] for o in search(sb, access, **params).json()["orders"]]

    assert ids() == [mfn_de["orderId"], afn_gb["orderId"], pending_fr["orderId"]]
    assert ids(marketplaceIds=f"{GB},{FR}") == [
        afn_gb["orderId"],
        pending_fr["orderId"],
    ]
    assert ids(fulfilledBy="AMAZON") == [afn_gb["orderId"]]
    assert ids(fulfillmentStatuses="PENDING") == [pending_fr["orderId"]]
    late = {"lastUpdatedAfter": utc_iso(EPOCH + 300)}
    assert ids(**late) == [pending_fr["orderId"]]
    created = call(
        sb, "GET", ORDERS, access, params={"createdAfter": utc_iso(EPOCH + 300)}
    ).json()["orders"]
    assert [o["orderId"] for o in created] == [pending_fr["orderId"]]


def test_included_data_decides_the_sections(sb):
    access = token(sb)
    seed(
        sb,
        items=[
            {
                "sku": "A",
                "quantity": 2,
                "price": "10.00",
                "tax": "1.90",
                "shipping": "4.99",
            }
        ],
    )
    sb.clock.advance(300)
    basic = search(sb, access).json()["orders"][0]
    assert set(basic) == {
        "orderId",
        "createdTime",
        "lastUpdatedTime",
        "salesChannel",
        "orderItems",
    }
    assert set(basic["orderItems"][0]) == {"orderItemId", "quantityOrdered", "product"}
    assert basic["orderItems"][0]["product"]["sellerSku"] == "A"
    full = search(sb, access, includedData="FULFILLMENT,PROCEEDS,PACKAGES").json()
    order = full["orders"][0]
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert order["fulfillment"]["fulfilledBy"] == "MERCHANT"
    assert order["packages"] == []
    assert order["proceeds"]["grandTotal"] == {"amount": "28.79", "currencyCode": "EUR"}
    breakdowns = {
        b["type"]: b["subtotal"]["amount"] for b in order["proceeds"]["breakdowns"]
    }
    assert breakdowns == {"ITEM": "20.00", "SHIPPING": "4.99", "TAX": "3.80"}
    item = order["orderItems"][0]
    assert item["fulfillment"] == {"quantityFulfilled": 0, "quantityUnfulfilled": 2}
    assert item["proceeds"]["proceedsTotal"]["amount"] == "28.79"


def test_personal_data_only_with_the_roles(sb):
    access = token(sb)
    seed(sb)
    seed(sb, GB, fulfilled_by="AMAZON")
    sb.clock.advance(300)
    mfn, afn = search(sb, access, includedData="BUYER,RECIPIENT").json()["orders"]
    # default roles: Direct-to-Consumer Delivery, no tax role
    assert "buyer" not in mfn
    assert mfn["recipient"]["deliveryAddress"]["addressLine1"]
    assert "phone" not in afn["recipient"]["deliveryAddress"]  # FBA: suppressed
    requests.post(
        sb.test_url + "/__sandbox__/config",
        json={"roles": ["Inventory and Order Tracking"]},
    )
    mfn, _ = search(sb, access, includedData="BUYER,RECIPIENT").json()["orders"]
    address = mfn["recipient"]["deliveryAddress"]
    assert "name" not in address and "addressLine1" not in address
    assert "phone" not in address
    assert address["countryCode"] == "DE" and address["postalCode"]
    requests.post(
        sb.test_url + "/__sandbox__/config",
        json={"roles": ["Tax Invoicing (Restricted)"]},
    )
    mfn, afn = search(sb, access, includedData="BUYER").json()["orders"]
    assert mfn["buyer"]["buyerEmail"] and mfn["buyer"]["buyerName"]
    assert "buyerEmail" not in afn["buyer"]  # "Only available for ... (FBM)"


def test_currencies_follow_the_marketplace(sb):
    jp = token(sb, "Atzr|sandbox-refresh-token-fe")
    seed(sb, JP, items=[{"sku": "J", "quantity": 1, "price": "1980"}])
    seed(sb, GB, items=[{"sku": "G", "quantity": 1, "price": "9.5"}])
    sb.clock.advance(300)
    order = search(sb, jp, includedData="PROCEEDS").json()["orders"][0]
    assert order["proceeds"]["grandTotal"] == {"amount": "1980", "currencyCode": "JPY"}
    gb = search(sb, token(sb), includedData="PROCEEDS").json()["orders"][0]
    assert gb["orderItems"][0]["product"]["price"]["unitPrice"] == {
        "amount": "9.50",
        "currencyCode": "GBP",
    }


def test_pagination_pages_tokens_and_their_24_hours(sb):
    access = token(sb)
    ids = [seed(sb)["orderId"] for _ in range(5)]
    sb.clock.advance(300)
    first = search(sb, access, maxResultsPerPage="2").json()
    seen = [o["orderId"] for o in first["orders"]]
    next_token = first["pagination"]["nextToken"]
    while next_token:
        page = call(
            sb, "GET", ORDERS, access, params={"paginationToken": next_token}
        ).json()
        seen += [o["orderId"] for o in page["orders"]]
        next_token = page.get("pagination", {}).get("nextToken")
    assert seen == ids  # each once, in order, no token on the last page
    again = search(sb, access, maxResultsPerPage="2").json()["pagination"]["nextToken"]
    sb.clock.advance(24 * 3600 - 1)
    access = token(sb)
    assert call(sb, "GET", ORDERS, access, params={"paginationToken": again}).ok
    stale = search(sb, access, maxResultsPerPage="2").json()["pagination"]["nextToken"]
    sb.clock.advance(24 * 3600)
    access = token(sb)
    expired = call(sb, "GET", ORDERS, access, params={"paginationToken": stale})
    assert expired.status_code == 400
    assert "expired" in expired.json()["errors"][0]["message"]
    forged = call(sb, "GET", ORDERS, access, params={"paginationToken": "forged"})
    assert forged.status_code == 400


def test_pagination_token_of_another_seller_is_refused(sb):
    for _ in range(3):
        seed(sb)
    sb.clock.advance(300)
    page = search(sb, token(sb), maxResultsPerPage="1").json()
    other = call(
        sb,
        "GET",
        ORDERS,
        token(sb, NA_REFRESH),
        params={"paginationToken": page["pagination"]["nextToken"]},
    )
    assert other.status_code == 400


def test_admin_expires_pagination_tokens(sb):
    access = token(sb)
    for _ in range(3):
        seed(sb)
    sb.clock.advance(300)
    page = search(sb, access, maxResultsPerPage="1").json()
    requests.post(sb.test_url + "/__sandbox__/pagination/expire")
    again = call(
        sb,
        "GET",
        ORDERS,
        access,
        params={"paginationToken": page["pagination"]["nextToken"]},
    )
    assert again.status_code == 400


def test_pending_becomes_unshipped_on_the_clock_and_moves_last_updated(sb):
    access = token(sb)
    order = seed(sb, pending_seconds=1800)
    path = f"{ORDERS}/{order['orderId']}"
    body = call(sb, "GET", path, access, params={"includedData": "FULFILLMENT"}).json()
    assert body["order"]["fulfillment"]["fulfillmentStatus"] == "PENDING"
    sb.clock.advance(3600)
    access = token(sb)  # the first one just expired
    body = call(sb, "GET", path, access, params={"includedData": "FULFILLMENT"}).json()
    assert body["order"]["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    # the change happened at its time, not when it was noticed
    assert body["order"]["lastUpdatedTime"] == "2026-10-26T08:03:20Z"
    found = search(sb, access, lastUpdatedAfter="2026-10-26T08:00:00Z").json()
    assert [o["orderId"] for o in found["orders"]] == [order["orderId"]]


def test_fba_order_is_shipped_by_amazon_and_pending_can_be_cancelled(sb):
    access = token(sb)
    afn = seed(sb, GB, fulfilled_by="AMAZON", ship_after=3600)
    unpaid = seed(sb, DE, pending_seconds=7200, cancel_after=3600)
    cancelled = seed(sb, DE)
    requests.post(
        f"{sb.test_url}/__sandbox__/orders/{cancelled['orderId']}/cancel",
        json={"by": "BUYER", "reason": "NoLongerNeeded"},
    )
    sb.clock.advance(4000)
    access = token(sb)
    statuses = {
        o["orderId"]: o
        for o in search(sb, access, includedData="FULFILLMENT,CANCELLATION").json()[
            "orders"
        ]
    }
    assert statuses[afn["orderId"]]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert statuses[afn["orderId"]]["fulfillment"]["fulfilledBy"] == "AMAZON"
    assert statuses[afn["orderId"]]["orderItems"][0]["fulfillment"] == {
        "quantityFulfilled": 2,
        "quantityUnfulfilled": 0,
    }
    assert (
        statuses[unpaid["orderId"]]["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    )
    gone = statuses[cancelled["orderId"]]
    assert gone["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert gone["orderItems"][0]["cancellation"]["cancellationExecution"] == {
        "cancelledBy": "BUYER",
        "cancelReason": "NoLongerNeeded",
    }
    # a shipped order cannot be cancelled any more
    answer = requests.post(f"{sb.test_url}/__sandbox__/orders/{afn['orderId']}/cancel")
    assert answer.status_code == 400


def test_get_order_of_another_seller_is_not_found(sb):
    order = seed(sb, US)
    answer = call(sb, "GET", f"{ORDERS}/{order['orderId']}", token(sb))
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NotFound"
    mine = call(sb, "GET", f"{ORDERS}/{order['orderId']}", token(sb, NA_REFRESH))
    assert mine.json()["order"]["salesChannel"]["marketplaceId"] == US


def test_order_ids_are_3_7_7_and_never_reused_after_a_restart(tmp_path):
    seen = set()
    for _ in range(3):
        sandbox = AmazonSandbox(clock=Clock(EPOCH, frozen=True))
        sandbox.persist_ids(tmp_path / "amazon.ids")
        with SandboxServer(sandbox) as server:
            sandbox.test_url = server.url
            for _ in range(2):
                order_id = seed(sandbox)["orderId"]
                assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", order_id), order_id
                assert order_id[:11] not in seen
                seen.add(order_id[:11])
    assert len(seen) == 6


def test_registered_for_the_demo():
    assert available()["amazon"] is AmazonSandbox
