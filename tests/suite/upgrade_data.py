"""Run inside `odoo shell` (stdin) by test_upgrade.py; not a test module.

RC_PHASE=seed (with the released code): a Shopify backend with its secrets, a
binding, an event and an open exception; prints their ids and values.
RC_PHASE=check (after `-u` with the working tree): prints what is there now,
the secrets decrypted. Prints one line: RC_RESULT <json>.
"""

# ruff: noqa: F821 - `env` is given by odoo shell
import json
import os

phase = os.environ["RC_PHASE"]
TOKEN, SECRET = "shpat_upgrade_check", "whsec_upgrade_check"


def values(model, record_id, names):
    record = env[model].browse(record_id).exists()
    return record and [str(record[name]) for name in names]


def state(ids):
    backend = env["retail.backend"].browse(ids["backend"]).exists()
    return {
        "backend": values(
            "retail.backend", ids["backend"], ["name", "platform", "state", "base_url"]
        ),
        "policies": backend and sorted(backend.policy_ids.mapped("domain")),
        "secrets": backend
        and [backend._get_secret(name) for name in ("access_token", "webhook_secret")],
        "binding": values(
            "retail.binding",
            ids["binding"],
            ["backend_id", "res_model", "res_id", "external_id"],
        ),
        "event": values(
            "retail.event",
            ids["event"],
            ["backend_id", "topic", "dedup_key", "state", "payload", "exception_id"],
        ),
        "exception": values(
            "retail.sync.exception",
            ids["exception"],
            ["backend_id", "state", "category", "message", "count"],
        ),
    }


if phase == "seed":
    backend = env["retail.backend"].create(
        {
            "name": "Upgrade check shop",
            "platform": "shopify",
            "environment": "sandbox",
            "base_url": "http://127.0.0.1:9",
            "shopify_shop_domain": "upgrade-check.myshopify.com",
        }
    )
    backend.access_token = TOKEN
    backend.webhook_secret = SECRET
    partner = env["res.partner"].create({"name": "Upgrade check customer"})
    binding = env["retail.binding"].create(
        {
            "backend_id": backend.id,
            "res_model": "res.partner",
            "res_id": partner.id,
            "external_id": "gid://shopify/Customer/4242",
        }
    )
    event = env["retail.event"].create(
        {
            "backend_id": backend.id,
            "company_id": backend.company_id.id,
            "topic": "orders/create",
            "dedup_key": "upgrade-check-1",
            "payload": json.dumps({"id": 4243}),
            "state": "failed",
        }
    )
    exception = env["retail.sync.exception"]._open_or_bump(
        backend,
        domain="order",
        category="mapping",
        message="Unknown SKU RC-UPGRADE",
        event=event,
    )
    ids = {
        "backend": backend.id,
        "binding": binding.id,
        "event": event.id,
        "exception": exception.id,
    }
    result = {"ids": ids, "state": state(ids)}
    env.cr.commit()
else:
    ids = json.loads(os.environ["RC_IDS"])
    result = {"ids": ids, "state": state(ids)}
print("RC_RESULT " + json.dumps(result, default=str), flush=True)
