"""Payouts: each automatic Stripe payout becomes one bank statement on the
Stripe clearing journal, reconciled.

``payout.paid`` and ``payout.reconciliation_completed`` are hints: the payout
is read again. Its balance transactions can be listed only once its
``reconciliation_status`` is ``completed`` ("If completed, the Balance
Transactions API may be used to list all Balance Transactions that were paid
out in this payout", https://docs.stripe.com/api/payouts/object); before
that the event waits for the next one. A manual payout
(``not_applicable``: "Stripe can't identify which transactions are included
in each payout", https://docs.stripe.com/payouts/reconciliation) is marked
not reconcilable: the event says so, and the backend's chatter too.

The statement is built by one job in the backend's bulk channel, which pages
through ``GET /v1/balance_transactions?payout=`` (100 a page,
``starting_after``) with each transaction's source expanded, under a lock on
the payout, and binds the statement to the payout id: the same payout's
events twice, or its job retried, make one statement. One statement line per
balance transaction, of its ``net``:

- a charge: its gross against the outstanding receipt of the customer
  payment registered for its PaymentIntent (``stripe_payment.py``),
  reconciled; its fee on the backend's fee account;
- a refund: against the refund payment bound to the refund
  (``stripe_refund.py``), reconciled;
- the payout itself (``type=payout``): the money leaving for the bank, on the
  company's liquidity transfer account, where the bank journal's line of the
  same amount is matched;
- a dispute's withdrawal or reinstatement: its net against the
  outstanding line of the dispute's own entry (``stripe_dispute.py``, which
  booked the amount and the fee), reconciled;
- anything else (an adjustment): its gross on the journal's suspense
  account, its fee on the fee account, and an exception listing them.

The transactions' nets must add up to the payout's amount, to the cent; if
not, the statement is still made (it is what Stripe moved) and an exception
says by how much.
"""

from odoo import Command, models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    TransientError,
    ValidationSyncError,
)

