"""Users without Retail groups work as usual; the suite's bookkeeping follows.

An Inventory user validating a delivery and a Sales user confirming an order
change stock and ship Shopify orders: the suite marks the stock, enqueues the
push and the fulfilment on their behalf, and never answers with an access error.
"""

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs

STATUS = """query S($id: ID!) { order(id: $id) { displayFulfillmentStatus } }"""


@tagged("post_install", "-at_install")
class TestPlainUsers(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.salesman = users.create(
            {
                "name": "Plain salesman",
                "login": "rc_plain_salesman",
                "groups_id": [
                    (6, 0, cls.env.ref("sales_team.group_sale_salesman").ids)
                ],
            }
        )
        cls.storekeeper = users.create(
            {
                "name": "Plain storekeeper",
                "login": "rc_plain_storekeeper",
                "groups_id": [(6, 0, cls.env.ref("stock.group_stock_user").ids)],
            }
        )
        cls.walk_in = cls.env["res.partner"].create({"name": "Walk-in customer"})

    def setUp(self):
        super().setUp()
        for user in (self.salesman, self.storekeeper):
            self.assertFalse(user.has_group("retail_connect_base.group_user"))
            self.assertFalse(user.has_group("retail_connect_base.group_manager"))
        for domain in ("inventory", "shipment"):
            self.assertTrue(self.backend._policy(domain)._allows_export())
        self.backend.action_shopify_fetch_locations()
        self.backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == self.location["id"]
        ).warehouse_id = self.warehouse
        self.items = {}
        for sku, product in self.products.items():
            variant = self.sandbox.variant_by_sku(sku)
            self.items[sku] = variant["inventoryItemId"]
            self.Binding._bind(
                self.backend,
                product,
                variant["id"],
                external_ref=sku,
                extra={"inventory_item_id": variant["inventoryItemId"]},
            )
        run_jobs(self.env)

    def _remote(self, sku):
        return self.sandbox.inventory(self.items[sku], self.location["id"])

    def _free(self, sku):
        return int(
            self.products[sku].with_context(warehouse_id=self.warehouse.id).free_qty
        )

    def _failed_jobs(self):
        return self.env["queue.job"].search(
            [("state", "=", "failed"), ("channel", "=like", "root.retail_connect%")]
        )

    def test_a_sales_user_confirms_and_cancels_an_order_shopify_follows(self):
        free = self._free("MUG-002")
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.walk_in.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self.products["MUG-002"].id,
                                "product_uom_qty": 3,
                            },
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(self._free("MUG-002"), free - 3, "the order reserved")
        run_jobs(self.env)
        self.assertFalse(self._failed_jobs().mapped("exc_info"))
        self.assertEqual(self._remote("MUG-002"), free - 3)
        # the customer changes their mind: the salesman cancels, stock comes back
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(self._free("MUG-002"), free)
        run_jobs(self.env)
        self.assertFalse(self._failed_jobs().mapped("exc_info"))
        self.assertEqual(self._remote("MUG-002"), free)

    def test_an_inventory_user_validates_a_delivery_and_shopify_fulfils(self):
        shop_order = self.new_order(lines=[{"sku": "TSHIRT-001", "quantity": 2}])
        self.sandbox.emit("orders/create", shop_order["id"])
        # the import, its reservation (a job of its own), then its stock push
        run_jobs(self.env, rounds=3)
        self.assertFalse(self.env["queue.job"].search([("state", "=", "pending")]))
        sale = self.sale_orders()
        picking = sale.picking_ids
        self.assertEqual(len(picking), 1)
        free = self._free("TSHIRT-001")
        before = self.env["queue.job"].search([])
        picking = picking.with_user(self.storekeeper)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        queued = self.env["queue.job"].search([]) - before
        self.assertEqual(
            sorted(queued.mapped("method_name")),
            ["_job_shopify_fulfil", "_job_shopify_push_stock"],
        )
        run_jobs(self.env, rounds=3)  # fulfil and push, then re-read what it sold
        self.assertFalse(self._failed_jobs().mapped("exc_info"))
        _status, body, _wait = self.sandbox.graphql(STATUS, {"id": shop_order["id"]})
        self.assertEqual(body["data"]["order"]["displayFulfillmentStatus"], "FULFILLED")
        self.assertEqual(self._remote("TSHIRT-001"), free)
