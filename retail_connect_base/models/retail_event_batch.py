"""Several events per job, one confirmation per batch, reservation in its own step.

Issue 8's levers (bench/README.md, "where the time goes now"):

- **batch**: the job of an event whose topic its platform declares batchable
  (``retail.backend._event_batch_topics``) also applies up to
  ``event_batch_size - 1`` other queued events of its backend whose jobs are
  still pending. Each runs as it would in its own job (``_job_process``: its
  own savepoint, its own job uuid in the context, so its own idempotency keys,
  attempt count, outcome and sync exception). A sibling whose failure is worth
  a retry (a throttle, a concurrency error) is rolled back and left to its own
  job, which retries it; one bad order never blocks the others.
- **one confirmation**: the sale orders the batch imported are confirmed by one
  ``action_confirm`` (procurement once per batch); if it fails, order by order,
  so the failure lands on its own event.
- **reservation without contention**: the moves those confirmations would
  reserve are reserved by a job of their own (``_job_reserve_moves``) that
  holds the company's reservation lock from before its first read (the job
  runner's controller, ``controllers/jobs.py``): order jobs run in parallel
  without ever writing the same ``stock_quant`` rows.
"""

import logging
import zlib

from psycopg2 import OperationalError

from odoo import fields, models
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.queue_job.exception import RetryableJobError

from .retail_event import FINAL

_logger = logging.getLogger(__name__)

BATCH = "retail_connect_batch"  # cursor cache: the running batch's deferred work
# moves one reservation job reserves (``_job_reserve_moves``): seconds of work
RESERVE_CHUNK = 200
# first key of the advisory locks the job controller takes before a job's
# transaction (two-int form; ``_lock_external`` uses the backend id there)
LOCK_NAMESPACE = 0x52430001


def lock_key(text):
    """The 32-bit key of a lock name (a collision only serializes more)."""
    return zlib.crc32(text.encode()) - 2**31


def _retryable(err):
    return isinstance(err, RetryableJobError) or (
        isinstance(err, OperationalError)
        and err.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY
    )


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    event_batch_size = fields.Integer(
        "Events per job",
        default=10,
        help="A job applies up to this many queued events of this backend "
        "(of the topics the platform batches: orders), each in its own "
        "savepoint with its own outcome, and confirms their sale orders in "
        "one call. 1: one event per job.",
    )

    _sql_constraints = [
        (
            "event_batch_size_positive",
            "CHECK(event_batch_size > 0)",
            "A job applies at least one event.",
        )
    ]

    def _event_batch_topics(self):
        """Topics whose events may share a job (platforms opt in)."""
        return ()

    def _confirm_imported(self, orders):
        """Confirm imported sale orders now, or with the running batch's.

        Inside a batch (``retail.event._job_process``) the orders are confirmed
        after the batch's events, all in one ``action_confirm``, their stock
        reserved by a job of its own; elsewhere, now.
        """
        batch = self.env.cr.cache.get(BATCH)
        if batch is None or not batch.get("event"):
            return orders.action_confirm()
        batch["confirm"].setdefault(batch["event"], []).append(orders)
        return True

    def _reserve_later(self):
        """Queue the reservation of the moves flagged for it: one job per batch
        (never coalesced with one already queued, which might start before
        this batch commits); each reserves every flagged move, so a later
        one often finds nothing left."""
        self.ensure_one()
        return self.with_delay(
            channel=self._channel("realtime"),
            priority=5,  # ahead of the order jobs still queued
            description=self.env._(
                "%(company)s: reserve the stock of imported orders",
                company=self.company_id.name,
            ),
            max_retries=self.job_max_retries,
        )._job_reserve_moves()

    def _job_lock_keys(self, method_name):
        """Advisory locks the job controller holds from before the job's first
        read (``controllers/jobs.py``): reservations of a company one at a time,
        each on a snapshot that sees the previous one's."""
        if method_name == "_job_reserve_moves":
            return [f"reserve:{self.company_id.id}"]
        return []

    def _job_reserve_moves(self):
        """Reserve the moves whose reservation imported orders deferred: at
        most ``RESERVE_CHUNK`` of them, the oldest first, then queue the next
        job while more wait. One job per backlog of any size would outgrow
        the worker's time limit after a long burst, be killed, and come back
        with a bigger backlog: reservation would never catch up."""
        self.ensure_one()

        def reserve():
            moves = (
                self.env["stock.move"]
                .sudo()
                .search(
                    [
                        ("retail_reserve_pending", "=", True),
                        ("company_id", "=", self.company_id.id),
                    ],
                    order="id",
                    limit=RESERVE_CHUNK + 1,
                )
            )
            if not moves:
                return "nothing to reserve"
            more = len(moves) > RESERVE_CHUNK
            moves = moves[:RESERVE_CHUNK]
            if more:
                self._reserve_later()
            self.env.cr.execute(
                "UPDATE stock_move SET retail_reserve_pending = NULL WHERE id IN %s",
                (tuple(moves.ids),),
            )
            moves.invalidate_recordset(["retail_reserve_pending"])
            moves = moves.filtered(
                lambda m: m.state in ("confirmed", "partially_available", "waiting")
            )
            moves._action_assign()
            left = ", more queued" if more else ""
            return f"{len(moves)} move(s) reserved{left}"

        return self._run_outbound(False, "stock:reserve", reserve)


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _retail_sellable_qty(self):
        """What a channel may offer of this product: Odoo's free quantity (in
        the context's warehouse or location, as ``free_qty``) minus the demand
        of confirmed moves whose reservation waits for the reservation job.
        Without it, a deferred reservation would leave those units free for
        a few seconds, and a stock push in that window would offer them."""
        self.ensure_one()
        free = self.free_qty
        domain = [
            ("product_id", "=", self.id),
            ("retail_reserve_pending", "=", True),
            ("state", "in", ("confirmed", "partially_available", "waiting")),
        ]
        warehouse = self.env.context.get("warehouse_id")
        location = self.env.context.get("location")
        if warehouse:
            view = self.env["stock.warehouse"].browse(warehouse).view_location_id
            domain.append(("location_id", "child_of", view.id))
        elif isinstance(location, int):
            domain.append(("location_id", "child_of", location))
        moves = self.env["stock.move"].sudo().search(domain)
        pending = sum(
            move.product_qty - move.quantity for move in moves if move.product_qty
        )
        return free - max(0.0, pending)


