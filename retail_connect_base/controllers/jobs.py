"""queue_job's job controller, holding a job's advisory locks from before its
first read.

Odoo's transactions are REPEATABLE READ: a job's snapshot is taken by its
transaction's first query (queue_job locking the job row), so a lock taken
inside the job body waits for the other worker but still reads the world as
it was before that worker committed: its reservation then fails on the
``stock_quant`` rows the other updated, its import does not see the other's
binding. Here the keys a job's records name (``_job_lock_keys``) are locked
before that transaction starts — session locks on a connection of their own,
released once the job's transaction has ended (committed, retried or failed;
a dead worker's connection releases them too) — so the job's snapshot always
sees the previous holder's commit.
"""

import logging

from odoo import sql_db

from odoo.addons.queue_job.controllers.main import RunJobController

from ..models.retail_event_batch import LOCK_NAMESPACE, lock_key

_logger = logging.getLogger(__name__)


class SessionLocks:
    """Advisory session locks held on a connection of their own."""

    def __init__(self, dbname, keys):
        self.conn = None
        if not keys:
            return
        self.conn = sql_db.db_connect(dbname).cursor()
        try:
            for key in sorted({lock_key(name) for name in keys}):
                self.conn.execute(
                    "SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, key)
                )
            self.conn.commit()  # session locks outlive it; no open transaction
        except Exception:
            self.release()
            raise

    def release(self):
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.rollback()
            conn.execute("SELECT pg_advisory_unlock_all()")
            conn.commit()
        finally:
            conn.close()


def job_lock_keys(env, job_uuid):
    """The lock names the enqueued job's records ask for (none by default)."""
    job = (
        env["queue.job"]
        .sudo()
        .search([("uuid", "=", job_uuid), ("state", "=", "enqueued")], limit=1)
    )
    if not job:
        return []
    records = job.records
    hook = getattr(records, "_job_lock_keys", None)
    if hook is None:
        return []
    try:
        return list(hook(job.method_name))
    except Exception:  # noqa: BLE001 - no lock is no worse than before
        _logger.exception("lock keys of job %s", job_uuid)
        return []


class RetailRunJobController(RunJobController):
    @classmethod
    def _acquire_job(cls, env, job_uuid):
        keys = job_lock_keys(env, job_uuid)
        if keys:
            # the wait below must not hold a snapshot: the job row's lock
            # that follows would then fail on any change made meanwhile
            env.cr.rollback()
        locks = SessionLocks(env.cr.dbname, keys)
        try:
            job = super()._acquire_job(env, job_uuid)
        except BaseException:
            locks.release()
            raise
        if job is None:
            locks.release()
            return None
        job._retail_locks = locks
        return job

    @classmethod
    def _runjob(cls, env, job):
        try:
            return super()._runjob(env, job)
        finally:
            locks = getattr(job, "_retail_locks", None)
            if locks is not None:
                locks.release()
