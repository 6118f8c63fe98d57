"""Contract drift: a payload checked against the schema of what we consume.

A platform addon ships, per pinned API version, a small JSON Schema of each
payload type it consumes (``<addon>/contracts/<version>/<type>.json``, derived
from the official contracts by ``tools/contract_schemas.py``). :func:`check`
compares a payload with it and names each drift once, by field:

* ``unknown``: a field the contract does not know, where the schema lists the
  known ones (``additionalProperties: false``);
* ``missing``: a field the connector reads (``required``) that is absent;
* ``type``: a field whose JSON type is not the contract's.

Validation is jsonschema's (Draft 2020-12); this module only turns its errors
into fields. Nothing here imports Odoo.
"""

import json
from dataclasses import dataclass
from functools import lru_cache

from jsonschema import Draft202012Validator

KINDS = ("unknown", "missing", "type")
JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


@dataclass(frozen=True)
class Drift:
    kind: str  # one of KINDS
    field: str  # dotted path, list items as ``[]``: line_items[].sku
    expected: str = ""
    found: str = ""


def json_type(value):
    for python_type, name in JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def field_path(parts):
    """``('line_items', 0, 'sku')`` -> ``line_items[].sku``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += "[]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(payload)"


def _join(path, name):
    return f"{path}.{name}" if path != "(payload)" else name


@lru_cache(maxsize=64)
def load(path):
    """The schema stored at ``path`` (read once per process)."""
    with open(path, encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


def check(schema, payload):
    """The drifts of ``payload`` from ``schema``: one per (kind, field),
    however many list items repeat it, in a stable order."""
    found = {}
    for error in Draft202012Validator(schema).iter_errors(payload):
        for drift in _drifts(error):
            found.setdefault((drift.kind, drift.field), drift)
    return [found[key] for key in sorted(found)]


def _drifts(error):
    path = field_path(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties") or ())
        for name in sorted(set(instance) - known):
            yield Drift("unknown", _join(path, name), found=json_type(instance[name]))
    elif error.validator == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                yield Drift("missing", _join(path, name))
    elif error.validator == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(expected)
        yield Drift("type", path, expected=expected, found=json_type(instance))
    elif error.context:  # anyOf / oneOf: the branches' own errors
        for sub in error.context:
            yield from _drifts(sub)
