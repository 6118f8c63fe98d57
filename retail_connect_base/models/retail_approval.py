"""Four eyes: changes to production run once a second manager approves.

On a production backend in the production database
(``retail.backend._governed_go_live``), when the company asks for it
(``res.company.retail_four_eyes``, on by default), these open an approval
request instead of running: activating or resuming the backend, applying a
promoted configuration, and, once it has gone live (retail_approval_gates.py),
changing a policy's system of record, direction or timing, rotating a secret,
and the platforms' bulk actions (backfill, push all stock, catalog export).

Another Retail Manager than the requester approves it: the approval runs the
action once, as the approver; a rejected request never runs. Nobody writes a
request directly (read-only access rights): only these buttons do, after
checking their group. The requests are also the governance audit log
(Reporting > Governance audit log): who asked what and why, who decided, when,
and whether it ran; each step is logged in the chatter of the request and of
the backend.
"""

import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from .common import check_group

ACTIONS = [
    ("activate", "Activate / resume"),
    ("promote", "Apply a promoted configuration"),
    ("policy", "Change a sync policy"),
    ("secret", "Rotate a secret"),
    ("bulk", "Bulk action"),
    ("shadow_leave", "Leave shadow mode"),  # retail_shadow.py runs it
]
# the context key an approved request runs under: its value is the request
# itself (a record, which no RPC client can send), so the gates
# (retail_approval_gates.py) let exactly that action through
APPROVAL_CONTEXT = "retail_connect_approval"


class ResCompany(models.Model):
    _inherit = "res.company"

    retail_four_eyes = fields.Boolean(
        "Four-eyes approval of production changes",
        default=True,
        help="In the production database, a second Retail Manager approves "
        "activating or resuming a production backend, applying a promoted "
        "configuration and, once it is live, changing a policy's system of "
        "record, direction or timing, rotating a secret and bulk actions "
        "(backfill, push all stock, catalog export). Small teams turn it off.",
    )


