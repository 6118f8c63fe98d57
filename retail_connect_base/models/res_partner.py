import phonenumbers

from odoo import api, fields, models


def to_e164(phone, country_code=None):
    """``phone`` in E.164 (``+4915112345678``), or None when it is no number."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ResPartner(models.Model):
    _inherit = "res.partner"

    retail_phone_e164 = fields.Char(
        "Phone (E.164)",
        compute="_compute_retail_phone_e164",
        store=True,
        index="btree_not_null",
        help="Normalised phone used to recognise returning customers.",
    )

    @api.depends("phone", "mobile", "country_id")
    def _compute_retail_phone_e164(self):
        for partner in self:
            country = partner.country_id.code or partner.company_id.country_id.code
            partner.retail_phone_e164 = to_e164(
                partner.phone or partner.mobile, country
            )

    @api.model
    def _retail_match(self, email=None, phone=None, country_code=None, company=None):
        """The existing customer for an e-mail or phone, whatever its formatting.

        E-mail first (case-insensitive), then the phone normalised to E.164 with
        ``country_code`` as the default region. Only commercial entities match.
        """
        base = [("parent_id", "=", False)]
        if company:
            base += [("company_id", "in", (False, company.id))]
        if email:
            found = self.search(base + [("email", "=ilike", email.strip())], limit=1)
            if found:
                return found
        e164 = to_e164(phone, country_code)
        if e164:
            return self.search(base + [("retail_phone_e164", "=", e164)], limit=1)
        return self.browse()
