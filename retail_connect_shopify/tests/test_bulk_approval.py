"""Bulk actions on a live production shop wait for a second manager.

Backfill, push all stock and catalog export go through the base's four-eyes
gate (``retail.backend._approved_bulk``, retail_approval_gates.py): on a
production backend of the production database that has gone live they open
an approval request; the approval runs the action once, as the approver.
Nothing reaches Shopify here: what each action queues (a job, dirty stock
levels, products to export) is what the tests count.
"""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config

OPTION = "retail_connect_production_db"
MANAGER = "base.group_user,retail_connect_base.group_manager"


@tagged("post_install", "-at_install")
class TestBulkApproval(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.alice = new_test_user(cls.env, login="rc_bulk_alice", groups=MANAGER)
        cls.bob = new_test_user(cls.env, login="rc_bulk_bob", groups=MANAGER)
        cls.Approval = cls.env["retail.approval"]
        cls.live = cls._shop("Live shop", "production", "live-acme.myshopify.com")
        cls.sandbox = cls._shop("Sandbox shop", "sandbox", "dev-acme.myshopify.com")
        warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Mug", "default_code": "MUG-BULK", "is_storable": True}
        )
        for backend in cls.live | cls.sandbox:
            cls.env["shopify.location"].create(
                {
                    "backend_id": backend.id,
                    "name": "Main",
                    "shopify_id": f"gid://shopify/Location/{backend.id}",
                    "warehouse_id": warehouse.id,
                }
            )
            cls.env["retail.binding"]._bind(
                backend, cls.product, f"gid://shopify/ProductVariant/{backend.id}"
            )
            cls.env["retail.binding"]._bind(
                backend,
                cls.product.product_tmpl_id,
                f"gid://shopify/Product/{backend.id}",
            )

    @classmethod
    def _shop(cls, name, environment, domain):
        backend = cls.env["retail.backend"].create(
            {
                "name": name,
                "platform": "shopify",
                "environment": environment,
                "shopify_shop_domain": domain,
                **(
                    {"base_url": "http://127.0.0.1:9"}
                    if environment == "sandbox"
                    else {}
                ),
            }
        )
        backend.write({"state": "active", "activated_db_uuid": backend._db_uuid()})
        return backend

    def setUp(self):
        super().setUp()
        patcher = patch.dict(config.options, {OPTION: self.env.cr.dbname})
        patcher.start()
        self.addCleanup(patcher.stop)

    # what each bulk action queues, per backend
    def _backfill_jobs(self, backend):
        return self.env["queue.job"].search_count(
            [("identity_key", "=", f"shopify_backfill_{backend.id}")]
        )

    def _dirty_levels(self, backend):
        return self.env["shopify.stock.level"].search_count(
            [("backend_id", "=", backend.id), ("dirty", "=", True)]
        )

    def _exports(self, backend):
        return self.env["shopify.product.export"].search_count(
            [("backend_id", "=", backend.id)]
        )

    def _request_as_alice(self, method):
        answer = getattr(self.live.with_user(self.alice), method)()
        self.assertEqual(answer["params"]["type"], "warning")
        self.assertIn("Approval requested", answer["params"]["message"])
        approval = self.Approval.search(
            [("backend_id", "=", self.live.id), ("action", "=", "bulk")]
        )
        self.assertEqual(len(approval), 1)
        self.assertEqual(approval.requester_id, self.alice)
        return approval

    def test_backfill_runs_once_approved_by_another_manager(self):
        approval = self._request_as_alice("action_shopify_backfill")
        self.assertIn("Backfill", approval.reason)
        self.assertEqual(self._backfill_jobs(self.live), 0, "nothing before approval")
        with self.assertRaisesRegex(UserError, "another Retail Manager"):
            approval.with_user(self.alice).action_approve()
        self.assertEqual(self._backfill_jobs(self.live), 0)
        approval.with_user(self.bob).action_approve()
        self.assertEqual(self._backfill_jobs(self.live), 1)
        job = self.env["queue.job"].search(
            [("identity_key", "=", f"shopify_backfill_{self.live.id}")]
        )
        self.assertEqual(job.user_id, self.bob, "it runs as the approver")
        with self.assertRaisesRegex(UserError, "already Approved"):
            approval.with_user(self.bob).action_approve()
        with self.assertRaisesRegex(UserError, "already ran"):
            approval.with_user(self.bob)._run()

    def test_push_all_stock_waits_and_a_rejection_never_runs_it(self):
        approval = self._request_as_alice("action_shopify_push_all_stock")
        self.assertEqual(self._dirty_levels(self.live), 0)
        approval.with_user(self.bob).action_reject()
        self.assertEqual(self._dirty_levels(self.live), 0)
        # asked again: a new request; approved, the stock is pushed
        self.live.with_user(self.alice).action_shopify_push_all_stock()
        pending = self.Approval.search(
            [("backend_id", "=", self.live.id), ("state", "=", "pending")]
        )
        pending.with_user(self.bob).action_approve()
        self.assertEqual(self._dirty_levels(self.live), 1)

    def test_catalog_export_waits_for_approval(self):
        approval = self._request_as_alice("action_shopify_export_catalog")
        self.assertEqual(self._exports(self.live), 0)
        approval.with_user(self.bob).action_approve()
        self.assertEqual(self._exports(self.live), 1)

    def test_sandbox_and_four_eyes_off_run_at_once(self):
        self.sandbox.with_user(self.alice).action_shopify_push_all_stock()
        self.sandbox.with_user(self.alice).action_shopify_export_catalog()
        self.sandbox.with_user(self.alice).action_shopify_backfill()
        self.assertEqual(
            (
                self._dirty_levels(self.sandbox),
                self._exports(self.sandbox),
                self._backfill_jobs(self.sandbox),
            ),
            (1, 1, 1),
        )
        self.env.company.retail_four_eyes = False
        self.live.with_user(self.alice).action_shopify_push_all_stock()
        self.assertEqual(self._dirty_levels(self.live), 1)
        self.assertFalse(self.Approval.search([("backend_id", "=", self.live.id)]))
