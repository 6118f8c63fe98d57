from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        self._amazon_enqueue_shipments()
        return result

    def _amazon_enqueue_shipments(self):
        """A done delivery of an Amazon order is confirmed to Amazon (the
        job skips orders Amazon fulfils itself)."""
        bindings = self.env["retail.binding"].sudo()
        for picking in self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.sale_id
        ):
            for binding in bindings.search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "=", picking.sale_id.id),
                    ("backend_id.platform", "=", "amazon"),
                    ("backend_id.state", "=", "active"),
                ]
            ):
                if (binding.extra or {}).get("fulfilled_by") == "AMAZON":
                    continue
                backend = binding.backend_id
                if not backend._policy("shipment")._allows_export():
                    continue
                backend.with_delay(
                    channel=backend._channel("realtime"),
                    identity_key=f"amazon_shipment_{backend.id}_{picking.id}",
                    description=f"{backend.name}: confirm shipment {picking.name}",
                )._job_amazon_confirm_shipment(picking)
