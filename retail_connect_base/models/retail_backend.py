"""The backend: one connected account on a platform, its settings and actions.

The model is defined here (fields, settings, actions, policies, the platform
hooks); its mechanisms live beside it, each in one file that extends it:
``retail_backend_secrets.py`` (secrets), ``retail_backend_guard.py`` (which
hosts and databases may call), ``retail_backend_jobs.py`` (channels,
idempotency keys, failures and exceptions), ``retail_backend_http.py``
(client, rate limiter, exchange log, polling), ``retail_backend_health.py``
(figures and checks), ``retail_backend_metrics.py`` (Prometheus).
"""

import logging

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..lib.webhook import DEFAULT_MAX_BYTES
from .common import USER, check_group
from .retail_sync_policy import DOMAINS

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

    # ---------------------------------------------------------- constraints
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
        self.env.registry.clear_cache()  # _webhook_values: no id is cached as missing
        backends = super().create(vals_list)
        for backend in backends:
            backend._create_default_policies()
            backend._ensure_channels()
        return backends

    def unlink(self):
        # the queue_job channels made for these backends go with them (an
        # uninstalled platform addon deletes its backends: nothing of it is left)
        channels = self._own_channels()
        self.env.registry.clear_cache()  # _webhook_values
        result = super().unlink()
        channels.unlink()
        return result

    def write(self, vals):
        if not set(vals).isdisjoint(self._webhook_fields()):
            self.env.registry.clear_cache()  # _webhook_values, in every worker
        return super().write(vals)

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

    @api.model
    def _webhook_backend(self, backend_id):
        """The backend a webhook names (empty if none), its webhook fields
        already in the environment's cache: from this worker's cache after the
        first delivery (no query), else one query for only those fields.

        Cleared in every worker (``registry.clear_cache``, signalled with the
        transaction) when a backend is created or deleted, or one of these
        fields written through the ORM. A pause written in SQL by the guard
        (a copied database) is not: the route then still stores the event,
        and the dispatcher gives jobs to the events of active backends only.
        """
        values = self._webhook_values(backend_id)
        if not values:
            return self.browse()
        backend = self.browse(backend_id)
        for name, value in values:
            self.env.cache.set(backend, self._fields[name], value)
        return backend

    @api.model
    @tools.ormcache("backend_id")
    def _webhook_values(self, backend_id):
        names = [
            name
            for name in self._webhook_fields()
            if self._fields[name].store
            and not self._fields[name].translate
            and self._fields[name] not in self.pool.field_depends_context
            and self._fields[name].type not in ("one2many", "many2many")
        ]
        backend = self.with_context(active_test=False).search_fetch(
            [("id", "=", backend_id)], names, limit=1
        )
        if not backend:
            return ()
        return tuple(
            (name, self.env.cache.get(backend, self._fields[name])) for name in names
        )

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
