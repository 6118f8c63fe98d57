"""Plain pytest tests of the 3PL sandbox's SFTP face (no Odoo), through a
real SFTP client (paramiko) and the CSV contract ``docs/3pl-sftp-csv.md``."""

import csv
import io
import socket
import uuid

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandboxes.threepl import ThreePLSandbox, csvfiles
from sandboxes.toolkit import Clock, SandboxServer

EPOCH = 1_793_000_000  # 2026-10-26T07:33:20Z
ISO = "2026-10-26T07:33:20Z"
SO_HEADER = (
    "message_id,row_count,purpose,order_ref,customer_order_ref,warehouse_code,"
    "requested_ship_date,carrier_code,service_level,ship_to_name,ship_to_company,"
    "ship_to_street,ship_to_street2,ship_to_city,ship_to_state_code,ship_to_zip,"
    "ship_to_country_code,ship_to_phone,ship_to_email,notes,line_no,sku,barcode,"
    "qty,uom,lot"
)


def new_key():
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem))


@pytest.fixture(scope="module")
def client_key():
    return new_key()


@pytest.fixture
def sb(client_key):
    sandbox = ThreePLSandbox(clock=Clock(EPOCH, frozen=True))
    sandbox.sftp.authorize(f"{client_key.get_name()} {client_key.get_base64()}")
    with SandboxServer(sandbox) as server:
        sandbox.test_url = server.url
        yield sandbox


def connect(sb, key, *, pinned=None, password=None):
    """An SFTP session that pins the host key (``pinned``: another one)."""
    info = sb.sftp.info()
    client = paramiko.SSHClient()
    host_key = pinned or sb.sftp.server.host_key
    client.get_host_keys().add(
        f"[127.0.0.1]:{info['port']}", host_key.get_name(), host_key
    )
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        "127.0.0.1",
        port=info["port"],
        username=info["username"],
        pkey=key,
        password=password,
        allow_agent=False,
        look_for_keys=False,
        timeout=5,
        banner_timeout=5,
        auth_timeout=5,
    )
    sftp = client.open_sftp()
    sftp.client = client
    return sftp


@pytest.fixture
def sftp(sb, client_key):
    session = connect(sb, client_key)
    yield session
    session.close()
    session.client.close()


def put(sftp, name, data: bytes, folder="outbox"):
    """The retailer's atomic write: ``.tmp`` then rename."""
    with sftp.open(f"{folder}/{name}.tmp", "wb") as handle:
        handle.write(data)
    sftp.rename(f"{folder}/{name}.tmp", f"{folder}/{name}")


def read(sftp, name, folder="inbox") -> list[dict]:
    with sftp.open(f"{folder}/{name}", "rb") as handle:
        raw = handle.read()
    return list(csv.DictReader(io.StringIO(raw.decode(), newline="")))


def inbox(sftp, prefix=""):
    return sorted(n for n in sftp.listdir("inbox") if n.startswith(prefix))


def shipping_order(
    ref="WH/OUT/00001", purpose="new", lines=(("SKU-A", "2"),), mid=None
):
    mid = mid or str(uuid.uuid4())
    rows = [
        {
            "purpose": purpose,
            "order_ref": ref,
            "customer_order_ref": "S00042",
            "warehouse_code": "IL1",
            "service_level": "standard",
            "ship_to_name": "Jane Doe",
            "ship_to_street": "100 N Racine Ave",
            "ship_to_city": "Chicago",
            "ship_to_state_code": "IL",
            "ship_to_zip": "60607",
            "ship_to_country_code": "US",
            "line_no": n,
            "sku": sku,
            "qty": qty,
            "uom": "EA",
        }
        for n, (sku, qty) in enumerate(lines, 1)
    ]
    return f"shipping_order_{mid}.csv", csvfiles.render("shipping_order", mid, rows)


def only_ack(sftp):
    [name] = inbox(sftp, "ack_")
    return read(sftp, name)


# ------------------------------------------------------------------- access
def test_key_auth_only_password_refused(sb, client_key):
    with pytest.raises(paramiko.BadAuthenticationType) as refused:
        connect(sb, None, password="anything")
    assert refused.value.allowed_types == ["publickey"]
    with pytest.raises(paramiko.AuthenticationException):
        connect(sb, new_key())  # a key nobody authorized
    session = connect(sb, client_key)
    assert sorted(session.listdir(".")) == ["archive", "inbox", "outbox"]
    session.client.close()

    # even a client that tries a password anyway gets nowhere
    transport = paramiko.Transport(("127.0.0.1", sb.sftp.info()["port"]))
    transport.connect()
    with pytest.raises(paramiko.AuthenticationException):
        transport.auth_password("retailer", "anything")
    transport.close()
    assert ("retailer", "password") in sb.sftp.server.refused


