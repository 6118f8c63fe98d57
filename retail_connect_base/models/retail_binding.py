import hashlib
import hmac
import json

from odoo import api, fields, models

from ..lib.errors import TransientError
from .common import USER, check_group, sql_insert_many


def payload_digest(data, key=None):
    """Stable digest of a payload: same content, same digest, whatever the order.

    With ``key``, an HMAC: nobody without the key can confirm a guess of the
    content (a customer's e-mail and name) against the digest.
    """
    if isinstance(data, bytes | str):
        raw = data.encode() if isinstance(data, str) else data
    else:
        raw = json.dumps(data, sort_keys=True, default=str).encode()
    if key:
        return hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    return hashlib.sha256(raw).hexdigest()


class RetailBinding(models.Model):
    """Identity map: an Odoo record ↔ an external id on a backend.

    Unique per (backend, model, external id) and per (backend, model, record):
    what makes re-imports idempotent and duplicates impossible. Use ``_lookup``
    and ``_bind`` under ``backend._lock_external`` (see ``_import_lock``).
    """

    _name = "retail.binding"
    _description = "Retail Connect Binding"
    _order = "last_sync_at desc, id desc"
    _rec_name = "external_ref"

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    res_model = fields.Char("Odoo model", required=True, index=True)
    res_id = fields.Many2oneReference("Odoo record", model_field="res_model")
    external_id = fields.Char(required=True)
    external_ref = fields.Char("Reference", help="What people call it (#1001).")
    remote_updated_at = fields.Datetime(
        help="Last change on the platform that Odoo applied."
    )
    remote_version = fields.Char()
    payload_digest = fields.Char(help="Digest of the last payload applied or sent.")
    last_sync_at = fields.Datetime(default=fields.Datetime.now)
    extra = fields.Json(
        help="Platform identifiers that travel with the binding (e.g. Shopify's "
        "inventory item of a variant)."
    )
    record_name = fields.Char(compute="_compute_record_name")

    _sql_constraints = [
        (
            "external_uniq",
            "UNIQUE(backend_id, res_model, external_id)",
            "An external id is bound once per backend and model.",
        ),
        (
            "record_uniq",
            "UNIQUE(backend_id, res_model, res_id)",
            "A record is bound once per backend.",
        ),
    ]

    def _compute_record_name(self):
        for binding in self:
            # a user may see the binding but not the bound model: show no name
            # rather than fail the whole list
            model = self.env.get(binding.res_model) if binding.res_model else None
            if model is None or not model.has_access("read") or not binding.res_id:
                binding.record_name = False
                continue
            record = model.browse(binding.res_id).exists()
            binding.record_name = (
                record.display_name if record and record.has_access("read") else False
            )

    def _record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    @api.model
    def _digest(self, data):
        """Keyed with the database secret: a binding keeps no guessable
        fingerprint of personal content."""
        key = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return payload_digest(data, key)

    @api.model
    def _lookup(self, backend, model, external_id):
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", model),
                ("external_id", "=", str(external_id)),
            ],
            limit=1,
        )

    @api.model
    def _lookup_record(self, backend, record):
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            limit=1,
        )

    @api.model
    def _bind(self, backend, record, external_id, **values):
        """Create or update the binding of ``record``; return it."""
        return self._bind_many(backend, [(record, external_id, values)])

    @api.model
    def _bind_many(self, backend, items):
        """Create or update the bindings of ``items``, ``(record, external_id,
        values)`` (an order and its lines): one lookup and one INSERT for all;
        return them in that order."""
        if not items:
            return self.browse()
        keys = [(record._name, str(external_id)) for record, external_id, _v in items]
        found = {
            (binding.res_model, binding.external_id): binding
            for binding in self.search(
                [
                    ("backend_id", "=", backend.id),
                    ("res_model", "in", sorted({model for model, _e in keys})),
                    ("external_id", "in", sorted({ext for _m, ext in keys})),
                ]
            )
        }
        now = fields.Datetime.now()
        rows, updated = [], []
        for (model, external_id), (record, _e, values) in zip(keys, items, strict=True):
            values = dict(values, res_id=record.id, last_sync_at=now)
            binding = found.get((model, external_id))
            if binding:
                binding.write(values)
                updated.append((binding, record))
                continue
            rows.append(
                dict(
                    values,
                    backend_id=backend.id,
                    company_id=backend.company_id.id,
                    res_model=model,
                    external_id=external_id,
                )
            )
        # one INSERT, no savepoint (a savepoint flushes every pending write):
        # a concurrent binding of the same id or record makes it skip a row
        inserted = sql_insert_many(
            self.sudo(),
            rows,
            on_conflict_do_nothing=True,
            returning=("id", "res_model", "external_id"),
        )
        if len(inserted) < len(rows):
            # another transaction bound one first: retrying will find its binding
            done = {(model, ext) for _id, model, ext in inserted}
            model, external_id = next(
                (row["res_model"], row["external_id"])
                for row in rows
                if (row["res_model"], row["external_id"]) not in done
            )
            raise TransientError(f"{model} {external_id} bound concurrently", seconds=2)
        found.update({(model, ext): self.browse(id_) for id_, model, ext in inserted})
        for binding, record in updated:
            binding._notify_bound(record, created=False)
        created = {id_ for id_, _m, _e in inserted}
        bindings = self.browse()
        for key, (record, _e, _v) in zip(keys, items, strict=True):
            binding = found[key]
            if binding.id in created:
                binding._notify_bound(record, created=True)
            bindings |= binding
        return bindings

    def _notify_bound(self, record, created):
        """Let the bound record show its channel (``_retail_bound(binding,
        created)``, e.g. a sale order: see retail_channel.py)."""
        hook = getattr(record, "_retail_bound", None)
        if hook is not None:
            hook(self, created)

    def _is_stale(self, remote_updated_at):
        """True when ``remote_updated_at`` is older than what was applied."""
        self.ensure_one()
        return bool(
            remote_updated_at
            and self.remote_updated_at
            and remote_updated_at < self.remote_updated_at
        )

    def action_open_record(self):
        check_group(self.env, USER)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
