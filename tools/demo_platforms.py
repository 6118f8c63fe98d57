"""The Stripe, 3PL and Amazon part of ``make demo`` (see devenv.seed_demo).

Each platform gets a sandbox backend pointing at its sandbox on the demo's
ports (``python -m sandboxes --all``: testshop, shopify, stripe, threepl,
amazon on consecutive ports), created through JSON-RPC on the first run and
reused afterwards, then some traffic through the sandbox's own admin routes
(``/__sandbox__/...``, documented in tests/sandboxes/<platform>/admin.py) and
the connector's normal paths: webhooks, queued jobs, the polling cron.

``seed(odoo, url, port_base, log)`` seeds every platform; one platform's
failure is logged and the others still run. ``odoo(model, method, *args,
**kwargs)`` is a JSON-RPC call as the demo's admin.
"""

import sys
import time
from pathlib import Path

import requests

# ports: offsets from --sandbox-port (tests/sandboxes/__init__.py SANDBOXES)
STRIPE, THREEPL, AMAZON = 2, 3, 4
# the sandboxes' fixed demo credentials (their modules' defaults)
STRIPE_KEY = "sk_test_sandbox"
THREEPL_TOKEN = "shipbob-sandbox-token"
THREEPL_CHANNEL = "1001"
AMAZON_SELLER = "A1SANDBOXSELLEREU"
AMAZON_REFRESH = "Atzr|sandbox-refresh-token-eu"
AMAZON_CLIENT_ID = "amzn1.application-oa2-client.sandbox0000000000000001"
AMAZON_CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-client-secret"
AMAZON_DE = "A1PA6795UKMFR9"


