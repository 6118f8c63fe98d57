"""Orders in: ``searchOrders`` polled since the watermark, each order through
the inbox, one sale order per Amazon order.

- Polling is Amazon's recommended path for Orders API v2026-01-01: one
  ``searchOrders`` with ``lastUpdatedAfter`` (the policy's watermark minus its
  overlap) and ``includedData`` FULFILLMENT, PROCEEDS, RECIPIENT, BUYER, which
  brings the items inline (no per-order calls); pages follow ``nextToken``.
- Each order seen is a delivery keyed by its id and ``lastUpdatedTime``: an
  order seen again unchanged (the overlap) is the same event; a change is a
  new one.
- Pending orders wait: Amazon has not authorized the payment, the order may
  still go away, and its address is not final; the order is imported when a
  later poll sees it Unshipped (``lastUpdatedTime`` moves with its status).
- A cancellation before shipment cancels the sale order; after a delivery
  shipped it opens a conflict.
- Orders fulfilled by Amazon (AFN) take their goods from the FBA warehouse
  and Odoo ships nothing: their delivery is validated when Amazon reports
  the order shipped.
"""

import json
from decimal import Decimal

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    EventSkipped,
    MappingError,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib import mappers

IMPORT_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
}
TOPIC = "order/search"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # -------------------------------------------------------------- polling
    def _poll(self, policy, since, until):
        if self.platform != "amazon":
            return super()._poll(policy, since, until)
        if policy.domain != "order":
            return []
        marketplaces = self._amazon_marketplace_param()
        if not marketplaces:
            return []
        params = {
            "lastUpdatedAfter": mappers.iso(since),
            "marketplaceIds": marketplaces,
            "includedData": mappers.INCLUDED_DATA,
            "maxResultsPerPage": 100,
        }
        deliveries = []
        for order in self._amazon_client().search_orders(params):
            deliveries.append(
                Delivery(
                    topic=TOPIC,
                    dedup_key=f"order:{order['orderId']}:{order['lastUpdatedTime']}",
                    payload=json.dumps(order).encode(),
                    subject_key=f"order:{order['orderId']}",
                    occurred_at=mappers.parse_time(order["lastUpdatedTime"]),
                    remote_updated_at=mappers.parse_time(order["lastUpdatedTime"]),
                )
            )
        return deliveries

    # --------------------------------------------------------------- events
    def _process_event(self, event):
        if self.platform != "amazon":
            return super()._process_event(event)
        if event.topic == TOPIC:
            return self._amazon_import_order(event._data())
        raise EventSkipped("skipped_policy", f"topic {event.topic} is not handled")

    def _amazon_import_order(self, order):
        """Create or update the sale order of an Amazon order (idempotent)."""
        self.ensure_one()
        order_id = order["orderId"]
        subject = f"order:{order_id}"
        bindings = self.env["retail.binding"]
        self._lock_external("sale.order", order_id)
        binding = bindings._lookup(self, "sale.order", order_id)
        updated = mappers.parse_time(order["lastUpdatedTime"])
        if binding and binding._is_stale(updated):
            raise EventSkipped(
                "skipped_stale",
                f"{order_id}: Odoo already has the change of "
                f"{binding.remote_updated_at}",
            )
        status = mappers.status(order)
        sale = binding._record() if binding else None
        if sale:
            self._amazon_update_order(sale, order, subject)
        else:
            if status in mappers.PENDING:
                raise EventSkipped(
                    "skipped_policy",
                    f"{order_id} is {status}: Amazon has not confirmed the "
                    "payment yet; it is imported once Unshipped",
                )
            if status == mappers.CANCELLED:
                raise EventSkipped(
                    "skipped_policy", f"{order_id} was cancelled before import"
                )
            sale = self._amazon_create_order(order, subject)
        bindings._bind(
            self,
            sale,
            order_id,
            external_ref=order_id,
            remote_updated_at=updated,
            payload_digest=bindings._digest(order),
            extra={
                "fulfilled_by": mappers.fulfilled_by(order),
                "marketplace": mappers.marketplace_id(order),
            },
        )
        sale._retail_channel_status(fulfilment=status)
        if mappers.fulfilled_by(order) == mappers.AMAZON and status in mappers.SHIPPED:
            self._amazon_fba_shipped(sale)
        return sale

    def _amazon_update_order(self, sale, order, subject):
        if mappers.status(order) != mappers.CANCELLED or sale.state == "cancel":
            return
        shipped = sale.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if shipped:
            raise ConflictError(
                f"{order['orderId']} was cancelled on Amazon but "
                f"{', '.join(shipped.mapped('name'))} already shipped: refund or "
                "return it by hand.",
                subject_key=subject,
            )
        sale.with_context(**IMPORT_CONTEXT)._action_cancel()

    # ---------------------------------------------------------------- create
    def _amazon_create_order(self, order, subject):
        order_id = order["orderId"]
        marketplace = self._amazon_marketplace(order, subject)
        currency = marketplace.currency_id
        total, code = mappers.grand_total(order)
        if code and code != currency.name:
            raise MappingError(
                f"{order_id} is in {code} but the marketplace {marketplace.name} "
                f"is set up in {currency.name}: correct its currency, then retry.",
                subject_key=subject,
                fix={"currency": code},
            )
        pricelist = self._amazon_pricelist(marketplace, order_id, subject)
        fba = mappers.fulfilled_by(order) == mappers.AMAZON
        if fba and not self.amazon_fba_warehouse_id:
            raise ValidationSyncError(
                f"{order_id} is fulfilled by Amazon (FBA) and the backend has no "
                "FBA warehouse: set one on the Amazon tab (a warehouse of the "
                "stock Amazon holds), then retry.",
                subject_key=subject,
            )
        partner, delivery = self._amazon_partners(order, marketplace)
        lines, extras = [], {"shipping": Decimal(0), "tax": Decimal(0)}
        extras["other"] = Decimal(0)
        items = mappers.order_lines(order)
        listings = self.env["amazon.listing"]
        for line in items:
            product = self._amazon_product(line, order_id, subject)
            # sold there: its quantity is kept up to date (MFN) from now on
            listings._ensure(marketplace, product, "AFN" if fba else "MFN")
            price = Decimal(str(currency.round(float(line["price_unit"]))))
            # a unit price of more decimals than the currency's: the cents
            # left go with the other charges, the total stays Amazon's
            extras["other"] += line["item_total"] - price * line["quantity"]
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "name": line["title"],
                        "product_uom_qty": line["quantity"],
                        "price_unit": float(price),
                        "tax_id": [(5,)],
                    },
                )
            )
            for key in ("shipping", "tax", "other"):
                extras[key] += line[key]
        labels = {
            "shipping": self.env._("Shipping (Amazon)"),
            "tax": self.env._("Tax collected by Amazon"),
            "other": self.env._("Other charges (Amazon)"),
        }
        for key in ("shipping", "tax", "other"):
            if extras[key]:
                lines.append(
                    (
                        0,
                        0,
                        {
                            "product_id": self._amazon_service_product(key).id,
                            "name": labels[key],
                            "product_uom_qty": 1,
                            "price_unit": float(extras[key]),
                            "tax_id": [(5,)],
                        },
                    )
                )
        warehouse = self.amazon_fba_warehouse_id if fba else marketplace._warehouse()
        values = {
            **self._sale_order_defaults(),
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": delivery.id,
            "company_id": self.company_id.id,
            "client_order_ref": order_id,
            "origin": f"Amazon {order_id}",
            "date_order": mappers.parse_time(order["createdTime"]),
            "pricelist_id": pricelist.id if pricelist else False,
            "warehouse_id": warehouse.id,
            "order_line": lines,
        }
        if marketplace.team_id:
            values["team_id"] = marketplace.team_id.id
        sale = self.env["sale.order"].with_context(**IMPORT_CONTEXT).create(values)
        if sale.currency_id != currency:
            raise MappingError(
                f"{order_id} is in {currency.name}, Odoo would book it in "
                f"{sale.currency_id.name}: set a pricelist in {currency.name} on "
                f"the marketplace {marketplace.name}, then retry.",
                subject_key=subject,
                fix={"currency": currency.name},
            )
        if code and currency.compare_amounts(sale.amount_total, float(total)):
            raise ConflictError(
                f"{order_id}: Odoo computes {sale.amount_total:.2f} but Amazon's "
                f"total is {total} {code}.",
                subject_key=subject,
            )
        for line, sale_line in zip(items, sale.order_line, strict=False):
            self.env["retail.binding"]._bind(
                self,
                sale_line,
                f"{order_id}:{line['item_id']}",
                external_ref=line["sku"],
            )
        sale.with_context(**IMPORT_CONTEXT).action_confirm()
        return sale

    def _amazon_marketplace(self, order, subject):
        code = mappers.marketplace_id(order)
        marketplace = self.amazon_marketplace_ids.filtered(
            lambda m: m.code == code and m.active
        )[:1]
        if not marketplace:
            raise MappingError(
                f"{order['orderId']} was sold on the marketplace {code}, which the "
                "backend does not list (or is archived): add it on the Amazon tab "
                "with its currency and pricelist, then retry.",
                subject_key=subject,
                fix={"marketplace": code},
            )
        return marketplace

    def _amazon_pricelist(self, marketplace, order_id, subject):
        """The marketplace's pricelist, else one in its currency; none for
        the company's currency without one."""
        currency = marketplace.currency_id
        if marketplace.pricelist_id:
            return marketplace.pricelist_id
        found = self.env["product.pricelist"].search(
            [
                ("currency_id", "=", currency.id),
                ("company_id", "in", (False, self.company_id.id)),
            ],
            limit=1,
        )
        if found or currency == self.company_id.currency_id:
            return found
        raise MappingError(
            f"{order_id} is in {currency.name} and Odoo has no pricelist in "
            f"{currency.name}: create one (Sales › Products › Pricelists) and set "
            f"it on the marketplace {marketplace.name}, then retry.",
            subject_key=subject,
            fix={"currency": currency.name},
        )

    def _amazon_product(self, line, order_id, subject):
        product = self.env["product.product"]
        if line["sku"]:
            product = product.search(
                [
                    ("default_code", "=", line["sku"]),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
        if not product:
            raise MappingError(
                f"{order_id}: unknown seller SKU {line['sku'] or '(none)'} "
                f"({line['title']}): give a product the internal reference "
                f"{line['sku']} (or create it), then retry.",
                subject_key=subject,
                fix={
                    "sku": line["sku"],
                    "asin": line["asin"],
                    "title": line["title"],
                    "price": str(line["price_unit"]),
                },
            )
        return product

    def _amazon_service_product(self, kind):
        field = f"amazon_{kind}_product_id"
        if not self[field]:
            names = {
                "shipping": self.env._("Shipping (Amazon)"),
                "tax": self.env._("Tax collected by Amazon"),
                "other": self.env._("Other charges (Amazon)"),
            }
            self.sudo()[field] = self.env["product.product"].create(
                {
                    "name": names[kind],
                    "type": "service",
                    "default_code": f"AMAZON-{kind.upper()}-{self.id}",
                    "invoice_policy": "order",
                    "taxes_id": [(5,)],
                    "sale_ok": False,
                    "purchase_ok": False,
                    "company_id": self.company_id.id,
                }
            )
        return self[field]

    # -------------------------------------------------------------- partners
    def _amazon_partners(self, order, marketplace):
        """``(customer, delivery address)`` of an order, per the strategy."""
        partners = self.env["res.partner"].with_context(**IMPORT_CONTEXT)
        address = mappers.address(order)
        buyer = order.get("buyer") or {}
        if self.amazon_customer_strategy == "marketplace":
            customer = marketplace.partner_id
            if not customer:
                customer = partners.create(
                    {
                        "name": self.env._(
                            "%(marketplace)s customers", marketplace=marketplace.name
                        ),
                        "is_company": True,
                        "customer_rank": 1,
                        "company_id": self.company_id.id,
                    }
                )
                marketplace.sudo().partner_id = customer
        else:
            customer = self._amazon_buyer(order, buyer, address)
        if not address:
            return customer, customer
        return customer, self._amazon_delivery(customer, address, order)

    def _amazon_buyer(self, order, buyer, address):
        """One partner per buyer: the buyer's (anonymized) Amazon e-mail
        identifies them; without it (FBA orders, no role), the order does."""
        bindings = self.env["retail.binding"]
        email = (buyer.get("buyerEmail") or "").strip().lower()
        key = f"buyer:{email}" if email else f"order:{order['orderId']}"
        binding = bindings._lookup(self, "res.partner", key)
        partner = binding._record() if binding else None
        if partner:
            return partner
        name = (
            buyer.get("buyerName")
            or address.get("name")
            or self.env._("Amazon buyer %(order)s", order=order["orderId"])
        )
        partner = (
            self.env["res.partner"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                {
                    "name": name,
                    "email": email or False,
                    "customer_rank": 1,
                    "company_id": self.company_id.id,
                }
            )
        )
        bindings._bind(self, partner, key, external_ref=name)
        return partner

    def _amazon_delivery(self, customer, address, order):
        """The delivery address as a contact of ``customer`` (the same
        address again is the same contact)."""
        country = self.env["res.country"].search(
            [("code", "=", (address.get("countryCode") or "").upper())], limit=1
        )
        state = self.env["res.country.state"]
        if country and address.get("stateOrRegion"):
            state = state.search(
                [
                    ("country_id", "=", country.id),
                    ("code", "=ilike", address["stateOrRegion"]),
                ],
                limit=1,
            )
        values = {
            "name": address.get("name")
            or self.env._("Amazon buyer %(order)s", order=order["orderId"]),
            "street": address.get("addressLine1") or False,
            "street2": ", ".join(
                filter(None, (address.get("addressLine2"), address.get("addressLine3")))
            )
            or False,
            "city": address.get("city") or False,
            "zip": address.get("postalCode") or False,
            "country_id": country.id or False,
            "state_id": state.id or False,
        }
        for child in customer.child_ids.filtered(lambda c: c.type == "delivery"):
            if all(
                (child[name].id if name.endswith("_id") else child[name]) == value
                for name, value in values.items()
            ):
                return child
        return (
            self.env["res.partner"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                dict(
                    values,
                    parent_id=customer.id,
                    type="delivery",
                    phone=address.get("phone") or False,
                )
            )
        )

    # ------------------------------------------------------------------- FBA
    def _amazon_fba_shipped(self, sale):
        """Amazon shipped an FBA order: its delivery from the FBA warehouse is
        done, consuming that stock (nothing leaves Odoo's own warehouses)."""
        pickings = sale.picking_ids.filtered(
            lambda p: (
                p.state not in ("done", "cancel")
                and p.picking_type_id.warehouse_id == self.amazon_fba_warehouse_id
            )
        )
        for picking in pickings:
            for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
                move.quantity = move.product_uom_qty
                move.picked = True
            picking.with_context(**IMPORT_CONTEXT)._action_done()
        return pickings
