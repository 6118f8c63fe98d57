import time

from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestShopifyReturnsManyPages(ShopifyCase):
    """Issue 7, point 12 (leftover): a return of more lines than one page of
    a reverse fulfillment order's ``lineItems``, and an order of more returns
    than one page of ``Order.returns``, are read page after page: nothing
    restocked on Shopify is silently left out of Odoo's return picking."""

    def _run_jobs_until_idle(self):
        # several pages cost more than the bucket holds at once: the job
        # waits for the local limiter (real time) and runs again
        for _attempt in range(20):
            if not run_jobs(self.env):
                return
            time.sleep(0.3)

    def _shipped(self, lines):
        item = self.sandbox.variant_by_sku("MUG-002")["inventoryItemId"]
        self.sandbox.set_inventory(item, self.location["id"], 200)
        self.env["stock.quant"]._update_available_quantity(
            self.products["MUG-002"], self.warehouse.lot_stock_id, 200
        )
        order = self.new_order(lines=lines)
        self.sandbox.emit("orders/create", order["id"])
        self._run_jobs_until_idle()
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids._action_done()
        self._run_jobs_until_idle()  # the fulfilment reaches Shopify
        return order, sale

    def _returned(self, sale):
        pickings = sale.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
        )
        return sum(pickings.move_ids.mapped("product_uom_qty"))

    def _restock(self, line_id, quantity=1):
        return {
            "line_item_id": line_id,
            "quantity": quantity,
            "type": "RESTOCKED",
            "location_id": self.location["id"],
        }

    def test_a_return_of_60_lines_receives_all_60_units(self):
        lines = [
            {"sku": "MUG-002", "quantity": 1, "price": f"{10 + n * 0.37:.2f}"}
            for n in range(60)
        ]
        order, sale = self._shipped(lines)
        line_ids = [line["id"] for line in self.sandbox.order(order["id"])["lineItems"]]
        self.assertEqual(len(line_ids), 60)
        ret = self.sandbox.create_return(
            order["id"], [{"line_item_id": i, "quantity": 1} for i in line_ids]
        )
        self.sandbox.dispose_return(
            ret["id"], [self._restock(i) for i in line_ids], emit=True
        )
        self._run_jobs_until_idle()
        self.assertEqual(self._returned(sale), 60, "every restocked unit, once")
        # the webhooks again: nothing received twice
        self.sandbox.emit("returns/approve", ret["id"])
        self._run_jobs_until_idle()
        self.assertEqual(self._returned(sale), 60)

    def test_the_51st_return_of_an_order_is_found_from_its_disposition(self):
        order, sale = self._shipped([{"sku": "MUG-002", "quantity": 51}])
        line_id = self.sandbox.order(order["id"])["lineItems"][0]["id"]
        returns = [
            self.sandbox.create_return(
                order["id"], [{"line_item_id": line_id, "quantity": 1}]
            )
            for _n in range(51)
        ]
        self.sandbox.dispose_return(
            returns[-1]["id"], [self._restock(line_id)], emit=True
        )
        self._run_jobs_until_idle()
        self.assertEqual(self._returned(sale), 1, "the last return's unit came back")
