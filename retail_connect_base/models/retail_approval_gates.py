"""The changes to a live production backend that wait for a second manager.

Once a production backend of the production database has gone live (any
state but draft: before that it makes no call, and its go-live is itself
approved), and when the company asks for four eyes, these open an approval
request (retail_approval.py) instead of running:

- a write of a sync policy's system of record, direction or timing: the
  other fields of the same write apply at once, these wait;
- a person rotating or clearing a secret that has a value: the new value
  waits encrypted in ``retail.secret`` (never in the request), the current
  one stays in use; a platform's own token renewals (sudo) are not a
  rotation;
- a bulk action of a platform (backfill, push all stock, catalog export):
  the platform's button asks ``_approved_bulk`` which backends may run now.

The approval runs the change as the approver, with the request itself in the
context (``APPROVAL_CONTEXT``): a record no RPC client can send, checked to be
this approved request of this backend, so nothing else slips through.
"""

import json
import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from .retail_approval import APPROVAL_CONTEXT

POLICY_GATED_FIELDS = ("system_of_record", "direction", "timing")


def pending_secret_name(approval):
    """Where the new value of a secret waits for its approval."""
    return f"pending_approval_{approval.id}"


class RetailApproval(models.Model):
    _inherit = "retail.approval"

    policy_id = fields.Many2one(
        "retail.sync.policy",
        "Policy",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )

    def _run_policy(self):
        values = json.loads(self.payload)["values"]
        self.policy_id.write(values)

    def _run_secret(self):
        payload = json.loads(self.payload)
        name = payload["secret"]
        backend = self.backend_id
        secrets = self.env["retail.secret"].sudo()
        value = False
        if not payload.get("clear"):
            value = secrets._read_secret(backend.id, pending_secret_name(self))
            if not value:
                raise UserError(
                    self.env._(
                        "The new value of %(secret)s is no longer stored: ask "
                        "for the rotation again.",
                        secret=name,
                    )
                )
        if name == "webhook_secret":
            backend._rotate_webhook_secret(value)
        else:
            backend._set_secret(name, value)
        secrets._write_secret(backend.id, pending_secret_name(self), False)

    def _run_bulk(self):
        method = json.loads(self.payload)["method"]
        if not method.startswith("action_") or not hasattr(self.backend_id, method):
            raise UserError(
                self.env._("Unknown bulk action %(method)s.", method=method)
            )
        getattr(self.backend_id, method)()

    def _on_reject(self):
        result = super()._on_reject()
        if self.action == "secret":
            self.env["retail.secret"].sudo()._write_secret(
                self.backend_id.id, pending_secret_name(self), False
            )
        return result


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _four_eyes_change_required(self):
        """True when a change to this live production backend waits for a
        second manager (the company's four eyes, production database)."""
        self.ensure_one()
        return self.state != "draft" and self._four_eyes_required()

    def _approval_running(self, *actions):
        """The approved request (of one of ``actions``) on this backend that
        is running now (in the context), or None."""
        self.ensure_one()
        approval = self.env.context.get(APPROVAL_CONTEXT)
        if (
            isinstance(approval, models.BaseModel)
            and approval._name == "retail.approval"
            and len(approval) == 1
            and approval.action in actions
            and approval.backend_id == self
            and approval.state == "approved"
        ):
            return approval
        return None

    # ------------------------------------------------------------ bulk
    def _approved_bulk(self, method, label):
        """``(backends, notice)``: the backends of self that run the bulk
        action ``method`` now, and the notification to return when the others
        got an approval request instead (None if none did).

        A platform's bulk button calls it after its group check, runs its
        action on ``backends`` and returns ``notice`` when there is one.
        """
        allowed = self.browse()
        requested = self.browse()
        for backend in self:
            approval = backend._approval_running("bulk")
            if not backend._four_eyes_change_required() or (
                approval and json.loads(approval.payload)["method"] == method
            ):
                allowed |= backend
                continue
            self.env["retail.approval"]._request(
                backend,
                "bulk",
                reason=self.env._(
                    "%(action)s on the production backend %(backend)s.",
                    action=label,
                    backend=backend.name,
                ),
                payload=json.dumps({"method": method}),
            )
            requested |= backend
        notice = None
        if requested:
            notice = self._notify(
                self.env._(
                    "Approval requested for %(action)s on %(backends)s: another "
                    "Retail Manager approves it (Configuration > Approvals), "
                    "which runs it.",
                    action=label,
                    backends=", ".join(requested.mapped("name")),
                ),
                "warning",
            )
        return allowed, notice

    # --------------------------------------------------------- secrets
    def _set_secret(self, name, value):
        if self._secret_rotation_held(name, value):
            return None
        return super()._set_secret(name, value)

    def _rotate_webhook_secret(self, new_secret):
        if self._secret_rotation_held("webhook_secret", new_secret):
            return None
        return super()._rotate_webhook_secret(new_secret)

    def _secret_rotation_held(self, name, value):
        """True when changing the secret ``name`` to ``value`` became an
        approval request (the new value kept encrypted until it is decided)."""
        self.ensure_one()
        if self.env.su or not self._four_eyes_change_required():
            return False  # su: the platform's own token renewal, not a person
        approval = self._approval_running("secret")
        if approval and json.loads(approval.payload)["secret"] == name:
            return False
        secrets = self.env["retail.secret"].sudo()
        current = secrets._read_secret(self.id, name)
        if not current or current == (value or False):
            return False  # a first value (setup), or nothing changes
        Approval = self.env["retail.approval"]
        waiting = Approval.sudo().search(
            [
                ("backend_id", "=", self.id),
                ("action", "=", "secret"),
                ("state", "=", "pending"),
            ]
        )
        waiting = waiting.filtered(lambda a: json.loads(a.payload)["secret"] == name)
        if waiting:
            raise UserError(
                self.env._(
                    "A rotation of %(secret)s on %(backend)s, requested by "
                    "%(user)s, already waits for approval: have it approved or "
                    "rejected first.",
                    secret=name,
                    backend=self.name,
                    user=waiting[:1].requester_id.name,
                )
            )
        payload = {"secret": name, "request": uuid.uuid4().hex}
        if not value:
            payload["clear"] = True
        approval = Approval._request(
            self,
            "secret",
            reason=self.env._(
                "%(verb)s the secret %(secret)s of the production backend "
                "%(backend)s (the new value is stored encrypted until decided).",
                verb=self.env._("Rotate") if value else self.env._("Clear"),
                secret=name,
                backend=self.name,
            ),
            payload=json.dumps(payload),
        )
        if value:
            secrets._write_secret(self.id, pending_secret_name(approval), value)
        return True


