"""Orders edited on Shopify after their import.

Shopify lets a merchant edit an order once placed (orderEditBegin ...
orderEditCommit): variants added as new line items, quantities changed,
lines removed (``currentQuantity`` 0; ``quantity`` keeps the removed and
refunded units), and the shipping address changed (orderUpdate). The sale
order follows while nothing of it is delivered, invoiced or locked; after
that nothing changes and one conflict exception says what differs.
"""

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import ConflictError

from ..lib import mappers
from .retail_backend import IMPORT_CONTEXT

ADDRESS_FIELDS = ("street", "street2", "city", "zip")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _shopify_follow_edits(self, sale, order):
        """Bring ``sale`` to the edited ``order``, or raise a conflict."""
        subject = f"order:{mappers.numeric_id(order['id'])}"
        lines = self._shopify_line_changes(sale, order)
        address = self._shopify_address_change(sale, order)
        if not lines and not address:
            return
        frozen = self._shopify_frozen(sale)
        if frozen:
            differences = [
                f"{change['sku'] or change['title']}: Odoo {change['odoo']:g}, "
                f"Shopify {change['shopify']:g}"
                for change in lines
            ]
            if address:
                differences.append(
                    "delivery to "
                    f"{self._shopify_address_text(address)} on Shopify, to "
                    f"{self._shopify_address_text(sale.partner_shipping_id)} in "
                    "Odoo"
                )
            raise ConflictError(
                f"{order['name']} was edited on Shopify but {sale.name} is "
                f"{frozen}: Odoo changed nothing. Differences: "
                f"{'; '.join(differences)}. Fix: ship or return the difference "
                "by hand (a new delivery, a return, a credit note) or revert "
                "the edit on Shopify, then resolve this exception.",
                subject_key=subject,
                fix={
                    "lines": [
                        {k: c[k] for k in ("sku", "line_id", "odoo", "shopify")}
                        for c in lines
                    ],
                    "address": bool(address),
                },
            )
        sale = sale.with_context(**IMPORT_CONTEXT)
        bindings = self.env["retail.binding"]
        for change in lines:
            if change["sale_line"]:
                change["sale_line"].product_uom_qty = change["shopify"]
                continue
            values = self._shopify_added_line(change["line"], order, subject)
            sale.write({"order_line": [(0, 0, values)]})
            bindings._bind(
                self,
                sale.order_line[-1],
                change["line_id"],
                external_ref=change["sku"],
            )
        if address:
            partner, _invoice, delivery = self._shopify_partners(order)
            sale.with_context(update_delivery_shipping_partner=True).write(
                {"partner_shipping_id": delivery.id}
            )
        self._shopify_check_total(sale, order, subject)

    def _shopify_line_changes(self, sale, order):
        """What differs between the sale order's lines and Shopify's.

        A Shopify line's units in Odoo: its ``currentQuantity`` plus the
        units refunded (refunds are credit notes; the sale order keeps
        them). A line refunded before its import was imported without its
        refunded units: that is accepted too. Orders read without their
        refunds (bulk backfill) are not compared.
        """
        if "refunds" not in order:
            return []
        refunded = {}
        for refund in order.get("refunds") or ():
            for node in self._shopify_refund_lines(
                refund.get("id"), refund.get("refundLineItems")
            ):
                line_id = (node.get("lineItem") or {}).get("id")
                refunded[line_id] = refunded.get(line_id, 0) + node["quantity"]
        bindings = self.env["retail.binding"]
        by_line = {}
        for sale_line in sale.order_line:
            binding = bindings._lookup_record(self, sale_line)
            if binding:
                by_line[binding.external_id] = sale_line
        changes = []
        for node in (order.get("lineItems") or {}).get("nodes") or ():
            current = node.get("currentQuantity", node.get("quantity")) or 0
            wanted = current + refunded.get(node["id"], 0)
            sale_line = by_line.get(node["id"])
            odoo = sale_line.product_uom_qty if sale_line else 0.0
            if odoo in (wanted, current):
                continue
            changes.append(
                {
                    "line_id": node["id"],
                    "sku": (node.get("sku") or "").strip(),
                    "title": node.get("title") or "",
                    "odoo": odoo,
                    "shopify": wanted,
                    "sale_line": sale_line,
                    "line": node,
                }
            )
        return changes

    def _shopify_added_line(self, node, order, subject):
        """Sale line values of a line item added on Shopify."""
        line = next(
            (x for x in mappers.order_lines(order) if x["line_id"] == node["id"]),
            None,
        )
        product = self._shopify_product(line, order, subject)
        taxes = self._shopify_taxes(line, order, subject)
        gross = line["price_unit"] * line["quantity"]
        return {
            "product_id": product.id,
            "name": line["title"],
            "product_uom_qty": line["quantity"],
            "price_unit": line["price_unit"],
            # what an edit discounts is the line's own: as a percentage; the
            # total check below catches what a percentage cannot give back
            "discount": round(line["discount_amount"] / gross * 100, 6)
            if gross and line["discount_amount"]
            else 0.0,
            "tax_id": [(6, 0, taxes)],
        }

    def _shopify_address_change(self, sale, order):
        """Shopify's shipping address as partner values, if it is not the
        sale order's delivery address; else None."""
        values = mappers.address(order.get("shippingAddress"))
        if not values or not values.get("street"):
            return None
        partner = sale.partner_shipping_id
        same = all(
            (partner[name] or "") == (values[name] or "") for name in ADDRESS_FIELDS
        ) and (partner.country_id.code or None) == (values["country_code"] or None)
        return None if same else values

    def _shopify_frozen(self, sale):
        """Why ``sale`` can no longer follow an edit, or None."""
        if sale.state == "cancel":
            return "cancelled"
        if sale.locked:
            return "locked"
        done = sale.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if done or any(sale.order_line.mapped("qty_delivered")):
            names = ", ".join(done.mapped("name"))
            return f"already delivered ({names})" if names else "already delivered"
        invoices = sale.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
        )
        if invoices:
            return f"invoiced ({', '.join(invoices.mapped('name'))})"
        return None

    @staticmethod
    def _shopify_address_text(address):
        """``street, zip city`` of a partner or of partner values."""
        parts = [address["street"], address["street2"]]
        parts.append(" ".join(p for p in (address["zip"], address["city"]) if p))
        return ", ".join(p for p in parts if p) or "-"
