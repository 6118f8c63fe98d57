import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

DOMAINS = [
    ("product", "Products"),
    ("inventory", "Inventory"),
    ("order", "Orders"),
    ("customer", "Customers"),
    ("payment", "Payments"),
    ("refund", "Refunds"),
    ("settlement", "Settlements"),
    ("shipment", "Shipments"),
    ("return", "Returns"),
]
# Events and exceptions of no business domain (a bulk operation finished, a
# webhook registration): processed without a sync policy.
TECHNICAL = "technical"
EVENT_DOMAINS = [*DOMAINS, (TECHNICAL, "Technical")]


class RetailSyncPolicy(models.Model):
    """Who owns a business domain on a backend, how it flows, how fast.

    Code asks the policy before any import or export (``allows_import``,
    ``allows_export``). A change that arrived from a backend is never echoed back
    to it: importers run with ``retail_connect_origin`` in the context and
    ``allows_export`` refuses that origin.
    """

    _name = "retail.sync.policy"
    _description = "Retail Connect Sync Policy"
    _inherit = ["mail.thread"]
    _order = "backend_id, sequence, id"
    _rec_names_search = ["backend_id", "domain"]

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    domain = fields.Selection(DOMAINS, required=True)
    system_of_record = fields.Selection(
        [("odoo", "Odoo"), ("platform", "Platform")],
        required=True,
        default="odoo",
        tracking=True,
        help="The system whose version wins: the other one only receives.",
    )
    direction = fields.Selection(
        [
            ("in", "Import (platform → Odoo)"),
            ("out", "Export (Odoo → platform)"),
            ("both", "Both ways"),
            ("off", "Off"),
        ],
        required=True,
        default="off",
        tracking=True,
    )
    timing = fields.Selection(
        [
            ("realtime", "Real-time (events)"),
            ("batch", "Scheduled batch"),
            ("hybrid", "Real-time with polling backstop"),
        ],
        required=True,
        default="hybrid",
        tracking=True,
    )
    interval_minutes = fields.Integer(
        "Poll every (min)", default=15, help="Batch or backstop polling interval."
    )
    overlap_minutes = fields.Integer(
        "Poll overlap (min)",
        default=10,
        help="Each poll starts this much before the watermark, so changes "
        "committed late on the platform are not missed.",
    )
    latency_objective_minutes = fields.Integer(
        "Latency objective (min)",
        default=5,
        help="How fast a change must arrive; the overview compares it with the "
        "measured latency.",
    )
    safety_stock = fields.Float(
        help="Inventory only: quantity kept back from what is published."
    )
    conflict_rule = fields.Selection(
        [
            ("system_of_record", "System of record wins"),
            ("newest", "Newest change wins"),
            ("manual", "Open an exception"),
        ],
        default="system_of_record",
        required=True,
    )
    owner_user_id = fields.Many2one(
        "res.users",
        "Exception owner",
        tracking=True,
        help="Gets the activity when an exception of this domain opens.",
    )
    watermark = fields.Datetime(
        readonly=True, help="Polling has seen every change up to here."
    )
    next_poll_at = fields.Datetime(readonly=True)
    last_poll_at = fields.Datetime(readonly=True)
    last_success_at = fields.Datetime(
        compute="_compute_latency",
        help="Last event applied or poll completed (computed: no row that every "
        "job would update and fight over).",
    )
    latency_p50_s = fields.Float(compute="_compute_latency")
    latency_ok = fields.Boolean(compute="_compute_latency")

    _sql_constraints = [
        (
            "domain_uniq",
            "UNIQUE(backend_id, domain)",
            "One policy per backend and domain.",
        ),
        ("interval_positive", "CHECK(interval_minutes > 0)", "Interval must be > 0."),
    ]

    @api.depends("backend_id", "domain")
    def _compute_display_name(self):
        labels = dict(DOMAINS)
        for policy in self:
            policy.display_name = (
                f"{policy.backend_id.name} / {labels.get(policy.domain, '')}"
            )

    def _compute_latency(self):
        stats, last = {}, {}
        if self.ids:
            self.env.cr.execute(
                """
                SELECT p.id, max(e.processed_at)
                  FROM retail_sync_policy p
                  JOIN retail_event e ON e.backend_id = p.backend_id
                                     AND e.domain = p.domain
                 WHERE p.id IN %s AND e.state = 'done'
                 GROUP BY p.id
                """,
                [tuple(self.ids)],
            )
            last = dict(self.env.cr.fetchall())
            self.env.cr.execute(
                """
                SELECT p.id, percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       extract(epoch FROM e.processed_at - e.received_at))
                  FROM retail_sync_policy p
                  JOIN retail_event e ON e.backend_id = p.backend_id
                                     AND e.domain = p.domain
                 WHERE p.id IN %s AND e.state = 'done'
                   AND e.received_at > now() at time zone 'utc' - interval '1 day'
                 GROUP BY p.id
                """,
                [tuple(self.ids)],
            )
            stats = dict(self.env.cr.fetchall())
        for policy in self:
            moments = [m for m in (last.get(policy.id), policy.last_poll_at) if m]
            policy.last_success_at = max(moments) if moments else False
            p50 = stats.get(policy.id) or 0.0
            policy.latency_p50_s = p50
            policy.latency_ok = p50 <= policy.latency_objective_minutes * 60

    # ------------------------------------------------------------- the API
    def _allows_import(self):
        self.ensure_one()
        return self.direction in ("in", "both") and self.backend_id.state == "active"

    def _allows_export(self, origin_backend_id=None):
        """True when Odoo may send this domain to the backend now.

        ``origin_backend_id`` (default: ``retail_connect_origin`` in the context)
        is the backend the change came from: it never gets its own change back.
        """
        self.ensure_one()
        if origin_backend_id is None:
            origin_backend_id = self.env.context.get("retail_connect_origin")
        return (
            self.direction in ("out", "both")
            and self.backend_id.state == "active"
            and origin_backend_id != self.backend_id.id
        )

    def _owns(self):
        """True when the platform is the system of record of this domain."""
        self.ensure_one()
        return self.system_of_record == "platform"

    # ------------------------------------------------------------- polling
    @api.model
    def _cron_poll(self):
        """Enqueue one poll job per due policy (batch timing or hybrid backstop)."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("backend_id.state", "=", "active"),
                ("direction", "in", ("in", "both")),
                ("timing", "in", ("batch", "hybrid")),
                "|",
                ("next_poll_at", "=", False),
                ("next_poll_at", "<=", now),
            ]
        )
        for policy in due:
            policy.next_poll_at = now + timedelta(minutes=policy.interval_minutes)
            policy.with_delay(
                channel=policy.backend_id._channel("bulk"),
                identity_key=f"retail_poll_{policy.id}",
                description=f"Poll {policy.display_name}",
            )._job_poll()
        return len(due)

    def _job_poll(self):
        """Poll the platform since the watermark minus the overlap.

        The watermark only moves once every event found is stored, so a failed
        poll is simply done again from the same point; a poll that keeps
        failing opens a sync exception (``_run_outbound``).
        """
        self.ensure_one()
        return self.backend_id._run_outbound(
            self.domain, f"poll:{self.domain}", self._poll_changes
        )

    def _poll_changes(self):
        backend = self.backend_id
        if not self._allows_import():
            return "policy does not import"
        until = fields.Datetime.now()
        since = (self.watermark or until - timedelta(days=1)) - timedelta(
            minutes=self.overlap_minutes
        )
        deliveries = backend._poll(self, since, until)
        created = 0
        for delivery in deliveries:
            _event, is_new = self.env["retail.event"]._ingest(
                backend, delivery, source="poll"
            )
            created += is_new
        self.write({"watermark": until, "last_poll_at": until})
        return f"{len(deliveries)} changes seen, {created} new events"
