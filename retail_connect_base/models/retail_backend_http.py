"""A backend's HTTP calls: the platform client, the shared rate limiter and
the budget the platform reports, the exchange log; polling."""

import time

from odoo import models

from odoo.addons.queue_job.exception import RetryableJobError

from ..lib.errors import (
    SyncError,
    ThrottledError,
    TransientError,
)
from ..lib.http import RetailHttpClient
from .retail_backend import (
    INLINE_WAIT,
)
from .retail_sync_policy import DOMAINS, TECHNICAL


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # ----------------------------------------------------------------- HTTP
    def _http_client(self, client_class=RetailHttpClient, **kwargs):
        """A client for this backend: guarded, limited, logged."""
        self.ensure_one()
        self._assert_can_call(
            check_state=not self.env.context.get("retail_connect_connection_test")
        )
        return client_class(
            self._api_url(),
            on_exchange=self._log_exchange,
            limiter=self._take_token,
            attempt=self._job_attempt(),
            idempotency_keys=self._next_idempotency_key,
            shadow=self._shadow_intercept,
            **kwargs,
        )

    def _take_token(self, cost=1.0, bucket="api", capacity=None, rate=None):
        """Take ``cost`` from the shared bucket of the backend's calls, or from
        ``bucket`` with its own ``capacity`` and ``rate`` (a platform limiting
        each operation on its own, as SP-API does); wait in place a short
        while, else raise ``ThrottledError`` with the wait."""
        check = None
        if bucket == "api":
            capacity, rate = self.rate_limit_capacity, self.rate_limit_per_second

            def check(learned):
                # what the platform reported wins over the settings: a Plus
                # shop grants what the configured default would refuse, a
                # smaller bucket never holds a call the default would wait for
                problem = self._rate_limit_problem(cost, learned=learned)
                if problem:
                    # waiting would never help: a setting to fix, not a throttle
                    raise SyncError(problem, category="throttle")

        buckets = self.env["retail.throttle.bucket"]
        args = (self, bucket, cost, capacity, rate)
        # one side transaction: the check reads the bucket's row it updates
        wait = buckets._take(*args, check=check)
        if 0 < wait <= INLINE_WAIT:
            # a short wait is spent here: a job of several calls (an order
            # read page after page) that yielded its worker at each one would
            # start over and spend the budget again without ever finishing
            time.sleep(wait)
            wait = buckets._take(*args)
        if wait:
            raise ThrottledError(
                f"{self.name}: local rate limit, wait {wait:.1f}s",
                seconds=max(1, round(wait, 1)),
            )

    def _observe_budget(self, available, capacity=None, rate=None):
        """Align the shared bucket with the budget the platform reported; the
        capacity and restore rate it reports replace the configured ones."""
        self.env["retail.throttle.bucket"]._observe(
            self,
            "api",
            available,
            self.rate_limit_capacity,
            self.rate_limit_per_second,
            learned_capacity=capacity,
            learned_rate=rate,
        )

    def _log_exchange(self, exchange):
        """Log a call and align the shared bucket with the budget its answer
        reported (``exchange.budget``): one side transaction for both."""
        budget = None
        if exchange.budget:
            available, capacity, rate = exchange.budget
            buckets = self.env["retail.throttle.bucket"]

            def budget(cr):
                buckets._update_in(
                    cr,
                    self,
                    "api",
                    0,
                    self.rate_limit_capacity,
                    self.rate_limit_per_second,
                    available,
                    (capacity, rate),
                    None,
                )

        self.env["retail.exchange"]._record(self, exchange, also=budget)

    def _call_in_job(self, func, *args, **kwargs):
        """Run ``func``; platform slow-down signals become job retries."""
        try:
            return func(*args, **kwargs)
        except ThrottledError as err:
            raise RetryableJobError(
                str(err), seconds=max(1, round(err.seconds or 10)), ignore_retry=True
            ) from err
        except TransientError as err:
            raise RetryableJobError(str(err), seconds=int(err.seconds or 10)) from err

    # -------------------------------------------------------------- polling
    def _poll(self, policy, since, until):
        """Fetch what changed between ``since`` and ``until``; return events.

        Platform hook: return a list of ``Delivery`` objects (source ``poll``) for
        the base to ingest. The base advances the watermark after success.
        """
        return []

    def _rate_limit_problem(self, cost, learned=None):
        """Why the local limiter could never grant a call of ``cost`` (or None).
        ``learned``: the ``(capacity, rate)`` the platform reported, which
        the shared bucket holds instead of the settings."""
        _ = self.env._
        if learned:
            capacity, rate = learned
            if rate > 0 and cost <= capacity:
                return None
            return _(
                "%(backend)s: the platform reports a rate limit of %(capacity)s "
                "points restored at %(rate)s/s, below the cost of a call "
                "(%(cost)s): it could never be granted. Ask for a smaller page "
                "(or split the call); no setting raises the platform's limit.",
                backend=self.name,
                capacity=f"{capacity:g}",
                rate=f"{rate:g}",
                cost=f"{cost:g}",
            )
        defaults = self._platform_defaults()
        if self.rate_limit_per_second <= 0:
            return _(
                "%(backend)s: Rate limit (calls/s) is %(rate)s: the local limiter "
                "would never grant a call. Set it above 0 on the backend (the "
                "platform's default is %(default)s).",
                backend=self.name,
                rate=f"{self.rate_limit_per_second:g}",
                default=f"{defaults['rate_limit_per_second']:g}",
            )
        if cost > self.rate_limit_capacity:
            return _(
                "%(backend)s: Rate limit burst (calls) is %(capacity)s, below the "
                "cost of a call (%(cost)s): the local limiter would never grant "
                "it. Set it to at least %(least)s on the backend (the platform's "
                "default is %(default)s).",
                backend=self.name,
                capacity=f"{self.rate_limit_capacity:g}",
                cost=f"{cost:g}",
                least=f"{max(cost, self._rate_limit_min_capacity()):g}",
                default=f"{defaults['rate_limit_capacity']:g}",
            )
        return None

    def _topic_domain(self, topic):
        """The domain an event of ``topic`` is stored with: its business domain
        (``_event_domain``), else technical; never a value no view knows."""
        domain = self._event_domain(topic)
        return domain if domain in dict(DOMAINS) else TECHNICAL