def test_fixed_host_key_can_be_pinned(sb, client_key):
    other = ThreePLSandbox(sftp=True)
    assert other.sftp.server.host_key_fingerprint == sb.sftp.info()["fingerprint"]
    assert sb.sftp.info()["fingerprint"].startswith("SHA256:")
    with pytest.raises(paramiko.SSHException):
        connect(sb, client_key, pinned=new_key())  # not the key the client pinned


def test_paths_cannot_escape_the_home(sftp):
    # like a chroot: ".." of the home is the home
    assert sorted(sftp.listdir("../../..")) == ["archive", "inbox", "outbox"]
    assert sorted(sftp.listdir("/../..")) == ["archive", "inbox", "outbox"]
    with pytest.raises(OSError):
        sftp.open("../../etc/passwd", "rb")


def test_outage_refuses_connections(sb, client_key):
    sb.add_outage(EPOCH, EPOCH + 60)
    with pytest.raises((paramiko.SSHException, socket.error, EOFError)):
        connect(sb, client_key)
    sb.clock.advance(60)
    connect(sb, client_key).client.close()


# ---------------------------------------------------------- shipping orders
def test_documented_layout_written_by_hand_is_accepted(sb, sftp):
    mid = "0b7c9d2e-1111-4a57-9d0e-2c1f5b7a9e11"
    text = (
        SO_HEADER + "\r\n"
        f"{mid},2,new,WH/OUT/00007,S00007,IL1,2026-10-27,UPS,standard,"
        '"Doe, Jane",,1 Main St,,Chicago,IL,60607,US,+13125550100,j@example.com,,'
        "1,SKU-A,,2,EA,\r\n"
        f"{mid},2,new,WH/OUT/00007,S00007,IL1,2026-10-27,UPS,standard,"
        '"Doe, Jane",,1 Main St,,Chicago,IL,60607,US,+13125550100,j@example.com,,'
        "2,SKU-B,,1.5,EA,LOT-9\r\n"
    )
    put(sftp, f"shipping_order_{mid}.csv", text.encode())
    [ack] = only_ack(sftp)
    assert ack["status"] == "accepted", ack
    assert ack["acked_message_id"] == mid and ack["acked_ref"] == "WH/OUT/00007"
    assert ack["received_at"] == ISO
    [order] = sb.warehouse.orders.values()
    assert order["recipient"]["name"] == "Doe, Jane"
    assert [(ln["sku"], ln["qty"], ln["lot"]) for ln in order["lines"]] == [
        ("SKU-A", 2, None),
        ("SKU-B", 1.5, "LOT-9"),
    ]
    assert sftp.listdir("outbox") == []


def test_tmp_file_is_never_read(sb, sftp):
    name, data = shipping_order()
    with sftp.open(f"outbox/{name}.tmp", "wb") as handle:
        handle.write(data)
    assert sb.sftp.poll() == []
    assert sb.warehouse.orders == {}
    assert sftp.listdir("outbox") == [name + ".tmp"]


def test_same_message_twice_is_processed_once(sb, sftp):
    name, data = shipping_order()
    put(sftp, name, data)
    [first_ack] = inbox(sftp, "ack_")
    sftp.rename(f"inbox/{first_ack}", f"archive/{first_ack}")
    put(sftp, name, data)  # the retailer's retry after a lost connection
    assert len(sb.warehouse.orders) == 1
    assert inbox(sftp, "ack_") == [first_ack]  # the same ack, again


def test_new_for_a_known_order_ref_is_rejected(sb, sftp):
    put(sftp, *shipping_order())
    sftp.rename(f"inbox/{inbox(sftp)[0]}", f"archive/{inbox(sftp)[0]}")
    put(sftp, *shipping_order())  # another message_id, same order_ref
    [ack] = only_ack(sftp)
    assert ack["status"] == "rejected"
    assert ack["error_code"] == "duplicate_order_ref"
    assert "WH/OUT/00001" in ack["error_message"]
    assert len(sb.warehouse.orders) == 1


