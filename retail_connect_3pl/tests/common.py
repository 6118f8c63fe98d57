"""A 3PL backend wired to a live 3PL sandbox (tests/sandboxes/threepl), a
3PL-managed warehouse with stock, and helpers to make deliveries ready."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from odoo.tests import HttpCase

from odoo.addons.retail_connect_base.tests.common import run_job, run_jobs, sandboxes

sandboxes()
from sandboxes.threepl import (  # noqa: E402
    DEFAULT_CHANNEL,
    ThreePLSandbox,
    WarehouseError,
)
from sandboxes.threepl import admin as floor  # noqa: E402

__all__ = [
    "DEFAULT_CHANNEL",
    "SftpTransport",
    "ThreeplCase",
    "WarehouseError",
    "floor",
    "run_job",
    "run_jobs",
    "new_key",
]


def new_key():
    """A new Ed25519 key pair: (OpenSSH private key, OpenSSH public key)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        .decode()
    )
    return private, public


class SftpTransport:
    """Before ``ThreeplCase`` in the bases: the backend over the sandbox's SFTP
    server (host key pinned, a key of its own the server authorizes), read
    by the shipment policy's poll."""

    sftp = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        info = cls.sandbox.sftp.info()
        private, cls.public_key = new_key()
        cls.backend.write(
            {
                "threepl_transport": "sftp",
                "threepl_sftp_host": info["host"],
                "threepl_sftp_port": info["port"],
                "threepl_sftp_user": info["username"],
                "threepl_sftp_host_key": info["known_hosts"],
                "threepl_sftp_private_key": private,
            }
        )
        cls.policy = cls.backend._policy("shipment")

    def setUp(self):
        super().setUp()
        self.sandbox.sftp.authorize(self.public_key)

    def poll(self):
        """The shipment policy's poll job, then the events' jobs."""
        self.assertFalse(self.policy._job_poll().startswith("failed"))
        run_jobs(self.env)


class ThreeplCase(HttpCase):
    sftp = False  # the sandbox's SFTP server

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.sandbox = ThreePLSandbox(sftp=cls.sftp)
        cls.server = cls.sandbox.serve()
        cls.addClassCleanup(cls.server.stop)
        cls.warehouse = cls.env["stock.warehouse"].create(
            {"name": "3PL Illinois", "code": "IL1"}  # the 3PL FC code
        )
        cls.products = cls.env["product.product"].create(
            [
                {"name": "Mug", "default_code": "MUG-1", "is_storable": True},
                {"name": "Tee", "default_code": "TEE-1", "is_storable": True},
            ]
        )
        cls.mug, cls.tee = cls.products
        for product in cls.products:
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.warehouse.lot_stock_id, 50
            )
        cls.usps = cls.env["delivery.carrier"].create(
            {
                "name": "USPS",
                "product_id": cls.env["product.product"]
                .create({"name": "USPS shipping", "type": "service"})
                .id,
            }
        )
        cls.partner = cls.env["res.partner"].create(
            {
                "name": "Jane Doe",
                "street": "100 N Racine Ave",
                "city": "Chicago",
                "zip": "60607",
                "country_id": cls.env.ref("base.us").id,
                "email": "jane@example.com",
            }
        )
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "Acme 3PL",
                "platform": "threepl",
                "environment": "sandbox",
                "base_url": cls.server.url,
                "threepl_channel_id": str(DEFAULT_CHANNEL["id"]),
                "threepl_warehouse_ids": [(6, 0, cls.warehouse.ids)],
                "job_max_retries": 3,
            }
        )
        cls.backend.access_token = cls.sandbox.token
        cls.backend.action_activate()
        cls.Message = cls.env["threepl.message"]
        cls.Exception = cls.env["retail.sync.exception"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        for product in self.products:
            floor.stock(self.sandbox, product.default_code, 50, name=product.name)
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", f"http://127.0.0.1:{self.http_port()}"
        )
        self.backend.invalidate_recordset(["webhook_url"])
        self.backend._threepl_register_webhook()

    # ------------------------------------------------------------ helpers
    def sell(self, *lines):
        """A confirmed sale shipped from the 3PL warehouse: its delivery."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in lines
                ],
            }
        )
        order.action_confirm()
        return order.picking_ids

    def messages(self, **domain):
        return self.Message.search(
            [("backend_id", "=", self.backend.id)]
            + [(key, "=", value) for key, value in domain.items()],
            order="id",
        )

    def remote_orders(self, ref):
        return [
            o
            for o in self.sandbox.warehouse.orders.values()
            if o["reference_id"] == ref
        ]

    def open_exceptions(self, subject):
        return self.Exception.search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", subject),
                ("state", "in", ("new", "in_progress")),
            ]
        )

    def deliver_webhooks(self, **kwargs):
        attempts = self.sandbox.flush_webhooks(**kwargs)
        self.assertTrue(attempts, "the sandbox sent no webhook")
        return attempts
