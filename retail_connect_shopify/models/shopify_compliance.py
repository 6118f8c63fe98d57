"""Shopify's mandatory compliance webhooks.

https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance: every
app answers ``customers/data_request`` (a customer asked the merchant for their
data; 30 days to answer), ``customers/redact`` (erase a customer: sent 10 days
after the request, or six months after their last order) and ``shop/redact``
(48 hours after the shop uninstalled the app). They come from the app's
compliance URL, signed like every webhook, and are legal obligations: stored
under the technical domain, so no sync policy turns them off.

- data request: what Odoo holds (the contact and its addresses, bindings, sale
  orders and invoices with dates and amounts, the stored payloads of their
  events) as a JSON file on an activity of the backend's data-protection
  owner, on the customer (on the backend when Odoo holds no contact).
- customer redact: the contact and its addresses anonymized, the link to the
  Shopify customer dropped, the payloads of their events and the exchange-log
  bodies of their orders purged; sale orders and invoices stay (the law keeps
  accounting documents), pointing to the anonymized contact. Nothing is ever
  created; a customer Odoo never held is noted as such.
- shop redact: every payload and the exchange log of the backend purged, the
  backend paused, a note on its chatter.

The customer is the partner bound to the Shopify customer, else the customer of
their bound orders: never an e-mail match, which could be someone else's
contact that Shopify never sent.
"""

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import ValidationSyncError

from ..lib import mappers

