from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.models.common import USER, check_group


class StripeAssignPayment(models.TransientModel):
    """Fix of an unmatched Stripe payment: say what it pays, then retry.

    The assignment is kept on the exception (``fix_data['assign']``); the
    retried event reads the PaymentIntent again and registers it there.
    """

    _name = "stripe.assign.payment"
    _description = "Assign a Stripe payment"

    exception_id = fields.Many2one("retail.sync.exception", required=True)
    payment_intent = fields.Char(compute="_compute_payment_intent")
    sale_order_id = fields.Many2one("sale.order", "Order")
    invoice_id = fields.Many2one(
        "account.move",
        "Invoice",
        domain=[("move_type", "=", "out_invoice"), ("state", "=", "posted")],
    )
    partner_id = fields.Many2one(
        "res.partner", "Customer", help="No order or invoice: an outstanding payment."
    )

    @api.depends("exception_id")
    def _compute_payment_intent(self):
        for wizard in self:
            wizard.payment_intent = (wizard.exception_id.fix_data or {}).get(
                "payment_intent"
            )

    def action_assign_and_retry(self):
        check_group(self.env, USER)
        self.ensure_one()
        exception = self.exception_id.sudo()
        fix = exception.fix_data or {}
        if not fix.get("payment_intent"):
            raise UserError(self.env._("This exception is not about a payment."))
        targets = [
            t for t in (self.sale_order_id, self.invoice_id, self.partner_id) if t
        ]
        if len(targets) != 1:
            raise UserError(self.env._("Pick one order, one invoice or one customer."))
        target = targets[0]
        target.check_access("read")
        exception.fix_data = dict(fix, assign={"model": target._name, "id": target.id})
        exception._message_log(
            body=self.env._(
                "Payment %(intent)s assigned to %(target)s.",
                intent=fix["payment_intent"],
                target=target.display_name,
            )
        )
        self.exception_id.action_retry()
        return {"type": "ir.actions.act_window_close"}
