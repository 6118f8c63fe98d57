"""Issue 8's figures in one run: each bench with its own baseline, one table.

Runs, one after the other (each starts and stops what it needs):
``shopify_orders.py`` (orders/s against the JSON-RPC middleware and the ORM
floor, CPU per order, jobs retried), ``run.py`` (webhook acknowledgement
against Odoo's bare route), ``shopify_oversell.py`` (a sale confirmed in Odoo
during the burst → Shopify's lower quantity) and ``worker_memory.py`` (job
worker RSS over a long import against a same-size trivial run). Then prints
every figure beside its target, met or missed, and writes
``bench/results/throughput.json``.

A missed target is reported, not an error; a bench that fails (a check, an
integrity test, a crash) makes the exit status 1.

    python3 bench/throughput.py                      # ~30 min, 10,000-order memory run
    python3 bench/throughput.py --memory-orders 2000 # shorter memory run (~5 min)
    python3 bench/throughput.py --memory-orders 0    # no memory run
"""

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run(script, *args):
    """Run one bench; return (exit status, its result JSON or None)."""
    out = RESULTS / RESULT_FILES[script]
    out.unlink(missing_ok=True)  # never read a previous run's figures
    print(f"[throughput] {script} {' '.join(args)}", flush=True)
    status = subprocess.call([sys.executable, str(HERE / script), *args])
    data = json.loads(out.read_text()) if out.exists() else None
    return status, data


RESULT_FILES = {
    "shopify_orders.py": "shopify_orders.json",
    "run.py": "webhook_ingest.json",
    "shopify_oversell.py": "shopify_oversell.json",
    "worker_memory.py": "worker_memory.json",
}


def row(figure, value, baseline, ratio, target, met):
    return {
        "figure": figure,
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def orders_rows(data):
    paths, ratios = data["paths"], data["ratios"]
    conn, floor = paths["connector"], paths["orm"]
    best = paths[data["best_middleware"]]
    check = conn["check"]
    cpu = conn["usage"]["cpu_ms_per_order"]
    return [
        row(
            "orders/s end to end vs best JSON-RPC middleware",
            f"{conn['orders_per_s']:.2f}/s",
            f"{best['label']}: {best['orders_per_s']:.2f}/s",
            ratios["connector_vs_middleware"],
            ">= 2.0x",
            ratios["connector_vs_middleware"] >= 2.0,
        ),
        row(
            "orders/s vs the sequential ORM floor",
            f"{conn['orders_per_s']:.2f}/s",
            f"{floor['orders_per_s']:.2f}/s",
            ratios["connector_vs_orm"],
            ">= 1.4x",
            ratios["connector_vs_orm"] >= 1.4,
        ),
        row(
            "jobs retried on concurrency errors",
            f"{check['jobs_retried']} of {check['jobs_total']} "
            f"({check['retried_share']:.1%})",
            "-",
            None,
            "<= 2 %",
            check["retried_share"] <= 0.02,
        ),
        row(
            "CPU (Odoo + PostgreSQL) per order vs the middleware's",
            f"{cpu:.1f} ms",
            f"{best['usage']['cpu_ms_per_order']:.1f} ms "
            f"(floor {floor['usage']['cpu_ms_per_order']:.1f} ms)",
            ratios["connector_cpu_vs_middleware"],
            "<= 0.6x",
            ratios["connector_cpu_vs_middleware"] <= 0.6,
        ),
    ]


def webhook_rows(data):
    hook, bare = data["webhook"], data["bare"]
    return [
        row(
            "webhook acknowledgements per second vs bare route, jobs idle",
            f"{hook['rate']:.0f}/s (CPU ratio {data['cpu_ratio']:.2f})",
            f"{bare['rate']:.0f}/s",
            data["ratio"],
            ">= 0.6x",
            bool(data["ratio_met"]),
        ),
        row(
            "webhook acknowledgement p99, jobs idle",
            f"{hook['p99_ms']:.1f} ms",
            f"bare route {bare['p99_ms']:.1f} ms",
            None,
            "<= 25 ms",
            bool(data["p99_met"]),
        ),
    ]


def oversell_rows(data):
    window = data["oversell_window"]
    return [
        row(
            "oversell window: Odoo confirmation -> Shopify quantity, during the burst",
            f"p95 {window['p95_s']} s, max {window['max_s']} s "
            f"({window['markers']} sales)",
            "-",
            None,
            "p95 <= 5 s, max <= 15 s",
            bool(data["targets_met"]),
        )
    ]


def memory_rows(data):
    growth = data["import"]["growth"]["max_mb"]
    return [
        row(
            "job worker memory growth over a long import",
            f"{growth:.1f} MB over {data['import']['orders']} orders",
            f"{data['baseline']['growth']['max_mb']:.1f} MB (same-size trivial run)",
            None,
            "<= 50 MB over 10,000",
            bool(data["target_met"]) and not data["workers_replaced"],
        )
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="burst size")
    parser.add_argument(
        "--memory-orders",
        type=int,
        default=10_000,
        help="orders of the memory run (0: skip it)",
    )
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    steps = [
        ("shopify_orders.py", ["--orders", str(args.orders), "--clients", "4"]),
        ("run.py", []),
        ("shopify_oversell.py", ["--orders", str(args.orders)]),
    ]
    if args.memory_orders:
        steps.append(("worker_memory.py", ["--orders", str(args.memory_orders)]))
    makers = {
        "shopify_orders.py": orders_rows,
        "run.py": webhook_rows,
        "shopify_oversell.py": oversell_rows,
        "worker_memory.py": memory_rows,
    }
    rows, failed = [], []
    for script, script_args in steps:
        status, data = run(script, *script_args)
        if status != 0 or data is None:
            failed.append(script)
        if data is not None:
            rows.extend(makers[script](data))
    print("\nIssue 8, one run (each figure against its baseline of the same run):")
    for item in rows:
        ratio = f"{item['ratio']:.2f}" if item["ratio"] is not None else "-"
        verdict = "met" if item["met"] else "MISSED"
        print(
            f"  {item['figure']}\n"
            f"      {item['value']}  | baseline {item['baseline']}  | ratio {ratio}"
            f"  | target {item['target']}: {verdict}"
        )
    if not args.memory_orders:
        print("  job worker memory growth: not run (--memory-orders 0)")
    if failed:
        print(f"  FAILED: {', '.join(failed)} (see their output above)")
    out = RESULTS / "throughput.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "rows": rows,
                "failed": failed,
            },
            indent=2,
        )
    )
    print(f"  written to {out.relative_to(HERE.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
