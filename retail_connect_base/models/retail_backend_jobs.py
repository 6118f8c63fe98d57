"""Jobs of a backend: channels per traffic class, attempts and idempotency
keys, failures turned into sync exceptions (retry, dead letter, resolution),
locks on external records."""

import logging
import uuid
import zlib

from psycopg2 import OperationalError

from odoo import models
from odoo.exceptions import AccessError, UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib.errors import (
    ShadowWrite,
    SyncError,
    ThrottledError,
    TransientError,
    ValidationSyncError,
)
from ..lib.masking import mask_text
from .retail_backend import (
    CHANNEL_KINDS,
    WRITES,
)

_logger = logging.getLogger(__name__)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ----------------------------------------------------------------- jobs
    def _channel(self, kind="realtime"):
        """queue_job channel of this backend for a traffic class
        (``CHANNEL_KINDS``: ``stock`` is the stock pushes', so that they never
        wait behind order jobs; see the README's production layout)."""
        self.ensure_one()
        return f"root.retail_connect.{kind}.{self.platform}_{self.id}"

    def _ensure_channels(self):
        channels = self.env["queue.job.channel"].sudo()
        for kind in CHANNEL_KINDS:
            parent = self.env.ref(f"retail_connect_base.channel_{kind}")
            name = f"{self.platform}_{self.id}"
            if not channels.search(
                [("name", "=", name), ("parent_id", "=", parent.id)], limit=1
            ):
                channels.create({"name": name, "parent_id": parent.id})

    def _own_channels(self):
        """The queue_job channels :meth:`_ensure_channels` made for these backends."""
        parents = [
            self.env.ref(f"retail_connect_base.channel_{kind}").id
            for kind in CHANNEL_KINDS
        ]
        return (
            self.env["queue.job.channel"]
            .sudo()
            .search(
                [
                    ("name", "in", [f"{b.platform}_{b.id}" for b in self]),
                    ("parent_id", "in", parents),
                ]
            )
        )

    def _job_attempt(self):
        """1-based attempt number of the running job (1 outside jobs)."""
        uuid = self.env.context.get("job_uuid")
        if not uuid:
            return 1
        job = self.env["queue.job"].sudo().search([("uuid", "=", uuid)], limit=1)
        return (job.retry or 0) + 1

    def _idempotency_key(self, *parts):
        """Key of one intended write: the running job's uuid and the write's place.

        Stable across the retries of that job (queue_job keeps its uuid), new for
        the next job; outside a job, random. Never a hash of the content: the same
        values sent again later (stock 5 → 3 → 5) are a new write.
        """
        origin = self.env.context.get("job_uuid") or str(uuid.uuid4())
        return ":".join([origin, *(str(part) for part in parts)])

    def _next_idempotency_key(self):
        """Key of the running job's next write: the job's uuid and the write's
        number in the job (1, 2, ...); the key factory of this backend's clients.

        A job retried makes the same writes in the same order, so each write
        sends the key it had (the platform answers with the first one's
        result); the next job sends new keys. Counted per cursor, which a
        job's run has to itself; ``_restart_writes`` starts a run's count.
        """
        counters = self.env.cr.cache.setdefault(WRITES, {})
        uuid_ = self.env.context.get("job_uuid")
        counters[uuid_] = counters.get(uuid_, 0) + 1
        return self._idempotency_key(counters[uuid_])

    def _restart_writes(self):
        """The running job starts (or retries): its writes count from 1 again."""
        self.env.cr.cache.get(WRITES, {}).pop(self.env.context.get("job_uuid"), None)

    def _enqueue_waiting_events(self):
        events = self.env["retail.event"].search(
            [("backend_id", "in", self.ids), ("state", "=", "received")]
        )
        events._enqueue()

    # -------------------------------------------------------------- failures
    def _job_is_last_attempt(self):
        """True when a failure of the running job will not be retried.

        Outside a job (a direct call) nothing retries: always True.
        """
        uuid_ = self.env.context.get("job_uuid")
        if not uuid_:
            return True
        job = self.env["queue.job"].sudo().search([("uuid", "=", uuid_)], limit=1)
        return bool(job.max_retries) and (job.retry or 0) + 1 >= job.max_retries

    def _job_failure(self, err):
        """Classify the error that ended a job's body: how every job fails.

        Raise what queue_job must retry: a throttle (never using up a retry),
        a transient failure while retries are left, a PostgreSQL concurrency
        error. Return ``(SyncError, dead)`` for what a person must see, ``dead``
        when the retries are exhausted. Call it from an ``except`` block: an
        unexpected error is logged with its traceback.
        """
        if isinstance(err, TransientError | RetryableJobError):
            retry = err
            if isinstance(err, TransientError):
                retry = RetryableJobError(
                    str(err),
                    seconds=max(1, round(err.seconds or 10)),
                    ignore_retry=isinstance(err, ThrottledError),
                )
            if retry.ignore_retry or not self._job_is_last_attempt():
                if retry is err:
                    raise err
                raise retry from err
            cause = err.__cause__ if isinstance(err, RetryableJobError) else err
            return SyncError(
                self.env._(
                    "Gave up after %(n)s attempts: %(error)s",
                    n=self._job_attempt(),
                    error=err,
                ),
                category=getattr(cause, "category", None) or "remote",
            ), True
        if isinstance(err, SyncError):
            return err, False
        if isinstance(err, OperationalError):
            if err.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise err  # queue_job retries serialization failures itself
            return SyncError(str(err), category="internal"), False
        if isinstance(err, UserError) and not isinstance(err, AccessError):
            # Odoo refused the data (a constraint, a missing setting): fixable
            return ValidationSyncError(str(err)), False
        _logger.exception("retail_connect: a job of %s failed", self.display_name)
        return SyncError(f"{type(err).__name__}: {err}", category="internal"), False

    def _report_failure(self, failure, *, domain, subject_key, message=None, **kw):
        """Open or bump the sync exception of a job's failure; return it.

        Refused credentials also put the backend in error: every call will
        fail until someone fixes them. ``kw``: ``event``, ``record``,
        ``fix``, ``retry_job`` of ``_open_or_bump``.
        """
        if failure.category == "auth":
            self.sudo().write({"state": "error", "last_error": mask_text(str(failure))})
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain=domain,
            category=failure.category,
            message=message or failure.message,
            subject_key=subject_key,
            **kw,
        )

    def _run_outbound(self, domain, subject_key, func, *args, record=None):
        """Run the body of a job that is not an event: push, export, poll, bulk.

        It fails the way an event does (``_job_failure``): throttles and
        transient failures are retried; a refusal, an unexpected error or the
        last retry opens or bumps one sync exception of ``domain`` on
        ``subject_key`` (the job kind: ``stock:push``, ``fulfilment:<id>``),
        saying what to do; its Retry runs the job again. The job then ends,
        its result saying it failed, instead of failing unseen in the queue.
        A success of the same job kind on the active backend resolves them.
        The body runs in a savepoint: a failure keeps none of its writes.

        In shadow mode (the backend's, or the policy of ``domain``), a body
        that tries to write to the platform is stopped there and rolled back
        whole; its requests are recorded as shadow records (retail_shadow.py).
        """
        self.ensure_one()
        self._restart_writes()
        with self._shadow_scope(domain) as run:
            try:
                with self.env.cr.savepoint():
                    result = func(*args)
                    if run.requests:  # a write held back, then caught by the body
                        raise ShadowWrite(run.requests[0])
            except Exception as err:  # noqa: BLE001 - classified, none is lost
                if run.requests:
                    return self._shadow_outbound_done(run, domain, subject_key, record)
                return self._outbound_failed(err, domain, subject_key, record)
        if self.state == "active":  # else the body only kept its work for later
            self._resolve_outbound(subject_key)
        return result

    def _outbound_failed(self, err, domain, subject_key, record):
        """Report the failure of an outbound body (``_run_outbound``)."""
        failure, dead = self._job_failure(err)
        self._report_failure(
            failure,
            domain=domain,
            subject_key=subject_key,
            message=self._outbound_message(failure, dead, subject_key),
            record=record,
            fix=failure.fix or None,
            retry_job=self._job_call(),
        )
        return f"failed: {failure.message}"

    def _outbound_message(self, failure, dead, subject_key):
        """What failed, why, and what to do."""
        uuid_ = self.env.context.get("job_uuid")
        job = uuid_ and self.env["queue.job"].sudo().search([("uuid", "=", uuid_)])
        what = (job and job.name) or subject_key
        _ = self.env._
        if dead:
            todo = _(
                "The platform kept failing (its answers are in the exchange log): "
                "press Retry once it answers again."
            )
        else:
            todo = {
                "auth": _(
                    "The platform refused the credentials: set them again on the "
                    "backend, test the connection, then press Retry."
                ),
                "internal": _(
                    "An unexpected error (its traceback is in the server log): "
                    "report it; press Retry once it is fixed."
                ),
                "remote": _(
                    "The platform refused the request (its answer is in the "
                    "exchange log): correct what it names, then press Retry."
                ),
            }.get(
                failure.category,
                _("Correct what the message names, then press Retry."),
            )
        return _(
            "%(what)s failed: %(error)s\n%(todo)s",
            what=what,
            error=failure.message,
            todo=todo,
        )

    def _job_call(self):
        """The running job's call, to run it again from its exception (or None).

        Its serialized records and arguments are copied: the job itself is
        vacuumed from the queue long before some exceptions are handled.
        """
        uuid_ = self.env.context.get("job_uuid")
        if not uuid_:
            return None
        self.env.cr.execute(
            "SELECT model_name, method_name, records, args, kwargs, channel, name "
            "FROM queue_job WHERE uuid = %s",
            (uuid_,),
        )
        row = self.env.cr.dictfetchone()
        return dict(row) if row else None

    def _resolve_outbound(self, subject_key):
        found = (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", subject_key),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )
        if found:
            found._resolve(
                self.env._(
                    "Resolved automatically: %(job)s succeeded.", job=subject_key
                )
            )
        return found

    # --------------------------------------------------------- concurrency
    def _lock_external(self, model, external_id):
        """Transaction lock on (backend, model, external id): one importer at a time.

        Two workers importing the same remote object serialize here. The lock
        does not refresh the second one's snapshot (taken before it): create
        what was found missing with ``common.create_or_retry``, which turns the
        duplicate into a job retry that then finds the first one's record.
        """
        self.ensure_one()
        key = zlib.crc32(f"{model}:{external_id}".encode()) - 2**31
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", (self.id, key))
