"""The SFTP CSV contract (docs/3pl-sftp-csv.md): canonical messages as files
and back.

One message per file, ``<type>_<message_id>.csv``, UTF-8, RFC 4180 with CRLF
rows, a header row, and every data row repeating the message's header columns
and ``row_count``. A reader refuses to read a file that is still being
written (no final line break, a row of another width, fewer rows than
``row_count``): :class:`Incomplete`, tried again later; a file it can never
read (a documented column missing): :class:`Unreadable`.
"""

import csv
import io
import re

NAME = re.compile(r"^(?P<type>[a-z_]+)_(?P<message_id>[A-Za-z0-9_-]{1,64})\.csv$")

SHIPPING_ORDER = [
    "message_id",
    "row_count",
    "purpose",
    "order_ref",
    "customer_order_ref",
    "warehouse_code",
    "requested_ship_date",
    "carrier_code",
    "service_level",
    "ship_to_name",
    "ship_to_company",
    "ship_to_street",
    "ship_to_street2",
    "ship_to_city",
    "ship_to_state_code",
    "ship_to_zip",
    "ship_to_country_code",
    "ship_to_phone",
    "ship_to_email",
    "notes",
    "line_no",
    "sku",
    "barcode",
    "qty",
    "uom",
    "lot",
]
ACK = [
    "message_id",
    "row_count",
    "acked_message_id",
    "acked_type",
    "acked_ref",
    "status",
    "error_code",
    "error_message",
    "line_no",
    "received_at",
]
SHIPPING_ADVICE = [
    "message_id",
    "row_count",
    "order_ref",
    "customer_order_ref",
    "shipment_ref",
    "ship_date",
    "status",
    "carrier",
    "service",
    "record",
    "line_no",
    "sku",
    "qty_ordered",
    "qty_shipped",
    "qty_short",
    "reason",
    "package_no",
    "tracking_number",
    "tracking_url",
    "weight_kg",
    "qty",
]
# §3.7 / §3.8
INVENTORY_SNAPSHOT = [
    "message_id",
    "row_count",
    "warehouse_code",
    "as_of",
    "sku",
    "barcode",
    "on_hand",
    "available",
    "committed",
    "damaged",
    "uom",
]
INVENTORY_ADJUSTMENT = [
    "message_id",
    "row_count",
    "adjustment_ref",
    "warehouse_code",
    "adjusted_at",
    "line_no",
    "sku",
    "delta",
    "uom",
    "reason_code",
    "lot",
    "reference",
]
READ_COLUMNS = {
    "ack": ACK,
    "shipping_advice": SHIPPING_ADVICE,
    "inventory_snapshot": INVENTORY_SNAPSHOT,
    "inventory_adjustment": INVENTORY_ADJUSTMENT,
}
# readers of the other inbox types, registered by their modules
READERS = {}


def register_reader(kind, columns, reader):
    """Read inbox files of ``kind`` (``columns`` required) with ``reader``."""
    READ_COLUMNS[kind] = columns
    READERS[kind] = reader


class Incomplete(Exception):
    """A file still being written (or truncated): leave it, read it later."""


class Unreadable(Exception):
    """A file that can never be read as its type: someone must act."""


def file_name(message):
    return f"{message['type']}_{message['message_id']}.csv"


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text or "0"
    # writers never put a line break inside a field
    return str(value).replace("\r", " ").replace("\n", " ")


def write_shipping_order(message):
    """The CSV bytes of a canonical shipping order."""
    ship_to = message.get("ship_to") or {}
    head = {
        "message_id": message["message_id"],
        "purpose": message.get("purpose") or "new",
        "order_ref": message["order_ref"],
        "customer_order_ref": message.get("customer_order_ref"),
        "warehouse_code": message.get("warehouse_code"),
        "requested_ship_date": message.get("requested_ship_date"),
        "carrier_code": message.get("carrier_code"),
        "service_level": message.get("service_level"),
        "notes": message.get("notes"),
    }
    head.update({f"ship_to_{key}": value for key, value in ship_to.items()})
    lines = message.get("lines") or [{}]
    rows = []
    for line in lines:
        row = dict(head, row_count=len(lines))
        for key in ("line_no", "sku", "barcode", "qty", "uom", "lot"):
            row[key] = line.get(key)
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHIPPING_ORDER)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in SHIPPING_ORDER])
    return buffer.getvalue().encode("utf-8")


def read_rows(data, columns):
    """The data rows of a file as dicts (empty fields as None)."""
    if not data.endswith(b"\n"):
        raise Incomplete("the file does not end with a line break")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise Unreadable(f"not UTF-8: {err}") from err
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise Incomplete("empty file")
    header, body = rows[0], [r for r in rows[1:] if r]
    missing = [c for c in columns if c not in header]
    if missing:
        raise Unreadable(f"missing columns: {', '.join(missing)}")
    if any(len(row) != len(header) for row in body):
        raise Incomplete("a row has another number of fields than the header")
    records = [
        {
            name: (value if value != "" else None)
            for name, value in zip(header, row, strict=True)
        }
        for row in body
    ]
    counts = {r.get("row_count") for r in records}
    if not records or counts != {str(len(records))}:
        raise Incomplete(f"{len(records)} rows, row_count says {counts}")
    return records


