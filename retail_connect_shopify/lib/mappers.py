"""From Shopify payloads (GraphQL order shape, REST webhook shapes) to plain values.

Nothing here reads Odoo: the backend turns these values into records.
"""

from datetime import datetime, timezone

# OrderDisplayFinancialStatus values that mean the whole order was paid.
# PARTIALLY_PAID is not: "a payment was manually captured for the order with an
# amount less than the full order value" (official schema); it still counts as
# at least authorized.
PAID = {"PAID", "PARTIALLY_REFUNDED", "REFUNDED"}
AUTHORIZED = PAID | {"AUTHORIZED", "PARTIALLY_PAID"}


def numeric_id(gid):
    """``gid://shopify/Order/5940139491234`` → ``5940139491234``."""
    return str(gid).rsplit("/", 1)[-1] if gid else None


def order_gid(numeric):
    return f"gid://shopify/Order/{numeric}"


def parse_time(value):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def naive_utc(value):
    """A timezone-aware datetime (or ISO text) as naive UTC, Odoo's storage."""
    if isinstance(value, str):
        value = parse_time(value)
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def money(bag):
    """Amount of a MoneyBag (shop currency) as float; 0.0 when absent."""
    if not bag:
        return 0.0
    return float((bag.get("shopMoney") or {}).get("amount") or 0.0)


def tax_rates(tax_lines):
    """Distinct tax rates of a taxLines list, as percentages (19.0)."""
    rates = []
    for tax in tax_lines or []:
        rate = tax.get("rate")
        if rate is None:
            continue
        percent = round(float(rate) * 100, 4)
        if percent not in rates:
            rates.append(percent)
    return rates


def line_discount(node):
    """Everything discounted on a line item, order-level discounts included.

    ``discountAllocations`` holds every discount application's share of the
    line; ``totalDiscountSet`` "doesn't include order-level discounts"
    (LineItem, Admin GraphQL), so a code off the whole order is only in the
    allocations. A payload read before they were queried falls back to it.
    """
    if node.get("discountAllocations") is None:
        return money(node.get("totalDiscountSet"))
    return round(
        sum(money(a.get("allocatedAmountSet")) for a in node["discountAllocations"]),
        2,
    )


def order_lines(order):
    """Product lines of an order as plain dicts (removed quantities excluded)."""
    lines = []
    for node in (order.get("lineItems") or {}).get("nodes") or []:
        quantity = node.get("currentQuantity", node.get("quantity")) or 0
        if quantity <= 0:
            continue
        price = money(node.get("originalUnitPriceSet"))
        ordered = node.get("quantity") or quantity
        lines.append(
            {
                "line_id": node["id"],
                "sku": (node.get("sku") or "").strip(),
                "title": node.get("title") or node.get("sku") or "",
                "quantity": quantity,
                "price_unit": price,
                # of the quantity left: allocations cover removed units too
                "discount_amount": round(line_discount(node) * quantity / ordered, 2),
                "duties": round(
                    sum(money(d.get("price")) for d in node.get("duties") or ())
                    * quantity
                    / ordered,
                    2,
                ),
                "gift_card": bool(node.get("isGiftCard")),
                # a tip is a line item without product that can't be fulfilled
                # (LineItem.nonFulfillableQuantity: "the item is not something
                # that can be fulfilled, like a tip"; refunded units count too)
                "tip": not node.get("variant")
                and not node.get("isGiftCard")
                and (node.get("nonFulfillableQuantity") or 0) >= ordered,
                "tax_rates": tax_rates(node.get("taxLines")),
                "variant_id": (node.get("variant") or {}).get("id"),
                "inventory_item_id": (
                    ((node.get("variant") or {}).get("inventoryItem") or {}).get("id")
                ),
            }
        )
    return lines


def duties(order):
    """The order's duties by the tax rates charged on them (``Duty.taxLines``:
    "A list of taxes charged on the duty"): ``[{"price_unit", "tax_rates"}]``,
    of the quantity left on each line as its other amounts are."""
    groups = {}
    for node in (order.get("lineItems") or {}).get("nodes") or []:
        quantity = node.get("currentQuantity", node.get("quantity")) or 0
        if quantity <= 0:
            continue
        ordered = node.get("quantity") or quantity
        for duty in node.get("duties") or ():
            rates = tuple(tax_rates(duty.get("taxLines")))
            share = money(duty.get("price")) * quantity / ordered
            groups[rates] = groups.get(rates, 0.0) + share
    return [
        {"price_unit": round(amount, 2), "tax_rates": list(rates)}
        for rates, amount in groups.items()
        if round(amount, 2)
    ]


def shipping_lines(order):
    result = []
    for node in (order.get("shippingLines") or {}).get("nodes") or []:
        result.append(
            {
                "title": node.get("title") or "Shipping",
                # after its discounts (free shipping included, 2024-07+)
                "price_unit": money(node.get("discountedPriceSet")),
                "discount": round(
                    money(node.get("originalPriceSet"))
                    - money(node.get("discountedPriceSet")),
                    2,
                )
                if node.get("originalPriceSet")
                else 0.0,
                "tax_rates": tax_rates(node.get("taxLines")),
            }
        )
    return result


def address(data):
    """A GraphQL MailingAddress or REST address as partner values (+ codes)."""
    if not data:
        return None
    first = data.get("firstName") or data.get("first_name") or ""
    last = data.get("lastName") or data.get("last_name") or ""
    name = data.get("name") or f"{first} {last}".strip()
    return {
        "name": name or data.get("company") or "",
        "street": data.get("address1") or False,
        "street2": data.get("address2") or False,
        "city": data.get("city") or False,
        "zip": data.get("zip") or False,
        "phone": data.get("phone") or False,
        "country_code": data.get("countryCodeV2") or data.get("country_code"),
        "state_code": data.get("provinceCode") or data.get("province_code"),
        "company_name": data.get("company") or False,
    }


def customer(data):
    """A GraphQL Customer or REST customer as plain values."""
    if not data:
        return None
    first = data.get("firstName") or data.get("first_name") or ""
    last = data.get("lastName") or data.get("last_name") or ""
    gid = data.get("id")
    if gid and not str(gid).startswith("gid://"):
        gid = data.get("admin_graphql_api_id") or f"gid://shopify/Customer/{gid}"
    # GraphQL: Customer.email/phone are deprecated for defaultEmailAddress /
    # defaultPhoneNumber; REST payloads (webhooks) still carry email/phone
    email = (data.get("defaultEmailAddress") or {}).get("emailAddress")
    email = (email or data.get("email") or "").strip()
    phone = (data.get("defaultPhoneNumber") or {}).get("phoneNumber")
    phone = phone or data.get("phone")
    return {
        "gid": gid,
        "name": f"{first} {last}".strip() or email,
        "email": email or False,
        "phone": phone or False,
        "default_address": address(data.get("default_address")),
    }


def should_confirm(rule, financial_status):
    if rule == "always":
        return True
    if rule == "authorized":
        return financial_status in AUTHORIZED
    return financial_status in PAID
