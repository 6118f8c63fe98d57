"""Payments of Shopify orders: each successful transaction booked once.

An imported order whose backend imports payments (its Payments policy) gets
an ``orders/payments`` event; processing it reads the order's transactions
(``Order.transactions``, amounts in ``shopMoney``, the shop's currency: the
books never take the customer's presentment amounts) and books each
successful SALE or CAPTURE, and each successful REFUND, that no payment is
bound to yet (bound by the transaction's Shopify id: re-imports, order
updates and replays book nothing twice):

- in the journal its gateway is mapped to (``shopify.payment.gateway``); an
  unmapped gateway fails the event with one mapping exception per gateway,
  whose fix is to map it and press Retry;
- a SALE/CAPTURE on the order's open invoice (the backend's "Invoice paid
  orders" invoices a paid, confirmed order first), else as a posted payment
  outstanding on the customer, linked to the order: the order's invoice,
  once posted, is settled by it (``account_move.py``);
- a REFUND on the credit note of its refund, else outstanding the same way;
- a gateway another backend books (its "Booked by", or a ``stripe`` gateway
  while a Stripe backend of the company imports payments) is left to it.
"""

import json

from odoo import fields, models
from odoo.tools import float_is_zero

from odoo.addons.retail_connect_base.lib.errors import EventSkipped, MappingError
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib import documents as gql
from ..lib import mappers
from .retail_backend import IMPORT_CONTEXT

