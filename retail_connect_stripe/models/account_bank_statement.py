from odoo import fields, models


class AccountBankStatement(models.Model):
    """A Stripe payout's statement (``stripe_payout.py``), as a person reads
    it: which account paid it out, how much left for the bank, and whether
    every line is matched (Odoo Community has no statement form of its own)."""

    _inherit = "account.bank.statement"

    stripe_backend_id = fields.Many2one(
        "retail.backend",
        "Stripe account",
        readonly=True,
        index="btree_not_null",
        help="The Stripe account whose automatic payout this statement is.",
    )
    stripe_payout_amount = fields.Monetary(
        "Paid out",
        compute="_compute_stripe_reconciled",
        currency_field="currency_id",
        help="What the payout sent to the bank account.",
    )
    stripe_unreconciled_count = fields.Integer(
        "Lines to check",
        compute="_compute_stripe_reconciled",
        help="Lines left on the suspense account: a transaction Odoo could not "
        "match with a payment.",
    )
    stripe_reconciled = fields.Boolean(
        "Reconciled",
        compute="_compute_stripe_reconciled",
        help="Every line matched and the transactions add up to the payout, "
        "to the cent.",
    )

    stripe_exception_ids = fields.Many2many(
        "retail.sync.exception",
        string="Sync exceptions",
        compute="_compute_stripe_exception_ids",
        groups="retail_connect_base.group_user",
        help="What the reconciliation left to a person: lines on the suspense "
        "account, transactions that do not add up to the payout.",
    )

    def _compute_stripe_exception_ids(self):
        exceptions = self.env["retail.sync.exception"].search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        )
        for statement in self:
            statement.stripe_exception_ids = exceptions.filtered(
                lambda exc, st=statement: exc.res_id == st.id
            )

    def _compute_stripe_reconciled(self):
        for statement in self:
            transfer = statement.company_id.transfer_account_id
            lines = statement.line_ids
            payout = lines.filtered(
                lambda line, acc=transfer: acc in line.move_id.line_ids.account_id
            )
            currency = statement.currency_id
            open_lines = lines.filtered(lambda line: not line.is_reconciled)
            statement.stripe_payout_amount = -sum(payout.mapped("amount"))
            statement.stripe_unreconciled_count = len(open_lines)
            # the transactions' nets add up to the payout: the lines sum to 0
            statement.stripe_reconciled = bool(
                statement.stripe_backend_id
                and payout
                and not open_lines
                and currency.is_zero(sum(lines.mapped("amount")))
            )
