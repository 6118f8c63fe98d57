import phonenumbers

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

# contact fields a data subject's erasure request empties (_retail_anonymize)
PERSONAL_FIELDS = (
    "email",
    "phone",
    "mobile",
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "website",
    "comment",
    "function",
    "title",
    "company_name",
    "image_1920",
)


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

    def _retail_anonymize(self):
        """Erase the personal data of these customers and of their contacts.

        What a data subject's erasure request asks for (a platform's
        ``customers/redact``): names are replaced, e-mail, phones, addresses,
        notes and photo emptied, the contacts (delivery and invoice addresses)
        emptied and archived, and the values kept by field tracking deleted.
        The partners stay: their sale orders and invoices, which the law says
        to keep, still point to them. The VAT number and the country stay
        (taxes and fiscal positions need them). Users and companies are
        refused: they are no customer to erase from here.
        """
        partners = self.with_context(active_test=False)
        partners |= partners.child_ids
        users = self.env["res.users"].sudo().with_context(active_test=False)
        if users.search_count([("partner_id", "in", partners.ids)]) or self.env[
            "res.company"
        ].sudo().search_count([("partner_id", "in", partners.ids)]):
            raise UserError(
                self.env._(
                    "%(partners)s belong to a user or a company of this database: "
                    "they are not anonymized automatically. Erase the customer's "
                    "data by hand, then retry.",
                    partners=", ".join(partners.mapped("display_name")),
                )
            )
        quiet = partners.sudo().with_context(tracking_disable=True, mail_notrack=True)
        blank = {name: False for name in PERSONAL_FIELDS if name in self._fields}
        for partner in quiet:
            top = partner in self
            partner.write(
                {
                    **blank,
                    "name": self.env._("Anonymized customer %(id)s", id=partner.id)
                    if top
                    else self.env._("Anonymized contact %(id)s", id=partner.id),
                    "active": partner.active if top else False,
                }
            )
        # the old values, as field tracking kept them on the partners' chatter
        self.env["mail.tracking.value"].sudo().search(
            [
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "in", partners.ids),
            ]
        ).unlink()
        return partners
