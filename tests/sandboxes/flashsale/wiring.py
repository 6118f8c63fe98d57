"""One backend per platform, wired together for the flash sale.

``wire(odoo, urls, options, pump)`` is idempotent: it finds each backend by
name (``make demo`` made them) or creates it, and makes the sandboxes, which
start empty on each run, hold what the wiring needs again:

- the 3PL-managed warehouse (``IL1``, the 3PL's fulfilment centre) holds the
  sale's stock, in Odoo and at the 3PL; the 3PL backend ships its deliveries
  and its webhooks come to Odoo;
- Shopify's location "3PL Illinois" is mapped to that warehouse: Shopify's
  orders are delivered from it, its stock is published there (the products
  are Odoo's, exported to Shopify), minus the Inventory policy's safety stock;
  fulfilments with the 3PL's tracking go back to Shopify;
- Stripe books the payments of Shopify's ``stripe`` gateway (its "Booked
  by"): each PaymentIntent names its Shopify order (``metadata[shopify_order]``);
- Amazon.de's merchant-fulfilled (MFN) listings get the same warehouse's
  stock minus the marketplace's safety stock; its orders are delivered from
  that warehouse, by the same 3PL, and confirmed shipped with the tracking.

Credentials are the sandboxes' fixed test values (their modules' defaults).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

SHOP = "acme.myshopify.com"
SHOPIFY_TOKEN = "shpat_test"
SHOPIFY_SECRET = "csecret"
STRIPE_KEY = "sk_test_sandbox"
THREEPL_TOKEN = "shipbob-sandbox-token"
THREEPL_CHANNEL = "1001"
AMAZON_SELLER = "A1SANDBOXSELLEREU"
AMAZON_REFRESH = "Atzr|sandbox-refresh-token-eu"
AMAZON_CLIENT_ID = "amzn1.application-oa2-client.sandbox0000000000000001"
AMAZON_CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-client-secret"
AMAZON_DE = "A1PA6795UKMFR9"

NAMES = {
    "shopify": "Acme Shopify (sandbox)",
    "stripe": "Acme Stripe (sandbox)",
    "threepl": "Acme 3PL (sandbox)",
    "amazon": "Acme Amazon EU (sandbox)",
}
WAREHOUSE = ("3PL Illinois", "IL1")
LOCATION = "3PL Illinois"  # Shopify's name of the 3PL's location


class Admin:
    """A sandbox's admin routes (``/__sandbox__/...``)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def __call__(self, path, data=None, method="POST", ok=(200, 201)):
        answer = requests.request(
            method, f"{self.url}/__sandbox__/{path}", json=data or {}, timeout=60
        )
        if answer.status_code not in ok:
            raise RuntimeError(
                f"{self.url} {path}: {answer.status_code} {answer.text[:300]}"
            )
        return answer.json() if answer.content else None

    def get(self, path):
        return self(path, method="GET")


@dataclass
class Wiring:
    """What ``wire`` made: backend ids, the warehouse, products and where
    the sandboxes are."""

    backends: dict
    warehouse: int
    stock_location: int
    products: dict  # sku: product.product id
    currency: str  # what Shopify and Stripe charge in
    admins: dict  # platform: Admin

    def policy(self, odoo, platform, domain):
        return odoo(
            "retail.sync.policy",
            "search_read",
            [["backend_id", "=", self.backends[platform]], ["domain", "=", domain]],
            ["id", "safety_stock", "latency_objective_minutes"],
        )[0]


