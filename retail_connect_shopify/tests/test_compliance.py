"""Shopify's mandatory compliance webhooks (issue 7, point 13).

customers/data_request, customers/redact and shop/redact come from the app's
compliance URL (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance);
they are legal obligations, processed whatever the sync policies say.
"""

import base64
import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..lib.mappers import numeric_id
from .common import ShopifyCase, run_jobs

JANE = ("jane@example.com", "Jane", "+4915112345678", "Hauptstr")


@tagged("post_install", "-at_install")
class TestCompliance(ShopifyCase):
    def setUp(self):
        super().setUp()
        # the app's compliance URL is Odoo's webhook door of the backend
        self.sandbox.compliance_url = self.sandbox.webhook_url
        self.Partner = self.env["res.partner"].with_context(active_test=False)
        # exchanges are logged on a side cursor: earlier tests' stay committed
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM retail_exchange")
        self.exchanges_before = self.env.cr.fetchone()[0]

    def _import(self, **kwargs):
        """Jane's order, imported; return (Shopify order, customer GID, sale)."""
        order = self.new_order(**kwargs)
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders()
        self.assertEqual(len(sale), 1)
        return order, self.sandbox.order(order["id"])["customerId"], sale

    def _compliance_event(self, topic):
        event = self.Event.search(
            [("backend_id", "=", self.backend.id), ("topic", "=", topic)]
        )
        self.assertEqual(len(event), 1)
        return event

    def _held_anywhere(self, value):
        """Events or exchanges of the backend whose stored text holds ``value``."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT 'event', id FROM retail_event
             WHERE backend_id = %(b)s AND strpos(payload, %(v)s) > 0
             UNION ALL
            SELECT 'exchange', id FROM retail_exchange
             WHERE backend_id = %(b)s AND id > %(x)s
               AND (strpos(request_body, %(v)s) > 0
                    OR strpos(response_body, %(v)s) > 0)
            """,
            {"b": self.backend.id, "v": value, "x": self.exchanges_before},
        )
        return self.env.cr.fetchall()

    def test_data_request_gives_the_owner_one_activity_with_the_orders(self):
        owner = self.env["res.users"].create(
            {"name": "Data Protection", "login": "dpo-compliance"}
        )
        self.backend.data_protection_user_id = owner
        order, customer, sale = self._import()
        partner = sale.partner_id.commercial_partner_id
        partners = self.Partner.search_count([])
        self.sandbox.request_customer_data(customer)
        run_jobs(self.env)
        event = self._compliance_event("customers/data_request")
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(self.Partner.search_count([]), partners)
        activity = partner.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, owner)
        # Shopify expects the request handled within 30 days
        self.assertEqual(
            activity.date_deadline,
            fields.Date.to_date(event.received_at) + timedelta(days=30),
        )
        self.assertEqual(len(activity.attachment_ids), 1)
        data = json.loads(base64.b64decode(activity.attachment_ids.datas))
        self.assertEqual(data["partner"]["email"], "jane@example.com")
        orders = {o["name"]: o for o in data["sale_orders"]}
        self.assertIn(sale.name, orders)
        self.assertAlmostEqual(orders[sale.name]["amount_total"], sale.amount_total)
        self.assertTrue(orders[sale.name]["date"])
        self.assertIn(
            numeric_id(customer), [b["external_ref"] for b in data["bindings"]]
        )
        topics = {e["topic"] for e in data["events"]}
        self.assertIn("orders/create", topics)

    def test_data_request_for_a_stranger_goes_to_the_backend(self):
        stranger = self.sandbox.add_customer("amy@example.com", "Amy", "Lee")
        partners = self.Partner.search_count([])
        self.sandbox.request_customer_data(stranger["id"])
        run_jobs(self.env)
        event = self._compliance_event("customers/data_request")
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(self.Partner.search_count([]), partners)
        activity = self.backend.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertTrue(
            activity.user_id.has_group("retail_connect_base.group_manager"),
            "by default the first Retail Connect manager owns it",
        )
        data = json.loads(base64.b64decode(activity.attachment_ids.datas))
        self.assertFalse(data["partner"])
        self.assertFalse(data["sale_orders"])

    def test_redact_anonymizes_the_partner_and_keeps_the_accounting(self):
        order, customer, sale = self._import()
        if sale.state != "sale":
            sale.action_confirm()
        invoice = sale._create_invoices()
        invoice.action_post()
        partner = sale.partner_id.commercial_partner_id
        # a legal obligation: processed whatever the policies say
        self.backend.policy_ids.filtered(
            lambda p: p.domain in ("customer", "order")
        ).direction = "off"
        partners = self.Partner.search_count([])
        self.assertTrue(self._held_anywhere("jane@example.com"))
        self.sandbox.redact_customer(customer)
        run_jobs(self.env)
        event = self._compliance_event("customers/redact")
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(self.Partner.search_count([]), partners, "no new partner")
        self.assertNotIn("Jane", partner.name)
        for contact in partner | partner.with_context(active_test=False).child_ids:
            for name in ("email", "phone", "mobile", "street", "street2", "city"):
                self.assertFalse(contact[name], f"{name} of {contact.id}")
            self.assertFalse(contact.zip)
            self.assertFalse(contact.retail_phone_e164)
            self.assertNotIn("Jane", contact.name or "")
        self.assertFalse(
            self.Binding.search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("res_model", "=", "res.partner"),
                ]
            ),
            "the link to the Shopify customer is gone",
        )
        # accounting documents stay, on the anonymized partner
        self.assertTrue(sale.exists() and invoice.exists())
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id.commercial_partner_id, partner)
        self.assertEqual(sale.partner_id.commercial_partner_id, partner)
        # the stored payloads of their events, the redact request's included
        for value in JANE:
            self.assertFalse(self._held_anywhere(value), value)
        order_events = self.Event.search(
            [("subject_key", "=", f"order:{numeric_id(order['id'])}")]
        )
        self.assertTrue(order_events)
        self.assertTrue(all(order_events.mapped("payload_purged")))
        self.assertTrue(event.payload_purged)

    def test_redact_of_a_customer_odoo_never_had_creates_nothing(self):
        stranger = self.sandbox.add_customer("amy@example.com", "Amy", "Lee")
        partners = self.Partner.search_count([])
        self.sandbox.redact_customer(stranger["id"])
        run_jobs(self.env)
        event = self._compliance_event("customers/redact")
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(self.Partner.search_count([]), partners)
        self.assertFalse(self.Partner.search([("name", "=", "?")]))
        self.assertFalse(self.Partner.search([("email", "=", "amy@example.com")]))
        note = self.backend.message_ids[:1]
        self.assertIn(str(numeric_id(stranger["id"])), note.body)
        self.assertIn("nothing", note.body)

    def test_shop_redact_purges_payloads_and_exchanges_and_pauses(self):
        self._import()
        self.env.flush_all()
        self.assertTrue(
            self.env["retail.exchange"].search([("backend_id", "=", self.backend.id)])
        )
        self.sandbox.redact_shop()
        run_jobs(self.env)
        event = self._compliance_event("shop/redact")
        self.assertEqual(event.state, "done", event.error)
        events = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertTrue(all(events.mapped("payload_purged")))
        self.assertFalse(self._held_anywhere("jane@example.com"))
        self.assertFalse(
            self.env["retail.exchange"].search([("backend_id", "=", self.backend.id)])
        )
        self.assertEqual(self.backend.state, "paused")
        self.assertIn("shop/redact", self.backend.message_ids[:1].body)

    def test_forged_compliance_webhook_is_refused(self):
        stranger = self.sandbox.add_customer("amy@example.com", "Amy", "Lee")
        body = {
            "shop_id": 1,
            "shop_domain": self.sandbox.shop,
            "customer": {"id": numeric_id(stranger["id"]), "email": None},
            "orders_to_redact": [],
        }
        raw = json.dumps(body).encode()
        event = {
            "id": str(uuid.uuid4()),
            "topic": "customers/redact",
            "triggered_at": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "api_version": self.sandbox.api_version,
        }
        headers = self.sandbox._sign_delivery(raw, event)
        headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(b"f" * 32).decode()
        answer = self.url_open(self.sandbox.compliance_url, data=raw, headers=headers)
        # "If a mandatory compliance webhook sends a request with an invalid
        # Shopify HMAC header, then the app must return a 401"
        self.assertEqual(answer.status_code, 401)
        self.assertFalse(
            self.Event.search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("topic", "=", "customers/redact"),
                ]
            )
        )
