#!/usr/bin/env python3
"""Benchmark: sustained referral throughput of intake, beside pgbench running the same SQL.

    scripts/bench_intake.py [--referrals 5000] [--paced-rate 200] [--paced-seconds 10]

Builds intake, the dev broker and samenplanctl in release mode, starts a PostgreSQL of its
own (.local/bench, port 54359, default durability settings) and the dev broker, and then:

  1. throughput: publishes N referrals of N different families at once with kcat and times
     them from the first publish until every referral is a committed case and every event
     it caused has left the outbox (delivered to Kafka): referrals/s;
  2. latency: publishes referrals at a steady rate and measures, per referral, the time
     from publishing it to its `referral.accepted` event being delivered: p50 and p99;
  3. pgbench: runs, in the same database, the SQL intake executes for one batch of 500
     referrals (one transaction each; docs/bench/referral_batch.sql), with one client like
     intake's one consumer: referrals/s, from pgbench's per-statement latencies.

It prints the figures and how intake's rate compares with pgbench's. Targets (issue 3):
at least half of pgbench's rate, and at least 5,000 referrals/s.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local" / "bench"
PGPORT = 54359
PORT = 18181
ADMIN_URL = f"postgres://postgres@127.0.0.1:{PGPORT}/postgres"
DB_URL = f"postgres://postgres@127.0.0.1:{PGPORT}/samenplan"
ENV = dict(os.environ, SAMENPLAN_LOCAL=str(LOCAL), SAMENPLAN_PGPORT=str(PGPORT))
AREAS = [f"bench-{n:02d}" for n in range(1, 21)]
# Referrals per transaction in docs/bench/referral_batch.sql (intake's consumer batch).
BATCH = 500


def sh(*command: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", ENV)
    return subprocess.run(command, check=True, text=True, **kwargs)


def sql(query: str) -> str:
    return sh("psql", DB_URL, "-Atc", query, capture_output=True).stdout.strip()


def postgres(action: str) -> None:
    function = "start_postgres" if action == "start" else "stop_postgres"
    sh("bash", "-c", f'source "{ROOT}/scripts/common.sh"; {function} "$LOCAL/pg"')


def referral(n: int, run: str) -> tuple[str, dict]:
    area = AREAS[n % len(AREAS)]
    event = {
        "specversion": "1.0", "id": f"{run}-{n}", "source": "/integrators/bench",
        "type": "nl.samenplan.referral.submitted.v1", "datacontenttype": "application/json",
        "data": {
            "referralId": f"{run}-{n}", "framework": "voluntary", "urgency": "normal", "area": area,
            "referrer": {"organisation": "Benchmark"},
            "members": [
                {"memberRef": "p", "role": "parent", "givenName": "Ouder", "familyName": f"F{run}{n}"},
                {"memberRef": "c", "role": "child", "givenName": f"Kind{n}", "familyName": f"F{run}{n}",
                 "birthDate": "2015-01-01"},
            ],
        },
    }
    return f"{run}-{n}", event


def publish(bootstrap: str, events: list[tuple[str, dict]]) -> None:
    lines = "".join(f"{key}|{json.dumps(event)}\n" for key, event in events)
    sh("kcat", "-P", "-b", bootstrap, "-t", "samenplan.referrals.v1", "-K", "|", input=lines)


def progress(run: str) -> tuple[int, int]:
    """Referrals of `run` committed as cases, and events not yet delivered to Kafka."""
    handled, unsent = sql(f"""SELECT (SELECT count(*) FROM intake.referrals WHERE referral_id LIKE '{run}-%'),
                                     (SELECT count(*) FROM intake.outbox WHERE sent_at IS NULL)""").split("|")
    return int(handled), int(unsent)


def done(run: str, count: int) -> bool:
    handled, unsent = progress(run)
    return handled >= count and unsent == 0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=5000)
    parser.add_argument("--paced-rate", type=int, default=200)
    parser.add_argument("--paced-seconds", type=int, default=10)
    parser.add_argument("--perf", action="store_true",
                        help="record a CPU profile of intake during the throughput run (.local/bench/perf.data)")
    args = parser.parse_args()

    print("bench: building release binaries", flush=True)
    for product in ["intake", "kafka-dev-broker", "samenplanctl"]:
        sh("swift", "build", "-c", "release", "--product", product, stdout=subprocess.DEVNULL)
    release = ROOT / ".build" / "release"

    subprocess.run(["rm", "-rf", str(LOCAL)], check=True)
    # and the server data kept outside the checkout when `postgres` may not enter it
    subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/common.sh"; rm -rf "$(pg_data "$LOCAL/pg")"'], env=ENV, check=True)
    LOCAL.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        postgres("start")
        sh(str(release / "samenplanctl"), "setup-database", "--admin-url", ADMIN_URL, stdout=subprocess.DEVNULL)
        broker = subprocess.Popen([str(release / "kafka-dev-broker"), "--partitions", "6",
                                   "--bootstrap-file", str(LOCAL / "bootstrap")], stdout=subprocess.DEVNULL)
        processes.append(broker)
        while not (LOCAL / "bootstrap").exists():
            time.sleep(0.1)
        bootstrap = (LOCAL / "bootstrap").read_text().strip()
        secret = "bench-secret-bench-secret-bench-secret"
        intake = subprocess.Popen([str(release / "intake")], env=dict(
            ENV, DATABASE_URL=f"postgres://intake:intake@127.0.0.1:{PGPORT}/samenplan",
            KAFKA_BOOTSTRAP_SERVERS=bootstrap, HTTP_PORT=str(PORT), LOG_LEVEL="warning", JWT_SECRET=secret),
            stdout=subprocess.DEVNULL, stderr=open(LOCAL / "intake.log", "w"))
        processes.append(intake)
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/ready", timeout=2).status == 200:
                    break
            except Exception:
                time.sleep(0.2)
        token = sh(str(release / "samenplanctl"), "mint-token", "--role", "admin", "--subject", "bench",
                   capture_output=True, env=dict(ENV, JWT_SECRET=secret)).stdout.strip()
        for area in AREAS:
            body = json.dumps({"id": f"fm-{area}", "displayName": area, "areas": [area], "maxCaseload": 500}).encode()
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{PORT}/v1/managers", data=body, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})).read()

        # Warm-up: the first messages pay for connections and metadata.
        publish(bootstrap, [referral(n, "warm") for n in range(200)])
        while not done("warm", 200):
            time.sleep(0.1)

        print(f"bench: 1. throughput, {args.referrals} referrals at once", flush=True)
        events = [referral(n, "bulk") for n in range(args.referrals)]
        profiler = None
        if args.perf:
            profiler = subprocess.Popen(["perf", "record", "-g", "-o", str(LOCAL / "perf.data"), "-p", str(intake.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        started = time.monotonic()
        publish(bootstrap, events)
        published = time.monotonic() - started
        committed = None
        while True:
            handled, unsent = progress("bulk")
            if committed is None and handled >= args.referrals:
                committed = time.monotonic() - started
            if handled >= args.referrals and unsent == 0:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait()
        rate = args.referrals / elapsed

        print(f"bench: 2. latency at {args.paced_rate} referrals/s for {args.paced_seconds} s", flush=True)
        sent_at: dict[str, float] = {}
        batch = max(1, args.paced_rate // 10)
        total = args.paced_rate * args.paced_seconds
        wall_start = time.time()
        for start in range(0, total, batch):
            due = wall_start + start / args.paced_rate
            time.sleep(max(0.0, due - time.time()))
            chunk = [referral(n, "paced") for n in range(start, min(total, start + batch))]
            now = time.time()
            publish(bootstrap, chunk)
            for key, _ in chunk:
                sent_at[key] = now
        while not done("paced", total):
            time.sleep(0.05)
        latencies = []
        for line in sql("""
                SELECT substring(event from '"referralId":"([^"]+)"'), EXTRACT(EPOCH FROM sent_at)
                FROM intake.outbox WHERE event LIKE '%referral.accepted%' AND event LIKE '%"paced-%'""").splitlines():
            key, delivered = line.split("|")
            latencies.append((float(delivered) - sent_at[key]) * 1000)

        print("bench: 3. pgbench with the same SQL per batch of referrals", flush=True)
        # Intake stops first: its relay would otherwise publish pgbench's outbox rows too.
        intake.send_signal(signal.SIGTERM)
        intake.wait(timeout=30)
        script = ROOT / "docs" / "bench" / "referral_batch.sql"
        # The script's generated batch lives in a temporary table; the services' roles may not
        # create one, so this throw-away database lets intake's role do so for the benchmark.
        sh("psql", DB_URL, "-qc", "GRANT TEMPORARY ON DATABASE samenplan TO intake")
        output = sh("pgbench", "-n", "-r", "-f", str(script), "-c", "1", "-j", "1",
                    "-T", "10", "-U", "intake", "-h", "127.0.0.1", "-p", str(PGPORT), "samenplan",
                    capture_output=True, env=dict(ENV, PGPASSWORD="intake")).stdout
        tps = next(float(line.split("=")[1].split()[0]) for line in output.splitlines() if line.startswith("tps"))
        # Per-statement latencies (-r): the statement that generates the batch's data stands in
        # for intake's bound parameters and is left out of the comparison.
        latencies_ms = []
        in_latencies = False
        for line in output.splitlines():
            if line.startswith("statement latencies"):
                in_latencies = True
                continue
            if in_latencies and line.strip():
                parts = line.split()
                try:
                    latencies_ms.append((float(parts[0]), " ".join(parts[2:])))
                except (ValueError, IndexError):
                    pass
        statements_ms = sum(ms for ms, command in latencies_ms if not command.startswith("CREATE TEMP TABLE"))
        pgbench_rate = BATCH * 1000 / statements_ms
        pgbench_raw = tps * BATCH
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        postgres("stop")

    print("\nbench results (release build, this machine):")
    print(f"  intake, {args.referrals} referrals to committed cases with events delivered: "
          f"{rate:,.0f} referrals/s ({elapsed:.1f} s: published by {published:.1f} s, "
          f"all committed by {committed:.1f} s, all events delivered by {elapsed:.1f} s)")
    print(f"  intake latency at {args.paced_rate}/s, publish to referral.accepted delivered: "
          f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms ({len(latencies)} referrals)")
    print(f"  pgbench, intake's SQL for a batch of {BATCH} referrals, one client: {pgbench_rate:,.0f} referrals/s "
          f"({statements_ms:.1f} ms per batch; {pgbench_raw:,.0f}/s counting the data generation as well)")
    print(f"  intake / pgbench: {rate / pgbench_rate:.2f} (target at least 0.5); "
          f"target 5,000 referrals/s: {'met' if rate >= 5000 else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
