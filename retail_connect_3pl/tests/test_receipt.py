"""Inbound goods over both transports, through the sandbox's real HTTP API and
SFTP server and the queue jobs: a ready receipt announced once (a WRO, an ASN
file), the 3PL's receipt advice validating it once, damaged units kept out of
sellable stock, lots, a backorder for what did not arrive, and exceptions for
advices Odoo cannot place."""

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import SftpTransport, ThreeplCase, floor, run_jobs


class ReceiptMixin:
    def receipt(self, *lines):
        """A confirmed receipt from a supplier into the 3PL warehouse."""
        picking_type = self.warehouse.in_type_id
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.partner.id,
                "location_id": supplier.id,
                "location_dest_id": self.warehouse.lot_stock_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": supplier.id,
                            "location_dest_id": self.warehouse.lot_stock_id.id,
                        },
                    )
                    for product, qty in lines
                ],
            }
        )
        picking.action_confirm()
        return picking

    def on_hand(self, product):
        return product.with_context(
            location=self.warehouse.lot_stock_id.id
        ).qty_available

    def notices(self):
        return self.messages(message_type="inbound_notice")

    def advices(self):
        return self.messages(message_type="receipt_advice")

    def events(self):
        return self.env["retail.event"].search([("backend_id", "=", self.backend.id)])


@tagged("post_install", "-at_install")
class TestReceiptRest(ReceiptMixin, ThreeplCase):
    def poll(self):
        policy = self.backend._policy("shipment")
        self.assertFalse(policy._job_poll().startswith("failed"))
        run_jobs(self.env)

    def announced(self, *lines):
        picking = self.receipt(*lines)
        run_jobs(self.env)
        self.assertEqual(self.notices().state, "acknowledged")
        return picking

    def wros(self, ref):
        return [w for w in self.sandbox.warehouse.wros.values() if w["asn_ref"] == ref]

    def test_a_ready_receipt_becomes_one_wro(self):
        picking = self.receipt((self.mug, 10), (self.tee, 4))
        self.assertEqual(picking.state, "assigned")
        run_jobs(self.env)
        (notice,) = self.notices()
        self.assertEqual(notice.picking_id, picking)
        self.assertEqual(notice.direction, "out")
        (wro,) = self.wros(picking.name)
        self.assertEqual(notice.remote_ref, str(wro["id"]))
        self.assertEqual(
            [(ln["sku"], ln["expected"]) for ln in wro["lines"]],
            [("MUG-1", 10), ("TEE-1", 4)],
        )
        # the job run again (a retry after a lost answer): the same WRO
        notice.state = "draft"
        self.backend._job_threepl_send(notice)
        self.assertEqual(len(self.wros(picking.name)), 1)
        self.assertEqual(notice.state, "acknowledged")

    def test_received_once_with_damaged_units_out_of_sellable_stock(self):
        picking = self.announced((self.mug, 10))
        before = self.on_hand(self.mug)
        floor.receive(
            self.sandbox, picking.name, [{"sku": "MUG-1", "received": 8, "damaged": 2}]
        )
        self.poll()
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        received = picking.move_ids.filtered(lambda m: not m.scrapped)
        self.assertEqual(received.quantity, 10)
        # the damaged units arrived, and were scrapped: 8 sellable
        self.assertEqual(self.on_hand(self.mug) - before, 8)
        scrap = self.env["stock.scrap"].search([("picking_id", "=", picking.id)])
        self.assertEqual(scrap.scrap_qty, 2)
        self.assertEqual(scrap.state, "done")
        (advice,) = self.advices()
        self.assertEqual((advice.state, advice.picking_id), ("done", picking))
        self.assertEqual(self.notices().state, "done")
        # the WRO was marked synced: the next poll does not list it
        (wro,) = self.wros(picking.name)
        self.assertTrue(wro["external_sync"])
        # listed again anyway (the flag lost): still applied once
        wro["external_sync"] = False
        self.poll()
        self.poll()
        self.assertEqual(len(self.advices()), 1)
        self.assertEqual(self.on_hand(self.mug) - before, 8)
        self.assertEqual(len(picking.move_ids), 2)  # received, scrapped

    def test_a_short_receipt_leaves_a_backorder_and_an_exception(self):
        picking = self.announced((self.mug, 10), (self.tee, 4))
        floor.receive(self.sandbox, picking.name, [{"sku": "MUG-1", "received": 6}])
        self.poll()
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            {m.product_id: m.quantity for m in picking.move_ids},
            {self.mug: 6},  # the tee, not received at all, moved on
        )
        backorder = picking.backorder_ids
        self.assertEqual(
            {m.product_id: m.product_uom_qty for m in backorder.move_ids},
            {self.mug: 4, self.tee: 4},
        )
        (exception,) = self.open_exceptions(f"short:{picking.name}")
        self.assertIn("MUG-1 × 4", exception.message)
        self.assertEqual(exception._record(), backorder)
        # the backorder is no new ASN: the 3PL holds one for the receipt
        run_jobs(self.env)
        self.assertEqual(len(self.notices()), 1)
        self.assertEqual(len(self.sandbox.warehouse.wros), 1)

    def test_lots_are_received_as_the_3pl_counted_them(self):
        wine = self.env["product.product"].create(
            {
                "name": "Wine",
                "default_code": "WINE-1",
                "is_storable": True,
                "tracking": "lot",
            }
        )
        floor.stock(self.sandbox, "WINE-1", 0, name="Wine")
        picking = self.announced((wine, 6))
        floor.receive(
            self.sandbox,
            picking.name,
            [{"sku": "WINE-1", "received": 6, "lot": "L-2026"}],
        )
        self.poll()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_line_ids.lot_id.name, "L-2026")
        self.assertEqual(self.on_hand(wine), 6)

    def test_a_cancelled_receipt_cancels_its_wro_until_received(self):
        first = self.announced((self.mug, 3))
        first.action_cancel()
        run_jobs(self.env)
        (wro,) = self.wros(first.name)
        self.assertEqual(wro["status"], "Cancelled")
        cancel = self.messages(message_type="inbound_notice", purpose="cancel")
        self.assertEqual(cancel.state, "done")
        # received at the 3PL, then cancelled in Odoo: the 3PL refuses
        second = self.receipt((self.tee, 2))
        run_jobs(self.env)
        floor.receive(self.sandbox, second.name)
        second.action_cancel()
        run_jobs(self.env)
        (wro,) = self.wros(second.name)
        self.assertEqual(wro["status"], "Completed")
        refused = self.messages(
            message_type="inbound_notice", purpose="cancel", picking_id=second.id
        )
        self.assertEqual(refused.state, "error")
        self.assertIn("already_received", refused.error)

    def test_an_advice_for_a_receipt_odoo_never_announced(self):
        # a WRO someone made at the 3PL by hand
        client = self.backend._threepl_client()
        inventory = self.sandbox.warehouse.products["MUG-1"]["inventory_id"]
        client.post(
            "receiving",
            {
                "fulfillment_center": {"id": 10},
                "package_type": "Package",
                "box_packaging_type": "EverythingInOneBox",
                "purchase_order_number": "PO-ELSEWHERE",
                "boxes": [
                    {
                        "tracking_number": "T1",
                        "box_items": [{"inventory_id": inventory, "quantity": 1}],
                    }
                ],
            },
            operation="wro.create",
        )
        floor.receive(self.sandbox, "PO-ELSEWHERE")
        self.poll()
        self.assertFalse(self.advices())
        (exception,) = self.open_exceptions("receipt:PO-ELSEWHERE")
        self.assertIn("never announced", exception.message)


