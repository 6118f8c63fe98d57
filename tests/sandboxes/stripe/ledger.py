"""The account's objects and money: payments, refunds, disputes, balance
transactions, payouts, customers and events, kept in memory.

Objects are stored in their API shape (the contract's schemas, see
``contract.py``); keys starting with ``_`` are internal and never rendered.
Amounts are integers in the currency's smallest unit
(https://docs.stripe.com/currencies#zero-decimal). Documentation followed for
the money:

- Balance transactions: "Balance transactions represent funds moving through
  your Stripe account"; ``amount`` is gross, ``fee`` the sum of
  ``fee_details``, ``net = amount - fee``, in the balance's (settlement)
  currency; ``exchange_rate`` is set when the charge was in another currency;
  ``available_on`` is when the funds become available; ``status`` is
  ``pending`` until then, ``available`` after
  (https://docs.stripe.com/api/balance_transactions/object).
- ``type`` and ``reporting_category`` of each kind of transaction: a charge is
  ``charge``/``charge``, a refund ``refund``/``refund``, a dispute
  withdrawal ``adjustment``/``dispute``, a won dispute's reinstatement
  ``adjustment``/``dispute_reversal``, a payout ``payout``/``payout``
  (https://docs.stripe.com/reports/reporting-categories).
- Refunds do not return the processing fee
  (https://docs.stripe.com/refunds#refund-fees); a dispute debits its amount
  plus a dispute fee (https://docs.stripe.com/disputes/how-disputes-work#
  dispute-fees); the sandbox returns the fee on a won dispute only when
  ``dispute_fee_refunded_on_win`` (it depends on the country).
- Payouts: "Automatic payouts ... maintain the association between each
  transaction and the payout they're included in"; ``GET
  /v1/balance_transactions?payout=po_...`` lists them; manual payouts are not
  reconcilable ("Stripe can't identify which transactions are included in
  each payout"); ``reconciliation_status`` is ``in_progress`` until
  ``completed``, ``not_applicable`` for manual payouts
  (https://docs.stripe.com/payouts/reconciliation,
  https://docs.stripe.com/api/payouts/object).
- Events carry ``data.object`` as it was at the change and, for events of
  type ``*.updated`` only, ``data.previous_attributes`` with the old values
  of the fields that changed: "Object containing the names of the updated
  attributes and their values prior to the event (only included in events of
  type ``*.updated``)" (https://docs.stripe.com/api/events/object, the
  contract's ``notification_event_data``). ``charge.refunded``,
  ``charge.dispute.closed``, ``payout.paid`` and
  ``payout.reconciliation_completed`` carry none: a connector reads the state
  from the object (or re-reads it), never from a diff it is not promised.
"""

from __future__ import annotations

import copy
import secrets
import string
from decimal import ROUND_HALF_UP, Decimal

from .settlement import Settlement, fail

PREFIXES = {
    "payment_intent": "pi_",
    "charge": "ch_",
    "refund": "re_",
    "dispute": "du_",
    "balance_transaction": "txn_",
    "payout": "po_",
    "customer": "cus_",
    "event": "evt_",
    "webhook_endpoint": "we_",
    "payment_method": "pm_",
}
# fields that ``expand[]`` may replace by the object (the contract's
# ``x-expandableFields``)
EXPANDABLE = {
    "payment_intent": ("customer", "latest_charge"),
    "charge": ("balance_transaction", "customer", "payment_intent"),
    "refund": (
        "balance_transaction",
        "charge",
        "failure_balance_transaction",
        "payment_intent",
    ),
    "dispute": ("charge", "payment_intent"),
    "balance_transaction": ("source",),
    "payout": ("balance_transaction",),
    "customer": (),
    "event": (),
    "webhook_endpoint": (),
}
ALPHABET = string.ascii_letters + string.digits


