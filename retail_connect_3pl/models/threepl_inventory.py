"""Flow in: inventory snapshots (≈846) and adjustments (≈947) → discrepancy
reports, reconciled by policy.

Both arrive through the base's event inbox (dedup on their ``message_id``,
replayable): over SFTP as ``inventory_snapshot`` / ``inventory_adjustment``
files of the inbox (docs/3pl-sftp-csv.md §3.7, §3.8), over REST as the
inventory policy's poll of ``GET /inventory-level``. Each becomes one
``threepl.discrepancy.report`` (one per message, however often it comes).

Odoo's quantity is taken at the snapshot's ``as_of``: today's quants of the
warehouse with the moves done after ``as_of`` undone, so a delivery validated
while the snapshot travelled is not a discrepancy. What the 3PL counts is its
sellable stock (on hand minus damaged: a damaged unit reported by a 947 left
Odoo's stock). A difference is posted as a move to or from the backend's
3PL-discrepancy location (an inventory-loss location), never as a new
quantity written over Odoo's: automatically when both the units and the value
are within the backend's thresholds, after a 3PL manager's approval otherwise.
"""

import json
from datetime import UTC, datetime

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.retail_connect_base.lib.errors import EventSkipped, MappingError
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib.inventory import inventory_levels, snapshot_from_levels
from .retail_backend import PLATFORM

INVENTORY_TOPICS = (
    "sftp.inventory_snapshot",
    "sftp.inventory_adjustment",
    "inventory.snapshot",
)


