"""A Retail User of company A sees nothing of company B, whatever the way in."""

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.retail_connect_base.lib.webhook import Delivery

MODELS = (
    "retail.backend",
    "retail.sync.policy",
    "retail.event",
    "retail.sync.exception",
    "retail.exchange",
    "retail.binding",
)


@tagged("post_install", "-at_install")
class TestMultiCompany(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.user = new_test_user(
            cls.env,
            login="rc_mc_user",
            groups="base.group_user,base.group_allow_export,"
            "retail_connect_base.group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.records = {"a": {}, "b": {}}
        for key, company in (("a", cls.company_a), ("b", cls.company_b)):
            backend = cls.env["retail.backend"].create(
                {
                    "name": f"Shop {key.upper()}",
                    "platform": "testshop",
                    "company_id": company.id,
                    "base_url": "http://127.0.0.1:9",
                }
            )
            event, _ = cls.env["retail.event"]._ingest(
                backend,
                Delivery(
                    topic="customer/created",
                    dedup_key=f"evt_mc_{key}",
                    subject_key=f"customer:mc_{key}",
                    payload=b'{"data": {"id": "cus_mc"}}',
                ),
            )
            partner = cls.env["res.partner"].create(
                {"name": f"Customer {key}", "company_id": company.id}
            )
            binding = cls.env["retail.binding"]._bind(
                backend, partner, f"cus_mc_{key}", external_ref=key
            )
            exception = cls.env["retail.sync.exception"]._open_or_bump(
                backend,
                domain="customer",
                category="validation",
                message=f"Company {key} problem",
                subject_key=f"customer:mc_{key}",
                event=event,
                record=partner,
            )
            event.exception_id = exception
            exchange = cls.env["retail.exchange"].create(
                {
                    "backend_id": backend.id,
                    "company_id": company.id,
                    "operation": f"GetCustomer {key}",
                    "status": 200,
                }
            )
            cls.records[key] = {
                "retail.backend": backend,
                "retail.sync.policy": backend.policy_ids,
                "retail.event": event,
                "retail.sync.exception": exception,
                "retail.exchange": exchange,
                "retail.binding": binding,
            }

    def test_search_and_read_group_show_only_company_a(self):
        for model in MODELS:
            with self.subTest(model=model):
                ours = self.records["a"][model]
                theirs = self.records["b"][model]
                found = self.env[model].with_user(self.user).search([])
                self.assertTrue(ours <= found, f"{model}: A's records visible")
                self.assertFalse(found & theirs, f"{model}: B's records leak")
                groups = (
                    self.env[model]
                    .with_user(self.user)
                    .read_group([], ["id:count"], ["company_id"])
                )
                companies = {g["company_id"][0] for g in groups if g["company_id"]}
                self.assertNotIn(self.company_b.id, companies, model)

    def test_read_and_export_of_company_b_refused(self):
        for model in MODELS:
            theirs = self.records["b"][model].with_user(self.user)
            with self.subTest(model=model, way="read"):
                with self.assertRaises(AccessError):
                    theirs.read(["display_name"])
            with self.subTest(model=model, way="export"):
                with self.assertRaises(AccessError):
                    theirs.export_data(["id", "display_name"])

    def test_actions_on_company_b_refused(self):
        theirs = {m: r.with_user(self.user) for m, r in self.records["b"].items()}
        actions = [
            theirs["retail.backend"].action_view_events,
            theirs["retail.backend"].action_view_exceptions,
            theirs["retail.event"].action_open_record,
            theirs["retail.event"].action_open_event,
            theirs["retail.binding"].action_open_record,
            theirs["retail.sync.exception"].action_take,
            theirs["retail.sync.exception"].action_retry,
            theirs["retail.sync.exception"].action_resolve,
            theirs["retail.sync.exception"].action_ignore,
            theirs["retail.sync.exception"].action_open_record,
            theirs["retail.sync.exception"].action_view_events,
        ]
        for action in actions:
            with self.subTest(action=action.__name__, model=action.__self__._name):
                with self.assertRaises(AccessError):
                    action()
        # and the same actions on company A's records work
        ours = self.records["a"]["retail.sync.exception"].with_user(self.user)
        ours.action_take()
        self.assertEqual(ours.state, "in_progress")
