"""Listing quantities under a burst: one ``JSON_LISTINGS_FEED`` per marketplace.

A push that finds more changed listings than the backend's *Feed above
(SKUs)* sends them in one feed per marketplace instead of one
``patchListingsItem`` each (5 calls/s: 10,000 SKUs would take 33 minutes).
The documented flow (Feeds API 2021-06-30,
https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide;
``feeds_2021-06-30.json``), each step a job of the feed:

1. ``createFeedDocument`` {``contentType``} -> ``feedDocumentId`` and a
   pre-signed ``url`` (valid 5 minutes);
2. PUT the feed there (no SP-API token: the URL carries its own signature);
3. ``createFeed`` {``feedType``: ``JSON_LISTINGS_FEED``, ``marketplaceIds``,
   ``inputFeedDocumentId``} -> ``feedId``;
4. ``getFeed`` until ``processingStatus`` is ``DONE``, ``FATAL`` or
   ``CANCELLED`` (``IN_QUEUE`` / ``IN_PROGRESS`` meanwhile), a new check job
   a little later each time;
5. ``getFeedDocument`` of ``resultFeedDocumentId`` -> the processing report
   (``compressionAlgorithm`` GZIP), per ``listings-feed-processing-report-
   schema-v2.json``: ``issues`` of ``severity`` ERROR refuse their message
   (``messageId``): that listing is set aside with its own exception, as a
   refused PATCH; every other message is accepted.

The feed document follows ``listings-feed-schema-v2.json``: a header
{``sellerId``, ``version`` "2.0"} and one ``PATCH`` message per SKU replacing
``/attributes/fulfillment_availability`` (the same patch as the Listings
Items call). A message carries no marketplace: the feed's ``marketplaceIds``
apply to all of them, and the safety stock differs per marketplace, so each
marketplace gets its own feed.

While a feed carries a listing, the listing is not pushed again (the order
in which Amazon would apply two writes of one SKU is not documented); a
stock change meanwhile leaves it dirty, and the push after the report sends
it. Each step is idempotent: a retried submission whose ``createFeed`` was
lost makes another document; the worst case is the same absolute quantities
applied twice. Every call goes through the per-operation buckets of the
documented usage plans (``lib/catalog.py``): a 429 or a local wait
postpones the job, never fails it.
"""

import gzip
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.fields import JobEncoder
from odoo.addons.retail_connect_base.lib.errors import RemoteError
from odoo.addons.retail_connect_base.models.common import MANAGER, check_group

from .amazon_listing import PATH

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
# getFeed again this long after an unfinished answer (2 calls/s allowed;
# Amazon processes a feed in minutes)
CHECK_AFTER = 30
# a feed Amazon has not finished this long after its submission is reported
GIVE_UP_AFTER = timedelta(hours=24)
WAITING = ("IN_QUEUE", "IN_PROGRESS")


