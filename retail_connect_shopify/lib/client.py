"""Shopify Admin GraphQL client on the base client.

Shopify throttles by query cost (a leaky bucket per app and shop): every answer
carries ``extensions.cost.throttleStatus``, which feeds the shared limiter, and a
throttled answer (``THROTTLED``, usually HTTP 200, sometimes 429) becomes a
``ThrottledError`` whose delay is the time the bucket needs to hold the query.
"""

import re

from odoo.addons.retail_connect_base.lib.errors import (
    AuthError,
    RemoteError,
    ThrottledError,
)
from odoo.addons.retail_connect_base.lib.http import RetailHttpClient

# the operation type opening a GraphQL document (comments aside)
MUTATION = re.compile(r"^\s*mutation\b", re.MULTILINE)


class UserErrors(RemoteError):
    """A mutation answered ``userErrors``: the platform refused the input."""

    category = "validation"

    def __init__(self, operation, errors):
        codes = ", ".join(e.get("code") or "?" for e in errors)
        text = "; ".join(e.get("message", "") for e in errors)
        super().__init__(f"{operation}: {codes}: {text}", code=codes)
        self.errors = errors


class ShopifyClient(RetailHttpClient):
    request_id_header = "X-Request-Id"
    idempotency_header = None  # GraphQL writes carry @idempotent(key:) instead

    def __init__(self, base_url, *, api_version, token, on_api_notice=None, **kwargs):
        super().__init__(
            base_url,
            headers={
                "X-Shopify-Access-Token": token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            **kwargs,
        )
        self.api_version = api_version
        self.last_cost = None
        # on_api_notice(served_version, deprecated_fields): what Shopify says
        # about the version it served and the deprecated fields we used
        self.on_api_notice = on_api_notice

    # -- shadow mode -----------------------------------------------------
    def is_write(self, method, url, json=None, data=None):
        # every GraphQL call is a POST: a mutation writes, a query reads
        # (https://shopify.dev/docs/api/admin-graphql#mutations); the
        # client-credentials grant only fetches a token
        if url.endswith("/graphql.json"):
            return bool(MUTATION.search((json or {}).get("query") or ""))
        if url.endswith("/admin/oauth/access_token"):
            return False
        return super().is_write(method, url, json, data)

    def body_idempotency_key(self, json):
        # @idempotent(key: $key) (shopify.dev/docs/api/usage/idempotent-requests)
        return ((json or {}).get("variables") or {}).get("key")

    # -- signals ---------------------------------------------------------
    @staticmethod
    def _throttle_status(data):
        cost = ((data or {}).get("extensions") or {}).get("cost") or {}
        return cost, cost.get("throttleStatus") or {}

    def _json(self, response):
        try:
            return response.json()
        except ValueError:
            return {}

    def classify(self, response):
        if response.status_code == 401:
            raise AuthError("Shopify refused the access token (401)")
        if response.status_code != 200:
            return super().classify(response)
        data = self._json(response)
        errors = data.get("errors")
        if not errors:
            return
        if isinstance(errors, str):
            raise RemoteError(f"Shopify: {errors}")
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        if "THROTTLED" in codes:
            cost, status = self._throttle_status(data)
            needed = float(cost.get("requestedQueryCost") or 50)
            available = float(status.get("currentlyAvailable") or 0)
            rate = float(status.get("restoreRate") or 50)
            raise ThrottledError(
                "Shopify: Throttled",
                seconds=max(1.0, round((needed - available) / rate, 1)),
            )
        if "ACCESS_DENIED" in codes:
            raise AuthError(f"Shopify: {errors[0].get('message')}")
        raise RemoteError(
            "Shopify GraphQL: " + "; ".join(e.get("message", "") for e in errors),
            code=",".join(sorted(c for c in codes if c)),
        )

    def throttle_state(self, response):
        _cost, status = self._throttle_status(self._json(response))
        if status:
            return (
                f"{status.get('currentlyAvailable')}/{status.get('maximumAvailable')}"
            )
        return super().throttle_state(response)

    def observe(self, response):
        # X-Shopify-API-Version: the version that served the request (an
        # unsupported one falls forward); X-Shopify-API-Deprecated-Reason: the
        # deprecated fields used, "Type.field, Type.field" since 2025-04
        # (https://shopify.dev/changelog/graphql-return-actual-deprecation-reasons)
        served = response.headers.get("X-Shopify-API-Version")
        reason = response.headers.get("X-Shopify-API-Deprecated-Reason") or ""
        deprecated = [name.strip() for name in reason.split(",") if name.strip()]
        if self.on_api_notice and (served or deprecated):
            self.on_api_notice(served, deprecated)
        cost, status = self._throttle_status(self._json(response))
        self.last_cost = cost or None
        if status:
            self.report_budget(
                status.get("currentlyAvailable"),
                status.get("maximumAvailable"),
                status.get("restoreRate"),
            )

    # -- calls -------------------------------------------------------------
    def graphql(self, document, variables=None, *, operation, cost=50):
        """Run one GraphQL document; return its ``data``.

        ``cost`` is our estimate of the requested query cost, taken from the
        shared bucket before sending.
        """
        response = self.request(
            "POST",
            f"/admin/api/{self.api_version}/graphql.json",
            operation=operation,
            json={
                "query": document,
                "variables": variables or {},
                "operationName": operation,
            },
            cost=cost,
        )
        return self._json(response).get("data") or {}

    def mutate(self, document, variables, *, operation, payload, cost=10):
        """Run a mutation; raise ``UserErrors`` when it answers userErrors."""
        data = self.graphql(document, variables, operation=operation, cost=cost)
        result = data.get(payload) or {}
        errors = result.get("userErrors") or []
        if errors:
            raise UserErrors(operation, errors)
        return result

    def paginate(self, document, variables, *, operation, path, cost=50, after=None):
        """Yield the nodes of a connection page after page (cursor pagination),
        from the start or ``after`` a cursor already read."""
        while True:
            data = self.graphql(
                document, dict(variables, after=after), operation=operation, cost=cost
            )
            connection = data
            for key in path:
                connection = (connection or {}).get(key) or {}
            yield from connection.get("nodes") or []
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
