"""Login with Amazon (LWA) and the ``x-amz-access-token`` check.

- Token endpoint ``POST /auth/o2/token`` (form-encoded), step 1 of
  https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api:
  ``grant_type=refresh_token`` with ``refresh_token``, ``client_id``,
  ``client_secret`` -> ``{"access_token": "Atza|...", "token_type": "bearer",
  "expires_in": 3600, "refresh_token": ...}``; grantless operations use
  ``grant_type=client_credentials`` with a ``scope``
  (``sellingpartnerapi::notifications``,
  ``sellingpartnerapi::client_credential:rotation``, same page) and get a
  token that is not a selling partner's. Access tokens last one hour
  ("Access tokens are only valid for sixty minutes",
  https://developer.amazon.com/docs/login-with-amazon/access-token.html);
  refresh tokens begin ``Atzr|`` and stay valid until the seller removes the
  app (https://developer.amazon.com/docs/login-with-amazon/refresh-token.html).
- Errors follow OAuth 2.0 (RFC 6749 section 5.2, which LWA implements):
  ``invalid_request`` / ``invalid_grant`` / ``unsupported_grant_type`` /
  ``invalid_scope`` with 400, ``invalid_client`` with 401, body
  ``{"error", "error_description"}``.
- SP-API answers a missing, unknown or expired ``x-amz-access-token`` with 403
  ``{"errors": [{"code": "Unauthorized", "message": "Access to requested
  resource is denied.", "details": ...}]}`` (every operation's 403 in the
  models; the details as SP-API sends them, reported in
  amz-tools/amazon-sp-api#10 and
  https://developer-docs.amazon.com/sp-api/docs/sp-api-errors-faq).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

ACCESS_TOKEN_SECONDS = 3600
GRANTLESS_SCOPES = (
    "sellingpartnerapi::notifications",
    "sellingpartnerapi::client_credential:rotation",
)
DENIED = "Access to requested resource is denied."
MISSING = "Access token is missing in the request header."
INVALID = "The access token you provided is revoked, malformed or invalid."
EXPIRED = "The access token you provided has expired."
# Roles that open personal data in Orders API v2026-01-01
# (https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria):
# the shipping address needs Direct-to-Consumer Delivery, the buyer Tax
# Remittance or Tax Invoicing; no Restricted Data Token any more.
ROLE_ADDRESS = "Direct-to-Consumer Delivery (Restricted)"
ROLES_BUYER = ("Tax Remittance (Restricted)", "Tax Invoicing (Restricted)")
ROLE_ORDERS = "Inventory and Order Tracking"


@dataclass
class App:
    client_id: str
    client_secret: str
    roles: set[str] = field(default_factory=set)


@dataclass
class Grant:
    """A seller's authorization of an app: its refresh token."""

    refresh_token: str
    client_id: str
    seller_id: str
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    seller_id: str | None  # None: a grantless token
    scope: str | None
    expires: float


class LwaError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class Authority:
    """Apps, sellers' grants and access tokens, on the sandbox clock."""

    def __init__(self, clock):
        self.clock = clock
        self.apps: dict[str, App] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, AccessToken] = {}

    def add_app(self, client_id: str, client_secret: str, roles=()) -> App:
        app = App(client_id, client_secret, set(roles))
        self.apps[client_id] = app
        return app

    def authorize(self, seller_id: str, client_id: str, token: str | None = None):
        """The seller authorizes the app; return the refresh token."""
        token = token or "Atzr|" + secrets.token_urlsafe(48)
        self.grants[token] = Grant(token, client_id, seller_id)
        return token

    def revoke(self, refresh_token: str) -> None:
        """The seller removes the app: its refresh token and tokens die."""
        grant = self.grants[refresh_token]
        grant.revoked = True
        for access in list(self.tokens.values()):
            if (access.client_id, access.seller_id) == (
                grant.client_id,
                grant.seller_id,
            ):
                del self.tokens[access.token]

    def expire_all(self) -> int:
        """Expire every access token now (chaos); return how many."""
        now = self.clock.now()
        for access in self.tokens.values():
            access.expires = min(access.expires, now)
        return len(self.tokens)

    # ------------------------------------------------------------ endpoint
    def exchange(self, form: dict) -> dict:
        """Answer ``POST /auth/o2/token``; raise :class:`LwaError`."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise LwaError(400, "invalid_request", "grant_type is missing")
        if grant_type not in ("refresh_token", "client_credentials"):
            raise LwaError(
                400, "unsupported_grant_type", f"unsupported grant_type {grant_type}"
            )
        app = self._client(form)
        now = self.clock.now()
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token")
            if not refresh:
                raise LwaError(400, "invalid_request", "refresh_token is missing")
            grant = self.grants.get(refresh)
            if grant is None or grant.revoked or grant.client_id != app.client_id:
                raise LwaError(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            access = self._issue(app.client_id, grant.seller_id, None, now)
            return {
                "access_token": access.token,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
            }
        scope = form.get("scope")
        if not scope:
            raise LwaError(400, "invalid_request", "scope is missing")
        if scope not in GRANTLESS_SCOPES:
            raise LwaError(400, "invalid_scope", f"unknown scope {scope}")
        access = self._issue(app.client_id, None, scope, now)
        return {
            "access_token": access.token,
            "scope": scope,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }

    def _client(self, form: dict) -> App:
        client_id = form.get("client_id") or ""
        app = self.apps.get(client_id)
        secret = form.get("client_secret") or ""
        if app is None or not hmac.compare_digest(secret, app.client_secret):
            raise LwaError(401, "invalid_client", "Client authentication failed")
        return app

    def _issue(self, client_id, seller_id, scope, now) -> AccessToken:
        token = "Atza|" + secrets.token_urlsafe(96)
        access = AccessToken(
            token, client_id, seller_id, scope, now + ACCESS_TOKEN_SECONDS
        )
        self.tokens[token] = access
        return access

    # ---------------------------------------------------------------- check
    def check(self, header: str | None) -> tuple[AccessToken | None, str]:
        """The access token of a request, or None and the 403 details."""
        if not header:
            return None, MISSING
        access = self.tokens.get(header.strip())
        if access is None:
            return None, INVALID
        if access.expires <= self.clock.now():
            return None, EXPIRED
        return access, ""

    def roles(self, access: AccessToken) -> set[str]:
        app = self.apps.get(access.client_id)
        return app.roles if app else set()
