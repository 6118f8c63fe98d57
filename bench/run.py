#!/usr/bin/env python3
"""Webhook ingestion benchmark: acknowledgement rate and latency vs a bare route.

One run (``python3 bench/run.py`` or ``make bench``): PostgreSQL and the test
template database through tools/devenv.py, a fresh bench database with an active
TestShop backend, Odoo served with 2 workers and no job runner, then wrk with 8
connections against ``GET /web/health`` (the bare route) and
``POST /retail_connect/webhook/<id>`` (pre-signed, distinct deliveries), in
alternating rounds; then a check that every acknowledged delivery is stored once
and that a resent one answers "duplicate". Prints a table and writes
bench/results/webhook_ingest.json. See bench/README.md.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import devenv  # noqa: E402
from common import begin_run, log, machine, stop_group  # noqa: E402
from sandboxes.testshop import sign  # noqa: E402

DB = "rc_bench_webhook"
SECRET = "bench-whsec-0123456789"
CONCURRENCY = 8
WORKERS = 2
TARGET_RATIO = 0.6  # PERFORMANCE.md (shared notes): webhook >= 0.6x the bare
TARGET_P99_MS = 25.0  # ... and p99 <= 25 ms at 8 concurrent
MAX_RATE = 1500  # deliveries signed per second of a round: above any rate seen
RESEND_SAMPLE = 100
LUA = BENCH / "wrk_webhook.lua"
RESULTS = BENCH / "results" / "webhook_ingest.json"
LOG = devenv.CACHE / "bench-odoo.log"


# ------------------------------------------------------------------ deliveries
def make_deliveries(path, count, prefix):
    """Write ``count`` signed TestShop deliveries, one a line (see the Lua)."""
    ts = int(time.time())
    now = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines = {}
    for i in range(count):
        event_id = f"evt_{prefix}_{i:06d}_{uuid.uuid4().hex[:12]}"
        customer = {
            "id": f"cus_{i + 1}",
            "email": f"bench{i}@example.com",
            "name": f"Bench Customer {i}",
            "phone": None,
            "updated_at": now,
            "version": 1,
        }
        event = {
            "id": event_id,
            "topic": "customer/created",
            "occurred_at": now,
            "data": customer,
        }
        raw = json.dumps(event, separators=(",", ":"))
        sig = sign(raw.encode(), ts, SECRET)
        lines[event_id] = "\t".join([event_id, event["topic"], str(ts), sig, raw])
    path.write_text("\n".join(lines.values()) + "\n")
    return lines


def headers_of(line):
    event_id, topic, ts, sig, raw = line.split("\t", 4)
    headers = {
        "Content-Type": "application/json",
        "X-TestShop-Topic": topic,
        "X-TestShop-Event-Id": event_id,
        "X-TestShop-Timestamp": ts,
        "X-TestShop-Signature": sig,
    }
    return headers, raw.encode()


# ----------------------------------------------------------------------- CPU
def cpu_seconds(pgid):
    """CPU seconds used so far by Odoo (its process group) and by the bench
    database's PostgreSQL backends (when the server is local; 0 otherwise).

    Less sensitive than rates to other processes sharing the machine.
    """
    tick = os.sysconf("SC_CLK_TCK")
    odoo = pg = 0.0
    marker = f" {DB} ".encode()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[2]) == pgid:
            odoo += used
        elif cmdline.startswith(b"postgres: ") and marker in cmdline:
            pg += used
    return odoo, pg


# ----------------------------------------------------------------------- wrk
def run_wrk(url, duration, workdir, name, deliveries=None, pgid=None):
    out = workdir / f"{name}.json"
    acked = workdir / f"{name}.acked"
    env = dict(os.environ, BENCH_OUT=str(out))
    if deliveries:
        env.update(BENCH_DELIVERIES=str(deliveries), BENCH_ACKED=str(acked))
    cmd = [
        "wrk",
        f"-t{CONCURRENCY}",
        f"-c{CONCURRENCY}",  # one connection per thread: see the Lua script
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        url,
        "--",
        str(CONCURRENCY),
    ]
    cpu_before = cpu_seconds(pgid)
    proc = subprocess.run(
        cmd, env=env, check=False, capture_output=True, text=True, timeout=duration + 60
    )
    cpu_after = cpu_seconds(pgid)
    if proc.returncode or not out.exists():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"wrk failed (exit {proc.returncode}), see above")
    res = json.loads(out.read_text())
    seconds = res["duration_us"] / 1e6
    res["rate"] = res["ok"] / seconds
    res["p50_ms"] = res["latency_us"]["p50"] / 1000
    res["p99_ms"] = res["latency_us"]["p99"] / 1000
    res["socket_errors"] = sum(
        res["errors"][k] for k in ("connect", "read", "write", "timeout")
    )
    res["acked_ids"] = acked.read_text().split() if deliveries else []
    # CPU per request answered (requests still in flight at the end are few);
    # none answered (a 2 s warm-up on cold workers of a loaded machine): no figure
    answered = res["requests"]
    res["odoo_cpu_ms"] = (
        (cpu_after[0] - cpu_before[0]) * 1000 / answered if answered else None
    )
    res["pg_cpu_ms"] = (
        (cpu_after[1] - cpu_before[1]) * 1000 / answered if answered else None
    )
    return res


ROUND_KEYS = ("rate", "p50_ms", "p99_ms", "odoo_cpu_ms", "pg_cpu_ms")


def summary(rounds):
    return {
        "rate": statistics.median(r["rate"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "odoo_cpu_ms": statistics.median(r["odoo_cpu_ms"] for r in rounds),
        "pg_cpu_ms": statistics.median(r["pg_cpu_ms"] for r in rounds),
        "ok": sum(r["ok"] for r in rounds),
        "errors": sum(r["other_status"] + r["socket_errors"] for r in rounds),
        "rounds": [
            {k: round(r[k], 2) for k in ROUND_KEYS}
            | {"ok": r["ok"], "errors": r["other_status"] + r["socket_errors"]}
            for r in rounds
        ],
    }


# ---------------------------------------------------------------------- odoo
def start_odoo(config, port):
    LOG.unlink(missing_ok=True)
    # --load without queue_job: its job runner does not start, jobs stay pending
    cmd = devenv.odoo_cmd(config, "--load=base,web")
    with LOG.open("ab") as out:  # what Odoo prints outside its log, too
        proc = subprocess.Popen(
            cmd, start_new_session=True, cwd=ROOT, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Odoo exited ({proc.returncode}); see {LOG}")
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/web/health", timeout=5)
            if answer.status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Odoo did not answer within 90 s; see {LOG}")


def stop_odoo(proc):
    if stop_group(proc):
        log("stopped Odoo")


# -------------------------------------------------------------------- checks
def settle(pg, backend_id):
    """Wait until requests left in flight by wrk's last round are processed."""
    sql = f"SELECT count(*) FROM retail_event WHERE backend_id = {backend_id}"
    last, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        count = pg.psql(sql, db=DB)
        if count == last:
            return
        last = count
        time.sleep(1)