@tagged("post_install", "-at_install")
class TestReceiptSftp(ReceiptMixin, SftpTransport, ThreeplCase):
    def announced(self, *lines):
        picking = self.receipt(*lines)
        run_jobs(self.env)
        self.assertEqual(self.notices().state, "sent")
        self.poll()  # the ack
        self.assertEqual(self.notices().state, "acknowledged")
        return picking

    def test_an_asn_file_then_a_receipt_advice_file_applied_once(self):
        picking = self.announced((self.mug, 5))
        wro = self.sandbox.warehouse.wros[self.sandbox.warehouse.asn_refs[picking.name]]
        self.assertEqual(wro["transport"], "sftp")
        before = self.on_hand(self.mug)
        self.sandbox.sftp.add_file_fault("duplicate")
        floor.receive(
            self.sandbox, picking.name, [{"sku": "MUG-1", "received": 4, "damaged": 1}]
        )
        self.poll()
        self.sandbox.sftp.release()  # the same advice dropped again
        self.poll()
        self.poll()
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self.advices()), 1)
        self.assertEqual(self.on_hand(self.mug) - before, 4)
        self.assertFalse(self.sandbox.sftp.info()["files"]["inbox"])

    def test_a_partial_receipt_then_the_rest_on_the_same_asn(self):
        picking = self.announced((self.mug, 10))
        floor.receive(
            self.sandbox, picking.name, [{"sku": "MUG-1", "received": 6}], False
        )
        self.poll()
        self.assertEqual(picking.state, "done")
        backorder = picking.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 4)
        self.assertEqual(backorder.state, "assigned")
        # more may come: no exception, the ASN stays open
        self.assertFalse(self.open_exceptions(f"short:{picking.name}"))
        self.assertEqual(self.notices().state, "acknowledged")
        floor.receive(self.sandbox, picking.name, [{"sku": "MUG-1", "received": 4}])
        self.poll()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(len(self.advices()), 2)
        self.assertEqual(self.advices()[1].picking_id, backorder)
        self.assertEqual(self.notices().state, "done")

    def test_an_advice_for_a_received_receipt_is_an_exception(self):
        picking = self.announced((self.mug, 2))
        floor.receive(self.sandbox, picking.name)
        self.poll()
        self.assertEqual(picking.state, "done")
        # the 3PL reports more goods on the closed ASN (a second advice)
        wro = self.sandbox.warehouse.wros[self.sandbox.warehouse.asn_refs[picking.name]]
        wro["status"] = "Processing"
        floor.receive(self.sandbox, picking.name, [{"sku": "MUG-1", "received": 1}])
        self.poll()
        self.assertEqual(len(self.advices()), 1)
        (exception,) = self.open_exceptions(f"receipt:{picking.name}")
        self.assertIn("received or cancelled in Odoo already", exception.message)


@tagged("post_install", "-at_install")
class TestReceiptMessagesView(ReceiptMixin, ThreeplCase):
    def test_the_receipts_filter_finds_notice_and_advice(self):
        picking = self.receipt((self.mug, 1))
        run_jobs(self.env)
        floor.receive(self.sandbox, picking.name)
        self.assertFalse(
            self.backend._policy("shipment")._job_poll().startswith("failed")
        )
        run_jobs(self.env)
        view = self.env.ref("retail_connect_3pl.threepl_message_view_search")
        (node,) = etree.fromstring(view.arch).xpath("//filter[@name='receipts']")
        domain = safe_eval(node.get("domain"))
        found = self.Message.search(domain + [("backend_id", "=", self.backend.id)])
        self.assertEqual(
            sorted(found.mapped("message_type")), ["inbound_notice", "receipt_advice"]
        )
        self.assertEqual(found.picking_id, picking)
