"""Listing quantities out: what each marketplace offers of a merchant-fulfilled
(MFN) SKU, kept at Odoo's free stock minus the marketplace's safety stock.

A stock change only marks the product's listings dirty (one SQL update) and
enqueues ONE push job per backend (queue_job identity key, a few seconds
later): a burst of moves makes one push. Each dirty listing whose target
changed is sent with Listings Items ``patchListingsItem`` (5 calls/s, burst
5; ``listingsItems_2021-08-01.json``):

    PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds={id}
    {"productType": ..., "patches": [{"op": "replace",
     "path": "/attributes/fulfillment_availability",
     "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": n}]}]}

Amazon answers 200 with ``status`` ACCEPTED, or INVALID with ``issues``
(https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference):
an INVALID listing is set aside with its own exception and never blocks the
others. FBA listings are Amazon's stock: never pushed.

What is published never re-offers units Amazon already sold: Amazon takes an
order's units off the listing when the order is placed, before Odoo imports
it (Odoo's free quantity subtracts it once imported and reserved). Orders Odoo
saw Pending and has not imported yet are subtracted too:

    quantity = free quantity - safety stock - units of pending orders
"""

import json
import math
from urllib.parse import quote

from odoo import api, fields, models

from odoo.addons.retail_connect_base.lib.errors import ThrottledError

from ..lib import mappers

PATH = "/attributes/fulfillment_availability"


