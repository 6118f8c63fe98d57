"""What Shopify says about the API version it served and the deprecated
fields the connector used (issue 7, point 16)."""

import re
from datetime import date

from odoo import fields, models

from odoo.addons.retail_connect_base.models.retail_sync_policy import TECHNICAL

VERSION = re.compile(r"^(\d{4})-(\d{2})$")


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

    def _shopify_api_notice(self, served, deprecated):
        """Record the version served; open one exception per deprecated field
        used (once: an open one is not bumped on every call)."""
        self.ensure_one()
        if served and served != self.shopify_served_version:
            self.sudo().shopify_served_version = served
        version = served or self.api_version
        until = supported_until(version)
        Exception_ = self.env["retail.sync.exception"].sudo()
        for name in deprecated:
            subject = f"deprecated:{name}"
            if Exception_.search_count(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", subject),
                    ("state", "in", ("new", "in_progress")),
                ],
                limit=1,
            ):
                continue
            message = self.env._(
                "Shopify API %(version)s reports the deprecated field %(field)s: "
                "the connector must move to its replacement before %(version)s "
                "leaves support (%(until)s at the earliest).",
                version=version,
                field=name,
                until=until.isoformat() if until else "?",
            )
            Exception_._open_or_bump(
                self,
                domain=TECHNICAL,
                category="remote",
                message=message,
                subject_key=subject,
                fix={"field": name, "api_version": version},
            )
