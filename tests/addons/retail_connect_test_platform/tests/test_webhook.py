import json
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import SECRET, TestShopCase, run_jobs


@tagged("post_install", "-at_install")
class TestWebhookIngress(TestShopCase):
    def test_signed_webhook_becomes_one_event_and_one_partner(self):
        customer = self.sandbox.add_customer(
            "jane@example.com", "Jane Doe", "+4915112345678"
        )
        self.sandbox.emit("customer/created", customer)
        self.assertEqual([d.status for d in self.sandbox.webhooks.history], [200])
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(event), 1)
        # stored by the request; its job comes from the dispatcher (test_dispatch)
        self.assertEqual(event.state, "received")
        self.assertEqual(event.subject_key, f"customer:{customer['id']}")
        run_jobs(self.env)
        self.assertTrue(event.job_uuid)
        self.assertEqual(event.state, "done")
        partner = self.env["res.partner"].browse(event.res_id)
        self.assertEqual(partner.email, "jane@example.com")
        self.assertEqual(self.partners_bound().res_id, partner.id)

    def test_duplicate_delivery_is_stored_once(self):
        customer = self.sandbox.add_customer("dup@example.com", "Dup")
        event = self.event_for(customer)
        first = self.post_event(event)
        second = self.post_event(event)
        self.assertEqual((first.status_code, first.text), (200, "stored"))
        self.assertEqual((second.status_code, second.text), (200, "duplicate"))
        self.assertEqual(self.Event.search_count([("dedup_key", "=", event["id"])]), 1)
        run_jobs(self.env)
        self.assertEqual(
            self.env["res.partner"].search_count([("email", "=", "dup@example.com")]), 1
        )
        self.assertEqual(len(self.partners_bound()), 1)

    def test_forged_webhook_is_refused_and_stores_nothing(self):
        customer = self.sandbox.add_customer("forged@example.com", "Forged")
        before = self.Event.search_count([])
        answer = self.post_event(self.event_for(customer), secret="not-the-secret")
        self.assertEqual(answer.status_code, 401)
        unsigned = self.post_event(
            self.event_for(customer, event_id="evt_x"),
            headers={"X-TestShop-Signature": ""},
        )
        self.assertEqual(unsigned.status_code, 401)
        self.assertEqual(self.Event.search_count([]), before)

    def test_oversized_stale_and_malformed_deliveries_are_refused(self):
        customer = self.sandbox.add_customer("big@example.com", "Big")
        self.backend.webhook_max_bytes = 200
        big = self.event_for(customer)
        big["data"]["name"] = "x" * 500
        self.assertEqual(self.post_event(big).status_code, 413)
        self.backend.webhook_max_bytes = 1024 * 1024
        old = self.post_event(
            self.event_for(customer, event_id="evt_old"),
            timestamp=int(time.time()) - 2 * 3600,
        )
        self.assertEqual(old.status_code, 400)
        raw = b"{not json"
        ts = int(time.time())
        from sandboxes.testshop import sign  # noqa: PLC0415

        malformed = self.url_open(
            self.webhook_url(),
            data=raw,
            headers={
                "X-TestShop-Topic": "customer/created",
                "X-TestShop-Event-Id": "evt_bad",
                "X-TestShop-Timestamp": str(ts),
                "X-TestShop-Signature": sign(raw, ts, SECRET),
            },
        )
        self.assertEqual(malformed.status_code, 400)
        self.assertFalse(self.Event.search([("backend_id", "=", self.backend.id)]))

    def test_a_change_of_the_backend_reaches_the_next_delivery(self):
        """The route keeps a backend's webhook fields per worker (no query):
        a write of one of them reaches the very next delivery."""
        customer = self.sandbox.add_customer("cache@example.com", "Cache")
        first = self.post_event(self.event_for(customer, event_id="evt_c1"))
        self.assertEqual((first.status_code, first.text), (200, "stored"))
        self.backend.webhook_max_bytes = 200
        big = self.event_for(customer, event_id="evt_c2")
        big["data"]["name"] = "x" * 500
        self.assertEqual(self.post_event(big).status_code, 413, "the new limit")
        self.backend.write({"state": "draft"})
        drafted = self.post_event(self.event_for(customer, event_id="evt_c3"))
        self.assertEqual(drafted.status_code, 401, "a draft backend takes nothing")
        self.assertEqual(
            self.Event.search([("backend_id", "=", self.backend.id)]).mapped(
                "dedup_key"
            ),
            ["evt_c1"],
        )

    def test_previous_secret_accepted_only_during_grace(self):
        customer = self.sandbox.add_customer("rot@example.com", "Rot")
        self.backend.webhook_secret = "whsec-new-8910"
        answer = self.post_event(self.event_for(customer, event_id="evt_a"))
        self.assertEqual(answer.status_code, 200, "old secret valid during grace")
        self.backend.webhook_previous_valid_until = fields.Datetime.now() - timedelta(
            minutes=1
        )
        late = self.post_event(self.event_for(customer, event_id="evt_b"))
        self.assertEqual(late.status_code, 401, "old secret refused after grace")
        new = self.post_event(
            self.event_for(customer, event_id="evt_c"), secret="whsec-new-8910"
        )
        self.assertEqual(new.status_code, 200)

    def test_reordered_older_event_is_skipped_as_stale(self):
        customer = self.sandbox.add_customer("order@example.com", "First Name")
        created = self.event_for(customer)
        self.sandbox.clock.advance(60)
        newer = self.sandbox.update_customer(customer["id"], name="Second Name")
        # the update arrives first, the creation (older) last
        self.post_event(self.event_for(newer, topic="customer/updated"))
        run_jobs(self.env)
        self.post_event(created)
        run_jobs(self.env)
        events = self.Event.search([("backend_id", "=", self.backend.id)], order="id")
        self.assertEqual(events.mapped("state"), ["done", "skipped_stale"])
        partner = self.env["res.partner"].browse(events[0].res_id)
        self.assertEqual(partner.name, "Second Name")
        self.assertEqual(len(self.partners_bound()), 1)

    def test_paused_backend_keeps_events_until_resumed(self):
        customer = self.sandbox.add_customer("pause@example.com", "Paused")
        self.backend.action_pause("maintenance")
        answer = self.post_event(self.event_for(customer))
        self.assertEqual(answer.status_code, 200)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual((event.state, event.job_uuid), ("received", False))
        self.backend.action_resume()
        self.assertEqual(event.state, "queued")
        run_jobs(self.env)
        self.assertEqual(event.state, "done")

    def test_unknown_backend_is_answered_as_a_bad_signature(self):
        answer = self.url_open(
            f"http://127.0.0.1:{self.http_port()}/retail_connect/webhook/999999",
            data=json.dumps({}).encode(),
        )
        self.assertEqual((answer.status_code, answer.text), (401, "invalid signature"))
