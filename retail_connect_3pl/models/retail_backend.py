"""The 3PL backend: settings, transport choice, webhooks, event dispatch.

The flows live in their own files: ``threepl_shipping_order.py`` (deliveries
out), ``threepl_shipping_advice.py`` (shipments in); the message record is
``threepl_message.py``, the setup checklist ``threepl_setup.py``.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.models.retail_backend import MASKED

from ..lib.rest import RestTransport, ThreeplClient
from ..lib.sftp import SftpTransport
from ..lib.verifier import SHIPPED_TOPICS, StandardWebhooksVerifier

PLATFORM = "threepl"
# ShipBob's date-versioned paths (https://developer.shipbob.com/2026-07/...)
API_VERSION = "2026-07"
DEFAULT_URL = "https://api.shipbob.com"
# the SFTP private key is a secret like the others (retail.secret), under
# this name; the base's SECRET_NAMES are the REST credentials
SFTP_KEY = "sftp_private_key"
# inbox files stored as events (topic "sftp.<type>")
SFTP_SHIPMENT_TOPICS = ("sftp.ack", "sftp.shipping_advice")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(
        selection_add=[(PLATFORM, "3PL warehouse")], ondelete={PLATFORM: "cascade"}
    )
    threepl_transport = fields.Selection(
        [("rest", "REST API"), ("sftp", "SFTP (CSV files)")],
        "Transport",
        default="rest",
        tracking=True,
        help="How messages travel: the 3PL's REST API (webhooks back), or CSV "
        "files in SFTP folders (docs/3pl-sftp-csv.md).",
    )
    threepl_channel_id = fields.Char(
        "3PL channel ID",
        tracking=True,
        help="The channel orders are created in (ShipBob: the shipbob_channel_id "
        "header of every call).",
    )
    threepl_warehouse_ids = fields.Many2many(
        "stock.warehouse",
        "retail_backend_threepl_warehouse_rel",
        "backend_id",
        "warehouse_id",
        "3PL-managed warehouses",
        help="Deliveries ready in these warehouses are sent to the 3PL as "
        "shipping orders; its code is the warehouse code the 3PL knows.",
    )
    threepl_sftp_host = fields.Char("SFTP host", tracking=True)
    threepl_sftp_port = fields.Integer("SFTP port", default=22, tracking=True)
    threepl_sftp_user = fields.Char("SFTP user", tracking=True)
    threepl_sftp_private_key = fields.Char(
        "SFTP private key",
        compute="_compute_threepl_sftp_private_key",
        inverse="_inverse_threepl_sftp_private_key",
        groups="retail_connect_base.group_manager",
        help="The private key (OpenSSH PEM) the connector logs in with; stored "
        "encrypted, never shown again.",
    )
    threepl_sftp_host_key = fields.Char(
        "Pinned host key",
        tracking=True,
        help='The server\'s public host key ("ssh-ed25519 AAAA..."): a server '
        "showing another key is refused.",
    )
    threepl_sftp_outbox = fields.Char("Outbox folder", default="outbox")
    threepl_sftp_inbox = fields.Char("Inbox folder", default="inbox")
    threepl_sftp_archive = fields.Char("Archive folder", default="archive")
    threepl_message_count = fields.Integer(compute="_compute_threepl_message_count")

    # ------------------------------------------------------------ computes
    def _compute_threepl_sftp_private_key(self):
        stored = self.env["retail.secret"].sudo()._names_set(self.ids)
        for backend in self:
            names = stored.get(backend.id, set())
            backend.threepl_sftp_private_key = MASKED if SFTP_KEY in names else False

    def _inverse_threepl_sftp_private_key(self):
        for backend in self:
            value = backend.threepl_sftp_private_key
            if value != MASKED:
                backend._set_secret(SFTP_KEY, value or False)
        self.invalidate_recordset(["threepl_sftp_private_key"])

    def _compute_threepl_message_count(self):
        counts = dict(
            self.env["threepl.message"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.threepl_message_count = counts.get(backend._origin, 0)

    # ------------------------------------------------------------- hooks
    def _platform_defaults(self):
        defaults = super()._platform_defaults()
        if self.platform == PLATFORM:
            # 150 requests per minute, sliding window
            # (https://developer.shipbob.com/2026-07/rate-limit)
            defaults.update(
                api_version=API_VERSION,
                rate_limit_capacity=150,
                rate_limit_per_second=2.5,
                # Standard Webhooks' reference libraries tolerate 5 minutes
                webhook_replay_window=300,
            )
        return defaults

    def _default_base_url(self):
        if self.platform == PLATFORM:
            return DEFAULT_URL
        return super()._default_base_url()

    def _production_host_patterns(self):
        if self.platform == PLATFORM:
            return ["api.shipbob.com"]
        return super()._production_host_patterns()

    def _sandbox_host_patterns(self):
        patterns = super()._sandbox_host_patterns()
        if self.platform == PLATFORM:
            patterns = [*patterns, "sandbox-api.shipbob.com"]
        return patterns

    def _remote_account(self):
        if self.platform != PLATFORM:
            return super()._remote_account()
        if self.threepl_transport == "sftp":
            host = (self.threepl_sftp_host or "").strip().lower()
            user = (self.threepl_sftp_user or "").strip()
            return f"{user}@{host}" if host and user else False
        return (self.threepl_channel_id or "").strip() or False

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform != PLATFORM:
            return policies
        threepl = {
            # shipping orders out, shipping advice in; Odoo owns the order
            "shipment": {"direction": "both", "system_of_record": "odoo"},
            # counts come in and are reconciled, never applied blindly
            "inventory": {"direction": "in", "system_of_record": "odoo"},
            "return": {"direction": "in", "system_of_record": "odoo"},
        }
        for vals in policies:
            vals.update(threepl.get(vals["domain"], {}))
        return policies

    def _event_domain(self, topic):
        if self.platform != PLATFORM:
            return super()._event_domain(topic)
        if topic in SFTP_SHIPMENT_TOPICS:
            return "shipment"
        if topic.startswith("order."):
            return "shipment"
        if topic.startswith("return."):
            return "return"
        return False

    def _get_webhook_verifier(self):
        if self.platform == PLATFORM:
            return StandardWebhooksVerifier(self._webhook_secrets())
        return super()._get_webhook_verifier()

    def _process_event(self, event):
        if self.platform != PLATFORM:
            return super()._process_event(event)
        if event.topic in SHIPPED_TOPICS:
            return self._threepl_receive_shipping_advice(event)
        if event.topic == "sftp.shipping_advice":
            return self._threepl_apply_advice(event._data(), event=event)
        if event.topic == "sftp.ack":
            return self._threepl_apply_ack(event._data())
        raise EventSkipped("skipped_policy", f"topic {event.topic} is not handled")

    def _check_connection(self):
        if self.platform != PLATFORM:
            return super()._check_connection()
        if self.threepl_transport == "sftp":
            transport = self._threepl_transport()
            try:
                files = transport.inbox_files()
            finally:
                transport.close()
            return self.env._(
                "Connected to %(host)s (host key as pinned): %(count)s file(s) "
                "waiting in the inbox.",
                host=self.threepl_sftp_host,
                count=len(files),
            )
        client = self._threepl_client()
        channels = list(client.list_all("channel", operation="channel.list"))
        channel = next(
            (c for c in channels if str(c.get("id")) == self.threepl_channel_id),
            None,
        )
        if not channel:
            raise UserError(
                self.env._(
                    "The token works, but its channels are %(channels)s, not "
                    "%(channel)s: set the 3PL channel ID to one of them.",
                    channels=", ".join(
                        f"{c.get('id')} ({c.get('name')})" for c in channels
                    )
                    or "none",
                    channel=self.threepl_channel_id or "-",
                )
            )
        return self.env._(
            "Connected to the 3PL (API %(version)s), channel %(name)s.",
            version=self.api_version,
            name=channel.get("name") or channel.get("id"),
        )

    # ------------------------------------------------------------ helpers

    @api.model
    def _threepl_backends_for(self, warehouse):
        """The active 3PL backends running ``warehouse``."""
        return (
            self.sudo()
            .search([("platform", "=", PLATFORM), ("state", "=", "active")])
            .filtered(lambda b: warehouse in b.threepl_warehouse_ids)
        )

    def _threepl_token(self):
        self.ensure_one()
        token = self._get_secret("access_token")
        if not token:
            raise UserError(
                self.env._("%(backend)s has no API token.", backend=self.name)
            )
        return token

    # ----------------------------------------------------------- transport
    def _threepl_transport(self):
        """The backend's transport: REST or SFTP; calls are refused as for
        any platform call (draft or paused backend, copied database)."""
        self.ensure_one()
        if self.threepl_transport == "rest":
            return RestTransport(self._threepl_client())
        self._assert_can_call(
            check_state=not self.env.context.get("retail_connect_connection_test")
        )
        key = self._get_secret(SFTP_KEY)
        if not (self.threepl_sftp_host and self.threepl_sftp_user and key):
            raise ValidationSyncError(
                self.env._(
                    "%(backend)s: set the SFTP host, user and private key.",
                    backend=self.name,
                )
            )
        return SftpTransport(
            host=self.threepl_sftp_host,
            port=self.threepl_sftp_port,
            user=self.threepl_sftp_user,
            private_key=key,
            host_key=self.threepl_sftp_host_key,
            folders=(
                self.threepl_sftp_outbox or "outbox",
                self.threepl_sftp_inbox or "inbox",
                self.threepl_sftp_archive or "archive",
            ),
        )

    def _threepl_client(self):
        self.ensure_one()
        return self._http_client(
            ThreeplClient,
            api_version=self.api_version or "2026-07",
            token=self._threepl_token(),
            channel_id=self.threepl_channel_id,
        )
