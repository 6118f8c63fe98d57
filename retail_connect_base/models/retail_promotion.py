"""Promotion: a backend's configuration goes from staging to production.

A backend's configuration exports to a JSON file; importing the file into a
backend of the same platform (another database) shows every change before
applying it, and applies all of it or nothing. On a production backend of the
production database the import is an approval request (four eyes,
retail_approval.py) when the company asks.

The file carries the backend's settings, its sync policies and its mappings;
never a secret, never a watermark, never an address of the source platform.
Ids never survive a move between databases: an Odoo record goes by its
natural key (natural_key.py: xmlid, else a business key such as a warehouse's
code), a platform's record by its own id (a Shopify location's gid, an Amazon
marketplace id, a payment gateway's name). A key the target database does not
know is a line of what to create first, and the import applies nothing until
it is there.

Platform addons declare what they carry (their ``*_promotion.py``):
``_promotion_backend_fields`` (plain settings), ``_promotion_record_fields``
(the backend's links to Odoo records), ``_promotion_mappings`` (rows of a
mapping model, ``Mapping``); anything else by extending ``_promotion_export``
and ``_promotion_plan``.
"""

import base64
import json
from dataclasses import dataclass, field

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from . import natural_key
from .common import check_group
from .retail_sync_policy import DOMAINS

FORMAT = "retail_connect.promotion/1"
POLICY_FIELDS = (
    "system_of_record",
    "direction",
    "timing",
    "interval_minutes",
    "overlap_minutes",
    "latency_objective_minutes",
    "safety_stock",
    "conflict_rule",
)
BACKEND_FIELDS = (
    "api_version",
    "webhook_replay_window",
    "webhook_max_bytes",
    "webhook_secret_grace_hours",
    "job_max_retries",
    "stuck_requeue_limit",
    "rate_limit_capacity",
    "rate_limit_per_second",
)


@dataclass(frozen=True)
class Mapping:
    """Rows of a platform's mapping model (``backend_id`` + ``key``), carried
    by the platform's own id ``key``."""

    section: str  # its key in the file
    model: str
    key: str  # the platform's id of a row (gid, marketplace id, gateway name)
    label: str  # what people call a row
    values: tuple = ()  # plain fields
    records: tuple = ()  # many2one / many2many to Odoo records, by natural key
    create: bool = False  # a row the target backend lacks is created
    missing: str = ""  # else: what to do first


