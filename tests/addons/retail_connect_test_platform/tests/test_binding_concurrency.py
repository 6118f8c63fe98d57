import zlib

from psycopg2.errors import SerializationFailure

from odoo import api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.retail_connect_base.lib.errors import TransientError

CUSTOMER = {
    "id": "cus_race",
    "email": "race@example.com",
    "name": "Race",
    "phone": None,
    "updated_at": "2026-11-01T10:00:00Z",
    "version": 1,
}


@tagged("post_install", "-at_install")
class TestBindingConcurrency(TransactionCase):
    """Two workers import the same remote customer at once: one partner results.

    Two real transactions on two cursors, interleaved by hand (Odoo's test
    runner holds the registry lock, so other threads cannot build environments).
    The data is committed, so the test removes what it created.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            backend = env["retail.backend"].create(
                {"name": "Race", "platform": "testshop", "environment": "sandbox"}
            )
            self.backend_id = backend.id
        self.addCleanup(self._cleanup)

    def _env(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            bindings = env["retail.binding"].search(
                [("backend_id", "=", self.backend_id)]
            )
            partners = env["res.partner"].browse(bindings.mapped("res_id"))
            env["retail.backend"].browse(self.backend_id).unlink()
            partners.unlink()

    def _count(self, cr):
        cr.execute(
            "SELECT (SELECT count(*) FROM retail_binding WHERE backend_id = %s), "
            "(SELECT count(*) FROM res_partner WHERE email = %s)",
            (self.backend_id, CUSTOMER["email"]),
        )
        return cr.fetchone()

    def test_two_transactions_import_the_same_customer_once(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            worker_a = self._env(cr_a)["retail.backend"].browse(self.backend_id)
            worker_b = self._env(cr_b)["retail.backend"].browse(self.backend_id)
            # both jobs have started: their snapshots predate any import
            worker_a.name  # noqa: B018
            worker_b.name  # noqa: B018
            partner_a = worker_a._testshop_import_customer(CUSTOMER)
            # while A holds the import lock, B cannot take it
            key = zlib.crc32(b"res.partner:cus_race") - 2**31
            cr_b.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (self.backend_id, key)
            )
            self.assertFalse(cr_b.fetchone()[0], "the import lock serializes workers")
            cr_a.commit()
            # B's snapshot does not see A's binding: PostgreSQL refuses its
            # insert (a serialization failure, which queue_job retries), so the
            # job is retried instead of creating a duplicate
            try:
                with mute_logger("odoo.sql_db"):
                    worker_b._testshop_import_customer(CUSTOMER)
            except (TransientError, SerializationFailure):
                pass
            else:
                self.fail("the second import must not bind the customer again")
            cr_b.rollback()
        with self.registry.cursor() as cr_retry:
            retried = self._env(cr_retry)["retail.backend"].browse(self.backend_id)
            partner_b = retried._testshop_import_customer(CUSTOMER)
            self.assertEqual(partner_b.id, partner_a.id)
        with self.registry.cursor() as cr:
            self.assertEqual(self._count(cr), (1, 1))

    def test_an_order_and_its_lines_are_bound_together_or_not_at_all(self):
        """``_bind_many`` binds several records in one INSERT: when another
        worker bound one of them first, this worker binds none of them (its
        job is retried); the retry binds them all, the other's binding
        updated, never twice."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a, env_b = self._env(cr_a), self._env(cr_b)
            partners = env_a["res.partner"].create(
                [{"name": f"Bound together {n}"} for n in range(3)]
            )
            cr_a.commit()
            backend_b = env_b["retail.backend"].browse(self.backend_id)
            backend_b.name  # noqa: B018 - B's snapshot predates A's binding
            backend_a = env_a["retail.backend"].browse(self.backend_id)
            env_a["retail.binding"]._bind(backend_a, partners[1], "ext-1")
            cr_a.commit()
            items = [
                (partner.with_env(env_b), f"ext-{n}", {"external_ref": f"#{n}"})
                for n, partner in enumerate(partners)
            ]
            try:
                with mute_logger("odoo.sql_db"):
                    env_b["retail.binding"]._bind_many(backend_b, items)
            except (TransientError, SerializationFailure):
                pass
            else:
                self.fail("a record bound meanwhile must make the batch retry")
            cr_b.rollback()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            backend = env["retail.backend"].browse(self.backend_id)
            items = [
                (partner.with_env(env), f"ext-{n}", {"external_ref": f"#{n}"})
                for n, partner in enumerate(partners)
            ]
            bindings = env["retail.binding"]._bind_many(backend, items)
            self.assertEqual(bindings.mapped("res_id"), partners.ids)
            self.assertEqual(bindings.mapped("external_ref"), ["#0", "#1", "#2"])
            again = env["retail.binding"]._bind_many(backend, items)
            self.assertEqual(again, bindings)
            self.assertEqual(
                env["retail.binding"].search_count(
                    [("backend_id", "=", self.backend_id)]
                ),
                3,
            )
