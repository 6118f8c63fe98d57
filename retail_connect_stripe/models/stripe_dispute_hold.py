"""A dispute's work: its exception for the dispute owner, and its deliveries
on hold.

A new dispute opens one sync exception (category conflict, subject
``dispute-open:<id>``, which no event resolves by itself) owned by the
backend's dispute owner, with an activity due on the evidence deadline
(``evidence_details.due_by``, https://docs.stripe.com/api/disputes/object).

With the backend's *Hold deliveries of disputed orders* on, the disputed
order's deliveries not shipped yet are put on hold with the base's mechanism
(``stock.picking._retail_hold``, key ``stripe.dispute:<id>``): they cannot be
validated nor sent to a warehouse provider. Stripe's advice is the same:
"If you haven't shipped the product yet, you might want to hold off until the
dispute is resolved" (https://docs.stripe.com/disputes/responding).

Closed *won* (or an inquiry closed without a chargeback): the deliveries are
released and the exception resolved. Closed *lost*: the money is gone, the
deliveries stay on hold and the exception stays open until someone cancels
them or presses *Release deliveries*.
"""

from odoo import fields, models

from odoo.addons.retail_connect_base.models.common import USER, check_group

RELEASED_ON = ("won", "warning_closed")


class StripeDispute(models.Model):
    _inherit = "stripe.dispute"

    held_count = fields.Integer(
        "Number of deliveries on hold", compute="_compute_held", compute_sudo=True
    )
    held_names = fields.Char(
        "Deliveries on hold", compute="_compute_held", compute_sudo=True
    )

    def _hold_key(self):
        return f"stripe.dispute:{self.name}"

    def _held_pickings(self):
        self.ensure_one()
        return (
            self.env["stock.picking"]
            .sudo()
            .search(
                [("retail_hold", "=", True), ("retail_hold_key", "=", self._hold_key())]
            )
        )

    def _compute_held(self):
        for dispute in self:
            held = dispute._held_pickings() if dispute.name else dispute.browse()
            dispute.held_count = len(held)
            dispute.held_names = ", ".join(held.mapped("name")) or False

    # ------------------------------------------------------------ actions
    def action_release_deliveries(self):
        """Release the deliveries this dispute holds (a person decided)."""
        check_group(self.env, USER)
        self.check_access("read")
        for dispute in self.sudo():
            released = dispute._held_pickings()._retail_release_hold(
                dispute._hold_key()
            )
            if not released:
                continue
            note = self.env._(
                "Deliveries released by %(user)s: %(pickings)s.",
                user=self.env.user.name,
                pickings=", ".join(released.mapped("name")),
            )
            dispute._message_log(body=note)
            if dispute.status in ("lost", *RELEASED_ON):
                dispute._stripe_exception()._resolve(note)
        return True

    # -------------------------------------------------------------- flow
    def _stripe_exception(self):
        self.ensure_one()
        return (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.backend_id.id),
                    ("subject_key", "=", f"dispute-open:{self.name}"),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )

    def _stripe_opened(self):
        """A dispute seen for the first time: hold, and open its exception."""
        self.ensure_one()
        if self.status in RELEASED_ON:
            return
        held = self._stripe_hold_deliveries()
        if self.status == "lost" and not held:
            return
        self._stripe_open_exception(held)

    def _stripe_hold_deliveries(self):
        if not (self.backend_id.stripe_dispute_hold and self.sale_order_id):
            return self.env["stock.picking"]
        held = self.sale_order_id.sudo().picking_ids._retail_hold(
            self.env._(
                "Stripe dispute %(dispute)s on the payment of %(order)s.",
                dispute=self.name,
                order=self.sale_order_id.name,
            ),
            self._hold_key(),
        )
        if held:
            self._message_log(
                body=self.env._(
                    "Deliveries put on hold: %(pickings)s.",
                    pickings=", ".join(held.mapped("name")),
                )
            )
        return held

    def _stripe_open_exception(self, held):
        _ = self.env._
        message = _(
            "Stripe dispute %(dispute)s: the customer disputes %(amount)s "
            "%(currency)s paid for %(order)s (%(reason)s). Submit evidence in "
            "Stripe's Dashboard before %(due)s, or accept the dispute.",
            dispute=self.name,
            amount=f"{self.amount:.2f}",
            currency=self.currency_id.name,
            order=self.sale_order_id.name
            or self.invoice_id.name
            or self.payment_intent,
            reason=self.reason or "-",
            due=self.evidence_due_by or "-",
        )
        if held:
            message += " " + _(
                "On hold until it is won: %(pickings)s (Release deliveries on "
                "the dispute to ship them anyway).",
                pickings=", ".join(held.mapped("name")),
            )
        exception = self.env["retail.sync.exception"]._open_or_bump(
            self.backend_id,
            domain="payment",
            category="conflict",
            message=message,
            subject_key=f"dispute-open:{self.name}",
            record=self,
        )
        owner = self._owner()
        if owner:
            exception.owner_user_id = owner
        deadline = (self.evidence_due_by or fields.Datetime.now()).date()
        summary = _(
            "Answer Stripe dispute %(dispute)s (%(amount)s %(currency)s)",
            dispute=self.name,
            amount=f"{self.amount:.2f}",
            currency=self.currency_id.name,
        )
        if self.status == "lost":
            summary = _(
                "Stripe dispute %(dispute)s lost: cancel or release its deliveries",
                dispute=self.name,
            )
        activity = exception.activity_ids[:1]
        if activity:
            activity.write(
                {
                    "user_id": (owner or activity.user_id).id,
                    "date_deadline": deadline,
                    "summary": summary,
                }
            )
        elif owner:
            exception.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=owner.id,
                date_deadline=deadline,
                summary=summary,
            )
        return exception

    def _stripe_closed(self, exception):
        """Won: release and resolve. Lost: what is held stays held, and the
        exception asks what to do with it."""
        status = dict(self._fields["status"].selection)[self.status]
        if self.status in RELEASED_ON:
            released = self._held_pickings()._retail_release_hold(self._hold_key())
            note = self.env._("Dispute closed: %(status)s.", status=status)
            if released:
                note += " " + self.env._(
                    "Deliveries released: %(pickings)s.",
                    pickings=", ".join(released.mapped("name")),
                )
                self._message_log(body=note)
            exception._resolve(note)
            return
        held = self._held_pickings()
        if not held:
            exception._resolve(self.env._("Dispute closed: %(status)s.", status=status))
            return
        exception.activity_ids.action_feedback(
            feedback=self.env._("Dispute closed: %(status)s.", status=status)
        )
        self._stripe_open_exception(held)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    stripe_dispute_hold = fields.Boolean(
        "Hold deliveries of disputed orders",
        default=True,
        help="A new dispute puts the order's deliveries not shipped yet on "
        "hold (they cannot be validated nor sent to a warehouse provider) "
        "until the dispute is won or someone releases them.",
    )
