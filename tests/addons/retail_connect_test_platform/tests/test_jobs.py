from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import TOKEN, TestShopCase, dispatch, run_job, run_jobs


@tagged("post_install", "-at_install")
class TestJobs(TestShopCase):
    def _queued_update(self, customer):
        self.post_event(self.event_for(customer, topic="customer/updated"))
        dispatch(self.env)
        return self.Event.search(
            [("backend_id", "=", self.backend.id), ("state", "=", "queued")],
            order="id desc",
            limit=1,
        )

    def test_throttled_call_is_rescheduled_with_the_asked_delay(self):
        customer = self.sandbox.add_customer("slow@example.com", "Slow")
        event = self._queued_update(customer)
        self.sandbox.inject_fault("throttle", seconds=7, times=1)  # 429 + Retry-After
        before = datetime.now()
        job = run_job(self.env, event.job_uuid)
        self.assertEqual(job.state, "pending", "a throttled job is not failed")
        self.assertEqual(event.state, "queued")
        delay = (job.eta - before).total_seconds()
        self.assertTrue(6 <= delay <= 9, f"asked 7 s, rescheduled in {delay:.1f} s")
        self.assertFalse(self.Exception.search([("backend_id", "=", self.backend.id)]))
        run_job(self.env, event.job_uuid)
        self.assertEqual(event.state, "done")

    def test_local_limiter_keeps_workers_under_the_remote_limit(self):
        self.backend.write({"rate_limit_capacity": 1, "rate_limit_per_second": 0.01})
        customer = self.sandbox.add_customer("limit@example.com", "Limit")
        first = self._queued_update(customer)
        run_job(self.env, first.job_uuid)
        self.assertEqual(first.state, "done")
        newer = self.sandbox.update_customer(customer["id"], name="Again")
        second = self._queued_update(newer)
        calls = len(self.sandbox.requests("/api/v1/"))
        job = run_job(self.env, second.job_uuid)
        self.assertEqual(job.state, "pending")
        self.assertEqual(
            len(self.sandbox.requests("/api/v1/")), calls, "no call was sent"
        )
        self.assertGreater((job.eta - datetime.now()).total_seconds(), 10)

    def test_exhausted_job_opens_one_exception_bumped_then_resolved_by_retry(self):
        customer = self.sandbox.add_customer("down@example.com", "Down")
        self.sandbox.inject_fault("status", status=503, times=100)
        event = self._queued_update(customer)
        for _attempt in range(3):
            run_job(self.env, event.job_uuid)
        self.assertEqual(event.state, "dead")
        exception = event.exception_id
        self.assertTrue(exception)
        self.assertEqual(
            (exception.category, exception.count, exception.state),
            ("remote", 1, "new"),
        )
        self.assertEqual(exception.owner_user_id, self.owner)
        self.assertTrue(exception.activity_ids, "the owner got an activity")
        self.assertTrue(event.sudo().payload, "the payload is kept")
        # the same failure again bumps the same exception
        again = self._queued_update(
            self.sandbox.update_customer(customer["id"], name="Down 2")
        )
        for _attempt in range(3):
            run_job(self.env, again.job_uuid)
        self.assertEqual(again.exception_id, exception)
        self.assertEqual(exception.count, 2)
        self.assertEqual(
            self.Exception.search_count([("backend_id", "=", self.backend.id)]), 1
        )
        # the platform is back: retry resolves it
        self.sandbox.faults.clear()
        exception.action_retry()
        run_jobs(self.env)
        self.assertEqual(event.state, "done")
        self.assertEqual(again.state, "done")
        self.assertEqual(exception.state, "resolved")
        self.assertFalse(exception.activity_ids)

    def test_validation_failure_opens_exception_and_success_resolves_it(self):
        customer = self.sandbox.add_customer("valid@example.com", "Valid")
        bad = dict(customer, email="not-an-email")
        self.post_event(self.event_for(bad, event_id="evt_bad"))
        run_jobs(self.env)
        event = self.Event.search([("dedup_key", "=", "evt_bad")])
        self.assertEqual(event.state, "failed")
        self.assertEqual(event.exception_id.category, "validation")
        self.assertIn("not-an-email", event.exception_id.message)
        self.assertFalse(self.partners_bound())
        # a later good event for the same customer auto-resolves
        self.post_event(self.event_for(customer, event_id="evt_good"))
        run_jobs(self.env)
        self.assertEqual(event.exception_id.state, "resolved")

    def test_ignore_needs_a_reason(self):
        bad = dict(self.sandbox.add_customer("x@example.com", "X"), email="bad")
        self.post_event(self.event_for(bad, event_id="evt_ign"))
        run_jobs(self.env)
        exception = self.Event.search([("dedup_key", "=", "evt_ign")]).exception_id
        wizard = self.env["retail.exception.ignore"].create(
            {"exception_ids": [(6, 0, exception.ids)], "reason": "test customer"}
        )
        wizard.action_confirm()
        self.assertEqual(
            (exception.state, exception.resolution_note), ("ignored", "test customer")
        )

    def test_polling_catches_a_missed_webhook(self):
        missed = [
            self.sandbox.add_customer(f"missed{i}@example.com", f"Missed {i}")
            for i in range(3)
        ]
        policy = self.backend._policy("customer")
        policy.watermark = datetime.now() - timedelta(hours=1)
        result = policy._job_poll()
        self.assertIn("3 new events", result)
        run_jobs(self.env)
        emails = set(
            self.env["res.partner"]
            .browse(self.partners_bound().mapped("res_id"))
            .mapped("email")
        )
        self.assertEqual(emails, {c["email"] for c in missed})
        # polling again (overlap) finds the same versions: nothing new
        result = policy._job_poll()
        self.assertIn("0 new events", result)
        self.assertEqual(len(self.partners_bound()), 3)

    def test_cron_enqueues_one_poll_per_due_policy(self):
        policy = self.backend._policy("customer")
        policy.next_poll_at = False
        self.env["retail.sync.policy"]._cron_poll()
        self.env["retail.sync.policy"]._cron_poll()  # not due any more
        jobs = (
            self.env["queue.job"]
            .search([("method_name", "=", "_job_poll"), ("records", "!=", False)])
            .filtered(lambda j: j.records == policy)
        )
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.channel, self.backend._channel("bulk"))

    def test_export_is_idempotent_and_never_echoes(self):
        partner = self.env["res.partner"].create(
            {"name": "Export Me", "email": "export@example.com"}
        )
        binding = self.backend._testshop_export_partner(partner)
        self.assertTrue(binding.external_id.startswith("cus_"))
        self.backend._testshop_export_partner(partner)  # unchanged: no call
        writes = [
            r for r in self.sandbox.requests("/api/v1/customers") if r.method != "GET"
        ]
        self.assertEqual(len(writes), 1)
        self.assertEqual(len(self.sandbox.customers), 1)
        # a change that came from this backend is not sent back to it
        echo = self.backend.with_context(retail_connect_origin=self.backend.id)
        partner.name = "Changed remotely"
        self.assertFalse(echo._testshop_export_partner(partner))
        exchanges = self.env["retail.exchange"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertTrue(exchanges.filtered(lambda x: x.operation == "customer.create"))
        self.assertNotIn("export@example.com", exchanges.sudo()[0].request_body)

    def test_stuck_event_is_requeued(self):
        customer = self.sandbox.add_customer("stuck@example.com", "Stuck")
        self.post_event(self.event_for(customer))
        dispatch(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.env["queue.job"].search([("uuid", "=", event.job_uuid)]).unlink()
        self.env.cr.execute(
            "UPDATE retail_event SET write_date = now() - interval '2 hours' "
            "WHERE id = %s",
            (event.id,),
        )
        old_uuid = event.job_uuid
        self.assertEqual(self.Event._cron_requeue_stuck(), 1)
        event.invalidate_recordset()
        self.assertNotEqual(event.job_uuid, old_uuid)
        run_jobs(self.env)
        self.assertEqual(event.state, "done")

    def test_connection_check_works_before_activation(self):
        draft = self.backend.copy({"name": "Draft shop"})
        self.assertEqual(draft.state, "draft")
        draft.access_token = TOKEN
        answer = draft.action_test_connection()
        self.assertEqual(answer["params"]["type"], "success")
        self.assertTrue(draft.last_check_ok)
        draft.access_token = "wrong-token"
        answer = draft.action_test_connection()
        self.assertEqual(answer["params"]["type"], "danger")
        self.assertFalse(draft.last_check_ok)
        self.assertIn("401", draft.last_error)
        self.assertEqual(draft.state, "draft", "a check never activates")

    def test_refused_credentials_put_the_backend_in_error(self):
        customer = self.sandbox.add_customer("auth@example.com", "Auth")
        event = self._queued_update(customer)
        self.backend.access_token = "revoked-token"
        run_job(self.env, event.job_uuid)
        self.assertEqual(event.state, "failed")
        self.assertEqual(
            (event.exception_id.category, event.exception_id.severity),
            ("auth", "critical"),
        )
        self.assertEqual(self.backend.state, "error")
        self.assertEqual(self.backend.health, "error")
