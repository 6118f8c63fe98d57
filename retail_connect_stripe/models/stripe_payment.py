"""Payments in: a succeeded PaymentIntent becomes one registered payment.

``payment_intent.succeeded`` and ``charge.succeeded`` both say *which*
PaymentIntent succeeded; the webhook is a hint: the PaymentIntent is read
again from Stripe, under a lock on its id, and bound to the Odoo payment, so
however many times and in whatever order its events arrive, it is registered
once. It is matched to what it pays:

1. an assignment made by a person on its exception (``stripe.assign.payment``);
2. its metadata: ``odoo_order`` (a sale order name, a channel's order name
   such as Shopify's ``#1001`` when one order carries it, else an invoice
   number), then ``shopify_order`` and ``odoo_invoice`` alike. An order it
   names that Odoo does not hold yet is on its way (a shop's checkout pays
   through Stripe before the shop's order webhook reaches Odoo, or that
   webhook is late): the payment waits for it, retried while the job has
   retries left, and only then falls back to the rules below;
3. its amount, currency and customer (the Stripe customer's e-mail or phone
   matched to a partner): the one open invoice of that amount, else the one
   confirmed, uninvoiced order of that total.

An order's open invoices get the payment registered on them; an order not
invoiced yet gets an outstanding payment on its customer (reconciled when
the invoice is posted, as any outstanding payment). No match: a mapping
exception whose fix assigns the payment.
"""

from odoo import api, models
from odoo.tools import float_compare

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    MappingError,
    RemoteError,
    TransientError,
    ValidationSyncError,
)

from ..lib.client import to_amount

