from unittest.mock import patch

from odoo.tests import tagged

from .common import ShopifyCase, run_job, run_jobs


class StockCase(ShopifyCase):
    """Both products bound, the Shopify location mapped to the warehouse."""

    def setUp(self):
        super().setUp()
        self.backend.action_shopify_fetch_locations()
        self.shopify_location = self.backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == self.location["id"]
        )
        self.shopify_location.warehouse_id = self.warehouse
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

    def _set_calls(self):
        return [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == "InventorySet"
        ]

    def _remote(self, sku):
        return self.sandbox.inventory(self.items[sku], self.location["id"])

    def _free(self, sku):
        """Odoo's free quantity at the warehouse, computed afresh (and not left
        in the cache the jobs of this transaction read)."""
        product = self.products[sku].with_context(warehouse_id=self.warehouse.id)
        self.env.invalidate_all()
        free = product.free_qty
        self.env.invalidate_all()
        return free

    def _receive(self, sku, quantity):
        self.env["stock.quant"]._update_available_quantity(
            self.products[sku], self.warehouse.lot_stock_id, quantity
        )


@tagged("post_install", "-at_install")
class TestStockPush(StockCase):
    def test_a_burst_of_moves_makes_one_job_and_one_call(self):
        for _ in range(5):
            self._receive("TSHIRT-001", 1)
            self._receive("MUG-002", 2)
        jobs = self.env["queue.job"].search(
            [("method_name", "=", "_job_shopify_push_stock"), ("state", "=", "pending")]
        )
        self.assertEqual(len(jobs), 1, "stock moves are coalesced per backend")
        run_jobs(self.env)
        self.assertEqual(len(self._set_calls()), 1)
        self.assertEqual(self._remote("TSHIRT-001"), 55)
        self.assertEqual(self._remote("MUG-002"), 60)
        # nothing changed since: no call
        self.env["shopify.stock.level"]._push(self.backend)
        self.assertEqual(len(self._set_calls()), 1)

    def test_a_reservation_of_several_products_marks_them_all_at_once(self):
        """Reserving a delivery's moves tells Shopify once per location, with
        every product it reserved (stock_marks.py), and the push sends them
        all: nothing is left unmarked by the grouping."""
        run_jobs(self.env)
        customer = self.env["res.partner"].create({"name": "Walk-in"})
        sale = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": self.products[sku].id, "product_uom_qty": 2})
                    for sku in ("TSHIRT-001", "MUG-002")
                ],
            }
        )
        free = {sku: self._free(sku) for sku in ("TSHIRT-001", "MUG-002")}
        levels = type(self.env["shopify.stock.level"])
        calls = []
        mark = levels._mark_dirty

        def counted(model, products, location):
            calls.append(sorted(products.ids))
            return mark(model, products, location)

        with patch.object(levels, "_mark_dirty", counted):
            sale.action_confirm()
        self.assertEqual(set(sale.picking_ids.mapped("state")), {"assigned"})
        both = sorted(
            p.id for p in (self.products["TSHIRT-001"], self.products["MUG-002"])
        )
        self.assertEqual(calls, [both], "one marking for the two reserved products")
        run_jobs(self.env)
        for sku in ("TSHIRT-001", "MUG-002"):
            self.assertEqual(self._free(sku), free[sku] - 2, sku)
            self.assertEqual(self._remote(sku), free[sku] - 2, sku)

    def test_safety_stock_is_kept_back(self):
        self.backend._policy("inventory").safety_stock = 8
        self._receive("MUG-002", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("MUG-002"), 51 - 8)

    def test_stale_compare_and_set_rereads_then_sets(self):
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("TSHIRT-001"), 51)
        # someone edits Shopify by hand: our changeFromQuantity is now stale
        self.sandbox.set_inventory(self.items["TSHIRT-001"], self.location["id"], 7)
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("TSHIRT-001"), 52, "Odoo owns the stock")
        calls = self._set_calls()
        self.assertEqual(len(calls), 3, "first push, stale try, retry")
        last = calls[-1].json()["variables"]["input"]["quantities"][0]
        self.assertEqual(last["changeFromQuantity"], 7)

    def test_reconciliation_repairs_drift(self):
        self._receive("MUG-002", 1)
        run_jobs(self.env)
        self.sandbox.set_inventory(self.items["MUG-002"], self.location["id"], 3)
        result = self.backend._job_shopify_reconcile_stock()
        self.assertIn("1 push call", result)
        self.assertEqual(self._remote("MUG-002"), 51)

    def test_nothing_is_pushed_when_the_policy_does_not_export(self):
        self.backend._policy("inventory").direction = "off"
        self._receive("TSHIRT-001", 3)
        run_jobs(self.env)
        self.assertFalse(self._set_calls())
        self.assertEqual(self._remote("TSHIRT-001"), 10)


