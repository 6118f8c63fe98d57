"""Sync lag against each policy's objective, for the business.

One row per event Odoo finished (real-time traffic, replays left out: a
replay measures the person who pressed the button, not the sync). The lag
runs from the moment the fact happened on the channel (``occurred_at``,
else when Odoo received it) to the moment Odoo finished it, so a late
webhook or a slow poll counts, not only Odoo's own processing time.
"""

from odoo import fields, models

from ..models.retail_event import EVENT_DOMAINS


class RetailSyncLagReport(models.Model):
    _name = "retail.sync.lag.report"
    _description = "Retail Sync Lag Analysis"
    _auto = False
    _order = "date desc"
    _rec_name = "date"

    date = fields.Datetime("Received", readonly=True)
    backend_id = fields.Many2one("retail.backend", "Backend", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    domain = fields.Selection(EVENT_DOMAINS, readonly=True)
    policy_id = fields.Many2one("retail.sync.policy", "Policy", readonly=True)
    event_id = fields.Many2one("retail.event", "Event", readonly=True)
    event_count = fields.Integer("Events", readonly=True)
    lag_s = fields.Float(
        "Average lag (s)",
        readonly=True,
        aggregator="avg",
        help="From the fact on the channel to Odoo having applied it.",
    )
    lag_max_s = fields.Float("Longest lag (s)", readonly=True, aggregator="max")
    objective_s = fields.Float(
        "Objective (s)",
        readonly=True,
        aggregator="max",
        help="The policy's latency objective.",
    )
    breached_count = fields.Integer(
        "Late", readonly=True, help="Events applied later than the objective."
    )

    @property
    def _table_query(self):
        lag = (
            "GREATEST(0, extract(epoch FROM e.processed_at"
            " - COALESCE(e.occurred_at, e.received_at)))"
        )
        return f"""
            SELECT e.id AS id,
                   e.id AS event_id,
                   e.received_at AS date,
                   e.backend_id AS backend_id,
                   e.company_id AS company_id,
                   e.domain AS domain,
                   p.id AS policy_id,
                   1 AS event_count,
                   {lag} AS lag_s,
                   {lag} AS lag_max_s,
                   p.latency_objective_minutes * 60.0 AS objective_s,
                   CASE WHEN p.latency_objective_minutes > 0
                         AND {lag} > p.latency_objective_minutes * 60
                        THEN 1 ELSE 0 END AS breached_count
              FROM retail_event e
              LEFT JOIN retail_sync_policy p
                     ON p.backend_id = e.backend_id AND p.domain = e.domain
             WHERE e.state = 'done'
               AND e.processed_at IS NOT NULL
               AND e.traffic = 'realtime'
               AND e.replay_of_id IS NULL
        """
