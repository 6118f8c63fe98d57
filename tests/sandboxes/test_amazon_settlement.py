"""SP-API sandbox: settlement reports on their schedule, through the
Reports API 2021-06-30 (GZIP TSV documents); answers checked against
``reports_2021-06-30.json`` (see ``test_amazon.py``)."""
# ruff: noqa: F811 (the ``sb`` fixture is imported)

import csv
import gzip
import io
from decimal import Decimal

import requests

from sandboxes.amazon.settlement import COLUMNS
from sandboxes.test_amazon import (  # noqa: F401
    DE,
    GB,
    HAVE_CONTRACT,
    call,
    needs_contract,
    sb,
    seed,
    token,
)

REPORTS = "reports_2021-06-30.json"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


def ship_all(sb, order):
    body = {
        "marketplaceId": order["salesChannel"]["marketplaceId"],
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "T1",
            "shipDate": "2026-10-26T08:00:00Z",
            "orderItems": [
                {"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]}
                for i in order["orderItems"]
            ],
        },
    }
    answer = requests.post(
        f"{sb.test_url}/orders/v0/orders/{order['orderId']}/shipmentConfirmation",
        json=body,
        headers={"x-amz-access-token": token(sb)},
        timeout=10,
    )
    assert answer.status_code == 204


def settlement_rows(sb, access, report):
    document = call(
        sb,
        "GET",
        f"/reports/2021-06-30/documents/{report['reportDocumentId']}",
        access,
        model=REPORTS,
    ).json()
    assert document["compressionAlgorithm"] == "GZIP"
    text = gzip.decompress(requests.get(document["url"], timeout=10).content).decode()
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def reports(sb, access, **params):
    params.setdefault("reportTypes", SETTLEMENT)
    return call(
        sb, "GET", "/reports/2021-06-30/reports", access, model=REPORTS, params=params
    )


def test_settlement_report_on_its_schedule_adds_up(sb):
    mfn = seed(
        sb,
        DE,
        items=[
            {
                "sku": "A",
                "quantity": 2,
                "price": "10.00",
                "tax": "1.90",
                "shipping": "3.00",
            },
            {
                "sku": "B",
                "quantity": 1,
                "price": "5.55",
                "tax": "1.05",
                "promotion": "0.55",
            },
        ],
    )
    ship_all(sb, mfn)
    fba = seed(
        sb,
        DE,
        fulfilled_by="AMAZON",
        ship_after=3600,
        items=[{"sku": "F", "quantity": 3, "price": "7.00", "tax": "1.33"}],
    )
    seed(sb, DE, items=[{"sku": "U", "quantity": 1, "price": "99.00"}])  # not shipped
    access = token(sb)
    assert reports(sb, access).json() == {"reports": []}
    sb.clock.advance(14 * 86400)
    access = token(sb)
    found = reports(sb, access, processingStatuses="DONE").json()["reports"]
    assert len(found) == 1
    report = found[0]
    assert report["reportType"] == SETTLEMENT and report["marketplaceIds"] == [DE]
    assert (
        call(
            sb,
            "GET",
            f"/reports/2021-06-30/reports/{report['reportId']}",
            access,
            model=REPORTS,
        ).json()
        == report
    )
    rows = settlement_rows(sb, access, report)
    head, lines = rows[0], rows[1:]
    assert head["currency"] == "EUR" and head["settlement-start-date"]
    assert head["amount"] == "" and head["deposit-date"]
    total = sum(Decimal(row["amount"]) for row in lines)
    assert Decimal(head["total-amount"]) == total
    amounts = {}
    for row in lines:
        key = (
            row["order-id"],
            row["sku"],
            row["amount-type"],
            row["amount-description"],
        )
        amounts[key] = Decimal(row["amount"])
        assert row["settlement-id"] == head["settlement-id"]
    m, f = mfn["orderId"], fba["orderId"]
    assert amounts[(m, "A", "ItemPrice", "Principal")] == Decimal("20.00")
    assert amounts[(m, "A", "ItemPrice", "Tax")] == Decimal("3.80")
    assert amounts[(m, "A", "ItemPrice", "Shipping")] == Decimal("3.00")
    assert amounts[(m, "A", "ItemFees", "Commission")] == Decimal("-3.45")
    assert amounts[(m, "B", "Promotion", "Principal")] == Decimal("-0.55")
    assert amounts[(f, "F", "ItemFees", "FBAPerUnitFulfillmentFee")] == Decimal("-9.00")
    assert ("", "", "other-transaction", "Current Reserve Amount") in amounts
    fulfilment = {
        row["order-id"]: row["fulfillment-id"] for row in lines if row["order-id"]
    }
    assert fulfilment == {m: "MFN", f: "AFN"}
    settled = requests.get(sb.test_url + "/__sandbox__/settlements").json()[
        "settlements"
    ]
    assert [s["total"] for s in settled] == [head["total-amount"]]


