from odoo.tests import tagged

from .common import ShopifyCase, run_jobs


class Rollback(Exception):
    """Raised to roll a job's transaction back after its calls were made."""


@tagged("post_install", "-at_install")
class TestCatalog(ShopifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.color = cls.env["product.attribute"].create(
            {
                "name": "Color",
                "create_variant": "always",
                "value_ids": [(0, 0, {"name": "Red"}), (0, 0, {"name": "Blue"})],
            }
        )

    def setUp(self):
        super().setUp()
        self.backend.action_shopify_fetch_locations()
        self.shopify_location = self.backend.shopify_location_ids.filtered(
            lambda loc: loc.shopify_id == self.location["id"]
        )
        self.shopify_location.warehouse_id = self.warehouse

    # ------------------------------------------------------------ helpers
    def _tee(self, name="Tee", price=25.0, skus=("TEE-RED", "TEE-BLUE"), blue=2.0):
        tmpl = self.env["product.template"].create(
            {
                "name": name,
                "list_price": price,
                "is_storable": True,
                "attribute_line_ids": [
                    (
                        0,
                        0,
                        {
                            "attribute_id": self.color.id,
                            "value_ids": [(6, 0, self.color.value_ids.ids)],
                        },
                    )
                ],
            }
        )
        for ptav in tmpl.attribute_line_ids.product_template_value_ids:
            if ptav.name == "Blue":
                ptav.price_extra = blue
        for variant in tmpl.product_variant_ids:
            color = variant.product_template_attribute_value_ids.name
            variant.default_code = skus[0] if color == "Red" else skus[1]
        return tmpl

    def _variant(self, tmpl, color):
        return tmpl.product_variant_ids.filtered(
            lambda v: v.product_template_attribute_value_ids.name == color
        )

    def _publish(self, *templates):
        for tmpl in templates:
            tmpl.shopify_backend_ids = [(4, self.backend.id)]

    def _calls(self, operation="ProductSet"):
        return [
            r
            for r in self.sandbox.requests("/admin/api/")
            if (r.json() or {}).get("operationName") == operation
        ]

    def _remote(self, gid):
        product = self.sandbox.products[gid]
        variants = [self.sandbox.variants[v] for v in product["variants"]]
        return product, {v["sku"]: v for v in variants}

    def _export_jobs(self, state="pending"):
        return self.env["queue.job"].search(
            [
                ("method_name", "=", "_job_shopify_export_products"),
                ("state", "=", state),
            ]
        )

    def _binding(self, record):
        return self.Binding._lookup_record(self.backend, record)

    # -------------------------------------------------------------- tests
    def test_publish_two_color_variants_then_stock_follows(self):
        tmpl = self._tee()
        red, blue = self._variant(tmpl, "Red"), self._variant(tmpl, "Blue")
        self.env["stock.quant"]._update_available_quantity(
            blue, self.warehouse.lot_stock_id, 5
        )
        run_jobs(self.env)  # nothing published yet: nothing to do
        self.assertFalse(self._export_jobs())
        self._publish(tmpl)
        tmpl.description_sale = "Soft cotton"
        jobs = self._export_jobs()
        self.assertEqual(len(jobs), 1, "changes are coalesced per backend")
        self.assertEqual(jobs.channel, self.backend._channel("bulk"))
        run_jobs(self.env, rounds=2)
        self.assertEqual(len(self._calls()), 1)

        binding = self._binding(tmpl)
        self.assertTrue(binding)
        product, variants = self._remote(binding.external_id)
        self.assertEqual(product["title"], "Tee")
        self.assertEqual(product["status"], "ACTIVE")
        self.assertTrue(product["handle"].startswith("odoo-"))
        self.assertEqual(
            [(o["name"], o["values"]) for o in product["options"]],
            [("Color", ["Red", "Blue"])],
        )
        self.assertEqual(sorted(variants), ["TEE-BLUE", "TEE-RED"])
        self.assertEqual(str(variants["TEE-RED"]["price"]), "25.00")
        self.assertEqual(str(variants["TEE-BLUE"]["price"]), "27.00")
        for variant, sku in ((red, "TEE-RED"), (blue, "TEE-BLUE")):
            vb = self._binding(variant)
            self.assertEqual(vb.external_id, variants[sku]["id"])
            self.assertEqual(
                vb.extra["inventory_item_id"], variants[sku]["inventoryItemId"]
            )
        # the stock Odoo had went out with the new variants
        red_item = variants["TEE-RED"]["inventoryItemId"]
        blue_item = variants["TEE-BLUE"]["inventoryItemId"]
        self.assertEqual(self.sandbox.inventory(blue_item, self.location["id"]), 5)
        # and a stock change right after is pushed to the new inventory item
        self.env["stock.quant"]._update_available_quantity(
            red, self.warehouse.lot_stock_id, 7
        )
        run_jobs(self.env)
        self.assertEqual(self.sandbox.inventory(red_item, self.location["id"]), 7)
        self.assertEqual(len(self._calls()), 1, "stock moves do not re-export")

    def test_price_change_exports_once_and_no_change_no_call(self):
        tmpl = self._tee()
        self._publish(tmpl)
        run_jobs(self.env)
        self.assertEqual(len(self._calls()), 1)
        before = {
            v: (self._binding(v).external_id, self._binding(v).extra)
            for v in tmpl.product_variant_ids
        }
        tmpl.list_price = 30.0
        run_jobs(self.env)
        self.assertEqual(len(self._calls()), 2)
        last = self._calls()[-1].json()["variables"]
        self.assertEqual(last["identifier"], {"id": self._binding(tmpl).external_id})
        _product, variants = self._remote(self._binding(tmpl).external_id)
        self.assertEqual(str(variants["TEE-RED"]["price"]), "30.00")
        self.assertEqual(str(variants["TEE-BLUE"]["price"]), "32.00")
        after = {
            v: (self._binding(v).external_id, self._binding(v).extra)
            for v in tmpl.product_variant_ids
        }
        self.assertEqual(before, after, "variants updated in place, not recreated")
        # a write that changes nothing Shopify shows: a job, but no call
        tmpl.write({"name": "Tee", "list_price": 30.0})
        self.assertEqual(len(self._export_jobs()), 1)
        run_jobs(self.env)
        self.assertEqual(len(self._calls()), 2, "nothing changed: no call")
        last_job = self._export_jobs("done").sorted("id")[-1:]
        self.assertIn("unchanged", last_job.result or "")

    def test_retried_export_after_rollback_does_not_duplicate(self):
        with_skus = self._tee()
        without_skus = self._tee(name="Plain tee", skus=(False, False))
        self._publish(with_skus, without_skus)
        count = len(self.sandbox.products)
        # the export reaches Shopify, then its transaction rolls back
        try:
            with self.env.cr.savepoint():
                self.backend._job_shopify_export_products()
                raise Rollback()
        except Rollback:
            pass
        self.env.invalidate_all()
        self.assertEqual(len(self.sandbox.products), count + 2)
        self.assertFalse(self._binding(with_skus) or self._binding(without_skus))
        # the retry finds the products Shopify already has
        self.backend._job_shopify_export_products()
        self.assertEqual(len(self._calls()), 4)
        self.assertEqual(len(self.sandbox.products), count + 2, "no duplicate")
        for tmpl in (with_skus, without_skus):
            product, _variants = self._remote(self._binding(tmpl).external_id)
            self.assertEqual(len(product["variants"]), 2)
            handle = self.backend._shopify_handle(tmpl)
            self.assertEqual(product["handle"], handle)
            for variant in tmpl.product_variant_ids:
                self.assertIn(self._binding(variant).external_id, product["variants"])

    def test_existing_shopify_product_with_the_sku_is_adopted(self):
        mug = self.products["MUG-002"]
        remote = self.sandbox.variant_by_sku("MUG-002")
        count = len(self.sandbox.products)
        mug.product_tmpl_id.shopify_backend_ids = [(4, self.backend.id)]
        mug.product_tmpl_id.list_price = 13.0
        run_jobs(self.env)
        self.assertEqual(len(self.sandbox.products), count, "no duplicate listing")
        self.assertEqual(
            self._binding(mug.product_tmpl_id).external_id, remote["productId"]
        )
        self.assertEqual(self._binding(mug).external_id, remote["id"])
        self.assertEqual(str(self.sandbox.variant_by_sku("MUG-002")["price"]), "13.00")

    def test_invalid_product_opens_an_exception_others_still_export(self):
        bad = self._tee(name="Bad tee", price=-5.0, skus=("BAD-RED", "BAD-BLUE"))
        good = self._tee(name="Good tee", skus=("GOOD-RED", "GOOD-BLUE"))
        (bad | good).write({"shopify_backend_ids": [(4, self.backend.id)]})
        jobs = run_jobs(self.env)
        self.assertEqual([j.state for j in jobs], ["done"])
        self.assertTrue(self._binding(good))
        self.assertFalse(self._binding(bad))
        exception = self.env["retail.sync.exception"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("subject_key", "=", f"product:{bad.id}"),
            ]
        )
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.state, "new")
        self.assertEqual(exception.category, "validation")
        self.assertEqual(exception.domain, "product")
        self.assertEqual((exception.res_model, exception.res_id), (bad._name, bad.id))
        self.assertIn("non-negative", exception.message)
        # the fix exports it and resolves the exception
        bad.list_price = 5.0
        run_jobs(self.env)
        self.assertTrue(self._binding(bad))
        self.assertEqual(exception.state, "resolved")

    def test_too_many_options_is_refused_before_any_call(self):
        tmpl = self._tee()
        for name in ("Size", "Fit", "Sleeve"):
            attribute = self.env["product.attribute"].create(
                {"name": name, "value_ids": [(0, 0, {"name": "A"})]}
            )
            tmpl.attribute_line_ids = [
                (
                    0,
                    0,
                    {
                        "attribute_id": attribute.id,
                        "value_ids": attribute.value_ids.ids,
                    },
                )
            ]
        self._publish(tmpl)
        run_jobs(self.env)
        self.assertFalse(self._calls())
        exception = self.env["retail.sync.exception"].search(
            [("subject_key", "=", f"product:{tmpl.id}")]
        )
        self.assertIn("at most 3 options", exception.message)

    def test_no_export_when_the_policy_or_the_origin_says_no(self):
        tmpl = self._tee()
        tmpl.with_context(retail_connect_origin=self.backend.id).write(
            {"shopify_backend_ids": [(4, self.backend.id)]}
        )
        self.assertFalse(self._export_jobs(), "a change from Shopify is not echoed")
        self.backend._policy("product").direction = "off"
        tmpl.list_price = 40.0
        self.assertFalse(self._export_jobs())
        run_jobs(self.env)
        self.assertFalse(self._calls())

    def test_unpublish_and_delete_archive_on_shopify(self):
        tmpl = self._tee()
        other = self._tee(name="Other tee", skus=("OTH-RED", "OTH-BLUE"))
        self._publish(tmpl, other)
        run_jobs(self.env)
        gid, other_gid = (
            self._binding(tmpl).external_id,
            self._binding(other).external_id,
        )
        tmpl.shopify_backend_ids = [(3, self.backend.id)]
        run_jobs(self.env)
        product, variants = self._remote(gid)
        self.assertEqual(product["status"], "ARCHIVED")
        self.assertEqual(len(variants), 2, "variants kept while archived")
        other.unlink()
        run_jobs(self.env)
        self.assertEqual(self.sandbox.products[other_gid]["status"], "ARCHIVED")

    def test_import_catalog_without_duplicates_nor_echo(self):
        policy = self.backend._policy("product")
        policy.write({"system_of_record": "platform", "direction": "both"})
        self.sandbox.add_product(
            "Hoodie",
            [
                {"sku": "HOOD-S", "price": "40.00", "options": {"Size": "S"}},
                {"sku": "HOOD-M", "price": "42.50", "options": {"Size": "M"}},
            ],
        )
        tshirt = self.products["TSHIRT-001"]
        Product = self.env["product.product"].with_context(active_test=False)
        self.assertTrue(self.backend.shopify_catalog_import)
        self.backend.action_shopify_import_catalog()
        jobs = run_jobs(self.env, rounds=2)
        self.assertEqual(
            [j.state for j in jobs], ["done"], [j.exc_info or j.result for j in jobs]
        )

        self.assertEqual(Product.search_count([("default_code", "=", "TSHIRT-001")]), 1)
        remote = self.sandbox.variant_by_sku("TSHIRT-001")
        self.assertEqual(self._binding(tshirt).external_id, remote["id"])
        self.assertEqual(
            self._binding(tshirt).extra["inventory_item_id"], remote["inventoryItemId"]
        )
        hoodies = Product.search([("default_code", "in", ("HOOD-S", "HOOD-M"))])
        self.assertEqual(len(hoodies), 2)
        tmpl = hoodies.product_tmpl_id
        self.assertEqual(len(tmpl), 1)
        self.assertEqual(tmpl.name, "Hoodie")
        self.assertEqual(tmpl.attribute_line_ids.attribute_id.name, "Size")
        prices = {p.default_code: p.lst_price for p in hoodies}
        self.assertEqual(prices, {"HOOD-S": 40.0, "HOOD-M": 42.5})
        self.assertIn(self.backend, tmpl.shopify_backend_ids)
        for hoodie in hoodies:
            self.assertEqual(
                self._binding(hoodie).external_id,
                self.sandbox.variant_by_sku(hoodie.default_code)["id"],
            )
        # nothing imported goes back to Shopify
        self.assertFalse(self._export_jobs())
        self.assertFalse(self.env["shopify.product.export"].search([]))
        self.assertFalse(self._calls())
        # a second import changes nothing
        templates = self.env["product.template"].search_count([])
        self.backend._job_shopify_import_products()
        self.assertEqual(self.env["product.template"].search_count([]), templates)
        self.assertFalse(self._export_jobs())
        # while a change made in Odoo still goes out (the policy is "both")
        tmpl.list_price = 41.0
        run_jobs(self.env)
        self.assertEqual(len(self._calls()), 1)

    def test_product_manager_without_retail_rights_triggers_the_export(self):
        tmpl = self._tee()
        self._publish(tmpl)
        run_jobs(self.env)
        user = self.env["res.users"].create(
            {
                "name": "Catalog manager",
                "login": "catalog_manager",
                "groups_id": [
                    (6, 0, self.env.ref("sales_team.group_sale_manager").ids)
                ],
            }
        )
        self.assertFalse(user.has_group("retail_connect_base.group_user"))
        tmpl.with_user(user).list_price = 31.0
        self._variant(tmpl, "Red").with_user(user).default_code = "TEE-ONE"
        self.assertEqual(len(self._export_jobs()), 1)
        run_jobs(self.env)
        self.assertEqual(len(self._calls()), 2)
        self.assertEqual(str(self.sandbox.variant_by_sku("TEE-ONE")["price"]), "31.00")

    def test_policy_poll_imports_recent_products_when_shopify_owns_them(self):
        policy = self.backend._policy("product")
        policy.write({"system_of_record": "platform", "direction": "in"})
        self.assertFalse(self.backend.shopify_catalog_export)
        self.sandbox.add_product("Cap", [{"sku": "CAP-1", "price": "9.90"}])
        policy._job_poll()
        cap = self.env["product.product"].search([("default_code", "=", "CAP-1")])
        self.assertEqual(cap.name, "Cap")
        self.assertEqual(cap.lst_price, 9.9)
        self.assertTrue(self._binding(cap.product_tmpl_id))
        self.assertFalse(self._export_jobs())

    def test_a_removed_value_removes_its_variant_on_shopify(self):
        tmpl = self._tee()
        self._publish(tmpl)
        run_jobs(self.env)
        blue = self._variant(tmpl, "Blue")
        line = tmpl.attribute_line_ids
        line.value_ids = [
            (3, self.color.value_ids.filtered(lambda v: v.name == "Blue").id)
        ]
        self.assertFalse(blue.exists() and blue.active)
        run_jobs(self.env)
        product, variants = self._remote(self._binding(tmpl).external_id)
        self.assertEqual(list(variants), ["TEE-RED"])
        self.assertEqual(product["options"][0]["values"], ["Red"])
        self.assertFalse(
            self.Binding.search(
                [("res_model", "=", "product.product"), ("res_id", "=", blue.id)]
            )
        )