def _number(value):
    return float(value) if value not in (None, "") else 0.0


def read_message(name, data):
    """The canonical message of an inbox file (``Incomplete``/``Unreadable``)."""
    match = NAME.match(name)
    if not match or match["type"] not in READ_COLUMNS:
        raise Unreadable(f"{name}: not a message file this connector reads")
    kind = match["type"]
    rows = read_rows(data, READ_COLUMNS[kind])
    if {r["message_id"] for r in rows} != {match["message_id"]}:
        raise Unreadable(f"{name}: its rows name another message_id")
    if kind in READERS:
        return READERS[kind](rows)
    if kind == "ack":
        return _ack(rows)
    if kind == "inventory_snapshot":
        return _inventory_snapshot(rows)
    if kind == "inventory_adjustment":
        return _inventory_adjustment(rows)
    return _shipping_advice(rows)


def _ack(rows):
    first = rows[0]
    return {
        "type": "ack",
        "message_id": first["message_id"],
        "acked_message_id": first["acked_message_id"],
        "acked_type": first["acked_type"],
        "acked_ref": first["acked_ref"],
        "status": first["status"],
        "received_at": first["received_at"],
        "errors": [
            {
                "code": r["error_code"],
                "message": r["error_message"],
                "line_no": r["line_no"],
            }
            for r in rows
            if r["error_code"]
        ],
    }


def _shipping_advice(rows):
    first = rows[0]
    lines, packages = [], {}
    for row in rows:
        if row["record"] == "line":
            lines.append(
                {
                    "line_no": int(row["line_no"]),
                    "sku": row["sku"],
                    "qty_ordered": _number(row["qty_ordered"]),
                    "qty_shipped": _number(row["qty_shipped"]),
                    "qty_short": _number(row["qty_short"]),
                    "reason": row["reason"],
                }
            )
        elif row["record"] == "package":
            package = packages.setdefault(
                row["package_no"],
                {
                    "package_no": row["package_no"],
                    "tracking_number": row["tracking_number"],
                    "tracking_url": row["tracking_url"],
                    "weight": _number(row["weight_kg"]),
                    "lines": [],
                },
            )
            package["lines"].append(
                {
                    "line_no": int(row["line_no"]),
                    "sku": row["sku"],
                    "qty": _number(row["qty"]),
                }
            )
    return {
        "type": "shipping_advice",
        "message_id": first["message_id"],
        "order_ref": first["order_ref"],
        "customer_order_ref": first["customer_order_ref"],
        "shipment_ref": first["shipment_ref"],
        "ship_date": first["ship_date"],
        "status": first["status"],
        "carrier": first["carrier"],
        "service": first["service"],
        "packages": list(packages.values()),
        "lines": lines,
    }


def _inventory_snapshot(rows):
    """A full count of one warehouse at ``as_of`` (§3.7): a SKU absent from
    it has nothing in that warehouse."""
    first = rows[0]
    if not first["as_of"] or not first["warehouse_code"]:
        raise Unreadable("an inventory snapshot needs as_of and warehouse_code")
    return {
        "type": "inventory_snapshot",
        "message_id": first["message_id"],
        "warehouse_code": first["warehouse_code"],
        "as_of": first["as_of"],
        "lines": [
            {
                "sku": r["sku"],
                "barcode": r["barcode"],
                "on_hand": _number(r["on_hand"]),
                "available": _number(r["available"]),
                "committed": _number(r["committed"]),
                "damaged": _number(r["damaged"]),
                "uom": r["uom"] or "EA",
            }
            for r in rows
            if r["sku"]
        ],
    }


def _inventory_adjustment(rows):
    """Stock the warehouse changed outside orders and receipts (§3.8)."""
    first = rows[0]
    return {
        "type": "inventory_adjustment",
        "message_id": first["message_id"],
        "adjustment_ref": first["adjustment_ref"],
        "warehouse_code": first["warehouse_code"],
        "adjusted_at": first["adjusted_at"],
        "lines": [
            {
                "line_no": int(r["line_no"] or 0),
                "sku": r["sku"],
                "delta": _number(r["delta"]),
                "uom": r["uom"] or "EA",
                "reason": r["reason_code"],
                "lot": r["lot"],
                "reference": r["reference"],
            }
            for r in rows
        ],
    }


# the inbound goods' files (ASN out; receipt and return advice in)
from . import csv_receipts  # noqa: E402,F401
