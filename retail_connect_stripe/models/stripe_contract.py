"""Stripe's contract (issue 13): event objects checked against the shipped
schemas of the pinned version, and events sent in another API version."""

import os

from odoo import models

CONTRACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "contracts")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _api_version_info(self, version):
        if self.platform != "stripe":
            return super()._api_version_info(version)
        # "You can safely upgrade to a new monthly release"; a version is
        # never switched off for an account that pins it: Stripe publishes no
        # end of support (https://docs.stripe.com/upgrades)
        return {
            "support_end": None,
            "note": self.env._(
                "no end of support published (docs.stripe.com/upgrades)"
            ),
        }

    def _contract_dir(self):
        if self.platform != "stripe":
            return super()._contract_dir()
        return CONTRACTS

    def _contract_payload(self, event):
        if self.platform != "stripe":
            return super()._contract_payload(event)
        obj = (event._data().get("data") or {}).get("object")
        if not isinstance(obj, dict) or not obj.get("object"):
            return None
        return obj["object"], obj

    def _contract_check_payload(self, event):
        exceptions = super()._contract_check_payload(event)
        if self.platform != "stripe" or event.payload_purged:
            return exceptions
        sent = event._data().get("api_version")
        pinned = self.api_version
        if sent and pinned and sent != pinned:
            # "Webhook events are sent using the API version of the webhook
            # endpoint, or your account's default if the endpoint has none"
            # (https://docs.stripe.com/webhooks/versioning)
            exceptions |= self._drift_open(
                version=pinned,
                payload_type="event",
                field="api_version",
                message=self.env._(
                    "Contract drift: Stripe sends events in API version %(sent)s, "
                    "the backend pins %(pinned)s. Their objects have the shape of "
                    "%(sent)s, which the connector was not written for. Register "
                    "the webhook again from the backend (it creates the endpoint "
                    "with the pinned version), or pin %(sent)s once the connector "
                    "supports it.",
                    sent=sent,
                    pinned=pinned,
                ),
                severity="high",
                domain=event.domain,
                fix={"kind": "version", "sent": sent, "api_version": pinned},
            )
        return exceptions
