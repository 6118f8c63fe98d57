"""Back-pressure, through real HTTP and SFTP to the 3PL sandbox and real queue
jobs: while the 3PL is down or throttling, shipping orders wait in order in
their backend's channel; nothing is lost, a delivery cancelled meanwhile is
never shipped, the backlog shows and opens one exception past the latency
objective, and everything drains in order once the 3PL answers."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ThreeplCase, WarehouseError, floor, new_key, run_jobs

BACKLOG = "threepl:backlog"


class BackpressureMixin:
    def shipped_refs(self):
        """The 3PL's orders, in the order it received them."""
        return [o["reference_id"] for o in self.sandbox.warehouse.orders.values()]

    def age(self, messages, minutes):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE threepl_message SET create_date = create_date - %s WHERE id IN %s",
            (timedelta(minutes=minutes), tuple(messages.ids)),
        )
        self.env.invalidate_all()

    def check_outage_drains_in_order(self):
        clock = self.sandbox.clock
        self.sandbox.add_outage(clock.now(), clock.now() + 10 * 60)
        pickings = [self.sell((self.mug, 1)) for _ in range(5)]
        run_jobs(self.env, rounds=6)  # the oldest uses up its 3 tries
        self.assertFalse(self.sandbox.warehouse.orders)
        orders = self.messages()
        self.assertEqual(set(orders.mapped("state")), {"draft"}, "none dropped")
        self.assertEqual(self.backend.threepl_backlog_count, 5)
        (gave_up,) = self.open_exceptions(f"order:{pickings[0].name}")
        self.assertIn("Gave up after 3 attempts", gave_up.message)
        # cancelled while its order waits: it must never reach the 3PL
        cancelled = pickings[2]
        cancelled.action_cancel()
        # the oldest waits longer than the policy's objective (5 min)
        self.age(orders, minutes=8)
        self.assertGreaterEqual(self.backend.threepl_backlog_age_minutes, 8)
        # the live overview and the metrics show the provider's backlog
        figures = {
            f["metric"]: f["value"]
            for f in self.backend._watch_platform_figures()[self.backend.id]
        }
        self.assertEqual(figures["threepl_backlog_messages"], 6)  # and the cancel
        self.assertGreaterEqual(figures["threepl_backlog_oldest_seconds"], 8 * 60)
        self.backend._cron_threepl_backlog()
        (backlog,) = self.open_exceptions(BACKLOG)
        self.assertIn("6 message(s) wait", backlog.message)  # and the cancel
        run_jobs(self.env, rounds=6)  # the cron queued the oldest again
        self.backend._cron_threepl_backlog()
        self.assertEqual(self.open_exceptions(BACKLOG), backlog, "bumped, not doubled")
        self.assertEqual(backlog.count, 2)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.health, "error")
        self.assertIn("wait to be sent to the 3PL", self.backend.health_message)
        self.assertFalse(self.sandbox.warehouse.orders)
        # ten minutes later the 3PL answers again
        clock.advance(10 * 60)
        self.backend._cron_threepl_backlog()
        run_jobs(self.env, rounds=12)
        self.assertEqual(
            self.shipped_refs(), [p.name for p in pickings if p != cancelled]
        )
        self.assertFalse(self.messages(state="draft"))
        self.assertEqual(self.backend.threepl_backlog_count, 0)
        self.assertEqual(backlog.state, "resolved")
        self.assertFalse(self.open_exceptions(f"order:{pickings[0].name}"))
        with self.assertRaises(WarehouseError):
            floor.ship(self.sandbox, cancelled.name)
        self.backend.invalidate_recordset()
        self.assertNotIn("wait to be sent", self.backend.health_message or "")


@tagged("post_install", "-at_install")
class TestBackpressureRest(BackpressureMixin, ThreeplCase):
    def test_an_outage_during_a_burst_loses_nothing_and_drains_in_order(self):
        self.check_outage_drains_in_order()

    def test_a_429_holds_the_channel_for_the_time_it_names(self):
        self.sandbox.inject_fault("throttle", seconds=30, path="/2026-07/order")
        first, second = self.sell((self.mug, 1)), self.sell((self.tee, 1))
        head, follower = run_jobs(self.env)
        self.assertEqual(head.state, "pending")
        self.assertEqual(head.retry, 0, "a throttle uses up no retry")
        wait = (head.eta - fields.Datetime.now()).total_seconds()
        self.assertTrue(25 <= wait <= 31, f"retried in {wait}s, not after 30s")
        # the later order does not overtake the waiting one
        self.assertIn("waits behind", follower.result)
        self.assertFalse(self.sandbox.warehouse.orders)
        run_jobs(self.env, rounds=3)
        self.assertEqual(self.shipped_refs(), [first.name, second.name])
        self.assertEqual(
            set(self.messages().mapped("state")), {"acknowledged"}, "both sent once"
        )

    def test_a_refused_order_does_not_hold_the_others_back(self):
        self.mug.default_code = False  # the 3PL knows products by SKU
        refused = self.sell((self.mug, 1))
        other = self.sell((self.tee, 1))
        run_jobs(self.env, rounds=3)
        self.assertEqual(self.messages()[0].state, "error")
        self.assertEqual(self.shipped_refs(), [other.name])
        self.assertTrue(self.open_exceptions(f"order:{refused.name}"))
        self.assertEqual(self.backend.threepl_backlog_count, 0)


@tagged("post_install", "-at_install")
class TestBackpressureSftp(BackpressureMixin, ThreeplCase):
    sftp = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        info = cls.sandbox.sftp.info()
        private, cls.public_key = new_key()
        cls.backend.write(
            {
                "threepl_transport": "sftp",
                "threepl_sftp_host": info["host"],
                "threepl_sftp_port": info["port"],
                "threepl_sftp_user": info["username"],
                "threepl_sftp_host_key": info["known_hosts"],
                "threepl_sftp_private_key": private,
            }
        )

    def setUp(self):
        super().setUp()
        self.sandbox.sftp.authorize(self.public_key)

    def test_an_outage_during_a_burst_loses_nothing_and_drains_in_order(self):
        self.check_outage_drains_in_order()
