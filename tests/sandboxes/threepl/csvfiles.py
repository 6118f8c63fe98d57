"""The CSV files of the SFTP face, as ``docs/3pl-sftp-csv.md`` defines them
(our contract: there is no public standard; the columns are the canonical
message fields of PLATFORMS.md §4, mappable to the X12 940/943/997/945/944/
180/846/947 segments).

``render(kind, message_id, rows)`` writes a file; ``parse(raw)`` reads one and
raises :class:`Incomplete` (leave the file, try later) or :class:`Invalid`
(answer an ``ack`` rejected with ``invalid_file``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

HEAD = ("message_id", "row_count")
SHIP_TO = (
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
)
COLUMNS = {
    "shipping_order": HEAD
    + (
        "purpose",
        "order_ref",
        "customer_order_ref",
        "warehouse_code",
        "requested_ship_date",
        "carrier_code",
        "service_level",
    )
    + SHIP_TO
    + ("notes", "line_no", "sku", "barcode", "qty", "uom", "lot"),
    "inbound_shipment_notice": HEAD
    + (
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
    ),
    "ack": HEAD
    + (
        "acked_message_id",
        "acked_type",
        "acked_ref",
        "status",
        "error_code",
        "error_message",
        "line_no",
        "received_at",
    ),
    "shipping_advice": HEAD
    + (
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
    ),
    "receipt_advice": HEAD
    + (
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
    ),
    "return_advice": HEAD
    + (
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
    ),
    "inventory_snapshot": HEAD
    + (
        "warehouse_code",
        "as_of",
        "sku",
        "barcode",
        "on_hand",
        "available",
        "committed",
        "damaged",
        "uom",
    ),
    "inventory_adjustment": HEAD
    + (
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
    ),
}
OUTBOX_TYPES = ("shipping_order", "inbound_shipment_notice")
DECIMAL_RE = re.compile(r"-?\d+(\.\d{1,3})?")


class Incomplete(Exception):
    """Not (yet) a whole file: leave it where it is."""


class Invalid(Exception):
    """A whole file that breaks the contract."""

    def __init__(self, message: str, code: str = "invalid_file", line_no=None):
        super().__init__(message)
        self.code = code
        self.line_no = line_no


def split_name(name: str) -> tuple[str, str] | None:
    """``shipping_order_<id>.csv`` -> ``("shipping_order", "<id>")``."""
    for kind in COLUMNS:
        prefix = kind + "_"
        if name.startswith(prefix) and name.endswith(".csv"):
            ident = name[len(prefix) : -4]
            if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", ident):
                return kind, ident
    return None


# ------------------------------------------------------------------ formats
def decimal(value) -> str:
    """``.`` separator, no thousands separator, at most 3 decimals."""
    if value in (None, ""):
        return ""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def stamp(epoch) -> str:
    """ISO 8601 UTC to the second: ``2026-12-01T08:15:00Z``."""
    if epoch in (None, ""):
        return ""
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def parse_decimal(text: str, column: str):
    if text == "":
        return None
    if not DECIMAL_RE.fullmatch(text):
        raise Invalid(f"{column}: {text!r} is not a decimal", "invalid_value")
    number = float(text)
    return int(number) if number == int(number) else number


def parse_stamp(text: str, column: str):
    if text == "":
        return None
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise Invalid(
            f"{column}: {text!r} is not YYYY-MM-DDTHH:MM:SSZ", "invalid_value"
        ) from None
    return moment.replace(tzinfo=timezone.utc).timestamp()


# ------------------------------------------------------------------- write
def render(kind: str, message_id: str, rows: list[dict]) -> bytes:
    """One message as a file: header, then one row per dict (columns not in
    the dict are empty), ``message_id`` and ``row_count`` on every row."""
    columns = COLUMNS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"{kind}: unknown columns {sorted(unknown)}")
        full = {**row, "message_id": message_id, "row_count": len(rows)}
        writer.writerow(
            [
                str(full.get(c, "") if full.get(c) is not None else "")
                .replace("\r", " ")
                .replace("\n", " ")
                for c in columns
            ]
        )
    return out.getvalue().encode("utf-8")


# -------------------------------------------------------------------- read
def parse(kind: str, raw: bytes) -> list[dict]:
    """Rows of a file of ``kind`` as dicts (documented columns only)."""
    if not raw.endswith(b"\n"):
        raise Incomplete("the file does not end with a line break")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise Invalid("the file starts with a byte order mark (UTF-8 without BOM)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise Invalid(f"not CSV: {exc}") from None
    if not table:
        raise Incomplete("empty file")
    header, body = table[0], table[1:]
    missing = [c for c in COLUMNS[kind] if c not in header]
    if missing:
        raise Invalid(f"missing columns: {', '.join(missing)}", "missing_field")
    rows = []
    for number, values in enumerate(body, 2):
        if len(values) != len(header):
            raise Incomplete(
                f"line {number} has {len(values)} fields, not {len(header)}"
            )
        rows.append(dict(zip(header, values, strict=True)))
    for row in rows:
        if row["row_count"] != str(len(rows)):
            raise Incomplete(f"{len(rows)} rows but row_count says {row['row_count']}")
    ids = {row["message_id"] for row in rows}
    if len(ids) > 1:
        raise Invalid("rows of more than one message_id")
    return rows
