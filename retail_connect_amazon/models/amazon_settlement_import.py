"""Settlements in: the settlement reports Amazon published, one
``amazon.settlement`` per settlement id.

- The Settlements policy polls (timing batch, every few hours: Amazon closes
  a settlement every 14 days) ``getReports`` with ``reportTypes``
  GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2, ``processingStatuses`` DONE
  and ``createdSince`` the watermark minus the overlap (90 days back, the
  reports' retention, on the first poll); pages follow ``nextToken`` sent
  "as the only parameter" (``reports_2021-06-30.json``). Each report is an
  event keyed by its report id: seen again in the overlap, it is the same
  event.
- An event reads the report's document (``getReportDocument``: a pre-signed
  URL valid five minutes, on another host, fetched without the SP-API token;
  ``compressionAlgorithm`` GZIP), parses it (``lib/settlement.py``) and
  stores the settlement with its lines, under a lock on its settlement id:
  the same settlement in a second report (Amazon publishes overlapping
  reports, amzn/selling-partner-api-docs#969) is skipped as a duplicate.
  Then the booking is queued (``amazon_settlement_booking.py``).
- Calls take from the operations' own buckets (getReports 0.0222/s burst 10,
  getReportDocument 0.0167/s burst 15): an empty bucket retries the job
  later, it never fails it.
"""

import json
from datetime import timedelta

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    MappingError,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib import mappers
from ..lib.settlement import (
    SETTLEMENT_REPORT,
    SettlementFormatError,
    decompress,
    parse,
)

