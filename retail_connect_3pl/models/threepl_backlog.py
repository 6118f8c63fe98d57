"""Back-pressure: outbound messages wait, in order, while the 3PL cannot take them.

The backlog of a backend is its outbound messages not sent yet (``draft``),
oldest first. They leave one at a time, in the order they were recorded:

- the job of a message with an older one still waiting sends nothing; it
  makes sure the oldest has its job, and ends (the message keeps its place);
- the job of the oldest sends it; a 3PL down (5xx, timeout, connection
  refused, SFTP unreachable) is retried by queue_job, a 429 after the
  ``x-retry-after`` it names (never using up a retry); once sent (or refused
  for good: an error with its exception does not hold the others back) it
  queues the job of the next one;
- a job that used up its retries opens its exception, and its message stays
  in the backlog: the backlog cron queues it again, so the backlog drains on
  its own once the 3PL answers. A delivery cancelled while its order waits is
  never sent (the shipping order flow checks the delivery when its turn comes).

The backlog (count, age of the oldest) shows on the backend and its health;
one exception (``threepl:backlog``) opens when the oldest message waits
longer than the shipment policy's latency objective, is bumped while it does,
and resolves once the backlog is empty.
"""

from datetime import timedelta

from odoo import api, fields, models

from .retail_backend import PLATFORM

BACKLOG_SUBJECT = "threepl:backlog"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    threepl_backlog_count = fields.Integer(
        "Waiting messages",
        compute="_compute_threepl_backlog",
        help="Outbound messages not sent to the 3PL yet: they go out in order "
        "as soon as it takes them.",
    )
    threepl_backlog_since = fields.Datetime(
        "Oldest waiting since", compute="_compute_threepl_backlog"
    )
    threepl_backlog_age_minutes = fields.Integer(
        "Oldest waiting (min)", compute="_compute_threepl_backlog"
    )

    def _compute_threepl_backlog(self):
        stats = {}
        if self._origin.ids:
            stats = {
                backend.id: (count, oldest)
                for backend, count, oldest in self.env["threepl.message"]
                .sudo()
                ._read_group(
                    self._threepl_backlog_domain(self._origin.ids),
                    ["backend_id"],
                    ["__count", "create_date:min"],
                )
            }
        now = fields.Datetime.now()
        for backend in self:
            count, oldest = stats.get(backend._origin.id, (0, False))
            backend.threepl_backlog_count = count
            backend.threepl_backlog_since = oldest
            backend.threepl_backlog_age_minutes = (
                int((now - oldest).total_seconds() // 60) if oldest else 0
            )

    @api.model
    def _threepl_backlog_domain(self, backend_ids):
        return [
            ("backend_id", "in", backend_ids),
            ("direction", "=", "out"),
            ("state", "=", "draft"),
        ]

    def _threepl_waiting(self, before=None, after=None):
        """The oldest waiting message of this backend (before/after one)."""
        self.ensure_one()
        domain = self._threepl_backlog_domain(self.ids)
        if before:
            domain.append(("id", "<", before.id))
        if after:
            domain.append(("id", ">", after.id))
        return self.env["threepl.message"].sudo().search(domain, order="id", limit=1)

    # ----------------------------------------------------------------- job
    def _job_threepl_send(self, message):
        """Send ``message`` in its turn: after every older waiting one."""
        self.ensure_one()
        message = message.sudo()
        # one sender at a time per backend: the order is the channel's
        self._lock_external("threepl.outbox", self.id)
        if message.state == "draft":
            head = self._threepl_waiting(before=message)
            if head:
                self._threepl_enqueue(head)  # once: the identity key
                return f"{message.name}: waits behind {head.name}"
        result = super()._job_threepl_send(message)
        if message.state != "draft":
            following = self._threepl_waiting(after=message)
            if following:
                self._threepl_enqueue(following)
            elif not self._threepl_waiting():
                self._threepl_resolve_backlog()
        return result

    # ---------------------------------------------------------------- cron
    @api.model
    def _cron_threepl_backlog(self):
        """Queue the oldest waiting message of each 3PL backend again (its job
        may have used up its retries), and open, bump or resolve the backlog
        exception."""
        backends = self.sudo().search(
            [("platform", "=", PLATFORM), ("state", "=", "active")]
        )
        for backend in backends:
            backend._threepl_check_backlog()

    def _threepl_check_backlog(self):
        self.ensure_one()
        head = self._threepl_waiting()
        if not head:
            self._threepl_resolve_backlog()
            return self.env["retail.sync.exception"]
        self._threepl_enqueue(head)
        self.invalidate_recordset(["threepl_backlog_count"])
        objective = self._policy("shipment").latency_objective_minutes
        oldest = self.threepl_backlog_since
        if fields.Datetime.now() - oldest <= timedelta(minutes=objective):
            return self.env["retail.sync.exception"]
        text = self.env._(
            "%(count)s message(s) wait to be sent to the 3PL, the oldest for "
            "%(age)s min (objective: %(objective)s min). The 3PL is down or "
            "throttling: see the exchange log and the exception of the oldest "
            "(%(oldest)s). Nothing is lost: they go out in order once the 3PL "
            "answers; this closes when the backlog is empty.",
            count=self.threepl_backlog_count,
            age=self.threepl_backlog_age_minutes,
            objective=objective,
            oldest=head.name,
        )
        exception = self._threepl_backlog_exception()
        if exception:
            # one exception while the backlog lasts, with the latest figures
            exception.write(
                {
                    "count": exception.count + 1,
                    "last_seen": fields.Datetime.now(),
                    "message": text,
                }
            )
            return exception
        return self.env["retail.sync.exception"]._open_or_bump(
            self,
            domain="shipment",
            category="remote",
            message=text,
            subject_key=BACKLOG_SUBJECT,
        )

    def _threepl_backlog_exception(self):
        return (
            self.env["retail.sync.exception"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", BACKLOG_SUBJECT),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )

    def _threepl_resolve_backlog(self):
        found = self._threepl_backlog_exception()
        if found:
            found._resolve(
                self.env._("Resolved automatically: the 3PL backlog is empty.")
            )
        return found

    # -------------------------------------------------------------- health
    def _health_checks(self, stats):
        checks = super()._health_checks(stats)
        if self.platform != PLATFORM or not self.threepl_backlog_count:
            return checks
        objective = self._policy("shipment").latency_objective_minutes
        age = self.threepl_backlog_age_minutes
        if age < 1:
            return checks  # the usual moment between recording and sending
        checks.append(
            (
                "error" if age > objective else "warning",
                self.env._(
                    "%(count)s message(s) wait to be sent to the 3PL, the "
                    "oldest for %(age)s min (objective %(objective)s min): the "
                    "3PL is down or throttling (see Exchanges). They go out in "
                    "order once it answers.",
                    count=self.threepl_backlog_count,
                    age=age,
                    objective=objective,
                ),
            )
        )
        return checks
