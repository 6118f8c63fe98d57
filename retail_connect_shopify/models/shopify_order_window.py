"""Shopify's 60-day order window (issue 7, point 15).

Without the ``read_all_orders`` scope Shopify serves the orders created in the
last 60 days only: an older order reads as null and lists skip it
(https://shopify.dev/docs/api/usage/access-scopes). The backfill and the
import of an older order say so, instead of importing less or failing blindly.
"""

from datetime import timedelta

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import RemoteError

from ..lib import documents as gql

ORDER_WINDOW_DAYS = 60


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_read_all_orders = fields.Boolean(
        "Reads all orders",
        readonly=True,
        help="The app holds Shopify's read_all_orders scope, so orders older than "
        "60 days can be read. Checked by each backfill and when an order cannot "
        "be read.",
    )

    def _shopify_check_order_window(self):
        """Read the granted scopes; True when every order is readable."""
        self.ensure_one()
        result = self._shopify_client().graphql(
            gql.ACCESS_SCOPES, operation="AccessScopes", cost=2
        )
        installation = result.get("currentAppInstallation") or {}
        handles = {s["handle"] for s in installation.get("accessScopes") or ()}
        self.shopify_read_all_orders = "read_all_orders" in handles
        return self.shopify_read_all_orders

    def _shopify_backfill_since(self):
        """Start of the order backfill: the configured days, within the window."""
        days = self.shopify_backfill_days
        if days > ORDER_WINDOW_DAYS and not self._shopify_check_order_window():
            start = fields.Datetime.now() - timedelta(days=ORDER_WINDOW_DAYS)
            self.message_post(
                body=self.env._(
                    "The backfill reads the last %(window)s days of orders, not "
                    "%(days)s: without Shopify's read_all_orders scope the app "
                    "can only read orders created since %(start)s. Older orders "
                    "are not imported. To import them, request read_all_orders "
                    "for the app (Shopify Partner Dashboard or the app's "
                    "configuration) and run the backfill again.",
                    window=ORDER_WINDOW_DAYS,
                    days=days,
                    start=fields.Date.to_string(start.date()),
                ),
                subtype_xmlid="mail.mt_note",
            )
            days = ORDER_WINDOW_DAYS
        return fields.Datetime.now() - timedelta(days=days)

    def _shopify_missing_order(self, order_gid):
        """The error for an order Shopify answers as null."""
        if self._shopify_check_order_window():
            return RemoteError(f"Shopify has no order {order_gid} (deleted?)")
        return RemoteError(
            f"Shopify does not return order {order_gid}: it was deleted, or it "
            f"is older than {ORDER_WINDOW_DAYS} days and the app lacks Shopify's "
            "read_all_orders scope. Request that scope for the app, then retry."
        )