@tagged("post_install", "-at_install")
class TestStockWithShopifyOrders(StockCase):
    """What Shopify shows never re-offers units it already sold.

    Shopify moves the units of an order from ``available`` to ``committed`` as
    soon as it takes it, before Odoo imports the order.
    """

    SKU = "TSHIRT-001"

    def setUp(self):
        super().setUp()
        self._receive(self.SKU, 30 - self._free(self.SKU))  # 30 units in Odoo
        run_jobs(self.env)
        self.assertEqual(self._remote(self.SKU), 30)
        order = self.new_order(lines=[{"sku": self.SKU, "quantity": 1}])
        self._import(order)
        self.sale = self.sale_orders()
        self.assertEqual(self.sale.client_order_ref, order["name"])
        self.assertEqual(self.sale.state, "sale")
        self.assertEqual(self._free(self.SKU), 29)
        self.assertEqual(self._remote(self.SKU), 29)

    def _import(self, *orders):
        for order in orders:
            self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env, rounds=3)

    def _sell_on_shopify(self, *quantities):
        """Orders Shopify takes; their webhooks are not processed yet."""
        return [
            self.new_order(lines=[{"sku": self.SKU, "quantity": quantity}])
            for quantity in quantities
        ]

    def _check(self, odoo_free, shopify_available):
        self.assertEqual(self._free(self.SKU), odoo_free)
        self.assertEqual(self._remote(self.SKU), shopify_available)

    def test_a_receipt_never_re_offers_units_of_an_unimported_order(self):
        pending = self._sell_on_shopify(3)
        self.assertEqual(self._remote(self.SKU), 26)
        self._receive(self.SKU, 1)
        run_jobs(self.env)
        self._check(30, 27)  # 30 - 3, never 30
        self._import(*pending)
        self._check(27, 27)  # no double subtraction

    def test_several_unimported_orders_and_a_receipt(self):
        pending = self._sell_on_shopify(2, 3, 1)
        self._receive(self.SKU, 4)
        run_jobs(self.env)
        self._check(33, 27)
        self._import(pending[0])
        self._check(31, 27)
        self._import(*pending[1:])
        self._check(27, 27)

    def test_a_stock_decrease_with_unimported_orders(self):
        pending = self._sell_on_shopify(2, 3)
        self._receive(self.SKU, -4)  # e.g. damaged goods scrapped
        run_jobs(self.env)
        self._check(25, 20)
        self._import(*pending)
        self._check(20, 20)
        self._receive(self.SKU, -1)
        run_jobs(self.env)
        self._check(19, 19)

    def test_a_delivery_and_its_fulfilment_keep_shopify_exact(self):
        """Delivered in Odoo, fulfilled on Shopify: Shopify's committed drops
        without its available moving; the level is read again."""
        picking = self.sale.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking._action_done()
        run_jobs(self.env, rounds=3)
        self.assertEqual(
            self.sandbox.inventory(
                self.items[self.SKU], self.location["id"], "committed"
            ),
            0,
            "the fulfilment reached Shopify",
        )
        self._check(29, 29)

    def test_first_publication_keeps_what_shopify_committed(self):
        # the mug was never pushed: Shopify has 10, two units sold there
        self.new_order(lines=[{"sku": "MUG-002", "quantity": 2}])
        self.assertEqual(self._remote("MUG-002"), 8)
        self._receive("MUG-002", 1)  # Odoo: 51
        run_jobs(self.env)
        self.assertEqual(self._remote("MUG-002"), 49)

    def test_a_deleted_variant_is_set_aside_and_the_others_pushed(self):
        variant = self.sandbox.variant_by_sku(self.SKU)
        self.sandbox.delete_variant(variant["id"])
        self._receive(self.SKU, 2)
        self._receive("MUG-002", 3)
        jobs = run_jobs(self.env)
        self.assertEqual({job.state for job in jobs}, {"done"})
        self.assertEqual(self._remote("MUG-002"), 53, "the other SKUs move")
        exception = self.env["retail.sync.exception"].search(
            [("backend_id", "=", self.backend.id), ("domain", "=", "inventory")]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.category, "mapping")
        self.assertIn(self.SKU, exception.message)
        self.assertEqual((exception.fix_data or {}).get("sku"), self.SKU)
        # set aside: the next push does not send it again
        calls = len(self._set_calls())
        self._receive(self.SKU, 1)
        self._receive("MUG-002", 1)
        run_jobs(self.env)
        self.assertEqual(len(self._set_calls()), calls + 1)
        sent = self._set_calls()[-1].json()["variables"]["input"]["quantities"]
        self.assertEqual([q["inventoryItemId"] for q in sent], [self.items["MUG-002"]])
        self.assertEqual(self._remote("MUG-002"), 54)