# how long a payment waits between two looks for the order it names
ORDER_WAIT_SECONDS = 30
OPEN_INVOICE = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
]


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _stripe_import_payment(self, intent_id, event=None):
        """Register the payment of a succeeded PaymentIntent (idempotent)."""
        self.ensure_one()
        bindings = self.env["retail.binding"]
        self._lock_external("account.payment", intent_id)
        binding = bindings._lookup(self, "account.payment", intent_id)
        if binding and binding._record():
            raise EventSkipped(
                "skipped_duplicate",
                f"{intent_id} is registered as {binding._record().name}",
            )
        intent = self._stripe_client().get(
            f"/v1/payment_intents/{intent_id}",
            {"expand": ["latest_charge", "customer"]},
            operation="payment_intent.retrieve",
        )
        if intent.get("status") != "succeeded":
            # the hint is older than Stripe's state, or never succeeded
            raise EventSkipped(
                "skipped_stale",
                f"{intent_id} is {intent.get('status')} on Stripe, not succeeded",
            )
        charge = intent.get("latest_charge")
        linked = self._stripe_transaction_payment(intent_id)
        if linked:
            # Odoo's payment_stripe booked it already: link, never book twice
            # (stripe_payment_link.py)
            transaction = linked.payment_transaction_id
            bindings._bind(
                self,
                linked,
                intent_id,
                external_ref=intent_id,
                remote_updated_at=self._stripe_datetime(intent["created"]),
                extra={
                    "charge": charge.get("id") if isinstance(charge, dict) else charge,
                    "sale_order": transaction.sale_order_ids[:1].id or None,
                    "payment_transaction": transaction.reference,
                },
            )
            return linked
        subject = f"payment:{intent_id}"
        currency = self._stripe_currency(intent["currency"], subject)
        amount = to_amount(intent["amount_received"], intent["currency"])
        target = self._stripe_match(intent, currency, amount)
        if target is None:
            metadata = intent.get("metadata") or {}
            customer = intent.get("customer")
            if isinstance(customer, dict):
                customer = customer.get("id")
            raise MappingError(
                self.env._(
                    "Stripe payment %(intent)s of %(amount)s %(currency)s matches "
                    "no order or invoice (metadata odoo_order: %(order)s; "
                    "customer: %(customer)s). Assign it to an order, an invoice "
                    "or a customer (Assign payment), and it is registered.",
                    intent=intent_id,
                    amount=f"{amount:.2f}",
                    currency=currency.name,
                    order=metadata.get("odoo_order") or "-",
                    customer=customer or "-",
                ),
                subject_key=subject,
                fix={
                    "payment_intent": intent_id,
                    "amount": amount,
                    "currency": currency.name,
                },
            )
        invoices, partner, sale = target
        payment = self._stripe_register(invoices, partner, intent, currency, amount)
        bindings._bind(
            self,
            payment,
            intent_id,
            external_ref=intent_id,
            remote_updated_at=self._stripe_datetime(intent["created"]),
            extra={
                "charge": charge.get("id") if isinstance(charge, dict) else charge,
                # an outstanding payment settles this order's invoice once posted
                "sale_order": sale.id or None,
            },
        )
        return payment

    # ------------------------------------------------------------ matching
    def _stripe_currency(self, code, subject):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code.upper())], limit=1)
        )
        if not currency.active:
            raise MappingError(
                self.env._(
                    "Stripe paid in %(code)s, a currency Odoo does not use: "
                    "activate it (Accounting › Configuration › Currencies), "
                    "then retry.",
                    code=code.upper(),
                ),
                subject_key=subject,
                fix={"currency": code.upper()},
            )
        return currency

    def _stripe_match(self, intent, currency, amount):
        """``(open invoices, partner, order)`` the payment settles, or None."""
        assigned = self._stripe_assignment(intent["id"])
        if assigned is not None:
            return assigned
        metadata = intent.get("metadata") or {}
        company = [("company_id", "=", self.company_id.id)]
        no_sale = self.env["sale.order"]
        keys = ("odoo_order", "shopify_order", "odoo_invoice")
        carried = False  # some order carries a name it gives (several: none wins)
        for value in filter(None, (metadata.get(key) for key in keys)):
            sale = self.env["sale.order"].search(
                [("name", "=", value), *company], limit=1
            )
            if not sale:
                # a channel's order name (Shopify's #1001), when only one
                # order of the company carries it
                sale = self.env["sale.order"].search(
                    [
                        ("client_order_ref", "=", value),
                        ("state", "!=", "cancel"),
                        *company,
                    ],
                    limit=2,
                )
                carried |= bool(sale)
                sale = sale if len(sale) == 1 else sale.browse()
            if sale:
                return self._stripe_target_of_sale(sale)
            invoice = self.env["account.move"].search(
                [
                    ("name", "=", value),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    *company,
                ],
                limit=1,
            )
            if invoice:
                return invoice, invoice.partner_id.commercial_partner_id, no_sale
        named = metadata.get("odoo_order") or metadata.get("shopify_order")
        if named and not carried and not self._job_is_last_attempt():
            # the order is on its way (its channel's webhook comes later)
            raise TransientError(
                f"{intent['id']} pays order {named}, which Odoo does not hold "
                "yet: waiting for it",
                seconds=ORDER_WAIT_SECONDS,
            )
        partner = self._stripe_partner(intent.get("customer"))
        if not partner:
            return None
        same = [
            ("partner_id", "child_of", partner.commercial_partner_id.id),
            ("currency_id", "=", currency.id),
            *company,
        ]
        invoices = (
            self.env["account.move"]
            .search([*OPEN_INVOICE, *same])
            .filtered(
                lambda m: (
                    not float_compare(
                        m.amount_residual, amount, precision_rounding=currency.rounding
                    )
                )
            )
        )
        if len(invoices) == 1:
            return invoices, partner.commercial_partner_id, no_sale
        if invoices:
            return None  # several candidates: a person decides
        sales = (
            self.env["sale.order"]
            .search(
                [("state", "=", "sale"), ("invoice_status", "!=", "invoiced"), *same]
            )
            .filtered(
                lambda s: (
                    not float_compare(
                        s.amount_total, amount, precision_rounding=currency.rounding
                    )
                )
            )
        )
        if len(sales) == 1:
            return self._stripe_target_of_sale(sales)
        return None

    def _stripe_target_of_sale(self, sale):
        invoices = sale.invoice_ids.filtered_domain(OPEN_INVOICE)
        return invoices, sale.partner_invoice_id.commercial_partner_id, sale

    def _stripe_partner(self, customer):
        """The partner of a Stripe customer (expanded), matched by e-mail or
        phone; never created: a payment alone makes no customer."""
        if not isinstance(customer, dict):
            return self.env["res.partner"]
        return self.env["res.partner"]._retail_match(
            email=customer.get("email"),
            phone=customer.get("phone"),
            country_code=self._phone_region(),
            company=self.company_id,
        )

    def _stripe_assignment(self, intent_id):
        """What a person assigned the payment to on its exception, or None."""
        exceptions = (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", f"payment:{intent_id}"),
                ],
                order="id desc",
            )
        )
        for exception in exceptions:
            assign = (exception.fix_data or {}).get("assign")
            if not assign:
                continue
            record = self.env[assign["model"]].browse(assign["id"]).exists()
            if not record:
                continue
            if record._name == "sale.order":
                return self._stripe_target_of_sale(record)
            no_sale = self.env["sale.order"]
            if record._name == "account.move":
                invoices = record.filtered_domain(OPEN_INVOICE)
                return invoices, record.partner_id.commercial_partner_id, no_sale
            return self.env["account.move"], record.commercial_partner_id, no_sale
        return None

    # --------------------------------------------------------- registering
    def _stripe_register(self, invoices, partner, intent, currency, amount):
        """One posted customer payment in the Stripe clearing journal: on the
        open invoices, else outstanding on the partner."""
        journal = self.stripe_journal_id
        if not journal:
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s has no Stripe clearing journal: set it on the "
                    "backend (Stripe tab), then retry.",
                    backend=self.name,
                )
            )
        charge = intent.get("latest_charge")
        created = charge.get("created") if isinstance(charge, dict) else None
        date = self._stripe_datetime(created or intent["created"]).date()
        memo = f"Stripe {intent['id']}"
        if invoices:
            wizard = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoices.ids)
                .create(
                    {
                        "journal_id": journal.id,
                        "amount": amount,
                        "currency_id": currency.id,
                        "payment_date": date,
                        "communication": memo,
                        "group_payment": True,
                        "payment_difference_handling": "open",
                    }
                )
            )
            payments = wizard._create_payments()
            if len(payments) != 1:
                raise RemoteError(
                    f"{intent['id']} would be {len(payments)} payments: its "
                    "invoices belong to several customers."
                )
            return payments
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "currency_id": currency.id,
                "journal_id": journal.id,
                "date": date,
                "memo": memo,
                "company_id": self.company_id.id,
            }
        )
        payment.action_post()
        return payment

    # ---------------------------------------------------- outstanding payments
    @api.model
    def _stripe_settle_outstanding(self, invoices):
        """Reconcile each posted invoice with the outstanding Stripe payments
        registered for its order before it existed."""
        if not self.sudo().search_count([("platform", "=", "stripe")], limit=1):
            return
        for invoice in invoices.filtered(lambda m: m.move_type == "out_invoice"):
            sales = invoice.invoice_line_ids.sale_line_ids.order_id
            if not sales or invoice.payment_state not in ("not_paid", "partial"):
                continue
            payments = (
                self.env["account.payment"]
                .sudo()
                .search(
                    [
                        ("memo", "=like", "Stripe pi\\_%"),
                        ("payment_type", "=", "inbound"),
                        ("is_reconciled", "=", False),
                        ("state", "in", ("in_process", "paid")),
                        ("partner_id", "child_of", invoice.commercial_partner_id.id),
                    ]
                )
            )
            bindings = (
                self.env["retail.binding"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", "account.payment"),
                        ("res_id", "in", payments.ids),
                        ("backend_id.platform", "=", "stripe"),
                    ]
                )
                .filtered(lambda b, s=sales: (b.extra or {}).get("sale_order") in s.ids)
            )
            for payment in payments.browse(bindings.mapped("res_id")).sudo():
                lines = payment.move_id.line_ids.filtered(
                    lambda line, inv=invoice: (
                        not line.reconciled
                        and line.account_id
                        in inv.line_ids.filtered(
                            lambda i: i.display_type == "payment_term"
                        ).account_id
                    )
                )
                for line in lines:
                    invoice.js_assign_outstanding_line(line.id)
