"""The 3PL sandbox's warehouse floor (no Odoo): receiving (ASN/WRO) with
received and damaged quantities and lots, inventory snapshots with drift and
``as_of``, adjustments, returns; over REST and over SFTP."""

import uuid

import pytest
import requests

from sandboxes.test_threepl_rest import (
    EPOCH,
    Receiver,
    api,
    create,
    subscribe,
)
from sandboxes.test_threepl_sftp import (
    ISO,
    client_key,  # noqa: F401 - fixture
    connect,
    inbox,
    put,
    read,
    shipping_order,
)
from sandboxes.threepl import ThreePLSandbox, csvfiles
from sandboxes.toolkit import Clock, SandboxServer


@pytest.fixture
def sb(client_key):  # noqa: F811 - the fixture imported above
    sandbox = ThreePLSandbox(clock=Clock(EPOCH, frozen=True))
    sandbox.sftp.authorize(f"{client_key.get_name()} {client_key.get_base64()}")
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        yield sandbox


@pytest.fixture
def sftp(sb, client_key):  # noqa: F811
    session = connect(sb, client_key)
    yield session
    session.client.close()


@pytest.fixture
def receiver():
    app = Receiver()
    with SandboxServer(app) as server:
        app.url = server.url + "/3pl/webhook"
        yield app


def inventory_id(sb, sku):
    with sb.lock:
        sb.warehouse.product(sku)  # a product ShipBob knows
    levels = api(sb, "GET", "/2026-07/inventory-level").json()["items"]
    return next(item["inventory_id"] for item in levels if item["sku"] == sku)


def level(sb, sku):
    levels = api(sb, "GET", "/2026-07/inventory-level").json()["items"]
    return next(item for item in levels if item["sku"] == sku)


def wro_body(sb, po="WH/IN/00001", items=(("SKU-A", 10),)):
    return {
        "fulfillment_center": {"id": 10},
        "package_type": "Package",
        "box_packaging_type": "EverythingInOneBox",
        "expected_arrival_date": "2026-10-30T00:00:00Z",
        "purchase_order_number": po,
        "boxes": [
            {
                "tracking_number": "1Z999",
                "box_items": [
                    {"inventory_id": inventory_id(sb, sku), "quantity": qty}
                    for sku, qty in items
                ],
            }
        ],
    }


def asn(ref="WH/IN/00001", purpose="new", lines=(("SKU-A", "10", "LOT-1"),)):
    mid = str(uuid.uuid4())
    rows = [
        {
            "purpose": purpose,
            "asn_ref": ref,
            "warehouse_code": "IL1",
            "expected_date": "2026-10-30",
            "line_no": n,
            "sku": sku,
            "qty": qty,
            "uom": "EA",
            "lot": lot,
        }
        for n, (sku, qty, lot) in enumerate(lines, 1)
    ]
    return (
        f"inbound_shipment_notice_{mid}.csv",
        csvfiles.render("inbound_shipment_notice", mid, rows),
    )


# ---------------------------------------------------------- REST receiving
def test_wro_needs_boxes_and_known_inventory(sb):
    body = wro_body(sb)
    del body["boxes"]
    assert api(sb, "POST", "/2026-07/receiving", json=body).status_code == 400
    body = wro_body(sb)
    body["boxes"][0]["box_items"][0]["inventory_id"] = 424242
    assert api(sb, "POST", "/2026-07/receiving", json=body).status_code == 422
    assert sb.warehouse.wros == {}


def test_wro_received_with_damaged_units_and_lots(sb):
    wro = api(sb, "POST", "/2026-07/receiving", json=wro_body(sb)).json()
    assert wro["status"] == "Awaiting"
    sb.receive(wro["id"], [{"sku": "SKU-A", "received": 8, "damaged": 2, "lot": "L7"}])
    got = api(sb, "GET", f"/2026-07/receiving/{wro['id']}").json()
    assert got["status"] == "Completed"
    [line] = got["inventory_quantities"]
    assert (line["expected_quantity"], line["received_quantity"]) == (10, 10)
    assert (line["stowed_quantity"], line["damaged_quantity"]) == (8, 2)
    assert line["lots"] == [{"lot_number": "L7", "quantity": 8}]
    item = level(sb, "SKU-A")
    assert item["total_on_hand_quantity"] == 10
    assert item["total_fulfillable_quantity"] == 8  # damaged units cannot ship


