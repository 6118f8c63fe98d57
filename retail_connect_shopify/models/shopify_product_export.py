import copy
from collections import Counter

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import plaintext2html

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    SyncError,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib import mappers
from ..lib.client import UserErrors

BATCH = 100  # templates per job: a larger catalog continues in a follow-up job
MAX_OPTIONS = 3  # Shopify's limit of options per product
MAX_VARIANTS = 100  # variants productSet's answer is read back with
STALE_CODES = {"PRODUCT_DOES_NOT_EXIST", "PRODUCT_VARIANT_DOES_NOT_EXIST"}
DEFAULT_OPTION = {"name": "Title", "values": [{"name": "Default Title"}]}
DEFAULT_VALUE = [{"optionName": "Title", "name": "Default Title"}]


def _options_key(pairs):
    return tuple(sorted((str(name), str(value)) for name, value in pairs))


class ShopifyProductExport(models.Model):
    """Templates waiting to be exported to a Shopify backend.

    A product change only upserts a row here (one SQL statement) and enqueues
    ONE coalesced job per backend (queue_job identity key). ``version`` grows
    with every new mark: the job removes a row only if it was not marked again
    while the job ran, and never locks it, so product edits never wait for an
    export in progress.
    """

    _name = "shopify.product.export"
    _description = "Shopify Product Export Queue"
    _log_access = False

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    product_tmpl_id = fields.Many2one(
        "product.template", required=True, ondelete="cascade", index=True
    )
    version = fields.Integer(default=1)
    force = fields.Boolean(help="Send even if nothing changed since the last export.")

    _sql_constraints = [
        (
            "template_uniq",
            "UNIQUE(backend_id, product_tmpl_id)",
            "A template waits once per backend.",
        )
    ]

    # ------------------------------------------------------------ marking
    @api.model
    def _exporting_backends(self, backends=None):
        """Active Shopify backends whose product policy exports now.

        The origin of the change (``retail_connect_origin``) gets nothing back.
        """
        if backends is None:
            backends = (
                self.env["retail.backend"]
                .sudo()
                .search([("platform", "=", "shopify"), ("state", "=", "active")])
            )
        return backends.filtered(
            lambda b: any(
                p.domain == "product" and p._allows_export() for p in b.policy_ids
            )
        )

    @api.model
    def _mark(self, templates, backends=None, force=False):
        """Mark ``templates`` dirty for the backends they are published on or
        bound to; enqueue one export job per backend concerned."""
        if not templates:
            return
        backends = self._exporting_backends(backends)
        if not backends:
            return
        self.env["product.template"].flush_model(["shopify_backend_ids"])
        self.env["retail.binding"].flush_model()
        self.flush_model()
        self.env.cr.execute(
            """
            INSERT INTO shopify_product_export
                   (backend_id, product_tmpl_id, version, force)
            SELECT DISTINCT t.backend_id, t.product_tmpl_id, 1, %(force)s
              FROM (SELECT rel.backend_id, rel.product_tmpl_id
                      FROM shopify_backend_product_template_rel rel
                     WHERE rel.product_tmpl_id = ANY(%(templates)s)
                       AND rel.backend_id = ANY(%(backends)s)
                    UNION
                    SELECT rb.backend_id, rb.res_id
                      FROM retail_binding rb
                     WHERE rb.res_model = 'product.template'
                       AND rb.res_id = ANY(%(templates)s)
                       AND rb.backend_id = ANY(%(backends)s)) t
              JOIN product_template pt ON pt.id = t.product_tmpl_id
            ON CONFLICT (backend_id, product_tmpl_id) DO UPDATE
               SET version = shopify_product_export.version + 1,
                   force = shopify_product_export.force OR EXCLUDED.force
            RETURNING backend_id
            """,
            {"templates": templates.ids, "backends": backends.ids, "force": force},
        )
        backend_ids = {row[0] for row in self.env.cr.fetchall()}
        self.invalidate_model()
        for backend in self.env["retail.backend"].sudo().browse(sorted(backend_ids)):
            backend._shopify_enqueue_catalog_export()

    @api.model
    def _bound_products(self, templates):
        """{backend: [product GID]} of ``templates`` on exporting backends.

        Called before templates are deleted; their bindings (template and
        variants) go with them.
        """
        bindings = self.env["retail.binding"].sudo()
        variants = templates.with_context(active_test=False).product_variant_ids
        found = bindings.search(
            [
                ("backend_id.platform", "=", "shopify"),
                "|",
                "&",
                ("res_model", "=", "product.template"),
                ("res_id", "in", templates.ids),
                "&",
                ("res_model", "=", "product.product"),
                ("res_id", "in", variants.ids),
            ]
        )
        exporting = self._exporting_backends(found.backend_id)
        gone = {}
        for binding in found.filtered(lambda b: b.res_model == "product.template"):
            if binding.backend_id in exporting:
                gone.setdefault(binding.backend_id, []).append(binding.external_id)
        found.unlink()
        return gone

    @api.model
    def _enqueue_archive(self, gone):
        for backend, gids in gone.items():
            backend.with_user(SUPERUSER_ID).with_delay(
                channel=backend._channel("bulk"),
                description=f"{backend.name}: archive deleted products",
            )._job_shopify_archive_products(gids)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_catalog_export = fields.Boolean(
        compute="_compute_shopify_catalog",
        help="The product policy sends the catalog to Shopify.",
    )
    shopify_catalog_import = fields.Boolean(
        compute="_compute_shopify_catalog",
        help="The product policy makes Shopify the owner and imports its catalog.",
    )

    @api.depends(
        "platform",
        "policy_ids.domain",
        "policy_ids.direction",
        "policy_ids.system_of_record",
    )
    def _compute_shopify_catalog(self):
        for backend in self:
            policy = backend.policy_ids.filtered(lambda p: p.domain == "product")[:1]
            shopify = backend.platform == "shopify" and bool(policy)
            backend.shopify_catalog_export = shopify and policy.direction in (
                "out",
                "both",
            )
            backend.shopify_catalog_import = (
                shopify
                and policy.direction in ("in", "both")
                and policy.system_of_record == "platform"
            )

    # ------------------------------------------------------------ actions
    def action_activate(self):
        check_group(self.env)
        result = super().action_activate()
        waiting = self.env["shopify.product.export"].search(
            [("backend_id", "in", self.ids)]
        )
        # a backend waiting for its go-live approval is not active yet
        for backend in waiting.backend_id.filtered(lambda b: b.state == "active"):
            backend._shopify_enqueue_catalog_export()
        return result

    def action_shopify_export_catalog(self):
        """Send every published product again, changed or not."""
        check_group(self.env)
        # four eyes on a live production backend (retail_approval_gates.py)
        backends, notice = self._approved_bulk(
            "action_shopify_export_catalog", self.env._("Catalog export")
        )
        for backend in backends:
            templates = self.env["product.template"].with_context(
                active_test=False
            ).search([("shopify_backend_ids", "in", backend.ids)]) | self.env[
                "product.template"
            ].browse(
                self.env["retail.binding"]
                .search(
                    [
                        ("backend_id", "=", backend.id),
                        ("res_model", "=", "product.template"),
                    ]
                )
                .mapped("res_id")
            )
            self.env["shopify.product.export"]._mark(
                templates.exists(), backends=backend, force=True
            )
        if notice:
            return notice
        return self._notify(
            self.env._("Catalog export queued (bulk channel)."), "success"
        )

    # --------------------------------------------------------------- jobs
    def _shopify_enqueue_catalog_export(self):
        self.ensure_one()
        self.with_user(SUPERUSER_ID).with_delay(
            channel=self._channel("bulk"),
            identity_key=f"shopify_catalog_{self.id}",
            description=f"{self.name}: export products",
            eta=10,  # coalesce the edits of one save or one import
        )._job_shopify_export_products()

    def _job_shopify_export_products(self):
        """Export the dirty templates of this backend with ``productSet``.

        Each template is one synchronous ``productSet``: title, sale
        description, status (ACTIVE; ARCHIVED when archived or unpublished),
        one option per variant-creating attribute (``Title``/``Default Title``
        without any) and every active variant with its SKU, barcode, price
        (``lst_price``) and tracked inventory item. A bound template is
        identified by its product GID (its variants by theirs); a new one
        adopts the Shopify product already holding its SKU, else gets a stable
        handle. Variants are bound by SKU (else option values) with their
        inventory item, and get their stock pushed. Nothing is sent when the
        payload digest did not change since the last export.

        One template that Shopify refuses (userErrors) or that cannot be
        mapped opens a sync exception and the others still go; a retryable
        failure (throttle, 5xx) retries the whole job, which is safe: a
        template not bound yet is found again by SKU or by its handle, so
        Shopify updates the product the rolled-back attempt created.

        Limits: at most 3 options and 100 variants per product; prices are
        the Odoo sales prices as they are (no pricelist, no currency
        conversion); images, vendor, type, tags, collections, metafields and
        sales-channel publication are left to Shopify.
        """
        self.ensure_one()
        return self._run_outbound(
            "product", "catalog:export", self._shopify_export_products
        )

    def _shopify_export_products(self):
        queue = self.env["shopify.product.export"]
        policy = self._policy("product")
        if policy.direction not in ("out", "both"):
            queue.search([("backend_id", "=", self.id)]).unlink()
            return "the product policy does not export"
        if not policy._allows_export():
            return "backend inactive: kept for later"
        queue.flush_model()
        self.env.cr.execute(
            "SELECT id, product_tmpl_id, version, force FROM shopify_product_export "
            "WHERE backend_id = %s ORDER BY id LIMIT %s",
            (self.id, BATCH + 1),
        )
        rows = self.env.cr.fetchall()
        more, rows = len(rows) > BATCH, rows[:BATCH]
        clients = []

        def client():
            if not clients:
                clients.append(self._shopify_client())
            return clients[0]

        outcomes = Counter()
        exceptions = self.env["retail.sync.exception"]
        for _row, tmpl_id, _version, force in rows:
            tmpl = (
                self.env["product.template"]
                .with_context(active_test=False)
                .browse(tmpl_id)
            )
            subject = f"product:{tmpl_id}"
            try:
                with self.env.cr.savepoint():
                    outcome = self._shopify_export_template(tmpl, client, force)
            except AuthError:
                raise
            except SyncError as err:
                exceptions._open_or_bump(
                    self,
                    domain="product",
                    category=err.category,
                    message=f"{tmpl.display_name}: {err.message}",
                    subject_key=subject,
                    record=tmpl,
                    fix=err.fix or None,
                )
                outcome = "failed"
            else:
                self._shopify_resolve(subject, tmpl)
            outcomes[outcome] += 1
        self.env.cr.execute(
            """
            DELETE FROM shopify_product_export e
             USING unnest(%s::int[], %s::int[]) AS done(id, version)
             WHERE e.id = done.id AND e.version = done.version
            """,
            ([r[0] for r in rows], [r[2] for r in rows]),
        )
        queue.invalidate_model()
        if more:
            self._shopify_enqueue_catalog_export()
        summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
        return f"{summary or 'nothing to export'}{' (more queued)' if more else ''}"

    def _job_shopify_archive_products(self, gids):
        """Archive on Shopify the products of templates deleted in Odoo."""
        self.ensure_one()
        return self._run_outbound(
            "product", "catalog:archive", self._shopify_archive_products, gids
        )

    def _shopify_archive_products(self, gids):
        if not self._policy("product")._allows_export():
            return "the product policy does not export"
        client = self._shopify_client()
        done = 0
        for gid in gids:
            try:
                self._call_in_job(
                    client.mutate,
                    gql.PRODUCT_SET,
                    {"identifier": {"id": gid}, "input": {"status": "ARCHIVED"}},
                    operation="ProductSet",
                    payload="productSet",
                )
            except UserErrors as err:
                if "PRODUCT_DOES_NOT_EXIST" not in (err.code or ""):
                    raise
                continue
            done += 1
        return f"{done} product(s) archived"

    # ------------------------------------------------------------ export
    def _shopify_export_template(self, tmpl, client, force=False):
        """Export one template; return what happened (for the job summary)."""
        bindings = self.env["retail.binding"]
        if not tmpl.exists():
            return "deleted"
        # a concurrent export of the same template waits, then finds its binding
        self._lock_external("product.template", tmpl.id)
        binding = bindings._lookup_record(self, tmpl)
        published = self in tmpl.shopify_backend_ids and tmpl.active
        if not binding and not published:
            return "skipped"
        content, variants = self._shopify_product_input(tmpl, published)
        digest = bindings._digest(content)
        variant_bindings = {v: bindings._lookup_record(self, v) for v in variants}
        if (
            binding
            and not force
            and binding.payload_digest == digest
            and all(variant_bindings.values())
        ):
            return "unchanged"
        product = self._shopify_product_set(
            client(), tmpl, content, variants, binding, variant_bindings
        )
        self._shopify_bind_export(tmpl, product, content, variants, digest)
        return "exported"

    def _shopify_product_input(self, tmpl, published):
        """``(ProductSetInput, variants)`` of a template, without identifiers.

        The input is also what the digest is taken of: ids are added later.
        """
        if not published:
            # unpublished or archived: hide it, leave its variants as they are
            return {"title": tmpl.name, "status": "ARCHIVED"}, tmpl.browse()
        subject = f"product:{tmpl.id}"
        tmpl = tmpl.with_context(active_test=True)  # archived lines are history
        variants = tmpl.product_variant_ids
        lines = tmpl.attribute_line_ids.filtered(
            lambda line: line.attribute_id.create_variant != "no_variant"
        )
        if len(lines) > MAX_OPTIONS:
            raise ValidationSyncError(
                f"{len(lines)} variant attributes: Shopify takes at most "
                f"{MAX_OPTIONS} options per product.",
                subject_key=subject,
            )
        if not variants:
            raise ValidationSyncError(
                "no active variant to publish", subject_key=subject
            )
        if len(variants) > MAX_VARIANTS:
            raise ValidationSyncError(
                f"{len(variants)} variants: the connector publishes at most "
                f"{MAX_VARIANTS} per product.",
                subject_key=subject,
            )
        currency = tmpl.currency_id
        if lines:
            used = variants.product_template_attribute_value_ids
            options = [
                {
                    "name": line.attribute_id.name,
                    "values": [
                        {"name": value.name}
                        for value in line.product_template_value_ids
                        if value in used
                    ],
                }
                for line in lines
            ]
        else:
            options = [copy.deepcopy(DEFAULT_OPTION)]
        specs = []
        for variant in variants:
            if lines:
                values = []
                for line in lines:
                    value = variant.product_template_attribute_value_ids.filtered(
                        lambda v, line=line: v.attribute_line_id == line
                    )[:1]
                    if not value:
                        raise ValidationSyncError(
                            f"variant {variant.display_name} has no "
                            f"{line.attribute_id.name}",
                            subject_key=subject,
                        )
                    values.append(
                        {"optionName": line.attribute_id.name, "name": value.name}
                    )
            else:
                values = copy.deepcopy(DEFAULT_VALUE)
            price = currency.round(variant.lst_price)
            specs.append(
                {
                    "optionValues": values,
                    "price": f"{price:.{currency.decimal_places}f}",
                    "barcode": variant.barcode or None,
                    "inventoryItem": {
                        "sku": variant.default_code or None,
                        "tracked": bool(variant.is_storable),
                    },
                }
            )
        content = {
            "title": tmpl.name,
            "descriptionHtml": plaintext2html(tmpl.description_sale)
            if tmpl.description_sale
            else "",
            "status": "ACTIVE",
            "productOptions": options,
            "variants": specs,
        }
        return content, variants

    def _shopify_handle(self, tmpl):
        """Stable handle of a template not bound yet (database + template id)."""
        return f"odoo-{(self._db_uuid() or '')[:8]}-{tmpl.id}"

    def _shopify_product_set(
        self, client, tmpl, content, variants, binding, variant_bindings, retried=False
    ):
        bindings = self.env["retail.binding"]
        data = copy.deepcopy(content)
        if binding:
            identifier = {"id": binding.external_id}
            for spec, variant in zip(
                data.get("variants") or [], variants, strict=False
            ):
                if variant_bindings.get(variant):
                    spec["id"] = variant_bindings[variant].external_id
        else:
            gid = self._shopify_find_product(client, tmpl, variants, variant_bindings)
            if gid:
                identifier = {"id": gid}
            else:
                identifier = {"handle": self._shopify_handle(tmpl)}
                data["handle"] = identifier["handle"]
        try:
            result = self._call_in_job(
                client.mutate,
                gql.PRODUCT_SET,
                {"identifier": identifier, "input": data},
                operation="ProductSet",
                payload="productSet",
            )
        except UserErrors as err:
            codes = {e.get("code") for e in err.errors}
            if retried or not binding or not codes & STALE_CODES:
                raise
            # deleted on Shopify by hand: forget what the bindings point at
            stale = bindings.browse([b.id for b in variant_bindings.values() if b])
            if "PRODUCT_DOES_NOT_EXIST" in codes:
                stale |= binding
                binding = bindings.browse()
            stale.unlink()
            return self._shopify_product_set(
                client,
                tmpl,
                content,
                variants,
                binding,
                dict.fromkeys(variants, bindings.browse()),
                retried=True,
            )
        return result["product"]

    def _shopify_find_product(self, client, tmpl, variants, variant_bindings):
        """The Shopify product already holding this template's variants, if any.

        A shop often has the products before Odoo publishes them (or a
        backfill bound their variants): adopting the product avoids a
        duplicate listing with the same SKUs.
        """
        bound = next((b for b in variant_bindings.values() if b), None)
        sku = next((v.default_code for v in variants if v.default_code), None)
        if bound:
            query = f"id:{mappers.numeric_id(bound.external_id)}"
        elif sku and '"' not in sku:
            query = f'sku:"{sku}"'
        else:
            return None
        data = self._call_in_job(
            client.graphql,
            gql.PRODUCT_LOOKUP,
            {"q": query},
            operation="ProductLookup",
            cost=32,
        )
        for node in (data.get("productVariants") or {}).get("nodes") or []:
            if not bound and node.get("sku") != sku:
                continue
            gid = node["product"]["id"]
            other = self.env["retail.binding"]._lookup(self, "product.template", gid)
            owner = other._record() if other else None
            if owner and owner != tmpl:
                raise ValidationSyncError(
                    f"SKU {node.get('sku')} is on Shopify product "
                    f"{node['product']['handle']}, published from "
                    f"{owner.display_name}: give each product its own SKUs.",
                    subject_key=f"product:{tmpl.id}",
                )
            return gid
        return None

    def _shopify_bind_export(self, tmpl, product, content, variants, digest):
        """Bind the template and its variants (with their inventory items)."""
        bindings = self.env["retail.binding"]
        self._shopify_rebind(
            tmpl, product["id"], external_ref=product["handle"], payload_digest=digest
        )
        if not variants:
            return
        nodes = (product.get("variants") or {}).get("nodes") or []
        by_sku = {n["sku"]: n for n in nodes if n.get("sku")}
        by_options = {
            _options_key((o["name"], o["value"]) for o in n["selectedOptions"]): n
            for n in nodes
        }
        for variant, spec in zip(variants, content["variants"], strict=True):
            key = _options_key(
                (v["optionName"], v["name"]) for v in spec["optionValues"]
            )
            node = by_sku.get(variant.default_code) or by_options.get(key)
            if not node:
                continue
            item = node["inventoryItem"]["id"]
            old = bindings._lookup_record(self, variant)
            moved = not old or (old.extra or {}).get("inventory_item_id") != item
            self._shopify_rebind(
                variant,
                node["id"],
                external_ref=variant.default_code or False,
                extra={"inventory_item_id": item},
            )
            if moved:
                self._shopify_publish_stock(variant)
        gone = bindings.search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "product.product"),
                (
                    "res_id",
                    "in",
                    tmpl.with_context(active_test=False).product_variant_ids.ids,
                ),
                ("res_id", "not in", variants.ids),
            ]
        )
        gone.unlink()

    def _shopify_rebind(self, record, gid, **values):
        """Bind ``record`` to ``gid``, moving a binding either side had."""
        bindings = self.env["retail.binding"]
        mine = bindings._lookup_record(self, record)
        theirs = bindings._lookup(self, record._name, gid)
        if theirs and theirs != mine:
            theirs.unlink()  # the remote object is this record's now
        if mine and mine.external_id != gid:
            mine.external_id = gid
        return bindings._bind(self, record, gid, **values)

    def _shopify_publish_stock(self, variant):
        """A new inventory item gets the variant's stock at every location."""
        if not variant.is_storable:
            return
        levels = self.env["shopify.stock.level"]
        levels.search(
            [("backend_id", "=", self.id), ("product_id", "=", variant.id)]
        ).write({"remote_known": False, "remote_qty": 0})
        for location in self.shopify_location_ids.filtered("warehouse_id"):
            levels._mark_dirty(variant, location.warehouse_id.lot_stock_id)

    def _shopify_resolve(self, subject, record=None):
        """A success on ``subject`` resolves its open product exceptions."""
        found = (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("domain", "=", "product"),
                    ("subject_key", "=", subject),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )
        if found:
            found._resolve(
                self.env._(
                    "Resolved automatically: %(what)s synchronised.",
                    what=record.display_name if record else subject,
                )
            )
        return found
