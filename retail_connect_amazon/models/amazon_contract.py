"""SP-API's contract (issue 13): polled orders and ORDER_CHANGE notifications
checked against the shipped schemas; the Orders API versions' end of support."""

import os
from datetime import date

from odoo import models

from ..lib.notifications import TOPIC as NOTIFICATION_TOPIC
from .amazon_order_import import TOPIC as ORDER_TOPIC

CONTRACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "contracts")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _api_version_info(self, version):
        if self.platform != "amazon":
            return super()._api_version_info(version)
        _ = self.env._
        if version == "v0":
            # Orders API v0 getOrders/getOrder/getOrderItems are deprecated:
            # "migrate by 2027-03-27" (docs/PLATFORMS.md section 0, SP-API
            # deprecation schedule)
            return {
                "support_end": date(2027, 3, 27),
                "note": _("deprecated: migrate by 2027-03-27 (SP-API deprecations)"),
                "change": _(
                    "move order reading to the Orders API 2026-01-01 (searchOrders, "
                    "getOrder: pin 2026-01-01 on the backend); confirmShipment "
                    "stays in v0."
                ),
            }
        if version == "2026-01-01":
            return {
                "support_end": None,
                "note": _("current Orders API: no deprecation announced"),
            }
        return {}

    def _contract_dir(self):
        if self.platform != "amazon":
            return super()._contract_dir()
        return CONTRACTS

    def _contract_payload(self, event):
        if self.platform != "amazon":
            return super()._contract_payload(event)
        if event.topic == ORDER_TOPIC:
            return "order", event._data()
        if event.topic == NOTIFICATION_TOPIC:
            data = event._data()
            detail = data.get("detail")  # EventBridge wraps the envelope
            if isinstance(detail, dict) and "NotificationType" in detail:
                data = detail
            if data.get("NotificationType") == "ORDER_CHANGE":
                return "order_change", data
        return None
