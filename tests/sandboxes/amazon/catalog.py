"""Static facts of the SP-API: regions, marketplaces, currencies, usage plans.

- Regions and their marketplaces: https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints
  and https://developer-docs.amazon.com/sp-api/docs/marketplace-ids (one
  endpoint per region: ``sellingpartnerapi-na|eu|fe.amazon.com``).
- Usage plans (rate per second, burst) are the default values of the "Usage
  Plan" table in each operation's description in the official models
  (``orders_2026-01-01.json``, ``ordersV0.json``,
  ``listingsItems_2021-08-01.json``, ``feeds_2021-06-30.json``,
  ``reports_2021-06-30.json``, ``notifications.json``); ``test_amazon.py``
  checks this table against the models. The bucket is kept "per selling
  partner and application pair" (https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits).
"""

from __future__ import annotations

from decimal import Decimal

# marketplaceId -> (region, country, currency, name)
MARKETPLACES = {
    "ATVPDKIKX0DER": ("na", "US", "USD", "Amazon.com"),
    "A2EUQ1WTGCTBG2": ("na", "CA", "CAD", "Amazon.ca"),
    "A1AM78C64UM0Y8": ("na", "MX", "MXN", "Amazon.com.mx"),
    "A2Q3Y263D00KWC": ("na", "BR", "BRL", "Amazon.com.br"),
    "A1PA6795UKMFR9": ("eu", "DE", "EUR", "Amazon.de"),
    "A1F83G8C2ARO7P": ("eu", "GB", "GBP", "Amazon.co.uk"),
    "A13V1IB3VIYZZH": ("eu", "FR", "EUR", "Amazon.fr"),
    "APJ6JRA9NG5V4": ("eu", "IT", "EUR", "Amazon.it"),
    "A1RKKUPIHCS9HS": ("eu", "ES", "EUR", "Amazon.es"),
    "A1805IZSGTT6HS": ("eu", "NL", "EUR", "Amazon.nl"),
    "A1C3SOZRARQ6R3": ("eu", "PL", "PLN", "Amazon.pl"),
    "A2NODRKZP88ZB9": ("eu", "SE", "SEK", "Amazon.se"),
    "A1VC38T7YXB528": ("fe", "JP", "JPY", "Amazon.co.jp"),
    "A39IBJ37TRP1C6": ("fe", "AU", "AUD", "Amazon.com.au"),
    "A19VAU5U5O7RUS": ("fe", "SG", "SGD", "Amazon.sg"),
}
REGIONS = ("na", "eu", "fe")
# ISO 4217 minor units: JPY has none (amounts are decimal strings, "Money").
CURRENCY_DIGITS = {"JPY": 0}


def money(amount, currency: str) -> dict:
    """A ``Money`` of the models: ``{"amount": "12.30", "currencyCode"}``."""
    digits = CURRENCY_DIGITS.get(currency, 2)
    quantum = Decimal(1).scaleb(-digits)
    value = Decimal(str(amount)).quantize(quantum)
    return {"amount": str(value), "currencyCode": currency}


def region_of(marketplace_id: str) -> str | None:
    entry = MARKETPLACES.get(marketplace_id)
    return entry[0] if entry else None


def currency_of(marketplace_id: str) -> str:
    return MARKETPLACES[marketplace_id][2]


# operation -> (rate per second, burst), from the models' "Usage Plan" tables
USAGE_PLANS = {
    # orders_2026-01-01.json
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    # ordersV0.json
    "confirmShipment": (2.0, 10),
    # listingsItems_2021-08-01.json
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    # feeds_2021-06-30.json
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "getFeedDocument": (0.0222, 10),
    # reports_2021-06-30.json
    "getReports": (0.0222, 10),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    # notifications.json
    "createDestination": (1.0, 5),
    "getDestinations": (1.0, 5),
    "getDestination": (1.0, 5),
    "deleteDestination": (1.0, 5),
    "createSubscription": (1.0, 5),
    "getSubscription": (1.0, 5),
    "getSubscriptionById": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
}
# operation -> model file holding it (for the contract checks)
MODEL_OF = {
    "searchOrders": "orders_2026-01-01.json",
    "getOrder": "orders_2026-01-01.json",
    "confirmShipment": "ordersV0.json",
    "getListingsItem": "listingsItems_2021-08-01.json",
    "patchListingsItem": "listingsItems_2021-08-01.json",
    "createFeedDocument": "feeds_2021-06-30.json",
    "createFeed": "feeds_2021-06-30.json",
    "getFeed": "feeds_2021-06-30.json",
    "getFeeds": "feeds_2021-06-30.json",
    "getFeedDocument": "feeds_2021-06-30.json",
    "getReports": "reports_2021-06-30.json",
    "getReport": "reports_2021-06-30.json",
    "getReportDocument": "reports_2021-06-30.json",
    "createDestination": "notifications.json",
    "getDestinations": "notifications.json",
    "getDestination": "notifications.json",
    "deleteDestination": "notifications.json",
    "createSubscription": "notifications.json",
    "getSubscription": "notifications.json",
    "getSubscriptionById": "notifications.json",
    "deleteSubscriptionById": "notifications.json",
}
