"""An Amazon settlement: one settlement report (Flat File V2) as Odoo keeps
it, with its amount lines, the journal entry that books it and the bank line
of its deposit.

Imported once per settlement id (Amazon may publish the same settlement in
two reports); booked once (``amazon_settlement_booking.py``).
"""

from odoo import api, fields, models

from odoo.addons.retail_connect_base.models.common import MANAGER, check_group

from ..lib.settlement import KINDS

KIND_LABELS = {
    "principal": "Principal",
    "shipping": "Shipping",
    "tax": "Tax",
    "promotion": "Promotion",
    "fee": "Amazon fee",
    "fba_fee": "FBA fee",
    "refund": "Refund",
    "reserve": "Reserve",
    "other": "Other",
}


class AmazonSettlement(models.Model):
    _name = "amazon.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread"]
    _order = "end_date desc, id desc"

    name = fields.Char("Settlement ID", required=True, readonly=True, index=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.marketplace", readonly=True, ondelete="set null"
    )
    report_id = fields.Char("Report", readonly=True, help="Amazon's report id.")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    start_date = fields.Datetime("Period start", readonly=True)
    end_date = fields.Datetime("Period end", readonly=True)
    deposit_date = fields.Datetime(readonly=True)
    total_amount = fields.Monetary(
        "Deposit", readonly=True, help="What Amazon pays to the bank (total-amount)."
    )
    lines_total = fields.Monetary(
        compute="_compute_totals", store=True, help="The sum of the amount lines."
    )
    difference = fields.Monetary(
        compute="_compute_totals",
        store=True,
        help="Deposit minus the sum of the lines: zero when the report adds up.",
    )
    state = fields.Selection(
        [
            ("imported", "Imported"),
            ("booked", "Booked"),
            ("deposited", "Deposit matched"),
            ("mismatch", "Deposit differs"),
        ],
        default="imported",
        required=True,
        readonly=True,
        tracking=True,
    )
    move_id = fields.Many2one(
        "account.move", "Journal entry", readonly=True, copy=False
    )
    bank_line_id = fields.Many2one(
        "account.bank.statement.line", "Bank line", readonly=True, copy=False
    )
    deposit_difference = fields.Monetary(
        readonly=True, help="Bank line minus the deposit, when they differ."
    )
    line_ids = fields.One2many("amazon.settlement.line", "settlement_id", "Lines")
    line_count = fields.Integer(compute="_compute_totals", store=True)

    _sql_constraints = [
        (
            "settlement_uniq",
            "UNIQUE(backend_id, name)",
            "A settlement is imported once per backend.",
        )
    ]

    @api.depends("line_ids.amount", "total_amount")
    def _compute_totals(self):
        for settlement in self:
            total = sum(settlement.line_ids.mapped("amount"))
            settlement.lines_total = total
            settlement.difference = settlement.currency_id.round(
                settlement.total_amount - total
            )
            settlement.line_count = len(settlement.line_ids)

    def action_book(self):
        """Book the settlement now (its journal entry; once)."""
        check_group(self.env, MANAGER)
        for settlement in self.filtered(lambda s: not s.move_id):
            settlement.backend_id._amazon_enqueue_booking(settlement)
        return True

    def action_match_deposit(self):
        """Look for the bank line of the deposit again."""
        check_group(self.env, MANAGER)
        for settlement in self.filtered(lambda s: s.move_id and s.state != "deposited"):
            settlement.backend_id._amazon_match_deposit(settlement)
        return True


class AmazonSettlementLine(models.Model):
    _name = "amazon.settlement.line"
    _description = "Amazon Settlement Line"
    _order = "settlement_id, sequence, id"

    settlement_id = fields.Many2one(
        "amazon.settlement", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="settlement_id.company_id", store=True)
    currency_id = fields.Many2one(related="settlement_id.currency_id")
    sequence = fields.Integer()
    transaction_type = fields.Char()
    order_ref = fields.Char("Amazon order", index=True)
    sale_order_id = fields.Many2one("sale.order", ondelete="set null")
    adjustment_ref = fields.Char("Adjustment")
    amount_type = fields.Char()
    description = fields.Char()
    kind = fields.Selection(
        [(kind, KIND_LABELS[kind]) for kind in KINDS], required=True
    )
    amount = fields.Monetary()
    sku = fields.Char("SKU")
    quantity = fields.Integer()
    fulfillment = fields.Char(help="AFN: fulfilled by Amazon; MFN: by the seller.")
    posted_date = fields.Datetime()
