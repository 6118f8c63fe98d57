"""Settlement reports and the Reports API 2021-06-30 that serves them.

- ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` "cannot be requested or
  scheduled": Amazon generates it at the end of each settlement period
  (https://developer-docs.amazon.com/sp-api/docs/report-type-values-settlement);
  the sandbox closes a period every ``settlement_days`` (14) on its clock
  for each seller and marketplace with activity, or when
  ``POST /__sandbox__/settlements`` says so.
- The report is tab-separated text with a header line and the columns
  settlement-id, settlement-start-date, settlement-end-date, deposit-date,
  total-amount, currency, transaction-type, order-id, merchant-order-id,
  adjustment-id, shipment-id, marketplace-name, amount-type,
  amount-description, amount, fulfillment-id, posted-date, posted-date-time,
  order-item-code, merchant-order-item-id, merchant-adjustment-item-id, sku,
  quantity-purchased, promotion-id (same page, "Flat File V2 Settlement
  Report"); the first data line holds only the settlement's id, dates,
  total and currency, every other line one amount; every row has the 24
  columns (amzn/selling-partner-api-models#5353). Amounts use a dot. Dates
  are written ``2026-10-26 07:33:20 UTC`` (not verified against a real
  report of every marketplace: EU reports may localize them).
- Amounts: transaction-type ``Order`` with amount-type ``ItemPrice``
  (Principal, Shipping, Tax), ``ItemFees`` (Commission, negative;
  FBAPerUnitFulfillmentFee for Amazon-fulfilled units) and ``Promotion``;
  ``Refund`` with the same types reversed and ``RefundCommission``;
  ``other-transaction`` for the reserve (``Current Reserve Amount``
  withheld, ``Previous Reserve Amount Balance`` released). total-amount is
  the sum of every amount line, to the cent, and is what the bank receives on
  deposit-date.
- Reports API (``reports_2021-06-30.json``): ``getReports`` (``reportTypes``
  at most 10, ``processingStatuses``, ``marketplaceIds``, ``pageSize``
  1..100 default 10, ``createdSince`` default 90 days ago, ``createdUntil``,
  ``nextToken`` "as the only parameter"), ``getReport``,
  ``getReportDocument`` -> {``reportDocumentId``, ``url`` (pre-signed, 5
  minutes), ``compressionAlgorithm``: ``GZIP``}.
"""

from __future__ import annotations

import gzip
import secrets
import uuid
from datetime import datetime, timezone
from decimal import Decimal

from ..toolkit import ApiError, parse_iso
from .catalog import CURRENCY_DIGITS, MARKETPLACES, currency_of
from .orders import iso
from .search import as_list

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
RETENTION = 90 * 86400


def reset(sb) -> None:
    sb.reports = {}
    sb.report_documents = {}
    sb.report_pages = {}
    sb.settlements = []
    sb.refunds = []  # pending refund lines
    sb.reserves = {}  # (seller, marketplace) -> reserve held
    sb.period_start = {}
    sb.report_seq = 90_000_000_000 + sb._id_base()
    sb.settlement_epoch = sb.clock.now()
    sb.next_settlement = sb.settlement_epoch + sb.settlement_days * 86400


def tick(sb) -> None:
    while sb.clock.now() >= sb.next_settlement:
        end = sb.next_settlement
        sb.next_settlement += sb.settlement_days * 86400
        for seller in sb.sellers.values():
            for marketplace in seller.marketplaces:
                close(sb, seller.seller_id, marketplace, end)


# ------------------------------------------------------------- amounts
def _q(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-CURRENCY_DIGITS.get(currency, 2)))


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%d")


