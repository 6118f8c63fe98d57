from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.retail_connect_base.lib.errors import SyncError
from odoo.addons.retail_connect_base.lib.http import Exchange
from odoo.addons.retail_connect_base.models import retail_retention

SETTLED = (
    "done",
    "skipped_duplicate",
    "skipped_stale",
    "skipped_policy",
    "dead",
)


@tagged("post_install", "-at_install")
class TestRetention(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.backend = cls.env["retail.backend"].create(
            {"name": "Kept 30 days", "platform": "testshop"}
        )
        cls.longer = cls.env["retail.backend"].create(
            {
                "name": "Kept 60 days",
                "platform": "testshop",
                "payload_retention_days": 60,
            }
        )
        cls.Event = cls.env["retail.event"]
        cls.Exception = cls.env["retail.sync.exception"]
        cls.n = 0

    def _ago(self, days):
        return fields.Datetime.now() - timedelta(days=days)

    def event(self, state, days, backend=None, exception=None):
        backend = backend or self.backend
        type(self).n += 1
        event = self.Event.create(
            {
                "backend_id": backend.id,
                "company_id": backend.company_id.id,
                "topic": "customer/created",
                "dedup_key": f"evt_{self.n}",
                "payload": '{"data": {"email": "old@example.com"}}',
                "state": state,
                "exception_id": exception.id if exception else False,
            }
        )
        event.flush_recordset()
        self.env.cr.execute(
            "UPDATE retail_event SET received_at = %s, processed_at = %s WHERE id = %s",
            (self._ago(days + 1), self._ago(days), event.id),
        )
        event.invalidate_recordset()
        return event

    def exception(self, state, days, backend=None):
        type(self).n += 1
        exception = self.Exception._open_or_bump(
            backend or self.backend,
            domain="customer",
            category="validation",
            message=f"Customer {self.n} has no valid e-mail",
            subject_key=f"customer:{self.n}",  # one exception each, none bumped
        )
        exception.message_post(body="Looked at it.")
        if state != "new":
            exception.flush_recordset()
            self.env.cr.execute(
                "UPDATE retail_sync_exception SET state = %s, resolved_at = %s "
                "WHERE id = %s",
                (state, self._ago(days), exception.id),
            )
            exception.invalidate_recordset()
        return exception

    def test_payloads_are_purged_in_every_final_state(self):
        old = {state: self.event(state, 31) for state in SETTLED}
        resolved = self.event("failed", 40, exception=self.exception("resolved", 31))
        ignored = self.event("failed", 40, exception=self.exception("ignored", 31))
        kept = {
            "recent": self.event("done", 29),
            "resolved lately": self.event(
                "failed", 40, exception=self.exception("resolved", 5)
            ),
            "open exception": self.event(
                "failed", 40, exception=self.exception("new", 0)
            ),
            "queued": self.event("queued", 40),
            "received": self.event("received", 40),
            "longer retention": self.event("done", 40, backend=self.longer),
        }
        self.env["retail.backend"]._cron_retention()
        for event in [*old.values(), resolved, ignored]:
            self.assertFalse(event.payload, event.state)
            self.assertTrue(event.payload_purged)
        for why, event in kept.items():
            self.assertTrue(event.payload, why)
            self.assertFalse(event.payload_purged, why)
        with self.assertRaisesRegex(SyncError, "purged"):
            old["dead"]._data()
        with self.assertRaisesRegex(UserError, "nothing to replay"):
            old["dead"].action_replay()

    def test_old_events_exchanges_and_closed_exceptions_are_deleted(self):
        gone_exception = self.exception("resolved", 200)
        old_events = [self.event(s, 91) for s in SETTLED] + [
            self.event("failed", 300, exception=gone_exception)
        ]
        pinned = self.exception("ignored", 200)
        pinning = self.event("failed", 300, exception=pinned)
        self.env.cr.execute(
            "UPDATE retail_sync_exception SET resolved_at = %s WHERE id = %s",
            (self._ago(10), pinned.id),
        )  # ignored lately: its event stays, and so does it
        kept_events = [
            self.event("done", 80),
            self.event("failed", 300, exception=self.exception("new", 0)),
            self.event("received", 300),
            pinning,
        ]
        lonely = self.exception("resolved", 200)
        recent = self.exception("resolved", 100)
        for days in (31, 29):
            self.env["retail.exchange"]._record(
                self.backend, Exchange(operation=f"call {days}", method="GET", url="/")
            )
            self.env.cr.execute(
                "UPDATE retail_exchange SET create_date = %s "
                "WHERE operation = %s AND backend_id = %s",
                (self._ago(days), f"call {days}", self.backend.id),
            )
        messages = self.env["mail.message"].search(
            [
                ("model", "=", "retail.sync.exception"),
                ("res_id", "in", [gone_exception.id, lonely.id]),
            ]
        )
        self.assertTrue(messages)
        self.env["retail.backend"]._cron_retention()
        self.assertFalse(self.Event.browse([e.id for e in old_events]).exists())
        self.assertEqual(
            self.Event.browse([e.id for e in kept_events]).exists().ids,
            [e.id for e in kept_events],
        )
        self.assertFalse((gone_exception | lonely).exists())
        self.assertFalse(messages.exists(), "their chatter went with them")
        self.assertEqual((pinned | recent).exists(), pinned | recent)
        logged = self.env["retail.exchange"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(logged.mapped("operation"), ["call 29"])

    def test_deletion_runs_in_bounded_batches_and_reports_what_is_left(self):
        for _ in range(7):
            self.event("done", 100)
        cron = self.env.ref("retail_connect_base.cron_purge")
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": cron.id, "remaining": 0, "done": 0}
        )
        backends = self.env["retail.backend"].with_context(
            ir_cron_progress_id=progress.id
        )
        statements = []
        execute = type(backends)._retention_execute

        def counting(model, query, params):
            statements.append(params["limit"])
            return execute(model, query, params)

        with (
            patch.object(retail_retention, "BATCH", 2),
            patch.object(retail_retention, "MAX_BATCHES", 2),
            patch.object(type(backends), "_retention_execute", counting),
        ):
            backends._cron_retention()
            self.assertEqual(self._left(), 3, "two statements of two rows")
            self.assertGreater(progress.remaining, 0, "the runner calls again")
            backends._cron_retention()
            backends._cron_retention()
        self.assertEqual(self._left(), 0)
        self.assertEqual(progress.remaining, 0)
        self.assertEqual(set(statements), {2}, "every statement is bounded")

    def shadow(self, days, backend=None):
        type(self).n += 1
        record = self.env["retail.shadow.record"].create(
            {
                "backend_id": (backend or self.backend).id,
                "domain": "customer",
                "kind": "export",
                "change": "send",
                "summary": f"Would update customer {self.n}",
                "request_body": '{"email": "old@example.com"}',
            }
        )
        record.flush_recordset()
        self.env.cr.execute(
            "UPDATE retail_shadow_record SET create_date = %s WHERE id = %s",
            (self._ago(days), record.id),
        )
        record.invalidate_recordset()
        return record

    def test_shadow_records_go_after_their_period_in_bounded_batches(self):
        self.longer.shadow_retention_days = 60
        old = [self.shadow(31) for _ in range(5)]
        kept = [self.shadow(29), self.shadow(40, backend=self.longer)]
        Shadow = self.env["retail.shadow.record"]
        with (
            patch.object(retail_retention, "BATCH", 2),
            patch.object(retail_retention, "MAX_BATCHES", 2),
        ):
            self.env["retail.backend"]._cron_retention()
            left = Shadow.browse([r.id for r in old]).exists()
            self.assertEqual(len(left), 1, "two statements of two rows")
            self.env["retail.backend"]._cron_retention()
        self.assertFalse(Shadow.browse([r.id for r in old]).exists())
        self.assertEqual(
            Shadow.browse([r.id for r in kept]).exists().ids, [r.id for r in kept]
        )

    def _left(self):
        return self.Event.search_count([("backend_id", "=", self.backend.id)])

    def test_periods_are_validated(self):
        with self.assertRaises(ValidationError):
            self.backend.event_retention_days = 3
        with self.assertRaises(ValidationError):
            self.backend.exchange_retention_days = 0
        with self.assertRaises(ValidationError):
            self.backend.shadow_retention_days = 0
