"""Contract drift, the Odoo-free part (lib/contract.py) and the shipped
schemas (tools/contract_schemas.py): up to date with the official contracts,
and accepting the contracts' own examples."""

import importlib.util
import json
from pathlib import Path

from odoo.tests import BaseCase, tagged

from ..lib import contract
from .common import contracts_dir

ROOT = Path(__file__).resolve().parents[2]


def generator(contracts):
    spec = importlib.util.spec_from_file_location(
        "contract_schemas", ROOT / "tools" / "contract_schemas.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.CONTRACTS = contracts
    return module


def shipped(addon, version, name):
    return contract.load(str(ROOT / addon / "contracts" / version / f"{name}.json"))


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "line_items"],
    "properties": {
        "id": {"type": ["integer", "null"]},
        "note": {},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku"],
                "properties": {"sku": {"type": ["string", "null"]}, "qty": {}},
            },
        },
    },
}


@tagged("post_install", "-at_install")
class TestContractCheck(BaseCase):
    def test_each_drift_is_named_once_by_field(self):
        payload = {
            "id": "5",
            "extra": 1,
            "line_items": [{"code": "A", "qty": 1}, {"code": "B", "qty": 2}],
        }
        self.assertEqual(
            contract.check(SCHEMA, payload),
            [
                contract.Drift("missing", "line_items[].sku"),
                contract.Drift(
                    "type", "id", expected="integer or null", found="string"
                ),
                contract.Drift("unknown", "extra", found="integer"),
                contract.Drift("unknown", "line_items[].code", found="string"),
            ],
        )

    def test_a_conforming_payload_has_no_drift(self):
        payload = {"id": None, "note": 3, "line_items": [{"sku": "A", "qty": "1"}]}
        self.assertEqual(contract.check(SCHEMA, payload), [])


@tagged("post_install", "-at_install")
class TestShippedContracts(BaseCase):
    def test_the_shipped_schemas_are_derived_from_the_contracts_as_committed(self):
        module = generator(contracts_dir())
        stale = [
            str(path.relative_to(ROOT))
            for path, text in module.outputs()
            if not path.exists() or path.read_text() != text
        ]
        self.assertEqual(stale, [], "run tools/contract_schemas.py")

    def test_the_shipped_schemas_accept_the_contracts_examples(self):
        stripe = json.loads(contracts_dir("stripe", "fixtures3.json").read_text())
        for name in ("payment_intent", "charge", "refund", "dispute", "payout"):
            schema = shipped("retail_connect_stripe", "2026-09-30.endive", name)
            self.assertEqual(contract.check(schema, stripe["resources"][name]), [])
        notification = json.loads(
            contracts_dir("amazon", "OrderChangeNotification.json").read_text()
        )
        schema = shipped("retail_connect_amazon", "2026-01-01", "order_change")
        self.assertEqual(contract.check(schema, notification["examples"][0]), [])
        fixtures = contracts_dir("shopify", "rest-fixtures", "shopify_python_api")
        for name in ("order", "refund", "customer"):
            data = json.loads((fixtures / f"{name}.json").read_text())[name]
            schema = shipped("retail_connect_shopify", "2026-10", name)
            self.assertEqual(contract.check(schema, data), [], name)

    def test_no_contract_is_copied_wholesale(self):
        # field names and types only: no description, example, enum or
        # vendor extension of the source is kept
        allowed = {"type", "additionalProperties", "properties", "required", "items"}

        def keywords(node):
            yield from node
            for prop in (node.get("properties") or {}).values():
                yield from keywords(prop)
            if isinstance(node.get("items"), dict):
                yield from keywords(node["items"])

        paths = list(ROOT.glob("retail_connect_*/contracts/*/*.json"))
        self.assertEqual(len(paths), 11)
        for path in paths:
            schema = json.loads(path.read_text())
            comment = schema.pop("$comment")  # the source and its licence
            self.assertRegex(comment, "licence|no official contract")
            schema.pop("$schema")
            self.assertLessEqual(set(keywords(schema)), allowed, path)
