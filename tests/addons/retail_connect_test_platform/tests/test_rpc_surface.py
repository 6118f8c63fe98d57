"""The suite's RPC surface, enumerated and called over real ``/jsonrpc``.

Every public method of a model is callable by anyone who can reach the model
(portal included). This test finds every public method the suite's addons define
on any model, through the registry (no hand-kept list of what exists), and calls
each over ``/jsonrpc`` as four people: a portal user, an internal user without
Retail groups, a Retail User and a Retail Manager. ``EXPECTED`` says what each
role gets; a public method without an entry there fails the build, so a new
endpoint is a decision, not an accident.

ORM methods a suite model overrides (``create``, ``write``...) are the ORM's
own endpoints, governed by access rights and record rules (test_security.py).
"""

import json
from itertools import count

from odoo import models
from odoo.exceptions import AccessError
from odoo.service.model import get_public_method
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.retail_connect_base.lib.webhook import Delivery

SUITE = "odoo.addons.retail_connect_"
ROLES = ("portal", "internal", "user", "manager")
DENIED, ALLOWED = "denied", "allowed"
MANAGERS = dict.fromkeys(ROLES, DENIED) | {"manager": ALLOWED}
RETAIL = dict.fromkeys(ROLES, DENIED) | {"user": ALLOWED, "manager": ALLOWED}

# (model, method): what each role gets. ALLOWED means no AccessError: the
# method ran, or refused with a business error a person can act on.
EXPECTED = {
    # configuration and platform calls: managers only
    ("retail.backend", "action_test_connection"): MANAGERS,
    ("retail.backend", "action_activate"): MANAGERS,
    ("retail.backend", "action_resume"): MANAGERS,
    ("retail.backend", "action_pause"): MANAGERS,
    ("retail.backend", "action_setup_policies_reviewed"): MANAGERS,
    ("retail.backend", "action_shopify_register_webhooks"): MANAGERS,
    ("retail.backend", "action_shopify_fetch_locations"): MANAGERS,
    ("retail.backend", "action_shopify_backfill"): MANAGERS,
    ("retail.backend", "action_shopify_export_catalog"): MANAGERS,
    ("retail.backend", "action_shopify_import_catalog"): MANAGERS,
    ("retail.backend", "action_shopify_push_all_stock"): MANAGERS,
    ("retail.backend", "action_stripe_register_webhook"): MANAGERS,
    ("retail.backend", "action_threepl_register_webhook"): MANAGERS,
    # 3PL discrepancies: posting stock differences is a manager's decision
    ("threepl.discrepancy.report", "action_approve"): MANAGERS,
    ("threepl.discrepancy.report", "action_reject"): MANAGERS,
    ("threepl.discrepancy.line", "action_approve"): MANAGERS,
    ("threepl.discrepancy.line", "action_reject"): MANAGERS,
    ("amazon.settlement", "action_book"): MANAGERS,
    ("amazon.settlement", "action_match_deposit"): MANAGERS,
    ("retail.backend", "action_amazon_subscribe_notifications"): MANAGERS,
    ("amazon.feed", "action_check_now"): MANAGERS,
    # go-live approvals (four eyes): managers, never the requester
    ("retail.approval", "action_approve"): MANAGERS,
    ("retail.approval", "action_reject"): MANAGERS,
    ("retail.backend", "action_promotion_export"): MANAGERS,
    ("retail.backend", "action_promotion_import"): MANAGERS,
    ("retail.promotion", "action_apply"): MANAGERS,
    # shadow mode: managers start it and ask to leave it (an approval)
    ("retail.backend", "action_shadow_start"): MANAGERS,
    ("retail.backend", "action_shadow_leave"): MANAGERS,
    ("retail.sync.policy", "action_shadow_start"): MANAGERS,
    ("retail.sync.policy", "action_shadow_leave"): MANAGERS,
    ("retail.backend", "action_view_shadow"): RETAIL,
    ("retail.shadow.record", "action_open_record"): RETAIL,
    # navigation: Retail users
    ("retail.backend", "action_view_exceptions"): RETAIL,
    ("retail.backend", "action_view_events"): RETAIL,
    # the live overview (figures only, no payload)
    ("retail.backend", "get_watch_overview"): RETAIL,
    ("retail.binding", "action_open_record"): RETAIL,
    ("retail.event", "action_open_event"): RETAIL,
    ("retail.event", "action_open_record"): RETAIL,
    # payloads travel with a retry or replay: managers only
    ("retail.event", "action_retry"): MANAGERS,
    ("retail.event", "action_replay"): MANAGERS,
    ("retail.event", "action_open_job"): MANAGERS,
    # the exception work queue: Retail users
    ("retail.sync.exception", "action_take"): RETAIL,
    ("retail.sync.exception", "action_retry"): RETAIL,
    ("retail.sync.exception", "action_resolve"): RETAIL,
    ("retail.sync.exception", "action_ignore"): RETAIL,
    ("retail.sync.exception", "action_open_record"): RETAIL,
    ("retail.sync.exception", "action_view_events"): RETAIL,
    ("retail.exception.ignore", "action_confirm"): RETAIL,
    ("shopify.map.sku", "action_map_and_retry"): RETAIL,
    ("stripe.assign.payment", "action_assign_and_retry"): RETAIL,
    # deliveries a Stripe dispute holds: Retail users release them
    ("stripe.dispute", "action_release_deliveries"): RETAIL,
}


