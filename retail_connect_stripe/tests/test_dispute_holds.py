"""A dispute holds the disputed order's deliveries not shipped yet: they
cannot be validated until the dispute is won or a person releases them."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import StripeCase, run_jobs


@tagged("post_install", "-at_install")
class TestStripeDisputeHolds(StripeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee_account = cls.env["account.account"].create(
            {"name": "Stripe fees", "code": "6279903", "account_type": "expense"}
        )
        cls.owner = new_test_user(
            cls.env,
            login="dispute-owner",
            groups="base.group_user,retail_connect_base.group_user",
        )
        cls.clerk = new_test_user(
            cls.env,
            login="stock-clerk",
            groups="base.group_user,stock.group_stock_user",
        )
        cls.backend.write(
            {
                "stripe_fee_account_id": cls.fee_account.id,
                "stripe_dispute_user_id": cls.owner.id,
            }
        )
        cls.goods = cls.env["product.product"].create(
            {
                "name": "Bike",
                "is_storable": True,
                "invoice_policy": "order",
                "list_price": 120.0,
                "taxes_id": [(5,)],
            }
        )

    def setUp(self):
        super().setUp()
        self.addCleanup(self.admin, "config", {"available_after": 2 * 86400})

    def paid_goods(self):
        """An order of goods, invoiced and paid by card; its delivery waits."""
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    (0, 0, {"product_id": self.goods.id, "price_unit": 120.0})
                ],
            }
        )
        sale.action_confirm()
        sale._create_invoices().action_post()
        paid = self.pay(12000, metadata={"odoo_order": sale.name})
        self.flush()
        run_jobs(self.env)
        self.assertIn(sale.invoice_ids.payment_state, ("paid", "in_payment"))
        return sale, paid["charge"]["id"]

    def settle(self, **flush):
        self.flush(**flush)
        run_jobs(self.env, rounds=3)

    def dispute(self):
        return self.env["stripe.dispute"].search([("backend_id", "=", self.backend.id)])

    def exception(self, dispute):
        return self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"dispute-open:{dispute.name}"),
            ]
        )

    def validate(self, picking):
        picking.move_ids.quantity = picking.move_ids.product_uom_qty
        return picking.with_user(self.clerk).button_validate()

    # -------------------------------------------------------------- tests
    def test_a_dispute_holds_the_delivery_until_it_is_won(self):
        sale, charge = self.paid_goods()
        delivery = sale.picking_ids
        self.assertEqual(len(delivery), 1)
        opened = self.admin("disputes", {"charge": charge, "reason": "fraudulent"})
        self.settle(duplicate_every=1)
        dispute = self.dispute()
        self.assertTrue(delivery.retail_hold)
        self.assertEqual(delivery.retail_hold_key, f"stripe.dispute:{opened['id']}")
        self.assertIn(opened["id"], delivery.retail_hold_reason)
        self.assertEqual(dispute.held_count, 1)
        exception = self.exception(dispute)
        self.assertEqual(exception.owner_user_id, self.owner)
        self.assertEqual(exception.activity_ids.user_id, self.owner)
        self.assertEqual(
            exception.activity_ids.date_deadline, dispute.evidence_due_by.date()
        )
        self.assertIn(delivery.name, exception.message)
        with self.assertRaisesRegex(UserError, "on hold"):
            self.validate(delivery)
        self.assertNotEqual(delivery.state, "done")

        self.admin(f"disputes/{opened['id']}/close", {"outcome": "won"})
        self.settle(duplicate_every=1)
        self.assertEqual(dispute.status, "won")
        self.assertFalse(delivery.retail_hold, "released once won")
        self.assertEqual(exception.state, "resolved")
        self.validate(delivery)
        self.assertEqual(delivery.state, "done")

    def test_a_lost_dispute_keeps_the_hold_until_someone_releases_it(self):
        sale, charge = self.paid_goods()
        delivery = sale.picking_ids
        opened = self.admin("disputes", {"charge": charge})
        self.settle()
        self.admin(f"disputes/{opened['id']}/close", {"outcome": "lost"})
        self.settle()
        dispute = self.dispute()
        self.assertEqual(dispute.status, "lost")
        self.assertTrue(delivery.retail_hold, "lost: the goods must not leave")
        exception = self.exception(dispute)
        self.assertEqual(exception.state, "new")
        self.assertEqual(len(exception.activity_ids), 1)
        self.assertIn("lost", exception.activity_ids.summary)

        # the button checks its group on the server
        with self.assertRaises(AccessError):
            dispute.with_user(self.clerk).action_release_deliveries()
        self.assertTrue(delivery.retail_hold)
        dispute.with_user(self.owner).action_release_deliveries()
        self.assertFalse(delivery.retail_hold)
        self.assertEqual(exception.state, "resolved")
        self.assertFalse(dispute.held_count)

    def test_a_shipped_delivery_is_not_held_and_the_option_can_be_off(self):
        sale, charge = self.paid_goods()
        self.validate(sale.picking_ids)
        self.admin("disputes", {"charge": charge})
        self.settle()
        self.assertFalse(sale.picking_ids.retail_hold, "shipped: nothing to hold")

        self.backend.stripe_dispute_hold = False
        other, charge = self.paid_goods()
        self.admin("disputes", {"charge": charge})
        self.settle()
        self.assertEqual(len(self.dispute()), 2)
        self.assertFalse(other.picking_ids.retail_hold, "the option is off")
        self.assertTrue(self.exception(self.dispute()[0]), "the exception still opens")
