"""An Amazon backend wired to a live SP-API sandbox (tests/sandboxes/amazon)."""

from odoo.tests import HttpCase

from odoo.addons.retail_connect_base.tests.common import run_job, run_jobs, sandboxes

sandboxes()
from sandboxes.amazon import CLIENT_ID, CLIENT_SECRET, AmazonSandbox  # noqa: E402

__all__ = ["AmazonCase", "run_job", "run_jobs"]

SELLER = "A1SANDBOXSELLEREU"
REFRESH = "Atzr|sandbox-refresh-token-eu"
DE = "A1PA6795UKMFR9"
UK = "A1F83G8C2ARO7P"
# Amazon makes a change visible to searchOrders two minutes later
VISIBLE_AFTER = 121


class AmazonCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # the sandbox's clock follows real time: Odoo's watermark and the
        # orders' times agree; a test moves it forward to let time pass
        cls.sandbox = AmazonSandbox()
        cls.server = cls.sandbox.serve()
        cls.addClassCleanup(cls.server.stop)
        company = cls.env.company
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Amazon EUR", "currency_id": cls.eur.id}
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        cls.fba = cls.env["stock.warehouse"].create(
            {"name": "Amazon FBA", "code": "FBA", "company_id": company.id}
        )
        cls.products = {}
        for sku, price in (("SKU-1", 19.99), ("SKU-2", 5.0)):
            cls.products[sku] = cls.env["product.product"].create(
                {
                    "name": sku,
                    "default_code": sku,
                    "is_storable": True,
                    "list_price": price,
                }
            )
            cls.env["stock.quant"]._update_available_quantity(
                cls.products[sku], cls.warehouse.lot_stock_id, 50
            )
            cls.env["stock.quant"]._update_available_quantity(
                cls.products[sku], cls.fba.lot_stock_id, 20
            )
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "Acme Amazon EU",
                "platform": "amazon",
                "environment": "sandbox",
                "base_url": cls.server.url,
                "amazon_lwa_url": f"{cls.server.url}/auth/o2/token",
                "amazon_region": "eu",
                "amazon_seller_id": SELLER,
                "client_id": CLIENT_ID,
                "amazon_fba_warehouse_id": cls.fba.id,
                "job_max_retries": 3,
            }
        )
        cls.backend.client_secret = CLIENT_SECRET
        cls.backend.amazon_refresh_token = REFRESH
        cls.de = cls.env["amazon.marketplace"].create(
            {
                "backend_id": cls.backend.id,
                "code": DE,
                "name": "Amazon.de",
                "currency_id": cls.eur.id,
                "pricelist_id": cls.pricelist.id,
                "warehouse_id": cls.warehouse.id,
                "safety_stock": 2,
            }
        )
        cls.backend.action_activate()
        cls.Binding = cls.env["retail.binding"]
        cls.Event = cls.env["retail.event"]
        cls.Exchange = cls.env["retail.exchange"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # ------------------------------------------------------------ helpers
    def place(self, marketplace=DE, **kwargs):
        """A buyer places an order on the sandbox; return its full view."""
        kwargs.setdefault("items", [{"sku": "SKU-1", "quantity": 2, "price": "19.99"}])
        with self.sandbox.lock:
            self.sandbox.book.tick()
            seller = self.sandbox.seller_of_marketplace(marketplace)
            order = self.sandbox.book.create(
                seller.seller_id, marketplace, kwargs.pop("items"), **kwargs
            )
        return order

    def advance(self, seconds):
        self.sandbox.clock.advance(seconds)

    def poll(self, rounds=3):
        """Let Amazon's two minutes pass, then run the order poll job and
        the event jobs it queued, as the queue would."""
        self.advance(VISIBLE_AFTER)
        policy = self.backend._policy("order")
        policy.with_delay(channel=self.backend._channel("bulk"))._job_poll()
        return run_jobs(self.env, rounds=rounds)

    def sale_of(self, order_id):
        binding = self.Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", order_id),
            ]
        )
        return self.env["sale.order"].browse(binding.res_id) if binding else None

    def sale_orders(self):
        bindings = self.Binding.search(
            [("backend_id", "=", self.backend.id), ("res_model", "=", "sale.order")]
        )
        return self.env["sale.order"].browse(bindings.mapped("res_id"))

    def exchanges(self, operation=None):
        domain = [("backend_id", "=", self.backend.id)]
        if operation:
            domain.append(("operation", "=", operation))
        return self.Exchange.search(domain, order="id")
