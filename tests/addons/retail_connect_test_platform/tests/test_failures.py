"""Events that loop and jobs that fail: every failure ends where a person sees it."""

import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..models.retail_backend import TestShopClient
from .common import TestShopCase, dispatch, run_job, run_jobs


@tagged("post_install", "-at_install")
class TestEventFailures(TestShopCase):
    def _lose_job(self, event):
        """Its worker died: the job is gone, the event still says queued."""
        self.env["queue.job"].search([("uuid", "=", event.job_uuid)]).unlink()
        self.env.cr.execute(
            "UPDATE retail_event SET write_date = now() - interval '2 hours' "
            "WHERE id = %s",
            (event.id,),
        )
        event.invalidate_recordset()

    def test_an_event_whose_job_keeps_getting_lost_goes_to_the_dead_letter(self):
        customer = self.sandbox.add_customer("lost@example.com", "Lost")
        self.post_event(self.event_for(customer))
        dispatch(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(self.backend.stuck_requeue_limit, 3)
        for requeue in range(1, 4):
            self._lose_job(event)
            self.assertEqual(self.Event._cron_requeue_stuck(), 1)
            self.assertEqual((event.state, event.requeue_count), ("queued", requeue))
        self._lose_job(event)
        self.assertEqual(self.Event._cron_requeue_stuck(), 0, "not requeued again")
        self.assertEqual(event.state, "dead")
        exception = event.exception_id
        self.assertEqual((exception.category, exception.state), ("internal", "new"))
        self.assertIn("kept getting lost", exception.message)
        self.assertIn("server log", exception.message)
        self.assertTrue(event.sudo().payload, "the payload is kept for the retry")
        # fixed: a retry gets the whole allowance again, and applies it
        exception.action_retry()
        self.assertEqual((event.state, event.requeue_count), ("queued", 0))
        run_jobs(self.env)
        self.assertEqual(event.state, "done")
        self.assertEqual(exception.state, "resolved")

    def test_an_event_without_a_policy_fails_visibly(self):
        self.backend._policy("customer").unlink()
        customer = self.sandbox.add_customer("nopolicy@example.com", "No policy")
        self.post_event(self.event_for(customer))
        dispatch(self.env)
        event = self.Event.search([("backend_id", "=", self.backend.id)])
        job = run_job(self.env, event.job_uuid)
        self.assertEqual(job.state, "done", "the failure is the event's, not a job's")
        self.assertEqual(event.state, "failed")
        exception = event.exception_id
        self.assertEqual(exception.category, "validation")
        self.assertIn("no sync policy for customer", exception.message)
        self.assertIn("Sync policies", exception.message)
        self.assertFalse(self.partners_bound())

    def test_the_job_of_an_event_whose_backend_was_deleted_ends(self):
        other = self.backend.copy({"name": "Closed shop"})
        other.action_activate()
        event, _created = self.Event._ingest(
            other,
            Delivery(
                topic="customer/created",
                dedup_key="evt_closed",
                payload=b'{"data": {"id": "cus_1"}}',
                subject_key="customer:cus_1",
            ),
        )
        job_uuid = event.job_uuid
        other.unlink()
        self.assertFalse(event.exists(), "its events went with it")
        job = run_job(self.env, job_uuid)
        self.assertEqual((job.state, job.result), ("done", "event deleted"))


@tagged("post_install", "-at_install")
class TestOutboundJobFailures(TestShopCase):
    def _export_job(self, partner, **options):
        before = self.env["queue.job"].search([])
        options.setdefault("channel", self.backend._channel("realtime"))
        self.backend.with_delay(**options)._job_testshop_export_partner(partner)
        return self.env["queue.job"].search([]) - before

    def _exceptions(self):
        return self.Exception.search([("backend_id", "=", self.backend.id)])

    def test_a_refused_export_opens_an_exception_that_retry_resolves(self):
        partner = self.env["res.partner"].create(
            {"name": "No Mail", "email": "no-mail.example.com"}
        )
        job = run_job(self.env, self._export_job(partner).uuid)
        self.assertEqual(job.state, "done", "the job ends; the exception says it all")
        self.assertIn("failed", job.result)
        exception = self._exceptions()
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            (exception.domain, exception.category, exception.subject_key),
            ("customer", "remote", f"customer-export:{partner.id}"),
        )
        self.assertEqual(
            (exception.res_model, exception.res_id), (partner._name, partner.id)
        )
        self.assertIn("422", exception.message)
        self.assertIn("press Retry", exception.message)
        self.assertEqual(exception.owner_user_id, self.owner)
        # the same failure again bumps the same exception
        run_job(self.env, self._export_job(partner).uuid)
        self.assertEqual((len(self._exceptions()), exception.count), (1, 2))
        self.assertFalse(self.sandbox.customers)
        # fixed in Odoo: Retry runs the export again, which resolves it
        partner.email = "mail@example.com"
        exception.action_retry()
        self.assertEqual(exception.state, "in_progress")
        run_jobs(self.env)
        self.assertEqual(
            [c["email"] for c in self.sandbox.customers.values()], ["mail@example.com"]
        )
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(
            self.env["queue.job"].search_count([("state", "=", "failed")]), 0
        )

    def test_an_export_that_exhausts_its_retries_opens_an_exception(self):
        partner = self.env["res.partner"].create(
            {"name": "Down", "email": "down@example.com"}
        )
        self.sandbox.inject_fault("status", status=503, times=100)
        job = self._export_job(partner, max_retries=3)
        for _attempt in range(2):
            run_job(self.env, job.uuid)
            self.assertEqual(job.state, "pending", "retried")
            self.assertFalse(self._exceptions())
        run_job(self.env, job.uuid)
        self.assertEqual(job.state, "done")
        exception = self._exceptions()
        self.assertEqual((exception.category, exception.domain), ("remote", "customer"))
        self.assertIn("Gave up after 3 attempts", exception.message)
        self.assertIn("exchange log", exception.message)
        # the platform is back: the next export of the same kind resolves it
        self.sandbox.faults.clear()
        run_job(self.env, self._export_job(partner).uuid)
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(len(self.sandbox.customers), 1)

    def test_a_throttled_export_waits_without_using_retries(self):
        partner = self.env["res.partner"].create(
            {"name": "Slow", "email": "slow@example.com"}
        )
        self.sandbox.inject_fault("throttle", seconds=5, times=3)
        job = self._export_job(partner, max_retries=2)
        for _attempt in range(3):
            run_job(self.env, job.uuid)
            self.assertEqual((job.state, job.retry), ("pending", 0))
        run_job(self.env, job.uuid)
        self.assertEqual(job.state, "done")
        self.assertFalse(self._exceptions())
        self.assertEqual(len(self.sandbox.customers), 1)


