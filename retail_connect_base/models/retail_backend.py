import fnmatch
import logging
import time
import uuid
import zlib
from datetime import timedelta
from urllib.parse import urlparse

from psycopg2 import OperationalError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import config

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib.errors import (
    SecretKeyMissing,
    ShadowWrite,
    SyncError,
    ThrottledError,
    TransientError,
    ValidationSyncError,
)
from ..lib.http import RetailHttpClient
from ..lib.masking import mask_text
from ..lib.webhook import DEFAULT_MAX_BYTES
from .common import USER, check_group, side_cursor
from .retail_sync_policy import DOMAINS, TECHNICAL

_logger = logging.getLogger(__name__)

# seconds a call waits in place for the local rate limiter before its job
# yields the worker and is retried later
INLINE_WAIT = 5.0
SECRET_NAMES = ("api_key", "client_secret", "access_token", "webhook_secret")
MASKED = "••••••••"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# server option: the one database where production backends may run
PRODUCTION_DB_OPTION = "retail_connect_production_db"
WRITES = "retail_connect_writes"  # cursor cache: writes of each running job


# traffic classes, each a queue_job channel with a sub-channel per backend
CHANNEL_KINDS = ("realtime", "bulk", "stock")


class RetailBackend(models.Model):
    """One connected account on a platform (a shop, a Stripe account, ...).

    Platform addons extend this model: they add their value to ``platform`` and
    implement the hooks at the end of this class (verifier, event handler,
    connection check, default policies, production hosts).
    """

    _name = "retail.backend"
    _description = "Retail Connect Backend"
    _inherit = ["mail.thread"]
    _order = "sequence, name"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    country_id = fields.Many2one(
        "res.country",
        "Shop country",
        help="Country of the shop: a customer's phone number written without "
        "its country code is read in this country (empty: the company's).",
    )
    platform = fields.Selection([], required=True, tracking=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        required=True,
        default="sandbox",
        tracking=True,
        help="A sandbox backend refuses production hosts and the reverse.",
    )
    base_url = fields.Char(
        "Base URL",
        tracking=True,
        help="Platform API address; always overridable (tests and demos point it "
        "at a local sandbox).",
    )
    api_version = fields.Char(
        "API version",
        tracking=True,
        compute="_compute_platform_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("error", "Error"),
        ],
        default="draft",
        required=True,
        tracking=True,
    )
    paused_reason = fields.Char(readonly=True)
    activated_db_uuid = fields.Char(
        readonly=True,
        copy=False,
        help="Database identity when the backend was activated: a copied database "
        "has another one, and refuses to call the platform until resumed.",
    )
    # health
    last_check_at = fields.Datetime(readonly=True)
    last_check_ok = fields.Boolean(readonly=True)
    last_error = fields.Text(readonly=True)
    # credentials: stored encrypted in retail.secret, write-only here
    client_id = fields.Char("Client ID / account", tracking=True)
    api_key = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_api_key",
        groups="retail_connect_base.group_manager",
    )
    client_secret = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_client_secret",
        groups="retail_connect_base.group_manager",
    )
    access_token = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_access_token",
        groups="retail_connect_base.group_manager",
    )
    webhook_secret = fields.Char(
        compute="_compute_secrets",
        inverse="_inverse_webhook_secret",
        groups="retail_connect_base.group_manager",
        help="Setting a new secret keeps the previous one valid for the grace "
        "period, as platforms take time to sign with the new one.",
    )
    webhook_secret_grace_hours = fields.Integer(default=2)
    webhook_previous_valid_until = fields.Datetime(readonly=True)
    webhook_url = fields.Char(compute="_compute_webhook_url")
    webhook_max_bytes = fields.Integer(
        default=DEFAULT_MAX_BYTES,
        help="Larger deliveries are refused (413); at most 10 MiB, the limit of "
        "the webhook route.",
    )
    webhook_replay_window = fields.Integer(
        "Replay window (s)",
        compute="_compute_platform_defaults",
        store=True,
        readonly=False,
        precompute=True,
        help="Deliveries signed longer ago than this are refused.",
    )
    # jobs and limits
    job_max_retries = fields.Integer(default=8)
    stuck_requeue_limit = fields.Integer(
        "Requeues of a lost event",
        default=3,
        help="An event whose job disappears (a worker killed while processing "
        "it, a deleted job) is queued again this many times, then goes to the "
        "dead letter with an exception.",
    )
    rate_limit_capacity = fields.Float(
        "Rate limit burst (calls)",
        compute="_compute_platform_defaults",
        store=True,
        readonly=False,
        precompute=True,
        help="The most the local limiter grants at once: at least the cost of "
        "the platform's most expensive call, or that call never runs.",
    )
    rate_limit_per_second = fields.Float(
        "Rate limit (calls/s)",
        compute="_compute_platform_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    activated_at = fields.Datetime(
        readonly=True, copy=False, help="Last activation or resumption."
    )
    policy_ids = fields.One2many("retail.sync.policy", "backend_id")
    exception_open_count = fields.Integer(compute="_compute_stats")
    event_hour_count = fields.Integer(compute="_compute_stats")
    event_failed_hour_count = fields.Integer(compute="_compute_stats")
    failure_rate = fields.Float(compute="_compute_stats")
    exception_old_count = fields.Integer(
        compute="_compute_stats", help="Open exceptions older than a day."
    )
    latency_p50_s = fields.Float(compute="_compute_stats")
    health = fields.Selection(
        [("ok", "Healthy"), ("warning", "Warning"), ("error", "Error")],
        compute="_compute_stats",
    )
    health_message = fields.Text(
        "What to do",
        compute="_compute_stats",
        help="What is wrong with this backend, and what to do about it.",
    )

    _sql_constraints = [
        (
            "max_retries_positive",
            "CHECK(job_max_retries > 0)",
            "Jobs need at least one try.",
        )
    ]

    # ------------------------------------------------------------ computes
    def _compute_secrets(self):
        stored = self.env["retail.secret"].sudo()._names_set(self.ids)
        for backend in self:
            names = stored.get(backend.id, set())
            for name in SECRET_NAMES:
                backend[name] = MASKED if name in names else False

    def _inverse_secret(self, name):
        for backend in self:
            value = backend[name]
            if value and value != MASKED:
                backend._set_secret(name, value)
            elif not value:
                backend._set_secret(name, False)
        # never keep the clear value in the cache: reads show the mask again
        self.invalidate_recordset([name])

    def _inverse_api_key(self):
        self._inverse_secret("api_key")

    def _inverse_client_secret(self):
        self._inverse_secret("client_secret")

    def _inverse_access_token(self):
        self._inverse_secret("access_token")

    def _inverse_webhook_secret(self):
        for backend in self:
            value = backend.webhook_secret
            if value == MASKED:
                continue
            backend._rotate_webhook_secret(value or False)
        self.invalidate_recordset(["webhook_secret"])

    @api.depends("platform")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            backend.webhook_url = (
                f"{base}/retail_connect/webhook/{backend.id}" if backend.id else False
            )

    @api.depends("platform")
    def _compute_platform_defaults(self):
        for backend in self:
            backend.update(backend._platform_defaults())

    def _compute_stats(self):
        ids = tuple(self._origin.ids) or (0,)
        cr = self.env.cr
        cr.execute(
            """
            SELECT backend_id,
                   count(*),
                   count(*) FILTER (WHERE state IN ('failed', 'dead')),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       extract(epoch FROM processed_at - received_at))
              FROM retail_event
             WHERE backend_id IN %s AND received_at > now() at time zone 'utc'
                   - interval '1 hour'
             GROUP BY backend_id
            """,
            [ids],
        )
        events = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """
            SELECT backend_id, count(*),
                   count(*) FILTER (WHERE first_seen < now() at time zone 'utc'
                                    - interval '1 day')
              FROM retail_sync_exception
             WHERE backend_id IN %s AND state IN ('new', 'in_progress')
             GROUP BY backend_id
            """,
            [ids],
        )
        exceptions = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """
            SELECT backend_id, count(*), count(*) FILTER (WHERE NOT ok)
              FROM retail_exchange
             WHERE backend_id IN %s AND create_date > now() at time zone 'utc'
                   - interval '1 hour'
             GROUP BY backend_id
            """,
            [ids],
        )
        calls = {row[0]: row[1:] for row in cr.fetchall()}
        for backend in self:
            key = backend._origin.id
            total, failed, p50 = events.get(key, (0, 0, None))
            open_count, old = exceptions.get(key, (0, 0))
            backend.event_hour_count = total
            backend.event_failed_hour_count = failed
            backend.failure_rate = (failed / total * 100.0) if total else 0.0
            backend.latency_p50_s = p50 or 0.0
            backend.exception_open_count = open_count
            backend.exception_old_count = old
            checks = backend._health_checks(
                {
                    "events": total,
                    "events_failed": failed,
                    "calls": calls.get(key, (0, 0))[0],
                    "calls_failed": calls.get(key, (0, 0))[1],
                    "exceptions_open": open_count,
                }
            )
            levels = {level for level, _message in checks}
            backend.health = next(
                (level for level in ("error", "warning") if level in levels), "ok"
            )
            backend.health_message = "\n".join(
                message
                for rank in ("error", "warning")
                for level, message in checks
                if level == rank
            )

    # ---------------------------------------------------------- constraints
    @api.constrains("environment", "base_url", "platform")
    def _check_environment_host(self):
        for backend in self:
            if backend.base_url:
                backend._assert_host_matches_environment(backend.base_url)

    @api.constrains("rate_limit_capacity", "rate_limit_per_second", "platform")
    def _check_rate_limit(self):
        for backend in self:
            problem = backend._rate_limit_problem(backend._rate_limit_min_capacity())
            if problem:
                raise ValidationError(problem)

    @api.constrains("state", "company_id", "platform")
    def _check_remote_account(self):
        """One active backend per remote account and company: a second one
        would import every order again."""
        for backend in self.filtered(lambda b: b.state == "active"):
            account = backend._remote_account()
            if not account:
                continue
            twins = (
                self.sudo()
                .search(
                    [
                        ("id", "!=", backend.id),
                        ("platform", "=", backend.platform),
                        ("company_id", "=", backend.company_id.id),
                        ("state", "in", ("active", "error")),
                    ]
                )
                .filtered(lambda b, account=account: b._remote_account() == account)
            )
            if twins:
                raise ValidationError(
                    self.env._(
                        "%(account)s is already connected by the backend "
                        "%(first)s: a second active backend of the same account "
                        "would import every order again. Pause %(first)s first, "
                        "or keep using it.",
                        account=account,
                        first=twins[0].name,
                    )
                )

    # ----------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        for backend in backends:
            backend._create_default_policies()
            backend._ensure_channels()
        return backends

    def unlink(self):
        # the queue_job channels made for these backends go with them (an
        # uninstalled platform addon deletes its backends: nothing of it is left)
        channels = self._own_channels()
        result = super().unlink()
        channels.unlink()
        return result

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            vals["state"] = "draft"
        return vals_list

    # -------------------------------------------------------------- actions
    def action_test_connection(self):
        check_group(self.env)
        self.ensure_one()
        try:
            message = self.with_context(
                retail_connect_connection_test=True
            )._check_connection() or self.env._("Connection OK")
        except Exception as err:  # shown to the user, kept on the backend
            self.write(
                {
                    "last_check_at": fields.Datetime.now(),
                    "last_check_ok": False,
                    "last_error": str(err),
                }
            )
            return self._notify(
                self.env._("Connection failed: %(error)s", error=err), "danger"
            )
        self.write(
            {
                "last_check_at": fields.Datetime.now(),
                "last_check_ok": True,
                "last_error": False,
            }
        )
        return self._notify(message, "success")

    def action_activate(self):
        check_group(self.env)
        requested = self.browse()
        for backend in self:
            if backend.base_url:
                backend._assert_host_matches_environment(backend.base_url)
            if backend.environment == "production" and (
                reason := backend._not_production_db_reason()
            ):
                raise UserError(reason)
            # go-live governance (retail_integration_map.py, retail_approval.py)
            backend._check_map_conflicts()
            if not backend._go_live_approved():
                requested |= backend
                continue
            backend.write(
                {
                    "state": "active",
                    "paused_reason": False,
                    "activated_db_uuid": backend._db_uuid(),
                    "activated_at": fields.Datetime.now(),
                }
            )
            backend._enqueue_waiting_events()
        if requested:
            return self._notify(
                self.env._(
                    "Approval requested for %(backends)s: another Retail Manager "
                    "approves it (Configuration > Approvals), which activates it.",
                    backends=", ".join(requested.mapped("name")),
                ),
                "warning",
            )
        return True

    def action_pause(self, reason=None):
        check_group(self.env)
        self.write(
            {
                "state": "paused",
                "paused_reason": reason
                or self.env._("Paused by %(user)s", user=self.env.user.name),
            }
        )
        return True

    action_resume = action_activate

    def action_view_exceptions(self):
        check_group(self.env, USER)
        return self._open_related("retail.sync.exception")

    def action_view_events(self):
        check_group(self.env, USER)
        return self._open_related("retail.event")

    def _open_related(self, model):
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            {
                "retail.sync.exception": "retail_connect_base.action_sync_exception",
                "retail.event": "retail_connect_base.action_event",
            }[model]
        )
        action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = (
            {"search_default_open": 1} if model == "retail.sync.exception" else {}
        )
        return action

    def _notify(self, message, kind):
        """A notification, then the form reloads its record (its "last
        check" and setup checklist show the result without reloading the
        page). A failure stays until the user closes it."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": str(message),
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------- secrets
    def _get_secret(self, name):
        """Clear value of a secret, for platform code only (never for display)."""
        self.ensure_one()
        return self.env["retail.secret"].sudo()._read_secret(self.id, name)

    def _set_secret(self, name, value):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(
            "retail_connect_base.group_manager"
        ):
            raise UserError(self.env._("Only Retail Connect managers set secrets."))
        secrets = self.env["retail.secret"].sudo()
        try:
            if (secrets._read_secret(self.id, name) or False) == (value or False):
                return  # a field left blank, or the same value: nothing changed
            secrets._write_secret(self.id, name, value)
        except SecretKeyMissing as err:
            raise UserError(str(err)) from err
        # a note, not a message: it needs no sender address
        self._message_log(body=self.env._("Secret %(name)s changed.", name=name))

    def _rotate_webhook_secret(self, new_secret):
        """Make ``new_secret`` current; the previous one stays valid for a while."""
        self.ensure_one()
        secrets = self.env["retail.secret"].sudo()
        current = secrets._read_secret(self.id, "webhook_secret")
        if current and new_secret and current != new_secret:
            secrets._write_secret(self.id, "webhook_secret_previous", current)
            self.webhook_previous_valid_until = fields.Datetime.now() + timedelta(
                hours=self.webhook_secret_grace_hours
            )
        self._set_secret("webhook_secret", new_secret)

    def _webhook_secrets(self):
        """Secrets a delivery may be signed with: current, then previous in grace."""
        self.ensure_one()
        secrets = [self._get_secret("webhook_secret")]
        until = self.webhook_previous_valid_until
        if until and until > fields.Datetime.now():
            secrets.append(self._get_secret("webhook_secret_previous"))
        return [s for s in secrets if s]

    def _phone_region(self, country_code=None):
        """Default region of an incoming phone number: the customer's country
        when known, else the shop's, else the company's."""
        self.ensure_one()
        return (
            country_code
            or self.country_id.code
            or self.company_id.country_id.code
            or None
        )

    # ------------------------------------------------------- environment guard
    def _db_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def _assert_host_matches_environment(self, url):
        self.ensure_one()
        host = (urlparse(url).hostname or "").lower()
        production = any(
            fnmatch.fnmatch(host, pattern)
            for pattern in self._production_host_patterns()
        )
        if self.environment == "sandbox" and production:
            raise ValidationError(
                self.env._(
                    "%(backend)s is a sandbox backend: it refuses the production "
                    "host %(host)s.",
                    backend=self.name,
                    host=host,
                )
            )
        if self.environment == "production" and (
            host in LOOPBACK_HOSTS
            or any(fnmatch.fnmatch(host, p) for p in self._sandbox_host_patterns())
        ):
            raise ValidationError(
                self.env._(
                    "%(backend)s is a production backend: it refuses the sandbox "
                    "host %(host)s.",
                    backend=self.name,
                    host=host,
                )
            )

    def _assert_can_call(self, check_state=True):
        """Refuse any outbound call a governed backend must not make.

        ``check_state=False`` lets a manager test a draft or paused backend; the
        environment guards (copied database, host vs environment) always apply.
        """
        self.ensure_one()
        if check_state and self.state not in ("active", "error"):
            raise UserError(
                self.env._(
                    "%(backend)s is %(state)s: it makes no calls until activated.",
                    backend=self.name,
                    state=self.state,
                )
            )
        if self.environment == "production" and (reason := self._copy_reason()):
            # the caller's transaction will roll back: the pause must not
            with side_cursor(self.env) as cr:
                cr.execute(
                    "UPDATE retail_backend SET state = 'paused', paused_reason = %s "
                    "WHERE id = %s",
                    (reason, self.id),
                )
            self.invalidate_recordset(["state", "paused_reason"])
            raise UserError(self._paused_message())
        self._assert_host_matches_environment(self._api_url())

    def _copy_reason(self):
        """Why production must not run in this database, or None.

        Not the database the server option names (a restore keeps the uuid),
        or activated in a database with another ``database.uuid``.
        """
        reason = self._not_production_db_reason()
        if reason:
            return reason
        if self.activated_db_uuid != self._db_uuid():
            return self.env._(
                "This database is a copy: production backends are paused until "
                "a manager resumes them."
            )
        return None

    def _not_production_db_reason(self):
        production_db = config.get(PRODUCTION_DB_OPTION)
        if not production_db or production_db == self.env.cr.dbname:
            return None
        return self.env._(
            "This database (%(db)s) is not %(production)s, the production database "
            "named by the server option %(option)s: production backends make no "
            "calls here.",
            db=self.env.cr.dbname,
            production=production_db,
            option=PRODUCTION_DB_OPTION,
        )

    def _paused_message(self):
        return self.env._(
            "%(backend)s is paused: %(reason)s",
            backend=self.name,
            reason=self.paused_reason or "",
        )

    def _api_url(self):
        return self.base_url or self._default_base_url()

    # ------------------------------------------------------------- policies
    def _create_default_policies(self):
        self.ensure_one()
        existing = set(self.policy_ids.mapped("domain"))
        values = [
            dict(vals, backend_id=self.id)
            for vals in self._default_policies()
            if vals["domain"] not in existing
        ]
        self.env["retail.sync.policy"].create(values)

    def _policy(self, domain):
        """The sync policy of this backend for a business domain."""
        self.ensure_one()
        policy = self.policy_ids.filtered(lambda p: p.domain == domain)
        if not policy:
            raise UserError(
                self.env._(
                    "%(backend)s has no sync policy for %(domain)s.",
                    backend=self.name,
                    domain=domain,
                )
            )
        return policy[0]

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

    # ----------------------------------------------------------------- HTTP
    def _http_client(self, client_class=RetailHttpClient, **kwargs):
        """A client for this backend: guarded, limited, logged."""
        self.ensure_one()
        self._assert_can_call(
            check_state=not self.env.context.get("retail_connect_connection_test")
        )
        return client_class(
            self._api_url(),
            on_exchange=self._log_exchange,
            limiter=self._take_token,
            attempt=self._job_attempt(),
            idempotency_keys=self._next_idempotency_key,
            shadow=self._shadow_intercept,
            **kwargs,
        )

    def _take_token(self, cost=1.0, bucket="api", capacity=None, rate=None):
        """Take ``cost`` from the shared bucket of the backend's calls, or from
        ``bucket`` with its own ``capacity`` and ``rate`` (a platform limiting
        each operation on its own, as SP-API does); wait in place a short
        while, else raise ``ThrottledError`` with the wait."""
        check = None
        if bucket == "api":
            capacity, rate = self.rate_limit_capacity, self.rate_limit_per_second

            def check(learned):
                # what the platform reported wins over the settings: a Plus
                # shop grants what the configured default would refuse, a
                # smaller bucket never holds a call the default would wait for
                problem = self._rate_limit_problem(cost, learned=learned)
                if problem:
                    # waiting would never help: a setting to fix, not a throttle
                    raise SyncError(problem, category="throttle")

        buckets = self.env["retail.throttle.bucket"]
        args = (self, bucket, cost, capacity, rate)
        # one side transaction: the check reads the bucket's row it updates
        wait = buckets._take(*args, check=check)
        if 0 < wait <= INLINE_WAIT:
            # a short wait is spent here: a job of several calls (an order
            # read page after page) that yielded its worker at each one would
            # start over and spend the budget again without ever finishing
            time.sleep(wait)
            wait = buckets._take(*args)
        if wait:
            raise ThrottledError(
                f"{self.name}: local rate limit, wait {wait:.1f}s",
                seconds=max(1, round(wait, 1)),
            )

    def _observe_budget(self, available, capacity=None, rate=None):
        """Align the shared bucket with the budget the platform reported; the
        capacity and restore rate it reports replace the configured ones."""
        self.env["retail.throttle.bucket"]._observe(
            self,
            "api",
            available,
            self.rate_limit_capacity,
            self.rate_limit_per_second,
            learned_capacity=capacity,
            learned_rate=rate,
        )

    def _log_exchange(self, exchange):
        """Log a call and align the shared bucket with the budget its answer
        reported (``exchange.budget``): one side transaction for both."""
        budget = None
        if exchange.budget:
            available, capacity, rate = exchange.budget
            buckets = self.env["retail.throttle.bucket"]

            def budget(cr):
                buckets._update_in(
                    cr,
                    self,
                    "api",
                    0,
                    self.rate_limit_capacity,
                    self.rate_limit_per_second,
                    available,
                    (capacity, rate),
                    None,
                )

        self.env["retail.exchange"]._record(self, exchange, also=budget)

    def _call_in_job(self, func, *args, **kwargs):
        """Run ``func``; platform slow-down signals become job retries."""
        try:
            return func(*args, **kwargs)
        except ThrottledError as err:
            raise RetryableJobError(
                str(err), seconds=max(1, round(err.seconds or 10)), ignore_retry=True
            ) from err
        except TransientError as err:
            raise RetryableJobError(str(err), seconds=int(err.seconds or 10)) from err

    # -------------------------------------------------------------- polling
    def _poll(self, policy, since, until):
        """Fetch what changed between ``since`` and ``until``; return events.

        Platform hook: return a list of ``Delivery`` objects (source ``poll``) for
        the base to ingest. The base advances the watermark after success.
        """
        return []

    def _rate_limit_problem(self, cost, learned=None):
        """Why the local limiter could never grant a call of ``cost`` (or None).
        ``learned``: the ``(capacity, rate)`` the platform reported, which
        the shared bucket holds instead of the settings."""
        _ = self.env._
        if learned:
            capacity, rate = learned
            if rate > 0 and cost <= capacity:
                return None
            return _(
                "%(backend)s: the platform reports a rate limit of %(capacity)s "
                "points restored at %(rate)s/s, below the cost of a call "
                "(%(cost)s): it could never be granted. Ask for a smaller page "
                "(or split the call); no setting raises the platform's limit.",
                backend=self.name,
                capacity=f"{capacity:g}",
                rate=f"{rate:g}",
                cost=f"{cost:g}",
            )
        defaults = self._platform_defaults()
        if self.rate_limit_per_second <= 0:
            return _(
                "%(backend)s: Rate limit (calls/s) is %(rate)s: the local limiter "
                "would never grant a call. Set it above 0 on the backend (the "
                "platform's default is %(default)s).",
                backend=self.name,
                rate=f"{self.rate_limit_per_second:g}",
                default=f"{defaults['rate_limit_per_second']:g}",
            )
        if cost > self.rate_limit_capacity:
            return _(
                "%(backend)s: Rate limit burst (calls) is %(capacity)s, below the "
                "cost of a call (%(cost)s): the local limiter would never grant "
                "it. Set it to at least %(least)s on the backend (the platform's "
                "default is %(default)s).",
                backend=self.name,
                capacity=f"{self.rate_limit_capacity:g}",
                cost=f"{cost:g}",
                least=f"{max(cost, self._rate_limit_min_capacity()):g}",
                default=f"{defaults['rate_limit_capacity']:g}",
            )
        return None

    def _topic_domain(self, topic):
        """The domain an event of ``topic`` is stored with: its business domain
        (``_event_domain``), else technical; never a value no view knows."""
        domain = self._event_domain(topic)
        return domain if domain in dict(DOMAINS) else TECHNICAL

    # -------------------------------------------------------- platform hooks
    def _platform_defaults(self):
        """Values a backend of ``self.platform`` starts with (platforms extend).

        Applied whenever the platform is chosen, in the form as in ``create``;
        a value given explicitly wins.
        """
        return {
            "api_version": False,
            "webhook_replay_window": 3600,
            "rate_limit_capacity": 40,
            "rate_limit_per_second": 2,
        }

    def _rate_limit_min_capacity(self):
        """Cost of the platform's most expensive single call: a smaller burst
        could never grant it."""
        return 1.0

    def _remote_account(self):
        """The remote account this backend connects, normalized (a Shopify
        shop's domain); False: unknown. One active backend per remote account
        and company."""
        return False

    def _default_base_url(self):
        return False

    def _default_policies(self):
        """Policy values for a new backend; platforms override per domain."""
        return [
            {"domain": domain, "direction": "off"}
            for domain, _label in self.env["retail.sync.policy"]
            ._fields["domain"]
            .selection
        ]

    def _production_host_patterns(self):
        return []

    def _sandbox_host_patterns(self):
        return ["sandbox.*", "*.sandbox.*"]

    def _webhook_fields(self):
        """Fields the webhook route reads, fetched with the backend in one
        query (platforms add what their verifier reads; a field left out is
        only one more query)."""
        return [
            "state",
            "platform",
            "name",
            "company_id",
            "webhook_max_bytes",
            "webhook_replay_window",
            "webhook_previous_valid_until",
        ]

    def _get_webhook_verifier(self):
        """The platform's ``Verifier`` (lib/webhook.py); None: no webhooks.

        A delivery to a backend without one is answered as a bad signature.
        """
        return None

    def _check_connection(self):
        raise UserError(self.env._("This platform has no connection check."))

    def _event_domain(self, topic):
        """Business domain (sync policy) of an event topic; False: none."""
        domain = topic.split("/")[0]
        return domain if domain in dict(DOMAINS) else False

    def _process_event(self, event):
        """Apply one inbound event; return the Odoo record it produced.

        Raise ``EventSkipped`` to skip it, ``SyncError`` for a person to fix,
        ``TransientError`` to retry later.
        """
        raise NotImplementedError(
            f"{self.platform} cannot process events of topic {event.topic}"
        )

    # --------------------------------------------------------------- metrics
    @api.model
    def _prometheus_metrics(self):
        """Technical and business metrics in Prometheus' text format."""
        cr = self.env.cr
        lines = []

        def family(name, kind, help_, rows):
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in rows:
                text = ",".join(f'{k}="{v}"' for k, v in labels.items())
                lines.append(f"{name}{{{text}}} {value}")

        backends = {
            b.id: {"backend": b.id, "platform": b.platform}
            for b in self.sudo().with_context(active_test=False).search([])
        }
        cr.execute(
            "SELECT backend_id, state, count(*) FROM retail_event "
            "GROUP BY backend_id, state ORDER BY 1, 2"
        )
        family(
            "retail_connect_events",
            "gauge",
            "Events in the inbox by state.",
            [
                (dict(backends.get(b, {"backend": b}), state=s), n)
                for b, s, n in cr.fetchall()
            ],
        )
        cr.execute(
            "SELECT backend_id, coalesce(domain, ''), severity, count(*), "
            "coalesce(max(extract(epoch FROM now() at time zone 'utc' - first_seen)),"
            " 0) FROM retail_sync_exception WHERE state IN ('new', 'in_progress') "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
        rows = cr.fetchall()
        family(
            "retail_connect_exceptions_open",
            "gauge",
            "Open sync exceptions.",
            [
                (dict(backends.get(b, {"backend": b}), domain=d, severity=s), n)
                for b, d, s, n, _age in rows
            ],
        )
        family(
            "retail_connect_exception_oldest_seconds",
            "gauge",
            "Age of the oldest open exception.",
            [
                (dict(backends.get(b, {"backend": b}), domain=d, severity=s), int(a))
                for b, d, s, _n, a in rows
            ],
        )
        cr.execute(
            "SELECT backend_id, ok, count(*), coalesce(sum(duration_ms), 0) "
            "FROM retail_exchange WHERE create_date > now() at time zone 'utc' "
            "- interval '1 hour' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = cr.fetchall()
        family(
            "retail_connect_exchanges_last_hour",
            "gauge",
            "Outbound calls in the last hour.",
            [
                (dict(backends.get(b, {"backend": b}), ok=str(ok).lower()), n)
                for b, ok, n, _d in rows
            ],
        )
        family(
            "retail_connect_exchange_ms_last_hour",
            "gauge",
            "Total duration of outbound calls in the last hour (ms).",
            [
                (dict(backends.get(b, {"backend": b}), ok=str(ok).lower()), round(d))
                for b, ok, _n, d in rows
            ],
        )
        cr.execute(
            "SELECT channel, state, count(*) FROM queue_job "
            "WHERE channel LIKE 'root.retail_connect%%' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        family(
            "retail_connect_jobs",
            "gauge",
            "Queue jobs of the suite by channel and state.",
            [({"channel": c, "state": s}, n) for c, s, n in cr.fetchall()],
        )
        return "\n".join(lines) + "\n"
