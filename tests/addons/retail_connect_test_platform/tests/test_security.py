from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.retail_connect_base.lib.webhook import Delivery

SECRET = "sk_test_do-not-leak-1234567890"


@tagged("post_install", "-at_install")
class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_b = cls.env["res.company"].create({"name": "Other Co"})
        cls.user = new_test_user(
            cls.env,
            login="rc_user",
            groups="base.group_user,retail_connect_base.group_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="rc_manager",
            groups="base.group_user,retail_connect_base.group_manager",
        )
        cls.backend = cls.env["retail.backend"].create(
            {"name": "Ours", "platform": "testshop", "base_url": "http://127.0.0.1:9"}
        )
        cls.backend.api_key = SECRET
        cls.other = cls.env["retail.backend"].create(
            {"name": "Theirs", "platform": "testshop", "company_id": cls.company_b.id}
        )
        cls.event, _ = cls.env["retail.event"]._ingest(
            cls.backend,
            Delivery(
                topic="customer/created",
                dedup_key="evt_sec",
                payload=b'{"data": {"id": "cus_1", "email": "a@example.com"}}',
            ),
        )

    def test_secret_is_not_stored_in_clear(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT ciphertext FROM retail_secret")
        stored = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertTrue(stored)
        self.assertNotIn(SECRET, stored)
        self.env.cr.execute(
            "SELECT count(*) FROM retail_backend "
            "WHERE row_to_json(retail_backend)::text LIKE %s",
            (f"%{SECRET}%",),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual(self.backend._get_secret("api_key"), SECRET)

    def test_nobody_reads_a_secret_back_in_clear(self):
        manager_view = self.backend.with_user(self.manager).api_key
        self.assertNotEqual(manager_view, SECRET)
        self.assertTrue(manager_view, "managers see that it is set")
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).read(["api_key"])
        with self.assertRaises(AccessError):
            self.env["retail.secret"].with_user(self.manager).search([]).read(
                ["ciphertext"]
            )

    def test_user_cannot_read_payloads_or_configure(self):
        event = self.event.with_user(self.user)
        self.assertEqual(event.topic, "customer/created")
        with self.assertRaises(AccessError):
            event.read(["payload"])
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).write({"name": "Hacked"})
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).api_key = "x"
        self.assertIn("cus_1", self.event.with_user(self.manager).payload)

    def test_user_cannot_see_another_companys_backends(self):
        visible = self.env["retail.backend"].with_user(self.user).search([])
        self.assertIn(self.backend, visible)
        self.assertNotIn(self.other, visible)
        policies = self.env["retail.sync.policy"].with_user(self.user).search([])
        self.assertFalse(policies.filtered(lambda p: p.backend_id == self.other))
        with self.assertRaises(AccessError):
            self.other.with_user(self.user).read(["name"])