class Sandbox:
    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}"

    def __call__(self, path, data=None, method="POST"):
        response = requests.request(
            method, f"{self.url}/__sandbox__/{path}", json=data or {}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def wait(check, what, timeout=90):
    """Wait for the queued jobs to do ``what`` (``check()`` truthy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(2)
    raise RuntimeError(f"timed out waiting for {what}")


def backend(odoo, name, values, secrets):
    """The demo backend ``name``: created once, its URL kept current."""
    found = odoo("retail.backend", "search", [["name", "=", name]])
    if found:
        odoo("retail.backend", "write", found, {"base_url": values["base_url"]})
        return found[0], False
    backend_id = odoo("retail.backend", "create", dict(values, name=name))
    # secrets are write-only fields, encrypted on write
    odoo("retail.backend", "write", [backend_id], secrets)
    return backend_id, True


def bindings(odoo, backend_id, model):
    return odoo(
        "retail.binding",
        "search_read",
        [["backend_id", "=", backend_id], ["res_model", "=", model]],
        ["res_id", "external_id"],
    )


def run_cron(odoo, xmlid):
    module, name = xmlid.split(".")
    cron = odoo(
        "ir.model.data",
        "search_read",
        [["module", "=", module], ["name", "=", name]],
        ["res_id"],
    )
    odoo("ir.cron", "method_direct_trigger", [cron[0]["res_id"]])


def currency(odoo, code):
    ids = odoo(
        "res.currency",
        "search",
        [["name", "=", code]],
        context={"active_test": False},
    )
    odoo("res.currency", "write", ids, {"active": True})
    return ids[0]


# ------------------------------------------------------------------ Stripe
def seed_stripe(odoo, url, port_base, log):
    sandbox = Sandbox(port_base + STRIPE)
    usd = currency(odoo, "USD")
    journal = odoo("account.journal", "search", [["code", "=", "STRP"]])
    if not journal:
        clearing = odoo(
            "account.account",
            "create",
            {
                "name": "Stripe clearing",
                "code": "1019901",
                "account_type": "asset_current",
                "reconcile": True,
            },
        )
        company_currency = odoo(
            "res.company", "search_read", [], ["currency_id"], limit=1
        )[0]["currency_id"][0]
        journal = [
            odoo(
                "account.journal",
                "create",
                {
                    "name": "Stripe",
                    "code": "STRP",
                    "type": "bank",
                    "currency_id": usd if usd != company_currency else False,
                },
            )
        ]
        lines = odoo(
            "account.payment.method.line",
            "search",
            [["journal_id", "=", journal[0]]],
        )
        odoo(
            "account.payment.method.line",
            "write",
            lines,
            {"payment_account_id": clearing},
        )
    backend_id, new = backend(
        odoo,
        "Acme Stripe (sandbox)",
        {
            "platform": "stripe",
            "environment": "sandbox",
            "base_url": sandbox.url,
            "stripe_currency_id": usd,
            "stripe_journal_id": journal[0],
        },
        {"api_key": STRIPE_KEY},
    )
    fees = odoo("account.account", "search", [["code", "=", "6279901"]])
    if not fees:
        fees = [
            odoo(
                "account.account",
                "create",
                {"name": "Stripe fees", "code": "6279901", "account_type": "expense"},
            )
        ]
    odoo("retail.backend", "write", [backend_id], {"stripe_fee_account_id": fees[0]})
    if new:
        odoo("retail.backend", "action_activate", [backend_id])
    # the sandbox starts empty each run: a new webhook endpoint and secret
    odoo("retail.backend", "action_stripe_register_webhook", [backend_id])
    # funds available at once, so that today's payout takes them
    sandbox("config", {"available_after": 0})

    product = odoo(
        "product.product",
        "search",
        [["default_code", "=", "RC-MUG"]],
    )
    partner = odoo("res.partner", "create", {"name": "Jane Doe (Stripe)"})
    names = []
    for price in (120.0, 80.0):
        order = odoo(
            "sale.order",
            "create",
            {
                "partner_id": partner,
                "order_line": [[0, 0, {"product_id": product[0], "price_unit": price}]],
            },
        )
        odoo("sale.order", "action_confirm", [order])
        names.append(odoo("sale.order", "read", [order], ["name"])[0]["name"])
    before = len(bindings(odoo, backend_id, "account.payment"))
    first = sandbox("payments", {"amount": 12000, "metadata": {"odoo_order": names[0]}})
    sandbox("payments", {"amount": 8000, "metadata": {"odoo_order": names[1]}})
    sandbox("refunds", {"charge": first["charge"]["id"], "amount": 3000})
    sandbox("webhooks/flush")
    wait(
        lambda: len(bindings(odoo, backend_id, "account.payment")) >= before + 3,
        "the Stripe payments and refund",
    )
    payout = sandbox("payouts", {"description": "Demo payout"})
    sandbox(f"payouts/{payout['id']}/paid")
    sandbox("webhooks/flush")
    wait(
        lambda: any(
            payout["id"] in (b["external_id"] or "")
            for b in bindings(odoo, backend_id, "account.bank.statement")
        ),
        "the Stripe payout's statement",
    )
    # a dispute after the payout: funds withdrawn, the delivery held
    disputed = sandbox(
        "payments", {"amount": 4500, "metadata": {"odoo_order": names[1]}}
    )
    sandbox("webhooks/flush")
    sandbox(
        "disputes",
        {"charge": disputed["charge"]["id"], "reason": "product_not_received"},
    )
    sandbox("webhooks/flush")
    log("Stripe sandbox seeded: payments, a refund, a paid payout, a dispute")
    return backend_id


# --------------------------------------------------------------------- 3PL
def seed_threepl(odoo, url, port_base, log):
    sandbox = Sandbox(port_base + THREEPL)
    warehouse = odoo("stock.warehouse", "search", [["code", "=", "IL1"]])
    if not warehouse:
        warehouse = [
            odoo("stock.warehouse", "create", {"name": "3PL Illinois", "code": "IL1"})
        ]
    stock = odoo("stock.warehouse", "read", warehouse, ["lot_stock_id"])[0]
    backend_id, new = backend(
        odoo,
        "Acme 3PL (sandbox)",
        {
            "platform": "threepl",
            "environment": "sandbox",
            "base_url": sandbox.url,
            "threepl_channel_id": THREEPL_CHANNEL,
            "threepl_warehouse_ids": [[6, 0, warehouse]],
        },
        {"access_token": THREEPL_TOKEN},
    )
    if new:
        odoo("retail.backend", "action_activate", [backend_id])
    odoo("retail.backend", "action_threepl_register_webhook", [backend_id])
    products = odoo(
        "product.product",
        "search_read",
        [["default_code", "in", ["RC-TSHIRT", "RC-MUG"]]],
        ["default_code", "name"],
    )
    for product in products:
        sandbox(
            "stock",
            {"sku": product["default_code"], "qty": 50, "name": product["name"]},
        )
        quant = odoo(
            "stock.quant",
            "create",
            {
                "product_id": product["id"],
                "location_id": stock["lot_stock_id"][0],
                "inventory_quantity": 50,
            },
        )
        odoo("stock.quant", "action_apply_inventory", [quant])
    partner = odoo(
        "res.partner",
        "create",
        {
            "name": "Jane Doe (3PL)",
            "street": "100 N Racine Ave",
            "city": "Chicago",
            "zip": "60607",
            "country_id": odoo("res.country", "search", [["code", "=", "US"]])[0],
            "email": "jane@example.com",
        },
    )
    order = odoo(
        "sale.order",
        "create",
        {
            "partner_id": partner,
            "warehouse_id": warehouse[0],
            "order_line": [
                [0, 0, {"product_id": p["id"], "product_uom_qty": 1}] for p in products
            ],
        },
    )
    odoo("sale.order", "action_confirm", [order])
    picking = odoo("sale.order", "read", [order], ["picking_ids"])[0]["picking_ids"]
    name = odoo("stock.picking", "read", picking, ["name"])[0]["name"]

    def acknowledged():
        return odoo(
            "threepl.message",
            "search_read",
            [["picking_id", "in", picking], ["state", "=", "acknowledged"]],
            ["id"],
        )

    wait(acknowledged, "the 3PL shipping order")
    sandbox("ship", {"order": name, "carrier": "USPS"})
    sandbox("webhooks/flush")
    wait(
        lambda: odoo("stock.picking", "read", picking, ["state"])[0]["state"] == "done",
        "the 3PL shipment",
    )
    # stock the 3PL lost without telling: the next inventory poll's count
    # shows it, as a discrepancy report
    sandbox("drift", {"sku": products[0]["default_code"], "delta": -3})
    reports = len(odoo("threepl.discrepancy.report", "search", []))
    policies = odoo(
        "retail.sync.policy",
        "search",
        [["backend_id", "=", backend_id], ["domain", "=", "inventory"]],
    )
    odoo("retail.sync.policy", "write", policies, {"next_poll_at": False})
    run_cron(odoo, "retail_connect_base.cron_poll")
    wait(
        lambda: len(odoo("threepl.discrepancy.report", "search", [])) > reports,
        "the 3PL discrepancy report",
    )
    log(
        f"3PL sandbox seeded: {name} sent to the warehouse and shipped, "
        "a stock count with a discrepancy"
    )
    return backend_id


# ------------------------------------------------------------------ Amazon
def seed_amazon(odoo, url, port_base, log):
    sandbox = Sandbox(port_base + AMAZON)
    eur = currency(odoo, "EUR")
    pricelist = odoo("product.pricelist", "search", [["name", "=", "Amazon EUR"]])
    if not pricelist:
        pricelist = [
            odoo(
                "product.pricelist",
                "create",
                {"name": "Amazon EUR", "currency_id": eur},
            )
        ]
    warehouse = odoo("stock.warehouse", "search", [], limit=1)
    backend_id, new = backend(
        odoo,
        "Acme Amazon EU (sandbox)",
        {
            "platform": "amazon",
            "environment": "sandbox",
            "base_url": sandbox.url,
            "amazon_lwa_url": f"{sandbox.url}/auth/o2/token",
            "amazon_region": "eu",
            "amazon_seller_id": AMAZON_SELLER,
            "client_id": AMAZON_CLIENT_ID,
        },
        {
            "client_secret": AMAZON_CLIENT_SECRET,
            "amazon_refresh_token": AMAZON_REFRESH,
        },
    )
    if new:
        odoo(
            "amazon.marketplace",
            "create",
            {
                "backend_id": backend_id,
                "code": AMAZON_DE,
                "name": "Amazon.de",
                "currency_id": eur,
                "pricelist_id": pricelist[0],
                "warehouse_id": warehouse[0],
            },
        )
        odoo("retail.backend", "action_activate", [backend_id])
    # the demo does not wait Amazon's two minutes before an order is searchable
    sandbox("config", {"search_delay": 0})
    before = len(bindings(odoo, backend_id, "sale.order"))
    order = sandbox(
        "orders",
        {
            "marketplace_id": AMAZON_DE,
            "items": [{"sku": "RC-TSHIRT", "quantity": 2, "price": "29.95"}],
        },
    )
    # the poll (its cron, run now rather than in up to 15 minutes)
    policies = odoo(
        "retail.sync.policy",
        "search",
        [["backend_id", "=", backend_id]],
    )
    odoo("retail.sync.policy", "write", policies, {"next_poll_at": False})
    run_cron(odoo, "retail_connect_base.cron_poll")
    wait(
        lambda: len(bindings(odoo, backend_id, "sale.order")) > before,
        "the Amazon order",
    )
    log(f"Amazon sandbox seeded: MFN order {order.get('orderId', '')} imported")
    return backend_id


# ------------------------------------------------------- wired together
def seed_wiring(odoo, url, port_base, log):
    """The four backends wired together for the flash sale
    (tests/sandboxes/flashsale/wiring.py): Shopify and Amazon sell the stock
    of the 3PL's warehouse, Stripe books Shopify's payments, the 3PL ships
    both channels. ``python3 -m sandboxes.flashsale`` then runs the sale."""
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from sandboxes.flashsale import Options  # noqa: PLC0415
    from sandboxes.flashsale.wiring import wire  # noqa: PLC0415

    offsets = {"shopify": 1, "stripe": STRIPE, "threepl": THREEPL, "amazon": AMAZON}
    urls = {name: f"http://127.0.0.1:{port_base + n}" for name, n in offsets.items()}
    # the Stripe and 3PL seeding above subscribed Odoo to their webhooks
    wire(odoo, urls, Options(), lambda: time.sleep(2), log, url, register=False)


def seed(odoo, url, port_base, log):
    for platform, seeder in (
        ("Stripe", seed_stripe),
        ("3PL", seed_threepl),
        ("Amazon", seed_amazon),
        ("flash sale wiring", seed_wiring),
    ):
        try:
            seeder(odoo, url, port_base, log)
        except Exception as err:  # noqa: BLE001 - the demo still runs without it
            log(f"WARNING: {platform} demo traffic not sent: {err}")