PAYMENT_TOPIC = "orders/payments"
BOOKED_KINDS = ("SALE", "CAPTURE", "REFUND")
OPEN_DOCUMENT = [
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
]


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_gateway_ids = fields.One2many(
        "shopify.payment.gateway", "backend_id", "Payment gateways"
    )
    shopify_invoice_paid_orders = fields.Boolean(
        "Invoice paid orders",
        help="With the Payments policy importing: a confirmed order Shopify "
        "reports paid is invoiced (invoice posted) and its payments are "
        "registered on the invoice. Off: its payments stay outstanding on "
        "the customer, linked to the order, and settle its invoice once "
        "someone posts it.",
    )

    # ------------------------------------------------------------ queueing
    def _shopify_queue_payments(self, order, key=None):
        """An ``orders/payments`` event for ``order`` (a GraphQL order or a
        ``{"id", "name"}``), when this backend imports payments."""
        policy = self.policy_ids.filtered(lambda p: p.domain == "payment")[:1]
        if not policy or not policy._allows_import():
            return None
        if "transactions" in order and not any(
            txn.get("status") == "SUCCESS"
            and txn.get("kind") in BOOKED_KINDS
            and not self._shopify_booked(txn["id"])
            for txn in order["transactions"] or []
        ):
            return None  # nothing moved money that is not booked yet
        numeric = mappers.numeric_id(order["id"])
        event, _created = self.env["retail.event"]._ingest(
            self,
            Delivery(
                topic=PAYMENT_TOPIC,
                dedup_key=f"payments:{order['id']}:{key or order.get('updatedAt')}",
                payload=json.dumps({"id": order["id"], "name": order["name"]}).encode(),
                subject_key=f"payments:{numeric}",
            ),
            source="poll",
        )
        return event

    # ------------------------------------------------------------ booking
    def _shopify_book_payments(self, gid):
        """Book the order's successful transactions not booked yet."""
        self.ensure_one()
        bindings = self.env["retail.binding"]
        self._lock_external("shopify.payments", gid)
        order_binding = bindings._lookup(self, "sale.order", gid)
        sale = order_binding._record() if order_binding else None
        if not sale:
            raise EventSkipped("skipped_policy", f"{gid} is not imported")
        order = (
            self._shopify_client()
            .graphql(
                gql.ORDER_TRANSACTIONS,
                {"id": gid},
                operation="OrderTransactions",
                cost=60,
            )
            .get("order")
        )
        if not order:
            raise self._shopify_missing_order(gid)
        todo = [
            dict(txn, gateway=txn.get("gateway") or "")  # nullable in the schema
            for txn in order.get("transactions") or []
            if txn.get("status") == "SUCCESS"
            and txn.get("kind") in BOOKED_KINDS
            and not self._shopify_booked(txn["id"])
        ]
        if not todo:
            raise EventSkipped(
                "skipped_duplicate", f"{order['name']}: every payment is booked"
            )
        rows, elsewhere = self._shopify_gateway_rows(todo)
        todo = [txn for txn in todo if txn["gateway"] not in elsewhere]
        # invoiced whoever books the money: the other backend registers its
        # payment on this invoice (Stripe: metadata shopify_order)
        invoiced = self.shopify_invoice_paid_orders and self._shopify_invoice_paid(
            sale, order
        )
        if not todo and not invoiced:
            raise EventSkipped(
                "skipped_policy",
                f"{order['name']}: paid through "
                + ", ".join(
                    f"{name} (booked by {backend.name})"
                    for name, backend in elsewhere.items()
                ),
            )
        refund_of = self._shopify_refund_of(order)
        for txn in todo:
            self._shopify_book_transaction(
                sale, order, txn, rows[txn["gateway"]], refund_of
            )
        for name in {txn["gateway"] for txn in todo}:
            self._shopify_resolve_gateway(name)
        return sale

    def _shopify_refund_of(self, order):
        """``{REFUND transaction gid: its refund gid}`` over every refund of
        ``order``: a refund's transactions beyond their first page are read
        page after page (a connection; no call when the first page is all)."""
        refund_of = {}
        for refund in order.get("refunds") or []:
            nodes = self._shopify_all_nodes(
                refund.get("transactions"),
                gql.REFUND_TRANSACTIONS,
                refund["id"],
                operation="RefundTransactions",
                path=("node", "transactions"),
                cost=110,
                first=100,
            )
            refund_of.update((txn["id"], refund["id"]) for txn in nodes)
        return refund_of

    def _shopify_booked(self, transaction_gid):
        binding = self.env["retail.binding"]._lookup(
            self, "account.payment", transaction_gid
        )
        return bool(binding and binding._record())

    def _shopify_gateway_rows(self, transactions):
        """``({gateway: mapping row}, {gateway: backend booking it})``; an
        unmapped gateway raises its mapping exception."""
        rows, elsewhere = {}, {}
        for name in sorted({txn["gateway"] for txn in transactions}):
            row = self.shopify_gateway_ids.filtered(lambda r, n=name: r.name == n)[:1]
            owner = self._shopify_gateway_owner(name, row)
            if owner:
                elsewhere[name] = owner
            elif row.journal_id:
                rows[name] = row
            else:
                raise self._shopify_unmapped_gateway(name, row)
        return rows, elsewhere

    def _shopify_gateway_owner(self, name, row):
        """The other backend that books this gateway's payments now, or None."""
        candidates = row.booked_by_id
        if not candidates and name.lower().startswith("stripe"):
            # a Shopify store taking payments through its own Stripe account:
            # the Stripe backend reads the PaymentIntents (stripe_payment.py)
            candidates = self.sudo().search(
                [("platform", "=", "stripe"), ("company_id", "=", self.company_id.id)]
            )
        for backend in candidates.sudo():
            policy = backend.policy_ids.filtered(lambda p: p.domain == "payment")[:1]
            if policy and policy._allows_import():
                return backend
        return None

    def _shopify_unmapped_gateway(self, name, row):
        _ = self.env._
        if row.booked_by_id:
            message = _(
                'Shopify payment gateway "%(gateway)s" is booked by %(other)s, '
                "whose Payments policy does not import now: turn it on there, or "
                "give the gateway a journal on %(backend)s (Shopify tab, Payment "
                "gateways), then press Retry.",
                gateway=name,
                other=row.booked_by_id.name,
                backend=self.name,
            )
        else:
            message = _(
                'Shopify payment gateway "%(gateway)s" has no journal on '
                "%(backend)s: map it (Shopify tab, Payment gateways: the gateway "
                "as Shopify names it and its journal), then press Retry: the "
                "payments of its orders are booked.",
                gateway=name,
                backend=self.name,
            )
        return MappingError(
            message, subject_key=f"gateway:{name}", fix={"gateway": name}
        )

    def _shopify_resolve_gateway(self, name):
        exceptions = (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", f"gateway:{name}"),
                    ("state", "in", ("open", "in_progress")),
                ]
            )
        )
        if exceptions:
            exceptions._resolve(
                self.env._(
                    "Resolved: gateway %(gateway)s is mapped, its payments are booked.",
                    gateway=name,
                )
            )

    def _shopify_invoice_paid(self, sale, order):
        """Invoice (and post) a confirmed order Shopify reports paid."""
        if (
            sale.state != "sale"
            or order.get("displayFinancialStatus") not in mappers.PAID
            or sale.invoice_status != "to invoice"
        ):
            return None
        invoices = sale.with_context(**IMPORT_CONTEXT)._create_invoices()
        invoices.action_post()
        return invoices

    def _shopify_book_transaction(self, sale, order, txn, row, refund_of):
        currency = sale.currency_id
        money = (txn.get("amountSet") or {}).get("shopMoney") or {}
        subject = f"payments:{mappers.numeric_id(order['id'])}"
        if money.get("currencyCode") != currency.name:
            raise MappingError(
                f"{order['name']}: transaction {txn['id']} is in "
                f"{money.get('currencyCode')}, the order in {currency.name}.",
                subject_key=subject,
            )
        amount = float(money.get("amount") or 0.0)
        if float_is_zero(amount, precision_rounding=currency.rounding):
            return None
        refund = txn["kind"] == "REFUND"
        if refund:
            binding = self.env["retail.binding"]._lookup(
                self, "account.move", refund_of.get(txn["id"]) or ""
            )
            documents = (binding._record() if binding else None) or sale.browse()
            documents = documents.filtered_domain(OPEN_DOCUMENT)
        else:
            documents = sale.invoice_ids.filtered_domain(
                [("move_type", "=", "out_invoice"), *OPEN_DOCUMENT]
            )
        when = mappers.naive_utc(txn.get("processedAt") or txn.get("createdAt"))
        values = {
            "journal": row.journal_id,
            "method": row.payment_method_line_id if not refund else None,
            "amount": amount,
            "currency": currency,
            "date": (when or fields.Datetime.now()).date(),
            "memo": f"Shopify {order['name']} {txn['gateway']} "
            f"{mappers.numeric_id(txn['id'])}",
        }
        if documents:
            payment = self._shopify_register(documents, values)
        else:
            payment = self._shopify_outstanding(
                sale.partner_invoice_id.commercial_partner_id,
                "outbound" if refund else "inbound",
                values,
            )
        self.env["retail.binding"]._bind(
            self,
            payment,
            txn["id"],
            external_ref=values["memo"],
            remote_updated_at=when,
            extra={"sale_order": sale.id, "gateway": txn["gateway"]},
        )
        return payment

    def _shopify_register(self, documents, values):
        """One payment registered on open invoices (or credit notes)."""
        vals = {
            "journal_id": values["journal"].id,
            "amount": values["amount"],
            "currency_id": values["currency"].id,
            "payment_date": values["date"],
            "communication": values["memo"],
            "group_payment": True,
            "payment_difference_handling": "open",
        }
        if values["method"]:
            vals["payment_method_line_id"] = values["method"].id
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=documents.ids)
            .create(vals)
        )
        payments = wizard._create_payments()
        return payments[:1]

    def _shopify_outstanding(self, partner, payment_type, values):
        """A posted customer payment (or refund) not reconciled yet."""
        vals = {
            "payment_type": payment_type,
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": values["amount"],
            "currency_id": values["currency"].id,
            "journal_id": values["journal"].id,
            "date": values["date"],
            "memo": values["memo"],
            "company_id": self.company_id.id,
        }
        if values["method"]:
            vals["payment_method_line_id"] = values["method"].id
        payment = self.env["account.payment"].create(vals)
        payment.action_post()
        return payment

    # ------------------------------------------------- outstanding payments
    def _shopify_settle_outstanding(self, moves):
        """Reconcile each posted invoice (credit note) of an imported order
        with that order's Shopify payments (refunds) still outstanding."""
        if not self.sudo().search_count([("platform", "=", "shopify")], limit=1):
            return
        for move in moves.filtered(
            lambda m: (
                m.move_type in ("out_invoice", "out_refund")
                and m.payment_state in ("not_paid", "partial")
            )
        ):
            sales = move.invoice_line_ids.sale_line_ids.order_id
            if not sales:
                continue
            payments = (
                self.env["account.payment"]
                .sudo()
                .search(
                    [
                        ("memo", "=like", "Shopify %"),
                        (
                            "payment_type",
                            "=",
                            "inbound"
                            if move.move_type == "out_invoice"
                            else "outbound",
                        ),
                        ("is_reconciled", "=", False),
                        ("state", "in", ("in_process", "paid")),
                        ("partner_id", "child_of", move.commercial_partner_id.id),
                    ]
                )
            )
            if not payments:
                continue
            bound = (
                self.env["retail.binding"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", "account.payment"),
                        ("res_id", "in", payments.ids),
                        ("backend_id.platform", "=", "shopify"),
                    ]
                )
                .filtered(lambda b, s=sales: (b.extra or {}).get("sale_order") in s.ids)
            )
            accounts = move.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            ).account_id
            for payment in payments.browse(bound.mapped("res_id")).sudo():
                for line in payment.move_id.line_ids.filtered(
                    lambda line, a=accounts: (
                        not line.reconciled and line.account_id in a
                    )
                ):
                    if move.payment_state in ("not_paid", "partial"):
                        move.js_assign_outstanding_line(line.id)
