"""A restored copy keeps ``database.uuid``: the production database is named.

``pg_restore`` of a production dump gives a database with the same uuid, so the
uuid alone cannot tell the copy. The server option
``retail_connect_production_db`` names the one database where production
backends run; anywhere else they pause themselves and call nothing.
"""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

OPTION = "retail_connect_production_db"


@tagged("post_install", "-at_install")
class TestProductionDatabase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.production = cls.env["retail.backend"].create(
            {
                "name": "Live shop",
                "platform": "testshop",
                "environment": "production",
                "base_url": "https://api.testshop.example",
            }
        )
        cls.production.access_token = "live-token"
        cls.production.action_activate()
        cls.sandbox = cls.env["retail.backend"].create(
            {
                "name": "Test shop",
                "platform": "testshop",
                "environment": "sandbox",
                "base_url": "http://127.0.0.1:8070",
            }
        )
        cls.sandbox.action_activate()

    def _option(self, value):
        return patch.dict(config.options, {OPTION: value})

    def _exchanges(self, backend):
        return (
            self.env["retail.exchange"]
            .sudo()
            .search_count([("backend_id", "=", backend.id)])
        )

    def _refused(self, backend):
        """The UserError of the first call (no assertRaises: its savepoint
        would roll the pause back)."""
        try:
            backend._testshop_client()
        except UserError as err:
            return str(err)
        self.fail(f"{backend.name} was allowed to call in a copy")

    def test_a_restored_copy_keeping_the_uuid_pauses_production_and_calls_nothing(
        self,
    ):
        self.assertNotEqual(self.env.cr.dbname, "shop_prod")
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        self.assertEqual(self.production.activated_db_uuid, uuid, "same uuid")
        self.production._assert_can_call()  # option unset: the uuid decides
        with self._option("shop_prod"):
            message = self._refused(self.production)
        self.assertEqual(self.production.state, "paused")
        for text in (OPTION, "shop_prod", self.env.cr.dbname):
            self.assertIn(text, self.production.paused_reason)
            self.assertIn(text, message)
        self.assertEqual(self._exchanges(self.production), 0, "no call made")

    def test_the_named_database_runs_production(self):
        with self._option(self.env.cr.dbname):
            self.production._assert_can_call()
            self.production._testshop_client()
        self.assertEqual(self.production.state, "active")

    def test_a_manager_cannot_resume_production_outside_the_named_database(self):
        with self._option("shop_prod"):
            self._refused(self.production)
            with self.assertRaisesRegex(UserError, OPTION):
                self.production.action_resume()
            self.assertEqual(self.production.state, "paused")
            answer = self.production.action_test_connection()
            self.assertEqual(answer["params"]["type"], "danger")
            self.assertIn(OPTION, answer["params"]["message"])
        self.assertEqual(self._exchanges(self.production), 0)

    def test_sandbox_backends_run_in_any_database(self):
        with self._option("shop_prod"):
            self.sandbox._assert_can_call()
            self.sandbox.action_resume()
        self.assertEqual(self.sandbox.state, "active")