def _stamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(int(epoch), timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def refund(sb, order, lines: list[dict]) -> list[dict]:
    """Record a refund of shipped units (settled in the next report)."""
    recorded = []
    for line in lines:
        item = order.item(str(line.get("orderItemId")))
        quantity = int(line.get("quantity", 0))
        if item is None or quantity < 1:
            raise ValueError("refund lines need an order item and a quantity")
        already = sum(r["quantity"] for r in sb.refunds if r["item"] is item) + getattr(
            item, "refunded", 0
        )
        if already + quantity > item.shipped:
            raise ValueError("cannot refund more than was shipped")
        entry = {
            "order": order,
            "item": item,
            "quantity": quantity,
            "adjustment_id": f"amzn1.adj.{uuid.uuid4().hex[:20]}",
            "time": sb.clock.now(),
        }
        sb.refunds.append(entry)
        recorded.append(entry)
    return recorded


def _order_lines(sb, order, item, units, currency):
    price = _q(item.price * units, currency)
    tax = _q(item.tax * units, currency)
    shipping = item.shipping if item.settled == 0 else Decimal(0)
    promotion = item.promotion if item.settled == 0 else Decimal(0)
    commission = -_q((price + shipping) * sb.commission_rate, currency)
    lines = [
        ("ItemPrice", "Principal", price),
        ("ItemPrice", "Tax", tax),
        ("ItemPrice", "Shipping", _q(shipping, currency)),
        ("ItemFees", "Commission", commission),
    ]
    if promotion:
        lines.append(("Promotion", "Principal", -_q(Decimal(promotion), currency)))
    if order.fulfilled_by == "AMAZON":
        fee = sb.fba_fee * (100 if currency == "JPY" else 1)
        lines.append(
            ("ItemFees", "FBAPerUnitFulfillmentFee", -_q(fee * units, currency))
        )
    return lines


def _refund_lines(sb, order, item, units, currency):
    price = _q(item.price * units, currency)
    tax = _q(item.tax * units, currency)
    commission = _q(price * sb.commission_rate, currency)
    # Amazon keeps a refund administration fee: 20% of the referral fee, at
    # most 5 EUR per line, tax excluded ("Refund Administration Fee Sample
    # Calculations", https://sellercentral.amazon.fr/gp/help/external/help.html?itemID=200387220)
    cap = Decimal(500 if currency == "JPY" else 5)
    admin_fee = min(_q(commission * Decimal("0.2"), currency), cap)
    return [
        ("ItemPrice", "Principal", -price),
        ("ItemPrice", "Tax", -tax),
        ("ItemFees", "Commission", commission),
        ("ItemFees", "RefundCommission", -admin_fee),
    ]


def close(
    sb, seller_id: str, marketplace: str, end: float | None = None, duplicate=None
):
    """Close the settlement period of a seller in a marketplace; return the
    settlement, or None when nothing happened in it. ``duplicate`` (default
    ``sb.duplicate_settlement_reports``): the same settlement comes as two
    reports, the second an hour later, as sellers see ("multiple settlement
    reports with overlapping time frames", amzn/selling-partner-api-docs#969):
    a connector books a settlement once, by its settlement-id."""
    if duplicate is None:
        duplicate = sb.duplicate_settlement_reports
    end = sb.clock.now() if end is None else end
    currency = currency_of(marketplace)
    name = MARKETPLACES[marketplace][3]
    rows = []
    for order in sb.book.orders.values():
        if order.seller_id != seller_id or order.marketplace_id != marketplace:
            continue
        for item in order.items:
            units = item.shipped - item.settled
            if units <= 0:
                continue
            for amount_type, description, amount in _order_lines(
                sb, order, item, units, currency
            ):
                rows.append(
                    _row(
                        "Order",
                        order,
                        item,
                        units,
                        amount_type,
                        description,
                        amount,
                        order.updated,
                        name,
                        shipment=f"S{order.order_id[-7:]}",
                    )
                )
            item.settled += units
    for entry in [r for r in sb.refunds if r["order"].seller_id == seller_id]:
        order, item = entry["order"], entry["item"]
        if order.marketplace_id != marketplace:
            continue
        for amount_type, description, amount in _refund_lines(
            sb, order, item, entry["quantity"], currency
        ):
            rows.append(
                _row(
                    "Refund",
                    order,
                    item,
                    entry["quantity"],
                    amount_type,
                    description,
                    amount,
                    entry["time"],
                    name,
                    adjustment=entry["adjustment_id"],
                )
            )
        item.refunded += entry["quantity"]
        sb.refunds.remove(entry)
    if not rows:
        return None
    key = (seller_id, marketplace)
    held = sb.reserves.get(key, Decimal(0))
    net = sum((row["amount"] for row in rows), Decimal(0))
    reserve = _q(max(net, Decimal(0)) * sb.reserve_rate, currency)
    if held:
        rows.append(_other("Previous Reserve Amount Balance", held, end, name))
    if reserve:
        rows.append(_other("Current Reserve Amount", -reserve, end, name))
    sb.reserves[key] = reserve
    total = sum((row["amount"] for row in rows), Decimal(0))
    start = sb.period_start.get(key, sb.settlement_epoch)
    sb.period_start[key] = end
    sb.report_seq += 1
    settlement_id = str(sb.report_seq * 10 + 7)
    deposit = end + 3 * 86400
    head = dict.fromkeys(COLUMNS, "")
    head.update(
        {
            "settlement-id": settlement_id,
            "settlement-start-date": _stamp(start),
            "settlement-end-date": _stamp(end),
            "deposit-date": _stamp(deposit),
            "total-amount": str(total),
            "currency": currency,
        }
    )
    lines = ["\t".join(COLUMNS), "\t".join(head[c] for c in COLUMNS)]
    for row in rows:
        values = dict.fromkeys(COLUMNS, "")
        values.update({k: str(v) for k, v in row.items()})
        values["settlement-id"] = settlement_id
        lines.append("\t".join(values[c] for c in COLUMNS))
    text = "\n".join(lines) + "\n"
    copies = 2 if duplicate else 1
    report_ids = [
        _publish(sb, seller_id, marketplace, text, start, end, end + copy * 3600)
        for copy in range(copies)
    ]
    summary = {
        "settlement_id": settlement_id,
        "report_id": report_ids[0],
        "report_ids": report_ids,
        "seller_id": seller_id,
        "marketplace_id": marketplace,
        "currency": currency,
        "total": str(total),
        "deposit_date": iso(deposit),
        "lines": len(rows),
    }
    sb.settlements.append(summary)
    return summary


def _publish(sb, seller_id, marketplace, text, start, end, created) -> str:
    """Store a report document and its ``Report``; return the report id."""
    seller = sb.sellers[seller_id]
    suffix = secrets.token_hex(6).upper()
    document_id = f"amzn1.spdoc.1.4.{seller.region}.{uuid.uuid4()}.T{suffix}"
    sb.report_documents[document_id] = seller_id
    sb.storage.put(
        document_id, gzip.compress(text.encode()), "text/tab-separated-values"
    )
    sb.report_seq += 1
    report_id = str(sb.report_seq)
    sb.reports[report_id] = (
        seller_id,
        {
            "reportId": report_id,
            "reportType": SETTLEMENT,
            "dataStartTime": iso(start),
            "dataEndTime": iso(end),
            "marketplaceIds": [marketplace],
            "createdTime": iso(created),
            "processingStatus": "DONE",
            "processingStartTime": iso(created),
            "processingEndTime": iso(created),
            "reportDocumentId": document_id,
        },
    )
    return report_id


def _row(
    kind,
    order,
    item,
    units,
    amount_type,
    description,
    amount,
    when,
    name,
    shipment="",
    adjustment="",
):
    return {
        "transaction-type": kind,
        "order-id": order.order_id,
        "adjustment-id": adjustment,
        "shipment-id": shipment,
        "marketplace-name": name,
        "amount-type": amount_type,
        "amount-description": description,
        "amount": amount,
        "fulfillment-id": "AFN" if order.fulfilled_by == "AMAZON" else "MFN",
        "posted-date": _day(when),
        "posted-date-time": _stamp(when),
        "order-item-code": item.order_item_id,
        "sku": item.sku,
        "quantity-purchased": units,
    }


def _other(description, amount, when, name):
    return {
        "transaction-type": "other-transaction",
        "marketplace-name": name,
        "amount-type": "other-transaction",
        "amount-description": description,
        "amount": amount,
        "posted-date": _day(when),
        "posted-date-time": _stamp(when),
    }


# ---------------------------------------------------------- Reports API
def get_reports(sb, seller, args) -> dict:
    now = sb.clock.now()
    token = args.get("nextToken")
    if token:
        if len(args) > 1:
            raise ApiError(400, "InvalidInput", "nextToken must be the only parameter.")
        page = sb.report_pages.pop(token, None)
        if page is None or page[0] != seller.seller_id:
            raise ApiError(400, "InvalidInput", "Invalid nextToken.")
        _, ids, size = page
    else:
        types = as_list(args, "reportTypes")
        if not types:
            raise ApiError(400, "InvalidInput", "reportTypes or nextToken is required.")
        if len(types) > 10:
            raise ApiError(400, "InvalidInput", "At most 10 reportTypes are allowed.")
        statuses = set(as_list(args, "processingStatuses", STATUSES))
        marketplaces = as_list(args, "marketplaceIds")
        if len(marketplaces) > 10:
            # getReports' marketplaceIds: "maxItems": 10 (reports_2021-06-30.json)
            raise ApiError(
                400, "InvalidInput", "At most 10 marketplaceIds are allowed."
            )
        try:
            size = int(args.get("pageSize", "10"))
            since = parse_iso(args["createdSince"]) if "createdSince" in args else None
            until = parse_iso(args["createdUntil"]) if "createdUntil" in args else now
        except ValueError:
            raise ApiError(400, "InvalidInput", "Invalid pageSize or date.") from None
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", "pageSize must be between 1 and 100.")
        since = now - RETENTION if since is None else max(since, now - RETENTION)
        found = []
        for owner, report in sb.reports.values():
            created = parse_iso(report["createdTime"])
            if owner != seller.seller_id or report["reportType"] not in types:
                continue
            if statuses and report["processingStatus"] not in statuses:
                continue
            if marketplaces and not set(marketplaces) & set(report["marketplaceIds"]):
                continue
            if since <= created <= until:
                found.append((created, report["reportId"]))
        found.sort(reverse=True)
        ids = [report_id for _, report_id in found]
    body = {"reports": [sb.reports[i][1] for i in ids[:size]]}
    if len(ids) > size:
        token = secrets.token_urlsafe(24)
        sb.report_pages[token] = (seller.seller_id, ids[size:], size)
        body["nextToken"] = token
    return body


def get_report(sb, seller, report_id) -> dict:
    found = sb.reports.get(report_id)
    if found is None or found[0] != seller.seller_id:
        raise ApiError(404, "NotFound", f"Report {report_id} not found.")
    return found[1]


def get_report_document(sb, seller, document_id) -> dict:
    if sb.report_documents.get(document_id) != seller.seller_id:
        raise ApiError(404, "NotFound", f"Report document {document_id} not found.")
    return {
        "reportDocumentId": document_id,
        "url": sb.storage.presign("GET", document_id),
        "compressionAlgorithm": "GZIP",
    }
