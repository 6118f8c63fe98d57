from odoo import models

from ..lib import mappers
from .retail_backend import IMPORT_CONTEXT


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _shopify_partners(self, order):
        """Customer, invoice and delivery addresses of an order."""
        customer = mappers.customer(order.get("customer")) or {
            "gid": None,
            "name": "",
            "email": order.get("email") or False,
            "phone": order.get("phone") or False,
            "default_address": None,
        }
        shipping = mappers.address(order.get("shippingAddress"))
        billing = mappers.address(order.get("billingAddress")) or shipping
        if not customer["name"]:
            customer["name"] = (billing or shipping or {}).get("name") or order["name"]
        country = (shipping or billing or {}).get("country_code")
        partner = self._shopify_customer(customer, country)
        invoice = self._shopify_address(partner, billing, "invoice")
        delivery = self._shopify_address(partner, shipping, "delivery")
        return partner, invoice, delivery

    def _shopify_customer(self, customer, country_code=None):
        """The partner of a Shopify customer: bound, matched, or created.

        A returning customer matches by e-mail, or when Shopify has no e-mail
        for them by phone in E.164, however it was typed (see
        ``res.partner._retail_match``); a stranger sharing a phone is another
        partner.
        """
        bindings = self.env["retail.binding"]
        partners = self.env["res.partner"].with_context(**IMPORT_CONTEXT)
        gid = customer.get("gid")
        if gid:
            self._lock_external("res.partner", gid)
            binding = bindings._lookup(self, "res.partner", gid)
            if binding and binding._record():
                return binding._record()
        address = customer.get("default_address") or {}
        country_code = country_code or address.get("country_code")
        partner = partners._retail_match(
            email=customer.get("email"),
            phone=customer.get("phone"),
            country_code=self._phone_region(country_code),
            company=self.company_id,
        )
        created = not partner
        if created:
            country = self._shopify_country(country_code)
            partner = partners.create(
                {
                    "name": customer.get("name") or customer.get("email") or "?",
                    "email": customer.get("email"),
                    "phone": customer.get("phone"),
                    "country_id": country.id if country else False,
                    "customer_rank": 1,
                }
            )
        # a partner created here is bound to nothing yet
        if gid and (created or not bindings._lookup_record(self, partner)):
            # the reference is Shopify's customer number, not a personal value
            bindings._bind(self, partner, gid, external_ref=mappers.numeric_id(gid))
        return partner

    def _shopify_country(self, code):
        if not code:
            return self.env["res.country"]
        return self.env["res.country"].search([("code", "=", code.upper())], limit=1)

    def _shopify_address(self, partner, values, kind):
        if not values or not values.get("street"):
            return partner
        children = partner.child_ids.filtered(
            lambda c: (
                c.type == kind
                and (c.street or "") == (values["street"] or "")
                and (c.zip or "") == (values["zip"] or "")
                and (c.name or "") == (values["name"] or "")
            )
        )
        if children:
            return children[0]
        country = self._shopify_country(values.get("country_code"))
        state = self.env["res.country.state"]
        if country and values.get("state_code"):
            state = state.search(
                [("country_id", "=", country.id), ("code", "=", values["state_code"])],
                limit=1,
            )
        return (
            self.env["res.partner"]
            .with_context(**IMPORT_CONTEXT)
            .create(
                {
                    "parent_id": partner.id,
                    "type": kind,
                    "name": values["name"] or partner.name,
                    "street": values["street"],
                    "street2": values["street2"],
                    "city": values["city"],
                    "zip": values["zip"],
                    "phone": values["phone"],
                    "country_id": country.id if country else False,
                    "state_id": state.id if state else False,
                }
            )
        )
