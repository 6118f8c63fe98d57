"""Flow in: a shipping advice (≈945) → the delivery validated.

A shipment webhook is stored by the base's inbox (deduplicated on its
``webhook-id``) and processed by the event's job: the connector reads the
3PL's order again and applies its advice once (its ``message_id`` is unique
per backend). The delivery gets what shipped, the carrier and the tracking
numbers, and is validated; what the 3PL did not ship goes to a backorder with
an exception saying why. An advice for an order Odoo does not know, or for a
delivery already done or cancelled, opens an exception instead.

Webhooks can be lost (ShipBob retries for 24 hours, then gives up): the
shipment policy's poll is the backstop. It reads the 3PL's orders of the
deliveries sent and not shipped yet, and stores one inbox event per closed
one, processed as a webhook would be.
"""

import json

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    EventSkipped,
    MappingError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib.mappers import advice_from_order
from .retail_backend import PLATFORM

POLL_BATCH = 50  # reference ids per GET /order


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _poll(self, policy, since, until):
        if not (
            self.platform == PLATFORM
            and self.threepl_transport == "rest"
            and policy.domain == "shipment"
        ):
            return super()._poll(policy, since, until)
        waiting = (
            self.env["threepl.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "shipping_order"),
                    ("purpose", "=", "new"),
                    ("state", "in", ("sent", "acknowledged")),
                ]
            )
        )
        refs = waiting.mapped("order_ref")
        client = self._threepl_client()
        deliveries = []
        for start in range(0, len(refs), POLL_BATCH):
            chunk = ",".join(refs[start : start + POLL_BATCH])
            for order in client.list_all(
                "order", {"ReferenceIds": chunk}, operation="order.list"
            ):
                advice = advice_from_order(order)
                if advice is None:
                    continue
                ref = order["reference_id"]
                deliveries.append(
                    Delivery(
                        topic="order.shipped",
                        dedup_key=f"poll:{advice['message_id']}",
                        payload=json.dumps(
                            {"reference_id": ref, "order_id": order["id"]}
                        ).encode(),
                        subject_key=f"order:{ref}",
                    )
                )
        return deliveries

    def _threepl_receive_shipping_advice(self, event):
        """A shipment webhook: read the order again, apply its advice."""
        data = event._data()
        ref = data.get("reference_id")
        if not ref:
            raise MappingError(
                self.env._("A shipment webhook without the order's reference_id.")
            )
        order = self._threepl_transport().find_order(ref)
        if not order:
            raise MappingError(
                self.env._(
                    "The 3PL sent a shipment of %(ref)s but has no such order.",
                    ref=ref,
                ),
                subject_key=f"order:{ref}",
            )
        advice = advice_from_order(order)
        if advice is None:
            raise EventSkipped(
                "skipped_stale",
                f"order {ref} is {order.get('status')} at the 3PL: not closed yet",
            )
        return self._threepl_apply_advice(advice, event=event)

    def _threepl_apply_advice(self, advice, event=None):
        """Apply a canonical shipping advice; return the delivery."""
        self.ensure_one()
        ref = advice.get("order_ref")
        self._lock_external("stock.picking", ref)
        messages = self.env["threepl.message"].sudo()
        seen = messages.search(
            [("backend_id", "=", self.id), ("message_id", "=", advice["message_id"])],
            limit=1,
        )
        if seen:
            raise EventSkipped(
                "skipped_duplicate", f"advice {advice['message_id']} applied already"
            )
        order = messages.search(
            [
                ("backend_id", "=", self.id),
                ("message_type", "=", "shipping_order"),
                ("purpose", "=", "new"),
                ("order_ref", "=", ref),
            ],
            order="id desc",
            limit=1,
        )
        picking = order.picking_id
        if not picking:
            raise MappingError(
                self.env._(
                    "The 3PL reports a shipment of %(ref)s, which Odoo never "
                    "sent it: check the order at the 3PL.",
                    ref=ref,
                ),
                subject_key=f"order:{ref}",
            )
        if picking.state == "cancel" and advice["status"] == "cancelled":
            raise EventSkipped("skipped_stale", f"{ref} is cancelled on both sides")
        if picking.state in ("done", "cancel"):
            raise ConflictError(
                self.env._(
                    "The 3PL reports a shipment of %(ref)s, which is %(state)s in "
                    "Odoo: check what was shipped at the 3PL.",
                    ref=ref,
                    state=dict(picking._fields["state"].selection)[picking.state],
                ),
                subject_key=f"order:{ref}",
            )
        message = messages.create(
            {
                "backend_id": self.id,
                "message_type": "shipping_advice",
                "direction": "in",
                "message_id": advice["message_id"],
                "order_ref": ref,
                "remote_ref": advice.get("shipment_ref"),
                "transport": self.threepl_transport,
                "payload": json.dumps(advice),
                "picking_id": picking.id,
                "sale_id": picking.sale_id.id,
                "event_id": event.id if event else False,
            }
        )
        short = [line for line in advice["lines"] if line.get("qty_short")]
        if advice["status"] == "cancelled":
            message.write({"state": "done", "done_at": fields.Datetime.now()})
            self._threepl_report_short(message, picking, short, advice)
            return picking
        self._threepl_ship(picking, order, advice)
        message.write({"state": "done", "done_at": fields.Datetime.now()})
        order.state = "done"
        if short:
            self._threepl_report_short(message, picking, short, advice)
        return picking

    def _threepl_ship(self, picking, order, advice):
        """Set what shipped on the delivery's moves, validate it; the rest
        goes to a backorder."""
        lines = {line["line_no"]: line for line in order._data().get("lines") or []}
        shipped = {}
        for line in advice["lines"]:
            sent = lines.get(line["line_no"])
            if not sent:
                raise MappingError(
                    self.env._(
                        "The advice of %(ref)s has a line %(line)s (%(sku)s) the "
                        "shipping order did not have.",
                        ref=picking.name,
                        line=line["line_no"],
                        sku=line.get("sku"),
                    ),
                    subject_key=f"order:{picking.name}",
                )
            move = self.env["stock.move"].browse(sent["move_id"])
            shipped[move] = shipped.get(move, 0.0) + float(line["qty_shipped"] or 0)
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            quantity = shipped.get(move, 0.0)
            move.quantity = quantity
            move.picked = bool(quantity)
        values = {}
        numbers = [p["tracking_number"] for p in advice.get("packages") or []]
        if numbers:
            values["carrier_tracking_ref"] = ",".join(numbers)
        carrier = self._threepl_carrier(advice.get("carrier"))
        if carrier:
            values["carrier_id"] = carrier.id
        if values:
            picking.write(values)
        picking.with_context(cancel_backorder=False)._action_done()

    def _threepl_carrier(self, name):
        if not name:
            return self.env["delivery.carrier"]
        return (
            self.env["delivery.carrier"]
            .sudo()
            .search(
                [
                    ("name", "=ilike", name),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
        )

    def _threepl_report_short(self, message, picking, short, advice):
        """What the 3PL will not ship: an exception on the backorder."""
        backorder = picking.backorder_ids[:1]
        what = ", ".join(
            f"{line.get('sku')} × {line['qty_short']:g}"
            + (f" ({line['reason']})" if line.get("reason") else "")
            for line in short
        )
        _ = self.env._
        if advice["status"] == "cancelled":
            text = _(
                "The 3PL will not ship %(ref)s: %(what)s. Cancel the delivery, "
                "or send it again once the stock is there.",
                ref=picking.name,
                what=what,
            )
        else:
            text = _(
                "The 3PL shipped %(ref)s short: %(what)s. The rest waits in the "
                "backorder %(backorder)s: cancel it, or let it ship when the "
                "stock is there.",
                ref=picking.name,
                what=what,
                backorder=backorder.name or "-",
            )
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="shipment",
            category="conflict",
            message=text,
            subject_key=f"short:{picking.name}",
            record=backorder or picking,
        )
