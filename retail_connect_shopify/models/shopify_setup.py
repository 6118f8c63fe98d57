"""Shopify's steps of the setup checklist (retail_backend_setup.py in the base)."""

from odoo import models
from odoo.tools import format_datetime

from odoo.addons.retail_connect_base.models.retail_backend_setup import (
    DONE,
    FAILED,
    RUNNING,
    TODO,
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _platform_unused_fields(self):
        unused = super()._platform_unused_fields()
        if self.platform == "shopify":
            # an Admin API token, or the app's client ID and secret; no API key
            unused.add("api_key")
        return unused

    def _setup_missing_credentials(self):
        if self.platform != "shopify":
            return super()._setup_missing_credentials()
        _ = self.env._
        stored = (
            self.env["retail.secret"].sudo()._names_set(self.ids).get(self.id, set())
        )
        missing = []
        if not self.shopify_shop_domain:
            missing.append(_("Shop domain"))
        if "access_token" not in stored and not (
            self.client_id and "client_secret" in stored
        ):
            missing.append(_("Access token (or Client ID and Client secret)"))
        if "webhook_secret" not in stored:
            missing.append(_("Webhook secret (the app's client secret)"))
        return missing

    def _setup_steps(self):
        steps = super()._setup_steps()
        if self.platform != "shopify":
            return steps
        return steps + [
            self._shopify_setup_webhooks(),
            self._shopify_setup_locations(),
            self._shopify_setup_backfill(),
        ]

    def _shopify_setup_webhooks(self):
        _ = self.env._
        step = {
            "key": "webhooks",
            "sequence": 40,
            "name": _("Webhooks registered"),
            "button": "action_shopify_register_webhooks",
            "button_label": _("Register webhooks"),
        }
        if blocked := self._setup_blocked_until_active(step):
            return blocked
        if self.shopify_webhooks_ok:
            return dict(
                step,
                state=DONE,
                button_label=_("Check again"),
                result=_(
                    "Shopify sends orders, refunds and customers to %(url)s",
                    url=self.webhook_url,
                ),
            )
        return dict(
            step,
            state=TODO,
            result=_("Not registered: orders arrive only by polling, minutes late"),
        )

    def _shopify_setup_locations(self):
        _ = self.env._
        step = {
            "key": "locations",
            "sequence": 50,
            "name": _("Locations mapped"),
            "button": "action_shopify_fetch_locations",
            "button_label": _("Fetch locations"),
        }
        if blocked := self._setup_blocked_until_active(step):
            return blocked
        locations = self.shopify_location_ids.filtered("active")
        mapped = locations.filtered("warehouse_id")
        inventory = self.policy_ids.filtered(lambda p: p.domain == "inventory")[:1]
        if not locations:
            return dict(step, state=TODO, result=_("No location fetched yet"))
        if mapped:
            return dict(
                step,
                state=DONE,
                result=_(
                    "%(mapped)s of %(count)s location(s) publish a warehouse's stock",
                    mapped=len(mapped),
                    count=len(locations),
                ),
            )
        if inventory.direction not in ("out", "both"):
            return dict(
                step, state=DONE, result=_("Stock is not published (Inventory: off)")
            )
        return dict(
            step,
            state=TODO,
            result=_(
                "%(count)s location(s), none mapped: pick a warehouse for each on "
                "the Shopify tab",
                count=len(locations),
            ),
        )

    def _shopify_setup_backfill(self):
        _ = self.env._
        step = {
            "key": "backfill",
            "sequence": 70,
            "name": _("Backfill run"),
            "button": "action_shopify_backfill",
            "button_label": _("Run backfill"),
        }
        if blocked := self._setup_blocked_until_active(step):
            return blocked
        status, kind = self.shopify_bulk_status, self.shopify_bulk_kind
        if not self.shopify_bulk_id:
            return dict(
                step,
                state=TODO,
                result=_(
                    "Imports the catalog's SKUs, then the orders of the last "
                    "%(days)s days",
                    days=self.shopify_backfill_days,
                ),
            )
        if kind == "orders" and status == "INGESTED":
            return dict(
                step,
                state=DONE,
                button_label=_("Run again"),
                result=_(
                    "%(result)s on %(when)s",
                    result=self.shopify_backfill_result or "",
                    when=format_datetime(self.env, self.shopify_backfill_done_at),
                ),
            )
        if status in ("CREATED", "RUNNING") or status == "INGESTED":
            return dict(
                step,
                state=RUNNING,
                button=False,
                result=_(
                    "Running: %(kind)s %(status)s", kind=kind, status=status.lower()
                ),
            )
        return dict(
            step,
            state=FAILED,
            button_label=_("Run again"),
            result=_(
                "The bulk %(kind)s operation ended %(status)s", kind=kind, status=status
            ),
        )