class StockMove(models.Model):
    _inherit = "stock.move"

    retail_reserve_pending = fields.Boolean(
        readonly=True,
        copy=False,
        help="Its reservation was deferred to the reservation job of imported "
        "orders (Retail Connect).",
    )

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS stock_move_retail_reserve_pending_idx "
            "ON stock_move (company_id) WHERE retail_reserve_pending"
        )

    def _action_assign(self, force_qty=False):
        batch = self.env.cr.cache.get(BATCH)
        if batch is not None and self.env.context.get("retail_defer_reservation"):
            if self.ids:
                self.flush_recordset()
                self.env.cr.execute(
                    "UPDATE stock_move SET retail_reserve_pending = true "
                    "WHERE id IN %s",
                    (tuple(self.ids),),
                )
                self.invalidate_recordset(["retail_reserve_pending"])
                batch["reserve"].update(self.ids)
            return True
        return super()._action_assign(force_qty=force_qty)


class RetailEvent(models.Model):
    _inherit = "retail.event"

    def _job_lock_keys(self, method_name):
        """Events of one subject (an order, a PaymentIntent) one at a time,
        each on a snapshot taken after the previous one committed: the second
        sees the first's binding instead of racing it (controllers/jobs.py).
        Dispatchers one at a time too: two at once (the webhooks of a burst
        each store one while the last one runs) would lock the same received
        events, and the later snapshot's lock fails with a serialization
        error, postponing the dispatch by seconds while workers idle."""
        if method_name == "_job_dispatch":
            return ["dispatch"]
        if method_name != "_job_process":
            return []
        return [
            f"subject:{event.backend_id.id}:{event.subject_key}"
            for event in self
            if event.subject_key
        ]

    def _job_process(self):
        cr = self.env.cr
        if (
            len(self) != 1
            or cr.cache.get(BATCH) is not None
            or not self.exists()
            or self.state in FINAL
            or self.backend_id.state != "active"
            or self.topic not in self.backend_id._event_batch_topics()
            # shadow mode (retail_shadow.py) compares one import at a time,
            # confirmation included, and rolls it back: never in a batch
            or self.backend_id._shadow_for(self.domain)
        ):
            return super()._job_process()
        batch = cr.cache[BATCH] = {"event": self.id, "confirm": {}, "reserve": set()}
        try:
            result = super()._job_process()
            if self.state != "done":
                batch["confirm"].pop(self.id, None)
            siblings = self._batch_claim()
            done = {}
            for sibling in siblings:
                outcome = sibling._batch_apply(batch)
                if outcome is not None:
                    done[sibling] = outcome
            batch["event"] = None
            self._batch_confirm(batch, done)
            for sibling, outcome in done.items():
                cr.execute(
                    "UPDATE queue_job SET state = 'done', date_done = "
                    "now() at time zone 'utc', result = %s WHERE uuid = %s",
                    (
                        self.env._(
                            "%(outcome)s (in the batch of event %(event)s)",
                            outcome=outcome,
                            event=self.id,
                        ),
                        sibling.job_uuid,
                    ),
                )
            if batch["reserve"]:
                self.backend_id._reserve_later()
        finally:
            cr.cache.pop(BATCH, None)
        if self.state not in FINAL:
            result = f"{self.state}: {self.error}"
        if done:
            result = self.env._(
                "%(result)s; and %(n)s more event(s) of the batch",
                result=result,
                n=len(done),
            )
        return result

    def _batch_claim(self):
        """Queued events of the same backend, topic class and traffic whose jobs
        are pending and due, one per subject and none of this one's, newest
        first (the runner starts the oldest): their job rows locked, skipping
        those another worker holds."""
        backend = self.backend_id
        size = backend.event_batch_size - 1
        if size < 1:
            return self.browse()
        cr = self.env.cr
        cr.execute(
            """
            SELECT e.id, e.subject_key, e.job_uuid
              FROM retail_event e
              JOIN queue_job j ON j.uuid = e.job_uuid
             WHERE e.backend_id = %s AND e.state = 'queued' AND e.id != %s
               AND e.traffic = %s AND e.topic IN %s
               AND j.state = 'pending'
               AND (j.eta IS NULL OR j.eta <= now() at time zone 'utc')
             ORDER BY e.id DESC
             LIMIT %s
            """,
            (
                backend.id,
                self.id,
                self.traffic,
                tuple(backend._event_batch_topics()),
                size * 3,
            ),
        )
        subjects = {self.subject_key}
        claimed = []
        for event_id, subject, job_uuid in cr.fetchall():
            if len(claimed) >= size:
                break
            if subject and subject in subjects:
                continue
            if subject:
                # the subject lock another job holds (controllers/jobs.py)
                cr.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)",
                    (LOCK_NAMESPACE, lock_key(f"subject:{backend.id}:{subject}")),
                )
                if not cr.fetchone()[0]:
                    continue
            if not self._batch_lock_job(job_uuid):
                continue
            subjects.add(subject)
            claimed.append(event_id)
        return self.browse(claimed)

    def _batch_lock_job(self, job_uuid):
        """Lock a sibling's job row if it is still pending; False when another
        worker holds it, or when the runner enqueued it since this job's
        snapshot (under REPEATABLE READ, locking a row changed since raises a
        serialization failure: that sibling is about to run on its own, and
        the failure must not cost this batch a retry)."""
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    "SELECT 1 FROM queue_job WHERE uuid = %s AND state = 'pending' "
                    "FOR UPDATE SKIP LOCKED",
                    (job_uuid,),
                )
                return bool(cr.fetchone())
        except OperationalError as err:
            if err.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise
            return False

    def _batch_apply(self, batch):
        """Apply a claimed sibling as its own job would; return its outcome, or
        None when it is left to its own job (a failure worth a retry)."""
        batch["event"] = self.id
        before = set(batch["reserve"])
        try:
            with self.env.cr.savepoint():
                outcome = self.with_context(job_uuid=self.job_uuid)._job_process()
        except Exception as err:  # noqa: BLE001 - only retries get here
            if not _retryable(err):
                raise
            _logger.info("event %s left to its own job: %s", self.id, err)
            batch["confirm"].pop(self.id, None)
            batch["reserve"] = before
            return None
        finally:
            batch["event"] = None
        if self.state != "done":
            batch["confirm"].pop(self.id, None)
        return outcome

    def _batch_confirm(self, batch, done):
        """Confirm the batch's orders in one call; else order by order, each
        failure on its own event (the job's own event raises a retry: the
        whole batch is retried, the siblings' jobs are still pending)."""
        groups = {
            event_id: self.env["sale.order"].concat(*orders)
            for event_id, orders in batch["confirm"].items()
        }
        if not groups:
            return
        todo = self.env["sale.order"].concat(*groups.values())
        # the platform's context (no tracking on import...), as the orders
        # came (``concat`` gives them ours: each order tracked its state,
        # a message and ~10 queries per order)
        platform = next(iter(batch["confirm"].values()))[0].env.context
        context = dict(
            platform,
            job_uuid=self.env.context.get("job_uuid"),
            retail_defer_reservation=True,
        )
        before = set(batch["reserve"])
        try:
            with self.env.cr.savepoint():
                todo.with_context(context).filtered(
                    lambda s: s.state in ("draft", "sent")
                ).action_confirm()
            return
        except Exception as err:  # noqa: BLE001 - order by order below
            _logger.info("batch confirmation failed (%s): order by order", err)
            batch["reserve"] = before
        for event in self.browse(list(groups)):
            orders = groups[event.id]
            before = set(batch["reserve"])
            try:
                with self.env.cr.savepoint():
                    orders.with_context(context).filtered(
                        lambda s: s.state in ("draft", "sent")
                    ).action_confirm()
            except Exception as err:  # noqa: BLE001 - classified
                batch["reserve"] = before
                event._batch_confirm_failed(err, done)

    def _batch_confirm_failed(self, err, done):
        """The order of this event could not be confirmed: its own outcome."""
        backend = self.backend_id.with_context(job_uuid=self.job_uuid)
        try:
            failure, dead = backend._job_failure(err)
        except Exception:  # noqa: BLE001 - a retry
            if self not in done:
                raise  # the job's own event: the job is retried
            # a sibling: back in the queue, its own job retries it
            done.pop(self)
            self.write({"state": "queued", "processed_at": False})
            return
        self._fail(failure, state="dead" if dead else "failed")
        if self in done:
            done[self] = f"failed: {failure.message}"
