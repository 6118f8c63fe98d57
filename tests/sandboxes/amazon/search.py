"""``searchOrders`` parameters, filtering and pagination tokens.

From the parameters of ``searchOrders`` in ``orders_2026-01-01.json``:

- exactly one of ``createdAfter`` and ``lastUpdatedAfter``; ``createdAfter``
  excludes ``lastUpdated*`` and ``lastUpdatedAfter`` excludes ``created*``;
  a ``...Before`` "must be equal to or after the ...After date and at least
  two minutes before the time of the request";
- ``marketplaceIds`` (at most 50), ``fulfillmentStatuses``, ``fulfilledBy``
  and ``includedData`` are lists (Swagger 2.0 ``csv``: ``A,B``; repeating the
  parameter works too), each value from the model's enum;
- ``maxResultsPerPage`` 1..100, default 100; ``nextToken`` goes back as
  ``paginationToken``; no token on the last page.
- A pagination token expires after 24 hours (the v2026-01-01 migration
  guide, https://developer-docs.amazon.com/sp-api/docs/orders-api-migration-guide,
  as summarised in abuzuhri/Amazon-SP-API-CSharp#917: "token expires after
  24 hours").
- Data is "available two minutes after an order is created or last updated"
  (https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria):
  without a ``...Before`` the search stops ``search_delay`` seconds (120)
  before now and says so in ``lastUpdatedBefore`` / ``createdBefore``.

Invalid input: 400 ``InvalidInput`` (the 400 ``ErrorList`` of the model).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ..toolkit import ApiError, parse_iso
from .catalog import MARKETPLACES
from .orders import FULFILLED_BY, INCLUDED_DATA, STATUSES, iso

TOKEN_LIFETIME = 24 * 3600
MAX_MARKETPLACES = 50


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def as_list(args, name: str, allowed=None) -> list[str]:
    values = []
    for raw in args.getlist(name):
        values += [v.strip() for v in raw.split(",") if v.strip()]
    if allowed is not None:
        for value in values:
            if value not in allowed:
                raise invalid(f"Invalid value {value!r} for {name}.")
    return values


def _time(args, name: str) -> float | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid(f"{name} must be an ISO 8601 date-time, not {raw!r}.") from None


@dataclass
class Page:
    ids: list[str]
    offset: int
    size: int
    included: list[str]
    seller_id: str
    expires: float
    bound_name: str
    bound: float


class Search:
    """Pagination tokens of every search (they hold the matching ids)."""

    def __init__(self, clock, delay: float = 120.0):
        self.clock = clock
        self.delay = delay
        self.tokens: dict[str, Page] = {}

    def expire_tokens(self) -> int:
        """Age every pagination token past its 24 hours (chaos)."""
        for page in self.tokens.values():
            page.expires = self.clock.now()
        return len(self.tokens)

    def run(self, book, args, seller) -> tuple[list, Page, str | None]:
        """Return (orders of this page, the page, the next token)."""
        now = self.clock.now()
        token = args.get("paginationToken")
        if token:
            page = self.tokens.get(token)
            if page is None or page.seller_id != seller.seller_id:
                raise invalid("The paginationToken is invalid.")
            if page.expires <= now:
                del self.tokens[token]
                raise invalid("The paginationToken has expired.")
            included = as_list(args, "includedData", INCLUDED_DATA) or page.included
        else:
            page = self._first(book, args, seller, now)
            included = page.included
        ids = page.ids[page.offset : page.offset + page.size]
        orders = [book.orders[i] for i in ids]
        next_token = None
        if page.offset + page.size < len(page.ids):
            next_token = secrets.token_urlsafe(24)
            self.tokens[next_token] = Page(
                page.ids,
                page.offset + page.size,
                page.size,
                included,
                seller.seller_id,
                now + TOKEN_LIFETIME,
                page.bound_name,
                page.bound,
            )
        page.included = included
        return orders, page, next_token

    def _first(self, book, args, seller, now) -> Page:
        created_after = _time(args, "createdAfter")
        created_before = _time(args, "createdBefore")
        updated_after = _time(args, "lastUpdatedAfter")
        updated_before = _time(args, "lastUpdatedBefore")
        if (created_after is None) == (updated_after is None):
            raise invalid(
                "Exactly one of createdAfter and lastUpdatedAfter must be provided."
            )
        if created_after is not None and (
            updated_after is not None or updated_before is not None
        ):
            raise invalid(
                "lastUpdatedAfter and lastUpdatedBefore cannot be used with "
                "createdAfter."
            )
        if updated_after is not None and created_before is not None:
            raise invalid("createdBefore cannot be used with lastUpdatedAfter.")
        after = created_after if created_after is not None else updated_after
        before = created_before if created_after is not None else updated_before
        latest = now - self.delay
        if before is not None:
            if before < after:
                raise invalid(
                    "The Before date must be equal to or after the After date."
                )
            if before > now - 120:
                raise invalid(
                    "The Before date must be at least two minutes before the time "
                    "of the request."
                )
        bound = latest if before is None else before
        size = args.get("maxResultsPerPage", "100")
        try:
            size = int(size)
        except ValueError:
            raise invalid("maxResultsPerPage must be an integer.") from None
        if not 1 <= size <= 100:
            raise invalid("maxResultsPerPage must be between 1 and 100.")
        marketplaces = as_list(args, "marketplaceIds")
        if len(marketplaces) > MAX_MARKETPLACES:
            raise invalid("At most 50 marketplaceIds are allowed.")
        for marketplace in marketplaces:
            if marketplace not in MARKETPLACES:
                raise invalid(f"Invalid marketplaceId {marketplace!r}.")
            if marketplace not in seller.marketplaces:
                raise invalid(
                    f"The seller does not participate in marketplace {marketplace}."
                )
        statuses = set(as_list(args, "fulfillmentStatuses", STATUSES))
        fulfilled_by = set(as_list(args, "fulfilledBy", FULFILLED_BY))
        included = as_list(args, "includedData", INCLUDED_DATA)
        by_created = created_after is not None
        wanted = set(marketplaces or seller.marketplaces)
        matches = []
        for order in book.orders.values():
            stamp = order.created if by_created else order.updated
            if order.seller_id != seller.seller_id or not after <= stamp <= bound:
                continue
            if order.marketplace_id not in wanted:
                continue
            if statuses and order.status not in statuses:
                continue
            if fulfilled_by and order.fulfilled_by not in fulfilled_by:
                continue
            matches.append((stamp, order.order_id))
        matches.sort()
        return Page(
            [order_id for _, order_id in matches],
            0,
            size,
            included,
            seller.seller_id,
            now + TOKEN_LIFETIME,
            "createdBefore" if by_created else "lastUpdatedBefore",
            bound,
        )


def answer(book, orders, page: Page, next_token, roles) -> dict:
    body: dict = {
        "orders": [book.render(o, set(page.included), roles) for o in orders],
        page.bound_name: iso(page.bound),
    }
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return body
