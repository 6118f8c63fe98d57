"""Admin routes of the SP-API sandbox (JSON in, JSON out; no token, not
recorded, no faults): what buyers, Amazon and Seller Central do on a real
account, to drive scenarios.

- ``GET /__sandbox__/sellers``: sellers, regions, marketplaces, refresh
  tokens and the app's LWA client id and secret (to configure a backend);
- ``GET|POST /__sandbox__/config`` ``{roles, search_delay}``;
- ``POST /__sandbox__/orders`` ``{seller_id, marketplace_id, fulfilled_by,
  items: [{sku, quantity, price, tax, shipping, title, asin}],
  pending_seconds, ship_after, cancel_after, buyer, address, programs}``:
  a buyer places an order (``seller_id`` defaults to the marketplace's);
- ``GET /__sandbox__/orders/<id>``: the order with every section;
- ``POST /__sandbox__/orders/<id>/cancel`` ``{by, reason}`` (buyer or Amazon
  cancels an unshipped order), ``POST /__sandbox__/orders/<id>/ship`` (Amazon
  ships an FBA order now);
- ``POST /__sandbox__/lwa/revoke`` ``{refresh_token}`` (the seller removes
  the app), ``POST /__sandbox__/lwa/expire`` (every access token expires now),
  ``POST /__sandbox__/pagination/expire`` (every pagination token expires);
- ``POST /__sandbox__/listings`` ``{seller_id, sku, product_type,
  channel: DEFAULT|AMAZON_EU|..., quantity: {marketplace: units}}`` (a
  listing made in Seller Central), ``GET /__sandbox__/listings/<seller>/<sku>``
  (its quantities, ``buyable``, how many submissions);
- ``POST /__sandbox__/orders/<id>/refund`` ``{items: [{orderItemId,
  quantity}]}`` (the seller refunds shipped units: in the next settlement),
  ``POST /__sandbox__/orders/<id>/cancel_request`` (the buyer asks to
  cancel: a ``BuyerRequestedChange`` notification);
- ``GET /__sandbox__/settlements`` (every settlement: id, report, total,
  deposit date), ``POST /__sandbox__/settlements`` ``{seller_id,
  marketplace_id, duplicate}`` (close the period now; 200 with the
  settlement or null; ``duplicate``: two reports of it);
- ``GET /__sandbox__/feeds/<id>`` (a feed with its processing report);
- ``GET /__sandbox__/notifications`` (queued ORDER_CHANGE envelopes),
  ``POST /__sandbox__/notifications`` ``{order_id, change_type, reason,
  duplicates}`` (publish one, with duplicates of the same NotificationId,
  if the seller's ORDER_CHANGE subscription lets it through; else
  ``{sent: false, why}``),
  ``POST /__sandbox__/notifications/receive`` ``{max}`` (take them, as an
  SQS receive-and-delete), ``POST /__sandbox__/notifications/flush`` ``{url,
  order, duplicate_every, seed}`` (POST each body to ``url``), ``DELETE``;
- ``POST /__sandbox__/throttle/drain`` ``{operation}`` (empty the buckets of
  an operation: the next call gets 429).
"""

from __future__ import annotations

from werkzeug.routing import Rule

from . import feeds, listings, notifications, settlement
from .orders import INCLUDED_DATA


def _r(path, endpoint, *methods):
    return Rule(f"/__sandbox__/{path}", endpoint=endpoint, methods=list(methods))


RULES = (
    _r("sellers", "sellers", "GET"),
    _r("config", "config", "GET", "POST"),
    _r("orders", "orders", "POST"),
    _r("orders/<order_id>", "order", "GET"),
    _r("orders/<order_id>/cancel", "order_cancel", "POST"),
    _r("orders/<order_id>/ship", "order_ship", "POST"),
    _r("lwa/revoke", "lwa_revoke", "POST"),
    _r("lwa/expire", "lwa_expire", "POST"),
    _r("pagination/expire", "pagination_expire", "POST"),
    _r("throttle/drain", "throttle_drain", "POST"),
    _r("listings", "listings", "POST"),
    _r("listings/<seller_id>/<path:sku>", "listing", "GET"),
    _r("orders/<order_id>/refund", "order_refund", "POST"),
    _r("orders/<order_id>/cancel_request", "order_cancel_request", "POST"),
    _r("settlements", "settlements", "GET", "POST"),
    _r("feeds/<feed_id>", "feed", "GET"),
    _r("notifications", "notifications", "GET", "POST", "DELETE"),
    _r("notifications/receive", "notifications_receive", "POST"),
    _r("notifications/flush", "notifications_flush", "POST"),
)
ALL_ROLES_VIEW = {
    "Direct-to-Consumer Delivery (Restricted)",
    "Tax Invoicing (Restricted)",
}


def admin_sellers(sb, request, data):
    return {
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "roles": sorted(sb.roles),
        "sellers": [
            {
                "seller_id": s.seller_id,
                "region": s.region,
                "marketplaces": list(s.marketplaces),
                "refresh_token": s.refresh_token,
                "endpoint": sb.hosts[s.region].url,
            }
            for s in sb.sellers.values()
        ],
    }


def admin_config(sb, request, data):
    if request.method == "POST":
        with sb.lock:
            if "roles" in data:
                sb.roles = set(data["roles"])
                sb.auth.apps[sb.client_id].roles = set(sb.roles)
            if "search_delay" in data:
                sb.search_delay = sb.search.delay = float(data["search_delay"])
    return {"roles": sorted(sb.roles), "search_delay": sb.search_delay}


