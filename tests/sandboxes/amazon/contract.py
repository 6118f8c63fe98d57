"""Check the sandbox's answers against the official SP-API models.

The models (``shared/contracts/amazon``, Apache-2.0, from
amzn/selling-partner-api-models) are Swagger 2.0: an answer is validated
against the schema of its operation's response for its status, with the
model's ``definitions`` (``jsonschema``, already a requirement of the
suite). JSON Schema files (notification and listings feed schemas) are
validated as they are. The folder is ``$RC_CONTRACTS/amazon``, else
``../shared/contracts/amazon`` next to the repository; :func:`contract_dir`
returns None when absent.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[3]
MODELS = (
    "orders_2026-01-01.json",
    "ordersV0.json",
    "listingsItems_2021-08-01.json",
    "feeds_2021-06-30.json",
    "reports_2021-06-30.json",
)


def contract_dir() -> Path | None:
    base = os.environ.get("RC_CONTRACTS")
    folder = (Path(base) if base else REPO.parent / "shared" / "contracts") / "amazon"
    return folder if (folder / MODELS[0]).is_file() else None


@functools.cache
def load(name: str) -> dict:
    folder = contract_dir()
    if folder is None:
        raise FileNotFoundError("Amazon contract folder not found")
    return json.loads((folder / name).read_text())


def _clean(node):
    """Swagger 2.0 schema -> JSON Schema: drop ``x-`` keys and examples."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _clean(value)
        for key, value in node.items()
        if not key.startswith("x-") and key not in ("example", "discriminator")
    }


def operation(model: str, method: str, path: str):
    """``(template, operation)`` of ``method path`` in ``model``, or None."""
    for template, operations in load(model)["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    return None


def problems(model: str, method: str, path: str, status: int, body) -> list[str]:
    """Why ``body`` does not fit ``model`` (empty: it fits); LookupError for
    an operation or status the model does not describe."""
    found = operation(model, method, path)
    if found is None:
        raise LookupError(f"{model} has no {method} {path}")
    responses = found[1]["responses"]
    answer = responses.get(str(status))
    if answer is None:
        raise LookupError(f"{model} {method} {path} has no {status} answer")
    schema = answer.get("schema")
    if schema is None:
        return [] if body in (None, b"", "") else ["body where the model has none"]
    root = {**_clean(schema), "definitions": _clean(load(model)["definitions"])}
    return _errors(jsonschema.Draft4Validator(root), body)


def headers_of(model: str, method: str, path: str, status: int) -> set[str]:
    """The response headers the model lists for that answer."""
    _, op = operation(model, method, path)
    return set(op["responses"][str(status)].get("headers", {}))


def schema_problems(name: str, value) -> list[str]:
    """Validate ``value`` against the JSON Schema file ``name``."""
    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    return _errors(cls(schema), value)


def definition_problems(model: str, definition: str, value) -> list[str]:
    """Validate ``value`` as ``definitions/<definition>`` of ``model``."""
    defs = _clean(load(model)["definitions"])
    root = {"$ref": f"#/definitions/{definition}", "definitions": defs}
    return _errors(jsonschema.Draft4Validator(root), value)


def _errors(validator, value) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
        for error in validator.iter_errors(value)
    ]


def usage_plan(model: str, operation_id: str) -> tuple[float, int] | None:
    """The default (rate, burst) of the operation's "Usage Plan" table."""
    for operations in load(model)["paths"].values():
        for op in operations.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                match = re.search(
                    r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", op.get("description", "")
                )
                return (float(match[1]), int(match[2])) if match else None
    return None
