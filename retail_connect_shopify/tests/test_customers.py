"""Which Odoo customer a Shopify order lands on.

One person's orders must never land on another's account: the e-mail decides
when the buyer gave one (exactly, after lowercasing and trimming); the phone,
normalised to E.164, only when the buyer gave no e-mail.
"""

from odoo.tests import tagged
from odoo.tools.sql import index_exists

from .common import ShopifyCase, run_jobs


@tagged("post_install", "-at_install")
class TestCustomerMatching(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.de")
        cls.Partner = cls.env["res.partner"]

    def _order_partner(self, **kwargs):
        """The partner of a Shopify order imported now."""
        kwargs.setdefault("lines", [{"sku": "MUG-002", "quantity": 1}])
        order = self.sandbox.add_order(**kwargs)
        self.sandbox.emit("orders/create", order["id"])
        run_jobs(self.env)
        sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == order["name"]
        )
        self.assertEqual(len(sale), 1, "the order was imported")
        return sale.partner_id

    def _buyer(self, email, phone, first_name="Jane", last_name="Doe", **address):
        return {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "address": address or None,
        }

    def test_email_matches_the_normalised_address_exactly(self):
        amy = self.Partner.create({"name": "Amy Lee", "email": " Amy.Lee@Example.COM "})
        partner = self._order_partner(
            customer=self._buyer("amy.lee@example.com", None, "Amy", "Lee")
        )
        self.assertEqual(partner, amy)
        # matched through an index, not a scan of every partner per order
        for column in ("email_normalized", "retail_phone_e164"):
            self.assertTrue(index_exists(self.env.cr, f"res_partner__{column}_index"))

    def test_email_wildcards_match_nobody_else(self):
        ann = self.Partner.create({"name": "Ann", "email": "annxlee@example.com"})
        other = self.Partner.create({"name": "Other", "email": "bo@example.com"})
        underscore = self._order_partner(
            customer=self._buyer("ann_lee@example.com", None, "Ann", "Lee")
        )
        self.assertNotIn(underscore, ann | other)
        self.assertEqual(underscore.email, "ann_lee@example.com")
        percent = self._order_partner(
            customer=self._buyer("%@example.com", None, "Per", "Cent")
        )
        self.assertNotIn(percent, ann | other | underscore)

    def test_same_phone_with_another_email_is_another_customer(self):
        bob = self.Partner.create(
            {"name": "Bob", "email": "bob@example.com", "phone": "+4915112345678"}
        )
        partner = self._order_partner(
            customer=self._buyer("jane@example.com", "+4915112345678")
        )
        self.assertNotEqual(partner, bob, "Jane's order must not land on Bob")
        self.assertEqual(partner.email, "jane@example.com")
        self.assertEqual(bob.sale_order_count, 0)

    def test_phone_matches_only_a_buyer_without_email(self):
        bob = self.Partner.create(
            {"name": "Bob", "email": "bob@example.com", "phone": "+4915112345678"}
        )
        guest = self._order_partner(phone="+4915112345678", email=None)
        self.assertEqual(guest, bob, "a guest with Bob's phone and no e-mail")
        # a partner without e-mail agrees with no e-mail but the buyer's none
        nomail = self.Partner.create({"name": "No mail", "phone": "+4917000000001"})
        with_email = self._order_partner(
            customer=self._buyer("someone@example.com", "+4917000000001")
        )
        self.assertNotEqual(with_email, nomail)

    def test_a_national_number_matches_its_international_form(self):
        # typed in Odoo in national format, no country: the company's (DE)
        berlin = self.Partner.create({"name": "Berlin shop", "phone": "030 123456"})
        self.assertEqual(berlin.retail_phone_e164, "+4930123456")
        self.assertEqual(self._order_partner(phone="+49 30 123456"), berlin)
        # a national number from Shopify without address: the shop's country
        self.backend.country_id = self.env.ref("base.at")
        vienna = self.Partner.create({"name": "Vienna shop", "phone": "+43 1 5123456"})
        self.assertEqual(self._order_partner(phone="01 5123456"), vienna)