def suite_public_methods(env):
    """{(model, method): addon} of every public method a suite addon defines.

    "Public" is Odoo's own rule (``get_public_method``: no leading underscore,
    not ``@api.private`` anywhere in the class hierarchy). Methods that exist
    on ``BaseModel`` are the ORM's, and left to access rights.
    """
    found = {}
    orm = set(dir(models.BaseModel))
    for model_name in env.registry:
        model_cls = env.registry[model_name]
        for klass in model_cls.__mro__:
            module = getattr(klass, "__module__", "") or ""
            if not module.startswith(SUITE):
                continue
            addon = module.split(".")[2]
            for name, value in vars(klass).items():
                if name.startswith("_") or name in orm or not callable(value):
                    continue
                if isinstance(value, type):
                    continue
                try:
                    get_public_method(env[model_name], name)
                except (AccessError, AttributeError):
                    continue
                found.setdefault((model_name, name), addon)
    return found


@tagged("post_install", "-at_install")
class TestRpcSurface(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.users = {
            "portal": new_test_user(
                cls.env, login="rc_rpc_portal", groups="base.group_portal"
            ),
            "internal": new_test_user(
                cls.env, login="rc_rpc_internal", groups="base.group_user"
            ),
            "user": new_test_user(
                cls.env,
                login="rc_rpc_user",
                groups="base.group_user,retail_connect_base.group_user",
            ),
            "manager": new_test_user(
                cls.env,
                login="rc_rpc_manager",
                groups="base.group_user,retail_connect_base.group_manager",
            ),
        }
        platforms = dict(cls.env["retail.backend"]._fields["platform"].selection)
        cls.backends = {}
        for platform in platforms:
            values = {
                "name": f"RPC {platform}",
                "platform": platform,
                "environment": "sandbox",
                # nothing listens there: a manager's call fails fast, harmlessly
                "base_url": "http://127.0.0.1:9",
            }
            if platform == "shopify":
                values["shopify_shop_domain"] = "rpc.myshopify.com"
            cls.backends[platform] = cls.env["retail.backend"].create(values)
        cls.backend = cls.backends["testshop"]
        cls.event, _ = cls.env["retail.event"]._ingest(
            cls.backend,
            Delivery(
                topic="customer/created",
                dedup_key="evt_rpc",
                subject_key="customer:rpc",
                payload=b'{"data": {"id": "cus_rpc", "email": "rpc@example.com"}}',
            ),
        )
        partner = cls.env["res.partner"].create({"name": "RPC customer"})
        cls.binding = cls.env["retail.binding"]._bind(
            cls.backend, partner, "cus_rpc", external_ref="RPC"
        )
        cls.exception = cls.env["retail.sync.exception"]._open_or_bump(
            cls.backend,
            domain="customer",
            category="validation",
            message="RPC surface test",
            subject_key="customer:rpc",
            event=cls.event,
            record=partner,
        )
        cls.event.exception_id = cls.exception
        cls.ids = count(1)

    def record_for(self, model, addon):
        """A record of ``model`` to call a method on."""
        if model == "retail.backend":
            platform = addon.removeprefix("retail_connect_")
            return self.backends.get(platform, self.backend)
        if model == "retail.event":
            return self.event
        if model == "retail.binding":
            return self.binding
        if model == "retail.sync.exception":
            return self.exception
        if model == "retail.exception.ignore":
            return self.env[model].create(
                {"exception_ids": [(6, 0, self.exception.ids)], "reason": "rpc"}
            )
        if model == "retail.approval":
            # requested by the test's own user: any manager may decide it
            return self.env[model]._request(self.backend, "activate")
        if model == "retail.promotion":
            # a wizard is its creator's own: the manager's
            return (
                self.env[model]
                .with_user(self.users["manager"])
                .create({"backend_id": self.backend.id})
            )
        if model == "shopify.map.sku":
            product = self.env["product.product"].create({"name": "RPC product"})
            return self.env[model].create(
                {"exception_id": self.exception.id, "product_id": product.id}
            )
        return self.env[model].search([], limit=1)

    def jsonrpc(self, role, model, method, ids):
        user = self.users[role]
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self.ids),
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    user.id,
                    user.login,  # new_test_user's password is the login
                    model,
                    method,
                    [ids],
                    {},
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def outcome(self, answer):
        error = answer.get("error")
        if not error:
            return ALLOWED, answer.get("result")
        name = (error.get("data") or {}).get("name", "")
        if name == "odoo.exceptions.AccessError":
            return DENIED, error["data"].get("message")
        return ALLOWED, f"{name}: {(error.get('data') or {}).get('message')}"

    def test_every_public_method_is_known(self):
        found = suite_public_methods(self.env)
        unknown = sorted(set(found) - set(EXPECTED))
        self.assertFalse(
            unknown,
            "New public methods are RPC endpoints: make them private (_name) or "
            f"add them to EXPECTED with what each role may get: {unknown}",
        )
        installed = {
            key
            for key in EXPECTED
            if key[0] in self.registry and hasattr(self.registry[key[0]], key[1])
        }
        self.assertEqual(
            installed,
            set(found),
            "EXPECTED names methods that are no longer public",
        )

    def test_each_role_gets_what_it_should(self):
        found = suite_public_methods(self.env)
        self.assertTrue(found, "the enumeration found nothing: it is broken")
        for (model, method), addon in sorted(found.items()):
            expected = EXPECTED.get((model, method))
            if not expected:
                continue  # test_every_public_method_is_known reports it
            for role in ROLES:
                record = self.record_for(model, addon)
                with self.subTest(model=model, method=method, role=role):
                    got, detail = self.outcome(
                        self.jsonrpc(role, model, method, record.ids)
                    )
                    self.assertEqual(
                        got,
                        expected[role],
                        f"{role} calling {model}.{method}: {detail}",
                    )

    def test_payload_unreachable_over_rpc(self):
        """The defect that opened the hardening issue: payloads by RPC."""
        for role in ("portal", "internal", "user"):
            for method in ("data", "_data"):
                answer = self.jsonrpc(role, "retail.event", method, self.event.ids)
                self.assertIn("error", answer, f"{role} called {method}")
                self.assertNotIn("rpc@example.com", json.dumps(answer))
            answer = self.jsonrpc(role, "retail.event", "read", self.event.ids)
            self.assertNotIn("rpc@example.com", json.dumps(answer))
