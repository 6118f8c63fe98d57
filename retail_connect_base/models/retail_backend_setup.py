"""Setting a backend up, as a checklist on its form.

Each step says what to do, whether it is done, and the last result, computed
from what the backend already records (last connection check, activation,
the policies' review); platforms add their own steps (webhooks, locations,
backfill) to ``_setup_steps()``. The form shows the list above its notebook
while a step is left (``retail_setup_checklist`` widget), each step with the
button that does it.
"""

from odoo import api, fields, models
from odoo.tools import format_datetime

from .common import check_group

DONE, TODO, BLOCKED, RUNNING, FAILED = "done", "todo", "blocked", "running", "failed"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(default=lambda self: self._default_platform())
    policies_reviewed_at = fields.Datetime(readonly=True, copy=False)
    policies_reviewed_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    setup_steps = fields.Json(
        compute="_compute_setup",
        help="The setup checklist: one entry per step (state, result, button).",
    )
    setup_done = fields.Boolean(compute="_compute_setup")
    unused_fields = fields.Char(
        compute="_compute_unused_fields",
        help="Names of the fields the chosen platform does not use (hidden).",
    )

    # ------------------------------------------------------------ defaults
    @api.model
    def _default_platform(self):
        """The only installed platform, preselected; none when several are."""
        values = [value for value, _label in self._fields["platform"].selection]
        return values[0] if len(values) == 1 else False

    # ------------------------------------------------------------ computes
    @api.depends(
        "platform",
        "state",
        "last_check_at",
        "last_check_ok",
        "policies_reviewed_at",
    )
    def _compute_setup(self):
        for backend in self:
            steps = sorted(backend._setup_steps(), key=lambda step: step["sequence"])
            for step in steps:
                step.setdefault("result", "")
                step.setdefault("button", False)
                step.setdefault("button_label", "")
            backend.setup_steps = steps
            backend.setup_done = bool(steps) and all(
                step["state"] == DONE for step in steps
            )

    @api.depends("platform")
    def _compute_unused_fields(self):
        for backend in self:
            backend.unused_fields = " ".join(sorted(backend._platform_unused_fields()))

    # -------------------------------------------------------------- actions
    def action_setup_policies_reviewed(self):
        """The manager has read the sync policies and keeps them."""
        check_group(self.env)
        self.write(
            {
                "policies_reviewed_at": fields.Datetime.now(),
                "policies_reviewed_by_id": self.env.uid,
            }
        )
        return True

    # ---------------------------------------------------------------- steps
    def _setup_steps(self):
        """The setup checklist, one dict per step; platforms add theirs.

        Keys: ``key``, ``sequence`` (base steps 10, 20, 30, 60; platform
        steps in between), ``name``, ``state`` (done, todo, blocked, running,
        failed), ``result`` (the last result, or what to do), ``button``
        (a public method of the backend) and ``button_label``.
        """
        self.ensure_one()
        _ = self.env._
        missing = self._setup_missing_credentials()
        steps = [
            {
                "key": "credentials",
                "sequence": 10,
                "name": _("Credentials"),
                "state": TODO if missing else DONE,
                "result": _("Missing: %(fields)s", fields=", ".join(missing))
                if missing
                else _("Set"),
            },
            self._setup_step_connection(),
            self._setup_step_activation(),
            self._setup_step_policies(),
        ]
        return steps

    def _setup_step_connection(self):
        _ = self.env._
        step = {
            "key": "connection",
            "sequence": 20,
            "name": _("Connection tested"),
            "button": "action_test_connection",
            "button_label": _("Test connection"),
        }
        if not self.last_check_at:
            return dict(step, state=TODO, result=_("Never tested"))
        when = format_datetime(self.env, self.last_check_at)
        if self.last_check_ok:
            return dict(step, state=DONE, result=_("Passed on %(when)s", when=when))
        return dict(
            step,
            state=FAILED,
            result=_(
                "Failed on %(when)s: %(error)s", when=when, error=self.last_error or ""
            ),
        )

    def _setup_step_activation(self):
        _ = self.env._
        step = {
            "key": "activation",
            "sequence": 30,
            "name": _("Activated"),
            "button": "action_activate",
            "button_label": _("Activate") if self.state == "draft" else _("Resume"),
        }
        if self.state == "active":
            when = self.activated_at and format_datetime(self.env, self.activated_at)
            return dict(
                step,
                state=DONE,
                button=False,
                result=_("Active since %(when)s", when=when) if when else _("Active"),
            )
        if self.state == "draft":
            return dict(
                step,
                state=TODO if self.last_check_ok else BLOCKED,
                result=_("Draft: it makes no calls and processes no events")
                if self.last_check_ok
                else _("Test the connection first"),
            )
        return dict(
            step,
            state=FAILED,
            result=self.paused_reason or self.last_error or self.state,
        )

    def _setup_step_policies(self):
        _ = self.env._
        step = {
            "key": "policies",
            "sequence": 60,
            "name": _("Sync policies reviewed"),
            "button": "action_setup_policies_reviewed",
            "button_label": _("Mark reviewed"),
        }
        if not self.policies_reviewed_at:
            return dict(
                step,
                state=TODO,
                result=_(
                    "Check what flows in and out on the Sync policies tab, "
                    "then mark them reviewed"
                ),
            )
        return dict(
            step,
            state=DONE,
            button_label=_("Reviewed again"),
            result=_(
                "Reviewed by %(user)s on %(when)s",
                user=self.policies_reviewed_by_id.name or "",
                when=format_datetime(self.env, self.policies_reviewed_at),
            ),
        )

    def _setup_blocked_until_active(self, step):
        """``step`` blocked while the backend is not active (it calls the
        platform), else None."""
        if self.state in ("active", "error"):
            return None
        return dict(
            step, state=BLOCKED, result=self.env._("Activate the backend first")
        )

    # -------------------------------------------------------- platform hooks
    def _setup_missing_credentials(self):
        """Labels of the credentials still to set (platforms override)."""
        self.ensure_one()
        stored = self.env["retail.secret"].sudo()._names_set(self.ids)
        if stored.get(self.id):
            return []
        return [self.env._("a secret")]

    def _platform_unused_fields(self):
        """Backend fields the platform does not use: hidden on the form."""
        return set()

    def _notify_sticky(self, title, message, kind="info"):
        """A notification that stays until the user closes it: the result of
        a long action (a job), sent to the user who started it."""
        self.env.user._bus_send(
            "simple_notification",
            {
                "title": str(title),
                "message": str(message),
                "sticky": True,
                "type": kind,
            },
        )