def _order(sb, order_id):
    order = sb.book.orders.get(order_id)
    if order is None:
        raise KeyError(f"no order {order_id}")
    return order


def _view(sb, order):
    body = sb.book.render(order, set(INCLUDED_DATA), ALL_ROLES_VIEW)
    body["sellerId"] = order.seller_id
    return body


def admin_orders(sb, request, data):
    with sb.lock:
        sb.book.tick()
        marketplace = data.pop("marketplace_id")
        seller_id = data.pop("seller_id", None)
        seller = (
            sb.seller(seller_id) if seller_id else sb.seller_of_marketplace(marketplace)
        )
        if marketplace not in seller.marketplaces:
            raise ValueError(f"{seller.seller_id} does not sell on {marketplace}")
        order = sb.book.create(seller.seller_id, marketplace, data.pop("items"), **data)
        return _view(sb, order)


def admin_order(sb, request, data, order_id):
    with sb.lock:
        sb.book.tick()
        return _view(sb, _order(sb, order_id))


def admin_order_cancel(sb, request, data, order_id):
    with sb.lock:
        sb.book.tick()
        order = _order(sb, order_id)
        sb.book.cancel(
            order, data.get("by", "BUYER"), data.get("reason", "BuyerCanceled")
        )
        return _view(sb, order)


def admin_order_ship(sb, request, data, order_id):
    with sb.lock:
        sb.book.tick()
        order = _order(sb, order_id)
        if order.fulfilled_by != "AMAZON" or order.status != "UNSHIPPED":
            raise ValueError("only an unshipped FBA order is shipped by Amazon")
        sb.book.ship_by_amazon(order)
        return _view(sb, order)


def admin_lwa_revoke(sb, request, data):
    with sb.lock:
        sb.auth.revoke(data["refresh_token"])
    return {"revoked": True}


def admin_lwa_expire(sb, request, data):
    with sb.lock:
        return {"expired": sb.auth.expire_all()}


def admin_pagination_expire(sb, request, data):
    with sb.lock:
        return {"expired": sb.search.expire_tokens()}


def admin_throttle_drain(sb, request, data):
    with sb.lock:
        return {"drained": sb.buckets.drain(data["operation"])}


def admin_listings(sb, request, data):
    with sb.lock:
        seller = sb.seller(data.get("seller_id"))
        listing = listings.add(
            sb,
            seller.seller_id,
            data["sku"],
            data.get("product_type", "PRODUCT"),
            data.get("channel", "DEFAULT"),
            data.get("quantity"),
        )
        return listing.view()


def admin_listing(sb, request, data, seller_id, sku):
    with sb.lock:
        listing = sb.listings.get((seller_id, sku))
        if listing is None:
            raise KeyError(f"no listing {sku} of {seller_id}")
        return listing.view()


def admin_order_refund(sb, request, data, order_id):
    with sb.lock:
        order = _order(sb, order_id)
        entries = settlement.refund(sb, order, data.get("items") or [])
        return {"refunds": [e["adjustment_id"] for e in entries]}


def admin_order_cancel_request(sb, request, data, order_id):
    with sb.lock:
        order = _order(sb, order_id)
        event = notifications.publish(
            sb,
            order,
            "BuyerRequestedChange",
            data.get("reason", "Buyer Requested Cancel"),
        )
        return event or {"sent": False, "why": _NOT_SENT}


def admin_settlements(sb, request, data):
    with sb.lock:
        sb.book.tick()
        settlement.tick(sb)
        if request.method == "POST":
            marketplace = data["marketplace_id"]
            seller = (
                sb.seller(data.get("seller_id"))
                if data.get("seller_id")
                else (sb.seller_of_marketplace(marketplace))
            )
            return {
                "settlement": settlement.close(
                    sb, seller.seller_id, marketplace, duplicate=data.get("duplicate")
                )
            }
        return {"settlements": list(sb.settlements)}


def admin_feed(sb, request, data, feed_id):
    with sb.lock:
        sb.book.tick()
        feeds.tick(sb)
        feed = sb.feeds.get(feed_id)
        if feed is None:
            raise KeyError(f"no feed {feed_id}")
        return {
            "feedId": feed_id,
            "processingStatus": feed["status"],
            "report": feed.get("report"),
        }


_NOT_SENT = (
    "no ORDER_CHANGE subscription of the seller lets this notification "
    "through (createSubscription, processingDirective.eventFilter)"
)


def admin_notifications(sb, request, data):
    with sb.lock:
        sb.book.tick()
        if request.method == "POST":
            order = _order(sb, data["order_id"])
            event = notifications.publish(
                sb,
                order,
                data.get("change_type", "OrderStatusChange"),
                data.get("reason", "SandboxRequested"),
                duplicates=int(data.get("duplicates", 0)),
            )
            return event or {"sent": False, "why": _NOT_SENT}
        if request.method == "DELETE":
            sb.notification_queue.clear()
        return {"notifications": list(sb.notification_queue)}


def admin_notifications_receive(sb, request, data):
    with sb.lock:
        sb.book.tick()
        return {"notifications": notifications.receive(sb, data.get("max"))}


def admin_notifications_flush(sb, request, data):
    with sb.lock:
        sb.book.tick()
    answers = notifications.flush(
        sb,
        data.get("url"),
        order=data.get("order", "fifo"),
        duplicate_every=data.get("duplicate_every"),
        seed=data.get("seed"),
    )
    return {"delivered": [{"status": status, "body": body} for status, body in answers]}
