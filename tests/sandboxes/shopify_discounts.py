"""Discounts of the Shopify sandbox's orders, as the Admin API documents them.

A discount *application* says what was meant (a code, an automatic discount, a
merchant's manual discount; a value; which lines); its *allocations* say how
much it took off each line item or shipping line. Sources (Admin GraphQL
2026-10):

- DiscountApplication interface: "Discount applications don't represent the
  actual final amount discounted on a line (line item or shipping line). The
  actual amount discounted on a line is represented by the DiscountAllocation
  object." (https://shopify.dev/docs/api/admin-graphql/latest/interfaces/DiscountApplication)
- DiscountApplicationTargetSelection: ALL "allocated onto all the lines",
  ENTITLED "only the lines that it's entitled for", EXPLICIT "explicitly
  chosen lines"; DiscountApplicationTargetType LINE_ITEM or SHIPPING_LINE;
  DiscountApplicationAllocationMethod ACROSS "spread across all entitled
  lines", EACH "applied onto every entitled line"
  (https://shopify.dev/docs/api/admin-graphql/latest/enums/DiscountApplicationTargetSelection,
  .../enums/DiscountApplicationAllocationMethod).
- DiscountApplicationLevel: "LINE: line level discounts are factored into the
  discountedUnitPriceSet on line items. ORDER: order level discounts are not"
  (https://shopify.dev/docs/api/admin-graphql/latest/enums/DiscountApplicationLevel).
  An order-wide discount (a code or automatic "amount off order": every line
  item, ALL) is order level; a product discount (ENTITLED) or a discount the
  merchant put on one line (EXPLICIT) is line level.
- LineItem.totalDiscountSet: "The total discount allocated to the line item
  ... This value doesn't include order-level discounts";
  LineItem.discountAllocations: "The discounts that have been allocated to the
  line item by discount applications"
  (https://shopify.dev/docs/api/admin-graphql/latest/objects/LineItem).
- ShippingLine.discountedPriceSet: "The shipping price after applying
  discounts ... As of API version 2024-07, this will be calculated including
  cart level discounts, such as the free shipping discount";
  ShippingLine.discountAllocations
  (https://shopify.dev/docs/api/admin-graphql/latest/objects/ShippingLine).
- Order.totalDiscountsSet "includes both order and line level discounts";
  Order.cartDiscountAmountSet "only includes discounts applied to the entire
  order"; Order.discountCodes "the discount codes used for the order"
  (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order).

Taxes are charged on what is left after the discounts: TaxLine.priceSet is
"the amount of tax ... after discounts and before returns"
(https://shopify.dev/docs/api/admin-graphql/latest/objects/TaxLine).
"""

from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")
TYPES = {
    "code": "DiscountCodeApplication",
    "automatic": "AutomaticDiscountApplication",
    "manual": "ManualDiscountApplication",
}


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def application(spec: dict, index: int, order: dict) -> tuple[dict, list[dict]]:
    """A discount application of ``order`` from ``spec``, and its lines.

    ``spec``: ``{"type": "code"|"automatic"|"manual", "code" or "title",
    "amount" or "percentage", "target": "order"|"shipping"|{"skus": [...]}|
    {"lines": [line ids]}, "each": bool}``.
    """
    kind = spec.get("type", "code")
    if kind not in TYPES:
        raise ValueError(f"unknown discount type {kind!r}")
    if ("amount" in spec) == ("percentage" in spec):
        raise ValueError("a discount is an amount or a percentage")
    if kind == "code" and not spec.get("code"):
        raise ValueError("a discount code application needs its code")
    target = spec.get("target", "order")
    lines = order["lineItems"]
    # a tip is no product: nothing discounts it
    lines = [x for x in lines if not x.get("tip")]
    if target == "order":
        # "Discounts that apply to collections don't apply to gift cards
        # within the collection"; a discount naming the gift card does
        # (https://help.shopify.com/en/manual/products/gift-card-products/discounted-gift-cards).
        # Assumed the same for discounts off the whole order.
        lines = [x for x in lines if not x.get("giftCard")]
        selection, target_type, level, entitled = "ALL", "LINE_ITEM", "ORDER", lines
    elif target == "shipping":
        selection, target_type, level = "ALL", "SHIPPING_LINE", "ORDER"
        entitled = order["shippingLines"]
    elif isinstance(target, dict) and "skus" in target:
        selection, target_type, level = "ENTITLED", "LINE_ITEM", "LINE"
        entitled = [line for line in lines if line["sku"] in target["skus"]]
    elif isinstance(target, dict) and "lines" in target:
        selection, target_type, level = "EXPLICIT", "LINE_ITEM", "LINE"
        entitled = [line for line in lines if line["id"] in target["lines"]]
    else:
        raise ValueError(f"unknown discount target {target!r}")
    if not entitled:
        raise ValueError(f"discount {spec} applies to no line")
    each = spec.get("each", target == "shipping")
    value = (
        {"amount": _money(spec["amount"])}
        if "amount" in spec
        else {"percentage": float(spec["percentage"])}
    )
    if (
        not 0
        < float(next(iter(value.values())))
        <= (100 if "percentage" in value else float("inf"))
    ):
        raise ValueError(f"discount value out of range: {value}")
    app = {
        "index": index,
        "type": kind,
        "code": spec.get("code"),
        "title": spec.get("title") or spec.get("code") or "Discount",
        "description": spec.get("description"),
        "value": value,
        "allocationMethod": "EACH" if each else "ACROSS",
        "targetSelection": selection,
        "targetType": target_type,
        "level": level,
    }
    return app, entitled


def net(line: dict) -> Decimal:
    """What a line item or shipping line costs after its allocations."""
    gross = line["price"] * line.get("quantity", 1)
    allocations = line.get("allocations") or ()
    return gross - sum((a["amount"] for a in allocations), Decimal(0))


def allocate(app: dict, entitled: list[dict]) -> None:
    """Allocate ``app`` to its lines: each line's allocations grow.

    ACROSS spreads one amount (the fixed amount, or the percentage of what the
    lines cost) in proportion to what each line costs, the last line taking
    the remainder so the allocations add up to the discount to the cent; EACH
    takes the value off every line. A line never goes below zero.
    """
    bases = [net(line) for line in entitled]
    value = app["value"]
    if app["allocationMethod"] == "EACH":
        if "amount" in value:
            amounts = [min(value["amount"], base) for base in bases]
        else:
            rate = Decimal(str(value["percentage"])) / 100
            amounts = [_money(base * rate) for base in bases]
    else:
        whole = sum(bases, Decimal(0))
        if "amount" in value:
            total = min(value["amount"], whole)
        else:
            total = _money(whole * Decimal(str(value["percentage"])) / 100)
        amounts, left = [], total
        for position, base in enumerate(bases):
            last = position == len(bases) - 1
            share = left if last else _money(total * base / whole) if whole else 0
            amounts.append(share)
            left -= share
    for line, amount in zip(entitled, amounts, strict=True):
        if amount:
            line["allocations"].append({"index": app["index"], "amount": amount})


def total(line: dict, applications: list[dict], level: str | None = None) -> Decimal:
    """The allocations of ``line`` (of applications of ``level`` only)."""
    levels = {app["index"]: app["level"] for app in applications}
    return sum(
        (
            a["amount"]
            for a in line.get("allocations") or ()
            if level is None or levels[a["index"]] == level
        ),
        Decimal(0),
    )


def codes(applications: list[dict]) -> list[str]:
    return [app["code"] for app in applications if app["type"] == "code"]
