"""Odoo as one callable, ``odoo(model, method, *args, **kwargs)``, returning
what JSON-RPC returns (ids, dicts of ``search_read``/``read``)."""

from __future__ import annotations

import requests

# methods called on the model; every other one on ``browse(args[0])``
MODEL_METHODS = {
    "search",
    "search_read",
    "search_count",
    "read_group",
    "create",
    "default_get",
    "fields_get",
    "get_param",
    "set_param",
}


class JsonRpc:
    """A demo database over HTTP, logged in as ``login``."""

    def __init__(self, url, db, login="admin", password="admin"):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        answer = self.session.post(
            f"{self.url}/web/session/authenticate",
            json={"params": {"db": db, "login": login, "password": password}},
            timeout=30,
        ).json()
        if answer.get("error"):
            raise RuntimeError(answer["error"]["data"]["message"])

    def __call__(self, model, method, *args, **kwargs):
        reply = self.session.post(
            f"{self.url}/web/dataset/call_kw",
            json={
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs,
                }
            },
            timeout=120,
        ).json()
        if reply.get("error"):
            raise RuntimeError(reply["error"]["data"]["message"])
        return reply.get("result")


class EnvCalls:
    """The same calls on an Odoo environment (the end-to-end test), with
    JSON-RPC's conversions: records to ids, many2one values to pairs."""

    def __init__(self, env):
        self.env = env

    def __call__(self, model, method, *args, **kwargs):
        context = kwargs.pop("context", None)
        records = self.env[model]
        if context:
            records = records.with_context(**context)
        if method not in MODEL_METHODS:
            records = records.browse(args[0])
            args = args[1:]
        result = getattr(records, method)(*args, **kwargs)
        if hasattr(result, "_name") and hasattr(result, "ids"):
            return result.id if method == "create" else result.ids
        return result
