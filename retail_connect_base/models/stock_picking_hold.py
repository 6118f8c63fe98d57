"""Deliveries on hold: one concept for every connector.

A connector that learns something should stop a delivery (a payment disputed
on Stripe, a fraud flag on a marketplace order...) puts the deliveries not
shipped yet on hold with a reason and a key naming what holds them (e.g.
``stripe.dispute:du_123``). A held delivery cannot be validated in Odoo, and a
connector that ships (the 3PL's shipping orders) checks ``retail_hold`` before
sending it. The connector that held it releases it (a Stripe dispute: when won, or
with the dispute's *Release deliveries*); ``_retail_hold_released`` is the
hook where shipping connectors send what waited.
"""

from odoo import fields, models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    retail_hold = fields.Boolean(
        "On hold",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="A connector holds this delivery (see the reason): it cannot be "
        "validated nor sent to a warehouse provider until released.",
    )
    retail_hold_reason = fields.Char("Hold reason", readonly=True, copy=False)
    retail_hold_key = fields.Char(
        "Held by",
        readonly=True,
        copy=False,
        help="What holds the delivery (e.g. stripe.dispute:du_123): it is "
        "released there.",
    )

    def _pre_action_done_hook(self):
        # Validate (button_validate) runs this first: a held delivery stops
        # here. A warehouse provider's own shipping advice (the goods left)
        # is recorded whatever the hold.
        held = self.filtered("retail_hold")
        if held:
            raise UserError(
                self.env._(
                    "%(pickings)s on hold: %(reason)s Release the hold where it "
                    "was set (%(key)s), or cancel the delivery.",
                    pickings=", ".join(held.mapped("name")),
                    reason="; ".join(set(held.mapped("retail_hold_reason"))),
                    key=", ".join(set(held.mapped("retail_hold_key"))),
                )
            )
        return super()._pre_action_done_hook()

    # --------------------------------------------------------- the API
    def _retail_hold(self, reason, key):
        """Hold the outgoing deliveries of ``self`` not shipped yet (neither
        done nor cancelled). A delivery already held keeps its first reason.
        Return the deliveries this call held."""
        todo = self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.state not in ("done", "cancel")
                and not p.retail_hold
            )
        )
        if todo:
            todo.write(
                {
                    "retail_hold": True,
                    "retail_hold_reason": reason,
                    "retail_hold_key": key,
                }
            )
            for picking in todo:
                picking._message_log(
                    body=self.env._("On hold: %(reason)s", reason=reason)
                )
        return todo

    def _retail_release_hold(self, key=None):
        """Release the deliveries of ``self`` held by ``key`` (any hold when
        ``key`` is None); return them."""
        held = self.filtered(
            lambda p: p.retail_hold and (key is None or p.retail_hold_key == key)
        )
        if not held:
            return held
        held.write(
            {
                "retail_hold": False,
                "retail_hold_reason": False,
                "retail_hold_key": False,
            }
        )
        for picking in held:
            picking._message_log(body=self.env._("Hold released."))
        held._retail_hold_released()
        return held

    def _retail_hold_released(self):
        """Hook: deliveries just released (shipping connectors send them)."""
        return