def test_change_and_cancel_before_shipment(sb, sftp):
    put(sftp, *shipping_order())
    put(sftp, *shipping_order(purpose="change", lines=(("SKU-A", "5"),)))
    [order] = sb.warehouse.orders.values()
    assert order["lines"][0]["qty"] == 5
    put(sftp, *shipping_order(purpose="cancel", lines=(("", ""),)))
    assert order["status"] == "Cancelled"
    acks = [read(sftp, n)[0]["status"] for n in inbox(sftp, "ack_")]
    assert acks == ["accepted"] * 3
    with pytest.raises(Exception, match="Cancelled"):
        sb.ship(order["id"])


def test_change_or_cancel_after_shipment_is_refused(sb, sftp):
    sb.stock("SKU-A", 10)
    put(sftp, *shipping_order())
    sb.ship("WH/OUT/00001")
    for name in inbox(sftp):
        sftp.rename(f"inbox/{name}", f"archive/{name}")
    put(sftp, *shipping_order(purpose="cancel"))
    [ack] = only_ack(sftp)
    assert (ack["status"], ack["error_code"]) == ("rejected", "already_shipped")
    assert sb.warehouse.find_order(1001, "WH/OUT/00001")["status"] == "Fulfilled"


def test_unknown_order_cancel_is_refused(sftp):
    put(sftp, *shipping_order(purpose="cancel"))
    [ack] = only_ack(sftp)
    assert ack["error_code"] == "unknown_order"


def test_truncated_outbox_file_is_left_alone(sb, sftp):
    name, data = shipping_order(lines=(("SKU-A", "2"), ("SKU-B", "1")))
    last_line = data[data.rstrip(b"\r\n").rfind(b"\n") + 1 :]
    # a .csv written without the .tmp step: cut mid-line, before its end,
    # or right after a whole line (row_count tells)
    for cut in (data[:-7], data[:-2], data[: -len(last_line)]):
        with sftp.open(f"outbox/{name}", "wb") as handle:
            handle.write(cut)
        sb.sftp.poll()
        assert sftp.listdir("outbox") == [name]
        assert inbox(sftp) == [] and sb.warehouse.orders == {}
    with sftp.open(f"outbox/{name}", "wb") as handle:
        handle.write(data)  # the writer finishes
    sb.sftp.poll()
    assert len(sb.warehouse.orders) == 1


def test_file_breaking_the_contract_is_rejected(sb, sftp):
    mid = str(uuid.uuid4())
    put(
        sftp,
        f"shipping_order_{mid}.csv",
        b"message_id,row_count\r\n" + f"{mid},1\r\n".encode(),
    )
    [ack] = only_ack(sftp)
    assert ack["status"] == "rejected" and ack["error_code"] == "missing_field"
    assert "order_ref" in ack["error_message"]
    assert sftp.listdir("outbox") == []


def test_bad_quantity_is_rejected_with_its_line(sb, sftp):
    put(sftp, *shipping_order(lines=(("SKU-A", "2"), ("SKU-B", "1,5"))))
    [ack] = only_ack(sftp)
    assert (ack["error_code"], ack["line_no"]) == ("invalid_value", "2")
    assert sb.warehouse.orders == {}


# ----------------------------------------------------------- shipping advice
def test_full_shipment_drops_a_shipping_advice(sb, sftp):
    sb.stock("SKU-A", 10)
    sb.stock("SKU-B", 10)
    put(sftp, *shipping_order(lines=(("SKU-A", "2"), ("SKU-B", "1"))))
    sb.ship("WH/OUT/00001", carrier="UPS", packages=2)
    [name] = inbox(sftp, "shipping_advice_")
    rows = read(sftp, name)
    assert {r["status"] for r in rows} == {"complete"}
    lines = [r for r in rows if r["record"] == "line"]
    assert [
        (r["sku"], r["qty_ordered"], r["qty_shipped"], r["qty_short"]) for r in lines
    ] == [
        ("SKU-A", "2", "2", "0"),
        ("SKU-B", "1", "1", "0"),
    ]
    packages = [r for r in rows if r["record"] == "package"]
    assert {r["package_no"] for r in packages} == {"1", "2"}
    assert all(r["tracking_number"] and r["carrier"] == "UPS" for r in packages)
    assert rows[0]["row_count"] == str(len(rows)) and rows[0]["ship_date"] == ISO
    assert name == f"shipping_advice_{rows[0]['message_id']}.csv"


def test_partial_shipment_reports_the_short_quantity(sb, sftp):
    sb.stock("SKU-A", 10)
    put(sftp, *shipping_order(lines=(("SKU-A", "3"),)))
    sb.ship("WH/OUT/00001", {"SKU-A": 1}, reason="damaged")
    [name] = inbox(sftp, "shipping_advice_")
    [line] = [r for r in read(sftp, name) if r["record"] == "line"]
    assert (line["status"], line["qty_shipped"], line["qty_short"], line["reason"]) == (
        "partial",
        "1",
        "2",
        "damaged",
    )


