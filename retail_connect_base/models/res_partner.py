import phonenumbers

from odoo import api, fields, models
from odoo.tools import email_normalize


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

    # mail's normalised e-mail (lowercased, trimmed, "Name <a@b>" -> "a@b"),
    # indexed: returning customers are matched on it, once per imported order
    email_normalized = fields.Char(index="btree_not_null")
    retail_phone_e164 = fields.Char(
        "Phone (E.164)",
        compute="_compute_retail_phone_e164",
        store=True,
        index="btree_not_null",
        help="Normalised phone used to recognise returning customers.",
    )

    @api.depends("phone", "mobile", "country_id", "company_id.country_id")
    def _compute_retail_phone_e164(self):
        # a number typed without its country code is read in the partner's
        # country, else its company's, else the current company's
        default = self.env.company.country_id
        for partner in self:
            country = partner.country_id or partner.company_id.country_id or default
            partner.retail_phone_e164 = to_e164(
                partner.phone or partner.mobile, country.code
            )

    @api.model
    def _retail_match(self, email=None, phone=None, country_code=None, company=None):
        """The existing customer for an incoming one, or an empty recordset.

        - A buyer with an e-mail is matched on it alone, exactly, on the
          normalised address (lowercased, trimmed; no pattern, so ``_`` and
          ``%`` are plain characters). Another person sharing the phone (a
          household, a shop) is never taken for them.
        - A buyer without an e-mail is matched on the phone in E.164, read
          with ``country_code`` as the default region, so ``030 123456`` in DE
          matches ``+49 30 123456``.

        Only commercial entities (no contacts) of ``company`` or shared match;
        both lookups use an index.
        """
        base = [("parent_id", "=", False)]
        if company:
            base += [("company_id", "in", (False, company.id))]
        if email and email.strip():
            normalized = email_normalize(email)
            if not normalized:
                return self.browse()  # not an address: nobody's
            return self.search(
                base + [("email_normalized", "=", normalized)], order="id", limit=1
            )
        e164 = to_e164(phone, country_code)
        if e164:
            return self.search(
                base + [("retail_phone_e164", "=", e164)], order="id", limit=1
            )
        return self.browse()
