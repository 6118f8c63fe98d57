"""SP-API sandbox: ``confirmShipment`` (v0) and Listings Items PATCH of
``fulfillment_availability``; answers checked against ``ordersV0.json`` and
``listingsItems_2021-08-01.json`` (see ``test_amazon.py``)."""
# ruff: noqa: F811 (the ``sb`` fixture is imported)

import time

import pytest
import requests

from sandboxes.test_amazon import (  # noqa: F401
    DE,
    EPOCH,
    FR,
    GB,
    NA_REFRESH,
    ORDERS,
    call,
    sb,
    seed,
    token,
)
from sandboxes.toolkit import utc_iso

V0 = "ordersV0.json"
LISTINGS = "listingsItems_2021-08-01.json"
SELLER = "A1SANDBOXSELLEREU"


def confirm(sb, order, items, reference="1", access=None, **detail):
    body = {
        "marketplaceId": detail.pop(
            "marketplace", order["salesChannel"]["marketplaceId"]
        ),
        "packageDetail": {
            "packageReferenceId": reference,
            "carrierCode": "DHL",
            "trackingNumber": "TRACK-" + str(reference),
            "shipDate": utc_iso(EPOCH + 600),
            "orderItems": items,
            **detail,
        },
    }
    path = f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    return call(sb, "POST", path, access or token(sb), model=V0, json=body)


def two_lines(sb, **kwargs):
    return seed(
        sb,
        items=[
            {"sku": "A", "quantity": 3, "price": "5.00"},
            {"sku": "B", "quantity": 1, "price": "7.00"},
        ],
        **kwargs,
    )


def state(sb, order):
    return requests.get(f"{sb.test_url}/__sandbox__/orders/{order['orderId']}").json()


def item_ids(order):
    return [item["orderItemId"] for item in order["orderItems"]]