@dataclass
class Plan:
    """What applying a configuration does: ``changes`` people read
    (what, current, promoted), ``missing`` records to create first
    (what, how), ``writes`` (recordset, values): an empty recordset creates."""

    backend: models.Model
    changes: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    writes: list = field(default_factory=list)

    def field(self, record, name, promoted, what, vals):
        """Plan ``record[name] = promoted`` (a natural key for a relation)."""
        fld = record._fields[name]
        current = record[name]
        if fld.type == "many2one":
            target = self.resolve(fld.comodel_name, promoted, what)
            if target is None or target == current:
                return
            self.changes.append((what, _names(current), _names(target)))
            vals[name] = target.id
        elif fld.type == "many2many":
            targets = record.env[fld.comodel_name]
            for key in promoted or ():
                target = self.resolve(fld.comodel_name, key, what)
                if target is None:
                    return
                targets |= target
            if set(targets.ids) != set(current.ids):
                self.changes.append((what, _names(current), _names(targets)))
                vals[name] = [Command.set(targets.ids)]
        elif current != promoted and not (current is False and promoted in ("", None)):
            self.changes.append((what, current, promoted))
            vals[name] = promoted

    def resolve(self, model, key, what):
        """The record ``key`` describes here; None (and a line of what to
        create first) when this database has none."""
        env = self.backend.env
        record = natural_key.resolve(env, model, key, self.backend.company_id)
        if key and not record:
            self.missing.append(
                (
                    what,
                    env._(
                        "%(model)s %(key)s is not in this database: create it, "
                        "then import the file again.",
                        model=env[model]._description,
                        key=natural_key.label(key),
                    ),
                )
            )
            return None
        return record


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def action_promotion_export(self):
        """Open the promotion wizard with this backend's configuration file."""
        check_group(self.env)
        self.ensure_one()
        content = json.dumps(self._promotion_export(), indent=2, sort_keys=True)
        wizard = self.env["retail.promotion"].create(
            {
                "backend_id": self.id,
                "mode": "export",
                "file": base64.b64encode(content.encode()),
                "filename": f"{self.platform}-{self.id}-configuration.json",
            }
        )
        return wizard._open()

    def action_promotion_import(self):
        check_group(self.env)
        self.ensure_one()
        return self.env["retail.promotion"].create({"backend_id": self.id})._open()

    # ------------------------------------------------- what a platform carries
    def _promotion_backend_fields(self):
        """Plain settings of the backend carried as they are."""
        return BACKEND_FIELDS

    def _promotion_record_fields(self):
        """The backend's many2one / many2many fields to Odoo records, carried
        by natural key (a platform's warehouse, journal, pricelist...)."""
        return ()

    def _promotion_mappings(self):
        """The platform's mapping models (``Mapping``)."""
        return ()

    # ---------------------------------------------------------------- hooks
    def _promotion_export(self):
        """The configuration to promote, as plain JSON values (no secret)."""
        self.ensure_one()
        record_fields = self._promotion_record_fields()
        return {
            "format": FORMAT,
            "platform": self.platform,
            "source": {"backend": self.name, "database": self.env.cr.dbname},
            "backend": {name: self[name] for name in self._promotion_backend_fields()},
            "backend_records": {
                name: _export_value(self, name) for name in record_fields
            },
            "policies": {
                policy.domain: {name: policy[name] for name in POLICY_FIELDS}
                for policy in self.policy_ids
            },
            "mappings": {
                spec.section: self._promotion_export_rows(spec)
                for spec in self._promotion_mappings()
            },
        }

    def _promotion_export_rows(self, spec):
        rows = (
            self.env[spec.model]
            .with_context(active_test=False)
            .search([("backend_id", "=", self.id)], order=f"{spec.key}, id")
        )
        # a row's name tells people which it is (and matches it across shops)
        return [
            {spec.key: row[spec.key], "name": row.display_name}
            | {name: _export_value(row, name) for name in spec.values + spec.records}
            for row in rows
        ]

    def _promotion_check(self, config):
        """A clear error for a file that is not a configuration of this
        platform."""
        _ = self.env._
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise UserError(
                _(
                    "This file is not a Retail Connect configuration (%(format)s): "
                    "export one with Export configuration on a backend.",
                    format=FORMAT,
                )
            )
        if config.get("platform") != self.platform:
            raise UserError(
                _(
                    "This configuration is of platform %(theirs)s, and %(backend)s "
                    "is a %(ours)s backend: import it into a %(theirs)s backend.",
                    theirs=config.get("platform"),
                    ours=self.platform,
                    backend=self.name,
                )
            )

    def _promotion_plan(self, config):
        """What applying ``config`` changes here (``Plan``), every record
        resolved by natural key; nothing is written."""
        self.ensure_one()
        self._promotion_check(config)
        plan = Plan(self)
        vals = {}
        allowed = self._promotion_backend_fields()
        for name, value in (config.get("backend") or {}).items():
            if name in allowed:
                plan.field(self, name, value, self._promotion_label(self, name), vals)
        allowed = self._promotion_record_fields()
        for name, key in (config.get("backend_records") or {}).items():
            if name in allowed:
                plan.field(self, name, key, self._promotion_label(self, name), vals)
        if vals:
            plan.writes.append((self, vals))
        labels = dict(DOMAINS)
        for domain, values in (config.get("policies") or {}).items():
            policy = self._policy_of(domain)
            if not policy:
                raise UserError(
                    self.env._(
                        "Unknown business domain %(domain)s in the file.", domain=domain
                    )
                )
            vals = {}
            for name, value in values.items():
                if name in POLICY_FIELDS:
                    what = f"{labels[domain]}: {self._promotion_label(policy, name)}"
                    plan.field(policy, name, value, what, vals)
            if vals:
                plan.writes.append((policy, vals))
        mappings = config.get("mappings") or {}
        for spec in self._promotion_mappings():
            self._promotion_plan_rows(plan, spec, mappings.get(spec.section) or ())
        return plan

    def _promotion_plan_rows(self, plan, spec, rows):
        Rows = self.env[spec.model].sudo().with_context(active_test=False)
        for row in rows:
            if not isinstance(row, dict) or not row.get(spec.key):
                raise UserError(
                    self.env._(
                        "A row of %(what)s in the file has no %(key)s: export the "
                        "file again from the other database.",
                        what=spec.label,
                        key=spec.key,
                    )
                )
            ref = row[spec.key]
            target = Rows.search(
                [("backend_id", "=", self.id), (spec.key, "=", ref)], limit=1
            )
            what = f"{spec.label} {row.get('name') or ref}"
            if not target and not spec.create:
                plan.missing.append((what, spec.missing))
                continue
            vals = {}
            for name in spec.values + spec.records:
                if name in row:
                    label = self._promotion_label(Rows, name)
                    plan.field(target, name, row[name], f"{what}: {label}", vals)
            if target:
                if vals:
                    plan.writes.append((target, vals))
                continue
            plan.changes.append((what, "—", self.env._("added")))
            plan.writes.append((target, vals | {"backend_id": self.id, spec.key: ref}))

    def _promotion_label(self, record, name):
        return record._fields[name].get_description(self.env)["string"]

    def _promotion_changes(self, config):
        """``[(what, current, promoted)]`` that applying ``config`` makes."""
        return self._promotion_plan(config).changes

    def _promotion_apply(self, config):
        """Apply ``config`` (checked again), all of it or nothing; return the
        changes made. A record the file names and this database lacks stops
        it with the list of what to create first."""
        self.ensure_one()
        plan = self._promotion_plan(config)
        if plan.missing:
            raise UserError(
                self.env._(
                    "Nothing was applied: create first\n%(missing)s",
                    missing=_format_missing(plan.missing),
                )
            )
        with self.env.cr.savepoint():
            for target, vals in plan.writes:
                if target:
                    target.write(vals)
                else:
                    target.create(vals)
        self.sudo()._message_log(
            body=self.env._(
                "Configuration promoted from %(origin)s by %(user)s: %(count)s "
                "changes.",
                origin=(config.get("source") or {}).get("database", "?"),
                user=self.env.user.name,
                count=len(plan.changes),
            )
        )
        return plan.changes

    def _policy_of(self, domain):
        return self.policy_ids.filtered(lambda p: p.domain == domain)


