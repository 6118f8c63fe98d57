"""Stripe's request encoding: form-encoded bodies with bracketed keys.

"The Stripe API ... accepts form-encoded request bodies" and nested values are
written ``metadata[order]=S1001``, lists ``expand[]=data.source`` or
``items[0][price]=...`` (https://docs.stripe.com/api, "Make requests";
https://docs.stripe.com/expand). ``parse_pairs`` turns the pairs into nested
dicts and lists; ``canonical`` gives one text per parameter set (the
idempotency layer "compares incoming parameters to those of the original
request", https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter that cannot be decoded; ``param`` names it."""

    def __init__(self, message: str, param: str):
        super().__init__(message)
        self.param = param


def _parts(key: str) -> list[str]:
    match = _KEY_RE.match(key)
    if not match:
        raise FormError(f"Invalid parameter name: {key}", key)
    return [match.group(1), *_PART_RE.findall(match.group(2))]


def _assign(node: Any, parts: list[str], value: str, key: str) -> Any:
    """Put ``value`` at ``parts`` under ``node`` (a dict, list or None)."""
    head, rest = parts[0], parts[1:]
    if head == "" or head.isdigit():
        # a list: ``a[]=x`` appends, ``a[0][b]=x`` addresses item 0
        if node is None:
            node = []
        if not isinstance(node, list):
            raise FormError(f"Invalid array: {key}", key)
        index = len(node) if head == "" else int(head)
        while len(node) <= index:
            node.append(None)
        node[index] = value if not rest else _assign(node[index], rest, value, key)
        return node
    if node is None:
        node = {}
    if not isinstance(node, dict):
        raise FormError(f"Invalid hash: {key}", key)
    node[head] = value if not rest else _assign(node.get(head), rest, value, key)
    return node


def parse_pairs(pairs: list[tuple[str, str]]) -> dict:
    """``[("metadata[a]", "1"), ("expand[]", "x")]`` -> nested parameters."""
    params: dict = {}
    for key, value in pairs:
        params = _assign(params, _parts(key), value, key)
    return params


def canonical(params: Any) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def as_int(params: dict, name: str, *, required: bool = False) -> int | None:
    """An integer parameter (amounts are integers in the smallest unit)."""
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise FormError(f"Missing required param: {name}.", name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormError(f"Invalid integer: {value}", name) from None


def as_bool(params: dict, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value in ("true", "false"):
        return value == "true"
    raise FormError(f"Invalid boolean: {value}", name)
