"""Test helpers for every platform addon (import them from here).

- ``run_job`` / ``run_jobs``: run queue jobs through queue_job's own ``Job`` API
  (load, perform, postpone on ``RetryableJobError``, done or failed), the steps of
  its runner's controller, inside the test transaction;
- ``sandboxes()``: make the repository's ``tests/sandboxes`` package importable;
- ``contracts_dir()``: where the official API contracts are (skip or fail);
- ``other_database()``: a second database with the suite installed, for what
  goes from one database to another (promotion).
"""

import os
import sys
import traceback
import unittest
from contextlib import closing, contextmanager
from pathlib import Path
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, sql_db
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..models.retail_event import DISPATCH_KEY


def contracts_dir(*parts):
    """Folder of the official API contracts (``../shared/contracts``).

    ``RC_CONTRACTS`` may name it. Absent, the calling test is skipped with the
    reason — unless ``RC_REQUIRE_CONTRACTS=1`` (CI), where absence fails.
    """
    root = os.environ.get("RC_CONTRACTS") or (
        Path(__file__).resolve().parents[2].parent / "shared" / "contracts"
    )
    path = Path(root, *parts)
    if path.exists():
        return path
    message = f"official contracts not found at {path} (set RC_CONTRACTS)"
    if os.environ.get("RC_REQUIRE_CONTRACTS") == "1":
        raise AssertionError(message)
    raise unittest.SkipTest(message)


def sandboxes():
    """Put ``<repo>/tests`` on sys.path (the sandboxes live there)."""
    root = Path(__file__).resolve().parents[2] / "tests"
    if root.is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


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


def dispatch(env):
    """Run the dispatcher: the events webhooks stored get their jobs (as the
    dispatcher job does after a request, retail.event._ingest)."""
    count = env["retail.event"]._dispatch()
    env.invalidate_all()
    return count


def run_jobs(env, rounds=1, channel="root.retail_connect"):
    """Run every pending job of ``channel`` (ignoring ETAs), ``rounds`` times."""
    done = []
    for _ in range(rounds):
        # the dispatcher first: it queues the jobs of the events webhooks
        # stored (retail.event._ingest), which this round then runs
        dispatchers = env["queue.job"].search(
            [("state", "=", "pending"), ("identity_key", "=", DISPATCH_KEY)],
            order="id",
        )
        for rec in dispatchers:  # not returned: callers count their own jobs
            run_job(env, rec.uuid)
        records = env["queue.job"].search(
            [("state", "=", "pending"), ("channel", "=like", f"{channel}%")],
            order="id",
        )
        if not records:
            break
        done += [run_job(env, rec.uuid) for rec in records]
    return done


@contextmanager
def other_database():
    """Yield a superuser environment of a second database: a copy of the
    harness's template database (``RC_TEMPLATE_DB``, set by ``tools/devenv.py
    test`` for pytest-odoo and Odoo's runner alike), with its own registry and
    cursor in this process. Nothing is committed in it; it is dropped at the
    end, even on failure. Without ``RC_TEMPLATE_DB`` the test is skipped: the
    test database itself cannot be copied while the test holds it open."""
    template = os.environ.get("RC_TEMPLATE_DB")
    if not template:
        raise unittest.SkipTest(
            "RC_TEMPLATE_DB is not set: run the tests through tools/devenv.py "
            "test (make test), which names the template database to copy"
        )
    name = f"{template}_other_{os.getpid()}"
    _admin(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(name)))
    _admin(
        SQL(
            "CREATE DATABASE %s TEMPLATE %s",
            SQL.identifier(name),
            SQL.identifier(template),
        )
    )
    try:
        # loading a registry runs the loaded modules' at_install tests when
        # tests are enabled: not those of this database
        with patch.dict(config.options, {"test_enable": False}):
            registry = Registry(name)
        with registry.cursor() as cr:
            try:
                yield api.Environment(cr, SUPERUSER_ID, {})
            finally:
                cr.rollback()
    finally:
        Registry.delete(name)
        sql_db.close_db(name)
        _admin(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(name)))


def _admin(query):
    """Run ``query`` outside a transaction (CREATE / DROP DATABASE)."""
    with closing(sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(query)
