"""Inventory snapshots (≈846) and adjustments (≈947) from the 3PL sandbox,
through its real SFTP server (and its REST API), the event inbox and queue
jobs: one discrepancy report per snapshot; small differences posted to the
3PL-discrepancy location, large ones waiting for a 3PL manager; moves done in
Odoo after the snapshot's ``as_of`` are no discrepancy."""

import time

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.retail_connect_base.lib.webhook import Delivery

from .common import DEFAULT_CHANNEL, SftpTransport, ThreeplCase, floor, run_jobs


class InventoryCase(ThreeplCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["threepl.discrepancy.report"]
        cls.products.write({"standard_price": 10.0})
        cls.manager = new_test_user(
            cls.env,
            login="tpl_inv_manager",
            groups="base.group_user,retail_connect_base.group_manager",
        )
        cls.user = new_test_user(
            cls.env,
            login="tpl_inv_user",
            groups="base.group_user,retail_connect_base.group_user",
        )

    def reports(self):
        return self.Report.search([("backend_id", "=", self.backend.id)], order="id")

    def on_hand(self, product):
        return product.with_context(warehouse_id=self.warehouse.id).qty_available

    def line(self, report, product):
        return report.line_ids.filtered(lambda ln: ln.product_id == product)

    def take_out(self, product, qty):
        """Odoo ships ``qty`` from the 3PL warehouse (a done move)."""
        move = self.env["stock.move"].create(
            {
                "name": "out",
                "product_id": product.id,
                "product_uom": product.uom_id.id,
                "product_uom_qty": qty,
                "location_id": self.warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
            }
        )
        move._action_confirm()
        move._action_assign()
        move.picked = True
        move._action_done()
        self.assertEqual(move.state, "done")
        return move


@tagged("post_install", "-at_install")
class TestInventorySftp(SftpTransport, InventoryCase):
    def test_drift_adjusts_small_differences_and_waits_for_large_ones(self):
        floor.drift(self.sandbox, "MUG-1", -1)  # lost, nobody said
        floor.drift(self.sandbox, "TEE-1", -5)  # 5 units: above 2
        floor.snapshot(self.sandbox)
        self.poll()
        (report,) = self.reports()
        self.assertEqual(report.kind, "snapshot")
        self.assertEqual(report.warehouse_id, self.warehouse)
        mug, tee = self.line(report, self.mug), self.line(report, self.tee)
        self.assertEqual((mug.threepl_qty, mug.odoo_qty, mug.difference), (49, 50, -1))
        self.assertEqual(mug.value, -10)
        self.assertEqual(mug.state, "applied")
        self.assertEqual(tee.difference, -5)
        self.assertEqual(tee.state, "to_approve")
        self.assertEqual(report.state, "to_approve")
        self.assertEqual(self.on_hand(self.mug), 49)
        self.assertEqual(self.on_hand(self.tee), 50)
        lost = self.backend.threepl_discrepancy_location_id
        self.assertEqual(lost.usage, "inventory")
        self.assertEqual(mug.move_id.location_dest_id, lost)
        self.assertEqual(report.message_id.message_type, "inventory_snapshot")
        self.assertEqual(report.message_id.state, "done")
        # a Retail user may read it, not approve it (checked on the server)
        self.assertEqual(report.with_user(self.user).state, "to_approve")
        for record in (report, tee):
            with self.assertRaisesRegex(AccessError, "Only members of"):
                record.with_user(self.user).action_approve()
        self.assertEqual(tee.state, "to_approve")
        self.assertEqual(self.on_hand(self.tee), 50)
        report.with_user(self.manager).action_approve()
        self.assertEqual(tee.state, "applied")
        self.assertEqual(tee.decided_by, self.manager)
        self.assertEqual(report.state, "done")
        self.assertEqual(self.on_hand(self.tee), 45)

    def test_a_rejected_difference_leaves_the_stock(self):
        floor.drift(self.sandbox, "TEE-1", 7)
        floor.snapshot(self.sandbox)
        self.poll()
        (report,) = self.reports()
        report.with_user(self.manager).action_reject()
        self.assertEqual(self.line(report, self.tee).state, "rejected")
        self.assertEqual(report.state, "done")
        self.assertEqual(self.on_hand(self.tee), 50)

    def test_a_later_count_supersedes_what_still_waits(self):
        floor.drift(self.sandbox, "TEE-1", -5)
        floor.snapshot(self.sandbox)
        self.poll()
        time.sleep(1.1)
        floor.snapshot(self.sandbox)  # the same shortfall, counted again
        self.poll()
        first, second = self.reports()
        self.assertEqual(self.line(first, self.tee).state, "superseded")
        self.assertEqual(first.state, "done")
        self.assertEqual(self.line(second, self.tee).state, "to_approve")
        (first | second).with_user(self.manager).action_approve()
        self.assertEqual(self.on_hand(self.tee), 45)  # posted once

    def test_moves_after_as_of_are_no_discrepancy(self):
        floor.snapshot(self.sandbox)  # 50 of each, on its way
        time.sleep(1.1)  # as_of is to the second
        self.take_out(self.mug, 2)
        self.poll()
        (report,) = self.reports()
        self.assertEqual(self.line(report, self.mug).odoo_qty, 50)
        self.assertEqual(report.state, "match")
        self.assertFalse(report.line_ids.filtered("difference"))
        self.assertFalse(report.line_ids.move_id)
        self.assertEqual(self.on_hand(self.mug), 48)

    def test_a_snapshot_received_twice_makes_one_report(self):
        floor.drift(self.sandbox, "MUG-1", -1)
        self.sandbox.sftp.add_file_fault("duplicate")
        floor.snapshot(self.sandbox)
        self.poll()
        self.sandbox.sftp.release()  # the same file dropped again
        self.poll()
        self.poll()
        (name,) = self.sandbox.sftp.info()["files"]["archive"]
        self.sandbox.sftp.redeliver(name)  # and once more, after archiving
        self.poll()
        self.poll()
        self.assertEqual(len(self.reports()), 1)
        self.assertEqual(len(self.messages(message_type="inventory_snapshot")), 1)
        self.assertEqual(self.on_hand(self.mug), 49)
        self.assertFalse(self.sandbox.sftp.info()["files"]["inbox"])

    def test_a_947_adjustment_is_applied_by_the_same_policy(self):
        floor.adjust(self.sandbox, "MUG-1", -1, reason="lost")
        floor.adjust(self.sandbox, "TEE-1", -4, reason="damaged")
        self.poll()
        small, large = self.reports().sorted(
            lambda r: r.line_ids.product_id != self.mug
        )
        self.assertEqual(small.kind, "adjustment")
        self.assertEqual(self.line(small, self.mug).state, "applied")
        self.assertEqual(self.line(small, self.mug).reason, "lost")
        self.assertEqual(self.on_hand(self.mug), 49)
        self.assertEqual(self.line(large, self.tee).state, "to_approve")
        self.assertEqual(self.on_hand(self.tee), 50)
        large.with_user(self.manager).action_approve()
        self.assertEqual(self.on_hand(self.tee), 46)
        # the next count agrees: damaged units are not Odoo's sellable stock
        floor.snapshot(self.sandbox)
        self.poll()
        self.assertEqual(self.reports()[-1].state, "match")

    def test_a_lot_tracked_product_is_never_posted_without_its_lots(self):
        wine = self.env["product.product"].create(
            {
                "name": "Wine",
                "default_code": "WINE-1",
                "is_storable": True,
                "tracking": "lot",
                "standard_price": 1.0,
            }
        )
        lot = self.env["stock.lot"].create({"name": "L1", "product_id": wine.id})
        self.env["stock.quant"]._update_available_quantity(
            wine, self.warehouse.lot_stock_id, 5, lot_id=lot
        )
        floor.stock(self.sandbox, "WINE-1", 4, name="Wine")
        floor.snapshot(self.sandbox)
        self.poll()
        (report,) = self.reports()
        line = self.line(report, wine)
        self.assertEqual((line.difference, line.state), (-1, "to_approve"))
        with self.assertRaisesRegex(UserError, "Physical Inventory"):
            line.with_user(self.manager).action_approve()
        line.with_user(self.manager).action_reject()
        self.assertEqual(self.on_hand(wine), 5)

    def test_an_unknown_sku_opens_an_exception(self):
        floor.stock(self.sandbox, "CAP-1", 3, name="Cap")
        floor.snapshot(self.sandbox)
        self.poll()
        (report,) = self.reports()
        line = report.line_ids.filtered(lambda ln: ln.sku == "CAP-1")
        self.assertEqual(line.state, "unknown")
        self.assertFalse(line.move_id)
        self.assertTrue(self.open_exceptions(f"inventory-sku:{self.warehouse.code}"))


@tagged("post_install", "-at_install")
class TestInventoryRest(InventoryCase):
    def poll(self):
        policy = self.backend._policy("inventory")
        self.assertFalse(policy._job_poll().startswith("failed"))
        run_jobs(self.env)

    def test_connection_reads_the_paged_channels(self):
        # GET /channel answers {items, next, prev} (2026-07 Get Channels)
        self.assertIn(DEFAULT_CHANNEL["name"], self.backend._check_connection())

    def test_the_client_follows_the_inventory_pages(self):
        client = self.backend._threepl_client()
        items = client.list_all(
            "inventory-level", {"PageSize": 1}, operation="inventory.list"
        )
        self.assertEqual([i["sku"] for i in items], ["MUG-1", "TEE-1"])

    def test_the_inventory_policy_polls_hourly(self):
        policy = self.backend._policy("inventory")
        self.assertEqual((policy.direction, policy.timing), ("in", "batch"))
        self.assertEqual(policy.interval_minutes, 60)

    def test_inventory_levels_poll_reconciles_like_a_snapshot(self):
        floor.drift(self.sandbox, "MUG-1", -2)
        # on hand at the 3PL, neither fulfillable nor committed: not sellable
        floor.adjust(self.sandbox, "TEE-1", -1, reason="damaged")
        self.poll()
        (report,) = self.reports()
        self.assertEqual(report.message_id.transport, "rest")
        self.assertEqual(self.line(report, self.mug).difference, -2)
        self.assertEqual(self.line(report, self.tee).difference, -1)
        self.assertEqual(set(report.line_ids.mapped("state")), {"applied"})
        self.assertEqual(self.on_hand(self.mug), 48)
        self.assertEqual(self.on_hand(self.tee), 49)

    def test_a_shortfall_with_deliveries_in_flight_waits_for_approval(self):
        picking = self.sell((self.mug, 2))
        run_jobs(self.env)
        self.assertEqual(self.messages(picking_id=picking.id).state, "acknowledged")
        floor.ship(self.sandbox, picking.name)  # its advice not here yet
        floor.drift(self.sandbox, "TEE-1", -1)
        self.poll()
        (report,) = self.reports()
        mug = self.line(report, self.mug)
        self.assertEqual((mug.difference, mug.in_flight_qty), (-2, 2))
        self.assertEqual(mug.state, "to_approve")  # 2 units, yet not posted
        self.assertEqual(self.line(report, self.tee).state, "applied")
        self.assertEqual(self.on_hand(self.mug), 50)
        # the advice comes: the delivery is validated, the manager rejects
        self.deliver_webhooks()
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        mug.with_user(self.manager).action_reject()
        self.assertEqual(self.on_hand(self.mug), 48)

    def test_the_same_snapshot_stored_again_makes_no_second_report(self):
        floor.drift(self.sandbox, "MUG-1", -1)
        self.poll()
        (event,) = self.env["retail.event"].search(
            [("backend_id", "=", self.backend.id), ("topic", "=", "inventory.snapshot")]
        )
        again, created = self.env["retail.event"]._ingest(
            self.backend,
            Delivery(
                topic="inventory.snapshot",
                dedup_key="resent",
                payload=event.sudo().payload.encode(),
            ),
        )
        self.assertTrue(created)
        run_jobs(self.env)
        self.assertEqual(again.state, "skipped_duplicate")
        self.assertEqual(len(self.reports()), 1)
        self.assertEqual(self.on_hand(self.mug), 49)