def wait(check, what, pump, timeout=120):
    """Pump (the test runs the jobs; the demo waits for its job runner)
    until ``check()`` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        pump()


def _backend(odoo, platform, values, secrets):
    found = odoo("retail.backend", "search", [["name", "=", NAMES[platform]]])
    if found:
        # make demo's backend: pointed at this run's sandbox, wired as below
        odoo("retail.backend", "write", found, values)
        backend = found[0]
    else:
        backend = odoo(
            "retail.backend",
            "create",
            dict(values, name=NAMES[platform], platform=platform),
        )
        # secrets are write-only fields, encrypted on write
        odoo("retail.backend", "write", [backend], secrets)
    state = odoo("retail.backend", "read", [backend], ["state"])[0]["state"]
    if state != "active":
        odoo("retail.backend", "action_activate", [backend])
    return backend


def _one(odoo, model, domain, values):
    found = odoo(model, "search", domain, limit=1)
    if found:
        return found[0]
    return odoo(model, "create", values)


def _currency(odoo, code):
    ids = odoo(
        "res.currency", "search", [["name", "=", code]], context={"active_test": False}
    )
    odoo("res.currency", "write", ids, {"active": True})
    return ids[0]


def wire(odoo, urls, options, pump, log=print, odoo_url=None, register=True):
    """Wire the four backends to the sandboxes at ``urls`` ({platform: url});
    ``odoo_url``: where the sandboxes post their webhooks (Odoo's
    ``web.base.url`` by default). ``register``: subscribe Odoo to the
    Stripe and 3PL webhooks (False when the running sandboxes already have
    the subscription: a second one would deliver every event twice)."""
    admins = {name: Admin(url) for name, url in urls.items()}
    odoo_url = odoo_url or odoo(
        "ir.config_parameter", "get_param", "web.base.url"
    ).rstrip("/")
    company = odoo("res.company", "search_read", [], ["currency_id"], limit=1)[0]
    currency = company["currency_id"][1]

    # ------------------------------------------------ the 3PL's warehouse
    warehouse = _one(
        odoo,
        "stock.warehouse",
        [["code", "=", WAREHOUSE[1]]],
        {"name": WAREHOUSE[0], "code": WAREHOUSE[1]},
    )
    stock_location = odoo("stock.warehouse", "read", [warehouse], ["lot_stock_id"])[0][
        "lot_stock_id"
    ][0]
    products = {}
    for sku, price in options.skus.items():
        products[sku] = _one(
            odoo,
            "product.product",
            [["default_code", "=", sku]],
            {
                "name": f"Flash sale {sku[3:].title()}",
                "default_code": sku,
                "is_storable": True,
                "list_price": float(price),
                "taxes_id": [[5, 0, 0]],
            },
        )

    # --------------------------------------------------------------- 3PL
    threepl = _backend(
        odoo,
        "threepl",
        {
            "environment": "sandbox",
            "base_url": urls["threepl"],
            "threepl_channel_id": THREEPL_CHANNEL,
            "threepl_warehouse_ids": [[6, 0, [warehouse]]],
        },
        {"access_token": THREEPL_TOKEN},
    )
    odoo(
        "retail.backend",
        "write",
        [threepl],
        {"threepl_warehouse_ids": [[4, warehouse]]},
    )
    if register:
        odoo("retail.backend", "action_threepl_register_webhook", [threepl])
    stock = options.stock_per_sku()
    for sku, product in products.items():
        # the 3PL counts what it holds; Odoo's books say the same
        admins["threepl"]("stock", {"sku": sku, "qty": stock, "name": sku})
        quant = odoo(
            "stock.quant",
            "create",
            {
                "product_id": product,
                "location_id": stock_location,
                "inventory_quantity": stock,
            },
        )
        odoo("stock.quant", "action_apply_inventory", [quant])

    # ------------------------------------------------------------ Stripe
    journal = odoo("account.journal", "search", [["code", "=", "STRP"]])
    if journal:
        journal = journal[0]
    else:
        # Stripe's balance: a bank journal whose payments wait on a clearing
        # account until the payout's statement reconciles them
        clearing = _one(
            odoo,
            "account.account",
            [["code", "=", "1019901"]],
            {
                "name": "Stripe clearing",
                "code": "1019901",
                "account_type": "asset_current",
                "reconcile": True,
            },
        )
        journal = odoo(
            "account.journal",
            "create",
            {"name": "Stripe", "code": "STRP", "type": "bank"},
        )
        lines = odoo(
            "account.payment.method.line", "search", [["journal_id", "=", journal]]
        )
        odoo(
            "account.payment.method.line",
            "write",
            lines,
            {"payment_account_id": clearing},
        )
    stripe = _backend(
        odoo,
        "stripe",
        {
            "environment": "sandbox",
            "base_url": urls["stripe"],
            "stripe_currency_id": _currency(odoo, currency),
            "stripe_journal_id": journal,
        },
        {"api_key": STRIPE_KEY},
    )
    fees = _one(
        odoo,
        "account.account",
        [["code", "=", "6279901"]],
        {"name": "Stripe fees", "code": "6279901", "account_type": "expense"},
    )
    odoo("retail.backend", "write", [stripe], {"stripe_fee_account_id": fees})
    # the sandbox starts empty each run: a new endpoint and secret; funds
    # available at once, so the sale's payout takes them
    admins["stripe"]("config", {"available_after": 0})
    if register:
        odoo("retail.backend", "action_stripe_register_webhook", [stripe])

    # ----------------------------------------------------------- Shopify
    pricelist = _one(
        odoo,
        "product.pricelist",
        [["name", "=", f"Shopify {currency}"]],
        {"name": f"Shopify {currency}", "currency_id": _currency(odoo, currency)},
    )
    shopify = _backend(
        odoo,
        "shopify",
        {
            "environment": "sandbox",
            "base_url": urls["shopify"],
            "shopify_shop_domain": SHOP,
            "shopify_pricelist_id": pricelist,
            "shopify_confirm_on": "paid",
        },
        {"access_token": SHOPIFY_TOKEN, "webhook_secret": SHOPIFY_SECRET},
    )
    shop = admins["shopify"]
    config = shop.get("config")
    if config["currency"] != currency:
        shop("config", {"currency": currency})
    shop("config", {"webhook_url": f"{odoo_url}/retail_connect/webhook/{shopify}"})
    if LOCATION not in _shop_locations(shop):
        shop("locations", {"name": LOCATION})
    odoo("retail.backend", "action_shopify_fetch_locations", [shopify])
    locations = odoo(
        "shopify.location",
        "search_read",
        [["backend_id", "=", shopify]],
        ["name", "shopify_id"],
    )
    shop_ids = _shop_locations(shop)
    for location in locations:
        mapped = location["name"] == LOCATION and (
            shop_ids.get(LOCATION) == location["shopify_id"]
        )
        odoo(
            "shopify.location",
            "write",
            [location["id"]],
            {"warehouse_id": warehouse if mapped else False},
        )
    _gateway(odoo, shopify, stripe)
    policy = odoo(
        "retail.sync.policy",
        "search",
        [["backend_id", "=", shopify], ["domain", "=", "inventory"]],
    )
    odoo(
        "retail.sync.policy",
        "write",
        policy,
        {"safety_stock": options.shopify_safety, "direction": "out"},
    )
    templates = [
        row["product_tmpl_id"][0]
        for row in odoo(
            "product.product",
            "read",
            list(products.values()),
            ["product_tmpl_id"],
        )
    ]
    odoo(
        "product.template",
        "write",
        templates,
        {"shopify_backend_ids": [[4, shopify]]},
    )
    odoo("retail.backend", "action_shopify_export_catalog", [shopify])

    # ------------------------------------------------------------ Amazon
    eur = _currency(odoo, "EUR")
    amazon_pricelist = _one(
        odoo,
        "product.pricelist",
        [["name", "=", "Amazon EUR"]],
        {"name": "Amazon EUR", "currency_id": eur},
    )
    amazon_url = urls["amazon"]
    amazon = _backend(
        odoo,
        "amazon",
        {
            "environment": "sandbox",
            "base_url": amazon_url,
            "amazon_lwa_url": f"{amazon_url}/auth/o2/token",
            "amazon_region": "eu",
            "amazon_seller_id": AMAZON_SELLER,
            "client_id": AMAZON_CLIENT_ID,
        },
        {
            "client_secret": AMAZON_CLIENT_SECRET,
            "amazon_refresh_token": AMAZON_REFRESH,
        },
    )
    odoo(
        "retail.backend",
        "write",
        [amazon],
        {"amazon_lwa_url": f"{amazon_url}/auth/o2/token"},
    )
    marketplace_values = {
        "warehouse_id": warehouse,
        "safety_stock": options.amazon_safety,
    }
    marketplace = odoo(
        "amazon.marketplace",
        "search",
        [["backend_id", "=", amazon], ["code", "=", AMAZON_DE]],
    )
    if marketplace:
        odoo("amazon.marketplace", "write", marketplace, marketplace_values)
        marketplace = marketplace[0]
    else:
        marketplace = odoo(
            "amazon.marketplace",
            "create",
            dict(
                marketplace_values,
                backend_id=amazon,
                code=AMAZON_DE,
                name="Amazon.de",
                currency_id=eur,
                pricelist_id=amazon_pricelist,
            ),
        )
    # the order poll every minute: Amazon's two minutes of search delay are
    # the sandbox's to keep or not (the demo does not wait them)
    odoo(
        "retail.sync.policy",
        "write",
        odoo(
            "retail.sync.policy",
            "search",
            [["backend_id", "=", amazon], ["domain", "=", "order"]],
        ),
        {"interval_minutes": 1},
    )
    admins["amazon"]("config", {"search_delay": 0})
    for sku, product in products.items():
        # the seller's listings (Seller Central), quantity from Odoo
        admins["amazon"](
            "listings",
            {
                "seller_id": AMAZON_SELLER,
                "sku": sku,
                "product_type": "PRODUCT",
                "quantity": {AMAZON_DE: 0},
            },
        )
        listing = odoo(
            "amazon.listing",
            "search",
            [["marketplace_id", "=", marketplace], ["product_id", "=", product]],
            context={"active_test": False},
        )
        if not listing:
            listing = [
                odoo(
                    "amazon.listing",
                    "create",
                    {
                        "marketplace_id": marketplace,
                        "product_id": product,
                        "product_type": "PRODUCT",
                    },
                )
            ]
        # (re)activated: pushed again, to a sandbox that starts empty
        odoo("amazon.listing", "write", listing, {"active": True})
    wiring = Wiring(
        backends={
            "shopify": shopify,
            "stripe": stripe,
            "threepl": threepl,
            "amazon": amazon,
        },
        warehouse=warehouse,
        stock_location=stock_location,
        products=products,
        currency=currency,
        admins=admins,
    )
    log(
        "wired: Shopify and Amazon.de sell the stock of the 3PL's warehouse "
        f"{WAREHOUSE[1]} ({len(products)} SKUs x {stock}); Stripe books Shopify's "
        "payments; the 3PL ships both channels"
    )
    return wiring


def _shop_locations(shop):
    """Shopify's locations by name (the sandbox's admin view of its state)."""
    return {loc["name"]: loc["id"] for loc in shop.get("locations") or []}


def _gateway(odoo, shopify, stripe):
    gateway = odoo(
        "shopify.payment.gateway",
        "search",
        [["backend_id", "=", shopify], ["name", "=", "stripe"]],
    )
    if gateway:
        odoo("shopify.payment.gateway", "write", gateway, {"booked_by_id": stripe})
    else:
        odoo(
            "shopify.payment.gateway",
            "create",
            {"backend_id": shopify, "name": "stripe", "booked_by_id": stripe},
        )