class RetailPromotion(models.TransientModel):
    _name = "retail.promotion"
    _description = "Retail Connect Configuration Promotion"

    backend_id = fields.Many2one("retail.backend", required=True, ondelete="cascade")
    mode = fields.Selection(
        [("export", "Export"), ("import", "Import")], default="import", required=True
    )
    file = fields.Binary("Configuration file", attachment=False)
    filename = fields.Char()
    changes = fields.Text(compute="_compute_changes")

    @api.depends("file", "backend_id", "mode")
    def _compute_changes(self):
        for wizard in self:
            if wizard.mode != "import" or not wizard.file:
                wizard.changes = False
                continue
            try:
                plan = wizard.backend_id._promotion_plan(wizard._config())
            except UserError as err:
                wizard.changes = str(err)
                continue
            text = _format_changes(plan.changes) or self.env._(
                "Nothing to change: the backend has this configuration."
            )
            if plan.missing:
                text = "\n".join(
                    [
                        self.env._("Create first (nothing applies until then):"),
                        _format_missing(plan.missing),
                        "",
                        text,
                    ]
                )
            wizard.changes = text

    def _config(self):
        try:
            return json.loads(base64.b64decode(self.file or b""))
        except ValueError as err:
            raise UserError(
                self.env._("The file is not JSON: %(error)s", error=err)
            ) from err

    def _open(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_apply(self):
        """Apply the file to the backend, or request the approval of it."""
        check_group(self.env)
        self.ensure_one()
        backend = self.backend_id
        config = self._config()
        plan = backend._promotion_plan(config)
        if plan.missing:
            raise UserError(
                self.env._(
                    "Create first, then import the file again:\n%(missing)s",
                    missing=_format_missing(plan.missing),
                )
            )
        changes = plan.changes
        if not changes:
            raise UserError(
                self.env._("Nothing to change: the backend has this configuration.")
            )
        if backend._four_eyes_required():
            self.env["retail.approval"]._request(
                backend,
                "promote",
                reason=self.env._(
                    "Apply the configuration of %(origin)s to %(backend)s:\n"
                    "%(changes)s",
                    origin=(config.get("source") or {}).get("database", "?"),
                    backend=backend.name,
                    changes=_format_changes(changes),
                ),
                payload=json.dumps(config),
            )
            return backend._notify(
                self.env._(
                    "Approval requested: another Retail Manager approves the "
                    "promotion (Configuration > Approvals), which applies it."
                ),
                "warning",
            )
        backend._promotion_apply(config)
        return {"type": "ir.actions.act_window_close"}


def _format_changes(changes):
    return "\n".join(f"{what}: {old} → {new}" for what, old, new in changes)


def _format_missing(missing):
    return "\n".join(f"- {what}: {todo}" for what, todo in missing)


def _export_value(record, name):
    """``record[name]`` as JSON: a relation by natural key."""
    fld = record._fields[name]
    if fld.type == "many2one":
        return natural_key.describe(record[name])
    if fld.type in ("many2many", "one2many"):
        return [natural_key.describe(r) for r in record[name].sorted("id")]
    return record[name]


def _names(records):
    return ", ".join(records.mapped("display_name")) or "—"
