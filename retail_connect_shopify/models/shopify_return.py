from odoo import models

from odoo.addons.retail_connect_base.lib.errors import MappingError, RemoteError

from ..lib import documents as gql
from ..lib import mappers

# the units a reverse fulfillment order put back into stock
# (ReverseFulfillmentOrderDispositionType: "RESTOCKED: An item that was
# restocked"; NOT_RESTOCKED, MISSING and PROCESSING_REQUIRED stay out)
RESTOCKED = "RESTOCKED"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _shopify_return_event(self, event, data):
        """returns/* and reverse_fulfillment_orders/dispose: whatever the
        topic, read what the return restocked and receive what Odoo has not
        received yet (so duplicated or reordered webhooks change nothing)."""
        if event.topic == "reverse_fulfillment_orders/dispose":
            rfo = data.get("admin_graphql_api_id") or (
                f"gid://shopify/ReverseFulfillmentOrder/{data['id']}"
            )
            return self._shopify_sync_returns_of_rfo(rfo)
        gid = data.get("admin_graphql_api_id") or f"gid://shopify/Return/{data['id']}"
        return self._shopify_sync_return(gid)

    def _shopify_sync_returns_of_rfo(self, rfo_gid):
        """Sync the return of a reverse fulfillment order: found among its
        order's returns, read page after page (an order may have more returns
        than one page; the object names no return of its own)."""
        client = self._shopify_client()
        data = self._call_in_job(
            client.graphql,
            gql.REVERSE_FULFILLMENT_ORDER_ORDER,
            {"id": rfo_gid},
            operation="ReverseFulfillmentOrderOrder",
            cost=2,
        )
        rfo = data.get("reverseFulfillmentOrder")
        if not rfo or not rfo.get("order"):
            raise RemoteError(f"Shopify has no reverse fulfillment order {rfo_gid}")
        returns = self._call_in_job(
            list,
            client.paginate(
                gql.ORDER_RETURNS,
                {"id": rfo["order"]["id"], "first": 25},
                operation="OrderReturns",
                path=("order", "returns"),
                cost=360,
            ),
        )
        pickings = self.env["stock.picking"]
        for ret in returns:
            connection = ret.get("reverseFulfillmentOrders") or {}
            ids = {node["id"] for node in connection.get("nodes") or []}
            # a return of more reverse fulfillment orders than one page may
            # hold it too: syncing a return is idempotent, so read it whole
            truncated = (connection.get("pageInfo") or {}).get("hasNextPage")
            if rfo_gid in ids or truncated:
                pickings |= self._shopify_sync_return(ret["id"]) or pickings
        return pickings[:1] or None

    def _shopify_return_whole(self, return_gid):
        """The return with every reverse fulfillment order and every one of
        their line items (both connections read page after page)."""
        client = self._shopify_client()
        ret, rfos, after = None, [], None
        while True:
            data = self._call_in_job(
                client.graphql,
                gql.RETURN_BY_ID,
                {"id": return_gid, "first": 4, "after": after},
                operation="ReturnById",
                cost=840,
            )
            page = data.get("return")
            if not page:
                raise RemoteError(f"Shopify has no return {return_gid}")
            ret = ret or page
            connection = page.get("reverseFulfillmentOrders") or {}
            for rfo in connection.get("nodes") or []:
                nodes = self._shopify_all_nodes(
                    rfo.get("lineItems"),
                    gql.REVERSE_FULFILLMENT_ORDER_LINES,
                    rfo["id"],
                    operation="ReverseFulfillmentOrderLines",
                    path=("reverseFulfillmentOrder", "lineItems"),
                    cost=210,
                )
                rfos.append(dict(rfo, lineItems={"nodes": nodes}))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        return dict(ret, reverseFulfillmentOrders={"nodes": rfos})

    def _shopify_sync_return(self, return_gid):
        """The return picking (or None) for the units of ``return_gid`` restocked on
        Shopify that no picking received yet. Each RESTOCKED disposition is
        received once: the picking's binding lists the dispositions it took.
        A refund of the return moves money only (see _shopify_import_refund).
        """
        self.ensure_one()
        ret = self._shopify_return_whole(return_gid)
        order_gid = ret["order"]["id"]
        # one receiver per order at a time: two webhooks of one return (or a
        # return and its refund) never both see a disposition as new
        self._lock_external("shopify.return", order_gid)
        bindings = self.env["retail.binding"]
        order_binding = bindings._lookup(self, "sale.order", order_gid)
        sale = order_binding._record() if order_binding else None
        if not sale:
            sale = self._shopify_import_order(order_gid)
        taken = self._shopify_received_dispositions(sale)
        new, quantities = [], {}
        for rfo in (ret.get("reverseFulfillmentOrders") or {}).get("nodes") or []:
            for line in (rfo.get("lineItems") or {}).get("nodes") or []:
                restocked = [
                    d
                    for d in line.get("dispositions") or []
                    if d["type"] == RESTOCKED and d["id"] not in taken
                ]
                if not restocked:
                    continue
                line_gid = line["fulfillmentLineItem"]["lineItem"]["id"]
                line_binding = bindings._lookup(self, "sale.order.line", line_gid)
                sale_line = line_binding._record() if line_binding else None
                if not sale_line:
                    raise MappingError(
                        f"Return {ret['name']} of {sale.name}: line {line_gid} is "
                        "not in the Odoo order.",
                        subject_key=f"return:{mappers.numeric_id(return_gid)}",
                    )
                product = sale_line.product_id
                quantities[product] = quantities.get(product, 0.0) + sum(
                    d["quantity"] for d in restocked
                )
                new += [d["id"] for d in restocked]
        if not new:
            return None  # nothing restocked that a picking did not receive
        pickings = self._shopify_return_picking(
            sale, quantities, f"Shopify return {ret['name']}"
        )
        if not pickings:
            return None  # nothing delivered yet: nothing comes back
        bindings._bind(
            self,
            pickings[0],
            new[0],
            external_ref=ret["name"],
            extra={"return": return_gid, "dispositions": new},
        )
        return pickings[:1]

    def _shopify_received_dispositions(self, sale):
        """The dispositions the sale's return pickings already received."""
        incoming = sale.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
        )
        found = self.env["retail.binding"].search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "stock.picking"),
                ("res_id", "in", incoming.ids),
            ]
        )
        return {d for b in found for d in (b.extra or {}).get("dispositions") or []}

    def _shopify_return_picking(self, sale, quantities, origin):
        """Return receipts of ``{product: quantity}`` from the done deliveries
        (one per delivery that shipped some of them); empty when nothing was
        delivered yet."""
        done = sale.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        left = dict(quantities)
        pickings = self.env["stock.picking"]
        for delivery in done:
            if not any(quantity > 0 for quantity in left.values()):
                break
            wizard = (
                self.env["stock.return.picking"]
                .with_context(active_id=delivery.id, active_model="stock.picking")
                .create({"picking_id": delivery.id})
            )
            for line in wizard.product_return_moves:
                take = min(left.get(line.product_id, 0.0), line.move_id.quantity)
                line.quantity = max(take, 0.0)
                left[line.product_id] = left.get(line.product_id, 0.0) - line.quantity
            if not any(wizard.product_return_moves.mapped("quantity")):
                continue
            action = wizard.action_create_returns()
            picking = self.env["stock.picking"].browse(action["res_id"])
            picking.origin = origin
            pickings |= picking
        return pickings
