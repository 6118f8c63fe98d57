"""Settlements booked: one journal entry per settlement, reconciled.

The entry (on the backend's settlement journal, in the settlement's
currency, dated on the deposit) has, per order, the buyer's money Amazon
collected (principal, shipping, tax) credited to the customer's receivable
and reconciled with the order's invoice; the seller's promotions, Amazon's
fees, the FBA fees, the refunds and the reserve (withheld: debit; released:
credit) each on their account; and the deposit, debited to the deposit
account (default: the company's liquidity transfer account), where the bank
line of the deposit is matched. Amounts are signed from the seller's side
(positive: Amazon owes the seller): a line of ``a`` books ``-a``.

- An order of the settlement without a posted invoice is invoiced first when
  the backend says so (``amazon_settlement_invoice``, on by default); else its
  receivable stays open on the customer for the invoice to come.
- An order the report names but Odoo does not have stops the booking with an
  exception naming it (import it, then Retry): nothing is booked half.
- The report's lines must add up to its total to the cent; if not, the
  difference goes to the journal's suspense account and an exception says by
  how much.
- The deposit is matched with the bank line of the deposit journal that
  names the settlement id (else of the same amount, within a week of the
  deposit date): the same amount is reconciled; another amount opens an
  exception saying by how much the bank and Amazon differ.

Booked once: under a lock on the settlement, a settlement with an entry is
not booked again (the job retried, a second click).
"""

from collections import defaultdict
from datetime import timedelta

from odoo import Command, fields, models

from odoo.addons.retail_connect_base.lib.errors import ValidationSyncError

from .amazon_settlement import KIND_LABELS