# ------------------------------------------------------------ shipments
def test_partial_then_full_shipment_changes_status_and_packages(sb):
    order = two_lines(sb)
    a, b = item_ids(order)
    sb.clock.advance(60)
    first = confirm(sb, order, [{"orderItemId": a, "quantity": 2}])
    assert first.status_code == 204 and first.content == b""
    assert first.headers["x-amzn-RateLimit-Limit"] == "2.0"
    now = state(sb, order)
    assert now["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert now["orderItems"][0]["fulfillment"] == {
        "quantityFulfilled": 2,
        "quantityUnfulfilled": 1,
    }
    second = confirm(
        sb,
        order,
        [{"orderItemId": a, "quantity": 1}, {"orderItemId": b, "quantity": 1}],
        reference="2",
        carrierCode="Other",
        carrierName="Hermes",
        shippingMethod="Standard",
    )
    assert second.status_code == 204
    now = state(sb, order)
    assert now["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    packages = now["packages"]
    assert [p["packageReferenceId"] for p in packages] == ["1", "2"]
    assert packages[1]["carrier"] == "Hermes"
    assert packages[1]["shippingService"] == "Standard"
    assert packages[1]["packageItems"] == [
        {"orderItemId": a, "quantity": 1},
        {"orderItemId": b, "quantity": 1},
    ]
    # the 2026-01-01 API shows them (PACKAGES) and the new update time
    access = token(sb)
    answer = call(
        sb,
        "GET",
        f"{ORDERS}/{order['orderId']}",
        access,
        params={"includedData": "PACKAGES,FULFILLMENT"},
    ).json()["order"]
    assert answer["packages"][0]["trackingNumber"] == "TRACK-1"
    assert order["lastUpdatedTime"] == "2026-10-26T07:33:20Z"
    assert answer["lastUpdatedTime"] == "2026-10-26T07:34:20Z"


def test_same_package_again_ships_nothing_more(sb):
    order = two_lines(sb)
    a, _ = item_ids(order)
    items = [{"orderItemId": a, "quantity": 2}]
    assert confirm(sb, order, items).status_code == 204
    retry = confirm(sb, order, items, trackingNumber="NEW-TRACK")
    assert retry.status_code == 204
    now = state(sb, order)
    assert len(now["packages"]) == 1
    assert now["packages"][0]["trackingNumber"] == "NEW-TRACK"
    assert now["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 2
    other = confirm(sb, order, [{"orderItemId": a, "quantity": 1}])
    assert other.status_code == 400


def test_confirm_shipment_validation_errors(sb):
    order = two_lines(sb)
    a, b = item_ids(order)

    def error(answer):
        assert answer.status_code == 400, answer.text
        return answer.json()["errors"][0]

    unknown = error(
        confirm(sb, order, [{"orderItemId": "99999999999999", "quantity": 1}])
    )
    assert unknown["code"] == "InvalidInput"
    assert unknown["message"].startswith("OrderItemId is invalid")
    too_many = error(confirm(sb, order, [{"orderItemId": b, "quantity": 2}]))
    assert "already fulfilled" in too_many["message"]
    assert (
        "marketplaceId"
        in error(
            confirm(sb, order, [{"orderItemId": a, "quantity": 1}], marketplace=FR)
        )["message"]
    )
    assert (
        error(confirm(sb, order, [{"orderItemId": a, "quantity": 1}], reference="x"))[
            "message"
        ]
        == "PackageReferenceId: is invalid, must be a positive numeric value."
    )
    assert (
        "invalid type"
        in error(confirm(sb, order, [{"orderItemId": a, "quantity": 1}], reference=1))[
            "message"
        ]
    )
    assert error(
        confirm(sb, order, [{"orderItemId": a, "quantity": 1}], carrierCode="Other")
    )
    assert error(confirm(sb, order, [{"orderItemId": a, "quantity": 0}]))
    assert error(confirm(sb, order, [{"orderItemId": a, "quantity": 1}], shipDate="x"))
    # nothing of that was shipped
    assert state(sb, order)["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert (
        confirm(
            sb,
            order,
            [{"orderItemId": a, "quantity": 3}, {"orderItemId": b, "quantity": 1}],
        ).status_code
        == 204
    )
    shipped = error(
        confirm(sb, order, [{"orderItemId": a, "quantity": 1}], reference="9")
    )
    assert "already fulfilled" in shipped["message"]


def test_cannot_ship_pending_cancelled_fba_or_foreign_orders(sb):
    pending = seed(sb, pending_seconds=600)
    cancelled = seed(sb)
    requests.post(f"{sb.test_url}/__sandbox__/orders/{cancelled['orderId']}/cancel")
    fba = seed(sb, GB, fulfilled_by="AMAZON")
    for order in (pending, cancelled, fba):
        line = [{"orderItemId": item_ids(order)[0], "quantity": 1}]
        assert confirm(sb, order, line).status_code == 400
    foreign = seed(sb, "ATVPDKIKX0DER")
    line = [{"orderItemId": item_ids(foreign)[0], "quantity": 1}]
    assert confirm(sb, foreign, line).status_code == 404
    assert confirm(sb, foreign, line, access=token(sb, NA_REFRESH)).status_code == 204
    ghost = dict(foreign, orderId="999-9999999-9999999")
    assert confirm(sb, ghost, line).status_code == 404


def test_confirm_shipment_needs_json(sb):
    order = seed(sb)
    answer = call(
        sb,
        "POST",
        f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation",
        token(sb),
        model=V0,
        data="marketplaceId=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # ordersV0.json lists no 415 for confirmShipment: a 400
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"
    patch_form = call(
        sb,
        "PATCH",
        f"/listings/2021-08-01/items/{SELLER}/X",
        token(sb),
        model=LISTINGS,
        data="x",
        params={"marketplaceIds": DE},
        headers={"content-type": "text/plain"},
    )
    assert patch_form.status_code == 415


def test_lost_answer_then_retry_ships_once(sb):
    """A slow answer the client gave up on: the confirmation happened; the
    retry of the same package ships nothing more."""
    order = two_lines(sb)
    a, _ = item_ids(order)
    sb.inject_fault("timeout", seconds=1.0, operation="confirmShipment")
    body = {
        "marketplaceId": DE,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "T-1",
            "shipDate": utc_iso(EPOCH),
            "orderItems": [{"orderItemId": a, "quantity": 3}],
        },
    }
    url = f"{sb.test_url}/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    headers = {"x-amz-access-token": token(sb)}
    with pytest.raises(requests.Timeout):
        requests.post(url, json=body, headers=headers, timeout=0.3)
    deadline = time.monotonic() + 10  # the server finishes its work
    while time.monotonic() < deadline:
        shipped = state(sb, order)["orderItems"][0]["fulfillment"]["quantityFulfilled"]
        if shipped:
            break
        time.sleep(0.1)
    assert shipped == 3
    again = requests.post(url, json=body, headers=headers, timeout=5)
    assert again.status_code == 204
    now = state(sb, order)
    assert len(now["packages"]) == 1
    assert now["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 3


def test_shipping_cancels_nothing_later(sb):
    order = seed(sb, cancel_after=3600)
    line = [{"orderItemId": item_ids(order)[0], "quantity": 2}]
    assert confirm(sb, order, line).status_code == 204
    sb.clock.advance(7200)
    assert state(sb, order)["fulfillment"]["fulfillmentStatus"] == "SHIPPED"


# -------------------------------------------------------------- listings
def listing(sb, sku, **kwargs):
    answer = requests.post(
        sb.test_url + "/__sandbox__/listings", json={"sku": sku, **kwargs}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def view(sb, sku, seller=SELLER):
    return requests.get(f"{sb.test_url}/__sandbox__/listings/{seller}/{sku}").json()


def patch(
    sb,
    sku,
    quantity=5,
    marketplaces=DE,
    product_type="PRODUCT",
    access=None,
    seller=SELLER,
    value=None,
    **params,
):
    body = {
        "productType": product_type,
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": value
                if value is not None
                else [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }
    return call(
        sb,
        "PATCH",
        f"/listings/2021-08-01/items/{seller}/{sku}",
        access or token(sb),
        model=LISTINGS,
        json=body,
        params={"marketplaceIds": marketplaces, **params},
    )


def test_patch_sets_quantity_per_marketplace(sb):
    listing(sb, "MUG-1", quantity={DE: 1, GB: 1})
    answer = patch(sb, "MUG-1", 7, marketplaces=f"{DE},{FR}")
    body = answer.json()
    assert answer.status_code == 200
    assert body["status"] == "ACCEPTED" and body["issues"] == []
    assert body["sku"] == "MUG-1" and body["submissionId"]
    assert answer.headers["x-amzn-RateLimit-Limit"] == "5.0"
    assert view(sb, "MUG-1")["quantity"] == {DE: 7, GB: 1, FR: 7}


def test_wrong_or_unknown_product_type_is_invalid_and_changes_nothing(sb):
    listing(sb, "MUG-1", product_type="KITCHEN", quantity={DE: 3})
    wrong = patch(sb, "MUG-1", 9, product_type="SHIRT").json()
    assert wrong["status"] == "INVALID"
    assert wrong["issues"][0]["code"] == "8101"
    assert wrong["issues"][0]["severity"] == "ERROR"
    unknown = patch(sb, "MUG-1", 9, product_type="NOT_A_TYPE").json()
    assert unknown["status"] == "INVALID"
    assert unknown["issues"][0]["code"] == "4000003"
    assert view(sb, "MUG-1")["quantity"] == {DE: 3}


def test_invalid_quantity_value_is_an_attribute_issue(sb):
    listing(sb, "MUG-1", quantity={DE: 3})
    for value in (
        [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}],
        [{"fulfillment_channel_code": "DEFAULT", "quantity": "4"}],
        [{"fulfillment_channel_code": "AMAZON_EU", "quantity": 4}],
    ):
        body = patch(sb, "MUG-1", value=value).json()
        assert body["status"] == "INVALID"
        assert body["issues"][0]["attributeNames"] == ["fulfillment_availability"]
        assert body["issues"][0]["categories"] == ["INVALID_ATTRIBUTE"]
    assert view(sb, "MUG-1")["quantity"] == {DE: 3}


def test_unknown_sku_is_accepted_as_an_offer_that_is_not_buyable(sb):
    body = patch(sb, "NEVER-LISTED", 4).json()
    assert body["status"] == "ACCEPTED"
    assert view(sb, "NEVER-LISTED") | {"submissions": 1} == {
        "sellerId": SELLER,
        "sku": "NEVER-LISTED",
        "productType": None,
        "fulfillmentChannelCode": "DEFAULT",
        "quantity": {DE: 4},
        "buyable": False,
        "submissions": 1,
    }


def test_validation_preview_applies_nothing(sb):
    listing(sb, "MUG-1", quantity={DE: 3})
    body = patch(sb, "MUG-1", 8, mode="VALIDATION_PREVIEW").json()
    assert body["status"] == "VALID"
    assert view(sb, "MUG-1")["quantity"] == {DE: 3}


def test_patch_request_errors(sb):
    listing(sb, "MUG-1")
    other_seller = patch(sb, "MUG-1", seller="A1SANDBOXSELLERNA")
    assert other_seller.status_code == 403
    foreign_marketplace = patch(sb, "MUG-1", marketplaces="ATVPDKIKX0DER")
    assert foreign_marketplace.status_code == 400
    no_patches = call(
        sb,
        "PATCH",
        f"/listings/2021-08-01/items/{SELLER}/MUG-1",
        token(sb),
        model=LISTINGS,
        json={"productType": "PRODUCT", "patches": []},
        params={"marketplaceIds": DE},
    )
    assert no_patches.status_code == 400
    assert no_patches.json()["errors"][0]["message"].startswith("Request has missing")
    missing_marketplaces = call(
        sb,
        "PATCH",
        f"/listings/2021-08-01/items/{SELLER}/MUG-1",
        token(sb),
        model=LISTINGS,
        json={
            "productType": "PRODUCT",
            "patches": [
                {"op": "replace", "path": "/attributes/fulfillment_availability"}
            ],
        },
    )
    assert missing_marketplaces.status_code == 400


def test_patch_burst_is_five(sb):
    listing(sb, "MUG-1")
    access = token(sb)
    assert all(patch(sb, "MUG-1", n, access=access).ok for n in range(5))
    assert patch(sb, "MUG-1", 9, access=access).status_code == 429
    sb.clock.advance(0.2)
    assert patch(sb, "MUG-1", 9, access=access).ok
    assert view(sb, "MUG-1")["quantity"] == {DE: 9}


def test_merchant_order_takes_units_off_the_listing(sb):
    listing(sb, "SKU-1", quantity={DE: 5, GB: 5})
    seed(sb, DE, items=[{"sku": "SKU-1", "quantity": 2}])
    seed(sb, GB, fulfilled_by="AMAZON", items=[{"sku": "SKU-1", "quantity": 1}])
    assert view(sb, "SKU-1")["quantity"] == {DE: 3, GB: 5}


def test_sku_with_a_slash_is_one_path_segment(sb):
    listing(sb, "A/B")
    assert patch(sb, "A%2FB", 2).json()["status"] == "ACCEPTED"
    assert view(sb, "A/B")["quantity"] == {DE: 2}


def get_listing(sb, sku, marketplaces=DE, included="summaries", seller=SELLER):
    return call(
        sb,
        "GET",
        f"/listings/2021-08-01/items/{seller}/{sku}",
        token(sb),
        model=LISTINGS,
        params={"marketplaceIds": marketplaces, "includedData": included},
    )


def test_get_listings_item_tells_merchant_from_fba(sb):
    listing(sb, "MFN-1", quantity={DE: 4})
    listing(sb, "FBA-1", channel="AMAZON_EU", quantity={DE: 9})
    included = "summaries,fulfillmentAvailability,issues"
    mfn = get_listing(sb, "MFN-1", included=included)
    assert mfn.status_code == 200
    assert mfn.headers["x-amzn-RateLimit-Limit"] == "5.0"
    body = mfn.json()
    assert body["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 4}
    ]
    assert body["summaries"][0]["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert body["issues"] == []
    fba = get_listing(sb, "FBA-1", included=included).json()
    assert fba["fulfillmentAvailability"][0]["fulfillmentChannelCode"] == "AMAZON_EU"
    assert set(get_listing(sb, "MFN-1").json()) == {"sku", "summaries"}  # default
    assert get_listing(sb, "NOPE").status_code == 404
    assert get_listing(sb, "MFN-1", seller="A1SANDBOXSELLERNA").status_code == 403
    assert get_listing(sb, "MFN-1", included="everything").status_code == 400


def test_offer_without_item_shows_its_issue(sb):
    patch(sb, "OFFER-ONLY", 3)
    body = get_listing(sb, "OFFER-ONLY", included="summaries,issues").json()
    assert body["summaries"] == []
    assert body["issues"][0]["code"] == "90220"
    assert body["issues"][0]["categories"] == ["MISSING_ATTRIBUTE"]
