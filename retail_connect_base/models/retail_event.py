import json
import logging
import threading
import uuid
from datetime import timedelta, timezone

from psycopg2.extensions import (
    ISOLATION_LEVEL_READ_COMMITTED,
    TRANSACTION_STATUS_IDLE,
)

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.job import Job

from ..lib.errors import EventSkipped, SyncError, ValidationSyncError
from ..lib.masking import mask_text
from .common import USER, check_group, sql_insert
from .retail_sync_policy import EVENT_DOMAINS, TECHNICAL

_logger = logging.getLogger(__name__)

STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("done", "Done"),
    ("skipped_duplicate", "Skipped: duplicate"),
    ("skipped_stale", "Skipped: stale"),
    ("skipped_policy", "Skipped: policy"),
    ("shadow", "Shadow: computed, not applied"),
    ("failed", "Failed"),
    ("dead", "Dead letter"),
]
SKIPPED = ("skipped_duplicate", "skipped_stale", "skipped_policy")
FINAL = ("done", "shadow", *SKIPPED)
# The dispatcher: one queue job (at most one pending, by identity key) that
# gives the events a webhook stored a job each, in batches (see _ingest).
DISPATCH_KEY = "retail_connect_dispatch"
DISPATCH_CHANNEL = "root.retail_connect.dispatch"
DISPATCH_BATCH = 500
# seconds a new dispatcher waits before it runs: the deliveries of a burst
# arriving meanwhile join it (they find it pending) instead of each starting
# one of their own (one runner round trip and a worker each)
DISPATCH_WINDOW = 0.5


