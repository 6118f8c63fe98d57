"""A restarted sandbox never hands out an id of an earlier run (`make demo`
restarts the sandboxes while Odoo keeps its database and its bindings)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from sandboxes.shopify import ShopifySandbox
from sandboxes.testshop import TestShopSandbox
from sandboxes.toolkit import IdBlocks

TESTS = Path(__file__).resolve().parents[1]


def shop_ids(sandbox):
    location = sandbox.admin_add_location({"name": "Main"})
    product = sandbox.admin_add_product(
        {"title": "T", "variants": [{"sku": "RC-1", "price": "1.00"}]}
    )
    order = sandbox.admin_add_order(
        {"customer": {"email": "a@example.com"}, "lines": [{"sku": "RC-1"}]}
    )
    return {location["id"], product["id"], order["id"], order["name"]}


def gids(value):
    """Every Shopify id (gid) and order name in a jsonable record."""
    text = json.dumps(value)
    found = set()
    for part in text.split('"'):
        if part.startswith("gid://shopify/") or part.startswith("#"):
            found.add(part)
    return found


def shopify_ids(sandbox):
    location = sandbox.add_location("Main")
    product = sandbox.add_product(
        "T-shirt",
        [{"sku": "RC-1", "price": "9.00", "inventory": {location["id"]: 5}}],
    )
    order = sandbox.add_order(
        {"email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
        [{"sku": "RC-1", "quantity": 1}],
    )
    ids = gids(sandbox._jsonable([location, product, sandbox.order(order["id"])]))
    assert order["id"] in ids and order["name"] in ids
    return ids


def test_id_blocks_are_never_handed_out_twice(tmp_path):
    blocks = IdBlocks(tmp_path / "x.ids", size=1000)
    first, second = blocks.reserve(), IdBlocks(tmp_path / "x.ids", 1000).reserve()
    assert second >= first + 1000


def test_in_memory_sandboxes_repeat_their_ids():
    """What `make demo` did: a restarted sandbox handed out the old ids again."""
    assert shopify_ids(ShopifySandbox()) == shopify_ids(ShopifySandbox())


def test_restarted_shopify_sandbox_never_reuses_an_id(tmp_path):
    state = tmp_path / "shopify.ids"
    first = ShopifySandbox()
    first.persist_ids(state)
    before = shopify_ids(first)
    restarted = ShopifySandbox()
    restarted.persist_ids(state)
    after = shopify_ids(restarted)
    assert before and after and not before & after
    restarted.reset()  # a reset of the admin API starts over too: new ids
    assert not shopify_ids(restarted) & (before | after)


def test_restarted_testshop_never_reuses_a_customer_id(tmp_path):
    ids = []
    for _ in range(2):
        shop = TestShopSandbox()
        shop.persist_ids(tmp_path / "testshop.ids")
        ids.append(shop._create({"email": "jane@example.com"})["id"])
    assert ids[0] != ids[1]


def serve_once(state_dir):
    """`python -m sandboxes --only shopify --state-dir` (as `make demo` runs it):
    start it, create a product through the admin API, stop it."""
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandboxes", "--only", "shopify", "--port-base", "0"]
        + ["--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=TESTS,
    )
    try:
        name, url = proc.stdout.readline().split()
        assert name == "shopify"
        answer = requests.post(
            f"{url}/__sandbox__/products",
            json={"title": "Mug", "variants": [{"sku": "RC-MUG", "price": "5.00"}]},
            timeout=10,
        )
        answer.raise_for_status()
        return gids(answer.json())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_sandboxes_restarted_hand_out_new_ids(tmp_path):
    first, second = serve_once(tmp_path), serve_once(tmp_path)
    assert first and second and not first & second
