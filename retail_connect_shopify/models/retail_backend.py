import json
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    EventSkipped,
    MappingError,
    RemoteError,
    ValidationSyncError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery
from odoo.addons.retail_connect_base.models.common import check_group

from ..lib import documents as gql
from ..lib import mappers
from ..lib.client import ShopifyClient
from ..lib.verifier import ShopifyVerifier

_logger = logging.getLogger(__name__)

API_VERSION = "2026-10"
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "BULK_OPERATIONS_FINISH",
)
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
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
    shopify_team_id = fields.Many2one(related="sale_team_id", readonly=False)
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
        prefix = topic.split("/")[0]
        return {
            "orders": "order",
            "refunds": "refund",
            "customers": "customer",
            "inventory_levels": "inventory",
            "fulfillments": "shipment",
        }.get(prefix, False)

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
        )

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
            backend._message_log(
                body=self.env._(
                    "Webhooks checked: %(n)s subscription(s) created.", n=len(created)
                )
            )
        return True

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
        self.shopify_webhooks_ok = True
        return created

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
    def _process_event(self, event):
        if self.platform != "shopify":
            return super()._process_event(event)
        data = event._data()
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
        if event.topic.startswith("customers/"):
            return self._shopify_customer(mappers.customer(data))
        if event.topic == "refunds/create":
            return self._shopify_import_refund(data)
        raise EventSkipped("skipped_policy", f"topic {event.topic} is not handled")

    def _poll(self, policy, since, until):
        if self.platform != "shopify":
            return super()._poll(policy, since, until)
        if policy.domain != "order":
            return []
        deliveries = []
        for node in self._shopify_client().paginate(
            gql.SYNC_ORDERS,
            {"first": 100, "q": f"updated_at:>='{since.isoformat()}Z'"},
            operation="SyncOrders",
            path=("orders",),
            cost=50,
        ):
            numeric = mappers.numeric_id(node["id"])
            deliveries.append(
                Delivery(
                    topic="orders/polled",
                    dedup_key=f"poll:{node['id']}:{node['updatedAt']}",
                    payload=json.dumps(
                        {
                            "id": int(numeric),
                            "admin_graphql_api_id": node["id"],
                            "updated_at": node["updatedAt"],
                        }
                    ).encode(),
                    subject_key=f"order:{numeric}",
                    remote_updated_at=mappers.parse_time(node["updatedAt"]),
                )
            )
        return deliveries

    # ------------------------------------------------------------ orders
    def _shopify_import_order(self, gid, event=None, order=None):
        """Create or update the sale order of a Shopify order (idempotent).

        The webhook only says *which* order changed: its current state is read
        from Shopify, under a lock on the order id, so duplicates, reorders and
        concurrent deliveries all end in one correct sale order.
        """
        self.ensure_one()
        bindings = self.env["retail.binding"]
        self._lock_external("sale.order", gid)
        binding = bindings._lookup(self, "sale.order", gid)
        hinted = event.remote_updated_at if event else None
        if binding and hinted and binding.remote_updated_at:
            # timestamps have one-second precision: only strictly older is stale
            if mappers.naive_utc(hinted) < binding.remote_updated_at:
                raise EventSkipped(
                    "skipped_stale",
                    f"{binding.external_ref}: Odoo already has the change of "
                    f"{binding.remote_updated_at}",
                )
        if order is None:
            order = (
                self._shopify_client()
                .graphql(gql.ORDER_BY_ID, {"id": gid}, operation="OrderById", cost=550)
                .get("order")
            )
        if not order:
            raise RemoteError(f"Shopify has no order {gid}")
        updated = mappers.naive_utc(order["updatedAt"])
        if binding and binding._is_stale(updated):
            raise EventSkipped("skipped_stale", f"{order['name']} changed since")
        sale = binding._record() if binding else None
        if sale:
            self._shopify_update_order(sale, order)
        else:
            if order.get("cancelledAt"):
                raise EventSkipped(
                    "skipped_policy", f"{order['name']} was cancelled before import"
                )
            sale = self._shopify_create_order(order)
        bindings._bind(
            self,
            sale,
            gid,
            external_ref=order["name"],
            remote_updated_at=updated,
            payload_digest=bindings._digest(order),
        )
        # shown on the order: the status Shopify reports (base: retail_channel.py)
        sale._retail_channel_status(
            order.get("displayFinancialStatus"), order.get("displayFulfillmentStatus")
        )
        return sale

    def _shopify_create_order(self, order):
        subject = f"order:{mappers.numeric_id(order['id'])}"
        if ((order.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
            raise ValidationSyncError(
                f"{order['name']} has more than 50 lines: import it by hand.",
                subject_key=subject,
            )
        partner, invoice, delivery = self._shopify_partners(order)
        pricelist = self._shopify_pricelist(order["currencyCode"], order, subject)
        lines = []
        for line in mappers.order_lines(order):
            product = self._shopify_product(line, order, subject)
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "name": line["title"],
                        "product_uom_qty": line["quantity"],
                        "price_unit": line["price_unit"],
                        "discount": line["discount"],
                        "tax_id": [(6, 0, self._shopify_taxes(line, order, subject))],
                    },
                )
            )
        for ship in mappers.shipping_lines(order):
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": self._shopify_shipping_product().id,
                        "name": ship["title"],
                        "product_uom_qty": 1,
                        "price_unit": ship["price_unit"],
                        "tax_id": [(6, 0, self._shopify_taxes(ship, order, subject))],
                    },
                )
            )
        values = {
            "partner_id": partner.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": self.company_id.id,
            "client_order_ref": order["name"],
            "origin": f"Shopify {order['name']}",
            "date_order": mappers.naive_utc(order["createdAt"]),
            "pricelist_id": pricelist.id if pricelist else False,
            "team_id": self.shopify_team_id.id or False,
            "note": order.get("note") or False,
            "order_line": lines,
        }
        warehouse = self.shopify_location_ids.filtered("warehouse_id")[:1].warehouse_id
        if warehouse:
            values["warehouse_id"] = warehouse.id
        sale = self.env["sale.order"].with_context(**IMPORT_CONTEXT).create(values)
        if sale.currency_id.name != order["currencyCode"]:
            raise MappingError(
                f"{order['name']} is in {order['currencyCode']}, Odoo would book "
                f"it in {sale.currency_id.name}: set a pricelist in "
                f"{order['currencyCode']} on the backend, then retry.",
                subject_key=subject,
                fix={"currency": order["currencyCode"]},
            )
        self._shopify_check_total(sale, order, subject)
        for line, sale_line in zip(
            mappers.order_lines(order), sale.order_line, strict=False
        ):
            self.env["retail.binding"]._bind(
                self, sale_line, line["line_id"], external_ref=line["sku"]
            )
        if mappers.should_confirm(
            self.shopify_confirm_on, order.get("displayFinancialStatus")
        ):
            sale.with_context(**IMPORT_CONTEXT).action_confirm()
        return sale

    def _shopify_update_order(self, sale, order):
        if order.get("cancelledAt") and sale.state != "cancel":
            shipped = sale.picking_ids.filtered(
                lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            )
            if shipped:
                raise ConflictError(
                    f"{order['name']} was cancelled on Shopify but "
                    f"{', '.join(shipped.mapped('name'))} already shipped: refund "
                    "or return it by hand.",
                    subject_key=f"order:{mappers.numeric_id(order['id'])}",
                )
            sale.with_context(**IMPORT_CONTEXT)._action_cancel()
            return
        if sale.state in ("draft", "sent") and mappers.should_confirm(
            self.shopify_confirm_on, order.get("displayFinancialStatus")
        ):
            sale.with_context(**IMPORT_CONTEXT).action_confirm()

    def _shopify_check_total(self, sale, order, subject):
        """Odoo's total must be Shopify's; a cent of rounding is absorbed."""
        expected = mappers.money(order.get("currentTotalPriceSet"))
        diff = round(expected - sale.amount_total, 2)
        if not diff:
            return
        if abs(diff) <= 0.05:
            sale.with_context(**IMPORT_CONTEXT).write(
                {
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self._shopify_shipping_product().id,
                                "name": self.env._("Rounding (Shopify total)"),
                                "product_uom_qty": 1,
                                "price_unit": diff,
                                "tax_id": [(5,)],
                            },
                        )
                    ]
                }
            )
            return
        raise ConflictError(
            f"{order['name']}: Odoo computes {sale.amount_total:.2f} but Shopify "
            f"charged {expected:.2f}: check the tax mapping of this shop.",
            subject_key=subject,
        )

    def _shopify_pricelist(self, code, order, subject):
        """A pricelist in the order's currency ``code``; none for the company's
        currency without one. Never another currency: its amounts would be
        booked as if they were in it. Missing, a mapping exception says what
        to create."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        pricelist = self.shopify_pricelist_id
        if currency.active:
            if pricelist.currency_id == currency:
                return pricelist
            found = self.env["product.pricelist"].search(
                [
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
            if found or currency == self.company_id.currency_id:
                return found
        todo = f"create a pricelist in {code} (Sales › Products › Pricelists)"
        if not currency.active:
            todo = (
                f"activate the currency {code} (Accounting › Configuration › "
                f"Currencies), then {todo}"
            )
        raise MappingError(
            f"{order['name']} is in {code} and Odoo has no pricelist in {code}: "
            f"{todo}, or set one on the backend, then retry.",
            subject_key=subject,
            fix={"currency": code},
        )

    def _shopify_product(self, line, order, subject):
        bindings = self.env["retail.binding"]
        if line["variant_id"]:
            binding = bindings._lookup(self, "product.product", line["variant_id"])
            if binding and binding._record():
                return binding._record()
        product = self.env["product.product"]
        if line["sku"]:
            product = product.search(
                [
                    ("default_code", "=", line["sku"]),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
        if not product:
            raise MappingError(
                f"{order['name']}: unknown SKU {line['sku'] or '(none)'} "
                f"({line['title']}): map it to a product, then retry.",
                subject_key=subject,
                fix={"sku": line["sku"], "variant_id": line["variant_id"]},
            )
        if line["variant_id"] and not bindings._lookup_record(self, product):
            bindings._bind(
                self,
                product,
                line["variant_id"],
                external_ref=line["sku"],
                extra={"inventory_item_id": line["inventory_item_id"]},
            )
        return product

    def _shopify_taxes(self, line, order, subject):
        if not line["tax_rates"]:
            return []
        included = bool(order.get("taxesIncluded"))
        taxes = self.env["account.tax"].search(
            [
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("company_id", "=", self.company_id.id),
                ("amount", "in", line["tax_rates"]),
            ]
        )
        ids = []
        for rate in line["tax_rates"]:
            match = taxes.filtered(
                lambda t, r=rate: (
                    not float_compare(t.amount, r, 4) and t.price_include == included
                )
            )[:1]
            if not match:
                raise MappingError(
                    f"{order['name']}: no sale tax of {rate:g}% "
                    f"({'included in' if included else 'excluded from'} prices) in "
                    f"{self.company_id.name}: create it, then retry.",
                    subject_key=subject,
                    fix={"tax_rate": rate, "price_include": included},
                )
            ids.append(match.id)
        return ids

    def _shopify_shipping_product(self):
        if not self.shopify_shipping_product_id:
            self.sudo().shopify_shipping_product_id = self.env[
                "product.product"
            ].create(
                {
                    "name": self.env._("Shipping (Shopify)"),
                    "type": "service",
                    "default_code": f"SHOPIFY-SHIPPING-{self.id}",
                    "invoice_policy": "order",
                    "taxes_id": [(5,)],
                    "sale_ok": False,
                    "purchase_ok": False,
                    "company_id": self.company_id.id,
                }
            )
        return self.shopify_shipping_product_id

    # --------------------------------------------------------- customers
    def _shopify_partners(self, order):
        """Customer, invoice and delivery addresses of an order."""
        customer = mappers.customer(order.get("customer")) or {
            "gid": None,
            "name": "",
            "email": order.get("email") or False,
            "phone": order.get("phone") or False,
            "default_address": None,
        }
        shipping = mappers.address(order.get("shippingAddress"))
        billing = mappers.address(order.get("billingAddress")) or shipping
        if not customer["name"]:
            customer["name"] = (billing or shipping or {}).get("name") or order["name"]
        country = (shipping or billing or {}).get("country_code")
        partner = self._shopify_customer(customer, country)
        invoice = self._shopify_address(partner, billing, "invoice")
        delivery = self._shopify_address(partner, shipping, "delivery")
        return partner, invoice, delivery

    def _shopify_customer(self, customer, country_code=None):
        """The partner of a Shopify customer: bound, matched, or created.

        A returning customer matches by e-mail, or when Shopify has no e-mail
        for them by phone in E.164, however it was typed (see
        ``res.partner._retail_match``); a stranger sharing a phone is another
        partner.
        """
        bindings = self.env["retail.binding"]
        partners = self.env["res.partner"].with_context(**IMPORT_CONTEXT)
        gid = customer.get("gid")
        if gid:
            self._lock_external("res.partner", gid)
            binding = bindings._lookup(self, "res.partner", gid)
            if binding and binding._record():
                return binding._record()
        address = customer.get("default_address") or {}
        country_code = country_code or address.get("country_code")
        partner = partners._retail_match(
            email=customer.get("email"),
            phone=customer.get("phone"),
            country_code=self._phone_region(country_code),
            company=self.company_id,
        )
        if not partner:
            country = self._shopify_country(country_code)
            partner = partners.create(
                {
                    "name": customer.get("name") or customer.get("email") or "?",
                    "email": customer.get("email"),
                    "phone": customer.get("phone"),
                    "country_id": country.id if country else False,
                    "customer_rank": 1,
                }
            )
        if gid and not bindings._lookup_record(self, partner):
            # the reference is Shopify's customer number, not a personal value
            bindings._bind(self, partner, gid, external_ref=mappers.numeric_id(gid))
        return partner

    def _shopify_country(self, code):
        if not code:
            return self.env["res.country"]
        return self.env["res.country"].search([("code", "=", code.upper())], limit=1)

    def _shopify_address(self, partner, values, kind):
        if not values or not values.get("street"):
            return partner
        children = partner.child_ids.filtered(
            lambda c: (
                c.type == kind
                and (c.street or "") == (values["street"] or "")
                and (c.zip or "") == (values["zip"] or "")
                and (c.name or "") == (values["name"] or "")
            )
        )
        if children:
            return children[0]
        country = self._shopify_country(values.get("country_code"))
        state = self.env["res.country.state"]
        if country and values.get("state_code"):
            state = state.search(
                [("country_id", "=", country.id), ("code", "=", values["state_code"])],
                limit=1,
            )
        return (
            self.env["res.partner"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                {
                    "parent_id": partner.id,
                    "type": kind,
                    "name": values["name"] or partner.name,
                    "street": values["street"],
                    "street2": values["street2"],
                    "city": values["city"],
                    "zip": values["zip"],
                    "phone": values["phone"],
                    "country_id": country.id if country else False,
                    "state_id": state.id if state else False,
                }
            )
        )

    # ------------------------------------------------------------ refunds
    def _shopify_refund_shop_money(self, refund_gid):
        """A refund's total and line subtotals in the shop's currency, read
        from GraphQL ``shopMoney``: the REST payload's amounts are in the
        currency the customer paid, which Odoo's books must never take."""
        node = (
            self._shopify_client()
            .graphql(
                gql.REFUND_BY_ID, {"id": refund_gid}, operation="RefundById", cost=60
            )
            .get("node")
        )
        if not node:
            raise RemoteError(f"Shopify has no refund {refund_gid}")
        lines = {}
        for item in (node.get("refundLineItems") or {}).get("nodes") or []:
            gid = (item.get("lineItem") or {}).get("id")
            subtotal, quantity = lines.get(gid, (0.0, 0))
            lines[gid] = (
                subtotal + mappers.money(item.get("subtotalSet")),
                quantity + (item.get("quantity") or 0),
            )
        return {"total": mappers.money(node.get("totalRefundedSet")), "lines": lines}

    def _shopify_import_refund(self, refund):
        """A Shopify refund becomes a posted credit note; restocked lines a return.

        Idempotent: the credit note is bound to the refund id.
        """
        self.ensure_one()
        bindings = self.env["retail.binding"]
        refund_gid = refund.get("admin_graphql_api_id") or (
            f"gid://shopify/Refund/{refund['id']}"
        )
        self._lock_external("account.move", refund_gid)
        existing = bindings._lookup(self, "account.move", refund_gid)
        if existing and existing._record():
            raise EventSkipped("skipped_duplicate", f"refund {refund['id']} imported")
        order_gid = mappers.order_gid(refund["order_id"])
        subject = f"refund:{refund['id']}"
        order_binding = bindings._lookup(self, "sale.order", order_gid)
        sale = order_binding._record() if order_binding else None
        if not sale:
            sale = self._shopify_import_order(order_gid)
        shop_money = self._shopify_refund_shop_money(refund_gid)
        refund_lines, returns = [], {}
        for item in refund.get("refund_line_items") or []:
            line_gid = f"gid://shopify/LineItem/{item['line_item_id']}"
            line_binding = bindings._lookup(self, "sale.order.line", line_gid)
            sale_line = line_binding._record() if line_binding else None
            if not sale_line:
                raise MappingError(
                    f"Refund {refund['id']} of {sale.name}: line {line_gid} is not "
                    "in the Odoo order.",
                    subject_key=subject,
                )
            quantity = float(item["quantity"])
            if line_gid not in shop_money["lines"]:
                raise RemoteError(f"Shopify's refund {refund_gid} lacks {line_gid}")
            line_subtotal, line_quantity = shop_money["lines"][line_gid]
            unit = line_subtotal / line_quantity if line_quantity else 0.0
            refund_lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": sale_line.product_id.id,
                        "name": sale_line.name,
                        "quantity": quantity,
                        "price_unit": unit,
                        "tax_ids": [(6, 0, sale_line.tax_id.ids)],
                        "sale_line_ids": [(6, 0, sale_line.ids)],
                    },
                )
            )
            if item.get("restock_type") in ("return", "legacy_restock"):
                returns[sale_line.product_id] = (
                    returns.get(sale_line.product_id, 0.0) + quantity
                )
        refunded = shop_money["total"]
        move = (
            self.env["account.move"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": sale.partner_invoice_id.id,
                    "company_id": self.company_id.id,
                    "currency_id": sale.currency_id.id,
                    "invoice_origin": sale.name,
                    "ref": f"Shopify refund {refund['id']} ({sale.client_order_ref})",
                    "invoice_line_ids": refund_lines,
                }
            )
        )
        diff = round(refunded - move.amount_total, 2) if refunded else 0.0
        if diff:
            # shipping or an order adjustment refunded without a line
            move.write(
                {
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": self._shopify_shipping_product().id,
                                "name": self.env._("Refund adjustment (Shopify)"),
                                "quantity": 1,
                                "price_unit": diff,
                                "tax_ids": [(5,)],
                            },
                        )
                    ]
                }
            )
        move.action_post()
        bindings._bind(self, move, refund_gid, external_ref=move.name)
        if returns:
            self._shopify_return(sale, returns, refund, subject)
        return move

    def _shopify_return(self, sale, quantities, refund, subject):
        """Return receipt of restocked quantities, from the done deliveries."""
        done = sale.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if not done:
            return None  # nothing shipped yet: nothing comes back
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=done[0].id, active_model="stock.picking")
            .create({"picking_id": done[0].id})
        )
        left = dict(quantities)
        for line in wizard.product_return_moves:
            take = min(left.get(line.product_id, 0.0), line.move_id.quantity)
            line.quantity = take
            left[line.product_id] = left.get(line.product_id, 0.0) - take
        if not any(wizard.product_return_moves.mapped("quantity")):
            return None
        action = wizard.action_create_returns()
        picking = self.env["stock.picking"].browse(action["res_id"])
        picking.origin = f"Shopify refund {refund['id']}"
        return picking

    def action_shopify_fetch_locations(self):
        check_group(self.env)
        for backend in self:
            self.env["shopify.location"]._fetch(backend)
        return True
