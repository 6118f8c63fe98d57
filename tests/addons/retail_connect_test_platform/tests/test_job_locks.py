import threading

from odoo import api
from odoo.tests import TransactionCase, tagged

from odoo.addons.retail_connect_base.controllers.jobs import SessionLocks, job_lock_keys
from odoo.addons.retail_connect_base.models.retail_event_batch import (
    LOCK_NAMESPACE,
    lock_key,
)


@tagged("post_install", "-at_install")
class TestJobLocks(TransactionCase):
    """The job controller locks a job's subject before its transaction's first
    read (controllers/jobs.py): the second job of a subject waits for the
    first, then reads what the first committed. Real cursors, committed data
    (removed at the end), as two workers would."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            self.backend_id = (
                env["retail.backend"]
                .create(
                    {"name": "Locks", "platform": "testshop", "environment": "sandbox"}
                )
                .id
            )
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["retail.backend"].browse(self.backend_id).unlink()

    def _held_elsewhere(self, name):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, lock_key(name))
            )
            got = cr.fetchone()[0]
            if got:
                cr.execute("SELECT pg_advisory_unlock_all()")
            return not got

    def test_an_event_job_asks_for_its_subject_lock(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            backend = env["retail.backend"].browse(self.backend_id)
            event = env["retail.event"].create(
                {
                    "backend_id": backend.id,
                    "company_id": backend.company_id.id,
                    "topic": "order/created",
                    "dedup_key": "locks-1",
                    "subject_key": "order:77",
                }
            )
            job = event._new_job(backend)
            event._store_job(job)
            cr.execute(
                "UPDATE queue_job SET state = 'enqueued' WHERE uuid = %s", (job.uuid,)
            )
            self.assertEqual(
                job_lock_keys(env, job.uuid), [f"subject:{backend.id}:order:77"]
            )
            cr.rollback()

    def test_dispatchers_run_one_at_a_time(self):
        """Two dispatchers at once would both lock the same received events:
        the later snapshot's lock fails (serialization) and the dispatch waits
        for a retry while the workers idle."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["retail.event"]._store_dispatcher()
            env["retail.event"]._store_dispatcher()
            cr.execute(
                "UPDATE queue_job SET state = 'enqueued' "
                "WHERE method_name = '_job_dispatch' AND state = 'pending' "
                "RETURNING uuid"
            )
            uuids = [row[0] for row in cr.fetchall()]
            self.assertGreaterEqual(len(uuids), 2)
            keys = {tuple(job_lock_keys(env, uuid)) for uuid in uuids}
            self.assertEqual(keys, {("dispatch",)}, "one lock, the same for all")
            cr.rollback()

    def test_the_second_job_of_a_subject_reads_what_the_first_committed(self):
        name = f"subject:{self.backend_id}:order:1"
        first = SessionLocks(self.registry.db_name, [name])
        self.assertTrue(self._held_elsewhere(name))
        seen = {}

        def second_worker():
            locks = SessionLocks(self.registry.db_name, [name])  # waits
            try:
                with self.registry.cursor() as cr:  # its snapshot: after the lock
                    cr.execute(
                        "SELECT name FROM retail_backend WHERE id = %s",
                        (self.backend_id,),
                    )
                    seen["name"] = cr.fetchone()[0]
            finally:
                locks.release()

        thread = threading.Thread(target=second_worker)
        thread.start()
        thread.join(timeout=1)
        self.assertTrue(thread.is_alive(), "the second job waits for the first")
        with self.registry.cursor() as cr_first:  # the first job's transaction
            cr_first.execute(
                "UPDATE retail_backend SET name = 'renamed' WHERE id = %s",
                (self.backend_id,),
            )
            cr_first.commit()
        first.release()
        thread.join(timeout=10)
        self.assertFalse(thread.is_alive())
        self.assertEqual(seen["name"], "renamed", "its snapshot sees the commit")
        self.assertFalse(self._held_elsewhere(name), "released")
