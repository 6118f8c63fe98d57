"""SP-API facts the connector needs: regions, marketplaces, usage plans.

- Endpoints per region and the LWA token endpoint:
  https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints and
  https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api
  (``POST https://api.amazon.com/auth/o2/token``).
- Marketplace ids: https://developer-docs.amazon.com/sp-api/docs/marketplace-ids
- Usage plans (rate per second, burst): the "Usage Plan" table in each
  operation's description in the official models (``orders_2026-01-01.json``,
  ``ordersV0.json``, ``listingsItems_2021-08-01.json``,
  ``feeds_2021-06-30.json``, ``notifications.json``); ``test_contracts.py``
  reads them back from the models. Amazon keeps one token bucket per
  operation and selling-partner/application pair
  (https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits).
"""

ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_URL = "https://api.amazon.com/auth/o2/token"
ORDERS_VERSION = "2026-01-01"

# marketplace id -> (region, country code, currency, name)
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

# operation -> (rate per second, burst), the models' default usage plans
USAGE_PLANS = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "getReports": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
    # Feeds 2021-06-30 (a burst of listing quantities)
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    # Notifications v1 (ORDER_CHANGE)
    "getDestinations": (1.0, 5),
    "createDestination": (1.0, 5),
    "getSubscription": (1.0, 5),
    "createSubscription": (1.0, 5),
}
# operation -> model file (test_contracts.py checks the plans against them)
MODEL_OF = {
    "searchOrders": "orders_2026-01-01.json",
    "getOrder": "orders_2026-01-01.json",
    "confirmShipment": "ordersV0.json",
    "getListingsItem": "listingsItems_2021-08-01.json",
    "patchListingsItem": "listingsItems_2021-08-01.json",
    "getReports": "reports_2021-06-30.json",
    "getReportDocument": "reports_2021-06-30.json",
    "createFeedDocument": "feeds_2021-06-30.json",
    "createFeed": "feeds_2021-06-30.json",
    "getFeed": "feeds_2021-06-30.json",
    "getFeedDocument": "feeds_2021-06-30.json",
    "getDestinations": "notifications.json",
    "createDestination": "notifications.json",
    "getSubscription": "notifications.json",
    "createSubscription": "notifications.json",
}
