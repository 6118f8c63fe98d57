from odoo.tests import tagged

from .common import AmazonCase, run_jobs

CONFIRM = "shipmentConfirmation"


@tagged("post_install", "-at_install")
class TestShipments(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "DHL Paket",
                "product_id": cls.env["product.product"]
                .create({"name": "DHL shipping", "type": "service"})
                .id,
                "amazon_carrier_code": "DHL",
            }
        )

    def imported(self, items=None):
        order = self.place(
            items=items
            or [
                {"sku": "SKU-1", "quantity": 2, "price": "19.99"},
                {"sku": "SKU-2", "quantity": 1, "price": "5.00"},
            ]
        )
        self.poll()
        sale = self.sale_of(order.order_id)
        self.assertEqual(sale.state, "sale")
        return order, sale

    def ship(self, picking, tracking, quantities=None, packages=False):
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            sku = move.product_id.default_code
            move.quantity = (quantities or {}).get(sku, move.product_uom_qty)
            move.picked = True
        if packages:
            for move in picking.move_ids:
                package = self.env["stock.quant.package"].create(
                    {"name": f"PACK-{move.product_id.default_code}"}
                )
                move.move_line_ids.result_package_id = package
        picking._action_done()

    def confirmations(self):
        return [
            r for r in self.sandbox.requests("/orders/v0/") if r.path.endswith(CONFIRM)
        ]

    def remote(self, order):
        with self.sandbox.lock:
            return self.sandbox.book.orders[order.order_id]

    def test_a_done_delivery_confirms_the_shipment_once(self):
        order, sale = self.imported()
        picking = sale.picking_ids
        self.ship(picking, "TRACK-1")
        run_jobs(self.env)
        remote = self.remote(order)
        self.assertEqual(remote.status, "SHIPPED")
        self.assertEqual(len(remote.packages), 1)
        package = remote.packages[0]
        self.assertEqual(package["trackingNumber"], "TRACK-1")
        self.assertEqual(package["carrier"], "DHL")
        self.assertEqual(sorted(i["quantity"] for i in package["packageItems"]), [1, 2])
        self.assertTrue(picking.retail_sent_at)
        # the job again (a second click, a replay): nothing sent twice
        self.backend._job_amazon_confirm_shipment(picking)
        self.assertEqual(len(self.confirmations()), 1)

    def test_packages_are_confirmed_once_across_retries(self):
        order, sale = self.imported()
        picking = sale.picking_ids
        # the second package's call fails: the job is retried
        self.sandbox.inject_fault(
            "status", status=503, times=1, skip=1, operation="confirmShipment"
        )
        self.ship(picking, "TRACK-A,TRACK-B", packages=True)
        jobs = [
            job
            for job in run_jobs(self.env)
            if job.method_name == "_job_amazon_confirm_shipment"
        ]
        self.assertEqual([job.state for job in jobs], ["pending"])
        self.assertEqual(len(self.remote(order).packages), 1)
        run_jobs(self.env)
        remote = self.remote(order)
        self.assertEqual(remote.status, "SHIPPED")
        self.assertEqual(
            sorted(p["trackingNumber"] for p in remote.packages),
            ["TRACK-A", "TRACK-B"],
        )
        references = [
            r.json()["packageDetail"]["packageReferenceId"]
            for r in self.confirmations()
        ]
        # first package once, second twice (the 503, then its success)
        self.assertEqual(len(references), 3)
        self.assertEqual(len(set(references)), 2)
        self.assertEqual(references.count(references[0]), 1)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "=", "new")]
            )
        )

    def test_partial_delivery_then_backorder(self):
        order, sale = self.imported(
            items=[{"sku": "SKU-1", "quantity": 2, "price": "19.99"}]
        )
        picking = sale.picking_ids
        self.ship(picking, "TRACK-1", quantities={"SKU-1": 1})
        run_jobs(self.env)
        self.assertEqual(self.remote(order).status, "PARTIALLY_SHIPPED")
        backorder = sale.picking_ids - picking
        self.assertEqual(len(backorder), 1)
        self.ship(backorder, "TRACK-2")
        run_jobs(self.env)
        remote = self.remote(order)
        self.assertEqual(remote.status, "SHIPPED")
        self.assertEqual(
            [p["trackingNumber"] for p in remote.packages], ["TRACK-1", "TRACK-2"]
        )

    def test_a_delivery_without_tracking_opens_an_exception(self):
        order, sale = self.imported()
        picking = sale.picking_ids
        self.ship(picking, False)
        run_jobs(self.env)
        self.assertEqual(self.remote(order).status, "UNSHIPPED")
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(exception.category, "validation")
        self.assertIn("no tracking number", exception.message)
        picking.carrier_tracking_ref = "TRACK-9"
        exception.action_retry()
        run_jobs(self.env)
        self.assertEqual(self.remote(order).status, "SHIPPED")
        self.assertEqual(exception.state, "resolved")