def missing(kind: str, ident: str, param: str = "id"):
    fail(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Ledger(Settlement):
    """State of one Stripe account (test mode)."""

    def __init__(self, sandbox):
        self.sb = sandbox
        self.objects: dict[str, dict] = {}
        self.order: list[str] = []  # creation order of every object
        self.events: list[dict] = []

    # ------------------------------------------------------------- basics
    @property
    def now(self) -> int:
        return int(self.sb.clock.now())

    def new_id(self, kind: str) -> str:
        while True:
            ident = PREFIXES[kind] + "".join(
                secrets.choice(ALPHABET) for _ in range(24)
            )
            if ident not in self.objects:
                return ident

    def add(self, obj: dict) -> dict:
        self.objects[obj["id"]] = obj
        self.order.append(obj["id"])
        return obj

    def get(self, kind: str, ident: str, param: str = "id") -> dict:
        obj = self.objects.get(ident or "")
        if obj is None or obj["object"] != kind:
            missing(kind, ident, param)
        return obj

    def all(self, kind: str) -> list[dict]:
        """Newest first ("reverse chronological order",
        https://docs.stripe.com/api/pagination)."""
        return [
            self.objects[i]
            for i in reversed(self.order)
            if self.objects[i]["object"] == kind
        ]

    def render(self, obj: dict) -> dict:
        out = {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}
        if obj["object"] == "balance_transaction":
            out["status"] = (
                "available" if obj["available_on"] <= self.now else "pending"
            )
        return out

    # -------------------------------------------------------------- events
    def emit(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        data = {"object": self.render(obj)}
        if previous is not None:
            if not type_.endswith(".updated"):
                # only ``*.updated`` events have previous_attributes (see the
                # module docstring): a sandbox bug, not a scenario
                raise ValueError(f"{type_} cannot carry previous_attributes")
            data["previous_attributes"] = previous
        request = self.sb.current_request()
        event = {
            "id": self.new_id("event"),
            "object": "event",
            "api_version": self.sb.api_version,
            "created": self.now,
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": request,
            "type": type_,
        }
        event["pending_webhooks"] = self.sb.hub.enqueue(event)
        self.events.append(event)
        self.add(event)
        return event

    # ----------------------------------------------------------- customers
    def create_customer(
        self, email=None, name=None, metadata=None, description=None, phone=None
    ) -> dict:
        customer = self.add(
            {
                "id": self.new_id("customer"),
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": self.now,
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": description,
                "discount": None,
                "email": email,
                "invoice_prefix": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "name": name,
                "phone": phone,
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
        )
        self.emit("customer.created", customer)
        return customer

    # ------------------------------------------------------ balance moves
    def fx(self, currency: str, rate=None) -> Decimal | None:
        if currency == self.sb.currency:
            return None
        rate = rate if rate is not None else self.sb.fx_rates.get(currency)
        if rate is None:
            fail(
                400,
                f"Invalid currency: {currency}. The sandbox account has no "
                "exchange rate for it (see __sandbox__/config fx_rates).",
                param="currency",
            )
        return Decimal(str(rate))

    def settle(self, amount: int, rate: Decimal | None) -> int:
        return amount if rate is None else _round(Decimal(amount) * rate)

    def balance_transaction(
        self,
        *,
        amount,
        type_,
        category,
        source,
        fee=0,
        fee_description=None,
        rate=None,
        available_on=None,
        description=None,
    ) -> dict:
        fee_details = []
        if fee:
            fee_details.append(
                {
                    "amount": fee,
                    "application": None,
                    "currency": self.sb.currency,
                    "description": fee_description,
                    "type": "stripe_fee",
                }
            )
        return self.add(
            {
                "id": self.new_id("balance_transaction"),
                "object": "balance_transaction",
                "amount": amount,
                "available_on": self.now if available_on is None else available_on,
                "created": self.now,
                "currency": self.sb.currency,
                "description": description,
                "exchange_rate": None if rate is None else float(rate),
                "fee": fee,
                "fee_details": fee_details,
                "net": amount - fee,
                "reporting_category": category,
                "source": source,
                "status": "pending",
                "type": type_,
                "_payout": None,
            }
        )

    def processing_fee(self, settled: int) -> int:
        percent = Decimal(str(self.sb.fee_percent))
        return _round(Decimal(settled) * percent / 100) + int(self.sb.fee_fixed)

    # ------------------------------------------------------------ payments
    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        customer=None,
        metadata=None,
        description=None,
        exchange_rate=None,
        payment_method="pm_card_visa",
        receipt_email=None,
    ) -> dict:
        """A card PaymentIntent confirmed at once: succeeded, with its charge
        and balance transaction (https://docs.stripe.com/payments/
        paymentintents/lifecycle); ``pm_card_chargeDeclined`` is declined as
        the test card is (https://docs.stripe.com/testing#declined-payments).
        """
        currency = currency.lower()
        if amount < 1:
            fail(
                400,
                "This value must be greater than or equal to 1.",
                param="amount",
                code="parameter_invalid_integer",
            )
        if customer is not None:
            self.get("customer", customer, "customer")
        rate = self.fx(currency, exchange_rate)
        now = self.now
        intent = self.add(
            {
                "id": self.new_id("payment_intent"),
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": 0,
                "application": None,
                "application_fee_amount": None,
                "automatic_payment_methods": None,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": "automatic",
                "client_secret": None,
                "confirmation_method": "automatic",
                "created": now,
                "currency": currency,
                "customer": customer,
                "description": description,
                "invoice": None,
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_types": ["card"],
                "processing": None,
                "receipt_email": receipt_email,
                "review": None,
                "setup_future_usage": None,
                "shipping": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "requires_payment_method",
                "transfer_data": None,
                "transfer_group": None,
            }
        )
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        self.emit("payment_intent.created", intent)
        method = self.new_id("payment_method")
        declined = payment_method == "pm_card_chargeDeclined"
        charge = self.add(
            {
                "id": self.new_id("charge"),
                "object": "charge",
                "amount": amount,
                "amount_captured": 0 if declined else amount,
                "amount_refunded": 0,
                "application": None,
                "application_fee": None,
                "application_fee_amount": None,
                "balance_transaction": None,
                "billing_details": {
                    "address": None,
                    "email": None,
                    "name": None,
                    "phone": None,
                },
                "calculated_statement_descriptor": "SANDBOX",
                "captured": not declined,
                "created": now,
                "currency": currency,
                "customer": customer,
                "description": description,
                "disputed": False,
                "failure_balance_transaction": None,
                "failure_code": "card_declined" if declined else None,
                "failure_message": "Your card was declined." if declined else None,
                "fraud_details": {},
                "invoice": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "on_behalf_of": None,
                "outcome": None,
                "paid": not declined,
                "payment_intent": intent["id"],
                "payment_method": method,
                "receipt_email": receipt_email,
                "receipt_number": None,
                "receipt_url": None,
                "refunded": False,
                "review": None,
                "shipping": None,
                "source_transfer": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "failed" if declined else "succeeded",
                "transfer_data": None,
                "transfer_group": None,
            }
        )
        intent["latest_charge"] = charge["id"]
        intent["payment_method"] = method
        if declined:
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "charge": charge["id"],
                "message": "Your card was declined.",
            }
            intent["last_payment_error"] = error
            self.emit("charge.failed", charge)
            self.emit("payment_intent.payment_failed", intent)
            fail(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code="generic_decline",
                charge=charge["id"],
                payment_intent=self.render(intent),
            )
        settled = self.settle(amount, rate)
        txn = self.balance_transaction(
            amount=settled,
            type_="charge",
            category="charge",
            source=charge["id"],
            fee=self.processing_fee(settled),
            fee_description="Stripe processing fees",
            rate=rate,
            available_on=now + int(self.sb.available_after),
        )
        charge["balance_transaction"] = txn["id"]
        intent["status"], intent["amount_received"] = "succeeded", amount
        self.emit("charge.succeeded", charge)
        self.emit("payment_intent.succeeded", intent)
        return intent

    # ------------------------------------------------------------- refunds
    def create_refund(
        self,
        *,
        charge=None,
        payment_intent=None,
        amount=None,
        reason=None,
        metadata=None,
        status=None,
    ) -> dict:
        """``status``: ``succeeded`` or ``pending`` (default: the sandbox's
        ``refund_status``); see :meth:`update_refund` for what follows.
        https://docs.stripe.com/api/refunds/create: the whole remaining
        amount by default; more than what is left: ``amount_too_large``; a
        fully refunded charge: ``charge_already_refunded``
        (https://docs.stripe.com/error-codes)."""
        if bool(charge) == bool(payment_intent):
            fail(400, "You must pass either charge or payment_intent.", param="charge")
        if payment_intent:
            intent = self.get("payment_intent", payment_intent, "payment_intent")
            charge = intent["latest_charge"]
        ch = self.get("charge", charge, "charge")
        if ch["status"] != "succeeded":
            fail(400, f"Charge {ch['id']} has not succeeded.", param="charge")
        disputes = [d for d in self.all("dispute") if d["charge"] == ch["id"]]
        if any(not d["is_charge_refundable"] for d in disputes):
            # dispute.is_charge_refundable: "If true, it is still possible to
            # refund the disputed payment" (the contract); false for a
            # chargeback: "charge_disputed: The charge you're attempting to
            # refund has been charged back" (https://docs.stripe.com/
            # error-codes#charge-disputed)
            fail(
                400,
                f"Charge {ch['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
                param="charge",
            )
        left = ch["amount_captured"] - ch["amount_refunded"]
        if left <= 0:
            fail(
                400,
                f"Charge {ch['id']} has already been refunded.",
                code="charge_already_refunded",
                param="charge",
            )
        amount = left if amount is None else amount
        if amount < 1:
            fail(400, "This value must be greater than or equal to 1.", param="amount")
        if amount > left:
            fail(
                400,
                f"Refund amount ({amount}) is greater than unrefunded "
                f"amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        status = status or self.sb.refund_status
        if status not in ("succeeded", "pending"):
            raise ValueError("a new refund is succeeded or pending")
        original = self.objects[ch["balance_transaction"]]
        rate = (
            None
            if original["exchange_rate"] is None
            else Decimal(str(original["exchange_rate"]))
        )
        refund = self.add(
            {
                "id": self.new_id("refund"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": ch["id"],
                "created": self.now,
                "currency": ch["currency"],
                # failure_balance_transaction and failure_reason are
                # optional, not nullable, in the contract: absent until the
                # refund fails (Settlement.update_refund)
                "metadata": dict(metadata or {}),
                "payment_intent": ch["payment_intent"],
                # 2025-04-30.basil: "describes why the refund is pending"
                # (https://docs.stripe.com/changelog/basil/2025-04-30/
                # refund-pending-reason)
                "pending_reason": "processing" if status == "pending" else None,
                "reason": reason,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": status,
                "transfer_reversal": None,
            }
        )
        settled = self.settle(amount, rate)
        txn = self.balance_transaction(
            amount=-settled,
            type_="refund",
            category="refund",
            source=refund["id"],
            rate=rate,
            description="REFUND FOR CHARGE",
        )
        refund["balance_transaction"] = txn["id"]
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
        self.emit("refund.created", refund)
        self.emit("charge.refunded", ch)
        return refund