@tagged("post_install", "-at_install")
class TestStockIdempotency(StockCase):
    def test_a_to_b_to_a_each_push_lands(self):
        """5 -> 3 -> 5 -> 3 in successive pushes: each push is a new write."""
        sku = "TSHIRT-001"
        for target in (5, 3, 5, 3):
            self._receive(sku, target - self._free(sku))
            run_jobs(self.env)
            self.assertEqual(self._remote(sku), target)
        keys = [r.json()["variables"]["key"] for r in self._set_calls()]
        self.assertEqual(len(keys), 4)
        self.assertEqual(len(set(keys)), 4, "one key per intended write")

    def test_a_retried_job_reuses_its_key(self):
        """The same job run again (a retry) sends the same key: Shopify replays
        the first answer and applies nothing twice."""
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.assertEqual(self._remote("TSHIRT-001"), 51)
        self._receive("TSHIRT-001", 1)
        job = self.env["queue.job"].search(
            [("method_name", "=", "_job_shopify_push_stock"), ("state", "=", "pending")]
        )
        calls = len(self._set_calls())
        for _attempt in range(2):
            with self.env.cr.savepoint() as savepoint:
                run_job(self.env, job.uuid)
                savepoint.rollback()  # as if the job had failed after the call
            self.env.invalidate_all()
        sent = self._set_calls()[calls:]
        self.assertEqual(len(sent), 2)
        first, retry = (r.json()["variables"] for r in sent)
        self.assertEqual(first, retry, "the retry is the same write, same key")
        self.assertEqual(self._remote("TSHIRT-001"), 52)

    def test_a_retried_job_whose_first_try_was_stale_carries_on(self):
        """Shopify refuses a failed try's key a second time
        (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED): the retried job reads again and
        lands under a new key instead of failing."""
        self._receive("TSHIRT-001", 1)
        run_jobs(self.env)
        self.sandbox.set_inventory(self.items["TSHIRT-001"], self.location["id"], 7)
        self._receive("TSHIRT-001", 1)
        job = self.env["queue.job"].search(
            [("method_name", "=", "_job_shopify_push_stock"), ("state", "=", "pending")]
        )
        with self.env.cr.savepoint() as savepoint:
            run_job(self.env, job.uuid)  # stale try, read again, set 52
            savepoint.rollback()  # as if the job had failed afterwards
        self.env.invalidate_all()
        self.sandbox.set_inventory(self.items["TSHIRT-001"], self.location["id"], 9)
        run_job(self.env, job.uuid)
        self.assertEqual(job.state, "done")
        self.assertEqual(self._remote("TSHIRT-001"), 52)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("backend_id", "=", self.backend.id), ("state", "!=", "resolved")]
            )
        )
