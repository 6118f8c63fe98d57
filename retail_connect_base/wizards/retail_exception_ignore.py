from odoo import fields, models

from ..models.common import USER, check_group


class RetailExceptionIgnore(models.TransientModel):
    _name = "retail.exception.ignore"
    _description = "Ignore sync exceptions with a reason"

    exception_ids = fields.Many2many("retail.sync.exception", required=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        check_group(self.env, USER)
        self.exception_ids._ignore(self.reason)
        return {"type": "ir.actions.act_window_close"}
