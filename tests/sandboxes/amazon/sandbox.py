"""The HTTP face of the SP-API sandbox: hosts, LWA, the access token,
usage plans, errors and request ids.

- Hosts: one endpoint per region (``sellingpartnerapi-na|eu|fe.amazon.com``,
  https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints); a seller
  is called on the endpoint of the region of its marketplaces. The main
  server answers for every region (the seller's region decides which
  marketplaces it can query); :meth:`AmazonSandbox.region_url` gives one
  host per region, which refuses (403 ``Unauthorized``) a seller of another
  region.
- LWA at ``POST /auth/o2/token`` on the same server (``auth.py``).
- Every answer carries ``x-amzn-RequestId``; rated operations carry
  ``x-amzn-RateLimit-Limit`` on 2xx/400/404 (the response headers of the
  models); errors are ``{"errors": [{"code", "message", "details"}]}`` (the
  ``ErrorList`` of every model).
- SigV4 is not needed ("signatures are ignored if sent",
  https://developer-docs.amazon.com/sp-api/changelog/sp-api-will-no-longer-require-aws-iam-or-aws-signature-version-4).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from ..toolkit import ApiError, BaseSandbox, Clock, json_response, register
from . import admin, routes
from .auth import DENIED, ROLE_ADDRESS, ROLE_ORDERS, Authority
from .catalog import MARKETPLACES, REGIONS, USAGE_PLANS
from .orders import OrderBook
from .search import Search, invalid
from .storage import DocumentStorage
from .throttle import QUOTA_MESSAGE, Buckets, rate_header

CLIENT_ID = "amzn1.application-oa2-client.sandbox0000000000000001"
CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-client-secret"
DEFAULT_ROLES = (
    ROLE_ORDERS,
    ROLE_ADDRESS,
    "Product Listing",
    "Amazon Fulfillment",
    "Finance and Accounting",
)
# seller id -> (region, marketplaces, refresh token)
DEFAULT_SELLERS = {
    "A1SANDBOXSELLEREU": (
        "eu",
        ("A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A13V1IB3VIYZZH"),
        "Atzr|sandbox-refresh-token-eu",
    ),
    "A1SANDBOXSELLERNA": (
        "na",
        ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"),
        "Atzr|sandbox-refresh-token-na",
    ),
    "A1SANDBOXSELLERFE": ("fe", ("A1VC38T7YXB528",), "Atzr|sandbox-refresh-token-fe"),
}
HTTP_CODES = {
    400: "InvalidInput",
    403: "Unauthorized",
    404: "NotFound",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "QuotaExceeded",
    500: "InternalFailure",
    503: "ServiceUnavailable",
}


@dataclass
class Seller:
    seller_id: str
    region: str
    marketplaces: tuple[str, ...]
    refresh_token: str
    extra: dict = field(default_factory=dict)


def error_list(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


@register("amazon")
class AmazonSandbox(BaseSandbox):
    """Selling Partner API, several sellers and regions; see the package
    docstring."""

    name = "amazon"
    url_map = Map(routes.RULES, strict_slashes=False)
    admin_rules = admin.RULES

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        sellers: dict | None = None,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        roles=DEFAULT_ROLES,
        search_delay: float = 120.0,
        usage_plans: dict | None = None,
        feed_queue_seconds: float = 30.0,
        feed_processing_seconds: float = 60.0,
        settlement_days: float = 14,
        commission_rate: str = "0.15",
        fba_fee: str = "3.00",
        reserve_rate: str = "0.05",
        notification_url: str | None = None,
        duplicate_settlement_reports: bool = False,
    ):
        """``sellers``: ``{seller_id: (region, marketplaces, refresh_token)}``;
        ``roles``: the app's roles (personal data needs the restricted ones);
        ``search_delay``: how far behind now ``searchOrders`` sees by default;
        feeds wait ``feed_queue_seconds`` then process ``feed_processing_seconds``;
        a settlement period lasts ``settlement_days``, Amazon keeps
        ``commission_rate`` of price and shipping, ``fba_fee`` per FBA unit and
        holds ``reserve_rate`` of a positive period as reserve;
        ``notification_url`` receives flushed notifications;
        ``duplicate_settlement_reports``: each settlement comes as two reports."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.roles = set(roles)
        self.search_delay = search_delay
        self.usage_plans = dict(usage_plans or USAGE_PLANS)
        self.seller_config = dict(sellers or DEFAULT_SELLERS)
        for region, marketplaces, _ in self.seller_config.values():
            if region not in REGIONS:
                raise ValueError(f"unknown region {region}")
            for marketplace in marketplaces:
                if MARKETPLACES.get(marketplace, ("?",))[0] != region:
                    raise ValueError(f"{marketplace} is not in region {region}")
        self.feed_queue_seconds = feed_queue_seconds
        self.feed_processing_seconds = feed_processing_seconds
        self.settlement_days = settlement_days
        self.commission_rate = Decimal(commission_rate)
        self.fba_fee = Decimal(fba_fee)
        self.reserve_rate = Decimal(reserve_rate)
        self.notification_url = notification_url
        self.duplicate_settlement_reports = duplicate_settlement_reports
        clock = clock or Clock()
        self.storage = DocumentStorage(clock)
        self.hosts = {region: RegionHost(self, region, clock) for region in REGIONS}
        super().__init__(clock=clock)

    # --------------------------------------------------------------- state
    def reset_state(self) -> None:
        with self.lock:
            self.sellers = {
                seller_id: Seller(seller_id, region, tuple(markets), token)
                for seller_id, (region, markets, token) in self.seller_config.items()
            }
            self.auth = Authority(self.clock)
            self.auth.add_app(self.client_id, self.client_secret, self.roles)
            for seller in self.sellers.values():
                self.auth.authorize(
                    seller.seller_id, self.client_id, seller.refresh_token
                )
            self.buckets = Buckets(self.clock, self.usage_plans)
            self.book = OrderBook(self.clock, self._id_base())
            self.search = Search(self.clock, self.search_delay)
            self.storage.reset_state()
            for module in routes.STATE_MODULES:
                module.reset(self)

    def companions(self):
        return [*self.hosts.values(), self.storage]

    def offered_stock(self):
        """The merchant-fulfilled quantity of each buyable listing, per
        marketplace (``fulfillment_availability``; see listings.py)."""
        return {
            (listing.sku, marketplace): quantity
            for listing in getattr(self, "listings", {}).values()
            if listing.buyable and listing.channel == "DEFAULT"
            for marketplace, quantity in listing.quantity.items()
        }

    def region_url(self, region: str) -> str:
        """The URL of the host of ``region`` (once served)."""
        url = self.hosts[region].url
        if url is None:
            raise RuntimeError("the sandbox is not served")
        return url

    def seller(self, seller_id: str | None = None) -> Seller:
        if seller_id is None:
            return next(iter(self.sellers.values()))
        return self.sellers[seller_id]

    def seller_of_marketplace(self, marketplace_id: str) -> Seller:
        for seller in self.sellers.values():
            if marketplace_id in seller.marketplaces:
                return seller
        raise ValueError(f"no seller sells on {marketplace_id}")

    # ---------------------------------------------------------- http hooks
    def error_response(self, status: int, code: str, message: str, **extra):
        code = code if code and code[0].isupper() else HTTP_CODES.get(status, "Error")
        return json_response(
            error_list(code, message, extra.get("details", "")), status
        )

    def _route_error(self, exc):
        if exc.code == 404:
            return self.error_response(404, "NotFound", "Resource not found.")
        if exc.code == 405:
            return self.error_response(
                405, "MethodNotAllowed", "Method not allowed for this resource."
            )
        return super()._route_error(exc)

    def throttle_response(self, request: Request, retry_after: float) -> Response:
        # SP-API sends no Retry-After: the client knows the rate from
        # x-amzn-RateLimit-Limit and backs off.
        return json_response(error_list("QuotaExceeded", QUOTA_MESSAGE), 429)

    def fault_response(self, fault) -> Response:
        if fault.body is not None:
            return super().fault_response(fault)
        status = fault.status or 500
        if status == 503:
            body = error_list("ServiceUnavailable", "Service temporarily unavailable.")
        elif status == 429:
            body = error_list("QuotaExceeded", QUOTA_MESSAGE)
        else:
            body = error_list(
                HTTP_CODES.get(status, "InternalFailure"),
                "We encountered an internal error. Please try again.",
            )
        response = json_response(body, status)
        response.headers.update(fault.headers)
        return response

    def finalize(self, request: Request, response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = request.environ.setdefault(
            "amazon.request_id", str(uuid.uuid4())
        )
        operation = request.environ.get("amazon.operation")
        plan = self.usage_plans.get(operation)
        if plan and response.status_code in (200, 201, 202, 204, 400, 404):
            response.headers["x-amzn-RateLimit-Limit"] = rate_header(plan[0])
        return response

    def before_request(self, request: Request, operation):
        request.environ["amazon.operation"] = operation
        if operation is None or operation in routes.UNAUTHENTICATED:
            return None
        # the state lock: tokens and buckets are read and made by other threads
        with self.lock:
            return self._admit(request, operation)

    def _admit(self, request: Request, operation):
        access, details = self.auth.check(request.headers.get("x-amz-access-token"))
        if access is None:
            return self.error_response(403, "Unauthorized", DENIED, details=details)
        grantless = operation in routes.GRANTLESS
        if (access.seller_id is None) != grantless or (
            grantless and access.scope != routes.GRANTLESS[operation]
        ):
            return self.error_response(403, "Unauthorized", DENIED)
        seller = self.sellers.get(access.seller_id) if access.seller_id else None
        region = request.environ.get("amazon.region")
        if seller is not None and region and seller.region != region:
            return self.error_response(403, "Unauthorized", DENIED)
        ok, _ = self.buckets.take(operation, access.seller_id, access.client_id)
        if not ok:
            return self.throttle_response(request, 0)
        request.environ["amazon.access"] = access
        request.environ["amazon.seller"] = seller
        return None

    def _call(self, handler, request: Request, args: dict) -> Response:
        with self.lock:
            self.book.tick()
            for module in routes.STATE_MODULES:
                module.tick(self)
            result = super()._call(handler, request, args)
        return result if isinstance(result, Response) else json_response(result)

    def json_body(self, request: Request) -> dict:
        if request.mimetype != "application/json":
            # 415 where the operation's model lists it; confirmShipment
            # (ordersV0.json) has no 415: its invalid requests are 400
            if request.environ.get("amazon.operation") in routes.NO_415:
                raise invalid("The request body must be application/json.")
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "The request body must be application/json.",
            )
        try:
            data = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            raise invalid("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        return data

    # handlers live in routes.py (``on_<operationId>``) and admin.py
    def __getattr__(self, name: str):
        if name.startswith("on_"):
            function = routes.HANDLERS.get(name[3:])
        elif name.startswith("admin_"):
            function = getattr(admin, name, None)
        else:
            function = None
        if function is None:
            raise AttributeError(name)
        return lambda *a, **kw: function(self, *a, **kw)


class RegionHost(BaseSandbox):
    """The regional endpoint of one region: the same sandbox, refusing
    sellers of other regions."""

    name = "amazon-region"

    def __init__(self, parent: AmazonSandbox, region: str, clock: Clock):
        self.parent = parent
        self.region = region
        super().__init__(clock=clock)

    def __call__(self, environ, start_response):
        environ["amazon.region"] = self.region
        return self.parent(environ, start_response)
