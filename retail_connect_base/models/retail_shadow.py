"""Shadow mode (dry run): a backend, or one of its policies, computes and
records what it would do, and writes nothing on either side.

- Imports: the event is processed as usual in a savepoint (the platform is
  read, the records are built), then rolled back; a shadow record keeps, per
  record, each field Odoo holds next to the value the import would give it.
  The event ends ``shadow`` (computed, not applied): replay it once live.
- Exports: the client offers each write to the backend before sending it
  (``RetailHttpClient.shadow``); in shadow it is not sent, the flow stops
  there (``ShadowWrite``) and is rolled back, and a shadow record keeps the
  exact request (method, URL, body, idempotency key). Reads go out as usual.
- The base's runners (``retail.backend._run_outbound``, the event job) do
  this for every platform; a flow of the running policy's domain is in
  shadow when the backend or that policy is.
- Going live from shadow (the backend's or a policy's *Leave shadow mode*)
  is a four-eyes approval request when the company asks for approvals
  (retail_approval.py): another Retail Manager approves, the approval makes
  it leave shadow. Entering shadow needs no approval, nor does activating a
  backend in shadow (nothing goes out that writes).
"""

import json
from contextlib import contextmanager
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from .common import USER, check_group, side_cursor
from .retail_sync_policy import EVENT_DOMAINS, TECHNICAL

SHADOW_RUN = "retail_connect_shadow_run"  # cursor cache: the running flow
LEAVING = "retail_connect_shadow_leave"  # context: the one way out of shadow
# fields of no business meaning in a diff
SKIPPED_FIELDS = {
    "id",
    "display_name",
    "create_uid",
    "create_date",
    "write_uid",
    "write_date",
    "access_token",
    "access_url",
    "access_warning",
}
SKIPPED_PREFIXES = ("message_", "activity_", "website_message", "rating_")
SKIPPED_TYPES = {"binary", "properties", "properties_definition", "json"}
MAX_LINES = 50  # lines of a one2many shown in a diff


@dataclass
class ShadowRun:
    """A flow of ``domain`` running on a backend: in shadow or not, and the
    write requests it tried."""

    backend_id: int
    domain: str | None
    shadow: bool
    requests: list = field(default_factory=list)


