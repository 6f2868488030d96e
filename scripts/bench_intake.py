#!/usr/bin/env python3
"""Benchmark: sustained referral throughput of intake, beside pgbench running the same SQL.

    scripts/bench_intake.py [--referrals 5000] [--paced-rate 200] [--paced-seconds 10]

Builds intake, the dev broker and samenplanctl in release mode, starts a PostgreSQL of its
own (.local/bench, port 54359, default durability settings; scripts/benchlib.py) and the dev broker, and then:

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
import signal
import subprocess
import sys
import time
import urllib.request

from benchlib import ROOT, Bench, percentile, publish_paced

PORT = 18181
AREAS = [f"bench-{n:02d}" for n in range(1, 21)]
# Referrals per transaction in docs/bench/referral_batch.sql (intake's consumer batch).
BATCH = 500
# Seconds between checks whether a run is done. A run's end is read from the database
# afterwards (the outbox's sent_at), so checking seldom costs no precision.
POLL = 0.5
bench = Bench("bench", 54359)
sh, sql = bench.sh, bench.sql


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
    """Referrals of `run` committed as cases, and events not yet delivered to Kafka (the
    latter through the outbox's index of unsent rows). `starts_with`, not a range of the
    key: under most locales `-` and `.` do not sort where the range would need them."""
    handled, unsent = sql(f"""SELECT (SELECT count(*) FROM intake.referrals
                                      WHERE source = '/integrators/bench' AND starts_with(referral_id, '{run}-')),
                                     (SELECT count(*) FROM intake.outbox WHERE sent_at IS NULL)""").split("|")
    return int(handled), int(unsent)


def last_delivery() -> float:
    """When the relay last recorded a delivery (epoch seconds): the end of a run, read from the
    database, so polling for it can be rare and cost the machine nothing measurable."""
    return float(sql("SELECT EXTRACT(EPOCH FROM max(sent_at)) FROM intake.outbox"))


def batch_transactions() -> tuple[float, int]:
    """Intake's consumer transactions for batches so far: seconds in them, and how many
    (the handler-duration histogram of /metrics)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5).read().decode()
    seconds, count = 0.0, 0
    for line in text.splitlines():
        if line.startswith("samenplan_handler_duration_seconds") and 'type="batch"' in line:
            if line.split("{")[0].endswith("_sum"):
                seconds += float(line.split()[-1])
            elif line.split("{")[0].endswith("_count"):
                count += int(float(line.split()[-1]))
    return seconds, count


def done(run: str, count: int) -> bool:
    handled, unsent = progress(run)
    return handled >= count and unsent == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=5000)
    parser.add_argument("--paced-rate", type=int, default=200)
    parser.add_argument("--paced-seconds", type=int, default=10)
    parser.add_argument("--perf", action="store_true",
                        help="record a CPU profile of intake during the throughput run (.local/bench/perf.data)")
    parser.add_argument("--perf-machine", action="store_true",
                        help="the same for every process on the machine (PostgreSQL, the broker, kcat as well)")
    args = parser.parse_args()

    bench.build("intake", "kafka-dev-broker", "samenplanctl")
    try:
        bench.start()
        bootstrap = bench.bootstrap
        intake = bench.service("intake", PORT)
        token = bench.token("admin", "bench")
        for area in AREAS:
            body = json.dumps({"id": f"fm-{area}", "displayName": area, "areas": [area], "maxCaseload": 500}).encode()
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{PORT}/v1/managers", data=body, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})).read()

        # Warm-up: the first messages pay for connections and metadata.
        publish(bootstrap, [referral(n, "warm") for n in range(200)])
        while not done("warm", 200):
            time.sleep(POLL)

        print(f"bench: 1. throughput, {args.referrals} referrals at once", flush=True)
        events = [referral(n, "bulk") for n in range(args.referrals)]
        profiler = None
        if args.perf or args.perf_machine:
            target = ["-a"] if args.perf_machine else ["-p", str(intake.pid)]
            profiler = subprocess.Popen(["perf", "record", "-g", "-o", str(bench.local / "perf.data"), *target],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        transactions_before = batch_transactions()
        started = time.time()
        publish(bootstrap, events)
        published = time.time() - started
        while not done("bulk", args.referrals):
            time.sleep(POLL)
        elapsed = last_delivery() - started
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait()
        rate = args.referrals / elapsed
        transactions_after = batch_transactions()
        in_transactions = transactions_after[0] - transactions_before[0]
        batches = transactions_after[1] - transactions_before[1]

        print(f"bench: 2. latency at {args.paced_rate} referrals/s for {args.paced_seconds} s", flush=True)
        total = args.paced_rate * args.paced_seconds
        sent_at = publish_paced(args.paced_rate, args.paced_seconds, lambda n: referral(n, "paced"),
                                lambda chunk: publish(bootstrap, chunk))
        while not done("paced", total):
            time.sleep(POLL)
        latencies = []
        for line in sql("""
                SELECT substring(event from '"referralId":"([^"]+)"'), EXTRACT(EPOCH FROM sent_at)
                FROM intake.outbox WHERE event LIKE '%referral.accepted%' AND event LIKE '%"paced-%'""").splitlines():
            key, delivered = line.split("|")
            latencies.append((float(delivered) - sent_at[key]) * 1000)

        print("bench: 3. pgbench with the same SQL per batch of referrals", flush=True)
        # Intake stops first: its relay would otherwise publish pgbench's outbox rows too.
        bench.stop(intake)
        # The script's generated batch lives in a temporary table; the services' roles may not
        # create one, so this throw-away database lets intake's role do so for the benchmark.
        sql("GRANT TEMPORARY ON DATABASE samenplan TO intake")
        tps, latencies_ms = bench.pgbench(ROOT / "docs" / "bench" / "referral_batch.sql", "intake", 1, 10)
        # Per-statement latencies (-r): the statement that generates the batch's data stands in
        # for intake's bound parameters and is left out of the comparison.
        statements_ms = sum(ms for ms, command in latencies_ms if not command.startswith("CREATE TEMP TABLE"))
        pgbench_rate = BATCH * 1000 / statements_ms
        pgbench_raw = tps * BATCH
    finally:
        bench.stop_all()

    print("\nbench results (release build, this machine):")
    print(f"  intake, {args.referrals} referrals to committed cases with events delivered: "
          f"{rate:,.0f} referrals/s ({elapsed:.2f} s: published by {published:.1f} s, "
          f"the last event delivered at {elapsed:.2f} s)")
    if batches:
        print(f"  intake's consumer transactions for those: {batches} batches, {in_transactions * 1000 / batches:.0f} ms each "
              f"on average, {in_transactions:.1f} s of the {elapsed:.1f} s")
    print(f"  intake latency at {args.paced_rate}/s, publish to referral.accepted delivered: "
          f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms ({len(latencies)} referrals)")
    print(f"  pgbench, intake's SQL for a batch of {BATCH} referrals, one client: {pgbench_rate:,.0f} referrals/s "
          f"({statements_ms:.1f} ms per batch; {pgbench_raw:,.0f}/s counting the data generation as well)")
    print(f"  intake / pgbench: {rate / pgbench_rate:.2f} (target at least 0.5); "
          f"target 5,000 referrals/s: {'met' if rate >= 5000 else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
