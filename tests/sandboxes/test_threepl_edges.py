"""Smaller behaviours of the 3PL sandbox (no Odoo): each one a test."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from sandboxes.test_threepl_floor import asn, receiver, sb, sftp  # noqa: F401 - fixtures
from sandboxes.test_threepl_rest import EPOCH, api, create, order_body, subscribe
from sandboxes.test_threepl_sftp import (
    client_key,  # noqa: F401 - fixture
    inbox,
    put,
    read,
)
from sandboxes.threepl import ThreePLSandbox, verify


def ack(sftp):  # noqa: F811
    [name] = inbox(sftp, "ack_")
    row = read(sftp, name)[0]
    sftp.rename(f"inbox/{name}", f"archive/{name}")
    return row


# -------------------------------------------------------------------- REST
def test_fulfillment_centers(sb):  # noqa: F811
    assert api(sb, "GET", "/2026-07/fulfillment-center").json() == [
        {"id": 10, "name": "Sandbox FC (IL)"}
    ]


def test_orders_of_another_channel_are_not_found(sb):  # noqa: F811
    order = create(sb)
    assert api(
        sb, "GET", f"/2026-07/order/{order['id']}", channel=2002
    ).status_code in (
        403,
        404,
    )
    sb.channels.append({"id": 2002, "name": "wholesale"})
    other = api(sb, "GET", f"/2026-07/order/{order['id']}", channel=2002)
    assert other.status_code == 404
    assert api(sb, "GET", f"/2026-07/order/{order['id']}").status_code == 200


def test_bad_page_is_400(sb):  # noqa: F811
    answer = api(sb, "GET", "/2026-07/order?Page=two")
    assert answer.status_code == 400 and "Page" in answer.json()


def test_inventory_level_search_and_inventory_ids(sb):  # noqa: F811
    sb.stock("SKU-A", 1)
    sb.stock("SKU-B", 2)
    answer = api(sb, "GET", "/2026-07/inventory-level?SearchBy=sku-b").json()
    [item] = answer["items"]
    assert item["sku"] == "SKU-B"
    by_id = f"/2026-07/inventory-level?InventoryIds={item['inventory_id']}"
    assert [i["sku"] for i in api(sb, "GET", by_id).json()["items"]] == ["SKU-B"]


def test_config_route_changes_the_rate_limit(sb):  # noqa: F811
    requests.post(
        sb.test_url + "/__sandbox__/config", json={"rate_limit": 2}, timeout=5
    )
    assert api(sb, "GET", "/2026-07/channel").status_code == 200
    assert api(sb, "GET", "/2026-07/channel").status_code == 200
    assert api(sb, "GET", "/2026-07/channel").status_code == 429


def test_only_subscribed_topics_are_sent(sb, receiver):  # noqa: F811
    subscribe(sb, receiver, ["order.shipped"])
    sb.stock("SKU-A", 5)
    order = create(sb, qty=3)
    sb.ship(order["id"], {"SKU-A": 1})  # also an order.shipment.cancelled
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipped"]


def test_delivered_tracking_sends_two_topics(sb, receiver):  # noqa: F811
    subscribe(
        sb, receiver, ["order.shipment.tracking.updated", "order.shipment.delivered"]
    )
    sb.stock("SKU-A", 5)
    fact = sb.ship(create(sb)["id"])
    sb.track(fact["shipment"]["id"], "Delivered")
    sb.flush_webhooks()
    assert receiver.topics() == [
        "order.shipment.tracking.updated",
        "order.shipment.delivered",
    ]
    assert receiver.bodies()[1]["tracking_status"] == "Delivered"


def test_order_delivered_once_when_all_its_shipments_are_delivered(sb, receiver):  # noqa: F811
    # https://developer.shipbob.com/2026-07/guides/tracking: order.delivered
    # "fires when all shipments on the order are delivered"
    subscribe(sb, receiver, ["order.delivered"])
    sb.stock("SKU-A", 5)
    order = create(sb, qty=2)
    fact = sb.ship(order["id"])
    sb.track(fact["shipment"]["id"], "InTransit")
    sb.flush_webhooks()
    assert receiver.topics() == []
    sb.track(fact["shipment"]["id"], "Delivered")
    sb.track(fact["shipment"]["id"], "Delivered")  # the carrier says it twice
    sb.flush_webhooks()
    assert receiver.topics() == ["order.delivered"]
    body = receiver.bodies()[0]
    assert body["id"] == order["id"]
    assert body["reference_id"] == order["reference_id"]


def test_order_delivered_ignores_the_cancelled_short_shipment(sb, receiver):  # noqa: F811
    subscribe(sb, receiver, ["order.delivered"])
    sb.stock("SKU-A", 1)
    order = create(sb, qty=2)
    fact = sb.ship(order["id"], {"SKU-A": 1})
    assert fact["short_shipment"]["status"] == "Cancelled"
    sb.track(fact["shipment"]["id"], "Delivered")
    sb.flush_webhooks()
    assert receiver.topics() == ["order.delivered"]


def test_late_delivery_of_one_message(sb, receiver):  # noqa: F811
    subscribe(sb, receiver)
    sb.stock("SKU-A", 5)
    fact = sb.ship(create(sb)["id"])
    sb.track(fact["shipment"]["id"], "InTransit")
    shipped_id, tracking_id = (item["msg_id"] for item in sb.hub.queue)
    sb.flush_webhooks(only=[tracking_id])
    sb.clock.advance(3600)
    sb.flush_webhooks()  # the order.shipped, an hour late
    assert receiver.topics() == ["order.shipment.tracking.updated", "order.shipped"]
    assert receiver.received[1][0]["Webhook-Id"] == shipped_id


def test_old_signature_timestamp_fails_verification(sb, receiver):  # noqa: F811
    secret = subscribe(sb, receiver)["secret"]
    sb.stock("SKU-A", 5)
    sb.ship(create(sb)["id"])
    sb.flush_webhooks(signature_age=600)
    headers, body = receiver.received[0]
    assert headers["Webhook-Timestamp"] == str(EPOCH - 600)
    assert not verify(secret, headers, body, now=EPOCH)  # outside 5 minutes
    assert verify(secret, headers, body, now=EPOCH - 600)


def test_deleted_subscription_gets_no_retries(sb, receiver):  # noqa: F811
    sub = subscribe(sb, receiver)
    sb.stock("SKU-A", 5)
    sb.ship(create(sb)["id"])
    receiver.statuses = [500]
    sb.flush_webhooks()
    api(sb, "DELETE", f"/2026-07/webhook/{sub['id']}")
    sb.clock.advance(3600)
    sb.flush_webhooks()
    assert len(receiver.received) == 1


def test_order_without_products_is_400(sb):  # noqa: F811
    body = order_body()
    body["products"] = []
    answer = api(sb, "POST", "/2026-07/order", json=body)
    assert answer.status_code == 400 and "products" in answer.json()


# -------------------------------------------------------------------- SFTP
def test_unexpected_file_name_is_rejected(sb, sftp):  # noqa: F811
    put(sftp, "orders.csv", b"a,b\r\n1,2\r\n")
    row = ack(sftp)
    assert (row["status"], row["error_code"]) == ("rejected", "invalid_file")
    assert sftp.listdir("outbox") == []


def test_byte_order_mark_is_rejected(sb, sftp):  # noqa: F811
    name, data = asn()
    put(sftp, name, b"\xef\xbb\xbf" + data)
    row = ack(sftp)
    assert (
        row["error_code"] == "invalid_file"
        and "byte order mark" in row["error_message"]
    )
    assert sb.warehouse.wros == {}


def test_message_id_must_match_the_file_name(sb, sftp):  # noqa: F811
    _, data = asn()
    put(sftp, f"inbound_shipment_notice_{uuid.uuid4()}.csv", data)
    assert ack(sftp)["status"] == "rejected"
    assert sb.warehouse.wros == {}


def test_unknown_purpose_is_rejected(sb, sftp):  # noqa: F811
    put(sftp, *asn(purpose="change"))
    assert ack(sftp)["error_code"] == "invalid_value"


def test_asn_cancel_before_receipt_and_unknown_asn(sb, sftp):  # noqa: F811
    put(sftp, *asn())
    assert ack(sftp)["status"] == "accepted"
    put(sftp, *asn(purpose="cancel"))
    assert ack(sftp)["status"] == "accepted"
    assert [w["status"] for w in sb.warehouse.wros.values()] == ["Cancelled"]
    put(sftp, *asn(ref="WH/IN/404", purpose="cancel"))
    assert ack(sftp)["error_code"] == "unknown_asn"


def test_stale_tmp_then_redelivered(sb, sftp):  # noqa: F811
    sb.sftp.add_file_fault("stale_tmp")
    sb.adjust("SKU-A", 1, "found")
    [stale] = inbox(sftp)
    name = stale.removesuffix(".tmp")
    sb.sftp.redeliver(name)
    assert inbox(sftp) == [name]
    assert read(sftp, name)[0]["delta"] == "1"


def test_state_dir_authorizes_keys(tmp_path, client_key):  # noqa: F811
    public = f"{client_key.get_name()} {client_key.get_base64()} demo"
    (tmp_path / "threepl.authorized_keys").write_text(f"# demo\n{public}\n")
    sandbox = ThreePLSandbox()
    sandbox.persist_ids(tmp_path / "threepl.ids")
    assert (client_key.get_name(), client_key.get_base64()) in sandbox.sftp.authorized


def test_cli_serves_the_sftp_server_too():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with subprocess.Popen(
        [sys.executable, "-m", "sandboxes", "--only", "threepl", "--port-base", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            name, url = proc.stdout.readline().split()
            assert name == "threepl"
            sftp_name, sftp_url = proc.stdout.readline().split()
            assert sftp_name == "threepl-sftp" and sftp_url.startswith(
                "sftp://127.0.0.1:"
            )
            answer = requests.get(
                url + "/2026-07/channel",
                headers={"Authorization": "Bearer shipbob-sandbox-token"},
                timeout=5,
            )
            assert answer.status_code == 200
        finally:
            proc.terminate()
            assert proc.wait(timeout=5) == 0


@pytest.mark.parametrize("version", ["2026-07", "2026-01", "2025-07"])
def test_every_known_version_answers(sb, version):  # noqa: F811
    assert api(sb, "GET", f"/{version}/fulfillment-center").status_code == 200


# ------------------------------------------------------ changes before shipment
def test_order_filters_ids_and_has_tracking(sb):  # noqa: F811
    sb.stock("SKU-A", 5)
    one, two = create(sb, "OUT-1"), create(sb, "OUT-2")
    sb.ship(one["id"])
    by_id = api(sb, "GET", f"/2026-07/order?IDs={two['id']}").json()
    assert [o["id"] for o in by_id] == [two["id"]]
    shipped = api(sb, "GET", "/2026-07/order?HasTracking=true").json()
    assert [o["id"] for o in shipped] == [one["id"]]


def test_update_address_before_shipment_only(sb, receiver):  # noqa: F811
    subscribe(sb, receiver, ["order.shipment.address.updated"])
    sb.stock("SKU-A", 5)
    order = create(sb)
    shipment_id = order["shipments"][0]["id"]
    path = f"/2026-07/shipment/{shipment_id}:updateAddress"
    assert api(sb, "PUT", path, json={"city": "Chicago"}).status_code == 400
    new = {"street_address1": "1 New St", "city": "Evanston", "country_code": "US"}
    answer = api(sb, "PUT", path, json=new)
    assert answer.status_code == 200
    assert answer.json()["recipient"]["address"]["address1"] == "1 New St"
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipment.address.updated"]
    sb.ship(order["id"])
    refused = api(sb, "PUT", path, json={**new, "city": "Skokie"})
    assert refused.status_code == 422
    assert sb.warehouse.orders[order["id"]]["recipient"]["address"]["city"] == (
        "Evanston"
    )


def test_update_line_items_by_sku_all_or_nothing(sb):  # noqa: F811
    sb.stock("SKU-A", 5)
    sb.stock("SKU-B", 5)
    order = create(sb)
    path = f"/2026-07/shipment/{order['shipments'][0]['id']}:updateLineItemsBySku"
    assert api(sb, "POST", path).status_code == 400  # no body
    bad = api(
        sb,
        "POST",
        path,
        json={
            "items": [{"sku": "SKU-A", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]
        },
    )
    assert bad.status_code == 200 and bad.json()["is_success"] is False
    assert sb.warehouse.orders[order["id"]]["lines"][0]["qty"] == 2  # unchanged
    good = api(
        sb,
        "POST",
        path,
        json={
            "items": [{"sku": "SKU-A", "quantity": 1}, {"sku": "SKU-B", "quantity": 3}]
        },
    )
    assert good.json()["is_success"] is True
    fact = sb.ship(order["id"])
    assert {ln["sku"]: ln["qty"] for ln in fact["shipment"]["lines"]} == {
        "SKU-A": 1,
        "SKU-B": 3,
    }
    late = api(sb, "POST", path, json={"items": [{"sku": "SKU-A", "quantity": 9}]})
    assert late.status_code == 200 and late.json()["is_success"] is False
    assert late.json()["error"]["code"] == "ShipmentNotEditable"


def test_exception_then_shipped_when_stock_arrives(sb, receiver):  # noqa: F811
    subscribe(sb, receiver, ["order.shipment.exception", "order.shipped"])
    sb.stock("SKU-A", 5)
    order = create(sb, qty=2)
    sb.hold(order["id"], "out_of_stock")
    got = api(sb, "GET", f"/2026-07/order/{order['id']}").json()
    assert got["status"] == "Exception"
    assert got["shipments"][0]["status_details"][0] == {
        "name": "Exception",
        "description": "out_of_stock",
    }
    item = api(sb, "GET", "/2026-07/inventory-level").json()["items"][0]
    assert item["total_fulfillable_quantity"] == 3
    assert item["total_sellable_quantity"] == 1  # minus the exception order
    sb.ship(order["id"])
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipment.exception", "order.shipped"]
    assert receiver.bodies()[1]["status_details"] == []


def test_on_hold_keeps_the_order_open(sb, receiver):  # noqa: F811
    subscribe(sb, receiver, ["order.shipment.on_hold"])
    order = create(sb)
    sb.hold(order["id"], "address_invalid", on_hold=True)
    sb.flush_webhooks()
    assert receiver.topics() == ["order.shipment.on_hold"]
    assert receiver.bodies()[0]["status"] == "OnHold"
    cancelled = api(sb, "POST", f"/2026-07/order/{order['id']}:cancel")
    assert cancelled.json()["order"]["status"] == "Cancelled"
    assert cancelled.json()["order"]["shipments"][0]["status"] == "Cancelled"
    assert len(cancelled.json()["canceled_shipment_results"]) == 1


def test_partial_receipt_keeps_the_asn_open(sb, sftp):  # noqa: F811
    put(sftp, *asn(lines=(("SKU-A", "10", ""),)))
    ack(sftp)
    sb.receive("WH/IN/00001", [{"sku": "SKU-A", "received": 4}], complete=False)
    sb.receive("WH/IN/00001", [{"sku": "SKU-A", "received": 6}])
    first, second = sorted(
        (read(sftp, n)[0] for n in inbox(sftp, "receipt_advice_")),
        key=lambda row: row["receipt_ref"],
    )
    assert (first["status"], first["qty_received"]) == ("partial", "4")
    assert (second["status"], second["qty_received"]) == ("complete", "6")
    assert first["receipt_ref"] != second["receipt_ref"]
    assert [w["status"] for w in sb.warehouse.wros.values()] == ["Completed"]


def test_returns_are_listed_and_read(sb):  # noqa: F811
    sb.stock("SKU-A", 5)
    order = create(sb)
    sb.ship(order["id"])
    ret = sb.arrive_return(order["id"], [{"sku": "SKU-A", "qty": 1}])
    listed = api(sb, "GET", "/2026-07/return").json()
    assert [r["id"] for r in listed] == [ret["id"]]
    one = api(sb, "GET", f"/2026-07/return/{ret['id']}").json()
    assert one["reference_id"] == "RMA-SO-1/OUT-1"
    assert one["original_shipment_id"] == order["shipments"][0]["id"]
    assert api(sb, "GET", "/2026-07/return/1").status_code == 404


def test_sftp_admin_routes_and_reset(sb, sftp, client_key):  # noqa: F811
    admin = sb.test_url + "/__sandbox__/"
    key = f"{client_key.get_name()} {client_key.get_base64()}"
    assert requests.post(admin + "sftp/keys", json={"public_key": key}, timeout=5).ok
    sb.sftp.auto_poll = False
    put(sftp, *asn())
    polled = requests.post(admin + "sftp/poll", json={}, timeout=5).json()
    assert [p["result"] for p in polled] == ["accepted"]
    [name] = inbox(sftp)
    sftp.remove(f"inbox/{name}")
    again = requests.post(admin + "sftp/redeliver", json={"name": name}, timeout=5)
    assert again.json() == {"name": name} and inbox(sftp) == [name]
    requests.post(admin + "reset", json={}, timeout=5)
    assert inbox(sftp) == [] and sb.warehouse.wros == {}
