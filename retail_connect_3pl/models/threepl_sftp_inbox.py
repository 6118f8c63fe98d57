"""Flow in over SFTP: the inbox folder, polled by the shipment policy.

Each complete ``*.csv`` of the inbox becomes one inbox event (topic
``sftp.<type>``, dedup key its ``message_id``), processed by the event's job
like a webhook. A file is archived on a later poll, once its event is stored
(committed): a poll that fails after reading loses nothing, and a file read
twice, or dropped again by the 3PL, is one event. A file still being written
(or truncated) stays where it is and is read again next time; one that can
never be read opens an exception.
"""

import json

from odoo import models

from odoo.addons.retail_connect_base.lib.errors import EventSkipped
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib.csv_codec import Incomplete, Unreadable, read_message
from .retail_backend import PLATFORM


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _poll(self, policy, since, until):
        if not (
            self.platform == PLATFORM
            and self.threepl_transport == "sftp"
            and policy.domain == "shipment"
        ):
            return super()._poll(policy, since, until)
        events = self.env["retail.event"].sudo()
        deliveries = []
        transport = self._threepl_transport()
        try:
            for name in transport.inbox_files():
                data = transport.read_file(name)
                try:
                    message = read_message(name, data)
                except Incomplete:
                    continue  # being written: read again next poll
                except Unreadable as err:
                    self._threepl_unreadable(name, err)
                    continue
                stored = events.search_count(
                    [
                        ("backend_id", "=", self.id),
                        ("dedup_key", "=", message["message_id"]),
                    ]
                )
                if stored:
                    transport.archive_file(name)
                    continue
                ref = message.get("order_ref") or message.get("acked_ref")
                deliveries.append(
                    Delivery(
                        topic=f"sftp.{message['type']}",
                        dedup_key=message["message_id"],
                        payload=json.dumps(message).encode(),
                        subject_key=f"{message['type']}:{ref}" if ref else None,
                    )
                )
        finally:
            transport.close()
        return deliveries

    def _threepl_unreadable(self, name, err):
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="shipment",
            category="validation",
            message=self.env._(
                "The inbox file %(name)s cannot be read: %(error)s. Ask the "
                "3PL to send it again; it stays in the inbox meanwhile.",
                name=name,
                error=err,
            ),
            subject_key=f"file:{name}",
        )

    def _threepl_apply_ack(self, ack):
        """The 3PL's answer (≈997) to a file we wrote."""
        messages = self.env["threepl.message"].sudo()
        message = messages.search(
            [
                ("backend_id", "=", self.id),
                ("direction", "=", "out"),
                ("message_id", "=", ack["acked_message_id"]),
            ],
            limit=1,
        )
        if not message:
            raise EventSkipped(
                "skipped_policy", f"ack of unknown message {ack['acked_message_id']}"
            )
        if message.state not in ("draft", "sent"):
            # a file read twice at the 3PL is acknowledged twice
            raise EventSkipped("skipped_duplicate", f"{message.name} acked already")
        if ack["status"] == "accepted":
            done = message.purpose == "cancel"
            message.write({"state": "done" if done else "acknowledged"})
            if done:
                self._threepl_order_message(message.picking_id).state = "done"
            return message
        errors = "; ".join(
            f"{e['code']}: {e['message'] or ''}".strip() for e in ack["errors"]
        )
        message.write({"state": "error", "error": errors})
        shipped = any(e["code"] == "already_shipped" for e in ack["errors"])
        _ = self.env._
        if shipped and message.purpose == "cancel":
            text = _(
                "%(order)s was cancelled in Odoo but the 3PL has shipped it "
                "already: %(reason)s. Contact the customer (a return, or an "
                "invoice for the goods).",
                order=message.order_ref,
                reason=errors,
            )
        else:
            text = _(
                "The 3PL refused %(message)s: %(reason)s",
                message=message.name,
                reason=errors,
            )
        kind = "cancel" if message.purpose == "cancel" else "order"
        self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="shipment",
            category="conflict" if shipped else "remote",
            message=text,
            subject_key=f"{kind}:{message.order_ref}",
            record=message.picking_id or message,
        )
        return message
