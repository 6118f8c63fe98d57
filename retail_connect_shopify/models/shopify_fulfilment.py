from odoo import models

from odoo.addons.retail_connect_base.lib.errors import ConflictError

from ..lib import documents as gql

OPEN = ("OPEN", "IN_PROGRESS")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _job_shopify_fulfil(self, picking):
        """Create the Shopify fulfilment of a done delivery (idempotent).

        Quantities go to the fulfillment orders that still expect them, so a
        partial delivery makes a partial fulfilment and its backorder the rest.
        """
        self.ensure_one()
        return self._run_outbound(
            "shipment",
            f"fulfilment:{picking.id}",
            self._shopify_fulfil,
            picking,
            record=picking,
        )

    def _shopify_fulfil(self, picking):
        bindings = self.env["retail.binding"]
        if bindings._lookup_record(self, picking):
            return "already fulfilled"
        order_binding = bindings._lookup_record(self, picking.sale_id)
        if not order_binding:
            return "not a Shopify order of this backend"
        client = self._shopify_client()
        data = self._call_in_job(
            client.graphql,
            gql.FULFILLMENT_ORDERS,
            {"id": order_binding.external_id},
            operation="FulfillmentOrders",
            cost=530,
        )
        remaining = {}  # line item gid -> [(fo id, fo line id, remaining)]
        for fo in ((data.get("order") or {}).get("fulfillmentOrders") or {}).get(
            "nodes"
        ) or []:
            if fo["status"] not in OPEN:
                continue
            for line in (fo.get("lineItems") or {}).get("nodes") or []:
                if line["remainingQuantity"] > 0:
                    remaining.setdefault(line["lineItem"]["id"], []).append(
                        [fo["id"], line["id"], line["remainingQuantity"]]
                    )
        by_fo = {}
        for move in picking.move_ids.filtered(lambda m: m.quantity and m.sale_line_id):
            line_binding = bindings._lookup_record(self, move.sale_line_id)
            if not line_binding:
                continue
            quantity = int(move.quantity)
            for slot in remaining.get(line_binding.external_id, []):
                take = min(quantity, slot[2])
                if take <= 0:
                    continue
                slot[2] -= take
                quantity -= take
                by_fo.setdefault(slot[0], []).append({"id": slot[1], "quantity": take})
            if quantity > 0:
                raise ConflictError(
                    f"{picking.name}: Shopify expects less of "
                    f"{move.product_id.display_name} than was shipped "
                    f"({quantity} too many): was the order edited on Shopify?",
                    subject_key=f"order:{order_binding.external_id.rsplit('/', 1)[-1]}",
                )
        if not by_fo:
            return "nothing left to fulfil on Shopify"
        tracking = {}
        if picking.carrier_tracking_ref:
            tracking = {
                "company": picking.carrier_id.name or "",
                "number": picking.carrier_tracking_ref,
                "url": picking.carrier_tracking_url or None,
            }
        fulfillment = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": lines}
                for fo_id, lines in by_fo.items()
            ],
            "notifyCustomer": True,
        }
        if tracking:
            fulfillment["trackingInfo"] = tracking
        result = self._call_in_job(
            client.mutate,
            gql.FULFILLMENT_CREATE,
            {"fulfillment": fulfillment, "key": f"odoo-picking-{picking.id}"},
            operation="FulfillmentCreate",
            payload="fulfillmentCreate",
        )
        created = result["fulfillment"]
        bindings._bind(self, picking, created["id"], external_ref=picking.name)
        # Shopify took the shipped units out of committed, not out of available:
        # a compare-and-set would not notice, so the stock push reads them again
        self.env["shopify.stock.level"]._reread(self, picking.move_ids.product_id)
        return f"fulfilment {created['id']} ({created['status']})"
