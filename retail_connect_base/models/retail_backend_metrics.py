"""The suite's figures in Prometheus' text format (/retail_connect/metrics)."""

from odoo import api, models


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    # --------------------------------------------------------------- metrics
    @api.model
    def _prometheus_metrics(self):
        """Technical and business metrics in Prometheus' text format."""
        cr = self.env.cr
        lines = []

        def family(name, kind, help_, rows):
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in rows:
                text = ",".join(f'{k}="{v}"' for k, v in labels.items())
                lines.append(f"{name}{{{text}}} {value}")

        backends = {
            b.id: {"backend": b.id, "platform": b.platform}
            for b in self.sudo().with_context(active_test=False).search([])
        }
        cr.execute(
            "SELECT backend_id, state, count(*) FROM retail_event "
            "GROUP BY backend_id, state ORDER BY 1, 2"
        )
        family(
            "retail_connect_events",
            "gauge",
            "Events in the inbox by state.",
            [
                (dict(backends.get(b, {"backend": b}), state=s), n)
                for b, s, n in cr.fetchall()
            ],
        )
        cr.execute(
            "SELECT backend_id, coalesce(domain, ''), severity, count(*), "
            "coalesce(max(extract(epoch FROM now() at time zone 'utc' - first_seen)),"
            " 0) FROM retail_sync_exception WHERE state IN ('new', 'in_progress') "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
        rows = cr.fetchall()
        family(
            "retail_connect_exceptions_open",
            "gauge",
            "Open sync exceptions.",
            [
                (dict(backends.get(b, {"backend": b}), domain=d, severity=s), n)
                for b, d, s, n, _age in rows
            ],
        )
        family(
            "retail_connect_exception_oldest_seconds",
            "gauge",
            "Age of the oldest open exception.",
            [
                (dict(backends.get(b, {"backend": b}), domain=d, severity=s), int(a))
                for b, d, s, _n, a in rows
            ],
        )
        cr.execute(
            "SELECT backend_id, ok, count(*), coalesce(sum(duration_ms), 0) "
            "FROM retail_exchange WHERE create_date > now() at time zone 'utc' "
            "- interval '1 hour' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = cr.fetchall()
        family(
            "retail_connect_exchanges_last_hour",
            "gauge",
            "Outbound calls in the last hour.",
            [
                (dict(backends.get(b, {"backend": b}), ok=str(ok).lower()), n)
                for b, ok, n, _d in rows
            ],
        )
        family(
            "retail_connect_exchange_ms_last_hour",
            "gauge",
            "Total duration of outbound calls in the last hour (ms).",
            [
                (dict(backends.get(b, {"backend": b}), ok=str(ok).lower()), round(d))
                for b, ok, _n, d in rows
            ],
        )
        cr.execute(
            "SELECT channel, state, count(*) FROM queue_job "
            "WHERE channel LIKE 'root.retail_connect%%' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        family(
            "retail_connect_jobs",
            "gauge",
            "Queue jobs of the suite by channel and state.",
            [({"channel": c, "state": s}, n) for c, s, n in cr.fetchall()],
        )
        return "\n".join(lines) + "\n"
