"""Admin routes of the Stripe sandbox (JSON in, JSON out; no key, not
recorded, no faults): what the Dashboard, the card networks and the payout
schedule do on a real account, to drive scenarios.

``POST /__sandbox__/customers {email, name, metadata}``;
``POST /__sandbox__/payments {amount, currency, customer, metadata,
description, exchange_rate, payment_method}`` (a succeeded PaymentIntent with
its charge and balance transaction); ``POST /__sandbox__/refunds {charge |
payment_intent, amount, reason, metadata, status}`` and
``.../refunds/<id>/status {status: succeeded|failed, failure_reason}``;
``POST /__sandbox__/disputes {charge, amount, reason}`` and
``.../disputes/<id>/close {outcome: won|lost}``;
``POST /__sandbox__/payouts {description}`` (the automatic payout of every
available transaction), ``.../payouts/<id>/paid {status, reconcile}`` and
``.../payouts/<id>/reconcile`` (reconciliation completed later than paid);
``POST /__sandbox__/keys {permissions}`` (a restricted key);
``POST /__sandbox__/webhook_endpoints/<id>/roll {expires_in}``;
``GET /__sandbox__/webhooks`` (queue, attempts, failed deliveries) and
``POST /__sandbox__/webhooks/flush {order, duplicate_every, seed,
signature_age}``; ``GET|POST /__sandbox__/config``. The clock, faults, recorded
requests and reset come from the toolkit.
"""

from __future__ import annotations

from dataclasses import asdict

CONFIG_FIELDS = (
    "api_version",
    "currency",
    "fee_percent",
    "fee_fixed",
    "dispute_fee",
    "dispute_fee_refunded_on_win",
    "refund_status",
    "available_after",
    "rate_limit",
    "webhook_mode",
    "fx_rates",
)


def _locked(function):
    def wrapper(sb, request, data, **args):
        with sb.lock:
            result = function(sb, data, **args)
        if sb.webhook_mode == "sync":
            sb.flush_webhooks()
        return result

    return wrapper


@_locked
def admin_config(sb, data):
    for name, value in data.items():
        if name not in CONFIG_FIELDS:
            raise ValueError(f"unknown config field {name!r}")
        setattr(sb, name, value)
    if "rate_limit" in data:
        sb.reset_bucket()
    return {name: getattr(sb, name) for name in CONFIG_FIELDS}


@_locked
def admin_keys(sb, data):
    return {"key": sb.add_restricted_key(data["permissions"], data.get("key"))}


@_locked
def admin_customers(sb, data):
    customer = sb.ledger.create_customer(
        data.get("email"),
        data.get("name"),
        data.get("metadata"),
        data.get("description"),
        data.get("phone"),
    )
    return sb.ledger.render(customer)


@_locked
def admin_payments(sb, data):
    intent = sb.ledger.create_payment(
        amount=int(data["amount"]),
        currency=data.get("currency", sb.currency),
        customer=data.get("customer"),
        metadata=data.get("metadata"),
        description=data.get("description"),
        exchange_rate=data.get("exchange_rate"),
        payment_method=data.get("payment_method", "pm_card_visa"),
    )
    charge = sb.ledger.objects[intent["latest_charge"]]
    return {
        "payment_intent": sb.ledger.render(intent),
        "charge": sb.ledger.render(charge),
        "balance_transaction": sb.ledger.render(
            sb.ledger.objects[charge["balance_transaction"]]
        ),
    }


@_locked
def admin_refunds(sb, data):
    refund = sb.ledger.create_refund(
        charge=data.get("charge"),
        payment_intent=data.get("payment_intent"),
        amount=data.get("amount"),
        reason=data.get("reason"),
        metadata=data.get("metadata"),
        status=data.get("status"),
    )
    return sb.ledger.render(refund)


@_locked
def admin_refund_status(sb, data, ident):
    refund = sb.ledger.update_refund(ident, data["status"], data.get("failure_reason"))
    return sb.ledger.render(refund)


@_locked
def admin_disputes(sb, data):
    dispute = sb.ledger.open_dispute(
        charge=data["charge"],
        amount=data.get("amount"),
        reason=data.get("reason", "fraudulent"),
    )
    return sb.ledger.render(dispute)


@_locked
def admin_dispute_close(sb, data, ident):
    return sb.ledger.render(sb.ledger.close_dispute(ident, data["outcome"]))


@_locked
def admin_payouts(sb, data):
    return sb.ledger.render(sb.ledger.create_automatic_payout(data.get("description")))


@_locked
def admin_payout_paid(sb, data, ident):
    payout = sb.ledger.mark_payout(
        ident, data.get("status", "paid"), data.get("reconcile", True)
    )
    return sb.ledger.render(payout)


@_locked
def admin_payout_reconcile(sb, data, ident):
    return sb.ledger.render(sb.ledger.reconcile_payout(ident))


@_locked
def admin_roll(sb, data, ident):
    sb.ledger.get("webhook_endpoint", ident)
    return {"secret": sb.hub.roll_secret(ident, float(data.get("expires_in", 0)))}


@_locked
def admin_webhooks(sb, data):
    return {
        "queue": list(sb.hub.queue),
        "attempts": [asdict(a) for a in sb.hub.attempts],
        "failed": list(sb.hub.failed),
    }


def admin_flush(sb, request, data):
    attempts = sb.flush_webhooks(
        order=data.get("order", "fifo"),
        duplicate_every=data.get("duplicate_every"),
        seed=data.get("seed"),
        signature_age=float(data.get("signature_age", 0)),
    )
    return [asdict(a) for a in attempts]