TOPIC = "settlement/report"
REPORTS = "/reports/2021-06-30/reports"
DOCUMENTS = "/reports/2021-06-30/documents"
RETENTION_DAYS = 90


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ------------------------------------------------------------- policy
    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform != "amazon":
            return policies
        for vals in policies:
            if vals["domain"] == "settlement":
                vals.update(
                    direction="in",
                    system_of_record="platform",
                    timing="batch",
                    interval_minutes=240,
                    # a report may be listed a while after it was created
                    overlap_minutes=24 * 60,
                    latency_objective_minutes=24 * 60,
                )
        return policies

    def _event_domain(self, topic):
        if self.platform == "amazon" and topic == TOPIC:
            return "settlement"
        return super()._event_domain(topic)

    # ------------------------------------------------------------ polling
    def _poll(self, policy, since, until):
        if self.platform != "amazon" or policy.domain != "settlement":
            return super()._poll(policy, since, until)
        if not policy.watermark:
            since = until - timedelta(days=RETENTION_DAYS - 1)
        params = {
            "reportTypes": SETTLEMENT_REPORT,
            "processingStatuses": "DONE",
            "createdSince": mappers.iso(since),
            "pageSize": 100,
        }
        codes = self._amazon_marketplace_param()
        if codes and codes.count(",") < 10:
            # at most 10 (the model's maxItems); more: every marketplace's
            params["marketplaceIds"] = codes
        client = self._amazon_client()
        deliveries = []
        while True:
            page = client.call("GET", REPORTS, operation="getReports", params=params)
            for report in page.get("reports") or []:
                deliveries.append(
                    Delivery(
                        topic=TOPIC,
                        dedup_key=f"report:{report['reportId']}",
                        payload=json.dumps(report).encode(),
                        subject_key=f"settlement-report:{report['reportId']}",
                        occurred_at=mappers.parse_time(report.get("createdTime")),
                        remote_updated_at=mappers.parse_time(
                            report.get("processingEndTime") or report.get("createdTime")
                        ),
                    )
                )
            token = page.get("nextToken")
            if not token:
                break
            params = {"nextToken": token}
        # bank lines arrive days after a booking: look for them at each poll
        self._amazon_match_deposits()
        return deliveries

    # ------------------------------------------------------------- events
    def _process_event(self, event):
        if self.platform == "amazon" and event.topic == TOPIC:
            return self._amazon_import_settlement(event._data())
        return super()._process_event(event)

    def _amazon_import_settlement(self, report):
        """Store the settlement of a report (once per settlement id) and
        queue its booking; return the settlement."""
        self.ensure_one()
        report_id = report["reportId"]
        if report.get("reportType") != SETTLEMENT_REPORT:
            raise EventSkipped(
                "skipped_policy", f"report {report_id} is not a settlement report"
            )
        if report.get("processingStatus") != "DONE":
            raise EventSkipped(
                "skipped_policy",
                f"report {report_id} is {report.get('processingStatus')}",
            )
        text = self._amazon_report_text(report)
        subject = f"settlement-report:{report_id}"
        try:
            data = parse(text)
        except SettlementFormatError as err:
            raise ValidationSyncError(
                f"Settlement report {report_id} cannot be read: {err}. Download it "
                "in Seller Central (Reports › Payments) and report the file; the "
                "event keeps the report for a retry.",
                subject_key=subject,
            ) from err
        settlements = self.env["amazon.settlement"]
        self._lock_external("amazon.settlement", data["settlement_id"])
        existing = settlements.search(
            [("backend_id", "=", self.id), ("name", "=", data["settlement_id"])]
        )
        if existing:
            raise EventSkipped(
                "skipped_duplicate",
                f"settlement {existing.name} was already imported from report "
                f"{existing.report_id}",
            )
        currency = self.env["res.currency"].search(
            [("name", "=", data["currency"])], limit=1
        )
        if not currency:
            raise MappingError(
                f"Settlement {data['settlement_id']} is in {data['currency']}, "
                "which Odoo does not know: activate the currency, then retry.",
                subject_key=subject,
                fix={"currency": data["currency"]},
            )
        codes = report.get("marketplaceIds") or []
        marketplace = self.amazon_marketplace_ids.filtered(lambda m: m.code in codes)[
            :1
        ]
        bindings = self.env["retail.binding"]
        sales = {}
        for order_ref in {line["order_id"] for line in data["lines"]} - {""}:
            binding = bindings._lookup(self, "sale.order", order_ref)
            sales[order_ref] = binding._record().id if binding else False
        settlement = settlements.create(
            {
                "name": data["settlement_id"],
                "backend_id": self.id,
                "marketplace_id": marketplace.id,
                "report_id": report_id,
                "currency_id": currency.id,
                "start_date": data["start"],
                "end_date": data["end"],
                "deposit_date": data["deposit_date"],
                "total_amount": float(data["total"]),
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "sequence": line["sequence"],
                            "transaction_type": line["transaction_type"],
                            "order_ref": line["order_id"] or False,
                            "sale_order_id": sales.get(line["order_id"]) or False,
                            "adjustment_ref": line["adjustment_id"] or False,
                            "amount_type": line["amount_type"],
                            "description": line["description"],
                            "kind": line["kind"],
                            "amount": float(line["amount"]),
                            "sku": line["sku"] or False,
                            "quantity": line["quantity"],
                            "fulfillment": line["fulfillment"] or False,
                            "posted_date": line["posted_date"],
                        },
                    )
                    for line in data["lines"]
                ],
            }
        )
        self._amazon_enqueue_booking(settlement)
        return settlement

    def _amazon_report_text(self, report):
        """The text of a report's document (downloaded, decompressed)."""
        client = self._amazon_client()
        document = client.call(
            "GET",
            f"{DOCUMENTS}/{report['reportDocumentId']}",
            operation="getReportDocument",
        )
        url = document["url"]
        self._assert_host_matches_environment(url)
        # the pre-signed URL is the credential: no SP-API token goes there
        response = client.request(
            "GET",
            url,
            operation="reportDocument.download",
            anonymous=True,
            stream=True,
        )
        return decompress(response.content, document.get("compressionAlgorithm"))

    def _amazon_enqueue_booking(self, settlement):
        self.ensure_one()
        return self.with_delay(
            channel=self._channel("bulk"),
            identity_key=f"amazon_settlement_{self.id}_{settlement.name}",
            description=f"{self.name}: book Amazon settlement {settlement.name}",
        )._job_amazon_book_settlement(settlement)
