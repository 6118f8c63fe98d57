"""Promotion between two databases: ids never survive the move.

The file exported here is imported into a second database (a copy of the
template database, its own registry and cursor): policies and settings apply,
records go by natural key to that database's own ones, a record it lacks is
a line of what to create first and nothing applies until it exists, and no
secret crosses.
"""

import base64
import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.retail_connect_base.tests.common import other_database


def shift_ids(env, model, beyond):
    """Make the next id of ``model`` in ``env``'s database exceed ``beyond``:
    the same record gets another id there than here."""
    env.cr.execute(
        "SELECT setval(%s, %s)", (f"{env[model]._table}_id_seq", beyond.id + 10)
    )


@tagged("post_install", "-at_install")
class TestPromotionBetweenDatabases(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.warehouse = cls.env["stock.warehouse"].create(
            {"name": "Staging outlet", "code": "OUTL"}
        )
        cls.tax = cls.env["account.tax"].create(
            {"name": "Promo VAT 7%", "amount": 7, "type_tax_use": "sale"}
        )
        cls.staging = cls.env["retail.backend"].create(
            {
                "name": "Staging shop",
                "platform": "testshop",
                "base_url": "http://127.0.0.1:8070",
                "job_max_retries": 5,
                "testshop_warehouse_id": cls.warehouse.id,
                "testshop_tax_ids": [(6, 0, cls.tax.ids)],
            }
        )
        cls.staging.access_token = "staging-token-secret"
        cls.staging._policy("inventory").write(
            {"direction": "out", "timing": "realtime", "safety_stock": 3}
        )

    def _file(self):
        action = self.staging.action_promotion_export()
        return self.env["retail.promotion"].browse(action["res_id"]).file

    def test_a_file_applies_in_another_database_by_natural_keys(self):
        file = self._file()
        self.assertNotIn(b"staging-token-secret", base64.b64decode(file))
        content = json.loads(base64.b64decode(file))
        self.assertEqual(
            content["backend_records"]["testshop_warehouse_id"]["code"], "OUTL"
        )
        broken = dict(content, backend_records={"testshop_warehouse_id": 7})
        with self.assertRaisesRegex(UserError, "not as a natural key"):
            self.staging._promotion_plan(broken)
        with other_database() as env:
            self.assertNotEqual(env.cr.dbname, self.env.cr.dbname)
            live = env["retail.backend"].create(
                {
                    "name": "Live shop",
                    "platform": "testshop",
                    "environment": "production",
                    "base_url": "https://api.testshop.example",
                }
            )
            live.access_token = "live-token-secret"
            wizard = env["retail.promotion"].create(
                {"backend_id": live.id, "file": file}
            )
            # neither the warehouse nor the tax exists there yet
            self.assertIn("Create first", wizard.changes)
            self.assertIn("OUTL", wizard.changes)
            self.assertIn("Promo VAT 7%", wizard.changes)
            with self.assertRaisesRegex(UserError, "Create first(.|\n)*OUTL"):
                wizard.action_apply()
            with self.assertRaisesRegex(UserError, "Nothing was applied"):
                live._promotion_apply(content)
            policy = live._policy("inventory")
            self.assertEqual(
                (policy.direction, policy.safety_stock), ("off", 0), "nothing applied"
            )
            self.assertEqual(live.job_max_retries, 8, "nothing applied")
            shift_ids(env, "stock.warehouse", self.warehouse)
            warehouse = env["stock.warehouse"].create(
                {"name": "Live outlet", "code": "OUTL"}
            )
            shift_ids(env, "account.tax", self.tax)
            tax = env["account.tax"].create(
                {"name": "Promo VAT 7%", "amount": 7, "type_tax_use": "sale"}
            )
            self.assertNotEqual(warehouse.id, self.warehouse.id, "ids differ")
            self.assertNotEqual(tax.id, self.tax.id, "ids differ")

            wizard = env["retail.promotion"].create(
                {"backend_id": live.id, "file": file}
            )
            self.assertNotIn("Create first", wizard.changes)
            self.assertIn("Inventory: Direction: off → out", wizard.changes)
            self.assertIn("TestShop warehouse: — → Live outlet", wizard.changes)
            wizard.action_apply()
            policy = live._policy("inventory")
            self.assertEqual(
                (policy.direction, policy.timing, policy.safety_stock),
                ("out", "realtime", 3),
            )
            self.assertEqual(live.job_max_retries, 5)
            self.assertEqual(live.testshop_warehouse_id, warehouse)
            self.assertEqual(live.testshop_tax_ids, tax)
            self.assertEqual(live._get_secret("access_token"), "live-token-secret")
            self.assertEqual(live.base_url, "https://api.testshop.example")
            again = env["retail.promotion"].create(
                {"backend_id": live.id, "file": file}
            )
            self.assertIn("Nothing to change", again.changes)