class RetailApproval(models.Model):
    _name = "retail.approval"
    _description = "Retail Connect Approval Request"
    _inherit = ["mail.thread"]
    _order = "id desc"
    # the requester and the approver discuss a request in its chatter
    _mail_post_access = "read"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    reason = fields.Text(
        "What and why",
        readonly=True,
        help="What runs once approved, and why: every value changed, old and "
        "new. The requester adds their reasons in the request's chatter.",
    )
    payload = fields.Text(
        readonly=True,
        help="What runs once approved, for the machine (a promoted "
        "configuration, policy values, a bulk action; never a secret).",
    )
    requester_id = fields.Many2one(
        "res.users", "Requested by", required=True, readonly=True
    )
    requested_at = fields.Datetime(required=True, readonly=True)
    approver_id = fields.Many2one(
        "res.users", "Decided by", readonly=True, tracking=True
    )
    decided_at = fields.Datetime(readonly=True)
    executed_at = fields.Datetime(
        "Ran at", readonly=True, help="When the approved action ran (once)."
    )
    state = fields.Selection(
        [
            ("pending", "Waiting for approval"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        default="pending",
        required=True,
        readonly=True,
        tracking=True,
    )

    @api.depends("backend_id", "action")
    def _compute_display_name(self):
        labels = dict(ACTIONS)
        for approval in self:
            approval.display_name = (
                f"{labels.get(approval.action, '')}: {approval.backend_id.name}"
            )

    # ------------------------------------------------------------- buttons
    def action_approve(self):
        """Approve and run the action, as the approver (never the requester)."""
        check_group(self.env)
        for approval in self:
            approval._check_decidable()
            approval.sudo().write(
                {
                    "state": "approved",
                    "approver_id": self.env.uid,
                    "decided_at": fields.Datetime.now(),
                }
            )
            approval._log(
                self.env._(
                    "%(action)s of %(backend)s approved by %(user)s (requested by "
                    "%(requester)s).",
                    action=dict(ACTIONS)[approval.action],
                    backend=approval.backend_id.name,
                    user=self.env.user.name,
                    requester=approval.requester_id.name,
                )
            )
            approval._run()
        return True

    def action_reject(self):
        check_group(self.env)
        for approval in self:
            approval._check_decidable()
            approval.sudo().write(
                {
                    "state": "rejected",
                    "approver_id": self.env.uid,
                    "decided_at": fields.Datetime.now(),
                }
            )
            approval._on_reject()
            approval._log(
                self.env._(
                    "%(action)s of %(backend)s rejected by %(user)s.",
                    action=dict(ACTIONS)[approval.action],
                    backend=approval.backend_id.name,
                    user=self.env.user.name,
                )
            )
        return True

    # ------------------------------------------------------------- helpers
    def _run(self):
        """Run the approved action once, as the approver."""
        self.ensure_one()
        if self.action == "activate":
            # consumes this approval (_consume) as it activates
            self.backend_id.action_activate()
            return
        if self.executed_at:
            raise UserError(
                self.env._("%(request)s already ran.", request=self.display_name)
            )
        self.sudo().executed_at = fields.Datetime.now()
        approved = self.with_context(**{APPROVAL_CONTEXT: self})
        if self.action == "promote":
            approved.backend_id._promotion_apply(json.loads(self.payload))
        else:
            # retail_approval_gates.py: _run_policy, _run_secret, _run_bulk
            getattr(approved, f"_run_{self.action}")()

    def _on_reject(self):
        """What a rejected request leaves behind goes (a pending secret)."""

    def _check_decidable(self):
        self.ensure_one()
        if self.state != "pending":
            raise UserError(
                self.env._(
                    "%(request)s is already %(state)s.",
                    request=self.display_name,
                    state=dict(self._fields["state"].selection)[self.state],
                )
            )
        if self.requester_id == self.env.user:
            raise UserError(
                self.env._(
                    "You requested %(request)s: another Retail Manager approves "
                    "or rejects it (four eyes).",
                    request=self.display_name,
                )
            )

    def _log(self, body):
        body = plaintext2html(body)
        self.sudo()._message_log(body=body)
        self.backend_id.sudo()._message_log(body=body)

    @api.model
    def _request(self, backend, action, reason=None, payload=None, **values):
        """The pending request of ``action`` (and ``payload``) on ``backend``,
        made if none (with the fields ``values``)."""
        pending = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("action", "=", action),
                ("payload", "=", payload or False),
                ("state", "=", "pending"),
            ],
            limit=1,
        )
        if pending:
            return pending
        approval = self.sudo().create(
            {
                "backend_id": backend.id,
                "action": action,
                "reason": reason
                or self.env._(
                    "Go live with the production backend %(backend)s.",
                    backend=backend.name,
                ),
                "payload": payload,
                "requester_id": self.env.uid,
                "requested_at": fields.Datetime.now(),
                **values,
            }
        )
        approval._log(
            self.env._(
                "%(action)s of %(backend)s requested by %(user)s: waiting for "
                "another Retail Manager's approval.\n%(reason)s",
                action=dict(ACTIONS)[action],
                backend=backend.name,
                user=self.env.user.name,
                reason=approval.reason,
            )
        )
        return approval

    @api.model
    def _consume(self, backend, action):
        """The approved request of ``action`` on ``backend`` not run yet,
        marked as run (an approval runs once); empty if none."""
        approval = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("action", "=", action),
                ("state", "=", "approved"),
                ("executed_at", "=", False),
            ],
            limit=1,
        )
        if approval:
            approval.executed_at = fields.Datetime.now()
        return approval


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    approval_ids = fields.One2many("retail.approval", "backend_id")
    approval_pending = fields.Boolean(compute="_compute_approval_pending")

    @api.depends("approval_ids.state")
    def _compute_approval_pending(self):
        for backend in self:
            backend.approval_pending = "pending" in backend.approval_ids.mapped("state")

    def _four_eyes_required(self):
        self.ensure_one()
        return self._governed_go_live() and self.company_id.retail_four_eyes

    def _go_live_approved(self):
        """True when this backend may go live now: no approval needed, or an
        approved request is consumed. Else a request is opened (False)."""
        self.ensure_one()
        if not self._four_eyes_required():
            return True
        Approval = self.env["retail.approval"]
        if Approval._consume(self, "activate"):
            return True
        Approval._request(self, "activate")
        return False