def test_poll_completed_wros_then_mark_synced(sb):
    first = api(sb, "POST", "/2026-07/receiving", json=wro_body(sb)).json()
    api(sb, "POST", "/2026-07/receiving", json=wro_body(sb, "WH/IN/00002"))
    sb.receive(first["id"])
    path = "/2026-07/receiving?Statuses=Completed&ExternalSync=false"
    assert [w["id"] for w in api(sb, "GET", path).json()] == [first["id"]]
    synced = api(
        sb,
        "POST",
        "/2026-07/receiving:setExternalSync",
        json={"ids": [first["id"]], "is_external_sync": True},
    )
    assert synced.status_code == 200
    assert api(sb, "GET", path).json() == []


def test_wro_cancel_only_before_receipt(sb):
    one = api(sb, "POST", "/2026-07/receiving", json=wro_body(sb)).json()
    two = api(sb, "POST", "/2026-07/receiving", json=wro_body(sb, "WH/IN/2")).json()
    cancelled = api(sb, "POST", f"/2026-07/receiving/{one['id']}:cancel")
    assert cancelled.json()["status"] == "Cancelled"
    sb.receive(two["id"])
    refused = api(sb, "POST", f"/2026-07/receiving/{two['id']}:cancel")
    assert refused.status_code == 422
    assert sb.warehouse.wros[two["id"]]["status"] == "Completed"


# ------------------------------------------------------------ REST returns
def test_return_created_then_completed_by_webhook(sb, receiver):
    subscribe(sb, receiver, ["return.created", "return.completed"])
    sb.stock("SKU-A", 5)
    order = create(sb)
    fact = sb.ship(order["id"])
    body = {
        "reference_id": "RMA-1",
        "fulfillment_center": {"id": 10},
        "original_shipment_id": fact["shipment"]["id"],
        "tracking_number": "RT123",
        "inventory": [
            {
                "id": inventory_id(sb, "SKU-A"),
                "quantity": 2,
                "requested_action": "Default",
            }
        ],
    }
    answer = api(sb, "POST", "/2026-07/return", json=body)
    assert answer.status_code == 201
    ret = answer.json()
    assert ret["status"] == "AwaitingArrival"
    sb.complete_return(ret["id"], [{"sku": "SKU-A", "restocked": 1, "damaged": 1}])
    sb.flush_webhooks()
    assert receiver.topics() == ["return.created", "return.completed"]
    done = receiver.bodies()[1]
    assert done["status"] == "Completed"
    assert done["inventory"][0]["action_taken"] == [
        {"action": "Restock", "quantity": 1},
        {"action": "Dispose", "quantity": 1},
    ]
    assert level(sb, "SKU-A")["total_on_hand_quantity"] == 5  # 3 left + 2 back
    assert level(sb, "SKU-A")["total_fulfillable_quantity"] == 4


# ------------------------------------------------------------ SFTP receiving
def test_asn_file_then_receipt_advice(sb, sftp):
    put(sftp, *asn(lines=(("SKU-A", "10", "LOT-1"), ("SKU-B", "4", ""))))
    [ack_name] = inbox(sftp, "ack_")
    assert read(sftp, ack_name)[0]["status"] == "accepted"
    sb.receive(
        "WH/IN/00001",
        [
            {"sku": "SKU-A", "received": 9, "damaged": 1, "lot": "LOT-1"},
            {"sku": "SKU-B", "received": 4},
        ],
    )
    [name] = inbox(sftp, "receipt_advice_")
    rows = read(sftp, name)
    assert [
        (r["sku"], r["qty_received"], r["qty_damaged"], r["lot"]) for r in rows
    ] == [("SKU-A", "9", "1", "LOT-1"), ("SKU-B", "4", "0", "")]
    assert {(r["asn_ref"], r["status"], r["received_at"]) for r in rows} == {
        ("WH/IN/00001", "complete", ISO)
    }


def test_asn_ref_is_unique_and_cancel_refused_after_receipt(sb, sftp):
    put(sftp, *asn())
    for name in inbox(sftp):
        sftp.rename(f"inbox/{name}", f"archive/{name}")
    put(sftp, *asn())
    [ack_name] = inbox(sftp, "ack_")
    assert read(sftp, ack_name)[0]["error_code"] == "duplicate_asn_ref"
    sftp.rename(f"inbox/{ack_name}", f"archive/{ack_name}")
    sb.receive("WH/IN/00001")
    put(sftp, *asn(purpose="cancel"))
    [ack_name] = inbox(sftp, "ack_")
    assert read(sftp, ack_name)[0]["error_code"] == "already_received"
    assert len(sb.warehouse.wros) == 1


