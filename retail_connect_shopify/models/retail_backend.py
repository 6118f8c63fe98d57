import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
)
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib import mappers
from ..lib.client import ShopifyClient
from ..lib.verifier import COMPLIANCE_TOPICS, ShopifyVerifier

_logger = logging.getLogger(__name__)

API_VERSION = "2026-10"
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_EDITED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    # a return's units come back through its reverse fulfillment orders'
    # dispositions (reverseFulfillmentOrderDispose, or returnProcess)
    "RETURNS_APPROVE",
    "RETURNS_PROCESS",
    "RETURNS_CLOSE",
    "REVERSE_FULFILLMENT_ORDERS_DISPOSE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "BULK_OPERATIONS_FINISH",
)
ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/edited",
    "orders/paid",
    "orders/cancelled",
)
IMPORT_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(
        selection_add=[("shopify", "Shopify")], ondelete={"shopify": "cascade"}
    )
    shopify_shop_domain = fields.Char(
        "Shop domain", help="acme.myshopify.com: checked on every webhook."
    )
    shopify_confirm_on = fields.Selection(
        [
            ("paid", "When paid"),
            ("authorized", "When authorized or paid"),
            ("always", "Always"),
        ],
        "Confirm orders",
        default="paid",
    )
    # the base's team of imported orders (retail_channel.py), under its old name
    shopify_team_id = fields.Many2one(
        related="sale_team_id", readonly=False, string="Sales team (Shopify)"
    )
    shopify_pricelist_id = fields.Many2one("product.pricelist", "Pricelist")
    shopify_shipping_product_id = fields.Many2one(
        "product.product",
        "Shipping product",
        domain=[("type", "=", "service")],
        help="Service product carrying the shipping lines of imported orders.",
    )
    shopify_location_ids = fields.One2many(
        "shopify.location", "backend_id", "Locations"
    )
    shopify_token_expires_at = fields.Datetime(readonly=True)
    shopify_webhooks_ok = fields.Boolean("Webhooks registered", readonly=True)

    # ------------------------------------------------------------- hooks
    @api.constrains("shopify_shop_domain")
    def _check_shopify_shop_domain(self):
        self._check_remote_account()

    def _platform_defaults(self):
        defaults = super()._platform_defaults()
        if self.platform == "shopify":
            defaults.update(
                api_version=API_VERSION,
                rate_limit_capacity=2000,
                rate_limit_per_second=100,
                webhook_replay_window=48 * 3600,
            )
        return defaults

    def _rate_limit_min_capacity(self):
        if self.platform == "shopify":
            # a single query costs at most 1,000 points
            # (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits)
            return 1000.0
        return super()._rate_limit_min_capacity()

    def _remote_account(self):
        if self.platform != "shopify":
            return super()._remote_account()
        domain = (self.shopify_shop_domain or "").strip().lower()
        domain = domain.removeprefix("https://").removeprefix("http://")
        return domain.rstrip("/") or False

    def _health_checks(self, stats):
        checks = super()._health_checks(stats)
        if self.platform != "shopify":
            return checks
        _ = self.env._
        if self.state in ("active", "error") and not self.shopify_webhooks_ok:
            checks.append(
                (
                    "warning",
                    _(
                        "Webhooks are not registered: orders arrive only by "
                        "polling, minutes late. Press Register webhooks."
                    ),
                )
            )
        inventory = self.policy_ids.filtered(lambda p: p.domain == "inventory")[:1]
        mapped = self.shopify_location_ids.filtered(
            lambda loc: loc.active and loc.warehouse_id
        )
        if inventory.direction in ("out", "both") and not mapped:
            checks.append(
                (
                    "warning",
                    _(
                        "Stock is published to no location: no Shopify location "
                        "is mapped to a warehouse. Press Fetch locations, then "
                        "pick a warehouse for each location on the Shopify tab "
                        "(or turn the Inventory policy off)."
                    ),
                )
            )
        return checks

    def _default_base_url(self):
        if self.platform == "shopify" and self.shopify_shop_domain:
            return f"https://{self.shopify_shop_domain}"
        return super()._default_base_url()

    def _production_host_patterns(self):
        if self.platform == "shopify":
            return ["*.myshopify.com"]
        return super()._production_host_patterns()

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform != "shopify":
            return policies
        shopify = {
            "order": {"direction": "in", "system_of_record": "platform"},
            "customer": {"direction": "in", "system_of_record": "platform"},
            "refund": {"direction": "in", "system_of_record": "platform"},
            "return": {"direction": "in", "system_of_record": "platform"},
            "product": {"direction": "out", "timing": "batch"},
            "inventory": {"direction": "out", "timing": "realtime"},
            "shipment": {"direction": "out", "timing": "realtime"},
        }
        for vals in policies:
            vals.update(shopify.get(vals["domain"], {}))
        return policies

    def _event_domain(self, topic):
        if self.platform != "shopify":
            return super()._event_domain(topic)
        if topic in COMPLIANCE_TOPICS:
            return False  # technical: legal obligations, whatever the policies
        if topic == "orders/payments":
            return "payment"
        prefix = topic.split("/")[0]
        return {
            "orders": "order",
            "refunds": "refund",
            "returns": "return",
            "reverse_fulfillment_orders": "return",
            "customers": "customer",
            "inventory_levels": "inventory",
            "fulfillments": "shipment",
        }.get(prefix, False)

    def _webhook_fields(self):
        return [*super()._webhook_fields(), "shopify_shop_domain"]

    def _get_webhook_verifier(self):
        if self.platform == "shopify":
            return ShopifyVerifier(self._webhook_secrets(), self.shopify_shop_domain)
        return super()._get_webhook_verifier()

    # ------------------------------------------------------------ client
    def _shopify_token(self):
        """The Admin API token: a fixed one, or a client-credentials grant.

        Dev Dashboard apps get 24 h tokens from the client-credentials grant;
        the token is kept (encrypted) until shortly before it expires.
        """
        self.ensure_one()
        token = self._get_secret("access_token")
        expires = self.shopify_token_expires_at
        if token and (not expires or expires > fields.Datetime.now()):
            return token
        if not (self.client_id and self._get_secret("client_secret")):
            raise UserError(
                self.env._(
                    "%(backend)s has no access token and no client credentials.",
                    backend=self.name,
                )
            )
        self._lock_external("shopify.token", self.id)
        client = self._http_client()
        response = client.request(
            "POST",
            "/admin/oauth/access_token",
            operation="oauth.client_credentials",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._get_secret("client_secret"),
            },
        )
        grant = response.json()
        self.sudo()._set_secret("access_token", grant["access_token"])
        lifetime = int(grant.get("expires_in") or 86400)
        self.shopify_token_expires_at = fields.Datetime.now() + timedelta(
            seconds=max(60, lifetime - 300)
        )
        return grant["access_token"]

    def _shopify_client(self):
        self.ensure_one()
        return self._http_client(
            ShopifyClient,
            api_version=self.api_version or API_VERSION,
            token=self._shopify_token(),
            on_api_notice=self._shopify_api_notice,
        )

    def _shopify_all_nodes(self, connection, document, parent_id, **page):
        """Every node of a nested ``connection`` whose first page came with
        its parent: the others read page after page through ``document``
        (a query of the parent by ``parent_id``), none when the first page is
        all. ``page``: ``operation``, ``path``, ``cost`` and ``first`` of
        ``document``'s pages."""
        connection = connection or {}
        nodes = list(connection.get("nodes") or [])
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage"):
            first = page.pop("first", 50)
            nodes += self._call_in_job(
                list,
                self._shopify_client().paginate(
                    document,
                    {"id": parent_id, "first": first},
                    after=info.get("endCursor"),
                    **page,
                ),
            )
        return nodes

    def _check_connection(self):
        if self.platform != "shopify":
            return super()._check_connection()
        shop = self._shopify_client().graphql(gql.SHOP, operation="Shop", cost=2)
        shop = shop.get("shop") or {}
        return self.env._(
            "Connected to %(name)s (%(domain)s, %(currency)s).",
            name=shop.get("name"),
            domain=shop.get("myshopifyDomain"),
            currency=shop.get("currencyCode"),
        )

    # ---------------------------------------------------------- webhooks
    def action_shopify_register_webhooks(self):
        """Create the missing webhook subscriptions (safe to run again)."""
        check_group(self.env)
        for backend in self:
            created = backend._shopify_ensure_webhooks()
            message = self.env._(
                "Webhooks checked: %(n)s subscription(s) created.", n=len(created)
            )
            backend._message_log(body=message)
        return self._notify(message, "success") if len(self) == 1 else True

    def _shopify_ensure_webhooks(self):
        self.ensure_one()
        client = self._shopify_client()
        existing = {
            (node["topic"], node.get("uri"))
            for node in client.paginate(
                gql.WEBHOOKS,
                {"first": 100},
                operation="Webhooks",
                path=("webhookSubscriptions",),
                cost=10,
            )
        }
        created = []
        for topic in WEBHOOK_TOPICS:
            if (topic, self.webhook_url) in existing:
                continue
            client.mutate(
                gql.WEBHOOK_CREATE,
                {"topic": topic, "sub": {"uri": self.webhook_url, "format": "JSON"}},
                operation="WebhookCreate",
                payload="webhookSubscriptionCreate",
            )
            created.append(topic)
        if created and self.shopify_webhooks_ok:
            self._shopify_webhooks_repaired(created)
        self.shopify_webhooks_ok = True
        return created

    def _shopify_webhooks_repaired(self, topics):
        """Subscriptions that were registered are gone: Shopify deletes one
        whose deliveries failed for 4 hours (8 retries), or someone deleted it.
        Say so, and read what was missed meanwhile by polling now."""
        self.message_post(
            body=self.env._(
                "Shopify had deleted %(n)s webhook subscription(s): %(topics)s. "
                "Shopify does so when its deliveries to Odoo fail for 4 hours "
                "(check that Odoo is reachable and that the app secret is the "
                "shop's). They are registered again; changes made meanwhile are "
                "read by polling now.",
                n=len(topics),
                topics=", ".join(topics),
            ),
            subtype_xmlid="mail.mt_note",
        )
        policies = self.policy_ids.filtered(
            lambda p: p._allows_import() and p.timing in ("batch", "hybrid")
        )
        for policy in policies:
            policy.with_delay(
                channel=self._channel("bulk"),
                identity_key=f"retail_poll_{policy.id}",
                description=f"Poll {policy.display_name} (webhooks repaired)",
            )._job_poll()

    @api.model
    def _cron_shopify_webhook_health(self):
        """Repair missing subscriptions of active Shopify backends."""
        for backend in self.search(
            [("platform", "=", "shopify"), ("state", "=", "active")]
        ):
            backend.with_delay(
                channel=backend._channel("bulk"),
                identity_key=f"shopify_webhooks_{backend.id}",
                description=f"{backend.name}: check webhooks",
            )._job_shopify_ensure_webhooks()

    def _job_shopify_ensure_webhooks(self):
        """Repair the subscriptions; a failure is an exception, not a lost job."""
        self.ensure_one()
        return self._run_outbound(
            False,
            "webhooks:register",
            lambda: f"{len(self._shopify_ensure_webhooks())} subscription(s) created",
        )

    # ------------------------------------------------------------ events
    def _event_batch_topics(self):
        if self.platform != "shopify":
            return super()._event_batch_topics()
        # order imports share jobs and confirmations (retail_event_batch.py)
        return (*ORDER_TOPICS, "orders/polled", "orders/backfill")

    def _process_event(self, event):
        if self.platform != "shopify":
            return super()._process_event(event)
        data = event._data()
        if event.topic == "orders/edited":
            # the body says what the edit changed; the order is read as it is now
            edit = data.get("order_edit") or {}
            gid = mappers.order_gid(edit["order_id"])
            return self._shopify_import_order(gid, event)
        if event.topic == "orders/payments":  # shopify_payment.py
            return self._shopify_book_payments(data["id"])
        if event.topic in ORDER_TOPICS or event.topic == "orders/polled":
            gid = data.get("admin_graphql_api_id") or mappers.order_gid(data["id"])
            return self._shopify_import_order(gid, event)
        if event.topic == "orders/backfill":
            # read by the bulk operation moments ago: no need to fetch it again
            return self._shopify_import_order(data["id"], event, order=data)
        if event.topic == "bulk_operations/finish":
            operation = data.get("admin_graphql_api_id")
            if operation and operation == self.shopify_bulk_id:
                self._shopify_schedule_check(operation, self.shopify_bulk_kind, 0, 0)
            return None
        if event.topic in COMPLIANCE_TOPICS:
            return self._shopify_compliance(event, data)
        if event.topic.startswith("customers/"):
            return self._shopify_customer(mappers.customer(data))
        if event.topic == "refunds/create":
            return self._shopify_import_refund(data)
        if event.topic.startswith("returns/") or event.topic.startswith(
            "reverse_fulfillment_orders/"
        ):
            return self._shopify_return_event(event, data)
        raise EventSkipped("skipped_policy", f"topic {event.topic} is not handled")

    def action_shopify_fetch_locations(self):
        check_group(self.env)
        for backend in self:
            self.env["shopify.location"]._fetch(backend)
        if len(self) != 1:
            return True
        locations = self.shopify_location_ids.filtered("active")
        return self._notify(
            self.env._(
                "%(count)s location(s) fetched, %(mapped)s mapped to a warehouse: "
                "pick a warehouse for each on the Shopify tab.",
                count=len(locations),
                mapped=len(locations.filtered("warehouse_id")),
            ),
            "success" if locations else "warning",
        )
