"""What a retailer watches on a busy day (a flash sale), per backend and for
the whole suite: orders in and shipped, the inbox backlog and the age of its
oldest event, latency p50/p95 against each policy's objective, failure rate,
open exceptions by owner, and what only a platform knows (SKUs at oversell
risk, the warehouse provider's backlog, the last payout reconciled).

Every figure is aggregated in SQL for all backends at once (a handful of
queries, whatever the number of events): a flash sale makes many events and
the overview refreshes while they arrive.

Platform figures come from ``_watch_platform_figures``, a hook each platform
addon extends for its own backends: the base knows no platform.
"""

import math
from datetime import timedelta

from odoo import api, fields, models

from .common import USER, check_group
from .retail_sync_policy import DOMAINS

WINDOW = timedelta(hours=1)
# a lag runs from the fact on the channel to Odoo having applied it, as in the
# sync lag report; replays and backfills measure no sync
LAG = (
    "GREATEST(0, extract(epoch FROM e.processed_at"
    " - COALESCE(e.occurred_at, e.received_at)))"
)
BACKLOG_STATES = ("received", "queued")  # stored, not processed yet


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    watch_orders_in = fields.Integer(
        "Orders in (last hour)",
        compute="_compute_watch",
        help="Sale orders imported from this channel in the last hour.",
    )
    watch_orders_shipped = fields.Integer(
        "Orders shipped (last hour)",
        compute="_compute_watch",
        help="Orders of this channel whose delivery was done in the last hour.",
    )
    watch_backlog = fields.Integer(
        "Backlog",
        compute="_compute_watch",
        help="Events received and not processed yet.",
    )
    watch_backlog_age_s = fields.Integer(
        "Oldest unprocessed (s)",
        compute="_compute_watch",
        help="How long the oldest unprocessed event has waited.",
    )
    latency_p95_s = fields.Float(compute="_compute_watch")
    watch_late_policies = fields.Char(
        "Objectives breached",
        compute="_compute_watch",
        help="Policies whose latency p95 of the last hour, or whose oldest "
        "unprocessed event, is beyond their latency objective.",
    )
    watch_platform_text = fields.Text(
        "Platform figures",
        compute="_compute_watch",
        help="What only this platform knows (oversell risk, provider backlog, "
        "last payout).",
    )

    def _compute_watch(self):
        figures = self._origin._watch_figures()
        for backend in self:
            data = figures.get(backend._origin.id) or self._watch_empty()
            backend.watch_orders_in = data["orders_in"]
            backend.watch_orders_shipped = data["orders_shipped"]
            backend.watch_backlog = data["backlog"]
            backend.watch_backlog_age_s = data["backlog_age_s"]
            backend.latency_p95_s = data["latency_p95_s"]
            backend.watch_late_policies = (
                ", ".join(p["label"] for p in data["policies"] if p["breached"])
                or False
            )
            backend.watch_platform_text = (
                "\n".join(
                    f"{f['label']}: {f.get('display', f['value'])}"
                    for f in data["platform"]
                    if not f.get("hidden")
                )
                or False
            )

    # ------------------------------------------------------------- figures
    @api.model
    def _watch_empty(self):
        return {
            "orders_in": 0,
            "orders_shipped": 0,
            "backlog": 0,
            "backlog_age_s": 0,
            "events": 0,
            "events_failed": 0,
            "failure_rate": 0.0,
            "latency_p50_s": 0.0,
            "latency_p95_s": 0.0,
            "policies": [],
            "exceptions_by_owner": {},
            "platform": [],
        }

    def _watch_figures(self, window=WINDOW):
        """``{backend_id: figures}`` of the backends of ``self`` over ``window``.

        Figures: ``orders_in``, ``orders_shipped``, ``backlog``,
        ``backlog_age_s``, ``events``, ``events_failed``, ``failure_rate`` (%),
        ``latency_p50_s``, ``latency_p95_s``, ``policies`` (one dict per
        policy not off: ``id``, ``domain``, ``label``, ``p50_s``, ``p95_s``,
        ``objective_s``, ``backlog``, ``backlog_age_s``, ``breached``,
        ``owner``), ``exceptions_by_owner`` (``{owner name: count}``) and
        ``platform`` (``_watch_platform_figures``).
        """
        if not self:
            return {}
        self.env.flush_all()
        cr = self.env.cr
        ids = tuple(self.ids)
        since = fields.Datetime.now() - window
        result = {backend.id: self._watch_empty() for backend in self}

        cr.execute(
            """
            SELECT retail_backend_id, count(*) FROM sale_order
             WHERE retail_backend_id IN %s AND create_date > %s
             GROUP BY 1
            """,
            [ids, since],
        )
        for backend_id, count in cr.fetchall():
            result[backend_id]["orders_in"] = count
        cr.execute(
            """
            SELECT p.retail_backend_id, count(DISTINCT p.sale_id)
              FROM stock_picking p
              JOIN stock_picking_type t ON t.id = p.picking_type_id
             WHERE p.retail_backend_id IN %s AND t.code = 'outgoing'
               AND p.state = 'done' AND p.date_done > %s
             GROUP BY 1
            """,
            [ids, since],
        )
        for backend_id, count in cr.fetchall():
            result[backend_id]["orders_shipped"] = count

        # events of the window: count, failed, latency of what was applied
        cr.execute(
            f"""
            SELECT e.backend_id,
                   count(*),
                   count(*) FILTER (WHERE e.state IN ('failed', 'dead')),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {LAG})
                       FILTER (WHERE e.state = 'done' AND e.traffic = 'realtime'
                               AND e.replay_of_id IS NULL),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY {LAG})
                       FILTER (WHERE e.state = 'done' AND e.traffic = 'realtime'
                               AND e.replay_of_id IS NULL)
              FROM retail_event e
             WHERE e.backend_id IN %s AND e.received_at > %s
             GROUP BY 1
            """,  # noqa: S608 - LAG is a constant
            [ids, since],
        )
        for backend_id, total, failed, p50, p95 in cr.fetchall():
            data = result[backend_id]
            data.update(
                events=total,
                events_failed=failed,
                failure_rate=round(failed * 100.0 / total, 2) if total else 0.0,
                latency_p50_s=round(p50 or 0.0, 3),
                latency_p95_s=round(p95 or 0.0, 3),
            )
        # the backlog, whatever its age: what is still to do
        cr.execute(
            """
            SELECT backend_id, count(*),
                   extract(epoch FROM %s - min(received_at))
              FROM retail_event
             WHERE backend_id IN %s AND state IN %s
             GROUP BY 1
            """,
            [fields.Datetime.now(), ids, BACKLOG_STATES],
        )
        for backend_id, count, age in cr.fetchall():
            result[backend_id].update(backlog=count, backlog_age_s=int(age or 0))

        for policy_id, stats in (
            self.env["retail.sync.policy"]._watch_stats(self, window).items()
        ):
            result[stats["backend_id"]]["policies"].append(dict(stats, id=policy_id))

        cr.execute(
            """
            SELECT x.backend_id, x.owner_user_id, count(*)
              FROM retail_sync_exception x
             WHERE x.backend_id IN %s AND x.state IN ('new', 'in_progress')
             GROUP BY 1, 2
            """,
            [ids],
        )
        rows = cr.fetchall()
        users = self.env["res.users"].sudo().browse({r[1] for r in rows if r[1]})
        names = {user.id: user.name for user in users}
        nobody = self.env._("Nobody")
        for backend_id, owner_id, count in rows:
            owners = result[backend_id]["exceptions_by_owner"]
            name = names.get(owner_id, nobody)
            owners[name] = owners.get(name, 0) + count

        for backend_id, extra in self._watch_platform_figures().items():
            if backend_id in result:
                result[backend_id]["platform"] = extra
        return result

    def _watch_platform_figures(self):
        """Figures only a platform knows, for the overview and the metrics.

        Return ``{backend_id: [figure, ...]}`` for the backends of ``self``
        (any platforms). A figure is a dict: ``metric`` (the Prometheus name
        after ``retail_connect_``, e.g. ``threepl_backlog_messages``),
        ``label``, ``value`` (a number), ``display`` (the text shown, when it
        is not the number), ``help`` (one sentence), ``total`` (``sum``,
        ``max`` or ``None``: how the suite's total adds it up) and ``hidden``
        (true: in the metrics only).

        A platform addon adds its own backends' figures to ``super()``'s,
        computed for all of them at once (read_group or SQL, never a loop
        over records).
        """
        return {}

    @api.model
    def _free_quantities(self, pairs):
        """Odoo's free quantity (on hand minus reserved, in the internal
        locations of the warehouse) of each ``(product_id, warehouse_id)`` of
        ``pairs``, in one query: ``{(product_id, warehouse_id): qty}``. What
        a sales channel may offer is this minus its safety stock."""
        if not pairs:
            return {}
        self.env["stock.quant"].flush_model()
        self.env.cr.execute(
            """
            SELECT q.product_id, w.id, sum(q.quantity - q.reserved_quantity)
              FROM stock_warehouse w
              JOIN stock_location v ON v.id = w.view_location_id
              JOIN stock_location l ON l.parent_path LIKE v.parent_path || '%%'
                                   AND l.usage = 'internal'
              JOIN stock_quant q ON q.location_id = l.id
             WHERE w.id = ANY(%s) AND q.product_id = ANY(%s)
             GROUP BY 1, 2
            """,
            [sorted({w for _p, w in pairs}), sorted({p for p, _w in pairs})],
        )
        free = {(p, w): qty for p, w, qty in self.env.cr.fetchall()}
        return {pair: free.get(pair, 0.0) for pair in pairs}

    def _watch_oversell_risk(self, offers):
        """The "SKUs at oversell risk" figure of each backend of ``self``:
        ``{backend_id: figure}`` (see ``_watch_platform_figures``).

        ``offers`` are what the channels offer, as Odoo last read or set it:
        ``(backend_id, product_id, warehouse_id, offered, safety_stock)``. A
        SKU is at risk on a backend when one of its offers is above Odoo's
        free quantity of the warehouse minus the safety stock, rounded down
        (``_free_quantities``): a push is late or failed, and the channel may
        sell units Odoo does not have. A SKU counts once per backend."""
        free = self._free_quantities({(o[1], o[2]) for o in offers})
        at_risk = {backend.id: set() for backend in self}
        for backend_id, product_id, warehouse_id, offered, safety in offers:
            allowed = max(0, math.floor(free[(product_id, warehouse_id)] - safety))
            if offered > allowed:
                at_risk[backend_id].add(product_id)
        return {
            backend.id: {
                "metric": "oversell_risk_skus",
                "label": self.env._("SKUs at oversell risk"),
                "value": len(at_risk[backend.id]),
                "help": "SKUs a channel offers above Odoo's free quantity "
                "minus its safety stock.",
                "total": "sum",
            }
            for backend in self
        }

    @api.model
    def _watch_suite(self, figures):
        """The whole suite's figures from ``_watch_figures``' result."""
        suite = self._watch_empty()
        done = 0
        for data in figures.values():
            for key in ("orders_in", "orders_shipped", "backlog", "events"):
                suite[key] += data[key]
            suite["events_failed"] += data["events_failed"]
            suite["backlog_age_s"] = max(suite["backlog_age_s"], data["backlog_age_s"])
            # the suite's p95 is no average of p95s: the worst one is shown
            suite["latency_p95_s"] = max(suite["latency_p95_s"], data["latency_p95_s"])
            suite["latency_p50_s"] = max(suite["latency_p50_s"], data["latency_p50_s"])
            done += 1
            for owner, count in data["exceptions_by_owner"].items():
                owners = suite["exceptions_by_owner"]
                owners[owner] = owners.get(owner, 0) + count
            suite["policies"] += [p for p in data["policies"] if p["breached"]]
            for figure in data["platform"]:
                if not figure.get("total"):
                    continue
                same = next(
                    (f for f in suite["platform"] if f["metric"] == figure["metric"]),
                    None,
                )
                if same is None:
                    suite["platform"].append(
                        {k: v for k, v in figure.items() if k != "display"}
                    )
                elif figure["total"] == "sum":
                    same["value"] += figure["value"]
                else:
                    same["value"] = max(same["value"], figure["value"])
        if suite["events"]:
            suite["failure_rate"] = round(
                suite["events_failed"] * 100.0 / suite["events"], 2
            )
        suite["backends"] = done
        return suite

    # ---------------------------------------------------------- dashboard
    def get_watch_overview(self):
        """The live overview's data: every backend the user may read, and
        the suite's totals (Retail users; read-only figures). The records it
        is called on do not matter."""
        check_group(self.env, USER)
        backends = self.search([("state", "!=", "draft")])
        figures = backends.sudo()._watch_figures()
        labels = dict(self._fields["platform"]._description_selection(self.env))
        rows = []
        for backend in backends:
            data = figures[backend.id]
            rows.append(
                dict(
                    data,
                    id=backend.id,
                    name=backend.name,
                    platform=labels.get(backend.platform, backend.platform),
                    state=backend.state,
                    environment=backend.environment,
                    exceptions_by_owner=sorted(
                        data["exceptions_by_owner"].items(), key=lambda kv: -kv[1]
                    ),
                    sparkline=[],
                )
            )
        sparks = backends.sudo()._watch_sparklines()
        for row in rows:
            row["sparkline"] = sparks.get(row["id"], [])
        suite = self._watch_suite(figures)
        suite["exceptions_by_owner"] = sorted(
            suite["exceptions_by_owner"].items(), key=lambda kv: -kv[1]
        )
        return {
            "backends": rows,
            "suite": suite,
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }

    def _watch_sparklines(self, buckets=12, window=WINDOW):
        """Events received per slice of ``window`` (oldest first), by backend:
        the bars of the overview."""
        if not self:
            return {}
        step = window.total_seconds() / buckets
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            SELECT backend_id,
                   LEAST(%s, floor(extract(epoch FROM received_at - %s) / %s))::int,
                   count(*)
              FROM retail_event
             WHERE backend_id IN %s AND received_at > %s
             GROUP BY 1, 2
            """,
            [buckets - 1, now - window, step, tuple(self.ids), now - window],
        )
        result = {backend.id: [0] * buckets for backend in self}
        for backend_id, bucket, count in self.env.cr.fetchall():
            result[backend_id][max(0, bucket)] += count
        return result

    # ------------------------------------------------------------- metrics
    @api.model
    def _prometheus_metrics(self):
        """The overview's figures too, per backend (Prometheus sums them)."""
        text = super()._prometheus_metrics()
        backends = self.sudo().with_context(active_test=False).search([])
        figures = backends._watch_figures()
        policies = self.env["retail.sync.policy"].sudo()
        alerted = set(policies.search([("alert_since", "!=", False)]).ids)
        lines = []

        def family(name, help_, rows, kind="gauge"):
            if not rows:
                return
            lines.append(f"# HELP retail_connect_{name} {help_}")
            lines.append(f"# TYPE retail_connect_{name} {kind}")
            for labels, value in rows:
                pairs = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
                lines.append(f"retail_connect_{name}{{{pairs}}} {value}")

        def per_backend(key):
            return [
                ({"backend": b.id, "platform": b.platform}, figures[b.id][key])
                for b in backends
            ]

        family(
            "orders_in_last_hour",
            "Sale orders imported from the channel in the last hour.",
            per_backend("orders_in"),
        )
        family(
            "orders_shipped_last_hour",
            "Orders of the channel whose delivery was done in the last hour.",
            per_backend("orders_shipped"),
        )
        family(
            "backlog_events",
            "Events received and not processed yet.",
            per_backend("backlog"),
        )
        family(
            "backlog_oldest_seconds",
            "Age of the oldest event not processed yet.",
            per_backend("backlog_age_s"),
        )
        family(
            "event_failure_ratio_last_hour",
            "Share of the last hour's events that failed.",
            [
                (labels, round(v / 100.0, 4))
                for labels, v in per_backend("failure_rate")
            ],
        )
        latency, objective, breached = [], [], []
        for backend in backends:
            for stats in figures[backend.id]["policies"]:
                labels = {
                    "backend": backend.id,
                    "platform": backend.platform,
                    "domain": stats["domain"],
                }
                latency.append((dict(labels, quantile="0.5"), stats["p50_s"]))
                latency.append((dict(labels, quantile="0.95"), stats["p95_s"]))
                objective.append((labels, stats["objective_s"]))
                breached.append((labels, int(stats["id"] in alerted)))
        family(
            "latency_seconds",
            "Sync latency of the last hour's applied events (fact to applied).",
            latency,
        )
        family(
            "latency_objective_seconds",
            "The policy's latency objective.",
            objective,
        )
        family(
            "objective_breached",
            "1 while the policy's objective is breached (its owner was alerted).",
            breached,
        )
        owners = {}
        for backend in backends:
            for owner, count in figures[backend.id]["exceptions_by_owner"].items():
                key = (backend.id, backend.platform, owner)
                owners[key] = owners.get(key, 0) + count
        family(
            "exceptions_open_by_owner",
            "Open sync exceptions by owner.",
            [
                ({"backend": b, "platform": p, "owner": o}, n)
                for (b, p, o), n in sorted(owners.items())
            ],
        )
        platform = {}
        for backend in backends:
            for figure in figures[backend.id]["platform"]:
                entry = platform.setdefault(figure["metric"], (figure["help"], []))
                entry[1].append(
                    (
                        {"backend": backend.id, "platform": backend.platform},
                        figure["value"],
                    )
                )
        for metric, (help_, rows) in sorted(platform.items()):
            family(metric, help_, rows)
        return text + "\n".join(lines) + ("\n" if lines else "")