class RetailEvent(models.Model):
    """The inbox: every inbound fact, webhook or polled, kept until resolved.

    The dedup key is unique per backend, so a delivery stored twice is
    impossible; processing happens in a queue job, never in the webhook request.
    """

    _name = "retail.event"
    _description = "Retail Connect Event"
    _order = "received_at desc, id desc"
    _rec_name = "topic"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    topic = fields.Char(required=True)
    domain = fields.Selection(EVENT_DOMAINS)
    dedup_key = fields.Char(required=True)
    body_digest = fields.Char(
        readonly=True,
        groups="retail_connect_base.group_manager",
        help="SHA-256 of a webhook's raw body: the same body delivered again "
        "under another event id is a duplicate.",
    )
    source = fields.Selection(
        [("webhook", "Webhook"), ("poll", "Polling"), ("replay", "Replay")],
        required=True,
        default="webhook",
    )
    subject_key = fields.Char(
        "Subject key", index=True, help="The remote object concerned (order:1001)."
    )
    occurred_at = fields.Datetime()
    received_at = fields.Datetime(default=fields.Datetime.now, index=True)
    processed_at = fields.Datetime()
    remote_updated_at = fields.Datetime()
    payload = fields.Text(groups="retail_connect_base.group_manager")
    payload_pretty = fields.Text(
        "Payload (formatted)",
        compute="_compute_payload_pretty",
        groups="retail_connect_base.group_manager",
    )
    subject_label = fields.Char(
        "Subject",
        compute="_compute_subject_label",
        help="The subject as the channel calls it (its order number).",
    )
    payload_purged = fields.Boolean(readonly=True)
    state = fields.Selection(STATES, default="received", required=True, index=True)
    attempts = fields.Integer()
    requeue_count = fields.Integer(
        "Requeued (job lost)",
        readonly=True,
        help="Times the stuck-event cron queued it again because its job was "
        "gone; past the backend's limit it goes to the dead letter.",
    )
    correlation_id = fields.Char()
    traffic = fields.Selection(
        [("realtime", "Real-time"), ("bulk", "Bulk")],
        default="realtime",
        required=True,
        help="Channel class of its job: backfills never delay real-time traffic.",
    )
    res_model = fields.Char("Record model")
    res_id = fields.Many2oneReference("Record", model_field="res_model")
    error = fields.Text()
    exception_id = fields.Many2one("retail.sync.exception", index="btree_not_null")
    job_uuid = fields.Char(index="btree_not_null")
    replay_of_id = fields.Many2one("retail.event", index="btree_not_null")

    _sql_constraints = [
        (
            "dedup_uniq",
            "UNIQUE(backend_id, dedup_key)",
            "An event is stored once per backend.",
        ),
        (
            "body_digest_uniq",
            "UNIQUE(backend_id, body_digest)",
            "A webhook body is stored once per backend.",
        ),
    ]

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for event in self:
            payload = event.payload
            try:
                data = json.loads(payload) if payload else None
            except ValueError:
                data = None
            event.payload_pretty = (
                json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
                if data is not None
                else payload
            )

    @api.depends("subject_key", "res_model", "res_id")
    def _compute_subject_label(self):
        for event in self:
            backend = event.backend_id.sudo()
            event.subject_label = (
                backend._subject_label(
                    event.subject_key, record=event._record(), events=event
                )
                if backend
                else event.subject_key
            )

    def _record(self):
        """The Odoo record the event produced (None when gone or unset)."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].sudo().browse(self.res_id).exists() or None

    def init(self):
        # a topic without a domain was once stored as the text 'false' (Python's
        # False through the raw INSERT): no view can show it, no job apply it
        self.env.cr.execute(
            "UPDATE retail_event SET domain = %s WHERE domain NOT IN %s",
            (TECHNICAL, tuple(dict(EVENT_DOMAINS))),
        )

    # ------------------------------------------------------------- ingest
    @api.model
    def _ingest(self, backend, delivery, source="webhook", deferred=False):
        """Store a delivery once and enqueue its processing.

        Return ``(event, created)``. Race-safe: concurrent deliveries of the same
        dedup key, or of the same webhook body (``body_digest``) under another
        key, insert one row (``ON CONFLICT DO NOTHING``: both are unique per
        backend). A delivery with a ``skip_reason`` is stored parked: skipped,
        with the reason, and no job.

        ``deferred`` (the webhook route): store the event ``received``, without
        its job, in one statement; the dispatcher job (``_job_dispatch``) gives
        the stored events their jobs in batches. The statement also makes sure
        a dispatcher will see this event: it share-locks the pending
        dispatcher job, so that the runner cannot start it before this
        transaction commits; when none is pending (none yet, or the last one
        already started and may have missed this event), it stores a new one
        with this transaction. Event and dispatcher commit together: a server
        stopping in between loses nothing, and the backstop cron dispatches
        whatever a failed dispatcher left.
        """
        cr = self.env.cr
        now = fields.Datetime.now()
        parked = bool(delivery.skip_reason)
        active = backend.state == "active" and not parked
        deferred = deferred and active
        job_uuid = str(uuid.uuid4()) if active and not deferred else None
        state = "queued" if job_uuid else "received"
        if parked:
            state = "skipped_policy"
        payload = delivery.payload
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
        insert = """
            INSERT INTO retail_event
                   (backend_id, company_id, topic, domain, dedup_key, source,
                    subject_key, occurred_at, received_at, remote_updated_at,
                    payload, state, attempts, correlation_id, traffic,
                    job_uuid, body_digest, error, processed_at,
                    create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s,
                    %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT DO NOTHING
            RETURNING id
        """
        params = [
            backend.id,
            backend.company_id.id,
            delivery.topic,
            backend._topic_domain(delivery.topic),
            delivery.dedup_key,
            source,
            delivery.subject_key,
            _naive(delivery.occurred_at),
            now,
            _naive(delivery.remote_updated_at),
            payload,
            state,
            delivery.correlation_id or str(uuid.uuid4()),
            delivery.meta.get("traffic", "realtime"),
            job_uuid,
            delivery.body_digest,
            delivery.skip_reason,
            now if parked else None,
            self.env.uid,
            self.env.uid,
            now,
            now,
        ]
        if deferred:
            # FOR SHARE conflicts with the runner's UPDATE to 'enqueued': the
            # pending dispatcher cannot start before this event is committed.
            # Under READ COMMITTED a dispatcher enqueued meanwhile is re-checked
            # (no longer pending: not locked, a new one is stored below)
            # instead of failing the request with a serialization error.
            cr.execute(
                f"""
                WITH event AS ({insert}),
                dispatcher AS (
                    SELECT 1 FROM queue_job
                     WHERE identity_key = %s AND state = 'pending'
                       AND EXISTS (SELECT 1 FROM event)
                     LIMIT 1 FOR SHARE)
                SELECT id, EXISTS (SELECT 1 FROM dispatcher) FROM event
                """,  # noqa: S608 - constant SQL
                [*params, DISPATCH_KEY],
            )
        else:
            cr.execute(insert, params)
        row = cr.fetchone()
        if not row:
            same = [("dedup_key", "=", delivery.dedup_key)]
            if delivery.body_digest:
                same = ["|", *same, ("body_digest", "=", delivery.body_digest)]
            existing = self.sudo().search(
                [("backend_id", "=", backend.id), *same], order="id", limit=1
            )
            return existing, False
        event = self.browse(row[0])
        if deferred:
            if not row[1]:
                self._store_dispatcher()
        elif active:
            event._store_job(
                event._new_job(
                    backend,
                    delivery.meta.get("traffic"),
                    job_uuid,
                    description=f"{backend.name}: {delivery.topic}",
                )
            )
        return event, True

    @api.model
    def _store_dispatcher(self, window=DISPATCH_WINDOW):
        """Store a pending dispatcher job (see ``_ingest``, ``_job_dispatch``),
        due in ``window`` seconds."""
        self._store_job(
            Job(
                self.with_user(SUPERUSER_ID).with_context({})._job_dispatch,
                channel=DISPATCH_CHANNEL,
                priority=0,  # ahead of the event jobs waiting for a worker
                eta=timedelta(seconds=window) if window else None,
                identity_key=DISPATCH_KEY,
                description="Retail Connect: give received events their jobs",
            )
        )

    @api.model
    def _job_dispatch(self):
        """Queue one job per received event of an active backend, in batches.

        Idempotent and safe in parallel (two servers, a retried job, the
        backstop cron): an event is taken with ``FOR UPDATE SKIP LOCKED`` and
        only while it has no job, so no event ever gets two jobs. More than
        a batch waiting: another dispatcher follows.
        """
        count = self._dispatch()
        if count >= DISPATCH_BATCH and not self._pending_dispatcher():
            self._store_dispatcher(window=0)  # a backlog: no reason to wait
        return f"{count} event job(s) queued"

    @api.model
    def _dispatch(self, limit=DISPATCH_BATCH):
        """Give up to ``limit`` received events of active backends their job;
        return how many."""
        self.flush_model()
        self.env["retail.backend"].flush_model(["state"])
        self.env.cr.execute(
            """
            SELECT e.id FROM retail_event e
              JOIN retail_backend b ON b.id = e.backend_id AND b.state = 'active'
             WHERE e.state = 'received' AND e.job_uuid IS NULL
             ORDER BY e.id
             LIMIT %s
               FOR UPDATE OF e SKIP LOCKED
            """,
            (limit,),
        )
        events = self.browse([row[0] for row in self.env.cr.fetchall()])
        events._enqueue()
        return len(events)

    @api.model
    def _pending_dispatcher(self):
        self.env.cr.execute(
            "SELECT 1 FROM queue_job WHERE identity_key = %s AND state = 'pending'",
            (DISPATCH_KEY,),
        )
        return bool(self.env.cr.fetchone())

    def _enqueue(self):
        """Queue one processing job per event, in its backend's channel."""
        self.flush_recordset(["state", "job_uuid"])  # the UPDATE below wins
        for event in self:
            job = event._new_job(event.backend_id, event.traffic)
            event._store_job(job)
            self.env.cr.execute(
                "UPDATE retail_event SET state='queued', job_uuid=%s WHERE id=%s",
                (job.uuid, event.id),
            )
        self.invalidate_recordset(["state", "job_uuid"])

    def _new_job(self, backend, traffic=None, job_uuid=None, description=None):
        """The queue_job ``Job`` that processes this event (not stored yet)."""
        self.ensure_one()
        return Job(
            self.with_user(SUPERUSER_ID).with_context({})._job_process,
            max_retries=backend.job_max_retries,
            channel=backend._channel(traffic or "realtime"),
            description=description or f"{backend.name}: {self.topic}",
            job_uuid=job_uuid,
        )

    @api.model
    def _store_job(self, job):
        """Store a new job with one INSERT.

        The values are queue_job's own (``Job._store_values``, its fields'
        column conversion), so the runner and ``Job.load`` read the row as any
        other; only the ORM create around them is skipped: it cost most of a
        webhook's acknowledgement time (see bench/README.md). The table's
        ``queue_job_notify`` trigger tells the runner, as for any job.
        """
        sql_insert(self.env["queue.job"].sudo(), job._store_values(create=True))

    # ------------------------------------------------------------ process
    def _data(self):
        """The payload as JSON (platform handlers read it; users cannot)."""
        self.ensure_one()
        if self.payload_purged:
            raise SyncError(
                self.env._(
                    "The payload of event %(event)s was purged after the retention "
                    "period: it cannot be processed again.",
                    event=self.id,
                )
            )
        payload = self.sudo().payload
        return json.loads(payload) if payload else {}

    def _job_process(self):
        """Apply the event. Idempotent: an event already applied is left alone.

        Whatever fails, before processing (no policy for its domain) or during
        it, ends as the event failed or dead with a sync exception
        (``retail.backend._job_failure``): never a failed job with the event
        left queued.
        """
        if not self.exists():
            # deleted meanwhile, with its backend: nothing to apply or report
            return "event deleted"
        self.ensure_one()
        if self.state in FINAL:
            return f"already {self.state}"
        backend = self.backend_id
        if backend.state != "active":
            # keep it waiting; resuming the backend enqueues it again
            self.write({"state": "received", "job_uuid": False})
            return f"backend {backend.state}: waiting"
        backend._restart_writes()
        self.attempts = backend._job_attempt()
        # shadow mode (retail_shadow.py): processed, compared, rolled back
        with backend._shadow_scope(self.domain) as run:
            try:
                with self.env.cr.savepoint():
                    if self.domain not in (False, TECHNICAL) and not (
                        self._import_policy()._allows_import()
                    ):
                        raise EventSkipped(
                            "skipped_policy", "the sync policy does not import"
                        )
                    record = backend.with_context(
                        retail_connect_origin=backend.id
                    )._process_event(self)
                    if run.shadow:
                        record = record[:1] if record else None
                        after = self.env["retail.shadow.record"]._snapshot(record)
                        raise _ShadowDone(record, after)
            except _ShadowDone as done:
                return self._shadow_done(run, done.record, done.after)
            except EventSkipped as skip:
                return self._finish(skip.state, skip.reason)
            except Exception as err:  # noqa: BLE001 - classified, none is lost
                if run.requests:
                    return self._shadow_done(run, None, None)
                failure, dead = backend._job_failure(err)
                self._fail(failure, state="dead" if dead else "failed")
                # a changed contract is a likely cause: always checked on failure
                backend._contract_check(self, failed=True)
                return f"{'dead letter' if dead else 'failed'}: {failure.message}"
        values = {
            "state": "done",
            "processed_at": fields.Datetime.now(),
            "error": False,
        }
        if record:
            values.update(res_model=record._name, res_id=record.id)
        self.write(values)
        self.env["retail.sync.exception"]._auto_resolve(self)
        backend._contract_check(self)  # a sample (contract_sample_rate)
        return f"done: {record and record.display_name or ''}"

    def _shadow_done(self, run, record, after):
        """Shadow mode: the event was processed and rolled back. Record what
        the import would change (``after`` against what Odoo holds now) and
        the writes it tried; the event ends ``shadow``."""
        Shadow = self.env["retail.shadow.record"]
        backend = self.backend_id
        note = self.env._("Computed in shadow mode, not applied")
        if run.requests:
            Shadow._record_requests(
                backend, run.requests, domain=self.domain, event=self
            )
            note = self.env._("Shadow mode: stopped at a write, not sent")
        elif record is not None:
            before = Shadow._snapshot(record.exists())
            Shadow._record_import(backend, self, record._name, record.id, before, after)
        self.write(
            {"state": "shadow", "processed_at": fields.Datetime.now(), "error": note}
        )
        return f"shadow: {note}"

    def _finish(self, state, reason):
        self.write(
            {"state": state, "processed_at": fields.Datetime.now(), "error": reason}
        )
        return f"{state}: {reason}"

    def _import_policy(self):
        """The policy of the event's domain; a missing one is a failure to fix."""
        try:
            return self.backend_id._policy(self.domain)
        except UserError as err:
            raise ValidationSyncError(
                self.env._(
                    "%(error)s Add it on the backend (Sync policies), then retry "
                    "the event.",
                    error=err,
                )
            ) from err

    def _fail(self, err, state="failed"):
        exception = self.backend_id._report_failure(
            err,
            domain=self.domain,
            subject_key=err.subject_key or self.subject_key,
            event=self,
            fix=err.fix or None,
        )
        self.write(
            {
                "state": state,
                "error": mask_text(str(err)),
                "exception_id": exception.id,
                "processed_at": fields.Datetime.now(),
            }
        )
        return exception

    # ------------------------------------------------------------ actions
    def action_retry(self):
        """Process failed or dead events again (after a fix)."""
        check_group(self.env)
        todo = self.filtered(lambda e: e.state in ("failed", "dead", "received"))
        todo.write({"error": False, "requeue_count": 0})
        todo._enqueue()
        return True

    def action_replay(self):
        """Apply events again as new replay events (the originals stay as history)."""
        check_group(self.env)
        purged = self.sudo().filtered("payload_purged")
        if purged:
            raise UserError(
                self.env._(
                    "Events %(events)s lost their payload to the retention period: "
                    "there is nothing to replay. Fetch the object from the platform "
                    "again (a backfill or the polling backstop).",
                    events=", ".join(str(i) for i in purged.ids),
                )
            )
        replays = self.env["retail.event"]
        for event in self.sudo():
            replays |= self.create(
                {
                    "backend_id": event.backend_id.id,
                    "company_id": event.company_id.id,
                    "topic": event.topic,
                    "domain": event.domain,
                    "dedup_key": f"replay:{event.id}:{uuid.uuid4()}",
                    "source": "replay",
                    "subject_key": event.subject_key,
                    "occurred_at": event.occurred_at,
                    "remote_updated_at": event.remote_updated_at,
                    "payload": event.payload,
                    "correlation_id": event.correlation_id,
                    "traffic": event.traffic,
                    "replay_of_id": event.id,
                }
            )
        replays.filtered(lambda e: e.backend_id.state == "active")._enqueue()
        # open what was replayed: the new event(s), not the original
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Replay"),
            "res_model": self._name,
        }
        if len(replays) == 1:
            return dict(action, res_id=replays.id, view_mode="form")
        return dict(action, view_mode="list,form", domain=[("id", "in", replays.ids)])

    def action_open_event(self):
        """Related action of the event's queue job."""
        check_group(self.env, USER)
        self.check_access("read")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
        }

    def action_open_job(self):
        check_group(self.env)
        self.ensure_one()
        if not self.env["queue.job"].has_access("read"):
            raise UserError(
                self.env._(
                    "Opening a queue job needs the Job Queue Manager group: ask an "
                    "administrator, or retry the event from here."
                )
            )
        job = self.env["queue.job"].search([("uuid", "=", self.job_uuid)], limit=1)
        if not job:
            raise UserError(self.env._("The job of this event no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "queue.job",
            "res_id": job.id,
            "view_mode": "form",
        }

    def action_open_record(self):
        check_group(self.env, USER)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    # -------------------------------------------------------------- crons
    @api.model
    def _cron_dispatch(self):
        """Backstop of the dispatcher job (it failed, was deleted): queue the
        received events of active backends; return how many."""
        count = total = self._dispatch()
        while count >= DISPATCH_BATCH:
            count = self._dispatch()
            total += count
        return total

    @api.model
    def _cron_requeue_stuck(self, minutes=30):
        """Events queued long ago whose job is gone (crash, deleted) get a new one.

        Not forever: an event whose job keeps getting lost (a worker killed
        while processing it, every time) goes, past its backend's
        ``stuck_requeue_limit``, to the dead letter with an exception saying
        what to check. Return the number of events queued again.
        """
        limit = fields.Datetime.now() - timedelta(minutes=minutes)
        self.env.cr.execute(
            """
            SELECT e.id, COALESCE(e.requeue_count, 0) >= b.stuck_requeue_limit
              FROM retail_event e
              JOIN retail_backend b ON b.id = e.backend_id AND b.state = 'active'
             WHERE e.state = 'queued' AND e.write_date < %s
               AND NOT EXISTS (SELECT 1 FROM queue_job j WHERE j.uuid = e.job_uuid
                               AND j.state IN ('wait_dependencies', 'pending',
                                               'enqueued', 'started'))
            """,
            (limit,),
        )
        rows = self.env.cr.fetchall()
        lost = self.browse([event_id for event_id, over in rows if over])
        again = self.browse([event_id for event_id, over in rows if not over])
        for event in lost:
            event._fail(
                SyncError(
                    self.env._(
                        "Its job kept getting lost: queued again %(n)s times, it "
                        "never finished (a worker crashed or was killed while "
                        "processing it, or its job was deleted or failed outside "
                        "the suite). Check the server log and the queue jobs of "
                        "this event (worker memory, limit_time_real, the job "
                        "runner), then retry it.",
                        n=event.requeue_count,
                    ),
                    category="internal",
                ),
                state="dead",
            )
        if again:
            self.env.cr.execute(
                "UPDATE retail_event "
                "SET requeue_count = COALESCE(requeue_count, 0) + 1, "
                "write_date = now() at time zone 'utc' WHERE id IN %s",
                (tuple(again.ids),),
            )
            again.invalidate_recordset(["requeue_count", "write_date"])
            again._enqueue()
        return len(again)


def read_committed(env):
    """Run this transaction in READ COMMITTED if it has not started yet (the
    webhook route, before its first query; never under tests, whose cursor is
    shared). Return whether it does. The cursor's next transaction is back to
    Odoo's REPEATABLE READ (set whenever a cursor is opened)."""
    if getattr(threading.current_thread(), "testing", False) or (
        env.registry.in_test_mode()
    ):
        return False
    connection = env.cr.connection
    if connection.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        return False
    connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
    return True


class _ShadowDone(Exception):  # noqa: N818 - a way out, not an error
    """Ends an event's processing in shadow mode: its savepoint rolls back,
    ``after`` (the record's values as processed) goes on."""

    def __init__(self, record, after):
        super().__init__("shadow")
        self.record = record
        self.after = after


def _naive(value):
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
