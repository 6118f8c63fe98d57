import hashlib
import json
import re
import zlib

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.fields import JobDecoder

from ..lib.errors import CATEGORIES
from ..lib.masking import mask_text
from .common import USER, check_group
from .retail_sync_policy import EVENT_DOMAINS

OPEN = ("new", "in_progress")
SEVERITY = {"auth": "critical", "internal": "high"}
HIGH_DOMAINS = ("order", "payment", "refund", "inventory")


class RetailSyncException(models.Model):
    """The human work queue: dead letters and business-rule failures.

    One open exception per fingerprint: a repeated failure bumps ``count``
    instead of opening hundreds. A later success on the same subject resolves it.
    """

    _name = "retail.sync.exception"
    _description = "Retail Connect Sync Exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state_rank, severity_rank desc, last_seen desc, id desc"

    name = fields.Char("Summary", required=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    platform = fields.Selection(related="backend_id.platform")
    domain = fields.Selection(EVENT_DOMAINS)
    category = fields.Selection([(c, c.title()) for c in CATEGORIES], required=True)
    severity = fields.Selection(
        [
            ("low", "Low"),
            ("normal", "Normal"),
            ("high", "High"),
            ("critical", "Critical"),
        ],
        default="normal",
        required=True,
    )
    severity_rank = fields.Integer(compute="_compute_ranks", store=True)
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In progress"),
            ("resolved", "Resolved"),
            ("ignored", "Ignored"),
        ],
        default="new",
        required=True,
        tracking=True,
        index=True,
    )
    state_rank = fields.Integer(compute="_compute_ranks", store=True)
    fingerprint = fields.Char(required=True, index=True, readonly=True)
    subject_key = fields.Char("Subject", index=True, readonly=True)
    message = fields.Text(readonly=True)
    count = fields.Integer(default=1, readonly=True, aggregator="sum")
    first_seen = fields.Datetime(default=fields.Datetime.now, readonly=True)
    last_seen = fields.Datetime(default=fields.Datetime.now, readonly=True)
    age_days = fields.Integer(compute="_compute_age")
    owner_user_id = fields.Many2one("res.users", "Owner", tracking=True)
    resolution_note = fields.Text(tracking=True)
    resolved_at = fields.Datetime(readonly=True)
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    event_ids = fields.One2many("retail.event", "exception_id", readonly=True)
    event_count = fields.Integer(compute="_compute_event_count")
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    record_name = fields.Char(
        "Record",
        compute="_compute_record_name",
        help="The Odoo record concerned; once resolved, the one the fix created.",
    )
    subject_label = fields.Char(
        compute="_compute_subject_label",
        help="The subject as the channel calls it (its order number).",
    )
    fix_data = fields.Json(
        readonly=True, help="What a platform-specific fix needs (e.g. the SKU)."
    )
    # which jobs Retry runs again (the serialized calls of the failed jobs):
    # written by the suite only, never through RPC
    retry_jobs = fields.Json(readonly=True, groups="base.group_system", copy=False)

    def init(self):
        # one OPEN exception per fingerprint; resolved ones are history
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS retail_sync_exception_open_uniq
                ON retail_sync_exception (backend_id, fingerprint)
             WHERE state IN ('new', 'in_progress')
            """
        )

    @api.depends("state", "severity")
    def _compute_ranks(self):
        states = {"new": 0, "in_progress": 1, "resolved": 2, "ignored": 3}
        severities = {"low": 0, "normal": 1, "high": 2, "critical": 3}
        for exc in self:
            exc.state_rank = states.get(exc.state, 9)
            exc.severity_rank = severities.get(exc.severity, 0)

    def _compute_age(self):
        now = fields.Datetime.now()
        for exc in self:
            exc.age_days = (now - exc.first_seen).days if exc.first_seen else 0

    def _record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].sudo().browse(self.res_id).exists() or None

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for exc in self:
            record = exc._record()
            # a user may handle the exception without reading the record
            exc.record_name = (
                record.with_env(self.env).display_name
                if record and record.with_env(self.env).has_access("read")
                else False
            )

    @api.depends("subject_key", "res_model", "res_id")
    def _compute_subject_label(self):
        for exc in self:
            backend = exc.backend_id.sudo()
            exc.subject_label = (
                backend._subject_label(
                    exc.subject_key, record=exc._record(), events=exc.event_ids
                )
                if backend
                else exc.subject_key
            )

    def _compute_event_count(self):
        for exc in self:
            exc.event_count = len(exc.event_ids)

    # ---------------------------------------------------------- the API
    @api.model
    def _fingerprint(self, backend, domain, category, subject_key, message):
        # digits vary between repeats of the same failure (ids, amounts, times)
        shape = re.sub(r"\d+", "#", message or "")[:200]
        raw = f"{backend.id}|{domain}|{category}|{subject_key}|{shape}"
        return hashlib.sha1(raw.encode()).hexdigest()

    @api.model
    def _open_or_bump(
        self,
        backend,
        *,
        domain,
        category,
        message,
        subject_key=None,
        event=None,
        record=None,
        fix=None,
        retry_job=None,
        severity=None,
    ):
        """Open an exception, or bump the open one with the same fingerprint.

        ``retry_job``: the failed job's call (``retail.backend._job_call``),
        which Retry runs again; a bump adds its own if it is another call.
        ``severity``: instead of the one of the category and domain.
        """
        message = mask_text(message)
        fingerprint = self._fingerprint(backend, domain, category, subject_key, message)
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            (backend.id, zlib.crc32(fingerprint.encode()) - 2**31),
        )
        existing = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("fingerprint", "=", fingerprint),
                ("state", "in", OPEN),
            ],
            limit=1,
        )
        if existing:
            values = {"count": existing.count + 1, "last_seen": fields.Datetime.now()}
            jobs = existing.sudo().retry_jobs or []
            if retry_job and retry_job not in jobs:
                values["retry_jobs"] = [*jobs, retry_job]
            existing.sudo().write(values)
            return existing
        owner = False
        if domain:
            policy = backend.policy_ids.filtered(lambda p: p.domain == domain)[:1]
            owner = policy.owner_user_id
        severity = (
            severity
            or SEVERITY.get(category)
            or ("high" if domain in HIGH_DOMAINS else "normal")
        )
        values = {
            "name": message.splitlines()[0][:160] if message else category,
            "backend_id": backend.id,
            "domain": domain,
            "category": category,
            "severity": severity,
            "fingerprint": fingerprint,
            "subject_key": subject_key,
            "message": message,
            "owner_user_id": owner.id if owner else False,
            "fix_data": fix or None,
            "retry_jobs": [retry_job] if retry_job else None,
        }
        if record:
            values.update(res_model=record._name, res_id=record.id)
        exception = self.sudo().create(values)
        if owner:
            exception.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=owner.id,
                summary=self.env._("Sync exception: %(name)s", name=exception.name),
            )
        return exception

    @api.model
    def _auto_resolve(self, event):
        """A success on a subject resolves its open exceptions."""
        if not event.subject_key:
            return self.browse()
        open_ = self.sudo().search(
            [
                ("backend_id", "=", event.backend_id.id),
                ("subject_key", "=", event.subject_key),
                ("state", "in", OPEN),
            ]
        )
        record = event._record()
        if record:
            # a resolved exception links to what its fix created
            open_.filtered(lambda exc: not exc.res_model).write(
                {"res_model": record._name, "res_id": record.id}
            )
        if open_:
            open_._resolve(
                self.env._(
                    "Resolved automatically: event %(event)s succeeded.",
                    event=event.id,
                )
            )
        return open_

    def _resolve(self, note):
        self.write(
            {
                "state": "resolved",
                "resolution_note": note,
                "resolved_at": fields.Datetime.now(),
                "resolved_by_id": self.env.uid,
            }
        )
        self.activity_ids.action_feedback(feedback=note)

    # ---------------------------------------------------------- actions
    def action_take(self):
        check_group(self.env, USER)
        self.write({"state": "in_progress", "owner_user_id": self.env.uid})
        return True

    def action_retry(self):
        """Process the failed events again, or run the failed jobs again (an
        outbound job: push, export, poll...); a success resolves the exception."""
        check_group(self.env, USER)
        for exc in self:
            events = exc.event_ids.filtered(lambda e: e.state in ("failed", "dead"))
            jobs = exc.sudo().retry_jobs
            if not events and not jobs:
                raise UserError(
                    self.env._(
                        "Nothing to retry for %(name)s: no failed event or job is "
                        "linked.",
                        name=exc.name,
                    )
                )
            exc.state = "in_progress"
            # a note: it needs no sender address
            exc._message_log(body=self.env._("Retry requested."))
            events.sudo().action_retry()
            exc._enqueue_retry_jobs()
        return True

    def _enqueue_retry_jobs(self):
        """Queue the failed jobs again: new jobs (new idempotency keys) making
        the same calls, as their first runs' users."""
        for exc in self.sudo():
            for call in exc.retry_jobs or []:
                if not call["method_name"].startswith("_job_"):
                    continue  # only job entry points are ever run from here

                def load(value):
                    text = value if isinstance(value, str) else json.dumps(value)
                    return json.loads(text, cls=JobDecoder, env=self.env)

                records = load(call["records"])
                delayed = records.with_delay(
                    channel=call["channel"], description=call["name"]
                )
                getattr(delayed, call["method_name"])(
                    *load(call["args"]), **load(call["kwargs"])
                )
            exc.retry_jobs = False

    def action_resolve(self):
        check_group(self.env, USER)
        for exc in self:
            exc._resolve(
                exc.resolution_note
                or self.env._("Resolved by %(user)s.", user=self.env.user.name)
            )
        return True

    def action_ignore(self):
        check_group(self.env, USER)
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "retail.exception.ignore",
            "view_mode": "form",
            "target": "new",
            "context": {"default_exception_ids": self.ids},
        }

    def _ignore(self, reason):
        if not reason:
            raise UserError(self.env._("Say why the exception is ignored."))
        self.write(
            {
                "state": "ignored",
                "resolution_note": reason,
                "resolved_at": fields.Datetime.now(),
                "resolved_by_id": self.env.uid,
            }
        )
        self.activity_ids.action_feedback(feedback=reason)

    def action_open_record(self):
        check_group(self.env, USER)
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(self.env._("No Odoo record is linked to this exception."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    def action_view_events(self):
        check_group(self.env, USER)
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_connect_base.action_event"
        )
        action["domain"] = [("exception_id", "in", self.ids)]
        action["context"] = {}
        return action
