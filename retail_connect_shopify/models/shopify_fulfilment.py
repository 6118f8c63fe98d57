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
        Shopify fulfils only fulfillment orders of one assigned location per
        call: a delivery spread over several locations makes one fulfilment
        per location. A retry after some of them succeeded (another location
        failed) finds those fulfilments on the order and sends only the rest.
        """
        self.ensure_one()
        return self._run_outbound(
            "shipment",
            f"fulfilment:{picking.id}",
            self._shopify_fulfil,
            picking,
            record=picking,
        )

    def _job_shopify_tracking(self, picking):
        """Send the delivery's current tracking to its Shopify fulfilments."""
        self.ensure_one()
        return self._run_outbound(
            "shipment",
            f"tracking:{picking.id}",
            self._shopify_tracking,
            picking,
            record=picking,
        )

    def _shopify_tracking(self, picking):
        binding = self.env["retail.binding"]._lookup_record(self, picking)
        if not binding:
            return "not fulfilled on Shopify yet: the fulfilment sends the tracking"
        ids = (binding.extra or {}).get("fulfillments") or [binding.external_id]
        tracking = self._shopify_tracking_info(picking)
        client = self._shopify_client()
        for fulfillment_id in ids:
            # setting the tracking is idempotent: a retry sends the same values
            self._call_in_job(
                client.mutate,
                gql.FULFILLMENT_TRACKING_UPDATE,
                {"id": fulfillment_id, "tracking": tracking},
                operation="FulfillmentTrackingUpdate",
                payload="fulfillmentTrackingInfoUpdate",
            )
        return f"tracking {tracking.get('number') or '-'} on {len(ids)} fulfilment(s)"

    def _shopify_tracking_info(self, picking):
        return {
            "company": picking.carrier_id.name or "",
            "number": picking.carrier_tracking_ref or "",
            "url": picking.carrier_tracking_url or None,
        }

    def _shopify_fulfillment_orders(self, order_gid):
        """Every fulfillment order of the order with every one of its lines:
        both connections are read page after page (an order of many lines or
        locations has more than one page of each)."""
        client = self._shopify_client()
        fulfillment_orders = []
        for fo in self._call_in_job(
            list,
            client.paginate(
                gql.FULFILLMENT_ORDERS,
                {"id": order_gid, "first": 5},
                operation="FulfillmentOrders",
                path=("order", "fulfillmentOrders"),
                cost=530,
            ),
        ):
            nodes = self._shopify_all_nodes(
                fo.get("lineItems"),
                gql.FULFILLMENT_ORDER_LINES,
                fo["id"],
                operation="FulfillmentOrderLines",
                path=("fulfillmentOrder", "lineItems"),
                cost=110,
            )
            fulfillment_orders.append(dict(fo, lineItems={"nodes": nodes}))
        return fulfillment_orders

    def _shopify_fulfil(self, picking):
        bindings = self.env["retail.binding"]
        if bindings._lookup_record(self, picking):
            return "already fulfilled"
        order_binding = bindings._lookup_record(self, picking.sale_id)
        if not order_binding:
            return "not a Shopify order of this backend"
        client = self._shopify_client()
        # units Shopify shows fulfilled by no picking of ours: an earlier try
        # of this job that fulfilled some locations before another failed
        # (fulfillmentCreate has no idempotency key, a rollback forgets them)
        adoptable = self._shopify_unclaimed_fulfilments(
            picking, self._shopify_order_fulfilments(order_binding.external_id)
        )
        adopted = []
        remaining = {}  # line item gid -> [(fo id, fo line id, remaining)]
        location_of = {}  # fo id -> its assigned location
        for fo in self._shopify_fulfillment_orders(order_binding.external_id):
            if fo["status"] not in OPEN:
                continue
            location_of[fo["id"]] = (
                (fo.get("assignedLocation") or {}).get("location") or {}
            ).get("id")
            for line in fo["lineItems"]["nodes"]:
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
            for slot in adoptable.get(line_binding.external_id, []):
                take = min(quantity, slot[1])
                if take <= 0:
                    continue
                slot[1] -= take
                quantity -= take
                if slot[0] not in adopted:
                    adopted.append(slot[0])
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
        if not by_fo and not adopted:
            return "nothing left to fulfil on Shopify"
        by_location = {}  # location -> {fo id: lines}, in the order met
        for fo_id, lines in by_fo.items():
            by_location.setdefault(location_of.get(fo_id), {})[fo_id] = lines
        tracking = {}
        if picking.carrier_tracking_ref:
            tracking = self._shopify_tracking_info(picking)
        made = [{"id": fulfillment_id} for fulfillment_id in adopted]
        for fos in by_location.values():
            fulfillment = {
                "lineItemsByFulfillmentOrder": [
                    {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": lines}
                    for fo_id, lines in fos.items()
                ],
                "notifyCustomer": True,
            }
            if tracking:
                fulfillment["trackingInfo"] = tracking
            # fulfillmentCreate takes no idempotency key (only the inventory
            # and refund mutations do): a retry after a lost answer or a
            # failed later location adopts what was made (adoptable above)
            result = self._call_in_job(
                client.mutate,
                gql.FULFILLMENT_CREATE,
                {"fulfillment": fulfillment},
                operation="FulfillmentCreate",
                payload="fulfillmentCreate",
            )
            made.append(result["fulfillment"])
        bindings._bind(
            self,
            picking,
            made[-1]["id"],
            external_ref=picking.name,
            extra={"fulfillments": [created["id"] for created in made]},
        )
        # Shopify took the shipped units out of committed, not out of available:
        # a compare-and-set would not notice, so the stock push reads them again
        self.env["shopify.stock.level"]._reread(self, picking.move_ids.product_id)
        return ", ".join(
            f"fulfilment {c['id']} ({c.get('status') or 'made by an earlier try'})"
            for c in made
        )

    def _shopify_order_fulfilments(self, order_gid):
        """Every fulfilment of the order with every one of its lines: the
        order's list of fulfilments whole (not a connection), each one's
        lines page after page (a fulfilment of many lines has more than
        one page)."""
        client = self._shopify_client()
        data = self._call_in_job(
            client.graphql,
            gql.ORDER_FULFILLMENTS,
            {"id": order_gid},
            operation="OrderFulfillments",
            cost=120,
        )
        fulfilments = []
        for fulfilment in (data.get("order") or {}).get("fulfillments") or []:
            nodes = self._shopify_all_nodes(
                fulfilment.get("fulfillmentLineItems"),
                gql.FULFILLMENT_LINES,
                fulfilment["id"],
                operation="FulfillmentLines",
                path=("node", "fulfillmentLineItems"),
                cost=110,
            )
            fulfilments.append(dict(fulfilment, fulfillmentLineItems={"nodes": nodes}))
        return fulfilments

    def _shopify_unclaimed_fulfilments(self, picking, fulfilments):
        """``{line item gid: [[fulfillment id, quantity]]}`` of the order's
        ``fulfilments`` that no other delivery's binding claims."""
        others = picking.sale_id.picking_ids - picking
        claimed = set()
        for binding in self.env["retail.binding"].search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "stock.picking"),
                ("res_id", "in", others.ids),
            ]
        ):
            claimed.add(binding.external_id)
            claimed.update((binding.extra or {}).get("fulfillments") or [])
        unclaimed = {}
        for fulfillment in fulfilments:
            if fulfillment["id"] in claimed:
                continue
            nodes = (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []
            for node in nodes:
                unclaimed.setdefault(node["lineItem"]["id"], []).append(
                    [fulfillment["id"], node.get("quantity") or 0]
                )
        return unclaimed
