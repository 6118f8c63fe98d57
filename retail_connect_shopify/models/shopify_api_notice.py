"""Shopify's API versions and contract (issue 7 point 16, issue 13): the
version served, the deprecated fields a call used, each version's end of
support, and the webhook payloads checked against the shipped contract."""

import os
import re
from datetime import date

from odoo import fields, models

VERSION = re.compile(r"^(\d{4})-(\d{2})$")
CONTRACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "contracts")
# webhook topic -> payload type of contracts/<version>/ (REST bodies)
PAYLOAD_TYPES = {
    "orders/create": "order",
    "orders/updated": "order",
    "orders/paid": "order",
    "orders/cancelled": "order",
    "refunds/create": "refund",
    "customers/create": "customer",
    "customers/update": "customer",
}


def supported_until(version):
    """The first day a stable version may leave support: "Each stable version
    is supported for a minimum of 12 months"
    (https://shopify.dev/docs/api/usage/versioning); None for others."""
    match = VERSION.match(version or "")
    if not match:
        return None
    return date(int(match[1]) + 1, int(match[2]), 1)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_served_version = fields.Char(
        "API version served",
        readonly=True,
        help="The version Shopify says it served the last call with "
        "(X-Shopify-API-Version); an unsupported version falls forward.",
    )

    def _api_version_info(self, version):
        if self.platform != "shopify":
            return super()._api_version_info(version)
        until = supported_until(version)
        if not until:
            return {}
        return {
            "support_end": until,
            "note": self.env._(
                "12 months from its release (shopify.dev/docs/api/usage/versioning)"
            ),
            "change": self.env._(
                "pin a newer stable version on the backend once the connector "
                "supports it: read the release notes of every version in between "
                "(shopify.dev/docs/api/release-notes), adapt the GraphQL documents "
                "(lib/documents.py) and mappers, regenerate the contracts "
                "(tools/contract_schemas.py) and subscribe the webhooks again "
                "(Register webhooks). An unsupported version falls forward to the "
                "oldest supported one, unreviewed."
            ),
        }

    def _contract_dir(self):
        if self.platform != "shopify":
            return super()._contract_dir()
        return CONTRACTS

    def _contract_payload(self, event):
        if self.platform != "shopify":
            return super()._contract_payload(event)
        payload_type = PAYLOAD_TYPES.get(event.topic)
        if not payload_type or event.source == "replay":
            return None
        return payload_type, event._data()

    def _shopify_api_notice(self, served, deprecated):
        """Record the version served; each deprecated field used opens one
        drift exception (once: an open one is not bumped on every call)."""
        self.ensure_one()
        if served and served != self.shopify_served_version:
            self.sudo().shopify_served_version = served
        version = served or self.api_version
        pinned = self.api_version
        if served and pinned and served != pinned:
            # "If the returned version is different, then your app is out of
            # date" (help.shopify.com/en/api/versioning/migration-guide): the
            # pinned version left support and Shopify fell forward
            self._drift_open(
                version=pinned,
                payload_type="api",
                field="version_served",
                message=self.env._(
                    "Contract drift: Shopify served API %(served)s to calls pinned "
                    "to %(pinned)s, which is no longer supported (an unsupported "
                    "version falls forward to the oldest supported one). The "
                    "connector now runs on a version it was not checked against: "
                    "pin a supported version on the backend, read the release "
                    "notes in between and regenerate the contracts.",
                    served=served,
                    pinned=pinned,
                ),
                severity="high",
                fix={"kind": "version", "sent": served, "api_version": pinned},
                bump=False,
            )
        for name in deprecated:
            self._drift_deprecated(version, name)
