"""The business outcome of a flash sale, from Odoo's records and the
sandboxes' own: what a retailer checks the day after.

- every order is one sale order, paid, shipped once, tracked on its channel;
- the payout reconciles: Stripe's payout is one bank statement in Odoo whose
  lines add up to what Stripe paid out;
- the **oversell window**: for each channel and SKU, the longest time the
  channel offered more than Odoo's free quantity minus the channel's safety
  stock (the channel's offer from its sandbox's stock history, Odoo's
  allowance from the samples the sale took), within the inventory policy's
  latency objective; an offer still too high at the end never closed;
- the only open exceptions are those the scenario caused on purpose (an
  unknown SKU, a short shipment, a dispute), each with its fix;
- the peak backlog's drain time: from the largest backlog Odoo had to the
  first moment nothing waited.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    checks: list = field(default_factory=list)
    oversell: dict = field(default_factory=dict)  # (channel, sku): seconds
    objective: dict = field(default_factory=dict)  # channel: seconds
    drain_seconds: float | None = None
    peak_backlog: int = 0

    def add(self, name, ok, detail=""):
        self.checks.append(Check(name, bool(ok), detail))

    @property
    def ok(self):
        return all(c.ok for c in self.checks)

    def failures(self):
        return [c for c in self.checks if not c.ok]

    def lines(self):
        out = ["Business checks:"]
        for check in self.checks:
            mark = "OK  " if check.ok else "FAIL"
            out.append(
                f"  [{mark}] {check.name}"
                + (f": {check.detail}" if check.detail else "")
            )
        worst = max(self.oversell.items(), key=lambda kv: kv[1], default=None)
        if worst:
            (channel, sku), seconds = worst
            out.append(
                f"Oversell window: {seconds:.1f} s at worst ({sku} on {channel}; "
                f"objective {self.objective.get(channel, 0):.0f} s)"
            )
        else:
            out.append("Oversell window: 0 s (no channel ever offered too much)")
        if self.drain_seconds is None:
            out.append(f"Peak backlog: {self.peak_backlog}, not drained")
        else:
            out.append(
                f"Peak backlog: {self.peak_backlog} waiting, drained in "
                f"{self.drain_seconds:.1f} s"
            )
        return out


# ---------------------------------------------------------------- oversell
def offered_timeline(history):
    """``{sku: [(time, quantity summed over locations/marketplaces)]}``."""
    current, out = {}, {}
    for entry in history:
        key = (entry["sku"], entry["where"])
        if entry["quantity"] is None:
            current.pop(key, None)
        else:
            current[key] = entry["quantity"]
        total = sum(q for (sku, _), q in current.items() if sku == entry["sku"])
        out.setdefault(entry["sku"], []).append((entry["time"], total))
    return out


def oversell_windows(offered, allowed, start, end):
    """Longest stretch, per SKU, during which ``offered`` (a timeline of the
    channel) exceeded ``allowed`` (Odoo's samples, ``[(time, qty)]``), both
    step functions, within ``[start, end]``. A stretch still open at ``end``
    counts up to ``end`` and is reported in ``open_at_end``."""
    windows, open_at_end = {}, set()
    for sku, allowances in allowed.items():
        steps = offered.get(sku, [])
        times = sorted({t for t, _ in steps} | {t for t, _ in allowances} | {start})
        times = [t for t in times if start <= t <= end]
        worst, since = 0.0, None
        for t in times:
            too_much = _at(steps, t) > _at(allowances, t)
            if too_much and since is None:
                since = t
            elif not too_much and since is not None:
                worst = max(worst, t - since)
                since = None
        if since is not None:
            worst = max(worst, end - since)
            open_at_end.add(sku)
        windows[sku] = worst
    return windows, open_at_end


def _at(steps, t):
    """The value of a step function ``[(time, value)]`` at ``t`` (the last
    step at or before it; before the first: the first)."""
    if not steps:
        return 0
    index = bisect.bisect_right([s[0] for s in steps], t) - 1
    return steps[max(index, 0)][1]


def drain_time(backlog):
    """``(peak, seconds from the peak to the first empty sample)``."""
    if not backlog:
        return 0, 0.0
    peak_at, peak = max(backlog, key=lambda s: (s[1], -s[0]))
    if not peak:
        return 0, 0.0
    for t, waiting in backlog:
        if t > peak_at and not waiting:
            return peak, t - peak_at
    return peak, None


# ------------------------------------------------------------------ checks
def run(odoo, wiring, journal, options):
    report = Report()
    orders = [o for o in journal.orders if not o.unknown_sku]
    sales = _sales(odoo, wiring, orders)
    one = [o.ref for o in orders if len(sales.get(o.ref, [])) != 1]
    report.add(
        f"every order is one sale order ({len(orders)} orders)",
        not one,
        f"not one: {one[:10]}" if one else "",
    )
    unpaid = _unpaid(odoo, wiring, orders, sales)
    report.add(
        "every order is paid (Shopify through Stripe, Amazon by Amazon)",
        not unpaid,
        f"unpaid: {unpaid[:10]}" if unpaid else "",
    )
    not_once, untracked = _shipments(odoo, wiring, orders, sales)
    report.add(
        "every order is shipped once, by the 3PL",
        not not_once,
        f"{not_once[:10]}" if not_once else "",
    )
    report.add(
        "every shipment is tracked on its channel",
        not untracked,
        f"untracked: {untracked[:10]}" if untracked else "",
    )
    ok, detail = _payout(odoo, wiring, journal)
    report.add("the Stripe payout reconciles", ok, detail)
    ok, detail = _exceptions(odoo, wiring, journal)
    report.add(
        "the only open exceptions are the injected ones, with their fix", ok, detail
    )
    _oversell(report, odoo, wiring, journal)
    report.peak_backlog, report.drain_seconds = drain_time(journal.backlog)
    report.add(
        "the peak backlog drained",
        report.drain_seconds is not None,
        "" if report.drain_seconds is not None else "still waiting at the end",
    )
    return report


def _bindings(odoo, backend, model, fields=("res_id", "external_id")):
    return odoo(
        "retail.binding",
        "search_read",
        [["backend_id", "=", backend], ["res_model", "=", model]],
        list(fields),
    )


def _sales(odoo, wiring, orders):
    """``{channel ref: [sale order ids]}``: Shopify's by the order's GID or
    name, Amazon's by its order id."""
    by_remote = {}
    for channel in ("shopify", "amazon"):
        for row in _bindings(odoo, wiring.backends[channel], "sale.order"):
            by_remote.setdefault(row["external_id"], set()).add(row["res_id"])
    out = {}
    for order in orders:
        ids = set(by_remote.get(order.remote_id, ()))
        ids |= set(by_remote.get(order.remote_id.rsplit("/", 1)[-1], ()))
        # a second sale order carrying the same channel name is a duplicate too
        ids |= set(
            odoo(
                "sale.order",
                "search",
                [["client_order_ref", "=", order.ref], ["state", "!=", "cancel"]],
            )
        )
        out[order.ref] = sorted(ids)
    return out


def _unpaid(odoo, wiring, orders, sales):
    payments = _bindings(
        odoo, wiring.backends["stripe"], "account.payment", ("res_id", "extra")
    )
    paid_by_sale = {}
    amounts = {
        p["id"]: p["amount"]
        for p in odoo(
            "account.payment",
            "read",
            [b["res_id"] for b in payments],
            ["amount", "state"],
        )
        if p["state"] != "canceled"
    }
    for binding in payments:
        sale = (binding["extra"] or {}).get("sale_order")
        if sale and binding["res_id"] in amounts:
            paid_by_sale[sale] = (
                paid_by_sale.get(sale, 0.0) + amounts[binding["res_id"]]
            )
    unpaid = []
    for order in orders:
        ids = sales.get(order.ref) or []
        if len(ids) != 1:
            unpaid.append(order.ref)
            continue
        if order.channel == "shopify":
            if abs(paid_by_sale.get(ids[0], 0.0) - order.total) > 0.005:
                unpaid.append(order.ref)
        else:
            state = odoo("sale.order", "read", ids, ["state"])[0]["state"]
            if state != "sale":
                unpaid.append(order.ref)
    return unpaid


def _shipments(odoo, wiring, orders, sales):
    remote = {}
    for row in wiring.admins["threepl"].get("orders"):
        remote.setdefault(row["reference_id"], []).append(row)
    not_once, untracked = [], []
    for order in orders:
        ids = sales.get(order.ref) or []
        if len(ids) != 1:
            not_once.append(order.ref)
            continue
        pickings = odoo(
            "stock.picking",
            "search_read",
            [
                ["sale_id", "=", ids[0]],
                ["picking_type_code", "=", "outgoing"],
                ["state", "=", "done"],
            ],
            ["name", "carrier_tracking_ref"],
        )
        if len(pickings) != 1 or len(remote.get(pickings[0]["name"], [])) != 1:
            not_once.append(order.ref)
            continue
        tracking = pickings[0]["carrier_tracking_ref"]
        if not tracking or not _tracked(wiring, order, tracking):
            untracked.append(order.ref)
    return not_once, untracked


def _tracked(wiring, order, tracking):
    if order.channel == "shopify":
        number = order.remote_id.rsplit("/", 1)[-1]
        view = wiring.admins["shopify"].get(f"orders/{number}")
        numbers = {
            t.get("number")
            for f in view.get("fulfillmentDetails") or []
            for t in f.get("tracking") or []
        }
        return tracking in numbers
    view = wiring.admins["amazon"].get(f"orders/{order.remote_id}")
    packages = view.get("packages") or []
    return any(p.get("trackingNumber") == tracking for p in packages)


def _payout(odoo, wiring, journal):
    if not journal.payout:
        return False, "no payout made"
    statements = [
        row
        for row in _bindings(odoo, wiring.backends["stripe"], "account.bank.statement")
        if journal.payout in (row["external_id"] or "")
    ]
    if len(statements) != 1:
        return False, f"{len(statements)} statements for {journal.payout}"
    statement = odoo(
        "account.bank.statement",
        "read",
        [statements[0]["res_id"]],
        ["line_ids", "balance_end_real", "balance_start", "name"],
    )[0]
    lines = odoo(
        "account.bank.statement.line",
        "read",
        statement["line_ids"],
        ["amount", "is_reconciled"],
    )
    open_lines = [line for line in lines if not line["is_reconciled"]]
    if open_lines:
        return False, f"{len(open_lines)} of {len(lines)} lines not reconciled"
    return True, f"{statement['name']}: {len(lines)} lines, all reconciled"


def expected_exceptions(odoo, journal):
    """What the scenario caused on purpose: ``[(kind, names)]``, ``names``
    any of which an exception about it shows (a SKU, an order's names, its
    delivery's, its payment's)."""
    out = []
    for order in journal.orders:
        if order.unknown_sku:
            out.append(("unknown SKU", [order.lines[0][0]]))
            continue
        if not (order.short or order.disputed):
            continue
        names = [order.ref, order.intent, order.charge]
        for sale in odoo(
            "sale.order",
            "search_read",
            [["client_order_ref", "=", order.ref]],
            ["name", "picking_ids"],
        ):
            names.append(sale["name"])
            names += [
                p["name"]
                for p in odoo("stock.picking", "read", sale["picking_ids"], ["name"])
            ]
        names = [n for n in names if n]
        if order.short:
            out.append(("short shipment", names))
        if order.disputed:
            out.append(("dispute", names))
    return out


def _exceptions(odoo, wiring, journal):
    rows = odoo(
        "retail.sync.exception",
        "search_read",
        [
            ["backend_id", "in", list(wiring.backends.values())],
            ["state", "in", ["new", "in_progress"]],
            ["id", "not in", journal.open_before],
        ],
        ["name", "message", "subject_key", "fix_data", "category", "record_name"],
    )
    expected = expected_exceptions(odoo, journal)
    matched, unexpected = set(), []
    for row in rows:
        text = " ".join(
            str(row.get(k) or "")
            for k in ("name", "message", "subject_key", "fix_data", "record_name")
        )
        hit = next(
            (
                index
                for index, (_, names) in enumerate(expected)
                if any(n in text for n in names)
            ),
            None,
        )
        if hit is None:
            unexpected.append(f"{row['subject_key']}: {row['name']}")
            continue
        matched.add(hit)
        if not (row.get("fix_data") or row.get("message")):
            unexpected.append(f"{row['subject_key']}: no fix")
    missing = [
        f"{kind} {names[0]}"
        for i, (kind, names) in enumerate(expected)
        if i not in matched
    ]
    details = []
    if unexpected:
        details.append(f"unexpected: {unexpected[:8]}")
    if missing:
        details.append(f"not reported: {missing}")
    if not details:
        details.append(f"{len(rows)} open, all injected ({len(expected)} injected)")
    if journal.open_before:
        details.append(f"{len(journal.open_before)} open before the sale left aside")
    return not unexpected and not missing, "; ".join(details)


def _oversell(report, odoo, wiring, journal):
    if not journal.allowed:
        report.add("no SKU oversold beyond the latency objective", False, "no sample")
        return
    start, end = journal.allowed[0][0], journal.allowed[-1][0]
    breaches = []
    for channel in ("shopify", "amazon"):
        policy = wiring.policy(odoo, channel, "inventory")
        objective = policy["latency_objective_minutes"] * 60.0
        report.objective[channel] = objective
        history = wiring.admins[channel].get("stock_history")
        offered = offered_timeline(history)
        allowed = {}
        for t, per_channel in journal.allowed:
            for sku, quantity in per_channel[channel].items():
                allowed.setdefault(sku, []).append((t, quantity))
        windows, open_at_end = oversell_windows(offered, allowed, start, end)
        for sku, seconds in windows.items():
            report.oversell[(channel, sku)] = seconds
            if seconds > objective or sku in open_at_end:
                breaches.append(
                    f"{sku} on {channel}: {seconds:.0f} s"
                    + (" (still at the end)" if sku in open_at_end else "")
                )
    report.add(
        "no SKU offered above Odoo's free quantity minus safety stock "
        "beyond the latency objective",
        not breaches,
        "; ".join(breaches),
    )


def diagnose(odoo, wiring):
    """What is still waiting or failed, for a failing run's message."""
    out = []
    events = odoo(
        "retail.event",
        "read_group",
        [["state", "not in", ["done", "skipped_duplicate"]]],
        ["topic"],
        ["state", "topic"],
        lazy=False,
    )
    out += [f"event {e['state']} {e['topic']}: {e['__count']}" for e in events]
    jobs = odoo(
        "queue.job",
        "search_read",
        [
            ["state", "!=", "done"],
            ["channel", "=like", "root.retail_connect%"],
        ],
        ["state", "method_name", "exc_info", "result", "eta", "retry"],
        limit=15,
    )
    out += [
        f"job {j['state']} {j['method_name']} retry {j['retry']} eta {j['eta']}: "
        f"{(j['result'] or '')[:150]} {(j['exc_info'] or '')[-300:]}"
        for j in jobs
    ]
    statuses = {}
    for row in wiring.admins["threepl"].get("orders"):
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    out.append(f"3PL orders: {statuses}")
    for row in odoo(
        "retail.sync.exception",
        "search_read",
        [["state", "in", ["new", "in_progress"]]],
        ["subject_key", "name"],
        limit=20,
    ):
        out.append(f"exception {row['subject_key']}: {row['name'][:200]}")
    return out
