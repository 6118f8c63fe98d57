"""Data subjects' requests a platform relays (access, erasure): who handles them.

A platform tells the connector that a customer asked the merchant for their
data, or to be erased (Shopify's mandatory compliance webhooks). Odoo answers
with what it holds as an activity of the backend's data-protection owner, an
attachment holding the data, on the customer (else on the backend). Erasure
itself is ``res.partner._retail_anonymize`` and the purges of
``retail_retention.py``.
"""

import json
from datetime import timedelta

from odoo import fields, models

from ..lib.errors import ValidationSyncError


class RetailBackend(models.Model):
    _name = "retail.backend"
    _inherit = ["retail.backend", "mail.activity.mixin"]

    data_protection_user_id = fields.Many2one(
        "res.users",
        "Data-protection owner",
        domain=[("share", "=", False)],
        help="Who answers customers' data requests and checks erasures the "
        "platform relays: they get an activity with what Odoo holds. Empty: "
        "the first Retail Connect manager of the backend's company.",
    )

    def _privacy_owner(self):
        """The user who handles the backend's data subject requests."""
        self.ensure_one()
        owner = self.data_protection_user_id
        if owner and owner.active:
            return owner
        managers = (
            self.env.ref("retail_connect_base.group_manager")
            .sudo()
            .users.filtered(
                lambda u: u.active and not u.share and self.company_id in u.company_ids
            )
            .sorted("id")
        )
        if not managers:
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s has no data-protection owner and no Retail "
                    "Connect manager: set a Data-protection owner on the backend "
                    "(Privacy), then retry the event.",
                    backend=self.name,
                )
            )
        return managers[0]

    def _privacy_request_activity(self, record, summary, note, filename, data, day):
        """Schedule the owner's activity on ``record`` (the customer, else the
        backend), due 30 days after ``day``, with ``data`` as a JSON file."""
        self.ensure_one()
        record = record or self
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": filename,
                    "raw": json.dumps(
                        data, indent=2, default=str, ensure_ascii=False
                    ).encode(),
                    "mimetype": "application/json",
                    "res_model": record._name,
                    "res_id": record.id,
                }
            )
        )
        activity = record.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=fields.Date.to_date(day) + timedelta(days=30),
            summary=summary,
            note=note,
            user_id=self._privacy_owner().id,
        )
        activity.attachment_ids = [(4, attachment.id)]
        return activity
