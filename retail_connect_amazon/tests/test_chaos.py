"""Chaos: 429s, 5xx, expiring access and pagination tokens, duplicate
notifications, through real HTTP and real queue jobs: every order ends up
in Odoo once, no job fails, no exception is left open."""

import json
import random
from unittest.mock import patch

import requests

from odoo.tests import tagged

from ..lib.client import AmazonClient
from .common import AmazonCase, run_jobs

KEY = "relay-key-chaos-0123456789"
ARN = "arn:aws:sqs:eu-west-1:123456789012:amazon-orders"


@tagged("post_install", "-at_install")
class TestAmazonChaos(AmazonCase):
    def setUp(self):
        super().setUp()
        self.backend.write(
            {
                "webhook_secret": KEY,
                "amazon_destination_kind": "sqs",
                "amazon_sqs_arn": ARN,
                "amazon_destination_id": False,
                "amazon_subscription_id": False,
            }
        )

    def admin(self, path, **body):
        return requests.post(
            f"{self.server.url}/__sandbox__/{path}", json=body, timeout=10
        ).json()

    def small_pages_expiring_after_the_first(self):
        """searchOrders in pages of 2; every pagination token expires (24 h
        on the sandbox clock) right after the first page of the poll."""
        original = AmazonClient.call
        state = {"expired": 0}
        server = self.server.url

        def call(client, method, path, *, operation, params=None, json=None):
            if operation == "searchOrders":
                params = dict(params or {}, maxResultsPerPage=2)
            answer = original(
                client, method, path, operation=operation, params=params, json=json
            )
            if operation == "searchOrders" and not state["expired"]:
                if (answer.get("pagination") or {}).get("nextToken"):
                    state["expired"] += 1
                    requests.post(f"{server}/__sandbox__/pagination/expire", timeout=10)
            return answer

        return patch.object(AmazonClient, "call", call), state

    def test_an_expired_pagination_token_restarts_the_search(self):
        orders = [self.place() for _ in range(5)]
        patcher, state = self.small_pages_expiring_after_the_first()
        with patcher:
            jobs = self.poll()
        self.assertEqual(state["expired"], 1)
        self.assertFalse([job for job in jobs if job.state == "failed"])
        refused = self.exchanges("searchOrders").filtered(lambda e: e.status == 400)
        self.assertEqual(len(refused), 1, "the expired token was refused once")
        sales = self.sale_orders()
        self.assertEqual(len(sales), 5, "nothing lost, nothing twice")
        self.assertEqual(
            sorted(sales.mapped("client_order_ref")),
            sorted(order.order_id for order in orders),
        )
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )

    def test_chaos(self):
        self.backend.action_amazon_subscribe_notifications()
        self.sandbox_receive()
        orders = [self.place() for _ in range(4)]
        envelopes = self.sandbox_receive()
        self.assertEqual(len(envelopes), 4)
        # faults on the way: 5xx and 429 on getOrder and searchOrders
        self.sandbox.inject_fault("status", status=503, operation="getOrder", times=1)
        self.sandbox.inject_fault("throttle", operation="getOrder", times=1, skip=1)
        self.sandbox.inject_fault(
            "status", status=500, operation="searchOrders", times=1
        )
        # every access token dies: the next call is refused, renewed once
        self.admin("lwa/expire")
        # the relay delivers each at least once, in any order
        deliveries = envelopes * 2
        random.Random(11).shuffle(deliveries)
        answers = [
            self.url_open(
                f"/retail_connect/webhook/{self.backend.id}",
                data=json.dumps(envelope).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Retail-Connect-Key": KEY,
                },
            ).text
            for envelope in deliveries
        ]
        self.assertEqual(answers.count("stored"), 4)
        self.assertEqual(answers.count("duplicate"), 4)
        jobs = run_jobs(self.env, rounds=6)
        patcher, state = self.small_pages_expiring_after_the_first()
        with patcher:
            jobs += self.poll(rounds=6)
            jobs += self.poll(rounds=6)
        self.assertEqual(state["expired"], 1)
        self.assertFalse([job for job in jobs if job.state == "failed"])
        self.assertFalse(
            self.env["queue.job"].search(
                [("state", "=", "failed"), ("channel", "=like", "root.retail_connect%")]
            )
        )
        sales = self.sale_orders()
        self.assertEqual(len(sales), 4, "each order once")
        self.assertEqual(
            sorted(sales.mapped("client_order_ref")),
            sorted(order.order_id for order in orders),
        )
        self.assertEqual(set(sales.mapped("state")), {"sale"})
        # every fault struck (a failed attempt's exchanges roll back with it)
        faults = requests.get(f"{self.server.url}/__sandbox__/faults", timeout=10)
        self.assertEqual(faults.json(), [])
        self.assertIn(400, self.exchanges("searchOrders").mapped("status"))
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )

    def sandbox_receive(self):
        from sandboxes.amazon import notifications

        return notifications.receive(self.sandbox)
