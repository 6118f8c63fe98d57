"""One canonical, EDI-shaped message exchanged with a 3PL (PLATFORMS.md §4).

Outbound messages (shipping orders) are sent by queue jobs; inbound ones
(shipping advice...) arrive through the base's event inbox and are recorded
here as they are applied. ``message_id`` is the message's idempotency key:
the same intended message keeps it across every retry, and it is unique per
backend, so an inbound message seen twice is applied once.
"""

import json
import uuid

from odoo import api, fields, models

from odoo.addons.retail_connect_base.lib.masking import mask_data

TYPES = [
    ("shipping_order", "Shipping order (940)"),
    ("ack", "Acknowledgement (997)"),
    ("shipping_advice", "Shipping advice (945)"),
    ("receipt_advice", "Receipt advice (944)"),
    ("inbound_notice", "Inbound shipment notice (943)"),
    ("inventory_snapshot", "Inventory snapshot (846)"),
    ("inventory_adjustment", "Inventory adjustment (947)"),
    ("return_advice", "Return advice (180)"),
]
STATES = [
    ("draft", "Draft"),
    ("sent", "Sent"),
    ("acknowledged", "Acknowledged"),
    ("done", "Done"),
    ("error", "Error"),
]


class ThreeplMessage(models.Model):
    _name = "threepl.message"
    _description = "3PL Message"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    message_type = fields.Selection(TYPES, "Type", required=True, index=True)
    direction = fields.Selection(
        [("out", "Odoo → 3PL"), ("in", "3PL → Odoo")], required=True
    )
    state = fields.Selection(
        STATES, default="draft", required=True, index=True, tracking=True
    )
    message_id = fields.Char(
        "Message ID",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: str(uuid.uuid4()),
        help="The message's idempotency key: the same on every retry of it.",
    )
    purpose = fields.Selection(
        [("new", "New"), ("change", "Change"), ("cancel", "Cancel")]
    )
    order_ref = fields.Char(
        "Order reference", index=True, help="The delivery's name (W05-02 / W06-02)."
    )
    remote_ref = fields.Char(
        "3PL reference", readonly=True, help="The 3PL's id of the order or shipment."
    )
    transport = fields.Selection(
        [("rest", "REST API"), ("sftp", "SFTP (CSV files)")], required=True
    )
    attempts = fields.Integer(readonly=True)
    payload = fields.Text(
        "Payload (raw)", readonly=True, groups="retail_connect_base.group_manager"
    )
    payload_masked = fields.Text(
        "Payload",
        compute="_compute_payload_masked",
        help="The message with personal data (names, addresses, phones, "
        "e-mails) masked.",
    )
    error = fields.Text(readonly=True, tracking=True)
    picking_id = fields.Many2one("stock.picking", index="btree_not_null")
    sale_id = fields.Many2one("sale.order", "Sale order", index="btree_not_null")
    event_id = fields.Many2one(
        "retail.event", "Inbox event", index="btree_not_null", readonly=True
    )
    sent_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "message_id_uniq",
            "UNIQUE(backend_id, message_id)",
            "A message id is used once per backend.",
        )
    ]

    @api.depends("message_type", "purpose", "order_ref")
    def _compute_name(self):
        labels = dict(TYPES)
        for message in self:
            label = labels.get(message.message_type, "")
            label = label.split(" (")[0]
            if message.purpose and message.purpose != "new":
                label = f"{label} ({message.purpose})"
            message.name = f"{label} {message.order_ref or ''}".strip()

    def _compute_payload_masked(self):
        for message in self:
            data = message._data()
            if data.get("ship_to"):
                # the recipient: a person and a place, its name included
                data["ship_to"] = mask_data(data["ship_to"], in_context=True)
            message.payload_masked = (
                json.dumps(mask_data(data), indent=2, sort_keys=True) if data else False
            )

    def _data(self):
        """The payload as a dict (flows read it; users see it masked)."""
        self.ensure_one()
        payload = self.sudo().payload
        return json.loads(payload) if payload else {}