# ------------------------------------------------ snapshots and adjustments
def test_snapshot_shows_drift_and_commitments(sb, sftp):
    sb.stock("SKU-A", 10)
    sb.stock("SKU-B", 3)
    put(sftp, *shipping_order(lines=(("SKU-A", "2"),)))
    sb.drift("SKU-A", -1)  # nobody says so: only the count shows it
    sb.snapshot()
    [name] = inbox(sftp, "inventory_snapshot_")
    rows = {r["sku"]: r for r in read(sftp, name)}
    assert set(rows) == {"SKU-A", "SKU-B"}
    a = rows["SKU-A"]
    assert (a["on_hand"], a["committed"], a["available"], a["damaged"]) == (
        "9",
        "2",
        "7",
        "0",
    )
    assert (a["as_of"], a["warehouse_code"]) == (ISO, "IL1")


def test_snapshot_as_of_excludes_later_moves(sb, sftp):
    sb.stock("SKU-A", 10)
    sb.clock.advance(600)
    sb.drift("SKU-A", -4)
    sb.adjust("SKU-A", 2, "found")
    snap = sb.snapshot(as_of=EPOCH + 60)  # counted before the moves
    assert snap["lines"] == [
        {"sku": "SKU-A", "on_hand": 10, "committed": 0, "damaged": 0, "available": 10}
    ]
    [name] = inbox(sftp, "inventory_snapshot_")
    [row] = read(sftp, name)
    assert (row["on_hand"], row["as_of"]) == ("10", "2026-10-26T07:34:20Z")
    assert sb.snapshot()["lines"][0]["on_hand"] == 8


def test_adjustment_file(sb, sftp):
    sb.stock("SKU-A", 10)
    adj = sb.adjust("SKU-A", -3, "damaged", reference="count sheet 12")
    [name] = inbox(sftp, "inventory_adjustment_")
    [row] = read(sftp, name)
    assert (row["sku"], row["delta"], row["reason_code"]) == ("SKU-A", "-3", "damaged")
    assert (row["adjustment_ref"], row["reference"]) == (
        str(adj["id"]),
        "count sheet 12",
    )
    assert sb.snapshot()["lines"][0]["damaged"] == 3


def test_return_advice_for_an_sftp_order(sb, sftp):
    sb.stock("SKU-A", 10)
    put(sftp, *shipping_order(lines=(("SKU-A", "2"),)))
    sb.ship("WH/OUT/00001")
    ret = sb.arrive_return("WH/OUT/00001", [{"sku": "SKU-A", "qty": 2}])
    sb.complete_return(
        ret["id"], [{"sku": "SKU-A", "restocked": 1, "damaged": 1, "reason": "broken"}]
    )
    [name] = inbox(sftp, "return_advice_")
    [row] = read(sftp, name)
    assert (row["order_ref"], row["customer_order_ref"]) == ("WH/OUT/00001", "S00042")
    assert (row["qty_restocked"], row["qty_damaged"], row["reason"]) == (
        "1",
        "1",
        "broken",
    )


# ----------------------------------------------------------- admin routes
def test_admin_routes_drive_the_floor(sb, sftp):
    admin = sb.test_url + "/__sandbox__/"
    assert requests.post(admin + "stock", json={"sku": "SKU-A", "qty": 4}, timeout=5).ok
    put(sftp, *shipping_order())
    shipped = requests.post(
        admin + "ship",
        json={"order": "WH/OUT/00001", "quantities": {"SKU-A": 1}},
        timeout=5,
    ).json()
    assert shipped["status"] == "PartiallyFulfilled"
    snap = requests.post(admin + "snapshot", json={}, timeout=5).json()
    assert snap["lines"][0]["on_hand"] == 3
    requests.post(admin + "sftp/faults", json={"kind": "hold"}, timeout=5)
    requests.post(admin + "adjust", json={"sku": "SKU-A", "delta": 1}, timeout=5)
    assert inbox(sftp, "inventory_adjustment_") == []
    released = requests.post(admin + "sftp/release", json={}, timeout=5).json()
    assert inbox(sftp, "inventory_adjustment_") == released
    info = requests.get(admin + "sftp", timeout=5).json()
    assert info["port"] == sb.sftp.info()["port"] and info["host_key"].startswith(
        "ssh-ed25519 "
    )
    outage = requests.post(admin + "outage", json={"seconds": 30}, timeout=5)
    assert outage.ok
    assert api(sb, "GET", "/2026-07/channel").status_code == 503
