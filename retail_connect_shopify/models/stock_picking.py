from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        self._shopify_enqueue_fulfilments()
        return result

    def write(self, vals):
        result = super().write(vals)
        if {"carrier_tracking_ref", "carrier_id"} & set(vals):
            self._shopify_enqueue_tracking()
        return result

    def _shopify_enqueue_tracking(self):
        """Tracking edited on a delivery already fulfilled on Shopify: update
        the tracking of its fulfilments (issue 7, point 12)."""
        bindings = self.env["retail.binding"].sudo()
        for picking in self.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        ):
            for binding in bindings.search(
                [
                    ("res_model", "=", "stock.picking"),
                    ("res_id", "=", picking.id),
                    ("backend_id.platform", "=", "shopify"),
                    ("backend_id.state", "=", "active"),
                ]
            ):
                backend = binding.backend_id
                if not backend._policy("shipment")._allows_export():
                    continue
                backend.with_delay(
                    channel=backend._channel("realtime"),
                    identity_key=f"shopify_tracking_{backend.id}_{picking.id}",
                    description=f"{backend.name}: tracking of {picking.name}",
                )._job_shopify_tracking(picking)

    def _shopify_enqueue_fulfilments(self):
        """A done delivery of a Shopify order becomes a Shopify fulfilment."""
        bindings = self.env["retail.binding"].sudo()
        for picking in self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.sale_id
        ):
            for binding in bindings.search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "=", picking.sale_id.id),
                    ("backend_id.platform", "=", "shopify"),
                    ("backend_id.state", "=", "active"),
                ]
            ):
                backend = binding.backend_id
                if not backend._policy("shipment")._allows_export():
                    continue
                backend.with_delay(
                    channel=backend._channel("realtime"),
                    identity_key=f"shopify_fulfil_{backend.id}_{picking.id}",
                    description=f"{backend.name}: fulfil {picking.name}",
                )._job_shopify_fulfil(picking)
