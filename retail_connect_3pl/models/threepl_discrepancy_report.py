"""A discrepancy report: what the 3PL counts against what Odoo holds.

One report per inventory snapshot (≈846) or inventory adjustment (≈947) the
3PL sends, one line per SKU: the 3PL's quantity, Odoo's quantity at the
snapshot's ``as_of`` (moves done in Odoo after it do not count), their
difference and its value. A difference is never written over Odoo's stock: it
is posted as a move between the warehouse and the 3PL-discrepancy location,
automatically when it is small (the backend's thresholds), after a 3PL
manager's approval otherwise.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.models.common import check_group

LINE_STATES = [
    ("match", "Matches"),
    ("to_approve", "To approve"),
    ("applied", "Adjusted"),
    ("rejected", "Rejected"),
    ("superseded", "Superseded by a later count"),
    ("unknown", "Unknown SKU"),
]
REPORT_STATES = [
    ("match", "Matches"),
    ("to_approve", "To approve"),
    ("done", "Adjusted"),
]


class ThreeplDiscrepancyReport(models.Model):
    _name = "threepl.discrepancy.report"
    _description = "3PL Discrepancy Report"
    _inherit = ["mail.thread"]
    _order = "as_of desc, id desc"

    name = fields.Char(required=True, readonly=True)
    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True)
    kind = fields.Selection(
        [
            ("snapshot", "Inventory snapshot (846)"),
            ("adjustment", "Inventory adjustment (947)"),
        ],
        required=True,
        readonly=True,
    )
    as_of = fields.Datetime(
        "As of",
        required=True,
        readonly=True,
        help="When the 3PL's count was true: Odoo's quantities are taken at "
        "this time, moves done after it are not discrepancies.",
    )
    message_id = fields.Many2one(
        "threepl.message", "3PL message", readonly=True, ondelete="restrict"
    )
    line_ids = fields.One2many("threepl.discrepancy.line", "report_id", "Lines")
    state = fields.Selection(
        REPORT_STATES,
        compute="_compute_state",
        store=True,
        index=True,
        tracking=True,
    )
    difference_count = fields.Integer(
        "SKUs with a difference", compute="_compute_totals", store=True
    )
    value_difference = fields.Monetary(
        "Value of the differences", compute="_compute_totals", store=True
    )

    _sql_constraints = [
        (
            "message_uniq",
            "UNIQUE(message_id)",
            "One discrepancy report per 3PL message.",
        )
    ]

    @api.depends("line_ids.state")
    def _compute_state(self):
        for report in self:
            states = set(report.line_ids.mapped("state"))
            if "to_approve" in states:
                report.state = "to_approve"
            elif states & {"applied", "rejected", "superseded"}:
                report.state = "done"
            else:
                report.state = "match"

    @api.depends("line_ids.difference", "line_ids.value")
    def _compute_totals(self):
        for report in self:
            lines = report.line_ids.filtered("difference")
            report.difference_count = len(lines)
            report.value_difference = sum(lines.mapped("value"))

    # ------------------------------------------------------------ buttons
    def action_approve(self):
        """Post every difference waiting for approval (3PL managers)."""
        check_group(self.env)
        self.line_ids.filtered(lambda line: line.state == "to_approve").action_approve()
        return True

    def action_reject(self):
        """Refuse every difference waiting: Odoo's stock stays as it is."""
        check_group(self.env)
        self.line_ids.filtered(lambda line: line.state == "to_approve").action_reject()
        return True


class ThreeplDiscrepancyLine(models.Model):
    _name = "threepl.discrepancy.line"
    _description = "3PL Discrepancy Line"
    _order = "report_id, sku, id"

    report_id = fields.Many2one(
        "threepl.discrepancy.report", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="report_id.company_id", store=True)
    currency_id = fields.Many2one(related="report_id.currency_id")
    sku = fields.Char("SKU", required=True, readonly=True)
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    threepl_qty = fields.Float(
        "3PL quantity", digits="Product Unit of Measure", readonly=True
    )
    odoo_qty = fields.Float(
        "Odoo quantity at as of", digits="Product Unit of Measure", readonly=True
    )
    difference = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        help="3PL minus Odoo: what the adjustment adds to Odoo's stock.",
    )
    value = fields.Monetary(readonly=True, help="The difference at the product's cost.")
    in_flight_qty = fields.Float(
        "Units in flight",
        digits="Product Unit of Measure",
        readonly=True,
        help="Units of deliveries sent to the 3PL and not confirmed shipped yet: "
        "the 3PL may have shipped them before its count. A shortfall with "
        "units in flight always waits for approval (the shipping advice may "
        "still come).",
    )
    reason = fields.Char(readonly=True, help="The 3PL's reason code (947).")
    state = fields.Selection(LINE_STATES, required=True, readonly=True, index=True)
    move_id = fields.Many2one("stock.move", "Adjustment", readonly=True)
    decided_by = fields.Many2one("res.users", readonly=True)
    decided_at = fields.Datetime(readonly=True)

    def action_approve(self):
        """Post the difference as a move (3PL managers)."""
        check_group(self.env)
        for line in self:
            if line.state != "to_approve":
                raise UserError(
                    self.env._("%(sku)s is not waiting for approval.", sku=line.sku)
                )
            line.report_id.backend_id._threepl_post_line(line)
            line.write(
                {"decided_by": self.env.user.id, "decided_at": fields.Datetime.now()}
            )
        return True

    def action_reject(self):
        """Leave Odoo's stock as it is for this SKU (3PL managers)."""
        check_group(self.env)
        todo = self.filtered(lambda line: line.state == "to_approve")
        todo.write(
            {
                "state": "rejected",
                "decided_by": self.env.user.id,
                "decided_at": fields.Datetime.now(),
            }
        )
        return True
