"""Shared fixtures: a TestShop backend wired to a live TestShop sandbox."""

import json
import time

from odoo.tests import HttpCase

from odoo.addons.retail_connect_base.tests.common import (
    dispatch,
    run_job,
    run_jobs,
    sandboxes,
)

sandboxes()
from sandboxes.testshop import TestShopSandbox, sign  # noqa: E402

__all__ = ["TestShopCase", "dispatch", "run_job", "run_jobs", "sign", "TOKEN", "SECRET"]

TOKEN = "test-token-0123"
SECRET = "whsec-current-4567"


class TestShopCase(HttpCase):
    """A live sandbox and an active TestShop backend pointing at it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sandbox = TestShopSandbox(token=TOKEN, webhook_secret=SECRET)
        cls.server = cls.sandbox.serve()
        cls.addClassCleanup(cls.server.stop)
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Customer data owner",
                "login": "rc_owner",
                "email": "owner@example.com",
                "groups_id": [
                    (4, cls.env.ref("retail_connect_base.group_user").id),
                    (4, cls.env.ref("base.group_user").id),
                ],
            }
        )
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "TestShop",
                "platform": "testshop",
                "environment": "sandbox",
                "base_url": cls.server.url,
                "rate_limit_capacity": 100,
                "rate_limit_per_second": 100,
                "job_max_retries": 3,
            }
        )
        cls.backend.access_token = TOKEN
        cls.backend.webhook_secret = SECRET
        cls.backend.action_activate()
        cls.backend._policy("customer").owner_user_id = cls.owner
        cls.Event = cls.env["retail.event"]
        cls.Binding = cls.env["retail.binding"]
        cls.Exception = cls.env["retail.sync.exception"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.sandbox.webhook_url = self.webhook_url()

    def webhook_url(self, backend=None):
        backend = backend or self.backend
        return (
            f"http://127.0.0.1:{self.http_port()}/retail_connect/webhook/{backend.id}"
        )

    def post_event(self, event, *, secret=SECRET, timestamp=None, headers=None):
        """POST a TestShop event to Odoo with a signature made here."""
        raw = json.dumps(event).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": "application/json",
            "X-TestShop-Topic": event["topic"],
            "X-TestShop-Event-Id": event["id"],
            "X-TestShop-Timestamp": str(timestamp),
            "X-TestShop-Signature": sign(raw, timestamp, secret),
        }
        all_headers.update(headers or {})
        return self.url_open(self.webhook_url(), data=raw, headers=all_headers)

    def event_for(self, customer, topic="customer/created", event_id=None):
        return {
            "id": event_id or f"evt_{customer['id']}_{customer['version']}_{topic}",
            "topic": topic,
            "occurred_at": customer["updated_at"],
            "data": customer,
        }

    def partners_bound(self):
        return self.Binding.search(
            [("backend_id", "=", self.backend.id), ("res_model", "=", "res.partner")]
        )