class RetailSyncPolicy(models.Model):
    _inherit = "retail.sync.policy"

    approval_ids = fields.One2many("retail.approval", "policy_id")
    approval_pending = fields.Boolean(compute="_compute_approval_pending")

    @api.depends("approval_ids.state")
    def _compute_approval_pending(self):
        for policy in self:
            policy.approval_pending = "pending" in policy.approval_ids.mapped("state")

    def write(self, vals):
        if "backend_id" in vals:
            self._check_not_moved_to_governed(vals["backend_id"])
        gated = [name for name in POLICY_GATED_FIELDS if name in vals]
        if not gated:
            return super().write(vals)
        held = self.browse()
        for policy in self:
            backend = policy.backend_id
            if not backend._four_eyes_change_required():
                continue
            # a promoted configuration, approved as a whole, writes policies
            if backend._approval_running("promote"):
                continue
            approval = backend._approval_running("policy")
            if approval and approval.policy_id == policy:
                continue
            changes = {name: vals[name] for name in gated if policy[name] != vals[name]}
            if not changes:
                continue
            policy._request_change(changes)
            held |= policy
        if not held:
            return super().write(vals)
        others = {name: value for name, value in vals.items() if name not in gated}
        if others:
            super(RetailSyncPolicy, held).write(others)
        if self - held:
            super(RetailSyncPolicy, self - held).write(vals)
        return True

    def unlink(self):
        live = self.filtered(lambda p: p.backend_id._four_eyes_change_required())
        if live:
            raise UserError(
                self.env._(
                    "%(policies)s belong to a live production backend: set their "
                    "direction to Off instead (an approval request).",
                    policies=", ".join(live.mapped("display_name")),
                )
            )
        return super().unlink()

    def _request_change(self, changes):
        self.ensure_one()
        lines = []
        for name, value in changes.items():
            field = self._fields[name]
            labels = dict(field._description_selection(self.env))
            lines.append(
                f"{field.get_description(self.env)['string']}: "
                f"{labels.get(self[name], self[name])} → {labels.get(value, value)}"
            )
        self.env["retail.approval"]._request(
            self.backend_id,
            "policy",
            reason=self.env._(
                "Change the %(policy)s policy of the production backend:\n%(lines)s",
                policy=self.display_name,
                lines="\n".join(lines),
            ),
            payload=json.dumps({"policy": self.id, "values": changes}, sort_keys=True),
            policy_id=self.id,
        )

    def _check_not_moved_to_governed(self, backend_id):
        backend = self.env["retail.backend"].browse(backend_id)
        if any(policy.backend_id != backend for policy in self) and (
            backend.exists() and backend._four_eyes_change_required()
        ):
            raise UserError(
                self.env._(
                    "A sync policy does not move to the live production backend "
                    "%(backend)s: change its own policy (an approval request).",
                    backend=backend.name,
                )
            )
