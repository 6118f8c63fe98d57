"""A Stripe backend wired to a live Stripe sandbox (tests/sandboxes/stripe)."""

import requests

from odoo.tests import HttpCase

from odoo.addons.retail_connect_base.tests.common import run_job, run_jobs, sandboxes

sandboxes()
from sandboxes.stripe import StripeSandbox  # noqa: E402

__all__ = ["StripeCase", "run_job", "run_jobs"]

KEY = "sk_test_retailconnect"


class StripeCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sandbox = StripeSandbox(secret_key=KEY)
        cls.server = cls.sandbox.serve()
        cls.addClassCleanup(cls.server.stop)
        company = cls.env.company
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        clearing = cls.env["account.account"].create(
            {
                "name": "Stripe clearing",
                "code": "1019901",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        cls.journal = cls.env["account.journal"].create(
            {
                "name": "Stripe",
                "code": "STRP",
                "type": "bank",
                "currency_id": cls.usd.id if company.currency_id != cls.usd else False,
            }
        )
        cls.journal.inbound_payment_method_line_ids.payment_account_id = clearing
        cls.journal.outbound_payment_method_line_ids.payment_account_id = clearing
        cls.product = cls.env["product.product"].create(
            {
                "name": "Course",
                "type": "service",
                "invoice_policy": "order",
                "list_price": 120.0,
                "taxes_id": [(5,)],
            }
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Jane Doe", "email": "jane@example.com"}
        )
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "Acme Stripe",
                "platform": "stripe",
                "environment": "sandbox",
                "base_url": cls.server.url,
                "stripe_currency_id": cls.usd.id,
                "stripe_journal_id": cls.journal.id,
                "job_max_retries": 3,
            }
        )
        cls.backend.api_key = KEY
        cls.backend.action_activate()
        cls.Event = cls.env["retail.event"]
        cls.Binding = cls.env["retail.binding"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", f"http://127.0.0.1:{self.http_port()}"
        )
        self.backend.invalidate_recordset(["webhook_url"])
        self.backend._stripe_register_webhook()

    # ------------------------------------------------------------ helpers
    def admin(self, path, data=None):
        """Drive the sandbox as Stripe's Dashboard and card networks do."""
        answer = requests.post(
            f"{self.server.url}/__sandbox__/{path}", json=data or {}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def pay(self, amount, **data):
        """A succeeded card payment of ``amount`` (in cents)."""
        return self.admin("payments", dict(data, amount=amount, currency="usd"))

    def flush(self, **kwargs):
        return self.admin("webhooks/flush", kwargs)

    def order(self, price=120.0, invoice=True, partner=None):
        sale = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.partner).id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "price_unit": price})
                ],
            }
        )
        sale.action_confirm()
        if invoice:
            sale._create_invoices().action_post()
        return sale

    def events(self):
        return self.Event.search([("backend_id", "=", self.backend.id)])

    def payments(self):
        bindings = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "account.payment"),
            ]
        )
        return self.env["account.payment"].browse(bindings.mapped("res_id"))