from ..lib.client import to_amount


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ------------------------------------------------------------- events
    def _stripe_payout_event(self, payout_id, event=None):
        """Queue the payout's reconciliation once Stripe can list it."""
        self.ensure_one()
        binding = self.env["retail.binding"]._lookup(
            self, "account.bank.statement", payout_id
        )
        if binding and binding._record():
            raise EventSkipped(
                "skipped_duplicate",
                f"{payout_id} is reconciled as {binding._record().name}",
            )
        payout = self._stripe_client().get(
            f"/v1/payouts/{payout_id}", {}, operation="payout.retrieve"
        )
        status = payout.get("reconciliation_status")
        if status == "not_applicable" or not payout.get("automatic"):
            note = self.env._(
                "Stripe payout %(payout)s of %(amount)s %(currency)s is a manual "
                "payout: not reconcilable, Stripe cannot say which transactions "
                "it contains. Match its bank line by hand.",
                payout=payout_id,
                amount=f"{to_amount(payout['amount'], payout['currency']):.2f}",
                currency=payout["currency"].upper(),
            )
            self._message_log(body=note)
            raise EventSkipped("skipped_policy", note)
        if payout.get("status") != "paid" or status != "completed":
            raise EventSkipped(
                "skipped_stale",
                f"{payout_id} is {payout.get('status')}, reconciliation {status}: "
                "waiting for payout.reconciliation_completed",
            )
        self.with_delay(
            channel=self._channel("bulk"),
            identity_key=f"stripe_payout_{self.id}_{payout_id}",
            description=f"{self.name}: reconcile payout {payout_id}",
        )._job_stripe_payout(payout_id)

    def _job_stripe_payout(self, payout_id):
        self.ensure_one()
        return self._run_outbound(
            "settlement",
            f"payout:{payout_id}",
            self._stripe_reconcile_payout,
            payout_id,
        )

    # ------------------------------------------------------- reconciling
    def _stripe_reconcile_payout(self, payout_id):
        """One reconciled statement of the payout (idempotent)."""
        self.ensure_one()
        bindings = self.env["retail.binding"]
        self._lock_external("account.bank.statement", payout_id)
        binding = bindings._lookup(self, "account.bank.statement", payout_id)
        if binding and binding._record():
            return f"already reconciled as {binding._record().name}"
        journal = self.stripe_journal_id
        if not journal or not self.stripe_fee_account_id:
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s needs a Stripe clearing journal and a fee account "
                    "to reconcile payouts: set them on the Stripe tab, then retry.",
                    backend=self.name,
                )
            )
        client = self._stripe_client()
        payout = client.get(f"/v1/payouts/{payout_id}", {}, operation="payout.retrieve")
        txns = list(
            client.list_all(
                "/v1/balance_transactions",
                {"payout": payout_id, "expand": ["data.source"]},
                operation="balance_transactions.list",
            )
        )
        currency = self._stripe_currency(payout["currency"], f"payout:{payout_id}")
        plan = [self._stripe_payout_line(txn, currency) for txn in txns]
        if not any(item["txn"]["type"] == "payout" for item in plan):
            # the payout's own transaction is listed with it; without it, the
            # money leaving for the bank is still one line
            plan.append(self._stripe_payout_transfer(payout, currency))
        lines = self.env["account.bank.statement.line"].create(
            [item["values"] for item in plan]
        )
        for line, item in zip(lines, plan, strict=True):
            if item["match"]:
                counterpart = line.move_id.line_ids.filtered(
                    lambda aml, acc=item["match"].account_id: aml.account_id == acc
                )
                (counterpart | item["match"]).reconcile()
        statement = self.env["account.bank.statement"].create(
            {
                "name": f"Stripe payout {payout_id}",
                "reference": payout_id,
                "journal_id": journal.id,
                "stripe_backend_id": self.id,
                "date": self._stripe_datetime(payout["arrival_date"]).date(),
                "line_ids": [Command.set(lines.ids)],
            }
        )
        bindings._bind(
            self,
            statement,
            payout_id,
            external_ref=payout_id,
            remote_updated_at=self._stripe_datetime(payout["created"]),
            extra={"transactions": len(txns), "amount": payout["amount"]},
        )
        self._stripe_payout_checks(payout, txns, plan, statement)
        return f"{statement.name}: {len(lines)} lines"

    def _stripe_payout_checks(self, payout, txns, plan, statement):
        """Exceptions for what does not add up or is left to a person."""
        _ = self.env._
        # not the job's own subject (payout:<id>): the job's success resolves
        # that one, and these are left to a person even though it succeeded
        subject = f"payout:{payout['id']}:reconciliation"
        code = payout["currency"]
        paid = sum(t["net"] for t in txns if t["type"] != "payout")
        if paid != payout["amount"]:
            self.env["retail.sync.exception"]._open_or_bump(
                self,
                domain="settlement",
                category="validation",
                subject_key=subject,
                record=statement,
                message=_(
                    "Stripe payout %(payout)s is %(amount)s %(cur)s but its balance "
                    "transactions add up to %(sum)s %(cur)s: %(diff)s %(cur)s "
                    "differ. Stripe listed %(n)s transactions; compare them with "
                    "the payout in Stripe's Dashboard (a transaction missing or "
                    "paid out twice) before matching the bank line.",
                    payout=payout["id"],
                    amount=f"{to_amount(payout['amount'], code):.2f}",
                    sum=f"{to_amount(paid, code):.2f}",
                    diff=f"{to_amount(payout['amount'] - paid, code):.2f}",
                    cur=code.upper(),
                    n=len(txns),
                ),
            )
        left = [item for item in plan if item.get("problem")]
        if left:
            self.env["retail.sync.exception"]._open_or_bump(
                self,
                domain="settlement",
                category="mapping",
                subject_key=subject,
                record=statement,
                message=_(
                    "Stripe payout %(payout)s: %(n)s statement lines are left on the "
                    "suspense account: %(lines)s. Reconcile them by hand.",
                    payout=payout["id"],
                    n=len(left),
                    lines="; ".join(item["problem"] for item in left),
                ),
            )

    def _stripe_payout_line(self, txn, currency):
        """The statement line of one balance transaction and the payment line
        it reconciles with: ``{"txn", "values", "match", "problem"}``."""
        code = txn["currency"]
        gross = to_amount(txn["amount"], code)
        fee = to_amount(txn["fee"], code)
        net = to_amount(txn["net"], code)
        source = txn.get("source")
        source_id = source.get("id") if isinstance(source, dict) else source
        kind = txn.get("reporting_category") or txn["type"]
        label = f"Stripe {kind} {source_id or txn['id']}"
        if txn["type"] == "payout":
            item = self._stripe_payout_transfer(None, currency, txn=txn)
            return item
        if (isinstance(source, dict) and source.get("object") == "dispute") or (
            str(source_id or "").startswith(("du_", "dp_"))
        ):
            return self._stripe_payout_dispute_line(txn, currency, label)
        payment = self._stripe_payout_payment(txn, source)
        match = self.env["account.move.line"]
        problem = None
        if payment:
            match = payment.move_id.line_ids.filtered(
                lambda aml: (
                    aml.account_id == payment.outstanding_account_id
                    and not aml.reconciled
                )
            )[:1]
            if not match:
                problem = f"{txn['id']} ({label}): {payment.name} has no open entry"
        else:
            problem = f"{txn['id']} ({label}, {gross:.2f})"
        account = match.account_id or self.stripe_journal_id.suspense_account_id
        partner = payment.partner_id if payment else self.env["res.partner"]
        company_currency = self.company_id.currency_id
        date = self._stripe_datetime(txn["created"]).date()

        def balance(amount):
            return currency._convert(amount, company_currency, self.company_id, date)

        move_lines = [
            {
                "name": label,
                "account_id": self.stripe_journal_id.default_account_id.id,
                "partner_id": partner.id,
                "currency_id": currency.id,
                "amount_currency": net,
                "balance": balance(net),
            },
        ]
        if match:
            # the payment's own currency (a charge in EUR settled in USD)
            move_lines.append(
                {
                    "name": label,
                    "account_id": account.id,
                    "partner_id": partner.id,
                    "currency_id": match.currency_id.id,
                    "amount_currency": -match.amount_currency,
                    "balance": -balance(gross),
                }
            )
        else:
            move_lines.append(
                {
                    "name": label,
                    "account_id": account.id,
                    "partner_id": partner.id,
                    "currency_id": currency.id,
                    "amount_currency": -gross,
                    "balance": -balance(gross),
                }
            )
        if txn["fee"]:
            move_lines.append(
                {
                    "name": f"Stripe fee {txn['id']}",
                    "account_id": self.stripe_fee_account_id.id,
                    "currency_id": currency.id,
                    "amount_currency": fee,
                    "balance": balance(fee),
                }
            )
        values = {
            "journal_id": self.stripe_journal_id.id,
            "date": date,
            "amount": net,
            "payment_ref": label,
            "ref": txn["id"],
            "partner_id": partner.id,
            "line_ids": [Command.create(vals) for vals in move_lines],
        }
        return {"txn": txn, "values": values, "match": match, "problem": problem}

    def _stripe_payout_transfer(self, payout, currency, txn=None):
        """The line of the money leaving for the bank: on the company's
        liquidity transfer account."""
        txn = txn or {
            "id": payout["balance_transaction"] or payout["id"],
            "type": "payout",
            "amount": -payout["amount"],
            "currency": payout["currency"],
            "created": payout["created"],
        }
        amount = to_amount(txn["amount"], txn["currency"])
        transfer = self.company_id.transfer_account_id
        if not transfer:
            raise ValidationSyncError(
                self.env._(
                    "The company %(company)s has no liquidity transfer account: set "
                    "it in Accounting settings, then retry.",
                    company=self.company_id.name,
                )
            )
        date = self._stripe_datetime(txn["created"]).date()
        company_amount = currency._convert(
            amount, self.company_id.currency_id, self.company_id, date
        )
        label = f"Stripe payout {txn.get('source') or txn['id']}"
        if isinstance(txn.get("source"), dict):
            label = f"Stripe payout {txn['source']['id']}"
        values = {
            "journal_id": self.stripe_journal_id.id,
            "date": date,
            "amount": amount,
            "payment_ref": label,
            "ref": txn["id"],
            "line_ids": [
                Command.create(
                    {
                        "name": label,
                        "account_id": self.stripe_journal_id.default_account_id.id,
                        "currency_id": currency.id,
                        "amount_currency": amount,
                        "balance": company_amount,
                    }
                ),
                Command.create(
                    {
                        "name": label,
                        "account_id": transfer.id,
                        "currency_id": currency.id,
                        "amount_currency": -amount,
                        "balance": -company_amount,
                    }
                ),
            ],
        }
        return {"txn": txn, "values": values, "match": None, "problem": None}

    def _stripe_payout_payment(self, txn, source):
        """The Odoo payment a charge or refund transaction settles: the payment
        bound to the charge's PaymentIntent, the refund payment bound to the
        refund; a charge or refund Odoo has not booked yet waits for it."""
        bindings = self.env["retail.binding"]
        if not isinstance(source, dict):
            return None
        key = None
        if txn["type"] in ("charge", "payment") and source.get("object") == "charge":
            key = source.get("payment_intent")
        elif txn["type"] == "refund" and source.get("object") == "refund":
            key = source["id"]
        if not key:
            return None
        binding = bindings._lookup(self, "account.payment", key)
        payment = binding._record() if binding else None
        if not payment:
            raise TransientError(
                f"Payout: {txn['type']} {source['id']} ({key}) is not booked in "
                "Odoo yet",
                seconds=60,
            )
        return payment
