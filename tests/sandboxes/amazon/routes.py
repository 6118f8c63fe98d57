"""Routes of the SP-API sandbox: each rule's endpoint is the operationId of
the official model, served by ``HANDLERS[operationId](sandbox, request,
**args)``.

Modules with state of their own (listings, feeds, reports, notifications)
are listed in :data:`STATE_MODULES`; each has ``reset(sandbox)`` and
``tick(sandbox)`` (scheduled work on the sandbox clock).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from ..toolkit import ApiError, json_response
from . import feeds, listings, notifications, settlement, shipping
from .auth import LwaError
from .orders import INCLUDED_DATA
from .search import answer, as_list, invalid


def _r(path, operation, *methods):
    return Rule(path, endpoint=operation, methods=list(methods))


RULES = [
    _r("/auth/o2/token", "lwaToken", "POST"),
    _r("/orders/2026-01-01/orders", "searchOrders", "GET"),
    _r("/orders/2026-01-01/orders/<order_id>", "getOrder", "GET"),
    _r(
        "/orders/v0/orders/<order_id>/shipmentConfirmation",
        "confirmShipment",
        "POST",
    ),
    _r(
        "/listings/2021-08-01/items/<seller_id>/<path:sku>",
        "patchListingsItem",
        "PATCH",
    ),
    _r(
        "/listings/2021-08-01/items/<seller_id>/<path:sku>",
        "getListingsItem",
        "GET",
    ),
    _r("/feeds/2021-06-30/documents", "createFeedDocument", "POST"),
    _r("/feeds/2021-06-30/documents/<document_id>", "getFeedDocument", "GET"),
    _r("/feeds/2021-06-30/feeds", "createFeed", "POST"),
    _r("/feeds/2021-06-30/feeds/<feed_id>", "getFeed", "GET"),
    _r("/reports/2021-06-30/reports", "getReports", "GET"),
    _r("/reports/2021-06-30/reports/<report_id>", "getReport", "GET"),
    _r("/reports/2021-06-30/documents/<document_id>", "getReportDocument", "GET"),
    _r("/notifications/v1/destinations", "createDestination", "POST"),
    _r("/notifications/v1/destinations", "getDestinations", "GET"),
    _r("/notifications/v1/destinations/<destination_id>", "getDestination", "GET"),
    _r(
        "/notifications/v1/destinations/<destination_id>",
        "deleteDestination",
        "DELETE",
    ),
    _r(
        "/notifications/v1/subscriptions/<notification_type>",
        "createSubscription",
        "POST",
    ),
    _r("/notifications/v1/subscriptions/<notification_type>", "getSubscription", "GET"),
    _r(
        "/notifications/v1/subscriptions/<notification_type>/<subscription_id>",
        "getSubscriptionById",
        "GET",
    ),
    _r(
        "/notifications/v1/subscriptions/<notification_type>/<subscription_id>",
        "deleteSubscriptionById",
        "DELETE",
    ),
]
UNAUTHENTICATED = {"lwaToken"}
# operations whose model lists no 415 answer
NO_415 = {"confirmShipment"}
# grantless operations and the scope their token needs (notifications.json)
GRANTLESS = dict.fromkeys(
    (
        "createDestination",
        "getDestinations",
        "getDestination",
        "deleteDestination",
        "getSubscriptionById",
        "deleteSubscriptionById",
    ),
    "sellingpartnerapi::notifications",
)
STATE_MODULES: list = [listings, feeds, settlement, notifications]
HANDLERS: dict = {}


def handler(function):
    HANDLERS[function.__name__] = function
    return function


# ------------------------------------------------------------------- LWA
@handler
def lwaToken(sb, request):
    # the token endpoint takes application/x-www-form-urlencoded
    form = dict(parse_qsl(request.get_data(cache=True).decode("utf-8", "replace")))
    try:
        body = sb.auth.exchange(form)
    except LwaError as exc:
        return json_response(exc.body(), exc.status)
    response = json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- orders
def _roles(sb, request) -> set[str]:
    return sb.auth.roles(request.environ["amazon.access"])


@handler
def searchOrders(sb, request):
    seller = request.environ["amazon.seller"]
    orders, page, next_token = sb.search.run(sb.book, request.args, seller)
    return answer(sb.book, orders, page, next_token, _roles(sb, request))


@handler
def getOrder(sb, request, order_id):
    seller = request.environ["amazon.seller"]
    included = set(as_list(request.args, "includedData", INCLUDED_DATA))
    order = sb.book.orders.get(order_id)
    if order is None or order.seller_id != seller.seller_id:
        raise ApiError(404, "NotFound", f"Order {order_id} not found.")
    return {"order": sb.book.render(order, included, _roles(sb, request))}


# -------------------------------------------------------------- shipping
@handler
def confirmShipment(sb, request, order_id):
    shipping.confirm(
        sb, request.environ["amazon.seller"], order_id, sb.json_body(request)
    )
    return Response(status=204)


# -------------------------------------------------------------- listings
@handler
def patchListingsItem(sb, request, seller_id, sku):
    return listings.patch(
        sb,
        request.environ["amazon.seller"],
        seller_id,
        sku,
        as_list(request.args, "marketplaceIds"),
        sb.json_body(request),
        request.args.get("mode"),
    )


@handler
def getListingsItem(sb, request, seller_id, sku):
    return listings.get(
        sb,
        request.environ["amazon.seller"],
        seller_id,
        sku,
        as_list(request.args, "marketplaceIds"),
        as_list(request.args, "includedData", listings.INCLUDED),
    )


# ----------------------------------------------------------------- feeds
def _seller(request):
    return request.environ["amazon.seller"]


@handler
def createFeedDocument(sb, request):
    body = feeds.create_document(sb, _seller(request), sb.json_body(request))
    return json_response(body, 201)


@handler
def getFeedDocument(sb, request, document_id):
    return feeds.get_document(sb, _seller(request), document_id)


@handler
def createFeed(sb, request):
    body = feeds.create_feed(sb, _seller(request), sb.json_body(request))
    return json_response(body, 202)


@handler
def getFeed(sb, request, feed_id):
    return feeds.get_feed(sb, _seller(request), feed_id)


# --------------------------------------------------------------- reports
@handler
def getReports(sb, request):
    return settlement.get_reports(sb, _seller(request), request.args)


@handler
def getReport(sb, request, report_id):
    return settlement.get_report(sb, _seller(request), report_id)


@handler
def getReportDocument(sb, request, document_id):
    return settlement.get_report_document(sb, _seller(request), document_id)


# --------------------------------------------------------- notifications
@handler
def createDestination(sb, request):
    return notifications.create_destination(sb, sb.json_body(request))


@handler
def getDestinations(sb, request):
    return {"payload": list(sb.destinations.values())}


@handler
def getDestination(sb, request, destination_id):
    return notifications.destination(sb, destination_id)


@handler
def deleteDestination(sb, request, destination_id):
    return notifications.destination(sb, destination_id, delete=True)


@handler
def createSubscription(sb, request, notification_type):
    return notifications.create_subscription(
        sb, _seller(request), notification_type, sb.json_body(request)
    )


@handler
def getSubscription(sb, request, notification_type):
    return notifications.subscription(sb, _seller(request), notification_type)


@handler
def getSubscriptionById(sb, request, notification_type, subscription_id):
    return notifications.subscription_by_id(sb, notification_type, subscription_id)


@handler
def deleteSubscriptionById(sb, request, notification_type, subscription_id):
    return notifications.subscription_by_id(
        sb, notification_type, subscription_id, delete=True
    )


__all__ = ["RULES", "HANDLERS", "ApiError", "invalid"]
