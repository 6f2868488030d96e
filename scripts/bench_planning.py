#!/usr/bin/env python3
"""Benchmark: planning's case reads and plan updates over HTTP with wrk, beside pgbench
running the same queries.

    scripts/bench_planning.py [--cases 1000] [--rate 1000] [--seconds 20]

Builds planning, the dev broker and samenplanctl in release mode, starts a PostgreSQL of its
own (.local/bench-planning, port 54379) and planning on port 18182, seeds `--cases` cases,
each with an approved plan, all of family manager `fm-bench`, and then:

  1. reads at a steady rate: `GET /v1/cases/{id}` (random case) at about `--rate`
     requests/s (16 connections, each pausing between requests): the rate reached and p99;
  2. reads as fast as they go (16 connections): requests/s and p99;
  3. plan updates as fast as they go (`PUT /v1/cases/{id}/plan` with If-Match, two
     connections, each on its own cases): requests/s and p99, and any refused;
  4. pgbench, in the same database, with the SQL of a read (docs/bench/planning_read.sql,
     16 clients) and of an update (docs/bench/planning_update.sql, 2 clients).

Targets (issue 4): p99 under 10 ms at 1,000 reads/s, and at least half of pgbench's rate.
"""
import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchlib import ROOT, Bench

PORT = 18182
CONNECTIONS = 16
PLAN = (ROOT / "docs" / "bench" / "planning_update.sql").read_text().split("'{", 1)[1].split("}'::jsonb", 1)[0]


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(bench: Bench, script: str, threads: int, connections: int, seconds: int, env: dict) -> dict:
    output = bench.sh(
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
        "-s", str(ROOT / "docs" / "bench" / script), f"http://127.0.0.1:{PORT}",
        capture_output=True, env=dict(bench.env, **env)).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    p50 = milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))
    refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {"rate": rate, "p50": p50, "p99": p99, "refused": int(refused.group(1)) if refused else 0,
            "errors": errors.group(0) if errors else ""}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--perf", action="store_true",
                        help="record a CPU profile of planning during the flat-out reads (.local/bench-planning/perf.data)")
    args = parser.parse_args()

    bench = Bench("bench-planning", 54379)
    bench.build("planning", "kafka-dev-broker", "samenplanctl")
    try:
        bench.start()
        planning = bench.service("planning", PORT)
        print(f"bench: seeding {args.cases} cases with an approved plan", flush=True)
        bench.sql(f"""
            INSERT INTO planning.cases (id, area, framework, urgency, manager_id, phase, opened_at, phase_changed_at)
            SELECT md5('bench-' || n)::uuid, 'bench', 'voluntary', 'normal', 'fm-bench', 'support', now(), now()
            FROM generate_series(1, {args.cases}) AS n;
            INSERT INTO planning.phase_history (case_id, phase, previous_phase, changed_at)
            SELECT md5('bench-' || n)::uuid, p.phase, p.previous, now() + p.k * interval '1 second'
            FROM generate_series(1, {args.cases}) AS n,
                 (VALUES ('connect', NULL, 0), ('support', 'connect', 1)) AS p(phase, previous, k);
            INSERT INTO planning.plan_versions (case_id, version, content, reason, author, created_at, status, decided_by, decided_at)
            SELECT md5('bench-' || n)::uuid, 1, '{{{PLAN}}}'::jsonb, 'Start', 'fm-bench', now(), 'approved', 'tl-bench', now()
            FROM generate_series(1, {args.cases}) AS n;
            ANALYZE planning.cases; ANALYZE planning.plan_versions; ANALYZE planning.phase_history;
        """)
        ids = bench.sql(f"SELECT md5('bench-' || n)::uuid FROM generate_series(1, {args.cases}) AS n").split()
        cases_file = bench.local / "cases.lua"
        cases_file.write_text("return {" + ",".join(f'"{i}"' for i in ids) + "}\n")
        env = {"CASES_FILE": str(cases_file), "TOKEN": bench.token("family-manager", "fm-bench")}

        # Warm-up: connections, caches, the JIT of nothing (Swift), PostgreSQL's buffers.
        wrk(bench, "planning_read.lua", 2, CONNECTIONS, 5, dict(env, DELAY_MS="0"))

        # Each connection sends, waits for the answer, pauses: the rate is connections /
        # (pause + latency). A short probe measures the latency at this load to set the pause.
        pause = CONNECTIONS * 1000 / args.rate
        probe = wrk(bench, "planning_read.lua", 2, CONNECTIONS, 3, dict(env, DELAY_MS=str(round(pause))))
        latency = CONNECTIONS * 1000 / probe["rate"] - round(pause)
        pause = max(1, round(CONNECTIONS * 1000 / args.rate - latency))
        print(f"bench: 1. reads at about {args.rate}/s for {args.seconds} s", flush=True)
        paced = wrk(bench, "planning_read.lua", 2, CONNECTIONS, args.seconds, dict(env, DELAY_MS=str(pause)))
        print(f"bench: 2. reads as fast as they go for {args.seconds} s", flush=True)
        profiler = None
        if args.perf:
            profiler = subprocess.Popen(
                ["perf", "record", "-g", "-o", str(bench.local / "perf.data"), "-p", str(planning.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        reads = wrk(bench, "planning_read.lua", 2, CONNECTIONS, args.seconds, dict(env, DELAY_MS="0"))
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait()
        print(f"bench: 3. plan updates as fast as they go for {args.seconds} s", flush=True)
        updates = wrk(bench, "planning_update.lua", 2, 2, args.seconds, env)

        print("bench: 4. pgbench with the same SQL", flush=True)
        read_tps, _ = bench.pgbench(ROOT / "docs" / "bench" / "planning_read.sql", "planning", CONNECTIONS, args.seconds)
        update_tps, _ = bench.pgbench(ROOT / "docs" / "bench" / "planning_update.sql", "planning", 2, args.seconds)
    finally:
        bench.stop_all()

    print("\nbench results (release build, this machine):")
    print(f"  reads paced at {args.rate}/s: {paced['rate']:,.0f} requests/s, p50 {paced['p50']:.2f} ms, "
          f"p99 {paced['p99']:.2f} ms (target: p99 under 10 ms at 1,000/s: "
          f"{'met' if paced['p99'] < 10 and paced['rate'] >= 0.95 * args.rate else 'not met'})")
    print(f"  reads, {CONNECTIONS} connections: {reads['rate']:,.0f} requests/s, p99 {reads['p99']:.2f} ms; "
          f"pgbench same SQL, {CONNECTIONS} clients: {read_tps:,.0f} tps; ratio {reads['rate'] / read_tps:.2f} "
          f"(target at least 0.5)")
    print(f"  plan updates, 2 connections: {updates['rate']:,.0f} requests/s, p99 {updates['p99']:.2f} ms, "
          f"{updates['refused']} refused; pgbench same SQL, 2 clients: {update_tps:,.0f} tps; "
          f"ratio {updates['rate'] / update_tps:.2f} (target at least 0.5)")
    for name, run in (("paced", paced), ("reads", reads), ("updates", updates)):
        if run["errors"]:
            print(f"  {name}: {run['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
