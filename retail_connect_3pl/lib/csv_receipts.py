"""Inbound goods as CSV files (docs/3pl-sftp-csv.md §3.2, §3.5, §3.6).

The retailer writes ``inbound_shipment_notice`` files (≈943, the ASN) and
reads ``receipt_advice`` (≈944) and ``return_advice`` (≈180) files. The
readers register themselves with :mod:`csv_codec`, which reads every inbox
file.
"""

import csv
import io

from . import csv_codec
from .csv_codec import _number, _text

INBOUND_SHIPMENT_NOTICE = [
    "message_id",
    "row_count",
    "purpose",
    "asn_ref",
    "warehouse_code",
    "expected_date",
    "ship_from_name",
    "carrier_code",
    "tracking_number",
    "line_no",
    "sku",
    "barcode",
    "qty",
    "uom",
    "lot",
    "expiry",
]
RECEIPT_ADVICE = [
    "message_id",
    "row_count",
    "asn_ref",
    "receipt_ref",
    "warehouse_code",
    "received_at",
    "status",
    "line_no",
    "sku",
    "qty_received",
    "qty_damaged",
    "uom",
    "lot",
    "expiry",
]
RETURN_ADVICE = [
    "message_id",
    "row_count",
    "return_ref",
    "order_ref",
    "customer_order_ref",
    "warehouse_code",
    "received_at",
    "tracking_number",
    "line_no",
    "sku",
    "qty_restocked",
    "qty_damaged",
    "reason",
]


def write_inbound_notice(message):
    """The CSV bytes of a canonical inbound shipment notice."""
    head = {
        "message_id": message["message_id"],
        "purpose": message.get("purpose") or "new",
        "asn_ref": message["asn_ref"],
        "warehouse_code": message.get("warehouse_code"),
        "expected_date": message.get("expected_date"),
        "ship_from_name": message.get("ship_from_name"),
        "carrier_code": message.get("carrier_code"),
        "tracking_number": message.get("tracking_number"),
    }
    lines = message.get("lines") or [{}]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INBOUND_SHIPMENT_NOTICE)
    for line in lines:
        row = dict(head, row_count=len(lines))
        for key in ("line_no", "sku", "barcode", "qty", "uom", "lot", "expiry"):
            row[key] = line.get(key)
        writer.writerow([_text(row.get(column)) for column in INBOUND_SHIPMENT_NOTICE])
    return buffer.getvalue().encode("utf-8")


def read_receipt_advice(rows):
    first = rows[0]
    return {
        "type": "receipt_advice",
        "message_id": first["message_id"],
        "asn_ref": first["asn_ref"],
        "receipt_ref": first["receipt_ref"],
        "warehouse_code": first["warehouse_code"],
        "received_at": first["received_at"],
        "status": first["status"] or "complete",
        "lines": [
            {
                "line_no": int(row["line_no"]) if row["line_no"] else None,
                "sku": row["sku"],
                "qty_received": _number(row["qty_received"]),
                "qty_damaged": _number(row["qty_damaged"]),
                "lot": row["lot"],
                "expiry": row["expiry"],
            }
            for row in rows
        ],
    }


def read_return_advice(rows):
    first = rows[0]
    return {
        "type": "return_advice",
        "message_id": first["message_id"],
        "return_ref": first["return_ref"],
        "order_ref": first["order_ref"],
        "customer_order_ref": first["customer_order_ref"],
        "warehouse_code": first["warehouse_code"],
        "received_at": first["received_at"],
        "tracking_number": first["tracking_number"],
        "lines": [
            {
                "line_no": int(row["line_no"]) if row["line_no"] else None,
                "sku": row["sku"],
                "qty_restocked": _number(row["qty_restocked"]),
                "qty_damaged": _number(row["qty_damaged"]),
                "reason": row["reason"],
            }
            for row in rows
        ],
    }


csv_codec.register_reader("receipt_advice", RECEIPT_ADVICE, read_receipt_advice)
csv_codec.register_reader("return_advice", RETURN_ADVICE, read_return_advice)
