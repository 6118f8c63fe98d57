"""The 3PL's contract (issue 13): shipment webhooks checked against the
shipped schema; ShipBob's API versions and their end of support."""

import os
from datetime import date

from odoo import api, models

from ..lib.verifier import SHIPPED_TOPICS
from .retail_backend import PLATFORM

CONTRACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "contracts")
# "Each version will be supported for 24 months from its release date"
# (https://developer.shipbob.com/versioning, "Version Lifecycle")
SUPPORT_ENDS = {
    "2025-07": date(2027, 7, 31),
    "2026-01": date(2028, 1, 31),
    "2026-07": date(2028, 7, 31),
}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    @api.depends("platform", "api_version", "threepl_transport")
    def _compute_api_support(self):
        # an SFTP transport has no API version: the form follows the switch
        return super()._compute_api_support()

    def _api_version_info(self, version):
        if self.platform != PLATFORM:
            return super()._api_version_info(version)
        if self.threepl_transport == "sftp":
            return {}  # files on a server: no API version
        until = SUPPORT_ENDS.get(version)
        if not until:
            return {}
        return {
            "support_end": until,
            "note": self.env._(
                "24 months from its release (developer.shipbob.com/versioning)"
            ),
            "change": self.env._(
                "pin the next version on the backend once the connector supports "
                "it: follow ShipBob's upgrade guide for each version in between "
                "(developer.shipbob.com/versioning), adapt lib/rest.py and the "
                "mappers, and regenerate the contract (tools/contract_schemas.py)."
            ),
        }

    def _contract_dir(self):
        if self.platform != PLATFORM:
            return super()._contract_dir()
        return CONTRACTS

    def _contract_payload(self, event):
        if self.platform != PLATFORM:
            return super()._contract_payload(event)
        if event.topic in SHIPPED_TOPICS:
            return "shipment", event._data()
        return None
