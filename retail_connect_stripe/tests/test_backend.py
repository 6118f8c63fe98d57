"""The Stripe backend: defaults, the write-only key, the connection check and
the client's wire protocol, against the live sandbox."""

from odoo.tests import tagged

from .common import KEY, StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeBackend(StripeCase):
    def test_defaults_pin_the_version_and_follow_stripe_limits(self):
        backend = self.backend
        self.assertEqual(backend.api_version, "2026-09-30.endive")
        self.assertEqual(backend.rate_limit_per_second, 25)
        self.assertEqual(backend.webhook_replay_window, 300)
        directions = {p.domain: p.direction for p in backend.policy_ids}
        self.assertEqual(directions["payment"], "in")
        self.assertEqual(directions["order"], "off")

    def test_the_form_hides_the_credentials_stripe_does_not_use(self):
        # one key: client secret and access token are hidden on its form,
        # by the base's rule that hides each platform's own unused fields
        self.assertEqual(
            set(self.backend.unused_fields.split()), {"client_secret", "access_token"}
        )

    def test_key_is_write_only(self):
        self.assertNotIn(KEY, str(self.backend.read(["api_key"])))
        self.assertEqual(self.backend._get_secret("api_key"), KEY)

    def test_every_call_pins_the_version_and_posts_carry_an_idempotency_key(self):
        self.sandbox.recorder.clear()
        self.backend._stripe_register_webhook()
        (post,) = self.sandbox.requests("/v1/webhook_endpoints", "POST")
        self.assertEqual(post.headers.get("Stripe-Version"), "2026-09-30.endive")
        self.assertTrue(post.headers.get("Idempotency-Key"))
        self.assertIn(b"enabled_events%5B%5D=charge.succeeded", post.body)
        endpoint = self.sandbox.ledger.objects[self.backend.stripe_webhook_endpoint]
        self.assertEqual(endpoint["api_version"], "2026-09-30.endive")

    def test_connection_check_passes_with_a_secret_key(self):
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result)
        self.assertTrue(self.backend.last_check_ok)

    def test_connection_check_names_what_a_restricted_key_lacks(self):
        key = self.sandbox.add_restricted_key(
            {
                "payment_intent": "read",
                "charge": "read",
                "customer": "read",
                "balance": "read",
                "payout": "read",
                "webhook": "write",
            }
        )
        self.backend.api_key = key
        try:
            result = self.backend.action_test_connection()
        finally:
            self.backend.api_key = KEY
        message = result["params"]["message"]
        self.assertEqual(result["params"]["type"], "danger", message)
        self.assertIn("rak_event_read", message)
        self.assertIn("rak_refund_write", message)
        self.assertIn("rak_dispute_read", message)
        self.assertNotIn("rak_charge_read", message)

    def test_a_refused_key_fails_the_check(self):
        self.backend.api_key = "sk_test_wrong"
        try:
            result = self.backend.action_test_connection()
        finally:
            self.backend.api_key = KEY
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("refused the API key", result["params"]["message"])

    def test_a_sandbox_backend_refuses_a_live_key(self):
        # a live key's prefix, no key at all (built so no scanner takes it
        # for a leaked credential)
        self.backend.api_key = "_".join(("sk", "live", "not", "a", "key"))
        try:
            result = self.backend.action_test_connection()
        finally:
            self.backend.api_key = KEY
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("live key", result["params"]["message"])
        self.assertFalse(self.sandbox.requests("/v1/", "GET"))

    def _poll(self):
        policy = self.backend._policy("payment")
        policy.with_delay(channel=self.backend._channel("bulk"))._job_poll()
        return run_jobs(self.env)

    def test_503_with_should_retry_is_retried_then_succeeds(self):
        self.sandbox.inject_fault("status", status=503, path="/v1/events")
        (job,) = self._poll()
        self.assertEqual(job.state, "pending", "retried later, not failed")
        self.assertEqual(job.retry, 1)
        (job,) = run_jobs(self.env)
        self.assertEqual(job.state, "done", job.result)

    def test_429_is_a_throttle_that_uses_no_retry(self):
        self.sandbox.inject_fault("throttle", path="/v1/events")
        (job,) = self._poll()
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.retry, 0, "a throttle never uses up a retry")

    def test_a_saved_500_with_should_retry_false_is_not_retried(self):
        # GETs are not idempotent-keyed: Stripe-Should-Retry: false decides
        self.sandbox.inject_fault(
            "status",
            status=500,
            path="/v1/events",
            headers={"Stripe-Should-Retry": "false"},
        )
        (job,) = self._poll()
        self.assertEqual(job.state, "done")
        self.assertTrue(job.result.startswith("failed"), job.result)
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("subject_key", "=", "poll:payment")]
        )
        self.assertEqual(len(exception), 1)

    def test_health_says_what_stripe_setup_is_missing(self):
        self.backend.invalidate_recordset(["health", "health_message"])
        self.assertNotIn("webhook", (self.backend.health_message or "").lower())
        self.backend.stripe_webhook_endpoint = False
        lines = self.journal.inbound_payment_method_line_ids
        lines.payment_account_id = False
        self.backend.invalidate_recordset(["health", "health_message"])
        self.assertEqual(self.backend.health, "warning")
        self.assertIn("Register webhook", self.backend.health_message)
        self.assertIn("outstanding receipts account", self.backend.health_message)