class RetailShadowRecord(models.Model):
    _name = "retail.shadow.record"
    _description = "Retail Connect Shadow Record"
    _order = "id desc"
    _rec_name = "summary"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    domain = fields.Selection(EVENT_DOMAINS, readonly=True)
    kind = fields.Selection(
        [("import", "Import"), ("export", "Export")], required=True, readonly=True
    )
    change = fields.Selection(
        [
            ("create", "Would create"),
            ("update", "Would change"),
            ("none", "No change"),
            ("send", "Would send"),
        ],
        required=True,
        readonly=True,
    )
    summary = fields.Char(readonly=True)
    external_id = fields.Char(
        "External id", readonly=True, help="The remote object, or the export job."
    )
    res_model = fields.Char("Odoo model", readonly=True)
    res_id = fields.Many2oneReference(
        "Odoo record", model_field="res_model", readonly=True
    )
    record_name = fields.Char("Odoo record name", readonly=True)
    event_id = fields.Many2one(
        "retail.event", readonly=True, index="btree_not_null", ondelete="set null"
    )
    diff = fields.Text(
        readonly=True,
        groups="retail_connect_base.group_manager",
        help="Imports: [{field, label, before, after}] as JSON.",
    )
    diff_count = fields.Integer("Fields changed", readonly=True)
    diff_html = fields.Html(
        "Differences",
        compute="_compute_diff_html",
        sanitize=False,
        groups="retail_connect_base.group_manager",
    )
    operation = fields.Char(readonly=True)
    method = fields.Char(readonly=True)
    url = fields.Char("URL", readonly=True, groups="retail_connect_base.group_manager")
    request_body = fields.Text(
        readonly=True, groups="retail_connect_base.group_manager"
    )
    idempotency_key = fields.Char(readonly=True)
    note = fields.Text(readonly=True)
    create_date = fields.Datetime(index=True)

    @api.depends("diff")
    def _compute_diff_html(self):
        for shadow in self:
            rows = json.loads(shadow.diff) if shadow.diff else []
            if not rows:
                shadow.diff_html = False
                continue
            body = Markup("").join(
                Markup("<tr><td>%s</td><td class='text-muted'>%s</td><td>%s</td></tr>")
                % (row["label"], _text(row["before"]), _text(row["after"]))
                for row in rows
            )
            shadow.diff_html = (
                Markup(
                    "<table class='table table-sm o_retail_shadow_diff'><thead><tr>"
                    "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>"
                )
                % (
                    self.env._("Field"),
                    self.env._("Odoo now"),
                    self.env._("After the import"),
                )
                + body
                + Markup("</tbody></table>")
            )

    # ------------------------------------------------------------- buttons
    def action_open_record(self):
        check_group(self.env, USER)
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(
                self.env._("The import would create this record: it is not in Odoo.")
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------ snapshots
    @api.model
    def _snapshot(self, record):
        """``{field: value}`` of ``record`` as the diff shows it (JSON-able)."""
        if not record:
            return {}
        record.ensure_one()
        values = {}
        for name, fld in record._fields.items():
            if (
                not fld.store
                or name in SKIPPED_FIELDS
                or name.startswith(SKIPPED_PREFIXES)
                or fld.type in SKIPPED_TYPES
            ):
                continue
            values[name] = _value(fld, record[name])
        return values

    @api.model
    def _diff(self, model, before, after):
        """The fields whose value differs, labelled: ``[{field, label, before,
        after}]``; a record created shows its filled fields."""
        fields_ = self.env[model]._fields
        rows = []
        for name, value in after.items():
            old = before.get(name) if before else None
            if value == old or (not before and value in (None, False, [], "")):
                continue
            rows.append(
                {
                    "field": name,
                    "label": fields_[name].string,
                    "before": old,
                    "after": value,
                }
            )
        return rows

    # ------------------------------------------------------------- recording
    @api.model
    def _record_import(self, backend, event, model, record_id, before, after):
        """The shadow record of an import: ``before`` Odoo's values (empty: a
        record it would create), ``after`` the import's."""
        rows = self._diff(model, before, after)
        change = "create" if not before else ("update" if rows else "none")
        label = self.env["ir.model"]._get(model).name if model else ""
        name = (after or {}).get("name") or ""
        summary = {
            "create": self.env._(
                "Would create %(model)s %(name)s", model=label, name=name
            ),
            "update": self.env._(
                "Would change %(n)s field(s) of %(model)s %(name)s",
                n=len(rows),
                model=label,
                name=name,
            ),
            "none": self.env._(
                "%(model)s %(name)s already holds it", model=label, name=name
            ),
        }[change]
        return self.sudo().create(
            {
                "backend_id": backend.id,
                "company_id": backend.company_id.id,
                "domain": event.domain,
                "kind": "import",
                "change": change,
                "summary": summary.strip(),
                "external_id": event.subject_key,
                "res_model": model or False,
                "res_id": record_id if before else False,
                "record_name": name or False,
                "event_id": event.id,
                "diff": json.dumps(rows, ensure_ascii=False, default=str),
                "diff_count": len(rows),
            }
        )

    @api.model
    def _record_requests(
        self, backend, requests, *, domain, subject=None, record=None, event=None
    ):
        """One shadow record per write request a flow would have sent."""
        values = []
        for request in requests:
            values.append(
                {
                    "backend_id": backend.id,
                    "company_id": backend.company_id.id,
                    "domain": domain or TECHNICAL,
                    "kind": "export",
                    "change": "send",
                    "summary": self.env._(
                        "Would send %(operation)s (%(method)s)",
                        operation=request.operation,
                        method=request.method,
                    ),
                    "external_id": subject or (event and event.subject_key) or False,
                    "res_model": record._name if record else False,
                    "res_id": record.id if record else False,
                    "record_name": record.display_name if record else False,
                    "event_id": event.id if event else False,
                    "operation": request.operation,
                    "method": request.method,
                    "url": request.url,
                    "request_body": request.body,
                    "idempotency_key": request.idempotency_key,
                    "note": event
                    and self.env._(
                        "The import stopped at this write: what follows it "
                        "needs the platform's answer."
                    ),
                }
            )
        return self.sudo().create(values)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shadow = fields.Boolean(
        "Shadow mode",
        readonly=True,
        tracking=True,
        help="Dry run: imports are computed and compared with what Odoo holds, "
        "exports are computed and the requests recorded; nothing is written "
        "in Odoo or on the platform (only reads are sent). Retail Connect > "
        "Shadow shows what would have changed.",
    )
    shadow_record_count = fields.Integer(compute="_compute_shadow_record_count")

    def _compute_shadow_record_count(self):
        counts = dict(
            self.env["retail.shadow.record"]
            .sudo()
            ._read_group([("backend_id", "in", self.ids)], ["backend_id"], ["__count"])
        )
        for backend in self:
            backend.shadow_record_count = counts.get(backend._origin, 0)

    def write(self, vals):
        _check_leaving(self, vals)
        return super().write(vals)

    # ------------------------------------------------------------- buttons
    def action_shadow_start(self):
        """Run in shadow: compute and record, write nothing."""
        check_group(self.env)
        self.filtered(lambda b: not b.shadow).write({"shadow": True})
        return True

    def action_shadow_leave(self):
        """Go live from shadow: an approval request when the company asks for
        four eyes (the approval makes it leave), else at once."""
        check_group(self.env)
        return _leave(self.filtered("shadow"), self)

    def action_view_shadow(self):
        check_group(self.env, USER)
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_connect_base.action_shadow_record"
        )
        action["domain"] = [("backend_id", "in", self.ids)]
        return action

    # -------------------------------------------------------------- helpers
    def _four_eyes_required(self):
        # activating in shadow writes nothing: leaving shadow is the go-live
        return not self.shadow and super()._four_eyes_required()

    def _shadow_leave_approval_required(self):
        self.ensure_one()
        return self.company_id.retail_four_eyes

    def _shadow_leave(self):
        self.with_context(**{LEAVING: True}).write({"shadow": False})

    def _shadow_for(self, domain):
        """True when flows of ``domain`` (False: technical) run in shadow."""
        self.ensure_one()
        if self.shadow:
            return True
        if not domain or domain == TECHNICAL:
            return False
        return bool(self.policy_ids.filtered(lambda p: p.domain == domain).shadow)

    @contextmanager
    def _shadow_scope(self, domain):
        """Around a flow of ``domain``: the write requests the client holds
        back in shadow collect in the yielded ``ShadowRun``."""
        self.ensure_one()
        cache = self.env.cr.cache
        previous = cache.get(SHADOW_RUN)
        run = ShadowRun(self.id, domain, self._shadow_for(domain))
        cache[SHADOW_RUN] = run
        try:
            yield run
        finally:
            cache[SHADOW_RUN] = previous

    def _shadow_intercept(self, request):
        """The client's ``shadow`` hook: True holds ``request`` back.

        In a runner's flow the request joins its ``ShadowRun`` (recorded once
        the flow is rolled back); elsewhere (a button) it is recorded at once,
        on a side cursor, and the button says it was not sent (its error
        rolls back the rest).
        """
        run = self.env.cr.cache.get(SHADOW_RUN)
        if run and run.backend_id == self.id:
            if run.shadow:
                run.requests.append(request)
            return run.shadow
        if not self.shadow:
            return False
        with side_cursor(self.env) as cr:
            self.env(cr=cr)["retail.shadow.record"]._record_requests(
                self.with_env(self.env(cr=cr)), [request], domain=TECHNICAL
            )
        raise UserError(
            self.env._(
                "%(backend)s is in shadow mode: %(operation)s (%(method)s) was "
                "recorded (Retail Connect > Shadow), not sent.",
                backend=self.name,
                operation=request.operation,
                method=request.method,
            )
        )

    def _shadow_outbound_done(self, run, domain, subject_key, record):
        """A flow in shadow tried writes: record them (its work is rolled back)."""
        self.env["retail.shadow.record"]._record_requests(
            self,
            run.requests,
            domain=domain,
            subject=subject_key,
            record=record and record.exists(),
        )
        return "shadow: {} request(s) recorded, not sent ({})".format(
            len(run.requests), ", ".join(r.operation for r in run.requests)
        )


