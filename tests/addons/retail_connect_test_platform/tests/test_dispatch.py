"""The webhook request stores the event; the dispatcher job gives it its job.

Issue 8: the request only verifies and inserts; jobs are created in batches by
a dispatcher, with nothing lost if the server stops between the two and never
two jobs for one event (retail.event._ingest, _job_dispatch, _cron_dispatch).
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.retail_connect_base.models.retail_event import (
    DISPATCH_KEY,
    DISPATCH_WINDOW,
)

from .common import TestShopCase, run_job, run_jobs


@tagged("post_install", "-at_install")
class TestDispatcher(TestShopCase):
    def setUp(self):
        super().setUp()
        self.Job = self.env["queue.job"]
        # a clean queue: what the class setup or an earlier test left
        self.Job.search([("identity_key", "=", DISPATCH_KEY)]).unlink()

    def post(self, n, start=0):
        events = []
        for i in range(start, start + n):
            customer = self.sandbox.add_customer(f"d{i}@example.com", f"D {i}")
            event = self.event_for(customer)
            answer = self.post_event(event)
            self.assertEqual((answer.status_code, answer.text), (200, "stored"))
            events.append(event)
        return events

    def stored(self, events):
        return self.Event.search([("dedup_key", "in", [e["id"] for e in events])])

    def event_jobs(self, events):
        """The processing jobs of these events (queue_job's own records)."""
        ids = set(events.ids)
        return self.Job.search(
            [("model_name", "=", "retail.event"), ("method_name", "=", "_job_process")]
        ).filtered(lambda job: set(job.records.ids) & ids)

    def dispatchers(self, state="pending"):
        return self.Job.search(
            [("identity_key", "=", DISPATCH_KEY), ("state", "=", state)]
        )

    def test_request_stores_event_without_job_and_dispatcher_queues_one_each(self):
        sent = self.post(3)
        # a delivery sent again: answered, stored once, never a second job
        again = self.post_event(sent[0])
        self.assertEqual((again.status_code, again.text), (200, "duplicate"))
        events = self.stored(sent)
        self.assertEqual(len(events), 3)
        self.assertEqual(set(events.mapped("state")), {"received"})
        self.assertFalse(any(events.mapped("job_uuid")))
        self.assertFalse(self.event_jobs(events), "the request queued no event job")
        # one dispatcher for the three deliveries, committed with them
        dispatcher = self.dispatchers()
        self.assertEqual(len(dispatcher), 1)
        # due after a short window, so a burst's deliveries share it
        self.assertTrue(dispatcher.eta, "waits for the burst's next deliveries")
        self.assertLessEqual(
            dispatcher.eta,
            fields.Datetime.now() + timedelta(seconds=DISPATCH_WINDOW + 1),
            "not later than the window (Datetime.now() drops the fraction)",
        )

        run_job(self.env, dispatcher.uuid)
        jobs = self.event_jobs(events)
        self.assertEqual(len(jobs), 3)
        self.assertEqual(set(events.mapped("state")), {"queued"})
        self.assertEqual(set(events.mapped("job_uuid")), set(jobs.mapped("uuid")))
        self.assertEqual(
            set(jobs.mapped("channel")),
            {f"root.retail_connect.realtime.testshop_{self.backend.id}"},
        )
        # the dispatcher again, the backstop cron, the delivery once more:
        # still one job per event
        self.Event._job_dispatch()
        self.assertEqual(self.Event._cron_dispatch(), 0)
        self.assertEqual(self.post_event(sent[1]).text, "duplicate")
        self.assertEqual(len(self.event_jobs(events)), 3)
        self.assertFalse(self.dispatchers())

        run_jobs(self.env)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(len(self.partners_bound()), 3)

    def test_server_stopped_before_dispatch_loses_nothing(self):
        """Events inserted, no job yet, then the server stops: the dispatcher
        job stored with them runs on the next start; were it lost too, the
        backstop cron gives each event exactly one job."""
        sent = self.post(4)
        events = self.stored(sent)
        self.assertFalse(self.event_jobs(events))
        # the server stops: nothing ran; worse, the dispatcher job is gone
        self.dispatchers().unlink()
        self.assertEqual(self.Event._cron_dispatch(), 4)
        jobs = self.event_jobs(events)
        self.assertEqual(len(jobs), 4)
        self.assertEqual(len({job.records.id for job in jobs}), 4)
        # both dispatchers (a restarted one, the cron) on the same events
        self.Event._store_dispatcher()
        run_jobs(self.env)
        self.assertEqual(self.Event._cron_dispatch(), 0)
        self.assertEqual(len(self.event_jobs(events)), 4)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(len(self.partners_bound()), 4)

    def test_started_dispatcher_gets_a_successor(self):
        """A dispatcher already running may have read the queue before this
        event was committed: the request stores another one; while one is
        pending (locked by the request until it commits) none is added."""
        self.post(2)
        self.assertEqual(len(self.dispatchers()), 1)
        self.dispatchers().write({"state": "started"})
        self.post(2, start=2)
        self.assertEqual(len(self.dispatchers()), 1)
        self.assertEqual(len(self.dispatchers("started")), 1)

    def test_paused_backend_keeps_its_events_until_resumed(self):
        sent = self.post(2)
        self.backend.action_pause("maintenance")
        self.Event._job_dispatch()
        events = self.stored(sent)
        self.assertFalse(self.event_jobs(events), "no job while paused")
        self.backend.action_resume()
        self.Event._job_dispatch()
        self.assertEqual(len(self.event_jobs(events)), 2)
        self.assertEqual(set(events.mapped("state")), {"queued"})

    def test_batches_follow_each_other(self):
        sent = self.post(3)
        events = self.stored(sent)
        self.assertEqual(self.Event._dispatch(limit=2), 2)
        self.assertEqual(len(self.event_jobs(events)), 2)
        self.assertEqual(self.Event._dispatch(limit=2), 1)
        self.assertEqual(self.Event._dispatch(limit=2), 0)
        self.assertEqual(len(self.event_jobs(events)), 3)
