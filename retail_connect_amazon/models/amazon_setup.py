"""Amazon's steps of the setup checklist (retail_backend_setup.py in the base)."""

from odoo import models

from odoo.addons.retail_connect_base.models.retail_backend_setup import DONE, TODO

from .retail_backend import REFRESH_TOKEN


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _platform_unused_fields(self):
        unused = super()._platform_unused_fields()
        if self.platform == "amazon":
            # LWA: client ID, client secret and the refresh token; SP-API
            # sends no webhooks (notifications go to SQS or EventBridge)
            unused |= {"api_key", "access_token", "webhook_secret"}
        return unused

    def _setup_missing_credentials(self):
        if self.platform != "amazon":
            return super()._setup_missing_credentials()
        _ = self.env._
        stored = (
            self.env["retail.secret"].sudo()._names_set(self.ids).get(self.id, set())
        )
        missing = []
        if not self.amazon_seller_id:
            missing.append(_("Seller ID"))
        if not self.client_id:
            missing.append(_("LWA client ID"))
        if "client_secret" not in stored:
            missing.append(_("LWA client secret"))
        if REFRESH_TOKEN not in stored:
            missing.append(_("LWA refresh token"))
        return missing

    def _setup_steps(self):
        steps = super()._setup_steps()
        if self.platform != "amazon":
            return steps
        return steps + [self._amazon_setup_marketplaces(), self._amazon_setup_fba()]

    def _amazon_setup_marketplaces(self):
        _ = self.env._
        step = {"key": "marketplaces", "sequence": 15, "name": _("Marketplaces")}
        marketplaces = self.amazon_marketplace_ids.filtered("active")
        if not marketplaces:
            return dict(
                step,
                state=TODO,
                result=_(
                    "Add the marketplaces the seller sells in on the Amazon tab "
                    "(their currency, pricelist and warehouse)"
                ),
            )
        return dict(
            step,
            state=DONE,
            result=", ".join(f"{m.name} ({m.currency_id.name})" for m in marketplaces),
        )

    def _amazon_setup_fba(self):
        _ = self.env._
        step = {"key": "fba", "sequence": 16, "name": _("FBA warehouse")}
        if self.amazon_fba_warehouse_id:
            return dict(
                step,
                state=DONE,
                result=_(
                    "FBA orders take their goods from %(warehouse)s; Odoo ships "
                    "nothing for them",
                    warehouse=self.amazon_fba_warehouse_id.name,
                ),
            )
        return dict(
            step,
            state=DONE,
            result=_(
                "None: merchant-fulfilled orders only (an FBA order opens an "
                "exception asking for it)"
            ),
        )
