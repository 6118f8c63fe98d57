"""Check the sandbox's answers against Stripe's OpenAPI contract.

The contract (``shared/contracts/stripe/spec3.subset.2023-08-16.json``, MIT,
from stripe/openapi) is OpenAPI 3.0: ``nullable`` is turned into JSON
Schema's ``null`` type and the component schemas are validated with
``jsonschema`` (already a requirement of the suite). Operations outside the
subset fall back to their component schema (``customer``) or, for the
webhook endpoint, to the keys of the official ``fixtures3.json`` object.
The folder is ``$RC_CONTRACTS/stripe``, else ``../shared/contracts/stripe``
next to the repository; :func:`contract_dir` returns None when absent.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import jsonschema

SPEC_NAME = "spec3.subset.2023-08-16.json"
FIXTURES_NAME = "fixtures3.json"
REPO = Path(__file__).resolve().parents[3]
# responses of operations the subset does not hold
FALLBACK = {"/v1/customers": "customer", "/v1/customers/{customer}": "customer"}


def contract_dir() -> Path | None:
    base = os.environ.get("RC_CONTRACTS")
    folder = (Path(base) if base else REPO.parent / "shared" / "contracts") / "stripe"
    return folder if (folder / SPEC_NAME).is_file() else None


def _nullable(node):
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items() if not k.startswith("x-")}
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "anyOf" in node:
            node["anyOf"] = [*node["anyOf"], {"type": "null"}]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def spec() -> dict:
    folder = contract_dir()
    if folder is None:
        raise FileNotFoundError("Stripe contract folder not found")
    return json.loads((folder / SPEC_NAME).read_text())


@functools.cache
def _components() -> dict:
    return _nullable(spec()["components"])


@functools.cache
def fixture_keys(kind: str) -> frozenset:
    data = json.loads((contract_dir() / FIXTURES_NAME).read_text())
    return frozenset(data["resources"][kind])


def _template(path: str) -> tuple[str | None, dict | None]:
    for template, operations in spec()["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        if re.fullmatch(pattern, path):
            return template, operations
    return None, None


def schema_for(method: str, path: str, status: int) -> dict | None:
    template, operations = _template(path)
    if operations is None or method.lower() not in operations:
        for prefix, component in FALLBACK.items():
            pattern = re.sub(r"\{[^}]+\}", r"[^/]+", prefix)
            if re.fullmatch(pattern, path):
                ref = {"$ref": f"#/components/schemas/{component}"}
                if status >= 400:
                    return {"$ref": "#/components/schemas/error"}
                if method == "GET" and "{" not in prefix:
                    return {
                        "type": "object",
                        "required": ["data"],
                        "properties": {"data": {"type": "array", "items": ref}},
                    }
                return ref
        return None
    responses = operations[method.lower()]["responses"]
    answer = responses.get(str(status)) if status < 400 else None
    answer = answer or responses.get("200" if status < 400 else "default")
    return _nullable(answer["content"]["application/json"]["schema"])


def problems(method: str, path: str, status: int, body) -> list[str]:
    """Why ``body`` does not fit the contract (empty: it fits); raises
    LookupError for an operation the contract cannot check."""
    if path.startswith("/v1/webhook_endpoints"):
        items = body.get("data", [body]) if isinstance(body, dict) else [body]
        if status >= 400:
            schema = {"$ref": "#/components/schemas/error"}
        else:
            # ``secret`` is "Only returned at creation" (the fixture is a read)
            allowed = fixture_keys("webhook_endpoint") | {"deleted", "secret"}
            return [
                f"webhook_endpoint key {key!r} not in the official fixture"
                for item in items
                for key in item
                if key not in allowed
            ]
    else:
        schema = schema_for(method, path, status)
    if schema is None:
        raise LookupError(f"no contract for {method} {path}")
    root = {**schema, "components": _components()}
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
        for error in validator.iter_errors(body)
    ]


def component_problems(name: str, value) -> list[str]:
    """Validate ``value`` as the component schema ``name`` (e.g. ``event``)."""
    root = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
        for error in validator.iter_errors(value)
    ]
