"""Flow out: a delivery ready in a 3PL-managed warehouse → a shipping order.

The message is recorded (with its ``message_id``) in the transaction that
made the delivery ready, then sent by a queue job in the backend's channel.
The job sends a message once: a retry after a lost answer adopts the order
the first try created (the REST transport's 422 on a known ``reference_id``),
so the 3PL holds one order per delivery whatever the retries. Cancelling the
delivery before it ships sends a cancel message; the 3PL refusing it (the
order shipped already) opens an exception.
"""

import json

from odoo import fields, models

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    RemoteError,
    TransientError,
    ValidationSyncError,
)

from ..lib.transport import Refused


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ------------------------------------------------------------ triggers
    def _threepl_release(self, picking):
        """Record the shipping order of a ready delivery and queue its job.

        Once per delivery: a delivery made ready again (unreserved, then
        reserved) keeps its first message.
        """
        self.ensure_one()
        if not self._policy("shipment")._allows_export():
            return self.env["threepl.message"]
        existing = self._threepl_order_message(picking)
        if existing:
            return existing
        message = (
            self.env["threepl.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "message_type": "shipping_order",
                    "direction": "out",
                    "purpose": "new",
                    "order_ref": picking.name,
                    "transport": self.threepl_transport,
                    "picking_id": picking.id,
                    "sale_id": picking.sale_id.id,
                }
            )
        )
        self._threepl_enqueue(message)
        return message

    def _threepl_cancel(self, picking):
        """The delivery was cancelled: cancel its order at the 3PL."""
        self.ensure_one()
        order = self._threepl_order_message(picking)
        if not order:
            return self.env["threepl.message"]
        sent = self._threepl_order_message(picking, purpose="cancel")
        if sent:
            return sent  # its moves cancelled in several steps: one message
        message = (
            self.env["threepl.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "message_type": "shipping_order",
                    "direction": "out",
                    "purpose": "cancel",
                    "order_ref": picking.name,
                    "transport": self.threepl_transport,
                    "picking_id": picking.id,
                    "sale_id": picking.sale_id.id,
                }
            )
        )
        self._threepl_enqueue(message)
        return message

    def _threepl_order_message(self, picking, purpose="new"):
        """The shipping order (``purpose``) of ``picking`` on this backend."""
        return (
            self.env["threepl.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "shipping_order"),
                    ("purpose", "=", purpose),
                    ("picking_id", "=", picking.id),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _threepl_enqueue(self, message):
        self.with_delay(
            channel=self._channel("realtime"),
            max_retries=self.job_max_retries,
            identity_key=f"threepl_send_{self.id}_{message.message_id}",
            description=f"{self.name}: {message.name}",
        )._job_threepl_send(message)

    # ----------------------------------------------------------------- job
    def _job_threepl_send(self, message):
        """Send one outbound message (idempotent: a sent one is left alone)."""
        self.ensure_one()
        message = message.sudo()
        message.attempts = self._job_attempt()
        kind = "cancel" if message.purpose == "cancel" else "order"
        unreachable = []

        def send(message):
            try:
                return self._threepl_send(message)
            except (TransientError, RetryableJobError) as err:
                unreachable.append(err)
                raise

        result = self._run_outbound(
            "shipment",
            f"{kind}:{message.order_ref}",
            send,
            message,
            record=message.picking_id or message,
        )
        if message.state in ("draft", "error") and result.startswith("failed: "):
            # the body failed for good (its exception is open): say so here;
            # a 3PL that stayed unreachable refused nothing: the message keeps
            # its place in the backlog (threepl_backlog.py) and goes out, in
            # order, once the 3PL answers again
            message.write(
                {
                    "state": "draft" if unreachable else "error",
                    "error": result.removeprefix("failed: "),
                }
            )
        return result

    def _threepl_send(self, message):
        self._lock_external("stock.picking", message.order_ref)
        if message.state not in ("draft", "error"):
            return f"{message.name}: already {message.state}"
        picking = message.picking_id
        if message.purpose == "new" and picking.state == "cancel":
            message.write(
                {"state": "done", "error": "Not sent: the delivery was cancelled."}
            )
            return f"{message.name}: not sent, the delivery was cancelled"
        if message.purpose == "new" and picking.retail_hold:
            # sent once released (stock.picking._retail_hold_released)
            return f"{message.name}: not sent, the delivery is on hold"
        if message.purpose == "cancel":
            order = self._threepl_order_message(picking)
            if not order.sent_at:
                # nothing reached the 3PL: nothing to cancel there
                message.write(
                    {
                        "state": "done",
                        "error": "Not sent: the order never reached the 3PL.",
                    }
                )
                return f"{message.name}: nothing to cancel"
        if not message.payload:
            message.payload = json.dumps(self._threepl_order_payload(message))
        transport = self._threepl_transport()
        try:
            answer = transport.send(message._data())
        except Refused as err:
            if err.code == "already_shipped":
                raise ConflictError(
                    self.env._(
                        "%(order)s was cancelled in Odoo but the 3PL has shipped "
                        "it already: %(reason)s. Contact the customer (a return, "
                        "or an invoice for the goods).",
                        order=message.order_ref,
                        reason=err.message,
                    )
                ) from err
            raise RemoteError(
                self.env._(
                    "The 3PL refused %(message)s (%(code)s): %(reason)s",
                    message=message.name,
                    code=err.code,
                    reason=err.message,
                ),
                code=err.code,
            ) from err
        finally:
            transport.close()
        message.write(
            {
                "state": "acknowledged" if answer.get("acked") else "sent",
                "remote_ref": answer.get("remote_ref") or False,
                "sent_at": fields.Datetime.now(),
                "error": False,
            }
        )
        if message.purpose == "cancel" and answer.get("acked"):
            message.state = "done"
            self._threepl_order_message(picking).state = "done"
        adopted = ""
        if answer.get("adopted"):
            adopted = " (adopted the order of an earlier try)"
        return f"{message.name}: {message.state}{adopted}"

    # ------------------------------------------------------------- mapping
    def _threepl_move_lines(self, picking):
        """``(move, line)`` for each move of ``picking`` not cancelled, the line
        with what every 3PL message says of it (the 3PL knows products by SKU:
        a product without one is an error to fix, then Retry)."""
        pairs = []
        moves = picking.move_ids.filtered(lambda m: m.state != "cancel")
        for number, move in enumerate(moves.sorted("id"), 1):
            product = move.product_id
            if not product.default_code:
                raise ValidationSyncError(
                    self.env._(
                        "%(product)s has no internal reference: the 3PL knows "
                        "products by SKU. Set it, then press Retry.",
                        product=product.display_name,
                    )
                )
            line = {
                "line_no": number,
                "move_id": move.id,
                "sku": product.default_code,
                "barcode": product.barcode or None,
                "qty": move.product_uom_qty,
                "uom": "EA",
            }
            pairs.append((move, line))
        return pairs

    def _threepl_order_payload(self, message):
        """The canonical shipping order (≈940) of the message's delivery."""
        picking = message.picking_id
        base = {
            "type": "shipping_order",
            "message_id": message.message_id,
            "purpose": message.purpose,
            "order_ref": picking.name,
        }
        if message.purpose == "cancel":
            return base
        partner = picking.partner_id
        lines = [
            dict(line, name=move.product_id.name)
            for move, line in self._threepl_move_lines(picking)
        ]
        return dict(
            base,
            customer_order_ref=picking.sale_id.name or picking.origin or None,
            warehouse_code=picking.picking_type_id.warehouse_id.code,
            requested_ship_date=fields.Date.to_string(picking.scheduled_date),
            carrier_code=picking.carrier_id.name or None,
            service_level=None,
            ship_to={
                "name": partner.name,
                "company": partner.commercial_company_name
                if partner.parent_id
                else None,
                "street": partner.street,
                "street2": partner.street2 or None,
                "city": partner.city,
                "state_code": partner.state_id.code or None,
                "zip": partner.zip,
                "country_code": partner.country_id.code,
                "phone": partner.phone or partner.mobile or None,
                "email": partner.email or None,
            },
            lines=lines,
            notes=None,
        )