class RetailSyncPolicy(models.Model):
    _inherit = "retail.sync.policy"

    shadow = fields.Boolean(
        "Shadow mode",
        readonly=True,
        tracking=True,
        help="Dry run of this domain only: computed and recorded, never "
        "written (the backend's shadow mode covers every domain).",
    )

    def write(self, vals):
        _check_leaving(self, vals)
        return super().write(vals)

    def action_shadow_start(self):
        check_group(self.env)
        self.filtered(lambda p: not p.shadow).write({"shadow": True})
        return True

    def action_shadow_leave(self):
        check_group(self.env)
        return _leave(self.filtered("shadow"), self.backend_id)

    def _shadow_leave_approval_required(self):
        self.ensure_one()
        return self.backend_id.company_id.retail_four_eyes

    def _shadow_leave(self):
        self.with_context(**{LEAVING: True}).write({"shadow": False})


class RetailApproval(models.Model):
    _inherit = "retail.approval"

    def _run(self):
        if self.action != "shadow_leave":
            return super()._run()
        self.sudo().executed_at = fields.Datetime.now()
        target = self._shadow_target()
        if target.shadow:
            target._shadow_leave()
        return True

    def _shadow_target(self):
        """The backend, or the policy the payload names, leaving shadow."""
        payload = json.loads(self.payload) if self.payload else {}
        if payload.get("policy_id"):
            return self.env["retail.sync.policy"].browse(payload["policy_id"]).exists()
        return self.backend_id


