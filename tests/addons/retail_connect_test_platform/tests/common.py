"""Shared fixtures: a TestShop backend wired to a live TestShop sandbox.

Jobs run through queue_job's own ``Job`` API (load, perform, postpone, done),
the same steps as its runner's controller, inside the test transaction.
"""

import json
import sys
import time
import traceback
from pathlib import Path

from odoo.tests import HttpCase

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

SANDBOXES = Path(__file__).resolve().parents[3]  # <repo>/tests
if str(SANDBOXES) not in sys.path:
    sys.path.insert(0, str(SANDBOXES))

from sandboxes.testshop import TestShopSandbox, sign  # noqa: E402

TOKEN = "test-token-0123"
SECRET = "whsec-current-4567"


def run_job(env, uuid):
    """Run one job as queue_job's runner would; return the Job."""
    job = Job.load(env, uuid)
    job.set_started()
    job.store()
    try:
        with env.cr.savepoint():
            job.perform()
            env.flush_all()
        job.set_done()
        job.store()
    except RetryableJobError as err:
        job.postpone(result=str(err), seconds=err.seconds)
        job.set_pending(reset_retry=False)
        job.store()
    except Exception as err:  # noqa: BLE001 - the runner records any failure
        job.set_failed(
            exc_info=traceback.format_exc(),
            exc_name=type(err).__name__,
            exc_message=str(err),
        )
        job.store()
    env.flush_all()
    env.invalidate_all()
    return job


def run_jobs(env, rounds=1):
    """Run every pending suite job (ignoring ETAs), ``rounds`` times over."""
    done = []
    for _ in range(rounds):
        records = env["queue.job"].search(
            [("state", "=", "pending"), ("channel", "like", "root.retail_connect%")],
            order="id",
        )
        if not records:
            break
        done += [run_job(env, rec.uuid) for rec in records]
    return done


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
        cls.backend.policy("customer").owner_user_id = cls.owner
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
