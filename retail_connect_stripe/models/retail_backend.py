"""The Stripe backend: settings, client, connection check, webhooks, polling.

The flows live in their own files: ``stripe_payment.py`` (payments in),
``stripe_refund.py`` (refunds from Stripe, refund outcomes),
``stripe_refund_out.py`` (refunds from Odoo), ``stripe_dispute.py``
(disputes), ``stripe_payout.py`` (payouts).
"""

import json
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    EventSkipped,
    RemoteError,
)
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib.client import StripeClient
from ..lib.verifier import TOPICS, StripeVerifier, delivery_of

# pinned: every request sends it, and the webhook endpoint is created with it
# (events are rendered in the endpoint's version, https://docs.stripe.com/
# api/webhook_endpoints/create)
API_VERSION = "2026-09-30.endive"
DEFAULT_URL = "https://api.stripe.com"
# what the connector calls, per restricted key resource
# (https://docs.stripe.com/keys/restricted-api-keys): resource, level, why
PERMISSIONS = (
    ("payment_intent", "read", "read payments"),
    ("charge", "read", "read charges and refunds"),
    ("customer", "read", "match payments to customers"),
    ("event", "read", "poll events (the webhook backstop)"),
    ("balance", "read", "read balance transactions and fees"),
    ("payout", "read", "reconcile payouts"),
    ("dispute", "read", "record disputes"),
    ("refund", "write", "refund credit notes paid back in Odoo"),
    ("webhook", "write", "register the webhook endpoint"),
)
PROBES = {
    "payment_intent": "/v1/payment_intents",
    "charge": "/v1/charges",
    "customer": "/v1/customers",
    "event": "/v1/events",
    "balance": "/v1/balance_transactions",
    "payout": "/v1/payouts",
    "dispute": "/v1/disputes",
    "refund": "/v1/refunds",
    "webhook": "/v1/webhook_endpoints",
}
PAYMENT_TOPICS = ("payment_intent.succeeded", "charge.succeeded")
REFUND_TOPICS = ("charge.refunded",)
# charge.refund.updated is the outcome of a refund, Odoo's own included (a
# refund policy that only exports still follows its refunds): it is read under
# the payment policy, and a refund made in Stripe is booked only when the
# refund policy imports (stripe_refund.py)
PAYOUT_TOPICS = ("payout.paid", "payout.reconciliation_completed")
DISPUTE_TOPICS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(
        selection_add=[("stripe", "Stripe")], ondelete={"stripe": "cascade"}
    )
    stripe_currency_id = fields.Many2one(
        "res.currency",
        "Account currency",
        help="The settlement currency of the Stripe account (its balance and payouts).",
    )
    stripe_journal_id = fields.Many2one(
        "account.journal",
        "Stripe clearing journal",
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        help="Customer payments received through Stripe are registered in this "
        "journal, until a payout moves them to the bank.",
    )
    stripe_bank_journal_id = fields.Many2one(
        "account.journal",
        "Bank journal",
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        help="The bank account Stripe pays out to.",
    )
    stripe_fee_account_id = fields.Many2one(
        "account.account",
        "Fee account",
        domain="[('account_type', '=', 'expense')]",
        help="Expense account of Stripe's processing and dispute fees.",
    )
    stripe_webhook_endpoint = fields.Char("Webhook endpoint", readonly=True, copy=False)

    # ------------------------------------------------------------- hooks
    def _platform_defaults(self):
        defaults = super()._platform_defaults()
        if self.platform == "stripe":
            # 25 requests/s in a sandbox, 100 live; 25/s per endpoint by
            # default (https://docs.stripe.com/rate-limits): the lower bound
            defaults.update(
                api_version=API_VERSION,
                rate_limit_capacity=25,
                rate_limit_per_second=25,
                # Stripe's SDKs refuse signatures older than 300 s
                webhook_replay_window=300,
            )
        return defaults

    def _platform_unused_fields(self):
        unused = super()._platform_unused_fields()
        if self.platform == "stripe":
            # one key, secret or restricted (api_key); client_id holds the
            # account ID
            unused |= {"client_secret", "access_token"}
        return unused

    def _remote_account(self):
        if self.platform != "stripe":
            return super()._remote_account()
        return (self.client_id or "").strip() or False

    def _health_checks(self, stats):
        checks = super()._health_checks(stats)
        if self.platform != "stripe":
            return checks
        _ = self.env._
        journal = self.stripe_journal_id
        if not journal:
            checks.append(
                (
                    "error",
                    _(
                        "No Stripe clearing journal: payments cannot be "
                        "registered. Set it on the Stripe tab."
                    ),
                )
            )
        elif not journal.inbound_payment_method_line_ids.payment_account_id:
            checks.append(
                (
                    "warning",
                    _(
                        "The journal %(journal)s has no outstanding receipts "
                        "account: Stripe payments are registered without a "
                        "journal entry until a payout is reconciled. Set one on "
                        "its incoming payment method.",
                        journal=journal.name,
                    ),
                )
            )
        if self.state in ("active", "error") and not self.stripe_webhook_endpoint:
            checks.append(
                (
                    "warning",
                    _(
                        "No webhook endpoint: payments arrive only by polling, "
                        "minutes late. Press Register webhook."
                    ),
                )
            )
        return checks

    def _default_base_url(self):
        if self.platform == "stripe":
            return DEFAULT_URL
        return super()._default_base_url()

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform != "stripe":
            return policies
        stripe = {
            "payment": {"direction": "in", "system_of_record": "platform"},
            "refund": {"direction": "in", "system_of_record": "platform"},
            "settlement": {
                "direction": "in",
                "system_of_record": "platform",
                "timing": "batch",
            },
        }
        for vals in policies:
            vals.update(stripe.get(vals["domain"], {}))
        return policies

    def _event_domain(self, topic):
        if self.platform != "stripe":
            return super()._event_domain(topic)
        if topic in REFUND_TOPICS or topic.startswith("refund."):
            return "refund"
        if topic.startswith("payout."):
            return "settlement"
        if topic.startswith(("payment_intent.", "charge.")):
            return "payment"
        return False

    def _get_webhook_verifier(self):
        if self.platform == "stripe":
            return StripeVerifier(self._webhook_secrets())
        return super()._get_webhook_verifier()

    # ------------------------------------------------------------ client
    def _stripe_key(self):
        """The secret or restricted key; a test key for a sandbox backend and
        a live key for production, never the other way round (Stripe has one
        host for both modes: the key decides)."""
        self.ensure_one()
        key = self._get_secret("api_key")
        if not key:
            raise UserError(
                self.env._("%(backend)s has no Stripe API key.", backend=self.name)
            )
        live = "_live_" in key[:8]
        if live != (self.environment == "production"):
            raise UserError(
                self.env._(
                    "%(backend)s is a %(env)s backend: it refuses a %(mode)s key.",
                    backend=self.name,
                    env=self.environment,
                    mode="live" if live else "test",
                )
            )
        return key

    def _stripe_client(self):
        self.ensure_one()
        return self._http_client(
            StripeClient,
            api_version=self.api_version or API_VERSION,
            key=self._stripe_key(),
        )

    def _check_connection(self):
        if self.platform != "stripe":
            return super()._check_connection()
        client = self._stripe_client()
        missing = []
        for resource, level, why in PERMISSIONS:
            try:
                if level == "read":
                    client.get(PROBES[resource], {"limit": 1}, operation="probe")
                else:
                    # no parameters: refused by validation, after the
                    # permission check, and nothing is written
                    client.post(PROBES[resource], {}, operation="probe")
            except AuthError as err:
                if "refused the API key" in str(err):
                    raise
                missing.append(f"rak_{resource}_{level} ({why})")
            except RemoteError:
                continue  # a refused parameter: the permission is there
        if missing:
            raise UserError(
                self.env._(
                    "The key lacks these permissions: %(missing)s. Add them to "
                    "the restricted key in Stripe's Dashboard, or use a key "
                    "that has them.",
                    missing=", ".join(missing),
                )
            )
        return self.env._(
            "Connected to Stripe (API version %(version)s): the key has every "
            "permission the connector needs.",
            version=self.api_version,
        )

    # ---------------------------------------------------------- webhooks
    def action_stripe_register_webhook(self):
        """Create the webhook endpoint (pinned version) and keep its secret."""
        check_group(self.env)
        for backend in self:
            backend._stripe_register_webhook()
        return True

    def _stripe_register_webhook(self):
        self.ensure_one()
        endpoint = self._stripe_client().post(
            "/v1/webhook_endpoints",
            {
                "url": self.webhook_url,
                "enabled_events": sorted(TOPICS),
                "api_version": self.api_version or API_VERSION,
                "description": f"Odoo {self.name}",
            },
            operation="webhook_endpoint.create",
        )
        self.stripe_webhook_endpoint = endpoint["id"]
        # the secret is returned once, at creation; the previous one (if
        # any) stays valid for the grace period
        self.sudo()._rotate_webhook_secret(endpoint["secret"])
        self._message_log(
            body=self.env._("Webhook endpoint %(id)s created.", id=endpoint["id"])
        )
        return endpoint["id"]

    # ------------------------------------------------------------ events
    def _process_event(self, event):
        if self.platform != "stripe":
            return super()._process_event(event)
        data = event._data()
        obj = (data.get("data") or {}).get("object") or {}
        if event.topic in PAYMENT_TOPICS:
            intent = obj["id"] if obj.get("object") == "payment_intent" else None
            intent = intent or obj.get("payment_intent")
            if not intent:
                raise EventSkipped("skipped_policy", "a charge without PaymentIntent")
            return self._stripe_import_payment(intent, event)
        if event.topic == "charge.refund.updated":
            return self._stripe_refund_updated(obj["id"], obj.get("charge"), event)
        if event.topic in REFUND_TOPICS:
            return self._stripe_import_refunds(obj["id"], event)
        if event.topic in DISPUTE_TOPICS:
            return self._stripe_dispute_event(obj["id"], event)
        if event.topic in PAYOUT_TOPICS:
            return self._stripe_payout_event(obj["id"], event)
        raise EventSkipped("skipped_policy", f"topic {event.topic} is not handled")

    def _poll(self, policy, since, until):
        """The backstop: ``GET /v1/events`` created since the watermark minus
        the overlap (Stripe keeps 30 days), as inbox deliveries keyed by the
        event id, so an event seen by webhook and by polling is stored once."""
        if self.platform != "stripe":
            return super()._poll(policy, since, until)
        types = [
            topic
            for topic in sorted(TOPICS)
            if self._topic_domain(topic) == policy.domain
        ]
        if not types:
            return []
        stamp = int(since.replace(tzinfo=timezone.utc).timestamp())
        deliveries = []
        for event in self._stripe_client().list_all(
            "/v1/events",
            {"created": {"gte": stamp}, "types": types},
            operation="events.list",
        ):
            deliveries.append(delivery_of(event, json.dumps(event).encode()))
        return deliveries

    @api.model
    def _stripe_datetime(self, epoch):
        """A Stripe time (epoch seconds) as Odoo's naive UTC datetime."""
        return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)