REQUEST_DAYS = 30


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _shopify_compliance(self, event, data):
        """Apply a compliance webhook; return the partner concerned, if any."""
        domain = (data.get("shop_domain") or "").lower()
        if domain and self._remote_account() and domain != self._remote_account():
            raise ValidationSyncError(
                self.env._(
                    "%(topic)s names shop %(shop)s, not this backend's %(mine)s: "
                    "nothing was done. Check the app's compliance URL.",
                    topic=event.topic,
                    shop=domain,
                    mine=self._remote_account(),
                )
            )
        if event.topic == "shop/redact":
            return self._shopify_redact_shop(event)
        customer = data.get("customer") or {}
        number = customer.get("id")
        gid = f"gid://shopify/Customer/{number}" if number else None
        key = (
            "orders_requested"
            if event.topic == "customers/data_request"
            else ("orders_to_redact")
        )
        orders = [str(n) for n in data.get(key) or [] if n]
        partners = self._shopify_compliance_partners(gid, orders)
        sales = self._shopify_compliance_sales(partners, orders)
        orders = sorted(set(orders) | set(self._shopify_order_numbers(sales)))
        moves = self._shopify_compliance_moves(partners)
        events = self._shopify_compliance_events(
            event, number, orders, partners, sales, moves, customer.get("email")
        )
        if event.topic == "customers/data_request":
            return self._shopify_data_request(
                event, data, partners, sales, moves, events
            )
        return self._shopify_redact_customer(
            event, number, gid, orders, partners, events
        )

    # ---------------------------------------------------------- who, what
    def _shopify_compliance_partners(self, gid, orders):
        partners = self.env["res.partner"]
        bindings = self.env["retail.binding"]
        binding = gid and bindings._lookup(self, "res.partner", gid)
        if binding and binding._record():
            partners |= binding._record().commercial_partner_id
        sales = self.env["sale.order"].browse(
            bindings.search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "sale.order"),
                    ("external_id", "in", [mappers.order_gid(n) for n in orders]),
                ]
            ).mapped("res_id")
        )
        return partners | sales.exists().partner_id.commercial_partner_id

    def _shopify_compliance_sales(self, partners, orders):
        if not partners:
            return self.env["sale.order"]
        return self.env["sale.order"].search(
            [
                ("partner_id", "child_of", partners.ids),
                ("company_id", "=", self.company_id.id),
            ],
            order="date_order, id",
        )

    def _shopify_order_numbers(self, sales):
        bindings = self.env["retail.binding"].search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "sale.order"),
                ("res_id", "in", sales.ids),
            ]
        )
        return [mappers.numeric_id(b.external_id) for b in bindings]

    def _shopify_compliance_moves(self, partners):
        if not partners:
            return self.env["account.move"]
        return self.env["account.move"].search(
            [
                ("partner_id", "child_of", partners.ids),
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ],
            order="date, id",
        )

    def _shopify_compliance_events(
        self, event, number, orders, partners, sales, moves, email
    ):
        """The backend's events about the customer: theirs, their orders',
        the records they made, and any payload holding their e-mail."""
        contacts = partners.with_context(active_test=False)
        contacts |= contacts.child_ids
        subjects = [f"order:{n}" for n in orders]
        if number:
            subjects.append(f"customer:{number}")
        domain = [
            "|",
            "|",
            "|",
            ("subject_key", "in", subjects),
            "&",
            ("res_model", "=", "res.partner"),
            ("res_id", "in", contacts.ids),
            "&",
            ("res_model", "=", "sale.order"),
            ("res_id", "in", sales.ids),
            "&",
            ("res_model", "=", "account.move"),
            ("res_id", "in", moves.ids),
        ]
        events = self.env["retail.event"].search(
            [("backend_id", "=", self.id), ("id", "!=", event.id), *domain],
            order="received_at, id",
        )
        address = (email or "").strip().lower()
        if address:
            self.env.flush_all()
            self.env.cr.execute(
                """
                SELECT id FROM retail_event
                 WHERE backend_id = %s AND id != %s AND payload IS NOT NULL
                   AND strpos(lower(payload), %s) > 0
                """,
                (self.id, event.id, address),
            )
            events |= self.env["retail.event"].browse(
                [row[0] for row in self.env.cr.fetchall()]
            )
        return events.sorted(lambda e: (e.received_at, e.id))

    # ------------------------------------------------------- data request
    def _shopify_data_request(self, event, data, partners, sales, moves, events):
        _ = self.env._
        request = (data.get("data_request") or {}).get("id")
        number = (data.get("customer") or {}).get("id")
        contacts = partners.with_context(active_test=False)
        contacts |= contacts.child_ids
        held = {
            "request": {
                "platform": "shopify",
                "shop": self._remote_account(),
                "data_request_id": request,
                "customer_id": number,
                "orders_requested": data.get("orders_requested") or [],
                "received_at": event.received_at,
                "gathered_at": fields.Datetime.now(),
            },
            "partner": _contact(partners[:1]) if partners else None,
            "contacts": [_contact(c) for c in contacts - partners[:1]],
            "bindings": [
                {
                    "backend": b.backend_id.name,
                    "model": b.res_model,
                    "external_id": b.external_id,
                    "external_ref": b.external_ref,
                    "last_sync_at": b.last_sync_at,
                }
                for b in self.env["retail.binding"].search(
                    [("res_model", "=", "res.partner"), ("res_id", "in", contacts.ids)]
                )
            ],
            "sale_orders": [
                {
                    "name": s.name,
                    "reference": s.client_order_ref,
                    "date": s.date_order,
                    "state": s.state,
                    "amount_total": s.amount_total,
                    "currency": s.currency_id.name,
                }
                for s in sales
            ],
            "invoices": [
                {
                    "name": m.name,
                    "type": m.move_type,
                    "date": m.invoice_date or m.date,
                    "state": m.state,
                    "amount_total": m.amount_total,
                    "currency": m.currency_id.name,
                }
                for m in moves
            ],
            "events": [
                {
                    "topic": e.topic,
                    "received_at": e.received_at,
                    "subject": e.subject_key,
                    "payload": e._data() if not e.payload_purged else None,
                    "payload_purged": e.payload_purged,
                }
                for e in events.sudo()
            ],
        }
        record = partners[:1] or self
        summary = _("Shopify data request %(id)s", id=request or number)
        note = _(
            "Shopify relays a customer's request for the data Odoo holds about "
            "them (Shopify customer %(customer)s). The attached file holds it: "
            "check it and send it to the merchant within 30 days.",
            customer=number,
        )
        if not partners:
            note += " " + _(
                "Odoo holds no contact for this customer; the file lists what "
                "else was found (stored events of the orders named)."
            )
        activity = self._privacy_request_activity(
            record,
            summary,
            note,
            f"shopify-data-request-{request or number}.json",
            held,
            event.received_at,
        )
        self.message_post(
            body=_(
                "Shopify data request %(id)s (customer %(customer)s): what Odoo "
                "holds is gathered for %(owner)s (activity due %(due)s).",
                id=request,
                customer=number,
                owner=activity.user_id.name,
                due=activity.date_deadline,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return partners[:1] or None

    # ------------------------------------------------------------- erasure
    def _shopify_redact_customer(self, event, number, gid, orders, partners, events):
        _ = self.env._
        reason = _("Purged: customers/redact of Shopify customer %(id)s", id=number)
        purged = self._purge_event_payloads(events, reason)
        logged = self._purge_exchanges([gid, *(mappers.order_gid(n) for n in orders)])
        if not partners:
            self._purge_event_payloads(event)
            self.message_post(
                body=_(
                    "Shopify asked to erase customer %(customer)s: Odoo holds no "
                    "contact of theirs, so nothing to anonymize and nothing was "
                    "created. %(events)s stored payload(s) and %(calls)s "
                    "exchange(s) of their orders purged.",
                    customer=number,
                    events=purged,
                    calls=logged,
                ),
                subtype_xmlid="mail.mt_note",
            )
            return None
        contacts = partners.with_context(active_test=False)
        contacts |= contacts.child_ids
        self.env["retail.binding"].search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "res.partner"),
                ("res_id", "in", contacts.ids),
            ]
        ).unlink()
        partners._retail_anonymize()
        self._purge_event_payloads(event)  # the request holds e-mail and phone
        for partner in partners:
            partner.message_post(
                body=_(
                    "Anonymized at the customer's request (Shopify "
                    "customers/redact, %(backend)s); their sale orders and "
                    "invoices are kept.",
                    backend=self.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        self.message_post(
            body=_(
                "Shopify asked to erase customer %(customer)s: %(partners)s "
                "anonymized (with their addresses), %(events)s stored payload(s) "
                "and %(calls)s exchange(s) purged; sale orders and invoices kept.",
                customer=number,
                partners=", ".join(partners.mapped("name")),
                events=purged,
                calls=logged,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return partners[:1]

    def _shopify_redact_shop(self, event):
        _ = self.env._
        events = self.env["retail.event"].search(
            [("backend_id", "=", self.id), ("id", "!=", event.id)]
        )
        purged = self._purge_event_payloads(
            events, _("Purged: shop/redact (the app was uninstalled)")
        )
        self._purge_event_payloads(event)
        logged = self._purge_exchanges()
        # the note below says it (a tracking message would come after it)
        self.with_context(tracking_disable=True).write(
            {
                "state": "paused",
                "paused_reason": _(
                    "Shopify sent shop/redact: the app was uninstalled 48 hours "
                    "ago and the shop's data is erased."
                ),
            }
        )
        self.message_post(
            body=_(
                "Shopify sent shop/redact (the app was uninstalled from %(shop)s "
                "48 hours ago): %(events)s stored payload(s) purged and the "
                "exchange log (%(calls)s call(s)) deleted; the backend is paused. "
                "Sale orders, invoices and contacts stay.",
                shop=self._remote_account(),
                events=purged,
                calls=logged,
            ),
            subtype_xmlid="mail.mt_note",
        )


def _contact(partner):
    return {
        "id": partner.id,
        "type": partner.type,
        "name": partner.name,
        "email": partner.email,
        "phone": partner.phone,
        "mobile": partner.mobile,
        "street": partner.street,
        "street2": partner.street2,
        "zip": partner.zip,
        "city": partner.city,
        "state": partner.state_id.name,
        "country": partner.country_id.name,
        "vat": partner.vat,
        "active": partner.active,
    }
