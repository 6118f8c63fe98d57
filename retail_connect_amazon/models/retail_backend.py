"""The Amazon backend: one seller account in one SP-API region.

Settings (region, seller, LWA credentials, marketplaces, FBA warehouse,
customer strategy), the LWA token kept until it expires, the SP-API client
limited per operation on the base's buckets, and the connection check. The
flows live in their own files: ``amazon_order_import.py`` (orders in),
``amazon_shipment.py`` (shipments out).
"""

from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.lib.errors import AuthError

from ..lib.catalog import ENDPOINTS, LWA_URL, ORDERS_VERSION, USAGE_PLANS
from ..lib.client import AmazonClient, LwaClient

REFRESH_TOKEN = "amazon_refresh_token"
ACCESS_TOKEN = "amazon_access_token"
MASKED = "••••••••"
# an access token is renewed this long before Amazon says it expires
TOKEN_MARGIN = 300


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(
        selection_add=[("amazon", "Amazon")], ondelete={"amazon": "cascade"}
    )
    amazon_region = fields.Selection(
        [("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
        "Amazon region",
        default="eu",
        help="The SP-API endpoint of the seller's marketplaces "
        "(sellingpartnerapi-na|eu|fe.amazon.com); Base URL overrides it.",
    )
    amazon_seller_id = fields.Char(
        "Seller ID", help="The merchant token (Seller Central › Account info)."
    )
    amazon_lwa_url = fields.Char(
        "LWA token URL",
        help="Login with Amazon token endpoint; empty: " + LWA_URL,
    )
    amazon_refresh_token = fields.Char(
        "LWA refresh token",
        compute="_compute_amazon_secrets",
        inverse="_inverse_amazon_refresh_token",
        groups="retail_connect_base.group_manager",
        help="Given when the seller authorizes the app (Atzr|...). Write-only.",
    )
    amazon_token_expires_at = fields.Datetime("Access token until", readonly=True)
    amazon_marketplace_ids = fields.One2many(
        "amazon.marketplace", "backend_id", "Marketplaces"
    )
    amazon_fba_warehouse_id = fields.Many2one(
        "stock.warehouse",
        "FBA warehouse",
        help="The stock Amazon holds for the seller (Fulfilled by Amazon): FBA "
        "orders take their goods from it, and Odoo ships nothing for them.",
    )
    amazon_customer_strategy = fields.Selection(
        [
            ("buyer", "One customer per buyer"),
            ("marketplace", "One customer per marketplace"),
        ],
        "Customers",
        default="buyer",
        required=True,
        help="One customer per buyer, with each delivery address as its "
        "contact; or one customer per marketplace (the buyers' addresses as its "
        "delivery contacts), for sellers who invoice Amazon sales in bulk.",
    )
    amazon_shipping_product_id = fields.Many2one(
        "product.product",
        "Amazon shipping product",
        domain=[("type", "=", "service")],
        help="Service product of the shipping Amazon charged the buyer.",
    )
    amazon_tax_product_id = fields.Many2one(
        "product.product",
        "Amazon tax product",
        domain=[("type", "=", "service")],
        help="Service product of the tax Amazon computed and collected: the "
        "order keeps Amazon's amounts to the cent.",
    )
    amazon_other_product_id = fields.Many2one(
        "product.product",
        "Amazon other charges product",
        domain=[("type", "=", "service")],
        help="Service product of gift wrap, discounts and other charges.",
    )

    # ----------------------------------------------------------- secrets
    def _compute_amazon_secrets(self):
        stored = self.env["retail.secret"].sudo()._names_set(self.ids)
        for backend in self:
            names = stored.get(backend.id, set())
            backend.amazon_refresh_token = MASKED if REFRESH_TOKEN in names else False

    def _inverse_amazon_refresh_token(self):
        for backend in self:
            value = backend.amazon_refresh_token
            if value == MASKED:
                continue
            backend._set_secret(REFRESH_TOKEN, value or False)
            # a token of the previous grant must not outlive it
            backend._amazon_forget_token()
        self.invalidate_recordset(["amazon_refresh_token"])

    # ------------------------------------------------------------- hooks
    def _platform_defaults(self):
        defaults = super()._platform_defaults()
        if self.platform == "amazon":
            # calls are limited per operation (USAGE_PLANS); the backend's
            # own bucket only limits an operation without a known plan
            defaults.update(
                api_version=ORDERS_VERSION,
                rate_limit_capacity=10,
                rate_limit_per_second=0.5,
            )
        return defaults

    def _remote_account(self):
        if self.platform != "amazon":
            return super()._remote_account()
        seller = (self.amazon_seller_id or "").strip().upper()
        return f"{self.amazon_region}:{seller}" if seller else False

    @api.constrains("amazon_seller_id", "amazon_region")
    def _check_amazon_seller(self):
        self._check_remote_account()

    def _default_base_url(self):
        if self.platform == "amazon":
            return ENDPOINTS.get(self.amazon_region or "eu")
        return super()._default_base_url()

    def _production_host_patterns(self):
        if self.platform == "amazon":
            return ["sellingpartnerapi-*.amazon.com"]
        return super()._production_host_patterns()

    def _is_marketplace(self):
        # others sell there too: the integration map wants a safety stock
        return self.platform == "amazon" or super()._is_marketplace()

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform != "amazon":
            return policies
        # Amazon recommends polling searchOrders (0.0056 calls/s: one call
        # every 3 minutes, the burst of 20 covers the pages)
        amazon = {
            "order": {
                "direction": "in",
                "system_of_record": "platform",
                "timing": "batch",
                "interval_minutes": 5,
                "overlap_minutes": 10,
                "latency_objective_minutes": 15,
            },
            "customer": {"direction": "in", "system_of_record": "platform"},
            "shipment": {"direction": "out", "timing": "realtime"},
            # merchant-fulfilled listings get Odoo's free stock (amazon.listing)
            "inventory": {"direction": "out", "timing": "realtime"},
        }
        for vals in policies:
            vals.update(amazon.get(vals["domain"], {}))
        return policies

    def _event_domain(self, topic):
        if self.platform != "amazon":
            return super()._event_domain(topic)
        return "order" if topic.startswith("order/") else False

    def _health_checks(self, stats):
        checks = super()._health_checks(stats)
        if self.platform != "amazon":
            return checks
        _ = self.env._
        if not self.amazon_marketplace_ids.filtered("active"):
            checks.append(
                (
                    "error",
                    _(
                        "No active marketplace: orders of no marketplace are "
                        "imported. Add the seller's marketplaces on the Amazon "
                        "tab."
                    ),
                )
            )
        return checks

    # ------------------------------------------------------------ client
    def _amazon_lwa_url(self):
        return self.amazon_lwa_url or LWA_URL

    def _amazon_forget_token(self):
        self.env["retail.secret"].sudo()._write_secret(self.id, ACCESS_TOKEN, False)
        self.sudo().amazon_token_expires_at = False

    def _amazon_access_token(self, renew=False):
        """The LWA access token, kept (encrypted) until shortly before it
        expires; ``renew``: Amazon refused the one kept, get another."""
        self.ensure_one()
        secrets = self.env["retail.secret"].sudo()
        token = secrets._read_secret(self.id, ACCESS_TOKEN)
        expires = self.amazon_token_expires_at
        if token and not renew and expires and expires > fields.Datetime.now():
            return token
        refresh = self._get_secret(REFRESH_TOKEN)
        client_secret = self._get_secret("client_secret")
        if not (self.client_id and client_secret and refresh):
            raise AuthError(
                self.env._(
                    "%(backend)s lacks its LWA credentials: set the client ID, "
                    "the client secret and the refresh token on the backend.",
                    backend=self.name,
                )
            )
        # one grant at a time: concurrent jobs wait and reuse it
        self._lock_external("amazon.token", self.id)
        url = self._amazon_lwa_url()
        self._assert_host_matches_environment(url)
        parts = urlsplit(url)
        client = LwaClient(
            f"{parts.scheme}://{parts.netloc}",
            on_exchange=self._log_exchange,
            attempt=self._job_attempt(),
        )
        token, lifetime = client.grant(
            parts.path or "/auth/o2/token", self.client_id, client_secret, refresh
        )
        secrets._write_secret(self.id, ACCESS_TOKEN, token)
        self.sudo().amazon_token_expires_at = fields.Datetime.now() + timedelta(
            seconds=max(60, lifetime - TOKEN_MARGIN)
        )
        return token

    def _amazon_client(self):
        self.ensure_one()
        if self.platform != "amazon":
            raise UserError(self.env._("%(name)s is not Amazon.", name=self.name))
        # the guards (state, copied database, host) before any token is sent
        self._assert_can_call(
            check_state=not self.env.context.get("retail_connect_connection_test")
        )
        return self._http_client(
            AmazonClient,
            token=self._amazon_access_token(),
            renew_token=lambda: self._amazon_access_token(renew=True),
            operation_limiter=self._amazon_take_token,
            operation_budget=self._amazon_observe_budget,
        )

    def _amazon_take_token(self, operation, cost=1.0):
        """Take from the operation's own bucket (Amazon's usage plan)."""
        plan = USAGE_PLANS.get(operation)
        if not plan:
            return self._take_token(cost)
        rate, burst = plan
        return self._take_token(cost, f"sp-api:{operation}", burst, rate)

    def _amazon_observe_budget(self, operation, available=None, rate=None):
        plan = USAGE_PLANS.get(operation)
        if not plan:
            return
        self.env["retail.throttle.bucket"]._observe(
            self,
            f"sp-api:{operation}",
            available,
            plan[1],
            plan[0],
            learned_rate=rate,
        )

    def _amazon_marketplace_param(self):
        return ",".join(self.amazon_marketplace_ids.filtered("active").mapped("code"))

    def _check_connection(self):
        if self.platform != "amazon":
            return super()._check_connection()
        if not self.amazon_seller_id:
            raise UserError(self.env._("Set the seller ID first."))
        marketplaces = self._amazon_marketplace_param()
        if not marketplaces:
            raise UserError(
                self.env._("Add the seller's marketplaces on the Amazon tab first.")
            )
        client = self._amazon_client()
        # one page of one order: proves the token, the Orders role and the
        # marketplace ids (searchOrders is the call the import makes)
        since = fields.Datetime.now() - timedelta(days=1)
        client.call(
            "GET",
            "/orders/2026-01-01/orders",
            operation="searchOrders",
            params={
                "lastUpdatedAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "marketplaceIds": marketplaces,
                "maxResultsPerPage": 1,
            },
        )
        return self.env._(
            "Connected to Amazon (%(region)s) as seller %(seller)s: Login with "
            "Amazon gave an access token and the Orders API answered for "
            "%(marketplaces)s.",
            region=dict(self._fields["amazon_region"].selection).get(
                self.amazon_region
            ),
            seller=self.amazon_seller_id,
            marketplaces=marketplaces,
        )
