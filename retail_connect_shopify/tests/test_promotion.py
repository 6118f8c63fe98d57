"""Promotion of a Shopify backend into another database: its locations,
payment gateways and product variants arrive mapped to that database's own
warehouse, journal and products, found by natural key (ids differ there)."""

import base64
import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.retail_connect_base.tests.common import other_database

SHOP = "acme.myshopify.com"
LOCATION = "gid://shopify/Location/71"
TEE, MUG = "gid://shopify/ProductVariant/11", "gid://shopify/ProductVariant/12"
BARCODE = "4006381333931"


def odoo_side(env, beyond=None):
    """The records the mappings point to, as both databases hold them; in the
    other one, with ids beyond those of ``beyond`` (this database's)."""
    models = {
        "warehouse": "stock.warehouse",
        "journal": "account.journal",
        "tee": "product.product",
        "mug": "product.product",
    }
    for key, model in models.items() if beyond else ():
        env.cr.execute(
            "SELECT setval(%s, %s)",
            (f"{env[model]._table}_id_seq", beyond[key].id + 10),
        )
    return {
        "warehouse": env["stock.warehouse"].create(
            {"name": "Shop stock", "code": "SHP"}
        ),
        "journal": env["account.journal"].create(
            {"name": "PayPal (promoted)", "code": "PPLP", "type": "bank"}
        ),
        "tee": env["product.product"].create(
            {"name": "Tee", "default_code": "PROMO-TEE"}
        ),
        "mug": env["product.product"].create({"name": "Mug", "barcode": BARCODE}),
    }


def shopify_backend(env, name, shop=SHOP, token="shpat_live"):
    backend = env["retail.backend"].create(
        {"name": name, "platform": "shopify", "shopify_shop_domain": shop}
    )
    backend.access_token = token
    return backend


@tagged("post_install", "-at_install")
class TestShopifyPromotion(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.records = odoo_side(cls.env)
        cls.staging = shopify_backend(cls.env, "Staging", token="shpat_staging_secret")
        cls.staging.write(
            {"shopify_confirm_on": "paid", "base_url": "http://127.0.0.1:9"}
        )
        cls.env["shopify.location"].create(
            {
                "backend_id": cls.staging.id,
                "name": "Main",
                "shopify_id": LOCATION,
                "warehouse_id": cls.records["warehouse"].id,
            }
        )
        cls.env["shopify.payment.gateway"].create(
            {
                "backend_id": cls.staging.id,
                "name": "paypal",
                "journal_id": cls.records["journal"].id,
            }
        )
        Binding = cls.env["retail.binding"]
        Binding._bind(cls.staging, cls.records["tee"], TEE, external_ref="PROMO-TEE")
        Binding._bind(cls.staging, cls.records["mug"], MUG, external_ref="MUG-S")

    def _file(self):
        action = self.staging.action_promotion_export()
        return self.env["retail.promotion"].browse(action["res_id"]).file

    def test_locations_gateways_and_variants_arrive_mapped_in_another_database(self):
        file = self._file()
        raw = base64.b64decode(file).decode()
        self.assertNotIn("shpat_staging_secret", raw)
        self.assertNotIn("127.0.0.1", raw)
        content = json.loads(raw)
        location = content["mappings"]["shopify_locations"][0]
        self.assertEqual(location["warehouse_id"]["code"], "SHP")
        with other_database() as env:
            live = shopify_backend(env, "Live")
            fetched = env["shopify.location"].create(
                {"backend_id": live.id, "name": "Main", "shopify_id": LOCATION}
            )
            wizard = env["retail.promotion"].create(
                {"backend_id": live.id, "file": file}
            )
            for first in ("SHP", "PPLP", "PROMO-TEE", BARCODE):
                self.assertIn(first, wizard.changes.split("\n\n")[0])
            with self.assertRaisesRegex(UserError, "Create first"):
                wizard.action_apply()
            self.assertFalse(fetched.warehouse_id, "nothing applied")
            self.assertFalse(live.shopify_gateway_ids, "nothing applied")

            records = odoo_side(env, beyond=self.records)
            self.assertNotEqual(records["tee"].id, self.records["tee"].id)
            self.assertNotEqual(records["warehouse"].id, self.records["warehouse"].id)
            self.assertNotEqual(records["journal"].id, self.records["journal"].id)
            wizard = env["retail.promotion"].create(
                {"backend_id": live.id, "file": file}
            )
            self.assertNotIn("Create first", wizard.changes)
            self.assertIn(
                "Shopify location Main: Warehouse: — → Shop stock", wizard.changes
            )
            self.assertIn(
                "Shopify variant PROMO-TEE: — → [PROMO-TEE] Tee", wizard.changes
            )
            wizard.action_apply()

            self.assertEqual(fetched.warehouse_id, records["warehouse"])
            gateway = live.shopify_gateway_ids
            self.assertEqual(gateway.name, "paypal")
            self.assertEqual(gateway.journal_id, records["journal"])
            Binding = env["retail.binding"]
            self.assertEqual(
                Binding._lookup(live, "product.product", TEE)._record(), records["tee"]
            )
            self.assertEqual(
                Binding._lookup(live, "product.product", MUG)._record(), records["mug"]
            )
            self.assertEqual(live.shopify_confirm_on, "paid")
            self.assertEqual(live._get_secret("access_token"), "shpat_live")
            self.assertFalse(live.base_url)

            # from another shop: its location is this shop's of the same name,
            # its variant ids mean nothing here
            other = shopify_backend(env, "Other shop", shop="other.myshopify.com")
            theirs = env["shopify.location"].create(
                {
                    "backend_id": other.id,
                    "name": "Main",
                    "shopify_id": "gid://shopify/Location/9",
                }
            )
            other._promotion_apply(content)
            self.assertEqual(theirs.warehouse_id, records["warehouse"])
            self.assertFalse(Binding.search([("backend_id", "=", other.id)]))