# kind -> backend field of its account (the buyer's money is the receivable)
ACCOUNT_FIELDS = {
    "promotion": "amazon_promotion_account_id",
    "fee": "amazon_fee_account_id",
    "fba_fee": "amazon_fba_fee_account_id",
    "refund": "amazon_refund_account_id",
    "reserve": "amazon_reserve_account_id",
    "other": "amazon_fee_account_id",
}
RECEIVABLE_KINDS = ("principal", "shipping", "tax")
# default accounts made at the first booking: field -> (name, type, reconcile)
DEFAULT_ACCOUNTS = {
    "amazon_fee_account_id": ("Amazon selling fees", "expense", False),
    "amazon_fba_fee_account_id": ("Amazon FBA fees", "expense", False),
    "amazon_promotion_account_id": ("Amazon promotions", "expense", False),
    "amazon_refund_account_id": ("Amazon refunds", "income", False),
    "amazon_reserve_account_id": ("Amazon reserve", "asset_current", True),
}
DEPOSIT_WINDOW_DAYS = 7


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    amazon_settlement_journal_id = fields.Many2one(
        "account.journal",
        "Settlement journal",
        domain=[("type", "=", "general")],
        help="Journal of the settlements' entries; empty: 'Amazon settlements' "
        "is made at the first one.",
    )
    amazon_deposit_journal_id = fields.Many2one(
        "account.journal",
        "Deposit bank journal",
        domain=[("type", "=", "bank")],
        help="The bank journal Amazon pays the deposits to: its bank lines are "
        "matched with the settlements.",
    )
    amazon_deposit_account_id = fields.Many2one(
        "account.account",
        "Deposits in transit",
        help="Holds a deposit until its bank line is matched; empty: the "
        "company's liquidity transfer account.",
    )
    amazon_fee_account_id = fields.Many2one("account.account", "Amazon fees account")
    amazon_fba_fee_account_id = fields.Many2one("account.account", "FBA fees account")
    amazon_promotion_account_id = fields.Many2one(
        "account.account", "Promotions account"
    )
    amazon_refund_account_id = fields.Many2one(
        "account.account",
        "Refunds account",
        help="The buyer's money Amazon paid back for a refund.",
    )
    amazon_reserve_account_id = fields.Many2one(
        "account.account",
        "Reserve account",
        help="What Amazon withholds (reserve) until a later settlement.",
    )
    amazon_settlement_invoice = fields.Boolean(
        "Invoice settled orders",
        default=True,
        help="An order paid in a settlement without a posted invoice is "
        "invoiced and its invoice reconciled; off: its receivable stays open "
        "for the invoice you make.",
    )

    # -------------------------------------------------------------- the job
    def _job_amazon_book_settlement(self, settlement):
        self.ensure_one()
        return self._run_outbound(
            "settlement",
            f"settlement:{settlement.name}",
            self._amazon_book_settlement,
            settlement,
            record=settlement,
        )

    def _amazon_book_settlement(self, settlement):
        """Book a settlement's journal entry (once) and match its deposit."""
        self.ensure_one()
        self._lock_external("amazon.settlement.move", settlement.name)
        settlement.invalidate_recordset(["move_id"])
        if settlement.move_id:
            return f"already booked as {settlement.move_id.name}"
        currency = settlement.currency_id
        subject = f"settlement:{settlement.name}"
        sales = self._amazon_settlement_sales(settlement, subject)
        accounts = self._amazon_settlement_accounts()
        date = (settlement.deposit_date or settlement.end_date).date()
        company = self.company_id

        def balance(amount):
            return currency._convert(amount, company.currency_id, company, date)

        lines, to_reconcile = [], {}
        by_order = defaultdict(float)
        for line in settlement.line_ids:
            if line.kind in RECEIVABLE_KINDS and line.order_ref:
                by_order[(line.order_ref, line.kind)] += line.amount
        for (order_ref, kind), amount in sorted(by_order.items()):
            if currency.is_zero(amount):
                continue
            sale = sales[order_ref]
            partner = sale.partner_invoice_id.commercial_partner_id
            account = partner.with_company(company).property_account_receivable_id
            lines.append(
                {
                    "name": f"{order_ref}: {KIND_LABELS[kind]}",
                    "account_id": account.id,
                    "partner_id": partner.id,
                    "amount_currency": -amount,
                    "order": order_ref,
                }
            )
        grouped = defaultdict(float)
        for line in settlement.line_ids:
            if line.kind in RECEIVABLE_KINDS and line.order_ref:
                continue
            kind = line.kind if line.kind in ACCOUNT_FIELDS else "other"
            if kind in RECEIVABLE_KINDS:  # the buyer's money of no order
                kind = "other"
            label = line.order_ref or line.description
            if kind == "reserve":
                label = line.description
            grouped[(kind, label, line.description)] += line.amount
        for (kind, label, description), amount in sorted(grouped.items()):
            if currency.is_zero(amount):
                continue
            partner = sales[label].partner_invoice_id if label in sales else None
            lines.append(
                {
                    "name": f"{label}: {KIND_LABELS[kind]} ({description})"
                    if label != description
                    else f"{KIND_LABELS[kind]}: {description}",
                    "account_id": accounts[ACCOUNT_FIELDS[kind]].id,
                    "partner_id": partner.commercial_partner_id.id
                    if partner
                    else False,
                    "amount_currency": -amount,
                }
            )
        difference = currency.round(settlement.total_amount - settlement.lines_total)
        if not currency.is_zero(difference):
            lines.append(
                {
                    "name": self.env._(
                        "Settlement %(id)s: deposit and lines differ",
                        id=settlement.name,
                    ),
                    "account_id": accounts["suspense"].id,
                    "amount_currency": -difference,
                }
            )
        move_lines = []
        for vals in lines:
            vals = dict(vals)
            order_ref = vals.pop("order", None)
            vals.update(
                currency_id=currency.id, balance=balance(vals["amount_currency"])
            )
            move_lines.append(vals)
            if order_ref:
                to_reconcile.setdefault(order_ref, []).append(len(move_lines) - 1)
        total_balance = -sum(vals["balance"] for vals in move_lines)
        move_lines.insert(
            0,
            {
                "name": self.env._(
                    "Amazon deposit of settlement %(id)s", id=settlement.name
                ),
                "account_id": accounts["deposit"].id,
                "currency_id": currency.id,
                "amount_currency": settlement.total_amount,
                "balance": company.currency_id.round(total_balance),
            },
        )
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": accounts["journal"].id,
                    "date": date,
                    "ref": self.env._("Amazon settlement %(id)s", id=settlement.name),
                    "currency_id": currency.id,
                    "line_ids": [Command.create(vals) for vals in move_lines],
                }
            )
        )
        move.action_post()
        settlement.write({"move_id": move.id, "state": "booked"})
        self._amazon_reconcile_orders(settlement, move, sales, to_reconcile)
        self._amazon_settlement_checks(settlement, difference)
        self._amazon_match_deposit(settlement)
        return f"{move.name}: {len(move_lines)} lines"

    # -------------------------------------------------------------- helpers
    def _amazon_settlement_sales(self, settlement, subject):
        """{order ref: sale order} of every order the settlement names."""
        bindings = self.env["retail.binding"]
        sales, missing = {}, []
        for order_ref in sorted(set(settlement.line_ids.mapped("order_ref")) - {False}):
            binding = bindings._lookup(self, "sale.order", order_ref)
            sale = binding._record() if binding else None
            if sale:
                sales[order_ref] = sale
            else:
                missing.append(order_ref)
        if missing:
            raise ValidationSyncError(
                self.env._(
                    "Settlement %(id)s pays orders Odoo does not have: %(orders)s. "
                    "Import them (their marketplace on the backend, their SKUs "
                    "known), then press Retry: the settlement is booked whole.",
                    id=settlement.name,
                    orders=", ".join(missing),
                ),
                subject_key=subject,
                fix={"orders": missing},
            )
        for line in settlement.line_ids.filtered(
            lambda item: item.order_ref and not item.sale_order_id
        ):
            line.sale_order_id = sales[line.order_ref]
        return sales

    def _amazon_settlement_accounts(self):
        """The journal and accounts of the entries (defaults made once)."""
        company = self.company_id
        backend = self.sudo()
        if not backend.amazon_settlement_journal_id:
            journal = self.env["account.journal"].search(
                [("code", "=", "AMZS"), ("company_id", "=", company.id)], limit=1
            ) or self.env["account.journal"].sudo().create(
                {
                    "name": self.env._("Amazon settlements"),
                    "code": "AMZS",
                    "type": "general",
                    "company_id": company.id,
                }
            )
            backend.amazon_settlement_journal_id = journal
        for field, (name, kind, reconcile) in DEFAULT_ACCOUNTS.items():
            if backend[field]:
                continue
            code = f"AMZ{list(DEFAULT_ACCOUNTS).index(field) + 1}{self.id:03d}"
            account = self.env["account.account"].search(
                [("code", "=", code), ("company_ids", "in", company.id)], limit=1
            ) or self.env["account.account"].sudo().with_company(company).create(
                {
                    "name": self.env._(name),
                    "code": code,
                    "account_type": kind,
                    "reconcile": reconcile,
                }
            )
            backend[field] = account
        deposit = backend.amazon_deposit_account_id or company.transfer_account_id
        suspense = (
            backend.amazon_settlement_journal_id.suspense_account_id
            or company.account_journal_suspense_account_id
        )
        if not deposit or not suspense:
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s needs a deposit account (or the company's "
                    "liquidity transfer account) and a suspense account to book "
                    "settlements: set them (Accounting settings, or the backend's "
                    "Settlements tab), then press Retry.",
                    backend=self.name,
                )
            )
        if not deposit.reconcile:
            deposit.sudo().reconcile = True
        accounts = {field: backend[field] for field in DEFAULT_ACCOUNTS}
        accounts.update(
            journal=backend.amazon_settlement_journal_id,
            deposit=deposit,
            suspense=suspense,
        )
        return accounts

    def _amazon_order_invoices(self, sale):
        """The posted customer invoices of an order; made first when the
        backend invoices settled orders and there are none."""
        invoices = sale.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
        )
        if invoices or not self.amazon_settlement_invoice:
            return invoices
        drafts = sale.invoice_ids.filtered(
            lambda m: m.state == "draft" and m.move_type == "out_invoice"
        )
        if not drafts and sale.invoice_status == "to invoice":
            drafts = sale.with_company(self.company_id)._create_invoices()
        drafts.action_post()
        return drafts

    def _amazon_reconcile_orders(self, settlement, move, sales, to_reconcile):
        """Each order's receivable lines with its invoices' open ones."""
        # the lines are made in the values' order, the deposit's first
        ordered = move.line_ids.sorted("id")
        problems = []
        for order_ref, indexes in to_reconcile.items():
            sale = sales[order_ref]
            paid = self.env["account.move.line"].browse(
                [ordered[index + 1].id for index in indexes]
            )
            invoices = self._amazon_order_invoices(sale)
            open_lines = invoices.line_ids.filtered(
                lambda aml, acc=paid[:1].account_id: (
                    aml.account_id == acc and not aml.reconciled
                )
            )
            if not open_lines:
                problems.append(
                    self.env._("%(order)s has no open invoice", order=order_ref)
                )
                continue
            (paid | open_lines).reconcile()
        if problems:
            self.env["retail.sync.exception"]._open_or_bump(
                self,
                domain="settlement",
                category="mapping",
                subject_key=f"settlement-invoices:{settlement.name}",
                record=settlement,
                message=self.env._(
                    "Settlement %(id)s is booked, but the Amazon payment of some "
                    "orders stays open on the customer: %(problems)s. Invoice "
                    "them, then reconcile the customer's receivable with entry "
                    "%(move)s.",
                    id=settlement.name,
                    problems="; ".join(problems),
                    move=move.name,
                ),
            )

    def _amazon_settlement_checks(self, settlement, difference):
        if settlement.currency_id.is_zero(difference):
            return
        self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="settlement",
            category="validation",
            subject_key=f"settlement-total:{settlement.name}",
            record=settlement,
            message=self.env._(
                "Amazon settlement %(id)s deposits %(total)s %(cur)s but its lines "
                "add up to %(sum)s %(cur)s: %(diff)s %(cur)s differ, booked on the "
                "suspense account of %(move)s. Compare the report in Seller "
                "Central (Reports › Payments) and move the difference to the "
                "right account.",
                id=settlement.name,
                total=f"{settlement.total_amount:.2f}",
                sum=f"{settlement.lines_total:.2f}",
                diff=f"{difference:.2f}",
                cur=settlement.currency_id.name,
                move=settlement.move_id.name,
            ),
        )

    # ------------------------------------------------------------- deposits
    def _amazon_match_deposits(self):
        """Look for the bank lines of the booked settlements not matched."""
        settlements = self.env["amazon.settlement"].search(
            [
                ("backend_id", "in", self.ids),
                ("state", "in", ("booked", "mismatch")),
                ("move_id", "!=", False),
            ]
        )
        for settlement in settlements:
            settlement.backend_id._amazon_match_deposit(settlement)
        return settlements

    def _amazon_match_deposit(self, settlement):
        """Match the deposit with its bank line: reconciled when the amounts
        agree to the cent, an exception saying by how much when not."""
        self.ensure_one()
        journal = self.amazon_deposit_journal_id
        if not journal or not settlement.move_id:
            return False
        currency = settlement.currency_id
        bank_lines = self.env["account.bank.statement.line"].search(
            [
                ("journal_id", "=", journal.id),
                ("is_reconciled", "=", False),
                "|",
                ("payment_ref", "ilike", settlement.name),
                ("ref", "ilike", settlement.name),
            ],
            limit=1,
        )
        if not bank_lines and settlement.deposit_date:
            day = settlement.deposit_date.date()
            window = timedelta(days=DEPOSIT_WINDOW_DAYS)
            candidates = self.env["account.bank.statement.line"].search(
                [
                    ("journal_id", "=", journal.id),
                    ("is_reconciled", "=", False),
                    ("date", ">=", day - window),
                    ("date", "<=", day + window),
                ]
            )
            bank_lines = candidates.filtered(
                lambda bl: (
                    not currency.compare_amounts(
                        bl.amount_currency if bl.foreign_currency_id else bl.amount,
                        settlement.total_amount,
                    )
                )
            )[:1]
        if not bank_lines:
            return False
        bank_line = bank_lines
        amount = (
            bank_line.amount_currency
            if bank_line.foreign_currency_id == currency
            else bank_line.amount
        )
        diff = currency.round(amount - settlement.total_amount)
        if not currency.is_zero(diff):
            settlement.write(
                {
                    "state": "mismatch",
                    "bank_line_id": bank_line.id,
                    "deposit_difference": diff,
                }
            )
            self.env["retail.sync.exception"]._open_or_bump(
                self,
                domain="settlement",
                category="validation",
                subject_key=f"deposit:{settlement.name}",
                record=settlement,
                message=self.env._(
                    "The bank received %(bank)s %(cur)s for Amazon settlement "
                    "%(id)s (bank line %(line)s of %(date)s), Amazon's deposit is "
                    "%(total)s %(cur)s: %(diff)s %(cur)s differ. Check the "
                    "deposit in Seller Central (Payments › Statement view) and "
                    "with the bank (a bank charge, a conversion, a deposit "
                    "split), then book the difference and reconcile the bank "
                    "line with %(move)s by hand.",
                    bank=f"{amount:.2f}",
                    cur=currency.name,
                    id=settlement.name,
                    line=bank_line.payment_ref or bank_line.id,
                    date=bank_line.date,
                    total=f"{settlement.total_amount:.2f}",
                    diff=f"{diff:+.2f}",
                    move=settlement.move_id.name,
                ),
            )
            return bank_line
        deposit = settlement.move_id.line_ids.filtered(
            lambda aml: (
                aml.account_id.reconcile
                and not aml.reconciled
                and aml.account_id == self._amazon_deposit_account()
            )
        )
        bank_line.with_context(force_delete=True, skip_readonly_check=True).write(
            {
                "line_ids": [Command.clear()]
                + [
                    Command.create(vals)
                    for vals in bank_line._prepare_move_line_default_vals(
                        counterpart_account_id=deposit.account_id.id
                    )
                ]
            }
        )
        _liquidity, _suspense, others = bank_line._seek_for_lines()
        (
            others.filtered(lambda aml: aml.account_id == deposit.account_id) | deposit
        ).reconcile()
        settlement.write(
            {
                "state": "deposited",
                "bank_line_id": bank_line.id,
                "deposit_difference": 0,
            }
        )
        self.env["retail.sync.exception"].sudo().search(
            [
                ("backend_id", "=", self.id),
                ("subject_key", "=", f"deposit:{settlement.name}"),
                ("state", "in", ("new", "in_progress")),
            ]
        )._resolve(
            self.env._(
                "Resolved: the deposit matches bank line %(line)s.",
                line=bank_line.payment_ref or bank_line.id,
            )
        )
        return bank_line

    def _amazon_deposit_account(self):
        return self.amazon_deposit_account_id or self.company_id.transfer_account_id
