"""How Shopify records are shown in Odoo: links into the shop's admin, order
numbers for subjects, and unknown SKUs with what the order line says."""

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import MappingError

from ..lib import mappers

# admin pages of a record, by the numeric id of its GID: the legacy
# https://{shop}.myshopify.com/admin/orders/{id} address still redirects to
# admin.shopify.com/store/{shop}/orders/{id} (help.shopify.com/en/manual/shopify-admin)
ADMIN_PATHS = {"sale.order": "orders", "res.partner": "customers"}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _channel_record_url(self, binding):
        if self.platform != "shopify":
            return super()._channel_record_url(binding)
        path = ADMIN_PATHS.get(binding.res_model)
        shop = self._remote_account()
        if not (path and shop):
            return False
        return f"https://{shop}/admin/{path}/{mappers.numeric_id(binding.external_id)}"

    def _subject_label(self, subject_key, record=None, events=None):
        label = super()._subject_label(subject_key, record=record, events=events)
        if self.platform != "shopify" or not (subject_key or "").startswith("order:"):
            return label
        if label != subject_key:
            return label  # the bound record's number
        numeric = subject_key.split(":", 1)[1]
        binding = (
            self.env["retail.binding"]
            .sudo()
            ._lookup(self, "sale.order", mappers.order_gid(numeric))
        )
        if binding.external_ref:
            return binding.external_ref
        # not imported yet: the order's name in the delivery (webhook or backfill)
        for event in (events or self.env["retail.event"]).sudo():
            if event.payload and not event.payload_purged:
                name = event._data().get("name")
                if isinstance(name, str) and name:
                    return name
        return self.env._("Order %(id)s", id=numeric)

    def _shopify_product(self, line, order, subject):
        # the Map SKU wizard offers the line's title and price for a new product
        try:
            return super()._shopify_product(line, order, subject)
        except MappingError as err:
            err.fix = dict(err.fix, title=line["title"], price=line["price_unit"])
            raise
