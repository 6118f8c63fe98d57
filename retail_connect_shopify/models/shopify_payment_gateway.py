from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ShopifyPaymentGateway(models.Model):
    """A payment gateway as Shopify names it on transactions
    (``OrderTransaction.gateway``: ``shopify_payments``, ``paypal``,
    ``manual``, ``gift_card``...) and where Odoo books its money."""

    _name = "shopify.payment.gateway"
    _description = "Shopify Payment Gateway"
    _order = "backend_id, name"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    name = fields.Char(
        "Gateway",
        required=True,
        help="Exactly as Shopify reports it on the order's transactions, "
        "e.g. shopify_payments, paypal, manual, gift_card.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        "Payment journal",
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        help="The journal the payments and refunds of this gateway are booked in.",
    )
    payment_method_line_id = fields.Many2one(
        "account.payment.method.line",
        "Payment method",
        domain="[('journal_id', '=', journal_id), ('payment_type', '=', 'inbound')]",
        help="Incoming payment method of the journal (default: its first). "
        "Refunds use the journal's first outgoing method.",
    )
    booked_by_id = fields.Many2one(
        "retail.backend",
        "Booked by",
        domain="[('company_id', '=', company_id), ('platform', '!=', 'shopify')]",
        help="Another backend that books these payments itself (e.g. Stripe): "
        "while its Payments policy imports, this backend books nothing of "
        "this gateway.",
    )

    _sql_constraints = [
        ("name_uniq", "UNIQUE(backend_id, name)", "A gateway is mapped once.")
    ]

    @api.constrains("journal_id", "booked_by_id", "backend_id")
    def _check_journal(self):
        for row in self:
            company = row.backend_id.company_id
            if row.journal_id and row.journal_id.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The journal of gateway %(gateway)s belongs to another "
                        "company.",
                        gateway=row.name,
                    )
                )
            if row.booked_by_id == row.backend_id:
                raise ValidationError(
                    self.env._("A gateway cannot be booked by its own backend.")
                )