def test_order_not_shipped_at_all(sb, sftp):
    put(sftp, *shipping_order())
    sb.refuse("WH/OUT/00001", reason="out_of_stock")
    [name] = inbox(sftp, "shipping_advice_")
    [line] = read(sftp, name)
    assert (line["status"], line["qty_shipped"], line["qty_short"]) == (
        "cancelled",
        "0",
        "2",
    )


def test_archive_rename_never_overwrites(sb, sftp):
    sb.stock("SKU-A", 10)
    put(sftp, *shipping_order())
    [ack] = inbox(sftp, "ack_")
    sftp.rename(f"inbox/{ack}", f"archive/{ack}")
    sb.sftp.redeliver(ack)  # the 3PL drops it again
    with pytest.raises(OSError):
        sftp.rename(f"inbox/{ack}", f"archive/{ack}")
    assert sftp.listdir("archive") == [ack]


def test_posix_rename_replaces_the_target_plain_rename_refuses(sb, sftp):
    # OpenSSH PROTOCOL §4.3 posix-rename@openssh.com: rename(2) semantics
    # (the target is replaced); SSH_FXP_RENAME: an existing target is an error
    for name, data in (("a.tmp", b"old\n"), ("b.tmp", b"new\n")):
        with sftp.open(f"archive/{name}", "wb") as handle:
            handle.write(data)
    sftp.rename("archive/a.tmp", "archive/x.csv")
    with pytest.raises(OSError):
        sftp.rename("archive/b.tmp", "archive/x.csv")
    sftp.posix_rename("archive/b.tmp", "archive/x.csv")
    assert sftp.listdir("archive") == ["x.csv"]
    with sftp.open("archive/x.csv", "rb") as handle:
        assert handle.read() == b"new\n"


def test_posix_rename_into_outbox_is_read_by_the_warehouse(sb, sftp):
    name, data = shipping_order()
    with sftp.open(f"outbox/{name}.tmp", "wb") as handle:
        handle.write(data)
    sftp.posix_rename(f"outbox/{name}.tmp", f"outbox/{name}")
    assert inbox(sftp, "ack_")


# -------------------------------------------------------------- file faults
def test_truncated_inbox_file_then_redelivered_whole(sb, sftp):
    sb.stock("SKU-A", 10)
    put(sftp, *shipping_order())
    sb.sftp.add_file_fault("truncate")
    sb.ship("WH/OUT/00001")
    [name] = inbox(sftp, "shipping_advice_")
    with sftp.open(f"inbox/{name}", "rb") as handle:
        raw = handle.read()
    assert not raw.endswith(b"\n")
    with pytest.raises(csvfiles.Incomplete):
        csvfiles.parse("shipping_advice", raw)
    sb.sftp.redeliver(name)
    assert read(sftp, name)[0]["status"] == "complete"


def test_tmp_never_renamed(sb, sftp):
    sb.sftp.add_file_fault("stale_tmp")
    sb.adjust("SKU-A", -1, "lost")
    [name] = inbox(sftp)
    assert name.startswith("inventory_adjustment_") and name.endswith(".csv.tmp")


def test_held_files_arrive_late_and_reordered(sb, sftp):
    sb.sftp.add_file_fault("hold", times=2)
    first = sb.adjust("SKU-A", -1, "lost")
    sb.adjust("SKU-A", 3, "found")
    assert inbox(sftp) == []
    sb.clock.advance(3600)
    released = sb.sftp.release(order="reverse")
    assert len(released) == 2 and sorted(released) == inbox(sftp)
    assert read(sftp, released[1])[0]["adjustment_ref"] == str(first["id"])


def test_duplicate_file_is_dropped_again(sb, sftp):
    sb.sftp.add_file_fault("duplicate")
    sb.adjust("SKU-A", 2, "found")
    [name] = inbox(sftp)
    sftp.rename(f"inbox/{name}", f"archive/{name}")
    assert sb.sftp.release() == [name]
    assert inbox(sftp) == [name]


def test_auto_poll_can_be_turned_off(sb, sftp):
    sb.sftp.auto_poll = False
    name, data = shipping_order()
    put(sftp, name, data)
    assert sftp.listdir("outbox") == [name] and sb.warehouse.orders == {}
    assert sb.sftp.poll() == [{"file": name, "result": "accepted"}]
