"""Promotion: a backend's configuration goes from staging to production.

A backend's configuration (its sync policies and settings; never a secret,
never a watermark) exports to a JSON file; importing the file into a backend
of the same platform (another database) shows every change before applying
it. On a production backend of the production database the import is an
approval request (four eyes, retail_approval.py) when the company asks.
Platform addons add their mappings with ``_promotion_export`` /
``_promotion_changes`` / ``_promotion_apply``.
"""

import base64
import json

from odoo import api, fields, models
from odoo.exceptions import UserError

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

    # ---------------------------------------------------------------- hooks
    def _promotion_export(self):
        """The configuration to promote, as plain JSON values (no secret)."""
        self.ensure_one()
        return {
            "format": FORMAT,
            "platform": self.platform,
            "source": {"backend": self.name, "database": self.env.cr.dbname},
            "backend": {name: self[name] for name in BACKEND_FIELDS},
            "policies": {
                policy.domain: {name: policy[name] for name in POLICY_FIELDS}
                for policy in self.policy_ids
            },
        }

    def _promotion_changes(self, config):
        """``[(what, current, promoted)]`` that applying ``config`` makes;
        a clear error for a file that is not a configuration of this platform."""
        self.ensure_one()
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
        changes = []
        for name, value in (config.get("backend") or {}).items():
            if name in BACKEND_FIELDS and self[name] != value:
                label = self._fields[name].get_description(self.env)["string"]
                changes.append((label, self[name], value))
        labels = dict(DOMAINS)
        for domain, values in (config.get("policies") or {}).items():
            policy = self.policy_ids.filtered(lambda p, d=domain: p.domain == d)
            if not policy:
                raise UserError(
                    _("Unknown business domain %(domain)s in the file.", domain=domain)
                )
            for name, value in values.items():
                if name in POLICY_FIELDS and policy[name] != value:
                    field = policy._fields[name]
                    label = field.get_description(self.env)["string"]
                    changes.append((f"{labels[domain]}: {label}", policy[name], value))
        return changes

    def _promotion_apply(self, config):
        """Apply ``config`` (checked again); return the changes made."""
        self.ensure_one()
        changes = self._promotion_changes(config)
        self.write(
            {
                name: value
                for name, value in (config.get("backend") or {}).items()
                if name in BACKEND_FIELDS
            }
        )
        for domain, values in (config.get("policies") or {}).items():
            self._policy_of(domain).write(
                {name: value for name, value in values.items() if name in POLICY_FIELDS}
            )
        self.sudo()._message_log(
            body=self.env._(
                "Configuration promoted from %(origin)s by %(user)s: %(count)s "
                "changes.",
                origin=(config.get("source") or {}).get("database", "?"),
                user=self.env.user.name,
                count=len(changes),
            )
        )
        return changes

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
                changes = wizard.backend_id._promotion_changes(wizard._config())
            except UserError as err:
                wizard.changes = str(err)
                continue
            wizard.changes = _format_changes(changes) or self.env._(
                "Nothing to change: the backend has this configuration."
            )

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
        changes = backend._promotion_changes(config)
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
