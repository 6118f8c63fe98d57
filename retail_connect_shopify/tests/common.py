"""A Shopify backend wired to a live Shopify sandbox (tests/sandboxes/shopify/)."""

from odoo.tests import HttpCase

from odoo.addons.retail_connect_base.tests.common import (
    dispatch,
    run_job,
    run_jobs,
    sandboxes,
)

sandboxes()
from sandboxes.shopify import ShopifySandbox  # noqa: E402

__all__ = ["ShopifyCase", "dispatch", "run_job", "run_jobs"]

SHOP = "acme.myshopify.com"
TOKEN = "shpat_test"
SECRET = "csecret"


class ShopifyCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sandbox = ShopifySandbox(
            shop=SHOP, access_token=TOKEN, client_secret=SECRET
        )
        cls.server = cls.sandbox.serve()
        cls.addClassCleanup(cls.server.stop)
        company = cls.env.company
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Shopify EUR", "currency_id": cls.eur.id}
        )
        cls.tax = cls.env["account.tax"].create(
            {
                "name": "VAT 19%",
                "amount": 19,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        cls.products = {}
        for sku, price in (("TSHIRT-001", "29.95"), ("MUG-002", "12.50")):
            cls.products[sku] = cls.env["product.product"].create(
                {
                    "name": sku,
                    "default_code": sku,
                    "is_storable": True,
                    "list_price": float(price),
                    "taxes_id": [(6, 0, cls.tax.ids)],
                }
            )
            cls.env["stock.quant"]._update_available_quantity(
                cls.products[sku], cls.warehouse.lot_stock_id, 50
            )
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "Acme Shopify",
                "platform": "shopify",
                "environment": "sandbox",
                "base_url": cls.server.url,
                "shopify_shop_domain": SHOP,
                "shopify_pricelist_id": cls.pricelist.id,
                "job_max_retries": 3,
            }
        )
        cls.backend.access_token = TOKEN
        cls.backend.webhook_secret = SECRET
        cls.backend.action_activate()
        cls.Event = cls.env["retail.event"]
        cls.Binding = cls.env["retail.binding"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.location = self.sandbox.add_location("Main warehouse")
        for sku, price in (("TSHIRT-001", "29.95"), ("MUG-002", "12.50")):
            self.sandbox.add_product(
                sku,
                [{"sku": sku, "price": price, "inventory": {self.location["id"]: 10}}],
            )
        self.sandbox.webhook_url = (
            f"http://127.0.0.1:{self.http_port()}/retail_connect/webhook/"
            f"{self.backend.id}"
        )

    def new_order(self, **kwargs):
        kwargs.setdefault(
            "customer",
            {
                "email": "jane@example.com",
                "first_name": "Jane",
                "last_name": "Doe",
                "phone": "+4915112345678",
                "address": {
                    "address1": "Hauptstr. 1",
                    "city": "Berlin",
                    "zip": "10115",
                    "countryCodeV2": "DE",
                },
            },
        )
        kwargs.setdefault("lines", [{"sku": "TSHIRT-001", "quantity": 2}])
        kwargs.setdefault("taxes", [{"title": "VAT", "rate": 0.19}])
        return self.sandbox.add_order(**kwargs)

    def sale_orders(self):
        bindings = self.Binding.search(
            [("backend_id", "=", self.backend.id), ("res_model", "=", "sale.order")]
        )
        return self.env["sale.order"].browse(bindings.mapped("res_id"))
