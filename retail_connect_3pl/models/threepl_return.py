"""Flow in: a return advice (≈180) → one return receipt of the delivery.

A customer return the 3PL has received and processed arrives as a signed
``return.completed`` webhook (ShipBob: "Use return.completed events to update
your system when a return has successfully been processed and completed",
https://developer.shipbob.com/2026-07/webhooks), read again with
``GET /return/{id}`` (https://developer.shipbob.com/guides/returns), or as a
``return_advice`` file (docs/3pl-sftp-csv.md §3.6). The connector makes one
return picking of the original delivery (the shipping order of ``order_ref``,
or the delivery whose shipment the return names) and validates it: restocked
units back in stock, damaged or disposed ones received then scrapped. The
3PL's return id is the message's reference: a return reported twice, under
one message id or two, makes one return receipt. A return Odoo cannot place
on a shipped delivery opens an exception.
"""

import json

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import EventSkipped, MappingError

from ..lib.rest_receiving import return_advice_from_return
from ..lib.verifier import RETURN_TOPICS
from .retail_backend import PLATFORM

SFTP_TOPIC = "sftp.return_advice"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _event_domain(self, topic):
        if self.platform == PLATFORM and topic == SFTP_TOPIC:
            return "return"
        return super()._event_domain(topic)

    def _process_event(self, event):
        if self.platform == PLATFORM and event.topic in RETURN_TOPICS:
            return self._threepl_receive_return(event)
        if self.platform == PLATFORM and event.topic == SFTP_TOPIC:
            return self._threepl_apply_return(event._data(), event=event)
        return super()._process_event(event)

    def _threepl_receive_return(self, event):
        """A return webhook: read the return again, apply its advice."""
        return_id = event._data().get("id")
        if not return_id:
            raise MappingError(self.env._("A return webhook without the return's id."))
        client = self._threepl_client()
        ret = client.get(f"return/{int(return_id)}", operation="return.get").json()
        advice = return_advice_from_return(ret)
        if advice is None:
            raise EventSkipped(
                "skipped_stale", f"return {return_id} is {ret.get('status')}"
            )
        return self._threepl_apply_return(advice, event=event)

    def _threepl_apply_return(self, advice, event=None):
        """Apply a canonical return advice; return the return receipt."""
        self.ensure_one()
        ref = advice.get("return_ref")
        if not ref:
            raise MappingError(self.env._("A return advice without its return_ref."))
        self._lock_external("stock.picking", f"return:{ref}")
        messages = self.env["threepl.message"].sudo()
        seen = messages.search(
            [
                ("backend_id", "=", self.id),
                ("message_type", "=", "return_advice"),
                "|",
                ("message_id", "=", advice["message_id"]),
                ("remote_ref", "=", ref),
            ],
            limit=1,
        )
        if seen:
            raise EventSkipped(
                "skipped_duplicate", f"return {ref} made {seen.picking_id.name} already"
            )
        delivery = self._threepl_returned_delivery(advice)
        if not delivery:
            raise MappingError(
                self.env._(
                    "The 3PL received the return %(ref)s of %(order)s, which is "
                    "no delivery Odoo shipped through it: make the return by hand "
                    "from the right delivery.",
                    ref=ref,
                    order=advice.get("order_ref")
                    or advice.get("original_shipment_id")
                    or "-",
                ),
                subject_key=f"return:{ref}",
            )
        message = messages.create(
            {
                "backend_id": self.id,
                "message_type": "return_advice",
                "direction": "in",
                "message_id": advice["message_id"],
                "order_ref": delivery.name,
                "remote_ref": ref,
                "transport": self.threepl_transport,
                "payload": json.dumps(advice),
                "sale_id": delivery.sale_id.id,
                "event_id": event.id if event else False,
            }
        )
        picking = self._threepl_return_picking(delivery, advice)
        message.write(
            {
                "picking_id": picking.id,
                "state": "done",
                "done_at": fields.Datetime.now(),
            }
        )
        return picking

    def _threepl_returned_delivery(self, advice):
        """The shipped delivery a return is of: by its ``order_ref``, or by the
        3PL's shipment it names."""
        messages = self.env["threepl.message"].sudo()
        found = messages
        if advice.get("order_ref"):
            found = messages.search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "shipping_order"),
                    ("purpose", "=", "new"),
                    ("order_ref", "=", advice["order_ref"]),
                ],
                order="id desc",
                limit=1,
            )
        elif advice.get("original_shipment_id"):
            shipment = str(advice["original_shipment_id"])
            found = messages.search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "shipping_advice"),
                    ("remote_ref", "ilike", shipment),
                ]
            ).filtered(lambda m: shipment in (m.remote_ref or "").split(","))[:1]
        picking = found.picking_id
        if picking.state != "done" or picking.picking_type_code != "outgoing":
            return self.env["stock.picking"]
        return picking

    def _threepl_return_picking(self, delivery, advice):
        """One validated return of ``delivery``: what came back, the damaged
        units scrapped."""
        moves = delivery.move_ids.filtered(lambda m: m.state == "done")
        by_sku = {m.product_id.default_code: m.product_id for m in moves}
        back, damaged = {}, {}
        for line in advice["lines"]:
            product = by_sku.get(line.get("sku"))
            if product is None:
                raise MappingError(
                    self.env._(
                        "The return %(ref)s holds %(sku)s, which %(delivery)s did "
                        "not ship: make the return by hand.",
                        ref=advice["return_ref"],
                        sku=line.get("sku"),
                        delivery=delivery.name,
                    ),
                    subject_key=f"return:{advice['return_ref']}",
                )
            good = float(line.get("qty_restocked") or 0)
            bad = float(line.get("qty_damaged") or 0)
            back[product] = back.get(product, 0.0) + good + bad
            damaged[product] = damaged.get(product, 0.0) + bad
        wizard = (
            self.env["stock.return.picking"]
            .sudo()
            .with_context(active_id=delivery.id, active_model="stock.picking")
            .create({"picking_id": delivery.id})
        )
        for line in wizard.product_return_moves:
            line.quantity = back.pop(line.product_id, 0.0)
        if not any(wizard.product_return_moves.mapped("quantity")):
            raise MappingError(
                self.env._(
                    "The return %(ref)s brings nothing back: check it at the 3PL.",
                    ref=advice["return_ref"],
                ),
                subject_key=f"return:{advice['return_ref']}",
            )
        action = wizard.action_create_returns()
        picking = self.env["stock.picking"].browse(action["res_id"])
        picking.origin = f"{delivery.name} ({advice['return_ref']})"
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.with_context(cancel_backorder=True)._action_done()
        self._threepl_scrap_damaged(
            picking,
            [
                (move, None, damaged[move.product_id])
                for move in picking.move_ids
                if damaged.get(move.product_id)
            ],
        )
        return picking