class AmazonListing(models.Model):
    _name = "amazon.listing"
    _description = "Amazon Listing"
    _order = "backend_id, marketplace_id, product_id"

    backend_id = fields.Many2one(
        related="marketplace_id.backend_id", store=True, index=True
    )
    company_id = fields.Many2one(related="marketplace_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.marketplace", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one(
        "product.product", required=True, ondelete="cascade", index=True
    )
    sku = fields.Char(related="product_id.default_code", string="Seller SKU")
    product_type = fields.Char(
        required=True,
        default="PRODUCT",
        help="The listing's Amazon product type (Seller Central shows it): "
        "Amazon refuses a quantity sent with another one.",
    )
    fulfillment = fields.Selection(
        [("MFN", "Merchant (MFN)"), ("AFN", "Amazon (FBA)")],
        required=True,
        default="MFN",
        help="Only merchant-fulfilled listings get Odoo's quantity: Amazon "
        "counts its FBA stock itself.",
    )
    active = fields.Boolean(default=True)
    dirty = fields.Boolean(default=True, index=True, readonly=True)
    sent_qty = fields.Integer("Quantity sent", readonly=True)
    sent_at = fields.Datetime(readonly=True)
    issue = fields.Text(readonly=True, help="Amazon's last refusal of the quantity.")

    _sql_constraints = [
        (
            "listing_uniq",
            "UNIQUE(marketplace_id, product_id)",
            "A product is listed once per marketplace.",
        )
    ]

    @api.model
    def _mark_dirty(self, products, location):
        """The stock of ``products`` at ``location`` changed (a quant, or a
        batch of moves: ``stock_marks.py``): mark their MFN listings of the
        location's warehouse dirty, enqueue one push per backend."""
        warehouse = location.warehouse_id
        if not products or not warehouse:
            return
        for model in ("amazon.listing", "amazon.marketplace", "retail.backend"):
            self.env[model].flush_model()
        default = self.env["stock.warehouse"].search(
            [("company_id", "=", warehouse.company_id.id)], limit=1
        )
        self.env.cr.execute(
            """
            UPDATE amazon_listing l SET dirty = true
              FROM amazon_marketplace m, retail_backend b
             WHERE m.id = l.marketplace_id AND b.id = m.backend_id
               AND l.product_id = ANY(%s) AND l.fulfillment = 'MFN' AND l.active
               AND m.active AND b.state = 'active' AND b.platform = 'amazon'
               AND COALESCE(m.warehouse_id, %s) = %s
            RETURNING b.id
            """,
            (list(products.ids), default.id, warehouse.id),
        )
        backend_ids = sorted({row[0] for row in self.env.cr.fetchall()})
        self.invalidate_model(["dirty"])
        # sudo: whoever moves stock may not read Retail Connect backends
        for backend in self.env["retail.backend"].sudo().browse(backend_ids):
            if backend._policy("inventory")._allows_export():
                backend._amazon_enqueue_push()

    @api.model
    def _ensure(self, marketplace, product, fulfillment):
        """The listing of ``product`` on ``marketplace`` (an order sold it)."""
        listing = self.with_context(active_test=False).search(
            [("marketplace_id", "=", marketplace.id), ("product_id", "=", product.id)]
        )
        if not listing:
            listing = self.create(
                {
                    "marketplace_id": marketplace.id,
                    "product_id": product.id,
                    "fulfillment": fulfillment,
                }
            )
        return listing

    def _target(self, pending):
        """What the marketplace should offer (see the module docstring)."""
        self.ensure_one()
        marketplace = self.marketplace_id
        product = self.product_id.with_context(warehouse_id=marketplace._warehouse().id)
        sold = pending.get((marketplace.code, self.sku), 0)
        free = product._retail_sellable_qty()  # deferred reservations held
        return max(0, math.floor(free - marketplace.safety_stock - sold))

    def _amazon_refused(self, answer, retry_job=None):
        """Amazon refused the quantity: set the listing aside with its own
        exception (the others go on); ``retry_job``: the call its Retry runs
        (default: the running job's)."""
        self.ensure_one()
        issues = "; ".join(
            f"{issue.get('code')}: {issue.get('message')}"
            for issue in answer.get("issues") or []
        )
        self.write({"dirty": False, "issue": issues})
        backend = self.backend_id
        self.env["retail.sync.exception"]._open_or_bump(
            backend,
            domain="inventory",
            category="remote",
            message=self.env._(
                "Amazon refused the quantity of %(sku)s on %(marketplace)s: "
                "%(issues)s. Correct the listing (its product type is "
                "%(type)s), then press Retry.",
                sku=self.sku,
                marketplace=self.marketplace_id.name,
                issues=issues,
                type=self.product_type,
            ),
            subject_key=f"listing:{self.marketplace_id.code}:{self.sku}",
            record=self,
            fix={"sku": self.sku, "issues": answer.get("issues") or []},
            retry_job=retry_job or backend._job_call(),
        )

    def write(self, vals):
        result = super().write(vals)
        if {"product_type", "fulfillment", "active"} & set(vals):
            self._amazon_corrected()
        return result

    def _amazon_corrected(self):
        """Edited (a product type corrected): push it again."""
        listings = self.filtered("active")
        super(AmazonListing, listings).write({"dirty": True, "issue": False})
        for backend in listings.mapped("backend_id").filtered(
            lambda b: b.state == "active"
        ):
            if backend._policy("inventory")._allows_export():
                backend._amazon_enqueue_push()
        return listings


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _amazon_enqueue_push(self, eta=5):
        self.ensure_one()
        self.with_delay(
            channel=self._channel("realtime"),
            identity_key=f"amazon_stock_{self.id}",
            description=f"{self.name}: push listing quantities",
            eta=eta,  # coalesce the moves of one operation
        )._job_amazon_push_stock()

    def _job_amazon_push_stock(self):
        """Push the dirty MFN listings' quantities (coalesced, idempotent)."""
        self.ensure_one()
        return self._run_outbound("inventory", "stock:push", self._amazon_push_stock)

    def _amazon_push_stock(self):
        if not self._policy("inventory")._allows_export():
            return "the inventory policy does not export"
        listings = self.env["amazon.listing"].search(
            [
                ("backend_id", "=", self.id),
                ("dirty", "=", True),
                ("fulfillment", "=", "MFN"),
                ("marketplace_id.active", "=", True),
                # Amazon knows a listing by its seller SKU: none, nothing to send
                ("product_id.default_code", "!=", False),
                # a feed carrying it is in flight: pushed once its report is read
                ("feed_id", "=", False),
            ]
        )
        if not listings:
            return "nothing to push"
        pending = self._amazon_pending_units()
        changes, unchanged = [], 0
        for listing in listings:
            target = listing._target(pending)
            if listing.sent_at and target == listing.sent_qty and not listing.issue:
                listing.dirty = False
                unchanged += 1
                continue
            changes.append((listing, target))
        if len(changes) > self.amazon_feed_threshold:
            # a burst: one listings feed per marketplace (amazon_feed.py)
            feeds = self._amazon_push_feeds(changes)
            return (
                f"{len(changes)} changed in {len(feeds)} feed(s), {unchanged} unchanged"
            )
        client = self._amazon_client()
        seller = quote(self.amazon_seller_id or "", safe="")
        sent = refused = 0
        for listing, target in changes:
            try:
                answer = client.call(
                    "PATCH",
                    f"/listings/2021-08-01/items/{seller}/"
                    f"{quote(listing.sku or '', safe='')}",
                    operation="patchListingsItem",
                    params={"marketplaceIds": listing.marketplace_id.code},
                    json={
                        "productType": listing.product_type,
                        "patches": [
                            {
                                "op": "replace",
                                "path": PATH,
                                "value": [
                                    {
                                        "fulfillment_channel_code": "DEFAULT",
                                        "quantity": target,
                                    }
                                ],
                            }
                        ],
                    },
                )
            except ThrottledError as err:
                # keep what was pushed; the rest in a new job when a token is back
                self._amazon_enqueue_push(eta=max(1, round(err.seconds or 1)))
                return (
                    f"{sent} pushed, {unchanged} unchanged, {refused} refused; the "
                    f"rest in {err.seconds}s (rate limit)"
                )
            if answer.get("status") == "INVALID":
                refused += 1
                listing._amazon_refused(answer)
                continue
            listing.write(
                {
                    "sent_qty": target,
                    "sent_at": fields.Datetime.now(),
                    "dirty": False,
                    "issue": False,
                }
            )
            self._resolve_outbound(
                f"listing:{listing.marketplace_id.code}:{listing.sku}"
            )
            sent += 1
        return f"{sent} pushed, {unchanged} unchanged, {refused} refused"

    def _amazon_pending_units(self):
        """``{(marketplace id, sku): units}`` of the merchant orders Odoo saw
        Pending and has not imported: Amazon already took them off."""
        self.ensure_one()
        events = (
            self.env["retail.event"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("topic", "=", "order/search"),
                    ("state", "=", "skipped_policy"),
                    ("payload_purged", "=", False),
                ],
                order="received_at desc, id desc",
            )
        )
        bindings = self.env["retail.binding"]
        seen, units = set(), {}
        for event in events:
            if event.subject_key in seen:
                continue
            seen.add(event.subject_key)
            order = json.loads(event.payload or "{}")
            if (
                mappers.status(order) not in mappers.PENDING
                or mappers.fulfilled_by(order) != mappers.MERCHANT
                or bindings._lookup(self, "sale.order", order.get("orderId"))
            ):
                continue
            for line in mappers.order_lines(order):
                key = (mappers.marketplace_id(order), line["sku"])
                units[key] = units.get(key, 0) + line["quantity"]
        return units
