from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.retail_connect_base.models import retail_event_batch

from .common import ShopifyCase, dispatch, run_job, run_jobs


@tagged("post_install", "-at_install")
class TestOrderBatches(ShopifyCase):
    """Several order events per job (retail_event_batch.py, issue 8): each its
    own outcome, exception and retry; one confirmation; reservation after."""

    def events(self):
        return self.Event.search([("backend_id", "=", self.backend.id)], order="id")

    def job(self, event):
        return self.env["queue.job"].search([("uuid", "=", event.job_uuid)])

    def three_orders(self, bad_sku="NEW-SKU-9"):
        self.backend.event_batch_size = 10
        good = self.new_order(lines=[{"sku": "TSHIRT-001", "quantity": 2}])
        bad = self.new_order(lines=[{"sku": bad_sku, "quantity": 1, "price": "5.00"}])
        other = self.new_order(lines=[{"sku": "MUG-002", "quantity": 3}])
        for order in (good, bad, other):
            self.sandbox.emit("orders/create", order["id"])
        dispatch(self.env)  # the webhooks stored them; the dispatcher queues them
        events = self.events()
        self.assertEqual(len(events), 3)
        self.assertEqual(set(events.mapped("state")), {"queued"})
        return (good, bad, other), events

    def test_one_bad_order_never_blocks_the_others_of_its_batch(self):
        (good, bad, other), events = self.three_orders()
        first = events[0]
        run_job(self.env, first.job_uuid)
        # one job applied the three events
        sales = self.sale_orders()
        self.assertEqual(
            sorted(sales.mapped("client_order_ref")),
            sorted([good["name"], other["name"]]),
        )
        self.assertEqual(set(sales.mapped("state")), {"sale"}, "confirmed")
        done = events.filtered(lambda e: e.state == "done")
        self.assertEqual(len(done), 2)
        failed = events - done
        self.assertEqual(failed.state, "failed")
        self.assertEqual(failed.exception_id.category, "mapping")
        self.assertEqual(failed.exception_id.fix_data["sku"], "NEW-SKU-9")
        self.assertEqual(failed.exception_id.subject_key, failed.subject_key)
        for event in events[1:]:
            job = self.job(event)
            self.assertEqual(job.state, "done", "applied in the batch")
            self.assertFalse(job.date_started, "its own job never ran")
        self.assertIn("failed", self.job(failed).result)
        # the stock is reserved by a job of its own, after the batch
        pickings = sales.picking_ids
        self.assertEqual(set(pickings.mapped("state")), {"confirmed"})
        reserve = self.env["queue.job"].search(
            [("method_name", "=", "_job_reserve_moves"), ("state", "=", "pending")]
        )
        self.assertEqual(len(reserve), 1)
        self.assertLess(
            reserve.priority,
            self.job(events[0]).priority,
            "runs as soon as a worker is free, not after every queued order",
        )
        # until it runs, the channels already count the ordered units as sold
        tshirt = self.products["TSHIRT-001"].with_context(
            warehouse_id=self.warehouse.id
        )
        self.assertEqual(tshirt.free_qty, 50, "not reserved yet")
        self.assertEqual(tshirt._retail_sellable_qty(), 48)
        run_job(self.env, reserve.uuid)
        self.assertEqual(set(pickings.mapped("state")), {"assigned"})
        tshirt.invalidate_recordset()
        self.assertEqual(tshirt.free_qty, 48)
        self.assertEqual(tshirt._retail_sellable_qty(), 48, "never counted twice")
        # the bad order's own retry, once its SKU is mapped
        product = self.env["product.product"].create(
            {"name": "New", "type": "consu", "taxes_id": [(6, 0, self.tax.ids)]}
        )
        self.env["shopify.map.sku"].create(
            {"exception_id": failed.exception_id.id, "product_id": product.id}
        ).action_map_and_retry()
        run_jobs(self.env, rounds=3)
        self.assertEqual(failed.state, "done", failed.error)
        self.assertEqual(len(self.sale_orders()), 3)
        self.assertEqual(set(self.sale_orders().mapped("state")), {"sale"})

    def test_a_batch_confirms_its_orders_with_the_import_context(self):
        """The batch's one confirmation runs in the context the platform
        imported the orders with, as an order confirmed alone: no tracking
        message on each order (a message and ~10 queries per order)."""
        self.backend.event_batch_size = 10
        for sku in ("TSHIRT-001", "MUG-002"):
            order = self.new_order(lines=[{"sku": sku, "quantity": 1}])
            self.sandbox.emit("orders/create", order["id"])
        dispatch(self.env)
        # a job's environment tracks changes unless told not to
        tracked = self.env(context=dict(self.env.context, tracking_disable=False))
        run_job(tracked, self.events()[0].job_uuid)
        sales = self.sale_orders()
        self.assertEqual(len(sales), 2)
        self.assertEqual(set(sales.mapped("state")), {"sale"})
        self.assertFalse(sales.message_ids.tracking_value_ids)

    def test_a_sibling_worth_a_retry_is_left_to_its_own_job(self):
        (good, bad, other), events = self.three_orders()
        # the batch's second read of an order (the newest event's) gets a 502
        self.sandbox.inject_fault("status", status=502, operation="OrderById", skip=1)
        run_job(self.env, events[0].job_uuid)
        newest = events[2]
        self.assertEqual(newest.state, "queued", "rolled back, not failed")
        self.assertFalse(newest.exception_id)
        job = self.job(newest)
        self.assertEqual(job.state, "pending", "its own job retries it")
        self.assertEqual(job.retry, 0)
        self.assertEqual(events[0].state, "done")
        self.assertEqual(events[1].state, "failed", "the bad one, on its own")
        run_job(self.env, newest.job_uuid)
        self.assertEqual(newest.state, "done", newest.error)
        sales = self.sale_orders()
        self.assertEqual(
            sorted(sales.mapped("client_order_ref")),
            sorted([good["name"], other["name"]]),
        )
        self.assertEqual(set(sales.mapped("state")), {"sale"})

    def test_a_sibling_enqueued_meanwhile_costs_the_batch_no_retry(self):
        """The runner may enqueue a sibling's job after the batch's snapshot:
        locking that row then fails with a serialization error (REPEATABLE
        READ). The sibling is left to its own job; the batch goes on, and is
        not retried for it (a retry redoes every order of the batch)."""
        (good, bad, other), events = self.three_orders()
        newest = events[2]
        cr = self.env.cr
        execute = cr.execute

        def enqueued_meanwhile(query, params=None, log_exceptions=True):
            if (
                "FROM queue_job WHERE uuid" in str(query)
                and params
                and (newest.job_uuid in params)
            ):
                # what PostgreSQL answers for a row updated since the snapshot
                query, params = (
                    "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access due "
                    "to concurrent update' USING ERRCODE = 'serialization_failure';"
                    " END $$",
                    None,
                )
            return execute(query, params, log_exceptions)

        with patch.object(cr, "execute", enqueued_meanwhile):
            job = run_job(self.env, events[0].job_uuid)
        self.assertEqual(job.state, "done", job.exc_info)
        self.assertEqual(job.retry, 1, "done at its first attempt")
        self.assertEqual(events[0].state, "done")
        self.assertEqual(events[1].state, "failed", "the bad one, in the batch")
        self.assertEqual(newest.state, "queued", "left to its own job")
        self.assertEqual(self.job(newest).state, "pending")
        run_job(self.env, newest.job_uuid)
        self.assertEqual(newest.state, "done", newest.error)
        self.assertEqual(
            sorted(self.sale_orders().mapped("client_order_ref")),
            sorted([good["name"], other["name"]]),
        )

    def test_a_confirmation_refused_lands_on_its_own_order(self):
        (good, bad, other), events = self.three_orders(bad_sku="MUG-002")
        mug = self.products["MUG-002"]
        original = type(self.env["sale.order"]).action_confirm

        def refuse_mugs(orders):
            if mug in orders.order_line.product_id:
                raise UserError(self.env._("mugs are out of season"))
            return original(orders)

        self.patch(type(self.env["sale.order"]), "action_confirm", refuse_mugs)
        run_job(self.env, events[0].job_uuid)
        good_sale = self.sale_orders().filtered(
            lambda s: s.client_order_ref == good["name"]
        )
        self.assertEqual(good_sale.state, "sale", "confirmed despite the others")
        refused = events[1:]
        self.assertEqual(set(refused.mapped("state")), {"failed"})
        self.assertIn("mugs are out of season", refused[0].error)
        self.assertEqual(len(refused.exception_id), 2, "one exception per order")
        self.assertEqual(events[0].state, "done")

    def test_batch_size_one_applies_one_event_per_job(self):
        (good, bad, other), events = self.three_orders()
        self.backend.event_batch_size = 1
        run_job(self.env, events[0].job_uuid)
        self.assertEqual(events[0].state, "done")
        self.assertEqual(set(events[1:].mapped("state")), {"queued"})
        self.assertEqual(set(self.job(events[1]).mapped("state")), {"pending"})

    def test_a_long_backlog_is_reserved_in_chunks_every_move_once(self):
        """After a long burst the moves waiting for reservation outnumber what
        one job can reserve within a worker's time limit: each job reserves a
        chunk, the oldest first, and queues the next while more wait."""
        (good, bad, other), events = self.three_orders()
        run_job(self.env, events[0].job_uuid)
        pickings = self.sale_orders().picking_ids
        moves = pickings.move_ids
        self.assertEqual(len(moves), 2, "a T-shirt line and a mug line")

        def reserve_jobs():
            return self.env["queue.job"].search(
                [("method_name", "=", "_job_reserve_moves"), ("state", "=", "pending")]
            )

        with patch.object(retail_event_batch, "RESERVE_CHUNK", 1):
            first = reserve_jobs()
            self.assertEqual(len(first), 1)
            run_job(self.env, first.uuid)
            self.assertEqual(
                sorted(moves.mapped("state")),
                ["assigned", "confirmed"],
                "one move of the chunk reserved, the other still waiting",
            )
            second = reserve_jobs()
            self.assertEqual(len(second), 1, "the next chunk queued")
            run_job(self.env, second.uuid)
        self.assertEqual(set(moves.mapped("state")), {"assigned"})
        self.assertEqual(set(pickings.mapped("state")), {"assigned"})
        self.assertFalse(reserve_jobs(), "nothing left: no further job")
        tshirt = self.products["TSHIRT-001"].with_context(
            warehouse_id=self.warehouse.id
        )
        self.assertEqual(tshirt._retail_sellable_qty(), 48, "reserved once")
