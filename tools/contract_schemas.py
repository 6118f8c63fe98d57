#!/usr/bin/env python3
"""Derive the payload schemas each platform addon ships (contract drift, issue 13).

Reads the official contracts in ``../shared/contracts`` (never copied into the
repo) and writes, per platform, pinned API version and payload type we consume,
a minimal JSON Schema: the field names the contract knows at the levels we read
(``additionalProperties: false`` there, so a new or renamed field is seen), their
JSON types, and ``required``: the fields the connector reads. No descriptions,
examples or values are kept: only names and types, with the source and licence
in ``$comment``.

    python3 tools/contract_schemas.py            # write retail_connect_*/contracts/
    python3 tools/contract_schemas.py --check    # fail if the committed files differ

Where a contract predates the pinned version, ``documented`` adds the fields the
platform's documentation shows for it (``docs/PLATFORMS.md``), each with its
source; the 3PL has no official contract (``contracts/README.md``): its schema
comes from the canonical messages of ``docs/PLATFORMS.md`` section 4.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = Path(os.environ.get("RC_CONTRACTS") or ROOT.parent / "shared" / "contracts")

SHOPIFY_PY = "shopify/rest-fixtures/shopify_python_api"
SHOPIFY_RB = "shopify/rest-fixtures/shopify_api_ruby"
SHOPIFY_LICENCE = (
    "MIT (shopify/licenses/LICENSE.shopify_python_api.txt, "
    "LICENSE.shopify-api-ruby.txt)"
)
STRIPE_SPEC = "stripe/spec3.subset.2023-08-16.json"
PLATFORMS_1A = "docs/PLATFORMS.md section 1a (shopify.dev webhook payload example)"

# platform addon -> {"version", "types": {payload type -> spec}}
# spec: "samples" (contract file, path to the object(s)), or "openapi" (file,
# schema name); "walk": the object paths whose fields are listed (others are
# only typed); "required": {path: fields the connector reads};
# "documented": {path: {field: type}} the contract lacks, with "documented_source"
SPECS = {
    "retail_connect_shopify": {
        "version": "2026-10",
        "types": {
            "order": {
                "samples": [
                    (f"{SHOPIFY_PY}/order.json", "order"),
                    (f"{SHOPIFY_PY}/orders.json", "orders[]"),
                    (f"{SHOPIFY_RB}/order_with_properties.json", "order"),
                ],
                "licence": SHOPIFY_LICENCE,
                "walk": [""],
                "required": {"": ["id", "name"]},
                "documented": {
                    "": {"current_total_price": "string", "refunds": "array"}
                },
                "documented_source": PLATFORMS_1A,
            },
            "refund": {
                "samples": [(f"{SHOPIFY_PY}/refund.json", "refund")],
                "licence": SHOPIFY_LICENCE,
                "walk": ["", "refund_line_items[]"],
                "required": {
                    "": ["id", "order_id", "refund_line_items"],
                    "refund_line_items[]": ["line_item_id", "quantity"],
                },
                "documented": {
                    "": {"admin_graphql_api_id": "string"},
                    "refund_line_items[]": {
                        "location_id": "integer",
                        "restock_type": "string",
                        "subtotal": "string",
                        "total_tax": "string",
                    },
                },
                "documented_source": "docs/PLATFORMS.md section 1a (refunds/create)",
            },
            "customer": {
                "samples": [
                    (f"{SHOPIFY_PY}/customer.json", "customer"),
                    (f"{SHOPIFY_RB}/customers.json", "customer"),
                    (f"{SHOPIFY_PY}/orders.json", "orders[].customer"),
                ],
                "licence": SHOPIFY_LICENCE,
                "walk": [""],
                "required": {"": ["id", "email"]},
                "documented": {"": {"phone": "string"}},
                "documented_source": PLATFORMS_1A,
            },
        },
    },
    "retail_connect_stripe": {
        "version": "2026-09-30.endive",
        "types": {
            name: {
                "spec": (STRIPE_SPEC, f"components/schemas/{name}"),
                # the 2023 spec predates the pinned version: the current
                # fixtures (2026-08) add the fields it lacks
                "samples": [("stripe/fixtures3.json", f"resources.{name}")],
                "licence": "MIT (stripe/LICENSE.stripe-openapi.txt)",
                "walk": [""],
                "required": {"": ["id", "object", *consumed]},
            }
            for name, consumed in (
                ("payment_intent", []),
                ("charge", ["payment_intent"]),
                ("refund", ["charge"]),
                ("dispute", ["charge"]),
                ("payout", []),
            )
        },
    },
    "retail_connect_amazon": {
        "version": "2026-01-01",
        "types": {
            "order": {
                "spec": ("amazon/orders_2026-01-01.json", "definitions/Order"),
                "licence": "Apache-2.0 (amazon/LICENSE.selling-partner-api-models.txt)",
                "walk": ["", "orderItems[]"],
                "required": {
                    "": ["orderId", "createdTime", "lastUpdatedTime", "orderItems"],
                    "orderItems[]": ["orderItemId", "quantityOrdered"],
                },
            },
            "order_change": {
                "spec": ("amazon/OrderChangeNotification.json", ""),
                "licence": "Apache-2.0 (amazon/LICENSE.selling-partner-api-models.txt)",
                "walk": ["", "Payload", "Payload.OrderChangeNotification"],
                "required": {
                    "": ["NotificationType", "Payload"],
                    "Payload": ["OrderChangeNotification"],
                    "Payload.OrderChangeNotification": ["AmazonOrderId"],
                },
            },
        },
    },
    # no official contract (contracts/README.md, "3pl/ - not created"): the
    # fields ShipBob's reference documents for a shipment (order.shipped and
    # order.shipment.* webhooks carry one)
    "retail_connect_3pl": {
        "version": "2026-07",
        "types": {
            "shipment": {
                "walk": [""],
                "required": {"": ["reference_id"]},
                "documented": {
                    "": {
                        "id": "integer",
                        "order_id": "integer",
                        "reference_id": "string",
                        "recipient": "object",
                        "created_date": "string",
                        "last_update_at": "string",
                        "status": "string",
                        "status_details": "array",
                        "tracking_status": "string",
                        "location": "object",
                        "tracking": "object",
                        "actual_fulfillment_date": "string",
                        "products": "array",
                        "invoice_amount": "number",
                        "invoice_currency_code": "string",
                        "insurance_value": "number",
                        "ship_option": "string",
                        "package_material_type": "string",
                        "require_signature": "boolean",
                        "measurements": "object",
                        "is_tracking_uploaded": "boolean",
                        "estimated_fulfillment_date": "string",
                        "estimated_fulfillment_date_status": "string",
                        "gift_message": "string",
                        "parent_cartons": "array",
                    }
                },
                "documented_source": (
                    "developer.shipbob.com/2026-07/api/orders (the Shipment "
                    "object) and docs/PLATFORMS.md section 4"
                ),
            },
        },
    },
}


# ---------------------------------------------------------------- inference
def json_types(value):
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, list):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return {"null"}


def pick(data, path):
    """The objects at ``path`` (``orders[].customer``) in ``data``."""
    found = [data]
    for part in filter(None, path.split(".")):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        nxt = []
        for item in found:
            value = item.get(key) if isinstance(item, dict) else None
            if value is None:
                continue
            nxt.extend(value if many else [value])
        found = nxt
    return [item for item in found if isinstance(item, dict)]


def infer(objects, path, walk):
    """The schema of ``objects`` (samples of one object) at ``path``."""
    fields = {}
    for obj in objects:
        for name, value in obj.items():
            fields.setdefault(name, []).append(value)
    properties = {}
    for name in sorted(fields):
        sub = f"{path}.{name}" if path else name
        properties[name] = _field_schema(fields[name], sub, walk)
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _field_schema(values, path, walk):
    # REST and JSON APIs send null for an absent value of any field: null is
    # never a type change; a field seen as null only says nothing of its type
    types = set().union(*(json_types(v) for v in values)) | {"null"}
    schema = {}
    if len(types) > 1:
        schema["type"] = sorted(types)
    if f"{path}[]" in walk:
        items = [i for v in values if isinstance(v, list) for i in v]
        items = [i for i in items if isinstance(i, dict)]
        schema["items"] = infer(items, f"{path}[]", walk)
    elif path in walk:
        objects = [v for v in values if isinstance(v, dict)]
        schema.update(infer(objects, path, walk))
        schema["type"] = sorted(types)
    return schema


# ------------------------------------------------- OpenAPI / Swagger / JSON Schema
def deref(doc, node):
    """``node`` with its ``$ref`` (``#/definitions/X``) followed."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node, seen = target, seen + 1
    return node


def spec_types(doc, node):
    """The JSON types a contract's property allows (null always: see above)."""
    node = deref(doc, node)
    types = {"null"}
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        for branch in branches:
            types |= spec_types(doc, branch)
        return types
    kind = node.get("type")
    if isinstance(kind, list):
        types |= set(kind)
    elif kind:
        types.add(kind)
    elif node.get("properties") or node.get("allOf"):
        types.add("object")
    else:
        return {"any"}
    return types


def spec_properties(doc, node):
    node = deref(doc, node)
    properties = dict(node.get("properties") or {})
    for part in node.get("allOf") or ():
        properties.update(spec_properties(doc, part))
    return properties


def from_spec(doc, node, path, walk):
    """The schema of a contract object at ``path``: its property names and
    types, objects on ``walk`` described in turn."""
    properties = {}
    for name, prop in sorted(spec_properties(doc, node).items()):
        sub = f"{path}.{name}" if path else name
        types = spec_types(doc, prop)
        schema = {} if "any" in types else {"type": sorted(types)}
        target = deref(doc, prop)
        if f"{sub}[]" in walk and target.get("items"):
            schema["items"] = from_spec(doc, target["items"], f"{sub}[]", walk)
        elif sub in walk:
            schema.update(from_spec(doc, target, sub, walk), type=sorted(types))
        properties[name] = schema
    return {"type": "object", "additionalProperties": False, "properties": properties}


def merge(schema, extra):
    """Add to ``schema`` the properties ``extra`` knows and it does not."""
    for name, prop in extra.get("properties", {}).items():
        mine = schema["properties"].setdefault(name, prop)
        if "properties" in mine and "properties" in prop:
            merge(mine, prop)
        elif "items" in mine and "items" in prop:
            merge(mine["items"], prop["items"])
    schema["properties"] = dict(sorted(schema["properties"].items()))


def _node(schema, path):
    """The object schema at ``path`` in ``schema`` (created by ``infer``)."""
    node = schema
    for part in filter(None, path.split(".")):
        node = node["properties"][part.removesuffix("[]")]
        if part.endswith("[]"):
            node = node["items"]
    return node


def derive(spec):
    walk = set(spec["walk"])
    schema = None
    files = []
    if spec.get("spec"):
        file, pointer = spec["spec"]
        files.append(file)
        doc = json.loads((CONTRACTS / file).read_text())
        root = {"$ref": f"#/{pointer}"} if pointer else doc
        schema = from_spec(doc, root, "", walk)
    objects = []
    for file, path in spec.get("samples", ()):
        files.append(file)
        data = json.loads((CONTRACTS / file).read_text())
        objects.extend(pick(data, path))
    if objects:
        inferred = infer(objects, "", walk)
        if schema:
            merge(schema, inferred)
        else:
            schema = inferred
    if schema is None:  # documented fields only
        schema = {"type": "object", "additionalProperties": False, "properties": {}}
    for path, fields in spec.get("documented", {}).items():
        node = _node(schema, path)
        for name, type_ in fields.items():
            types = sorted({*([type_] if isinstance(type_, str) else type_), "null"})
            node["properties"].setdefault(name, {"type": types})
        node["properties"] = dict(sorted(node["properties"].items()))
    for path, names in spec["required"].items():
        node = _node(schema, path)
        missing = [n for n in names if n not in node["properties"]]
        if missing:
            raise SystemExit(f"{path or '(payload)'}: {missing} not in the contract")
        node["required"] = sorted(names)
    if files:
        comment = (
            "Derived by tools/contract_schemas.py from ../shared/contracts/ "
            f"({', '.join(sorted(set(files)))}); licence {spec['licence']}. "
            "Field names and types only."
        )
        if spec.get("documented"):
            comment += f" Fields the contract predates: {spec['documented_source']}."
    else:
        comment = (
            "Written by tools/contract_schemas.py: no official contract is "
            "published (../shared/contracts/README.md); field names and types "
            f"from {spec['documented_source']}."
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": comment,
        **schema,
    }


def outputs():
    for addon, platform in SPECS.items():
        folder = ROOT / addon / "contracts" / platform["version"]
        for name, spec in platform["types"].items():
            text = json.dumps(derive(spec), indent=1) + "\n"
            yield folder / f"{name}.json", text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not CONTRACTS.is_dir():
        raise SystemExit(f"{CONTRACTS} not found: the official contracts live there")
    stale = []
    for path, text in outputs():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path.relative_to(ROOT))
    if stale:
        print("out of date (run tools/contract_schemas.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
