"""The channel in the retailer's words: on sale orders and their deliveries,
in links to the channel's admin, in the subjects of events and exceptions.

An order imported from a channel carries its backend, its number there (with a
link to it in the channel's admin) and the payment and fulfilment status the
channel last reported. They are stored on the order, written when the order is
bound (``retail.binding._bind`` calls ``_retail_bound``) and when a platform
reports its status (``_retail_channel_status``): searchable, groupable, and
readable by a salesperson without Retail rights.
"""

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

NO_TRACKING = {"tracking_disable": True, "mail_notrack": True}


def _default_salesperson(model):
    # not the superuser of an upgrade: nobody's "My Quotations" shows OdooBot's
    return model.env.user if model.env.uid != SUPERUSER_ID else False


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    sale_user_id = fields.Many2one(
        "res.users",
        "Salesperson",
        default=_default_salesperson,
        domain=[("share", "=", False)],
        help="Salesperson of the orders imported from this channel (their "
        "'My Quotations' shows them).",
    )
    sale_team_id = fields.Many2one(
        "crm.team",
        "Sales team",
        default=lambda self: self.env["crm.team"]._get_default_team_id(),
        help="Sales team of the orders imported from this channel.",
    )

    def _sale_order_defaults(self):
        """Salesperson and team of a sale order this backend imports: values a
        platform starts its new orders from (it may still decide otherwise,
        e.g. a point-of-sale team for the shop's POS orders)."""
        self.ensure_one()
        values = {}
        if self.sale_user_id:
            values["user_id"] = self.sale_user_id.id
        if self.sale_team_id:
            values["team_id"] = self.sale_team_id.id
        return values

    def _channel_record_url(self, binding):
        """Address of the bound record in the channel's admin (platform hook)."""
        return False

    def _subject_label(self, subject_key, record=None, events=None):
        """What people call the subject of events or an exception: the bound
        record's number on the channel (#1001), else the subject key. Platforms
        name subjects Odoo has no record of yet (their ``events`` may say)."""
        if record:
            binding = self.env["retail.binding"].sudo()._lookup_record(self, record)
            if binding.external_ref:
                return binding.external_ref
        return subject_key or False


class SaleOrder(models.Model):
    _inherit = "sale.order"

    retail_backend_id = fields.Many2one(
        "retail.backend",
        "Channel",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The channel (backend) this order was imported from.",
    )
    retail_channel_ref = fields.Char(
        "Channel order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The order's number on the channel (#1001).",
    )
    retail_channel_url = fields.Char(
        "Open on the channel", compute="_compute_retail_channel_url"
    )
    retail_payment_status = fields.Char(
        "Channel payment",
        readonly=True,
        copy=False,
        help="Payment status as the channel last reported it.",
    )
    retail_fulfilment_status = fields.Char(
        "Channel fulfilment",
        readonly=True,
        copy=False,
        help="Fulfilment status as the channel last reported it.",
    )
    retail_status_at = fields.Datetime(
        "Channel status at",
        readonly=True,
        copy=False,
        help="When Odoo last read the channel's status of this order.",
    )

    @api.depends("retail_backend_id", "retail_channel_ref")
    def _compute_retail_channel_url(self):
        bindings = self.env["retail.binding"].sudo()
        for order in self:
            url = False
            backend = order.retail_backend_id.sudo()
            if backend and order.id:
                binding = bindings._lookup_record(backend, order)
                url = binding and backend._channel_record_url(binding)
            order.retail_channel_url = url or False

    def _retail_bound(self, binding, created):
        """Show the channel on the order (its salesperson and team come from
        the values the platform created it with: ``_sale_order_defaults``)."""
        self.ensure_one()
        backend = binding.backend_id.sudo()
        values = {
            "retail_backend_id": backend.id,
            "retail_channel_ref": binding.external_ref or binding.external_id,
        }
        values = {
            name: value
            for name, value in values.items()
            if (self[name].id if self._fields[name].type == "many2one" else self[name])
            != value
        }
        if values:
            self.sudo().with_context(**NO_TRACKING).write(values)

    def _retail_channel_status(self, payment=None, fulfilment=None):
        """Record the status the channel reports (codes such as
        ``PARTIALLY_PAID`` are shown as "Partially paid")."""

        def label(code):
            return str(code).replace("_", " ").strip().capitalize() if code else False

        values = {"retail_status_at": fields.Datetime.now()}
        if payment is not None:
            values["retail_payment_status"] = label(payment)
        if fulfilment is not None:
            values["retail_fulfilment_status"] = label(fulfilment)
        self.sudo().with_context(**NO_TRACKING).write(values)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    retail_backend_id = fields.Many2one(
        related="sale_id.retail_backend_id", store=True, string="Channel"
    )
    retail_channel_ref = fields.Char(
        related="sale_id.retail_channel_ref", store=True, string="Channel order"
    )
    retail_channel_url = fields.Char(related="sale_id.retail_channel_url")
    retail_sent_at = fields.Datetime(
        "Sent to the channel",
        compute="_compute_retail_sent_at",
        search="_search_retail_sent_at",
        help="When the channel received this delivery (with its tracking).",
    )

    def _compute_retail_sent_at(self):
        bindings = self.env["retail.binding"].sudo()
        for picking in self:
            sent = (
                bindings.search(
                    [
                        ("backend_id", "=", picking.retail_backend_id.id),
                        ("res_model", "=", picking._name),
                        ("res_id", "=", picking.id),
                    ],
                    order="create_date",
                    limit=1,
                )
                if picking.id and picking.retail_backend_id
                else bindings
            )
            picking.retail_sent_at = sent.create_date or False

    def _search_retail_sent_at(self, operator, value):
        """Sent or not (``= False`` / ``!= False``): a delivery is sent once
        its channel's backend bound it (another backend binding it, such as
        a warehouse provider, does not count)."""
        if operator not in ("=", "!=") or value not in (False, None):
            raise UserError(
                _("Deliveries can only be filtered on whether they were sent.")
            )
        sent = SQL(
            """(SELECT p.id FROM stock_picking p
                 JOIN retail_binding b ON b.res_model = 'stock.picking'
                                      AND b.res_id = p.id
                                      AND b.backend_id = p.retail_backend_id)"""
        )
        return [("id", "not in" if operator == "=" else "in", sent)]