@tagged("post_install", "-at_install")
class TestIdempotencyKeys(TestShopCase):
    def _export(self, partner):
        before = self.env["queue.job"].search([])
        self.backend.with_delay(
            channel=self.backend._channel("realtime")
        )._job_testshop_export_partner(partner)
        job = self.env["queue.job"].search([]) - before
        run_job(self.env, job.uuid)
        return job

    def _keys(self, method):
        return [
            r.headers.get("Idempotency-Key")
            for r in self.sandbox.requests("/api/v1/customers", method=method)
        ]

    def test_a_retried_export_resends_its_key_and_creates_one_customer(self):
        partner = self.env["res.partner"].create(
            {"name": "Slow", "email": "slow@example.com"}
        )
        # the platform does the write, but answers after we gave up waiting
        # (Odoo's test harness raises any timeout below 10 s to 10 s)
        self.sandbox.inject_fault("timeout", seconds=11, times=1)
        with patch.object(TestShopClient, "timeout_seconds", 10):
            job = self._export(partner)
        self.assertEqual(job.state, "pending", "a timeout is retried")
        deadline = time.monotonic() + 10
        while not self.sandbox.customers and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(len(self.sandbox.customers), 1, "the first try landed")
        run_job(self.env, job.uuid)
        self.assertEqual(job.state, "done")
        self.assertEqual(len(self.sandbox.customers), 1, "the retry created none")
        first, retry = self._keys("POST")
        self.assertEqual(first, retry)
        self.assertTrue(first.startswith(job.uuid))

    def test_the_same_values_sent_again_later_are_a_new_write(self):
        partner = self.env["res.partner"].create(
            {"name": "Ann", "email": "ann@example.com"}
        )
        jobs = [self._export(partner)]
        for name in ("Bob", "Ann"):  # 5 -> 3 -> 5
            partner.name = name
            jobs.append(self._export(partner))
        self.assertEqual({job.state for job in jobs}, {"done"})
        (customer,) = self.sandbox.customers.values()
        self.assertEqual(customer["name"], "Ann")
        keys = self._keys("POST") + self._keys("PUT")
        self.assertEqual(len(set(keys)), 3, "one key per intended write")
        self.assertFalse(self.Exception.search([("backend_id", "=", self.backend.id)]))
