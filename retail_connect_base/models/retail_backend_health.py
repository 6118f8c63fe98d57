from datetime import timedelta

from odoo import fields, models

from .retail_sync_policy import DOMAINS


class RetailBackend(models.Model):
    """A backend's health: what is wrong and what to do (overview and form)."""

    _inherit = "retail.backend"

    def _compute_stats(self):
        ids = tuple(self._origin.ids) or (0,)
        cr = self.env.cr
        cr.execute(
            """
            SELECT backend_id,
                   count(*),
                   count(*) FILTER (WHERE state IN ('failed', 'dead')),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       extract(epoch FROM processed_at - received_at))
              FROM retail_event
             WHERE backend_id IN %s AND received_at > now() at time zone 'utc'
                   - interval '1 hour'
             GROUP BY backend_id
            """,
            [ids],
        )
        events = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """
            SELECT backend_id, count(*),
                   count(*) FILTER (WHERE first_seen < now() at time zone 'utc'
                                    - interval '1 day')
              FROM retail_sync_exception
             WHERE backend_id IN %s AND state IN ('new', 'in_progress')
             GROUP BY backend_id
            """,
            [ids],
        )
        exceptions = {row[0]: row[1:] for row in cr.fetchall()}
        cr.execute(
            """
            SELECT backend_id, count(*), count(*) FILTER (WHERE NOT ok)
              FROM retail_exchange
             WHERE backend_id IN %s AND create_date > now() at time zone 'utc'
                   - interval '1 hour'
             GROUP BY backend_id
            """,
            [ids],
        )
        calls = {row[0]: row[1:] for row in cr.fetchall()}
        for backend in self:
            key = backend._origin.id
            total, failed, p50 = events.get(key, (0, 0, None))
            open_count, old = exceptions.get(key, (0, 0))
            backend.event_hour_count = total
            backend.event_failed_hour_count = failed
            backend.failure_rate = (failed / total * 100.0) if total else 0.0
            backend.latency_p50_s = p50 or 0.0
            backend.exception_open_count = open_count
            backend.exception_old_count = old
            checks = backend._health_checks(
                {
                    "events": total,
                    "events_failed": failed,
                    "calls": calls.get(key, (0, 0))[0],
                    "calls_failed": calls.get(key, (0, 0))[1],
                    "exceptions_open": open_count,
                }
            )
            levels = {level for level, _message in checks}
            backend.health = next(
                (level for level in ("error", "warning") if level in levels), "ok"
            )
            backend.health_message = "\n".join(
                message
                for rank in ("error", "warning")
                for level, message in checks
                if level == rank
            )

    def _health_checks(self, stats):
        """What is wrong with this backend and what to do: ``[(level, text)]``.

        ``level`` is ``warning`` or ``error``; nothing wrong is healthy.
        ``stats``: the backend's last hour (``events``, ``events_failed``,
        ``calls``, ``calls_failed``) and its ``exceptions_open``. Platforms add
        their own checks (webhooks, locations) to ``super()``'s.
        """
        self.ensure_one()
        _ = self.env._
        checks = []
        if self.state == "error":
            checks.append(
                (
                    "error",
                    _(
                        "In error: %(error)s. Fix the cause (credentials: set them "
                        "again), press Test connection, then Resume.",
                        error=self.last_error or _("a call was refused"),
                    ),
                )
            )
        elif self.state == "paused":
            checks.append(
                (
                    "warning",
                    _(
                        "Paused (%(reason)s): nothing is synchronized until a "
                        "manager resumes it.",
                        reason=self.paused_reason or "",
                    ),
                )
            )
        if not self.last_check_at:
            checks.append(
                (
                    "warning",
                    _(
                        "Never checked: press Test connection to know whether "
                        "the platform accepts its address and credentials."
                    ),
                )
            )
        elif not self.last_check_ok and self.state != "error":
            checks.append(
                (
                    "warning",
                    _(
                        "The last connection test failed (%(error)s): correct the "
                        "address or the credentials, then press Test connection.",
                        error=self.last_error or "",
                    ),
                )
            )
        if stats["calls_failed"]:
            checks.append(
                (
                    "error"
                    if stats["calls_failed"] > 0.2 * stats["calls"]
                    else "warning",
                    _(
                        "%(failed)s of %(total)s calls failed in the last hour: "
                        "their answers are in the exchange log (Exchanges); "
                        "correct what they name.",
                        failed=stats["calls_failed"],
                        total=stats["calls"],
                    ),
                )
            )
        if stats["events_failed"]:
            checks.append(
                (
                    "error"
                    if stats["events_failed"] > 0.2 * stats["events"]
                    else "warning",
                    _(
                        "%(failed)s of %(total)s events failed in the last hour: "
                        "see the exceptions.",
                        failed=stats["events_failed"],
                        total=stats["events"],
                    ),
                )
            )
        if stats["exceptions_open"]:
            checks.append(
                (
                    "warning",
                    _(
                        "%(count)s open exception(s) wait for someone: open "
                        "Exceptions.",
                        count=stats["exceptions_open"],
                    ),
                )
            )
        checks += [("warning", late) for late in self._late_polls()]
        return checks

    def _late_polls(self):
        """One text per policy that polls and has not for twice its interval."""
        if self.state != "active":
            return []
        now = fields.Datetime.now()
        labels = dict(DOMAINS)
        late = []
        for policy in self.policy_ids:
            if policy.direction not in ("in", "both") or policy.timing == "realtime":
                continue
            moments = [m for m in (policy.last_poll_at, self.activated_at) if m]
            since = max(moments) if moments else policy.create_date
            if now - since <= timedelta(minutes=2 * policy.interval_minutes):
                continue
            late.append(
                self.env._(
                    "Polling of %(domain)s is late: last poll %(last)s, due every "
                    "%(minutes)s min. Check its exception and that the job runner "
                    "runs (queue jobs of the bulk channel).",
                    domain=labels.get(policy.domain, policy.domain),
                    last=policy.last_poll_at or self.env._("never"),
                    minutes=policy.interval_minutes,
                )
            )
        return late