def test_next_settlement_has_refunds_and_releases_the_reserve(sb):
    order = seed(
        sb, GB, items=[{"sku": "A", "quantity": 2, "price": "50.00", "tax": "10.00"}]
    )
    ship_all(sb, order)
    first = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()["settlement"]
    assert first["currency"] == "GBP"
    item = order["orderItems"][0]["orderItemId"]
    refund = requests.post(
        f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/refund",
        json={"items": [{"orderItemId": item, "quantity": 1}]},
    )
    assert refund.status_code == 200
    too_much = requests.post(
        f"{sb.test_url}/__sandbox__/orders/{order['orderId']}/refund",
        json={"items": [{"orderItemId": item, "quantity": 2}]},
    )
    assert too_much.status_code == 400
    second = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()["settlement"]
    access = token(sb)
    found = reports(sb, access).json()["reports"]
    assert [r["reportId"] for r in found] == [second["report_id"], first["report_id"]]
    lines = settlement_rows(sb, access, found[0])[1:]
    amounts = {
        (r["transaction-type"], r["amount-type"], r["amount-description"]): Decimal(
            r["amount"]
        )
        for r in lines
    }
    assert amounts[("Refund", "ItemPrice", "Principal")] == Decimal("-50.00")
    assert amounts[("Refund", "ItemPrice", "Tax")] == Decimal("-10.00")
    assert amounts[("Refund", "ItemFees", "Commission")] == Decimal("7.50")
    assert amounts[("Refund", "ItemFees", "RefundCommission")] == Decimal("-1.50")
    released = amounts[
        ("other-transaction", "other-transaction", "Previous Reserve Amount Balance")
    ]
    assert released > 0
    assert Decimal(second["total"]) == sum(Decimal(r["amount"]) for r in lines)
    # nothing new: no third report
    third = requests.post(
        sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": GB}
    ).json()
    assert third == {"settlement": None}


def test_get_reports_paging_and_parameters(sb):
    for _ in range(3):
        order = seed(sb, DE)
        ship_all(sb, order)
        requests.post(
            sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE}
        )
    access = token(sb)
    first = reports(sb, access, pageSize="2").json()
    mixed = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": first["nextToken"], "pageSize": "2"},
    )
    assert mixed.status_code == 400  # nextToken must be the only parameter
    page = reports(sb, access, pageSize="2").json()
    assert len(page["reports"]) == 2
    rest = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": page["nextToken"]},
    ).json()
    assert len(rest["reports"]) == 1 and "nextToken" not in rest
    mixed = call(
        sb,
        "GET",
        "/reports/2021-06-30/reports",
        access,
        model=REPORTS,
        params={"nextToken": "x", "pageSize": "2"},
    )
    assert mixed.status_code == 400
    assert (
        call(
            sb, "GET", "/reports/2021-06-30/reports", access, model=REPORTS
        ).status_code
        == 400
    )
    assert reports(sb, access, pageSize="101").status_code == 400
    # marketplaceIds: maxItems 10 (reports_2021-06-30.json, getReports)
    eleven = ",".join(f"A{i:012d}" for i in range(11))
    assert reports(sb, access, marketplaceIds=eleven).status_code == 400
    assert reports(sb, access, marketplaceIds=DE).status_code == 200
    assert reports(sb, token(sb, "Atzr|sandbox-refresh-token-na")).json() == {
        "reports": []
    }


def test_report_document_of_another_seller_is_not_found(sb):
    order = seed(sb, DE)
    ship_all(sb, order)
    requests.post(sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE})
    report = reports(sb, token(sb)).json()["reports"][0]
    other = token(sb, "Atzr|sandbox-refresh-token-na")
    path = f"/reports/2021-06-30/documents/{report['reportDocumentId']}"
    assert call(sb, "GET", path, other, model=REPORTS).status_code == 404


def test_get_report_document_rate(sb):
    order = seed(sb, DE)
    ship_all(sb, order)
    requests.post(sb.test_url + "/__sandbox__/settlements", json={"marketplace_id": DE})
    access = token(sb)
    report = reports(sb, access).json()["reports"][0]
    path = f"/reports/2021-06-30/documents/{report['reportDocumentId']}"
    for _ in range(15):
        answer = call(sb, "GET", path, access, model=REPORTS)
        assert answer.status_code == 200
        assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert call(sb, "GET", path, access, model=REPORTS).status_code == 429


def test_a_settlement_can_come_as_two_reports(sb):
    order = seed(sb, DE)
    ship_all(sb, order)
    made = requests.post(
        sb.test_url + "/__sandbox__/settlements",
        json={"marketplace_id": DE, "duplicate": True},
    ).json()["settlement"]
    assert len(made["report_ids"]) == 2
    access = token(sb)
    assert len(reports(sb, access).json()["reports"]) == 1  # the copy comes later
    sb.clock.advance(3600)
    access = token(sb)
    found = reports(sb, access).json()["reports"]
    assert sorted(r["reportId"] for r in found) == sorted(made["report_ids"])
    assert found[0]["createdTime"] != found[1]["createdTime"]
    assert found[0]["reportDocumentId"] != found[1]["reportDocumentId"]
    heads = [settlement_rows(sb, access, report)[0] for report in found]
    assert heads[0]["settlement-id"] == heads[1]["settlement-id"]
    assert heads[0]["total-amount"] == heads[1]["total-amount"] == made["total"]
    # the schedule duplicates too when configured
    sb.duplicate_settlement_reports = True
    ship_all(sb, seed(sb, DE))
    sb.clock.advance(14 * 86400 + 3600)
    assert len(reports(sb, token(sb)).json()["reports"]) == 4
