"""The 3PL's steps of the setup checklist, and its webhook subscription."""

from odoo import api, fields, models

from odoo.addons.retail_connect_base.lib.errors import RemoteError
from odoo.addons.retail_connect_base.models.common import check_group
from odoo.addons.retail_connect_base.models.retail_backend_setup import DONE, TODO

from ..lib.verifier import TOPICS
from .retail_backend import PLATFORM, SFTP_KEY


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    threepl_webhook_subscription = fields.Char(
        "Webhook subscription", readonly=True, copy=False
    )

    @api.depends(
        "threepl_transport",
        "threepl_channel_id",
        "threepl_warehouse_ids",
        "threepl_webhook_subscription",
        "threepl_sftp_host",
        "threepl_sftp_user",
        "threepl_sftp_host_key",
    )
    def _compute_setup(self):
        return super()._compute_setup()

    def _platform_unused_fields(self):
        unused = super()._platform_unused_fields()
        if self.platform == PLATFORM:
            # a bearer token (access_token) and the channel; no key, no client
            unused |= {"api_key", "client_secret", "client_id"}
        return unused

    def _setup_missing_credentials(self):
        if self.platform != PLATFORM:
            return super()._setup_missing_credentials()
        _ = self.env._
        stored = (
            self.env["retail.secret"].sudo()._names_set(self.ids).get(self.id, set())
        )
        missing = []
        if self.threepl_transport == "sftp":
            for label, value in (
                (_("SFTP host"), self.threepl_sftp_host),
                (_("SFTP user"), self.threepl_sftp_user),
                (_("Pinned host key"), self.threepl_sftp_host_key),
            ):
                if not value:
                    missing.append(label)
            if SFTP_KEY not in stored:
                missing.append(_("SFTP private key"))
            return missing
        if "access_token" not in stored:
            missing.append(_("API token"))
        if not self.threepl_channel_id:
            missing.append(_("3PL channel ID"))
        return missing

    def _setup_steps(self):
        steps = super()._setup_steps()
        if self.platform != PLATFORM:
            return steps
        steps.append(self._threepl_setup_warehouses())
        if self.threepl_transport == "rest":
            steps.append(self._threepl_setup_webhooks())
        return steps

    def _threepl_setup_warehouses(self):
        _ = self.env._
        step = {"key": "warehouses", "sequence": 35, "name": _("3PL warehouses")}
        if not self.threepl_warehouse_ids:
            return dict(
                step,
                state=TODO,
                result=_(
                    "Choose the warehouses the 3PL runs (3PL tab): their "
                    "deliveries are sent to it"
                ),
            )
        return dict(
            step,
            state=DONE,
            result=", ".join(self.threepl_warehouse_ids.mapped("display_name")),
        )

    def _threepl_setup_webhooks(self):
        _ = self.env._
        step = {
            "key": "webhooks",
            "sequence": 40,
            "name": _("Webhooks subscribed"),
            "button": "action_threepl_register_webhook",
            "button_label": _("Subscribe"),
        }
        if blocked := self._setup_blocked_until_active(step):
            return blocked
        if self.threepl_webhook_subscription:
            return dict(
                step,
                state=DONE,
                button_label=_("Subscribe again"),
                result=_(
                    "Subscription %(id)s: the 3PL sends shipments to %(url)s",
                    id=self.threepl_webhook_subscription,
                    url=self.webhook_url,
                ),
            )
        return dict(
            step,
            state=TODO,
            result=_("Not subscribed: shipments are not reported to Odoo"),
        )

    # ------------------------------------------------------------ action
    def action_threepl_register_webhook(self):
        """Subscribe the shipment topics; the new secret signs from now on."""
        check_group(self.env)
        for backend in self:
            backend._threepl_register_webhook()
        return True

    def _threepl_register_webhook(self):
        self.ensure_one()
        client = self._threepl_client()
        answer = client.post(
            "webhook",
            {
                "topics": sorted(TOPICS),
                "url": self.webhook_url,
                "description": f"Odoo {self.name}",
            },
            operation="webhook.create",
        ).json()
        previous = self.threepl_webhook_subscription
        self.threepl_webhook_subscription = str(answer["id"])
        if answer.get("secret"):
            # the previous secret stays valid for the grace period
            self.sudo()._rotate_webhook_secret(answer["secret"])
        if previous:
            try:
                client.request(
                    "DELETE",
                    client.path(f"webhook/{previous}"),
                    operation="webhook.delete",
                )
            except RemoteError as err:
                if err.status != 404:
                    raise
        self._message_log(
            body=self.env._("Webhook subscription %(id)s created.", id=answer["id"])
        )
        return answer["id"]
