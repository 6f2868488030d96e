#!/usr/bin/env python3
"""Benchmark: reporting projecting a large history, rebuilding it, and answering reports.

    scripts/bench_reporting.py [--events 100000] [--seed 1] [--queries 30]

Builds reporting, samenplanctl and the dev broker in release mode, starts a PostgreSQL of its
own (.local/bench-reporting, port 54389), then:

  1. `samenplanctl generate-history --publish-to` publishes `--events` events of a seeded
     synthetic history (families referred, assigned, through their phases, evaluations,
     plan versions, placements, nuisance reports, goals, follow-ups, volunteers and their
     hours) to the suite's topics;
  2. reporting starts (port 18185) and projects them all: events/s from its first projected
     event to its last (counted in its inbox);
  3. `samenplanctl rebuild-reporting` replays the topics into fresh tables and swaps them in:
     messages/s;
  4. every report, for a year, a quarter and a month, for all areas and for one, is asked
     once to warm up and then `--queries` times over HTTP: p50, p95 and the slowest answer.

Targets (issue 7): at least 10,000 events/s projected; report queries under 50 ms.
"""
import argparse
import json
import subprocess
import sys
import time
import urllib.request

from benchlib import RELEASE, SECRET, Bench, percentile

PORT = 18185


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    args = parser.parse_args()

    bench = Bench("bench-reporting", 54389)
    if not args.no_build:
        bench.build("reporting", "samenplanctl", "kafka-dev-broker")
    # 100,000 events are about 50 MB: 32 partitions stay under the dev broker's 5 MB each.
    bench.start(partitions=32)
    try:
        # 1. The history, published in its order (samenplanctl waits for every acknowledgement).
        started = time.time()
        bench.sh(str(RELEASE / "samenplanctl"), "generate-history", "--seed", str(args.seed), "--events", str(args.events),
                 "--publish-to", bench.bootstrap, stdout=subprocess.DEVNULL)
        print(f"bench: published {args.events} events in {time.time() - started:.1f} s", flush=True)

        # 2. The live projection.
        service = bench.service("reporting", PORT)
        first = last = None
        deadline = time.time() + 600
        while time.time() < deadline:
            count = int(bench.sql("SELECT count(*) FROM reporting.inbox"))
            now = time.time()
            if count > 0 and first is None:
                first = (now, count)
            if count >= args.events:
                last = (now, count)
                break
            time.sleep(0.05)
        if last is None:
            print("bench: reporting did not project every event within 10 minutes", file=sys.stderr)
            return 1
        # From the first projected batch on (the group join before it is not projection).
        projected_rate = (last[1] - first[1]) / max(0.001, last[0] - first[0])

        # 3. A rebuild from the topics, while the service runs.
        rebuild = bench.sh(str(RELEASE / "samenplanctl"), "rebuild-reporting", capture_output=True, env=dict(
            bench.env, DATABASE_URL=f"postgres://reporting:reporting@127.0.0.1:{bench.pgport}/samenplan",
            KAFKA_BOOTSTRAP_SERVERS=bench.bootstrap, JWT_SECRET=SECRET, LOG_LEVEL="warning"))
        summary = rebuild.stdout.strip().splitlines()[-1]
        rebuild_rate = float(summary.rsplit(",", 1)[1].split()[0])

        # 4. Report queries.
        token = bench.token("analyst", "bench")
        paths = ["caseload"]
        for kind in ["flow", "rhythm", "outcomes", "volunteers"]:
            for period in ["2026", "2026-Q4", "2026-11"]:
                paths.append(f"{kind}?period={period}")
            paths.append(f"{kind}?period=2026&area=goes")
        timings: dict[str, list[float]] = {}
        for path in paths:
            request = urllib.request.Request(f"http://127.0.0.1:{PORT}/v1/reports/{path}",
                                             headers={"Authorization": f"Bearer {token}"})
            samples = []
            # One answer first, not counted: the first query of a kind plans it and warms the cache.
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            for _ in range(args.queries):
                began = time.perf_counter()
                with urllib.request.urlopen(request, timeout=10) as response:
                    json.loads(response.read())
                samples.append((time.perf_counter() - began) * 1000)
            timings[path] = samples
        bench.stop(service)
    finally:
        bench.stop_all()

    print()
    print(f"reporting, {args.events} events (seed {args.seed}), release build")
    print(f"  live projection : {projected_rate:,.0f} events/s   (target >= 10,000)")
    print(f"  rebuild         : {rebuild_rate:,.0f} messages/s  ({summary})")
    print(f"  report queries  : {args.queries} each, over HTTP (target < 50 ms)")
    for path, samples in timings.items():
        print(f"    {path:32s} p50 {percentile(samples, 0.5):6.1f} ms   p95 {percentile(samples, 0.95):6.1f} ms   "
              f"max {max(samples):6.1f} ms")
    slowest = max(max(samples) for samples in timings.values())
    ok = projected_rate >= 10_000 and slowest < 50
    print(f"  {'targets met' if ok else 'targets NOT met'}; slowest answer {slowest:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