# ------------------------------------------------------------------ helpers
def _check_leaving(records, vals):
    """Shadow is left through its button (an approval), never by a write."""
    if "shadow" in vals and not vals["shadow"] and not records.env.context.get(LEAVING):
        if any(records.mapped("shadow")):
            raise UserError(
                records.env._(
                    "Leave shadow mode with its button (Leave shadow mode): going "
                    "live from shadow may need another Retail Manager's approval."
                )
            )


def _leave(targets, backends):
    """Leave shadow now, or request the approval; a notification says which."""
    env = backends.env
    requested = []
    for target in targets:
        if not target._shadow_leave_approval_required():
            target._shadow_leave()
            continue
        policy = target if target._name == "retail.sync.policy" else None
        env["retail.approval"]._request(
            target.backend_id if policy else target,
            "shadow_leave",
            reason=env._(
                "Go live from shadow mode: %(what)s will write in Odoo and on the "
                "platform.",
                what=target.display_name,
            ),
            payload=json.dumps({"policy_id": policy.id}) if policy else None,
        )
        requested.append(target.display_name)
    if not requested:
        return True
    return backends[:1]._notify(
        env._(
            "Approval requested to leave shadow mode (%(what)s): another Retail "
            "Manager approves it in Configuration > Approvals, which ends the "
            "shadow.",
            what=", ".join(requested),
        ),
        "warning",
    )


def _value(fld, value):
    """A field's value as a diff shows it."""
    if fld.type == "many2one":
        return value.display_name if value else None
    if fld.type in ("one2many", "many2many"):
        return [line.display_name for line in value[:MAX_LINES]]
    if fld.type in ("date", "datetime"):
        return fields.Datetime.to_string(value) if value else None
    if fld.type == "html":
        return str(value) if value else None
    if fld.type in ("float", "monetary") and value is not None:
        return round(value, 6)
    return value


def _text(value):
    if value is None or value is False:
        return ""
    if isinstance(value, list):
        return Markup("<br/>").join(escape(str(v)) for v in value)
    return str(value)
