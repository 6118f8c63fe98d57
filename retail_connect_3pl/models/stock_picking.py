from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _threepl_release(self):
        """Deliveries now ready in a 3PL-managed warehouse: shipping orders."""
        backends = self.env["retail.backend"]
        for picking in self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.state == "assigned"
                and not p.retail_hold
            )
        ):
            warehouse = picking.picking_type_id.warehouse_id
            for backend in backends._threepl_backends_for(warehouse):
                backend._threepl_release(picking)

    def _retail_hold_released(self):
        """A hold lifted (base): send what waited for it."""
        result = super()._retail_hold_released()
        backends = self.env["retail.backend"]
        for picking in self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state == "assigned"
        ):
            warehouse = picking.picking_type_id.warehouse_id
            for backend in backends._threepl_backends_for(warehouse):
                waiting = backend._threepl_order_message(picking)
                if waiting and waiting.state == "draft":
                    backend._threepl_enqueue(waiting)
                else:
                    backend._threepl_release(picking)
        return result

    def _threepl_cancelled(self):
        """Deliveries cancelled (by hand or with their sale order): cancel
        their orders at the 3PL."""
        backends = self.env["retail.backend"]
        for picking in self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state == "cancel"
        ):
            warehouse = picking.picking_type_id.warehouse_id
            for backend in backends._threepl_backends_for(warehouse):
                backend._threepl_cancel(picking)


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        self.picking_id._threepl_release()
        return result

    def _action_cancel(self):
        pickings = self.picking_id
        result = super()._action_cancel()
        pickings._threepl_cancelled()
        return result