class AmazonFeed(models.Model):
    _name = "amazon.feed"
    _description = "Amazon listings feed"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.marketplace", required=True, ondelete="cascade"
    )
    state = fields.Selection(
        [
            ("draft", "To send"),
            ("submitted", "Submitted"),
            ("in_queue", "In queue"),
            ("in_progress", "In progress"),
            ("done", "Done"),
            ("fatal", "Fatal"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        index=True,
    )
    amazon_feed_id = fields.Char("Amazon feed ID", readonly=True, index=True)
    document_id = fields.Char("Feed document", readonly=True)
    result_document_id = fields.Char("Report document", readonly=True)
    message_count = fields.Integer("SKUs", readonly=True)
    accepted_count = fields.Integer("Accepted", readonly=True)
    invalid_count = fields.Integer("Refused", readonly=True)
    messages = fields.Json(
        readonly=True,
        help="Per message: its id, the listing, the SKU and the quantity sent.",
    )
    report = fields.Text(
        "Processing report", readonly=True, help="Amazon's processing report."
    )
    submitted_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    listing_ids = fields.One2many("amazon.listing", "feed_id", "Listings in flight")

    @api.depends("amazon_feed_id", "marketplace_id")
    def _compute_name(self):
        for feed in self:
            feed.name = (
                f"{feed.marketplace_id.name or ''} feed "
                f"{feed.amazon_feed_id or f'#{feed.id}'}"
            )

    # ---------------------------------------------------------------- UI
    def action_check_now(self):
        """Ask Amazon now how the feed is doing (instead of the next check)."""
        check_group(self.env, MANAGER)
        for feed in self.sudo():
            if feed.state in ("done", "fatal", "cancelled"):
                raise UserError(
                    self.env._("%(feed)s is finished.", feed=feed.display_name)
                )
            feed._enqueue_step(eta=0)
        return True

    # -------------------------------------------------------------- jobs
    def _enqueue_step(self, eta=0):
        self.ensure_one()
        backend = self.backend_id
        step = "submit" if self.state == "draft" else "check"
        self.with_delay(
            channel=backend._channel("realtime"),
            identity_key=f"amazon_feed_{self.id}_{step}",
            description=f"{backend.name}: {step} listings feed {self.id}",
            eta=eta,
        )._job_amazon_feed_step()

    def _job_amazon_feed_step(self):
        """Submit the feed, or check it and read its report (idempotent)."""
        self.ensure_one()
        backend = self.backend_id
        if self.state in ("done", "fatal", "cancelled"):
            return "finished"
        if self.state == "draft":
            return backend._run_outbound(
                "inventory", f"feed:{self.id}", self._amazon_submit, record=self
            )
        return backend._run_outbound(
            "inventory", f"feed:{self.id}", self._amazon_check, record=self
        )

    def _document(self):
        """The feed document (``listings-feed-schema-v2.json``)."""
        listings = self.env["amazon.listing"].browse(
            [m["listing"] for m in self.messages]
        )
        types = {listing.id: listing.product_type for listing in listings}
        return {
            "header": {
                "sellerId": self.backend_id.amazon_seller_id,
                "version": "2.0",
            },
            "messages": [
                {
                    "messageId": message["id"],
                    "sku": message["sku"],
                    "operationType": "PATCH",
                    "productType": types.get(message["listing"]) or "PRODUCT",
                    "patches": [
                        {
                            "op": "replace",
                            "path": PATH,
                            "value": [
                                {
                                    "fulfillment_channel_code": "DEFAULT",
                                    "quantity": message["quantity"],
                                }
                            ],
                        }
                    ],
                }
                for message in self.messages
            ],
        }

    def _amazon_submit(self):
        """Steps 1-3: the document, its upload, the feed."""
        backend = self.backend_id
        client = backend._amazon_client()
        document = client.call(
            "POST",
            "/feeds/2021-06-30/documents",
            operation="createFeedDocument",
            json={"contentType": CONTENT_TYPE},
        )
        body = json.dumps(self._document(), separators=(",", ":")).encode()
        backend._assert_host_matches_environment(document["url"])
        client.request(
            "PUT",
            document["url"],
            operation="uploadFeedDocument",
            data=body,
            headers={"Content-Type": CONTENT_TYPE},
            anonymous=True,
        )
        answer = client.call(
            "POST",
            "/feeds/2021-06-30/feeds",
            operation="createFeed",
            json={
                "feedType": FEED_TYPE,
                "marketplaceIds": [self.marketplace_id.code],
                "inputFeedDocumentId": document["feedDocumentId"],
            },
        )
        self.write(
            {
                "state": "submitted",
                "document_id": document["feedDocumentId"],
                "amazon_feed_id": answer["feedId"],
                "submitted_at": fields.Datetime.now(),
            }
        )
        self._enqueue_step(eta=CHECK_AFTER)
        return f"feed {answer['feedId']} of {self.message_count} SKUs submitted"

    def _amazon_check(self):
        """Step 4, and 5 once Amazon is done."""
        client = self.backend_id._amazon_client()
        answer = client.call(
            "GET",
            f"/feeds/2021-06-30/feeds/{self.amazon_feed_id}",
            operation="getFeed",
        )
        status = answer.get("processingStatus")
        if status in WAITING:
            self.state = status.lower()
            if self.submitted_at and (
                fields.Datetime.now() - self.submitted_at > GIVE_UP_AFTER
            ):
                raise RemoteError(
                    f"Amazon has not processed feed {self.amazon_feed_id} in "
                    f"{GIVE_UP_AFTER}: ask Amazon's support about it; its "
                    "listings are sent again by the next push once it ends."
                )
            self._enqueue_step(eta=CHECK_AFTER)
            return f"feed {self.amazon_feed_id} {status}"
        report = {}
        if answer.get("resultFeedDocumentId"):
            report = self._amazon_report(client, answer["resultFeedDocumentId"])
        if status == "DONE":
            return self._amazon_apply(report)
        return self._amazon_failed(status, report)

    def _amazon_report(self, client, document_id):
        document = client.call(
            "GET",
            f"/feeds/2021-06-30/documents/{document_id}",
            operation="getFeedDocument",
        )
        self.backend_id._assert_host_matches_environment(document["url"])
        # streamed: a gzip body is not text for the exchange log
        raw = client.request(
            "GET",
            document["url"],
            operation="downloadFeedReport",
            anonymous=True,
            stream=True,
        ).content
        if document.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        try:
            report = json.loads(raw)
        except ValueError as err:
            raise RemoteError(
                f"The processing report of feed {self.amazon_feed_id} is not "
                f"JSON ({err})."
            ) from err
        self.write(
            {
                "result_document_id": document_id,
                "report": json.dumps(report, indent=1),
            }
        )
        return report

    def _amazon_apply(self, report):
        """DONE: messages with an ERROR issue are refused per SKU; the others
        are what Amazon now offers."""
        errors = {}
        for issue in report.get("issues") or []:
            if issue.get("severity") == "ERROR" and issue.get("messageId"):
                errors.setdefault(issue["messageId"], []).append(issue)
        listings = self.env["amazon.listing"]
        now = fields.Datetime.now()
        backend = self.backend_id
        retry = backend._amazon_push_call()
        accepted = refused = 0
        for message in self.messages:
            listing = listings.browse(message["listing"]).exists()
            if not listing:
                continue
            # a move while the feed was in flight left it dirty: pushed next
            listing.feed_id = False
            if message["id"] in errors:
                refused += 1
                listing._amazon_refused(
                    {"issues": errors[message["id"]]}, retry_job=retry
                )
                continue
            accepted += 1
            listing.write(
                {"sent_qty": message["quantity"], "sent_at": now, "issue": False}
            )
            backend._resolve_outbound(
                f"listing:{listing.marketplace_id.code}:{listing.sku}"
            )
        self.write(
            {
                "state": "done",
                "finished_at": now,
                "accepted_count": accepted,
                "invalid_count": refused,
            }
        )
        backend._amazon_after_feed()
        return f"feed {self.amazon_feed_id}: {accepted} accepted, {refused} refused"

    def _amazon_failed(self, status, report):
        """FATAL (the document could not be read) or CANCELLED: nothing was
        applied; the listings are dirty again and one exception says why."""
        now = fields.Datetime.now()
        self.listing_ids.write({"feed_id": False, "dirty": True})
        self.write({"state": status.lower(), "finished_at": now})
        reasons = "; ".join(
            issue.get("message") or "" for issue in report.get("issues") or []
        )
        backend = self.backend_id
        self.env["retail.sync.exception"]._open_or_bump(
            backend,
            domain="inventory",
            category="remote",
            message=self.env._(
                "Amazon did not process the listings feed %(feed)s of "
                "%(marketplace)s (%(status)s): %(reasons)s. No quantity of it was "
                "applied; press Retry to push its %(count)s SKUs again.",
                feed=self.amazon_feed_id,
                marketplace=self.marketplace_id.name,
                status=status,
                reasons=reasons or self.env._("no reason given"),
                count=self.message_count,
            ),
            subject_key=f"feed-result:{self.id}",
            record=self,
            fix={"feed": self.amazon_feed_id, "status": status},
            retry_job=backend._amazon_push_call(),
        )
        return f"feed {self.amazon_feed_id} {status}"


class AmazonListing(models.Model):
    _inherit = "amazon.listing"

    feed_id = fields.Many2one(
        "amazon.feed",
        "In feed",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="A feed carrying this listing's quantity is being processed: the "
        "listing is pushed again only once Amazon's report is read.",
    )


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    amazon_feed_threshold = fields.Integer(
        "Feed above (SKUs)",
        default=50,
        help="A push of more changed listings than this sends one listings "
        "feed per marketplace (a few calls, processed by Amazon in minutes) "
        "instead of one Listings Items call per SKU (5 per second).",
    )
    amazon_feed_ids = fields.One2many("amazon.feed", "backend_id", "Listings feeds")

    def _amazon_push_feeds(self, changes):
        """One feed per marketplace of ``[(listing, quantity)]``; its jobs
        send it. Returns how many feeds."""
        by_marketplace = {}
        for listing, quantity in changes:
            by_marketplace.setdefault(listing.marketplace_id, []).append(
                (listing, quantity)
            )
        feeds = self.env["amazon.feed"].sudo()
        for marketplace, items in by_marketplace.items():
            feed = feeds.create(
                {
                    "backend_id": self.id,
                    "marketplace_id": marketplace.id,
                    "message_count": len(items),
                    "messages": [
                        {
                            "id": number,
                            "listing": listing.id,
                            "sku": listing.sku,
                            "quantity": quantity,
                        }
                        for number, (listing, quantity) in enumerate(items, 1)
                    ],
                }
            )
            listings = self.env["amazon.listing"].union(*(i[0] for i in items))
            listings.write({"feed_id": feed.id, "dirty": False})
            feed._enqueue_step()
            feeds |= feed
        return feeds

    def _amazon_after_feed(self):
        """A feed ended: what moved meanwhile is pushed now."""
        self.ensure_one()
        if self.env["amazon.listing"].search_count(
            [("backend_id", "=", self.id), ("dirty", "=", True)], limit=1
        ):
            self._amazon_enqueue_push(eta=1)

    def _amazon_push_call(self):
        """The push job's call, for an exception's Retry."""
        return {
            "model_name": "retail.backend",
            "method_name": "_job_amazon_push_stock",
            "records": json.dumps(self, cls=JobEncoder),
            "args": "[]",
            "kwargs": "{}",
            "channel": self._channel("realtime"),
            "name": f"{self.name}: push listing quantities",
        }