def parse_stamp(value):
    """An ISO 8601 date-time (``2026-12-01T08:15:00Z``) as naive UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise MappingError(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    threepl_adjust_max_qty = fields.Float(
        "Auto-adjust up to (units)",
        default=2.0,
        help="A difference of at most this many units (and at most the value "
        "below) is posted automatically; a larger one waits for a 3PL "
        "manager's approval.",
    )
    threepl_adjust_max_value = fields.Monetary(
        "Auto-adjust up to (value)",
        default=50.0,
        currency_field="threepl_currency_id",
        help="At the product's cost, in the company's currency.",
    )
    threepl_currency_id = fields.Many2one(related="company_id.currency_id")
    threepl_discrepancy_location_id = fields.Many2one(
        "stock.location",
        "3PL discrepancy location",
        domain="[('usage', '=', 'inventory')]",
        help="The inventory-loss location differences with the 3PL are posted "
        "to (losses) and from (gains). Created on the first adjustment when "
        "empty.",
    )

    # ------------------------------------------------------------- hooks
    def _event_domain(self, topic):
        if self.platform == PLATFORM and topic in INVENTORY_TOPICS:
            return "inventory"
        return super()._event_domain(topic)

    def _process_event(self, event):
        if self.platform == PLATFORM and event.topic in INVENTORY_TOPICS:
            return self._threepl_apply_inventory(event._data(), event=event)
        return super()._process_event(event)

    def _poll(self, policy, since, until):
        if not (
            self.platform == PLATFORM
            and self.threepl_transport == "rest"
            and policy.domain == "inventory"
        ):
            return super()._poll(policy, since, until)
        client = self._threepl_client()
        # one 3PL warehouse: the account's totals; several: per location
        # (its id or name is the warehouse's code)
        per_location = len(self.threepl_warehouse_ids) > 1
        items = inventory_levels(client, per_location=per_location)
        deliveries = []
        for warehouse in self.threepl_warehouse_ids:
            snapshot = snapshot_from_levels(
                items,
                warehouse_code=warehouse.code,
                as_of=until,
                per_location=per_location,
            )
            deliveries.append(
                Delivery(
                    topic="inventory.snapshot",
                    dedup_key=snapshot["message_id"],
                    payload=json.dumps(snapshot).encode(),
                    subject_key=f"inventory:{warehouse.code}",
                )
            )
        return deliveries

    # -------------------------------------------------------------- flow
    def _threepl_apply_inventory(self, data, event=None):
        """One snapshot or adjustment message → one discrepancy report."""
        self.ensure_one()
        self._lock_external("threepl.message", data["message_id"])
        messages = self.env["threepl.message"].sudo()
        if messages.search_count(
            [("backend_id", "=", self.id), ("message_id", "=", data["message_id"])]
        ):
            raise EventSkipped(
                "skipped_duplicate", f"{data['type']} {data['message_id']} seen already"
            )
        warehouse = self._threepl_warehouse(data.get("warehouse_code"))
        snapshot = data["type"] == "inventory_snapshot"
        as_of = parse_stamp(data["as_of"] if snapshot else data["adjusted_at"])
        message = messages.create(
            {
                "backend_id": self.id,
                "message_type": data["type"],
                "direction": "in",
                "message_id": data["message_id"],
                "order_ref": data.get("adjustment_ref") or warehouse.code,
                "remote_ref": data.get("adjustment_ref"),
                "transport": self.threepl_transport,
                "payload": json.dumps(data),
                "event_id": event.id if event else False,
            }
        )
        held = self._threepl_qty_at(warehouse, as_of)
        products = self._threepl_products([ln["sku"] for ln in data["lines"]])
        if snapshot:
            rows = self._threepl_snapshot_rows(data, products, held)
        else:
            rows = self._threepl_adjustment_rows(data, products, held)
        in_flight = self._threepl_in_flight(warehouse)
        for row in rows:
            row["in_flight_qty"] = in_flight.get(row["product_id"], 0.0)
        report = (
            self.env["threepl.discrepancy.report"]
            .sudo()
            .create(
                {
                    "name": f"{warehouse.code} {fields.Datetime.to_string(as_of)}",
                    "backend_id": self.id,
                    "warehouse_id": warehouse.id,
                    "kind": "snapshot" if snapshot else "adjustment",
                    "as_of": as_of,
                    "message_id": message.id,
                    "line_ids": [(0, 0, row) for row in rows],
                }
            )
        )
        if snapshot:
            self._threepl_supersede(report)
        for line in report.line_ids.filtered(lambda ln: ln.state == "to_approve"):
            if (
                line.product_id.tracking == "none"
                and not (line.in_flight_qty and line.difference < 0)
                and self._threepl_within_policy(line)
            ):
                self._threepl_post_line(line)
        message.write({"state": "done", "done_at": fields.Datetime.now()})
        unknown = report.line_ids.filtered(lambda ln: ln.state == "unknown")
        if unknown:
            self._threepl_report_unknown(report, unknown)
        return report

    def _threepl_supersede(self, report):
        """A full count includes every difference still waiting from earlier
        counts and adjustments of the warehouse: approving those too would
        post them twice."""
        older = (
            self.env["threepl.discrepancy.line"]
            .sudo()
            .search(
                [
                    ("state", "=", "to_approve"),
                    ("report_id", "!=", report.id),
                    ("report_id.backend_id", "=", self.id),
                    ("report_id.warehouse_id", "=", report.warehouse_id.id),
                    ("report_id.as_of", "<=", report.as_of),
                ]
            )
        )
        older.write({"state": "superseded"})
        return older

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform == PLATFORM:
            for vals in policies:
                if vals["domain"] == "inventory":
                    # a full count per poll: hourly is plenty
                    vals.update(timing="batch", interval_minutes=60)
        return policies

    def _threepl_snapshot_rows(self, data, products, held):
        """One row per SKU counted by the 3PL or held in Odoo (a full count:
        a SKU it does not list has nothing there)."""
        counted = {}
        for line in data["lines"]:
            sellable = float(line.get("on_hand") or 0) - float(line.get("damaged") or 0)
            counted[line["sku"]] = counted.get(line["sku"], 0.0) + sellable
        for product in held:
            if product.default_code and product.default_code not in counted:
                counted[product.default_code] = 0.0
                products.setdefault(product.default_code, product)
        rows = []
        for sku, qty in sorted(counted.items()):
            product = products.get(sku)
            odoo_qty = held.get(product, 0.0) if product else 0.0
            rows.append(self._threepl_row(sku, product, qty, odoo_qty))
        return rows

    def _threepl_adjustment_rows(self, data, products, held):
        rows = []
        for line in data["lines"]:
            product = products.get(line["sku"])
            odoo_qty = held.get(product, 0.0) if product else 0.0
            row = self._threepl_row(
                line["sku"], product, odoo_qty + float(line["delta"]), odoo_qty
            )
            row["reason"] = line.get("reason")
            rows.append(row)
        return rows

    def _threepl_row(self, sku, product, threepl_qty, odoo_qty):
        difference = threepl_qty - odoo_qty
        row = {
            "sku": sku,
            "product_id": product.id if product else False,
            "threepl_qty": threepl_qty,
            "odoo_qty": odoo_qty,
            "difference": difference,
        }
        if not product:
            row["state"] = "unknown"
            return row
        rounding = product.uom_id.rounding
        row["value"] = difference * product.with_company(self.company_id).standard_price
        row["state"] = (
            "match"
            if float_is_zero(difference, precision_rounding=rounding)
            else "to_approve"
        )
        return row

    def _threepl_within_policy(self, line):
        """Small enough to post without approval: units and value."""
        rounding = line.product_id.uom_id.rounding
        units = float_compare(
            abs(line.difference),
            self.threepl_adjust_max_qty,
            precision_rounding=rounding,
        )
        value = self.threepl_currency_id.compare_amounts(
            abs(line.value), self.threepl_adjust_max_value
        )
        return units <= 0 and value <= 0

    def _threepl_post_line(self, line):
        """The line's difference as a done move between the warehouse's stock
        and the discrepancy location: a delta, never a new quantity."""
        line = line.sudo()
        product = line.product_id
        if product.tracking != "none":
            raise UserError(
                self.env._(
                    "%(sku)s is tracked by lots or serial numbers, which the "
                    "3PL's count does not name: adjust it in Inventory › "
                    "Physical Inventory, then reject this line.",
                    sku=line.sku,
                )
            )
        report = line.report_id
        qty = abs(line.difference)
        stock = report.warehouse_id.lot_stock_id
        lost = self._threepl_discrepancy_location()
        source, target = (lost, stock) if line.difference > 0 else (stock, lost)
        company = report.company_id.id
        move = (
            self.env["stock.move"]
            .sudo()
            .with_context(inventory_mode=False)
            .create(
                {
                    "name": self.env._(
                        "3PL discrepancy %(report)s", report=report.name
                    ),
                    "origin": report.name,
                    "product_id": product.id,
                    "product_uom": product.uom_id.id,
                    "product_uom_qty": qty,
                    "company_id": company,
                    "state": "confirmed",
                    "location_id": source.id,
                    "location_dest_id": target.id,
                    "is_inventory": True,
                    "picked": True,
                    "move_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": product.id,
                                "product_uom_id": product.uom_id.id,
                                "quantity": qty,
                                "location_id": source.id,
                                "location_dest_id": target.id,
                                "company_id": company,
                            },
                        )
                    ],
                }
            )
        )
        move._action_done()
        line.sudo().write({"state": "applied", "move_id": move.id})
        return move

    # ----------------------------------------------------------- helpers
    def _threepl_warehouse(self, code):
        warehouses = self.threepl_warehouse_ids
        if code:
            warehouses = warehouses.filtered(lambda w: w.code == code)
        if len(warehouses) != 1:
            raise MappingError(
                self.env._(
                    "The 3PL sent a count of warehouse %(code)s, which is not one "
                    "of the backend's 3PL-managed warehouses: add it, then retry "
                    "the event.",
                    code=code or "-",
                ),
                subject_key=f"inventory:{code}",
            )
        return warehouses

    def _threepl_products(self, skus):
        """{sku: product} of the storable products with these SKUs."""
        products = (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("default_code", "in", [s for s in skus if s]),
                    ("is_storable", "=", True),
                    ("company_id", "in", (False, self.company_id.id)),
                ]
            )
        )
        return {p.default_code: p for p in products}

    def _threepl_qty_at(self, warehouse, as_of):
        """{product: quantity} in the warehouse's internal locations at
        ``as_of``: today's quants, minus what came in after, plus what left
        after."""
        locations = (
            self.env["stock.location"]
            .sudo()
            .search(
                [
                    ("id", "child_of", warehouse.view_location_id.id),
                    ("usage", "=", "internal"),
                ]
            )
        )
        inside = set(locations.ids)
        held = {}
        for product, quantity in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [("location_id", "in", locations.ids)],
                ["product_id"],
                ["quantity:sum"],
            )
        ):
            held[product] = held.get(product, 0.0) + quantity
        later = (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("state", "=", "done"),
                    ("date", ">", as_of),
                    "|",
                    ("location_id", "in", locations.ids),
                    ("location_dest_id", "in", locations.ids),
                ]
            )
        )
        for move_line in later:
            came = move_line.location_dest_id.id in inside
            left = move_line.location_id.id in inside
            if came == left:
                continue  # inside the warehouse
            qty = move_line.quantity_product_uom
            product = move_line.product_id
            held[product] = held.get(product, 0.0) + (qty if left else -qty)
        return {p: q for p, q in held.items() if p.is_storable}

    def _threepl_in_flight(self, warehouse):
        """{product id: units} of the warehouse's deliveries the 3PL holds an
        order of and has not reported shipped: its count may already miss
        them while Odoo still has them."""
        orders = (
            self.env["threepl.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("message_type", "=", "shipping_order"),
                    ("purpose", "=", "new"),
                    ("state", "in", ("sent", "acknowledged")),
                    ("picking_id.state", "not in", ("done", "cancel")),
                    ("picking_id.picking_type_id.warehouse_id", "=", warehouse.id),
                ]
            )
        )
        units = {}
        for move in orders.picking_id.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        ):
            units[move.product_id.id] = (
                units.get(move.product_id.id, 0.0) + move.product_qty
            )
        return units

    def _threepl_discrepancy_location(self):
        self.ensure_one()
        if self.threepl_discrepancy_location_id:
            return self.threepl_discrepancy_location_id
        location = (
            self.env["stock.location"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "3PL discrepancies (%(backend)s)", backend=self.name
                    ),
                    "usage": "inventory",
                    "location_id": self.env.ref(
                        "stock.stock_location_locations_virtual"
                    ).id,
                    "company_id": self.company_id.id,
                }
            )
        )
        self.sudo().threepl_discrepancy_location_id = location
        return location

    def _threepl_report_unknown(self, report, lines):
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="inventory",
            category="mapping",
            message=self.env._(
                "The 3PL counts SKUs Odoo has no storable product for: %(skus)s "
                "(report %(report)s). Create or fix the products' internal "
                "references; nothing was adjusted for them.",
                skus=", ".join(lines.mapped("sku")),
                report=report.name,
            ),
            subject_key=f"inventory-sku:{report.warehouse_id.code}",
            record=report,
        )
