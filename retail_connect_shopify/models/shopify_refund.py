from odoo import models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    MappingError,
    RemoteError,
)

from ..lib import documents as gql
from ..lib import mappers
from .retail_backend import IMPORT_CONTEXT


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _shopify_refund_shop_money(self, refund_gid):
        """A refund's total and line subtotals in the shop's currency, read
        from GraphQL ``shopMoney``: the REST payload's amounts are in the
        currency the customer paid, which Odoo's books must never take."""
        node = (
            self._shopify_client()
            .graphql(
                gql.REFUND_BY_ID, {"id": refund_gid}, operation="RefundById", cost=60
            )
            .get("node")
        )
        if not node:
            raise RemoteError(f"Shopify has no refund {refund_gid}")
        lines = {}
        for item in self._shopify_refund_lines(refund_gid, node.get("refundLineItems")):
            gid = (item.get("lineItem") or {}).get("id")
            subtotal, quantity = lines.get(gid, (0.0, 0))
            lines[gid] = (
                subtotal + mappers.money(item.get("subtotalSet")),
                quantity + (item.get("quantity") or 0),
            )
        return {
            "total": mappers.money(node.get("totalRefundedSet")),
            "lines": lines,
            "return": (node.get("return") or {}).get("id"),
        }

    def _shopify_refund_lines(self, refund_gid, connection):
        """Every line of a refund whose first page of ``refundLineItems`` is
        ``connection``: the others read page after page (none when the first
        page is all)."""
        return self._shopify_all_nodes(
            connection,
            gql.REFUND_LINES,
            refund_gid,
            operation="RefundLines",
            path=("node", "refundLineItems"),
            cost=510,
            first=100,
        )

    def _shopify_import_refund(self, refund):
        """A Shopify refund becomes a posted credit note; restocked lines a return.

        Idempotent: the credit note is bound to the refund id. A refund made
        for a Shopify return (``Refund.return``) moves money only: the units
        come back through the return's restocked dispositions, received once
        by the return flow (shopify_return.py), never by the refund too.
        """
        self.ensure_one()
        bindings = self.env["retail.binding"]
        refund_gid = refund.get("admin_graphql_api_id") or (
            f"gid://shopify/Refund/{refund['id']}"
        )
        self._lock_external("account.move", refund_gid)
        existing = bindings._lookup(self, "account.move", refund_gid)
        if existing and existing._record():
            raise EventSkipped("skipped_duplicate", f"refund {refund['id']} imported")
        order_gid = mappers.order_gid(refund["order_id"])
        subject = f"refund:{refund['id']}"
        order_binding = bindings._lookup(self, "sale.order", order_gid)
        sale = order_binding._record() if order_binding else None
        if not sale:
            sale = self._shopify_import_order(order_gid)
        shop_money = self._shopify_refund_shop_money(refund_gid)
        refund_lines, returns = [], {}
        for item in refund.get("refund_line_items") or []:
            line_gid = f"gid://shopify/LineItem/{item['line_item_id']}"
            line_binding = bindings._lookup(self, "sale.order.line", line_gid)
            sale_line = line_binding._record() if line_binding else None
            if not sale_line:
                raise MappingError(
                    f"Refund {refund['id']} of {sale.name}: line {line_gid} is not "
                    "in the Odoo order.",
                    subject_key=subject,
                )
            quantity = float(item["quantity"])
            if line_gid not in shop_money["lines"]:
                raise RemoteError(f"Shopify's refund {refund_gid} lacks {line_gid}")
            line_subtotal, line_quantity = shop_money["lines"][line_gid]
            unit = line_subtotal / line_quantity if line_quantity else 0.0
            refund_lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": sale_line.product_id.id,
                        "name": sale_line.name,
                        "quantity": quantity,
                        "price_unit": unit,
                        "tax_ids": [(6, 0, sale_line.tax_id.ids)],
                        "sale_line_ids": [(6, 0, sale_line.ids)],
                    },
                )
            )
            if item.get("restock_type") in ("return", "legacy_restock"):
                returns[sale_line.product_id] = (
                    returns.get(sale_line.product_id, 0.0) + quantity
                )
        refunded = shop_money["total"]
        move = (
            self.env["account.move"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": sale.partner_invoice_id.id,
                    "company_id": self.company_id.id,
                    "currency_id": sale.currency_id.id,
                    "invoice_origin": sale.name,
                    "ref": f"Shopify refund {refund['id']} ({sale.client_order_ref})",
                    "invoice_line_ids": refund_lines,
                }
            )
        )
        diff = round(refunded - move.amount_total, 2) if refunded else 0.0
        if diff:
            # shipping or an order adjustment refunded without a line
            move.write(
                {
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": self._shopify_shipping_product().id,
                                "name": self.env._("Refund adjustment (Shopify)"),
                                "quantity": 1,
                                "price_unit": diff,
                                "tax_ids": [(5,)],
                            },
                        )
                    ]
                }
            )
        move.action_post()
        bindings._bind(self, move, refund_gid, external_ref=move.name)
        # the money given back, booked on this credit note (shopify_payment.py)
        self._shopify_queue_payments(
            {"id": order_gid, "name": sale.client_order_ref}, key=refund_gid
        )
        if shop_money["return"]:
            # the return receives what it restocked (now, if its webhooks
            # are late); the refund's RETURN lines must not receive it again
            self._shopify_sync_return(shop_money["return"])
        elif returns:
            self._shopify_return_picking(
                sale, returns, f"Shopify refund {refund['id']}"
            )
        return move
