"""The connector's GraphQL documents are valid against Shopify's official schema.

The official SDL (September 2025) predates the 2026-04 changes; the test adds
exactly those: the ``@idempotent(key:)`` directive and
``InventoryQuantityInput.changeFromQuantity``.
"""

from graphql import build_schema, parse, validate

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_connect_base.tests.common import contracts_dir

from ..lib import documents

ADDITIONS_2026_04 = """
directive @idempotent(key: String!) on FIELD
extend input InventoryQuantityInput { changeFromQuantity: Int }
"""


@tagged("post_install", "-at_install")
class TestShopifyContracts(BaseCase):
    def test_every_document_validates_against_the_official_schema(self):
        sdl = contracts_dir("shopify", "graphql", "shopify-cli", "admin_schema.graphql")
        schema = build_schema(sdl.read_text() + ADDITIONS_2026_04, assume_valid=True)
        names = [n for n in dir(documents) if n.isupper() and n not in ("MONEY",)]
        checked = 0
        for name in names:
            text = getattr(documents, name)
            if not isinstance(text, str) or not text.lstrip().startswith(
                ("query", "mutation")
            ):
                continue
            errors = validate(schema, parse(text))
            self.assertFalse(errors, f"{name}: {[e.message for e in errors]}")
            checked += 1
        self.assertGreaterEqual(checked, 8)
        # the inner queries of bulk operations
        for text in (
            documents.bulk_orders_query("2026-01-01T00:00:00Z"),
            documents.BULK_VARIANTS_QUERY,
        ):
            errors = validate(schema, parse(text))
            self.assertFalse(errors, [e.message for e in errors])