def _label(value):
    """A Prometheus label value: backslash, quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class RetailSyncPolicy(models.Model):
    _inherit = "retail.sync.policy"

    @api.model
    def _watch_stats(self, backends, window=WINDOW):
        """``{policy_id: stats}`` of every policy (not off) of ``backends``:
        ``backend_id``, ``domain``, ``label``, ``p50_s``, ``p95_s`` (events
        applied in ``window``), ``objective_s``, ``backlog``,
        ``backlog_age_s``, ``breached`` and ``owner`` (a name)."""
        if not backends:
            return {}
        self.env.flush_all()
        cr = self.env.cr
        now = fields.Datetime.now()
        cr.execute(
            f"""
            SELECT p.id, p.backend_id, p.domain, p.latency_objective_minutes * 60,
                   p.owner_user_id, lag.p50, lag.p95, todo.n, todo.age
              FROM retail_sync_policy p
              LEFT JOIN LATERAL (
                   SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {LAG}) p50,
                          percentile_cont(0.95) WITHIN GROUP (ORDER BY {LAG}) p95
                     FROM retail_event e
                    WHERE e.backend_id = p.backend_id AND e.domain = p.domain
                      AND e.state = 'done' AND e.traffic = 'realtime'
                      AND e.replay_of_id IS NULL AND e.received_at > %s
                   ) lag ON true
              LEFT JOIN LATERAL (
                   SELECT count(*) n, extract(epoch FROM %s - min(e.received_at)) age
                     FROM retail_event e
                    WHERE e.backend_id = p.backend_id AND e.domain = p.domain
                      AND e.state IN %s
                   ) todo ON true
             WHERE p.backend_id IN %s AND p.direction != 'off'
             ORDER BY p.backend_id, p.sequence, p.id
            """,  # noqa: S608 - LAG is a constant
            [now - window, now, BACKLOG_STATES, tuple(backends.ids)],
        )
        rows = cr.fetchall()
        users = self.env["res.users"].sudo().browse({r[4] for r in rows if r[4]})
        names = {user.id: user.name for user in users}
        labels = dict(DOMAINS)
        stats = {}
        for policy_id, backend_id, domain, objective, owner, p50, p95, n, age in rows:
            p95 = round(p95 or 0.0, 3)
            age = int(age or 0)
            stats[policy_id] = {
                "backend_id": backend_id,
                "domain": domain,
                "label": labels.get(domain, domain),
                "p50_s": round(p50 or 0.0, 3),
                "p95_s": p95,
                "objective_s": objective,
                "backlog": n or 0,
                "backlog_age_s": age,
                "latency_breached": bool(objective) and p95 > objective,
                "backlog_breached": bool(objective) and age > objective,
                "owner": names.get(owner, ""),
            }
            stats[policy_id]["breached"] = (
                stats[policy_id]["latency_breached"]
                or stats[policy_id]["backlog_breached"]
            )
        return stats
