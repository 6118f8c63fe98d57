"""Refund outcomes, disputes and payouts: the money that leaves the balance
or comes back (a mixin of :class:`~.ledger.Ledger`; see its docstring for the
documentation followed).
"""

from __future__ import annotations

from decimal import Decimal

from ..toolkit import ApiError

DAY = 86400


def fail(
    status, message, *, type="invalid_request_error", code=None, param=None, **extra
):
    raise ApiError(status, code or "", message, type=type, param=param, **extra)


class Settlement:
    # ------------------------------------------------------ refund outcomes
    def update_refund(self, ident: str, status: str, failure_reason=None) -> dict:
        """A refund's later outcome. Refund ``status``: "For credit card
        refunds, this can be `pending`, `succeeded`, or `failed`" (the
        contract); a pending refund settles (``succeeded``) or fails, and a
        succeeded one can still fail later, e.g. on an expired card. Each
        change sends ``charge.refund.updated`` ("Occurs whenever a refund is
        updated, on selected payment methods") and ``refund.updated``, with
        ``previous_attributes`` (a real payload: ``status`` succeeded ->
        failed, ``failure_balance_transaction`` and ``failure_reason`` null
        before). A failure returns the money to the balance:
        ``failure_balance_transaction`` "describes the adjustment made on your
        account balance that reverses the initial balance transaction" (the
        contract), ``type=adjustment`` with ``reporting_category=
        refund_failure`` ("separates balance transactions with
        type=adjustment into several different categories, including
        disputes, dispute reversals, and failed refunds",
        https://docs.stripe.com/reports/reporting-categories), and the charge's
        ``amount_refunded`` drops by the refund (sandbox assumption)."""
        refund = self.get("refund", ident)
        allowed = {"pending": ("succeeded", "failed"), "succeeded": ("failed",)}
        if status not in allowed.get(refund["status"], ()):
            raise ValueError(f"refund {ident} cannot go {refund['status']} -> {status}")
        previous = {"status": refund["status"]}
        if refund.get("pending_reason") is not None:
            previous["pending_reason"] = refund["pending_reason"]
            refund["pending_reason"] = None
        if status == "failed":
            previous["failure_balance_transaction"] = None
            previous["failure_reason"] = None
            original = self.objects[refund["balance_transaction"]]
            rate = original["exchange_rate"]
            txn = self.balance_transaction(
                amount=-original["amount"],
                type_="adjustment",
                category="refund_failure",
                source=refund["id"],
                rate=None if rate is None else Decimal(str(rate)),
                description="REFUND FAILURE",
            )
            refund["failure_balance_transaction"] = txn["id"]
            refund["failure_reason"] = failure_reason or "unknown"
            charge = self.objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        refund["status"] = status
        self.emit("charge.refund.updated", refund, previous)
        self.emit("refund.updated", refund, dict(previous))
        return refund

    # ------------------------------------------------------------ disputes
    def open_dispute(
        self, *, charge: str, amount=None, reason="fraudulent", respond_within=7 * DAY
    ) -> dict:
        """The cardholder disputes: funds and the dispute fee are withdrawn
        (``charge.dispute.created``, ``charge.dispute.funds_withdrawn``);
        ``evidence_details.due_by`` is the response deadline
        (https://docs.stripe.com/disputes/how-disputes-work)."""
        ch = self.get("charge", charge, "charge")
        if ch["disputed"]:
            fail(400, f"Charge {ch['id']} is already disputed.", param="charge")
        amount = ch["amount"] if amount is None else int(amount)
        original = self.objects[ch["balance_transaction"]]
        rate = (
            None
            if original["exchange_rate"] is None
            else Decimal(str(original["exchange_rate"]))
        )
        dispute = self.add(
            {
                "id": self.new_id("dispute"),
                "object": "dispute",
                "amount": amount,
                "balance_transactions": [],
                "charge": ch["id"],
                "created": self.now,
                "currency": ch["currency"],
                "evidence": {},
                "evidence_details": {
                    "due_by": self.now + int(respond_within),
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": ch["payment_intent"],
                "reason": reason,
                "status": "needs_response",
            }
        )
        txn = self.balance_transaction(
            amount=-self.settle(amount, rate),
            type_="adjustment",
            category="dispute",
            source=dispute["id"],
            rate=rate,
            fee=int(self.sb.dispute_fee),
            fee_description="Dispute fee",
            description=f"Chargeback withdrawal for {ch['id']}",
        )
        dispute["balance_transactions"].append(self.render(txn))
        ch["disputed"] = True
        self.emit("charge.dispute.created", dispute)
        self.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def update_dispute(self, ident: str, evidence=None, submit=True) -> dict:
        """Evidence for the bank (https://docs.stripe.com/api/disputes/update):
        ``submit`` false stages it ("Staged evidence is visible in the API and
        Dashboard, and can be submitted to the bank by making another request
        with this attribute set to true (the default)", the contract);
        submitted, the dispute goes ``under_review`` and
        ``charge.dispute.updated`` says so, with the previous status. Evidence
        is submitted once: a dispute under review or closed takes no more
        ("you can only submit evidence once", https://docs.stripe.com/
        disputes/responding)."""
        dispute = self.get("dispute", ident, "dispute")
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            fail(
                400,
                f"This dispute is {dispute['status']}: it cannot be updated.",
                param="evidence",
            )
        dispute["evidence"].update(evidence or {})
        if submit:
            previous = {"status": dispute["status"]}
            dispute["status"] = dispute["status"].replace(
                "needs_response", "under_review"
            )
            details = dispute["evidence_details"]
            details["has_evidence"] = True
            details["submission_count"] += 1
            self.emit("charge.dispute.updated", dispute, previous)
        return dispute

    def close_dispute(self, ident: str, outcome: str) -> dict:
        """``won``: funds reinstated (``charge.dispute.funds_reinstated``);
        ``lost`` (or accepted through ``POST /v1/disputes/:id/close``): the
        withdrawal stands. Either way ``charge.dispute.closed`` ("Occurs when
        a dispute is closed and the dispute status changes to lost,
        warning_closed, or won", https://docs.stripe.com/api/events/types),
        without ``previous_attributes`` (only ``*.updated`` events have
        them)."""
        dispute = self.get("dispute", ident)
        if outcome not in ("won", "lost"):
            raise ValueError("outcome must be won or lost")
        if dispute["status"] in ("won", "lost"):
            fail(400, f"The dispute {ident} is already closed.", param="dispute")
        dispute["status"] = outcome
        if outcome == "won":
            withdrawal = dispute["balance_transactions"][0]
            fee_back = (
                int(self.sb.dispute_fee) if self.sb.dispute_fee_refunded_on_win else 0
            )
            rate = withdrawal["exchange_rate"]
            txn = self.balance_transaction(
                amount=-withdrawal["amount"],
                type_="adjustment",
                category="dispute_reversal",
                source=dispute["id"],
                rate=None if rate is None else Decimal(str(rate)),
                fee=-fee_back,
                fee_description="Dispute fee refund" if fee_back else None,
                description=f"Chargeback reversal for {dispute['charge']}",
            )
            dispute["balance_transactions"].append(self.render(txn))
            self.emit("charge.dispute.funds_reinstated", dispute)
        self.emit("charge.dispute.closed", dispute)
        return dispute

    # ------------------------------------------------------------- payouts
    def balance(self) -> dict:
        available = pending = 0
        for txn in self.all("balance_transaction"):
            if txn["available_on"] <= self.now:
                available += txn["net"]
            else:
                pending += txn["net"]
        cur = self.sb.currency
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {
                    "amount": available,
                    "currency": cur,
                    "source_types": {"card": available},
                }
            ],
            "pending": [
                {"amount": pending, "currency": cur, "source_types": {"card": pending}}
            ],
        }

    def _payout(
        self,
        amount: int,
        automatic: bool,
        description=None,
        metadata=None,
        arrival_in=2 * DAY,
    ) -> dict:
        payout = self.add(
            {
                "id": self.new_id("payout"),
                "object": "payout",
                "amount": amount,
                "arrival_date": self.now + int(arrival_in),
                "automatic": automatic,
                "balance_transaction": None,
                "created": self.now,
                "currency": self.sb.currency,
                "description": description,
                "destination": "ba_sandbox",
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "method": "standard",
                "original_payout": None,
                "reconciliation_status": "in_progress"
                if automatic
                else "not_applicable",
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": None,
                "status": "pending",
                "type": "bank_account",
            }
        )
        txn = self.balance_transaction(
            amount=-amount,
            type_="payout",
            category="payout",
            source=payout["id"],
            description="STRIPE PAYOUT",
        )
        txn["_payout"] = payout["id"] if automatic else None
        payout["balance_transaction"] = txn["id"]
        return payout

    def create_automatic_payout(self, description=None, arrival_in=2 * DAY) -> dict:
        """What the payout schedule does: one payout of every available
        transaction not yet paid out, each linked to it."""
        covered = [
            txn
            for txn in self.all("balance_transaction")
            if txn["available_on"] <= self.now
            and txn["_payout"] is None
            and txn["type"] != "payout"
        ]
        amount = sum(txn["net"] for txn in covered)
        if not covered or amount <= 0:
            fail(400, "No available balance to pay out.", code="balance_insufficient")
        payout = self._payout(amount, True, description, arrival_in=arrival_in)
        for txn in covered:
            txn["_payout"] = payout["id"]
        self.emit("payout.created", payout)
        return payout

    def create_manual_payout(
        self, amount: int, currency: str, description=None, metadata=None
    ) -> dict:
        """``POST /v1/payouts``: a manual payout from the available balance
        (https://docs.stripe.com/api/payouts/create); more than available:
        ``balance_insufficient`` (https://docs.stripe.com/error-codes)."""
        if currency.lower() != self.sb.currency:
            fail(400, f"Invalid currency: {currency}", param="currency")
        available = self.balance()["available"][0]["amount"]
        if amount > available:
            fail(
                400,
                "You have insufficient funds in your Stripe account for this transfer.",
                code="balance_insufficient",
                param="amount",
            )
        payout = self._payout(amount, False, description, metadata)
        self.emit("payout.created", payout)
        return payout

    def mark_payout(
        self, ident: str, status: str = "paid", reconcile: bool = True
    ) -> dict:
        """pending -> in_transit -> paid (``payout.updated``, ``payout.paid``),
        then ``payout.reconciliation_completed`` for automatic payouts."""
        payout = self.get("payout", ident)
        if status not in ("in_transit", "paid"):
            raise ValueError("status must be in_transit or paid")
        if payout["status"] == status or payout["status"] == "paid":
            raise ValueError(f"payout {ident} is already {payout['status']}")
        previous = {"status": payout["status"]}
        payout["status"] = status
        self.emit("payout.updated", payout, previous)
        if status == "paid":
            self.emit("payout.paid", payout)
            if reconcile and payout["automatic"]:
                self.reconcile_payout(ident)
        return payout

    def reconcile_payout(self, ident: str) -> dict:
        """``payout.reconciliation_completed``: "Occurs whenever balance
        transactions paid out in an automatic payout can be queried"
        (https://docs.stripe.com/api/events/types); from then on ``GET
        /v1/balance_transactions?payout=`` lists them all."""
        payout = self.get("payout", ident)
        if payout["reconciliation_status"] != "in_progress":
            raise ValueError(
                f"payout {ident} reconciliation is {payout['reconciliation_status']}"
            )
        payout["reconciliation_status"] = "completed"
        self.emit("payout.reconciliation_completed", payout)
        return payout