def dispatch(config):
    """Run the dispatcher once in its own process; how many events got a job."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "odoo_setup.py"), str(config), DB, "dispatch"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return int(done.stdout.split()[-1])


def verify(pg, backend_id, acked, lines, url, config):
    """Every acknowledged delivery stored once; resending one stores nothing;
    the dispatcher then gives every stored event one job."""

    def scalar(sql):
        return int(pg.psql(sql, db=DB))

    settle(pg, backend_id)
    where = f"FROM retail_event WHERE backend_id = {backend_id}"
    stored = set(pg.psql(f"SELECT dedup_key {where}", db=DB).split())
    rows = scalar(f"SELECT count(*) {where}")
    jobs_before = scalar("SELECT count(*) FROM queue_job")
    step = max(1, len(acked) // RESEND_SAMPLE)
    sample = sorted(acked)[::step][:RESEND_SAMPLE]
    answers = {}
    with requests.Session() as session:
        for event_id in sample:
            headers, raw = headers_of(lines[event_id])
            answer = session.post(url, data=raw, headers=headers, timeout=10)
            key = f"{answer.status_code} {answer.text[:40]}"
            answers[key] = answers.get(key, 0) + 1
    jobs = dict(
        line.split("|")
        for line in pg.psql(
            "SELECT state, count(*) FROM queue_job GROUP BY state", db=DB
        ).splitlines()
    )
    jobs_added_by_resend = scalar("SELECT count(*) FROM queue_job") - jobs_before
    dispatchers = scalar(
        "SELECT count(*) FROM queue_job WHERE method_name = '_job_dispatch'"
    )
    # the server "stops" here with every event stored and none dispatched: the
    # dispatcher, run twice in another process, gives each exactly one job
    dispatched = [dispatch(config) for config in (config, config)]
    event_jobs = scalar(
        "SELECT count(*) FROM queue_job WHERE method_name = '_job_process'"
    )
    distinct_jobs = scalar(
        f"SELECT count(DISTINCT job_uuid) {where} AND job_uuid IS NOT NULL"
    )
    return {
        "acknowledged": len(acked),
        "stored": rows,
        "stored_distinct": len(stored),
        "lost": len(acked - stored),
        "stored_not_acknowledged": len(stored - acked),
        "resent": len(sample),
        "resent_answers": answers,
        "rows_after_resend": scalar(f"SELECT count(*) {where}"),
        "jobs_added_by_resend": jobs_added_by_resend,
        "events_queued": scalar(f"SELECT count(*) {where} AND state = 'queued'"),
        "jobs_by_state": {k: int(v) for k, v in jobs.items()},
        "dispatcher_jobs": dispatchers,
        "dispatched": dispatched,
        "event_jobs": event_jobs,
        "events_with_distinct_job": distinct_jobs,
    }


def integrity_ok(check):
    return (
        check["lost"] == 0
        and check["stored"] == check["stored_distinct"]
        and check["resent_answers"] == {"200 duplicate": check["resent"]}
        and check["rows_after_resend"] == check["stored"]
        and check["jobs_added_by_resend"] == 0
        and set(check["jobs_by_state"]) <= {"pending"}
        and check["dispatched"] == [check["stored"], 0]
        and check["event_jobs"] == check["stored"]
        and check["events_with_distinct_job"] == check["stored"]
    )


# --------------------------------------------------------------------- report
def report(result):
    bare, hook, check = result["bare"], result["webhook"], result["check"]
    ratio, p99 = result["ratio"], hook["p99_ms"]
    rows = [("", "per s", "p50 ms", "p99 ms", "errors", "CPU ms", "PG ms")]
    for label, fig in (("bare GET /web/health", bare), ("webhook deliveries", hook)):
        rows.append(
            (label, f"{fig['rate']:.0f}")
            + tuple(f"{fig[k]:.1f}" for k in ("p50_ms", "p99_ms"))
            + (str(fig["errors"]),)
            + tuple(f"{fig[k]:.2f}" for k in ("odoo_cpu_ms", "pg_cpu_ms"))
        )
    print()
    print(
        f"Webhook ingestion, {CONCURRENCY} connections, {WORKERS} workers, "
        f"medians of {result['settings']['rounds']} rounds of "
        f"{result['settings']['duration_s']} s (machine: {os.cpu_count()} cores)"
    )
    for row in rows:
        print(f"  {row[0]:<22}" + "".join(f"{c:>9}" for c in row[1:]))
    print(
        "  (CPU ms, PG ms: CPU time of Odoo's processes and of the bench database's "
        "PostgreSQL backends per request)"
    )

    def verdict(ok):
        return "met" if ok else "MISSED"

    print(
        f"  ratio webhook/bare      {ratio:.2f}   (median of rounds) target >= "
        f"{TARGET_RATIO}: "
        f"{verdict(ratio >= TARGET_RATIO)}"
    )
    print(
        f"  CPU per request bare/webhook {result['cpu_ratio']:.2f} (Odoo + PG: the "
        "rate ratio when CPU-bound, little moved by other load)"
    )
    print(
        f"  webhook p99             {p99:.1f} ms  target <= {TARGET_P99_MS:.0f} ms: "
        f"{verdict(p99 <= TARGET_P99_MS)}"
    )
    print(
        f"  events stored / acknowledged: {check['stored']} / "
        f"{check['acknowledged']} (lost {check['lost']}; "
        f"{check['stored_not_acknowledged']} stored whose answer wrk never read: "
        "in flight when a run stopped)"
    )
    print(
        f"  resent {check['resent']} acknowledged deliveries: "
        f"{check['resent_answers']}, rows added "
        f"{check['rows_after_resend'] - check['stored']}, jobs added "
        f"{check['jobs_added_by_resend']}"
    )
    print(
        f"  jobs by state: {check['jobs_by_state']} (no job ran; "
        f"{check['dispatcher_jobs']} dispatcher job(s), no event job)"
    )
    print(
        f"  then dispatched twice: {check['dispatched']} events got a job; "
        f"{check['event_jobs']} event jobs for {check['stored']} events, "
        f"{check['events_with_distinct_job']} distinct"
    )
    print(f"  integrity: {'ok' if result['integrity_ok'] else 'FAILED'}")
    print(f"  written to {RESULTS.relative_to(ROOT)}")


# ----------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each route")
    parser.add_argument(
        "--db-filter",
        action="store_true",
        help="also set dbfilter (shows the cost of listing databases per request)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args(argv)
    devenv.check_odoo()
    if not shutil.which("wrk"):
        devenv.fail(
            "wrk is needed: apt-get install -y wrk (Debian) or brew install wrk"
        )
    started = time.monotonic()
    load_before = begin_run()
    pg = devenv.Postgres().start()
    odoo = None
    try:
        template = devenv.template_db(pg, demo=False, with_tests=True)
        devenv.fresh_db(pg, template, DB)
        port = devenv.free_port()
        extra = devenv.server_options(
            DB,
            port,
            workers=WORKERS,
            logfile=LOG,
            db_filter=args.db_filter,
            max_cron_threads=0,
            log_level="warn",
        )
        config = devenv.write_config(pg, "bench", with_tests=True, extra=extra)
        setup = subprocess.run(
            [sys.executable, str(BENCH / "odoo_setup.py"), str(config), DB, SECRET],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        if setup.returncode:
            sys.stderr.write(setup.stderr)
            raise RuntimeError("creating the bench backend failed (see above)")
        backend_id = int(setup.stdout.split()[-1])
        log(f"bench database {DB}: active TestShop backend {backend_id}")
        with tempfile.TemporaryDirectory(prefix="rc_bench_") as tmp:
            work = Path(tmp)
            lines = make_deliveries(work / "warmup.tsv", 2 * MAX_RATE, "warmup")
            per_round = MAX_RATE * args.duration
            for r in range(args.rounds):
                lines |= make_deliveries(work / f"round{r}.tsv", per_round, f"r{r}")
            log(f"signed {len(lines)} distinct deliveries")
            odoo = start_odoo(config, port)
            base = f"http://127.0.0.1:{port}"
            health = f"{base}/web/health"
            hook_url = f"{base}/retail_connect/webhook/{backend_id}"
            log(f"Odoo up on {base} ({WORKERS} workers, no job runner); warming up")
            pgid = odoo.pid  # its own session: the workers share this group
            run_wrk(health, 2, work, "warm-bare", pgid=pgid)
            warm = run_wrk(
                hook_url, 2, work, "warm-hook", work / "warmup.tsv", pgid=pgid
            )
            acked = set(warm["acked_ids"])
            bare_rounds, hook_rounds = [], []
            for r in range(args.rounds):
                time.sleep(1)  # let the previous run's last requests finish
                bare_rounds.append(
                    run_wrk(health, args.duration, work, f"bare{r}", pgid=pgid)
                )
                time.sleep(1)
                hook = run_wrk(
                    hook_url,
                    args.duration,
                    work,
                    f"hook{r}",
                    work / f"round{r}.tsv",
                    pgid=pgid,
                )
                hook_rounds.append(hook)
                acked |= set(hook["acked_ids"])
                log(
                    f"round {r + 1}: bare {bare_rounds[-1]['rate']:.0f}/s, "
                    f"webhook {hook['rate']:.0f}/s p99 {hook['p99_ms']:.1f} ms, "
                    f"ratio {hook['rate'] / bare_rounds[-1]['rate']:.2f}"
                )
                if hook["exhausted"]:
                    log("WARNING: a wrk thread ran out of deliveries (raise MAX_RATE)")
            check = verify(pg, backend_id, acked, lines, hook_url, config)
        bare, hook = summary(bare_rounds), summary(hook_rounds)
        # each webhook round against the bare round just before it (same conditions)
        ratios = [
            h["rate"] / b["rate"] for b, h in zip(bare_rounds, hook_rounds, strict=True)
        ]
        ratio = statistics.median(ratios)
        result = {
            "benchmark": "webhook_ingest",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(pg, load_before),
            "settings": {
                "workers": WORKERS,
                "connections": CONCURRENCY,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "db_name": DB,
                "dbfilter": extra.get("dbfilter"),
                "server_wide_modules": "base,web (no queue_job runner)",
                "log_level": "warn",
            },
            "bare": bare,
            "webhook": hook,
            "ratio": ratio,
            "cpu_ratio": (bare["odoo_cpu_ms"] + bare["pg_cpu_ms"])
            / (hook["odoo_cpu_ms"] + hook["pg_cpu_ms"]),
            "ratio_rounds": [round(x, 3) for x in ratios],
            "targets": {"ratio_min": TARGET_RATIO, "p99_ms_max": TARGET_P99_MS},
            "ratio_met": ratio >= TARGET_RATIO,
            "p99_met": hook["p99_ms"] <= TARGET_P99_MS,
            "check": check,
            "integrity_ok": integrity_ok(check),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        report(result)
        errors = bare["errors"] + hook["errors"]
        return 0 if result["integrity_ok"] and not errors else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        stop_odoo(odoo)
        if not args.keep:
            pg.drop(DB)
            devenv.drop_filestore(DB)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
