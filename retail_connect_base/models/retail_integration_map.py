"""The integration map: who owns which data, across every backend.

One row per backend and business domain (a sync policy): the system of
record, direction, timing, latency objective against the measured latency,
the exception owner, and the conflicts of the map. The conflicts are defined
once, in ``retail.sync.policy._map_conflicts``: the map shows them, and a
blocking one refuses to activate or resume a production backend in the
production database (``retail.backend._check_map_conflicts``).
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from .retail_backend import PRODUCTION_DB_OPTION
from .retail_sync_policy import DOMAINS

# Domains with one master record in Odoo for every channel (a product, its
# stock): two platforms owning one would overwrite each other through Odoo.
# Orders, customers, payments... are each channel's own records.
SHARED_DOMAINS = ("product", "inventory")
BLOCKING, WARNING = "blocking", "warning"


class RetailSyncPolicy(models.Model):
    _inherit = "retail.sync.policy"

    def _map_conflicts(self):
        """``{policy id: [(code, level, message)]}`` for the policies of self.

        Compared with every policy of the same companies (backends archived
        left out): ``two_records`` two platforms own the same shared domain;
        ``export_over_record`` Odoo overwrites what the platform owns without
        reading it; ``no_safety_stock`` stock published to a marketplace with
        nothing kept back (blocking); ``no_owner`` a flowing domain whose
        exceptions nobody gets (warning).
        """
        _ = self.env._
        labels = dict(DOMAINS)
        scope = self.sudo().search(
            [
                ("company_id", "in", self.company_id.ids),
                ("backend_id.active", "=", True),
                ("direction", "!=", "off"),
            ]
        )
        found = defaultdict(list)
        owners = defaultdict(lambda: self.sudo().browse())
        for policy in scope:
            if policy.domain in SHARED_DOMAINS and policy._owns():
                owners[(policy.company_id.id, policy.domain)] |= policy
        for claimants in owners.values():
            if len(claimants) < 2:
                continue
            names = ", ".join(claimants.backend_id.mapped("name"))
            for policy in claimants:
                found[policy.id].append(
                    (
                        "two_records",
                        BLOCKING,
                        _(
                            "%(backends)s are all system of record of "
                            "%(domain)s: each would overwrite the others' "
                            "version through Odoo. Keep one; make Odoo the "
                            "system of record on the others.",
                            backends=names,
                            domain=labels[policy.domain],
                        ),
                    )
                )
        for policy in scope:
            domain = labels[policy.domain]
            if policy._owns() and policy.direction == "out":
                found[policy.id].append(
                    (
                        "export_over_record",
                        BLOCKING,
                        _(
                            "%(backend)s is the system of record of %(domain)s "
                            "but Odoo only exports it: Odoo would overwrite the "
                            "platform's version without ever reading it. Import "
                            "it, or make Odoo the system of record.",
                            backend=policy.backend_id.name,
                            domain=domain,
                        ),
                    )
                )
            if (
                policy.domain == "inventory"
                and policy.direction in ("out", "both")
                and policy.backend_id._is_marketplace()
                and policy.safety_stock <= 0
            ):
                found[policy.id].append(
                    (
                        "no_safety_stock",
                        BLOCKING,
                        _(
                            "Stock is published to the marketplace %(backend)s "
                            "with no safety stock: the last unit sold in a shop "
                            "is oversold there before the update arrives. Set a "
                            "safety stock on its Inventory policy.",
                            backend=policy.backend_id.name,
                        ),
                    )
                )
            if not policy.owner_user_id:
                found[policy.id].append(
                    (
                        "no_owner",
                        WARNING,
                        _(
                            "Nobody owns the exceptions of %(domain)s on "
                            "%(backend)s: set the policy's exception owner.",
                            domain=domain,
                            backend=policy.backend_id.name,
                        ),
                    )
                )
        return {policy.id: found[policy.id] for policy in self}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    map_conflict = fields.Text(
        "Integration map conflicts",
        compute="_compute_map_conflict",
        help="Blocking conflicts of this backend's policies on the integration "
        "map: a production backend cannot go live in the production database "
        "with them.",
    )

    def _compute_map_conflict(self):
        conflicts = self.policy_ids._map_conflicts()
        for backend in self:
            backend.map_conflict = (
                "\n".join(
                    message
                    for policy in backend.policy_ids
                    for _code, level, message in conflicts.get(policy.id, [])
                    if level == BLOCKING
                )
                or False
            )

    def _is_marketplace(self):
        """True for a marketplace (others sell there too: stock published to
        it needs a safety stock). Platform addons override."""
        return False

    def _is_production_db(self):
        """True in the database the server option names as production."""
        return config.get(PRODUCTION_DB_OPTION) == self.env.cr.dbname

    def _governed_go_live(self):
        """A production backend in the production database: going live is
        checked against the map and, when the company asks, approved."""
        self.ensure_one()
        return self.environment == "production" and self._is_production_db()

    def _check_map_conflicts(self):
        """Refuse to go live with a blocking conflict of the integration map
        (production backends in the production database only)."""
        for backend in self.filtered(lambda b: b._governed_go_live()):
            conflicts = backend.policy_ids._map_conflicts()
            messages = [
                message
                for policy in backend.policy_ids
                for _code, level, message in conflicts[policy.id]
                if level == BLOCKING
            ]
            if messages:
                raise UserError(
                    self.env._(
                        "%(backend)s cannot go live: the integration map has "
                        "conflicts (Retail Connect > Reporting > Integration "
                        "map).\n- %(conflicts)s",
                        backend=backend.name,
                        conflicts="\n- ".join(messages),
                    )
                )


class RetailIntegrationMap(models.Model):
    _name = "retail.integration.map"
    _description = "Retail Connect Integration Map"
    _auto = False
    _order = "domain, backend_name, backend_id"
    _rec_name = "domain"
    _depends = {
        "retail.sync.policy": [
            "backend_id",
            "domain",
            "system_of_record",
            "direction",
            "timing",
            "latency_objective_minutes",
            "owner_user_id",
        ],
        "retail.backend": [
            "name",
            "active",
            "company_id",
            "platform",
            "environment",
            "state",
        ],
    }

    policy_id = fields.Many2one("retail.sync.policy", "Policy", readonly=True)
    backend_id = fields.Many2one("retail.backend", "Backend", readonly=True)
    backend_name = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    platform = fields.Selection(selection="_platform_selection", readonly=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")], readonly=True
    )
    backend_state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("error", "Error"),
        ],
        "State",
        readonly=True,
    )
    domain = fields.Selection(DOMAINS, "Business object", readonly=True)
    record_holder = fields.Char(
        "System of record",
        readonly=True,
        help="Odoo, or the backend whose version wins.",
    )
    system_of_record = fields.Selection(
        [("odoo", "Odoo"), ("platform", "Platform")], readonly=True
    )
    direction = fields.Selection(
        [
            ("in", "Import (platform → Odoo)"),
            ("out", "Export (Odoo → platform)"),
            ("both", "Both ways"),
            ("off", "Off"),
        ],
        readonly=True,
    )
    timing = fields.Selection(
        [
            ("realtime", "Real-time (events)"),
            ("batch", "Scheduled batch"),
            ("hybrid", "Real-time with polling backstop"),
        ],
        readonly=True,
    )
    latency_objective_minutes = fields.Integer(
        "Latency objective (min)", readonly=True, aggregator="max"
    )
    latency_p50_s = fields.Float(
        "Measured latency p50 (s)", related="policy_id.latency_p50_s"
    )
    latency_ok = fields.Boolean("Within objective", related="policy_id.latency_ok")
    owner_user_id = fields.Many2one("res.users", "Exception owner", readonly=True)
    conflict_level = fields.Selection(
        [(BLOCKING, "Blocks go-live"), (WARNING, "Warning")],
        compute="_compute_conflicts",
        search="_search_conflict_level",
    )
    conflict = fields.Text(compute="_compute_conflicts")

    @api.model
    def _platform_selection(self):
        return self.env["retail.backend"]._fields["platform"].selection

    @property
    def _table_query(self):
        return """
            SELECT p.id AS id,
                   p.id AS policy_id,
                   b.id AS backend_id,
                   b.name AS backend_name,
                   b.company_id AS company_id,
                   b.platform AS platform,
                   b.environment AS environment,
                   b.state AS backend_state,
                   p.domain AS domain,
                   CASE WHEN p.system_of_record = 'platform' THEN b.name
                        ELSE 'Odoo' END AS record_holder,
                   p.system_of_record AS system_of_record,
                   p.direction AS direction,
                   p.timing AS timing,
                   p.latency_objective_minutes AS latency_objective_minutes,
                   p.owner_user_id AS owner_user_id
              FROM retail_sync_policy p
              JOIN retail_backend b ON b.id = p.backend_id
             WHERE b.active
        """

    def _compute_conflicts(self):
        conflicts = self.policy_id._map_conflicts()
        for row in self:
            found = conflicts.get(row.policy_id.id, [])
            levels = {level for _code, level, _message in found}
            row.conflict_level = next(
                (level for level in (BLOCKING, WARNING) if level in levels), False
            )
            row.conflict = "\n".join(message for _c, _l, message in found) or False

    def _search_conflict_level(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on conflicts."))
        policies = self.env["retail.sync.policy"].search([])
        conflicts = policies._map_conflicts()
        wanted = {value} if operator in ("=", "!=") else set(value or [])
        matching = []
        for policy_id, found in conflicts.items():
            levels = {level for _code, level, _message in found}
            level = next((lv for lv in (BLOCKING, WARNING) if lv in levels), False)
            if level in wanted:
                matching.append(policy_id)
        positive = operator in ("=", "in")
        return [("id", "in" if positive else "not in", matching)]
