"""Inbound goods: the receipt announced (≈943), then received (≈944).

Flow out: a receipt becoming ready in a 3PL-managed warehouse records an
inbound shipment notice (the ASN; ShipBob's Warehouse Receiving Order) and
queues its job, as a delivery records a shipping order. The receipt's name is
the ASN's reference (``asn_ref``): over REST a retry adopts the WRO an earlier
try created, over SFTP the file of a retry is the same file. A backorder of an
announced receipt is not announced again: the 3PL receives it on the same ASN.

Flow in: a receipt advice (a completed WRO read by the shipment policy's
poll, or a ``receipt_advice`` file) validates the receipt once (its
``message_id`` is unique per backend): the good and damaged units are
received, the damaged ones then scrapped (they are never sellable stock),
lots as the 3PL counted them; what did not arrive waits in a backorder. When
the 3PL closes the ASN short, an exception says so. An advice for a receipt
Odoo never announced, or one received already, opens an exception.
"""

import json
from collections import defaultdict

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    EventSkipped,
    MappingError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib.rest_receiving import receipt_advice_from_wro
from .retail_backend import PLATFORM

# a completed WRO found by the poll (not a ShipBob webhook topic)
WRO_TOPIC = "receiving.completed"
RECEIPT_TOPICS = (WRO_TOPIC, "sftp.receipt_advice")
CLOSED = ("done", "cancel")


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ------------------------------------------------------------ flow out
    def _threepl_notify_receipt(self, picking):
        """Record the inbound shipment notice of a ready receipt, queue it.

        Once per receipt; none for a backorder of an announced receipt."""
        self.ensure_one()
        if not self._policy("shipment")._allows_export():
            return self.env["threepl.message"]
        existing = self._threepl_notice(picking)
        if existing:
            return existing
        origin = picking.backorder_id
        while origin:
            if self._threepl_notice(origin):
                return self.env["threepl.message"]
            origin = origin.backorder_id
        message = (
            self.env["threepl.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "message_type": "inbound_notice",
                    "direction": "out",
                    "purpose": "new",
                    "order_ref": picking.name,
                    "transport": self.threepl_transport,
                    "picking_id": picking.id,
                }
            )
        )
        self._threepl_enqueue(message)
        return message

    def _threepl_cancel_receipt(self, picking):
        """The receipt was cancelled: cancel its notice at the 3PL (once)."""
        self.ensure_one()
        if not self._threepl_notice(picking):
            return self.env["threepl.message"]
        sent = self._threepl_notice(picking, purpose="cancel")
        if sent:
            return sent
        message = (
            self.env["threepl.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "message_type": "inbound_notice",
                    "direction": "out",
                    "purpose": "cancel",
                    "order_ref": picking.name,
                    "transport": self.threepl_transport,
                    "picking_id": picking.id,
                }
            )
        )
        self._threepl_enqueue(message)
        return message

    def _threepl_order_message(self, picking, purpose="new"):
        # the send job asks for the first message of a picking it cancels
        if picking.picking_type_code == "incoming":
            return self._threepl_notice(picking, purpose=purpose)
        return super()._threepl_order_message(picking, purpose=purpose)

    def _threepl_notice(self, picking, purpose="new"):
        return (
            self.env["threepl.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "inbound_notice"),
                    ("purpose", "=", purpose),
                    ("picking_id", "=", picking.id),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _threepl_order_payload(self, message):
        if message.message_type != "inbound_notice":
            return super()._threepl_order_payload(message)
        return self._threepl_notice_payload(message)

    def _threepl_notice_payload(self, message):
        """The canonical inbound shipment notice (≈943) of a receipt."""
        picking = message.picking_id
        base = {
            "type": "inbound_shipment_notice",
            "message_id": message.message_id,
            "purpose": message.purpose,
            "asn_ref": picking.name,
        }
        if message.purpose == "cancel":
            return base
        lines = [
            dict(line, lot=None, expiry=None)
            for _move, line in self._threepl_move_lines(picking)
        ]
        return dict(
            base,
            warehouse_code=picking.picking_type_id.warehouse_id.code,
            expected_date=fields.Date.to_string(picking.scheduled_date),
            ship_from_name=picking.partner_id.commercial_partner_id.name or None,
            carrier_code=None,
            tracking_number=None,
            lines=lines,
        )

    # ------------------------------------------------------------- flow in
    def _poll(self, policy, since, until):
        deliveries = super()._poll(policy, since, until)
        if not (
            self.platform == PLATFORM
            and self.threepl_transport == "rest"
            and policy.domain == "shipment"
        ):
            return deliveries
        deliveries = list(deliveries)
        client = self._threepl_client()
        for wro in client.list_all(
            "receiving",
            {"Statuses": "Completed", "ExternalSync": "false"},
            operation="receiving.list",
        ):
            ref = wro.get("purchase_order_number")
            deliveries.append(
                Delivery(
                    topic=WRO_TOPIC,
                    dedup_key=f"poll:wro-{wro['id']}",
                    payload=json.dumps({"id": wro["id"], "asn_ref": ref}).encode(),
                    subject_key=f"receipt:{ref}",
                )
            )
        return deliveries

    def _event_domain(self, topic):
        if self.platform == PLATFORM and topic in RECEIPT_TOPICS:
            return "shipment"
        return super()._event_domain(topic)

    def _process_event(self, event):
        if self.platform == PLATFORM and event.topic == WRO_TOPIC:
            return self._threepl_receive_wro(event)
        if self.platform == PLATFORM and event.topic == "sftp.receipt_advice":
            return self._threepl_apply_receipt(event._data(), event=event)
        return super()._process_event(event)

    def _threepl_receive_wro(self, event):
        """A completed WRO: read it again, apply its advice, mark it synced
        (so the poll no longer lists it)."""
        wro_id = event._data().get("id")
        client = self._threepl_client()
        wro = client.get(f"receiving/{wro_id}", operation="wro.get").json()
        advice = receipt_advice_from_wro(wro)
        if advice is None:
            raise EventSkipped(
                "skipped_stale", f"receiving order {wro_id} is {wro.get('status')}"
            )
        try:
            return self._threepl_apply_receipt(advice, event=event)
        except EventSkipped:
            # applied before: the poll need not list it again
            self._threepl_mark_synced(client, wro_id)
            raise

    def _threepl_mark_synced(self, client, wro_id):
        client.post(
            "receiving:setExternalSync",
            {"ids": [wro_id], "is_external_sync": True},
            operation="wro.sync",
        )

    def _threepl_apply_receipt(self, advice, event=None):
        """Apply a canonical receipt advice; return the receipt validated."""
        self.ensure_one()
        ref = advice.get("asn_ref")
        if not ref:
            raise MappingError(self.env._("A receipt advice without its asn_ref."))
        self._lock_external("stock.picking", ref)
        messages = self.env["threepl.message"].sudo()
        if messages.search_count(
            [("backend_id", "=", self.id), ("message_id", "=", advice["message_id"])]
        ):
            raise EventSkipped(
                "skipped_duplicate", f"advice {advice['message_id']} applied already"
            )
        notice = messages.search(
            [
                ("backend_id", "=", self.id),
                ("message_type", "=", "inbound_notice"),
                ("purpose", "=", "new"),
                ("order_ref", "=", ref),
            ],
            order="id desc",
            limit=1,
        )
        if not notice.picking_id:
            raise MappingError(
                self.env._(
                    "The 3PL reports goods received for %(ref)s, which Odoo never "
                    "announced to it: check the receiving order at the 3PL.",
                    ref=ref,
                ),
                subject_key=f"receipt:{ref}",
            )
        picking = self._threepl_open_receipt(notice.picking_id)
        if not picking:
            raise ConflictError(
                self.env._(
                    "The 3PL reports goods received for %(ref)s, which is received "
                    "or cancelled in Odoo already: check the receipt at the 3PL "
                    "and count the stock.",
                    ref=ref,
                ),
                subject_key=f"receipt:{ref}",
            )
        message = messages.create(
            {
                "backend_id": self.id,
                "message_type": "receipt_advice",
                "direction": "in",
                "message_id": advice["message_id"],
                "order_ref": ref,
                "remote_ref": advice.get("receipt_ref"),
                "transport": self.threepl_transport,
                "payload": json.dumps(advice),
                "picking_id": picking.id,
                "event_id": event.id if event else False,
            }
        )
        damaged = self._threepl_receive(picking, advice)
        self._threepl_scrap_damaged(picking, damaged)
        message.write({"state": "done", "done_at": fields.Datetime.now()})
        backorder = picking.backorder_ids.filtered(lambda p: p.state not in CLOSED)
        if advice.get("status") != "partial":
            notice.state = "done"
            if backorder:
                self._threepl_report_short_receipt(picking, backorder, ref)
        if event and event.topic == WRO_TOPIC:
            self._threepl_mark_synced(
                self._threepl_client(), int(advice["receipt_ref"])
            )
        return picking

    def _threepl_open_receipt(self, picking):
        """The receipt of the ASN still open: the notice's, or its backorder's."""
        pickings = picking
        while pickings:
            still = pickings.filtered(lambda p: p.state not in CLOSED)
            if still:
                return still[:1]
            pickings = pickings.backorder_ids
        return self.env["stock.picking"]

    def _threepl_receive(self, picking, advice):
        """Set what arrived (good and damaged units, per lot) on the
        receipt's moves and validate it; return the damaged units
        ``[(move, lot name, quantity)]``."""
        moves = picking.move_ids.filtered(lambda m: m.state not in CLOSED)
        by_sku = {}
        for move in moves.sorted("id"):
            by_sku.setdefault(move.product_id.default_code, move)
        arrived = defaultdict(lambda: defaultdict(float))
        damaged = []
        for line in advice["lines"]:
            move = by_sku.get(line.get("sku"))
            if move is None:
                raise MappingError(
                    self.env._(
                        "The 3PL received %(sku)s for %(ref)s, which the receipt "
                        "does not expect: receive it by hand, or ask the 3PL.",
                        sku=line.get("sku"),
                        ref=picking.name,
                    ),
                    subject_key=f"receipt:{advice['asn_ref']}",
                )
            good = float(line.get("qty_received") or 0)
            bad = float(line.get("qty_damaged") or 0)
            lot = line.get("lot") or None
            if (good or bad) and move.has_tracking != "none" and not lot:
                raise MappingError(
                    self.env._(
                        "The 3PL received %(sku)s for %(ref)s without a lot, and "
                        "the product is tracked by lot: ask the 3PL for the lots.",
                        sku=line.get("sku"),
                        ref=picking.name,
                    ),
                    subject_key=f"receipt:{advice['asn_ref']}",
                )
            arrived[move][lot] += good + bad
            if bad:
                damaged.append((move, lot, bad))
        for move in moves:
            lots = {lot: qty for lot, qty in arrived.get(move, {}).items() if qty}
            total = sum(lots.values())
            if move.has_tracking != "none" and total:
                move.move_line_ids.unlink()
                self.env["stock.move.line"].create(
                    [
                        dict(
                            move._prepare_move_line_vals(quantity=qty),
                            lot_name=lot,
                            quantity=qty,
                        )
                        for lot, qty in lots.items()
                    ]
                )
            else:
                move.quantity = total
            move.picked = bool(total)
        picking.with_context(cancel_backorder=False)._action_done()
        return damaged

    def _threepl_scrap_damaged(self, picking, damaged):
        """Damaged units arrived, and are scrapped: never sellable stock."""
        scraps = self.env["stock.scrap"].sudo()
        for move, lot_name, quantity in damaged:
            product = move.product_id
            lot = self.env["stock.lot"]
            if lot_name:
                lot = lot.sudo().search(
                    [
                        ("product_id", "=", product.id),
                        ("name", "=", lot_name),
                        ("company_id", "in", (False, picking.company_id.id)),
                    ],
                    limit=1,
                )
            scraps |= scraps.create(
                {
                    "product_id": product.id,
                    "product_uom_id": move.product_uom.id,
                    "scrap_qty": quantity,
                    "lot_id": lot.id,
                    "location_id": move.location_dest_id.id,
                    "picking_id": picking.id,
                    "company_id": picking.company_id.id,
                    "origin": picking.name,
                }
            )
        if scraps:
            scraps.do_scrap()
        return scraps

    def _threepl_report_short_receipt(self, picking, backorder, ref):
        what = ", ".join(
            f"{m.product_id.default_code or m.product_id.name} × {m.product_uom_qty:g}"
            for m in backorder.move_ids
        )
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="shipment",
            category="conflict",
            message=self.env._(
                "The 3PL closed the receipt %(ref)s short: %(what)s did not "
                "arrive. The rest waits in the backorder %(backorder)s: cancel "
                "it, or receive it by hand if the supplier sends it later.",
                ref=ref,
                what=what,
                backorder=backorder[:1].name,
            ),
            subject_key=f"short:{ref}",
            record=backorder[:1],
        )


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _threepl_release(self):
        """Receipts now ready in a 3PL-managed warehouse: inbound notices
        (returns of deliveries excluded: the 3PL reports those)."""
        result = super()._threepl_release()
        backends = self.env["retail.backend"]
        for picking in self.filtered(
            lambda p: (
                p.picking_type_code == "incoming"
                and p.state == "assigned"
                and not p.return_id
            )
        ):
            warehouse = picking.picking_type_id.warehouse_id
            for backend in backends._threepl_backends_for(warehouse):
                backend._threepl_notify_receipt(picking)
        return result

    def _threepl_cancelled(self):
        """Receipts cancelled: cancel their notices at the 3PL."""
        result = super()._threepl_cancelled()
        backends = self.env["retail.backend"]
        for picking in self.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state == "cancel"
        ):
            warehouse = picking.picking_type_id.warehouse_id
            for backend in backends._threepl_backends_for(warehouse):
                backend._threepl_cancel_receipt(picking)
        return result
