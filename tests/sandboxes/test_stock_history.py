"""The sandboxes' own record of what they offered for sale
(``GET /__sandbox__/stock_history``): every change, stamped with the
sandbox's clock, however it happened (a merchant, a buyer, an API write).
The flash sale scenario measures its oversell window from it."""

import requests

from sandboxes.amazon import AmazonSandbox
from sandboxes.shopify import ShopifySandbox
from sandboxes.toolkit import Clock, SandboxServer

EPOCH = 1_793_000_000
DE = "A1PA6795UKMFR9"


def admin(server, path, data=None, method="POST"):
    answer = requests.request(
        method, f"{server.url}/__sandbox__/{path}", json=data or {}, timeout=10
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def history(server):
    return [
        (e["time"], e["sku"], e["quantity"])
        for e in admin(server, "stock_history", method="GET")
    ]


def test_shopify_records_each_change_of_available_with_its_time():
    clock = Clock(EPOCH, frozen=True)
    sandbox = ShopifySandbox(clock=clock)
    with SandboxServer(sandbox) as server:
        location = admin(server, "locations", {"name": "Main"})
        admin(
            server,
            "products",
            {
                "title": "Tee",
                "variants": [
                    {"sku": "TEE", "price": "10.00", "inventory": {location["id"]: 5}}
                ],
            },
        )
        clock.advance(30)
        admin(server, "orders", {"lines": [{"sku": "TEE", "quantity": 2}]})
        clock.advance(30)
        # a request that changes nothing adds nothing
        admin(server, "orders", method="GET")
        assert history(server) == [
            (EPOCH, "TEE", 5),
            (EPOCH + 30, "TEE", 3),
        ]
        admin(server, "reset")
        assert history(server) == []


def test_amazon_records_merchant_quantities_per_marketplace():
    clock = Clock(EPOCH, frozen=True)
    sandbox = AmazonSandbox(clock=clock, search_delay=0)
    with SandboxServer(sandbox) as server:
        admin(server, "listings", {"sku": "MUG", "quantity": {DE: 4}})
        # an FBA listing is Amazon's stock, not an offer of the merchant's
        admin(
            server,
            "listings",
            {"sku": "FBA-MUG", "channel": "AMAZON_EU", "quantity": {DE: 9}},
        )
        clock.advance(60)
        admin(
            server,
            "orders",
            {
                "marketplace_id": DE,
                "items": [{"sku": "MUG", "quantity": 3, "price": "9.00"}],
            },
        )
        entries = admin(server, "stock_history", method="GET")
        assert [(e["time"], e["sku"], e["where"], e["quantity"]) for e in entries] == [
            (EPOCH, "MUG", DE, 4),
            (EPOCH + 60, "MUG", DE, 1),
        ]
