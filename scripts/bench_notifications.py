#!/usr/bin/env python3
"""Benchmark: due-evaluation events through notifications to a local webhook receiver.

    scripts/bench_notifications.py [--events 10000] [--paced-rate 200] [--paced-seconds 10]

Builds notifications, the dev broker and samenplanctl in release mode, starts a PostgreSQL
of its own (.local/bench-notifications, port 54389; scripts/benchlib.py), the dev broker, a
fast webhook receiver (scripts/bench_receiver.py) and notifications with that receiver as
its default webhook. Each `evaluation.due` event names its family's manager, an
unregistered recipient, so each gives one webhook message. Then:

  1. throughput: publishes N events at once with kcat and times them from the first
     publish until the receiver has every message: messages/s;
  2. latency: publishes events at a steady rate and measures, per event, the time from
     publishing it to the receiver having its message: p50 and p99.

Targets (issue 6): at least 1,000 messages/s, and p99 under 250 ms at 200 events/s.
"""
import argparse
import json
import subprocess
import sys
import time
import urllib.request
import uuid

from benchlib import ROOT, SECRET, Bench, percentile, publish_paced

PORT = 18184
RECEIVER_PORT = 18189
bench = Bench("bench-notifications", 54389)
sh = bench.sh


def due_event(n: int, run: str) -> tuple[str, dict]:
    case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}-{n}"))
    event = {
        "specversion": "1.0", "id": f"{run}-{n}", "source": "/samenplan/planning",
        "type": "nl.samenplan.evaluation.due.v1", "datacontenttype": "application/cloudevents+json",
        "time": "2026-11-23T09:00:00Z", "subject": case_id,
        "data": {"caseId": case_id, "area": f"bench-{n % 20:02d}", "managerId": f"fm-bench-{n % 50}",
                 "lastHeldOn": "2026-10-12", "since": "2026-11-23T09:00:00Z"},
    }
    return case_id, event


def publish(events: list[tuple[str, dict]]) -> None:
    lines = "".join(f"{key}|{json.dumps(event)}\n" for key, event in events)
    sh("kcat", "-P", "-b", bench.bootstrap, "-t", "samenplan.planning.v1", "-K", "|", input=lines)


def stats() -> dict:
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{RECEIVER_PORT}/stats", timeout=10).read())


def wait_for(run: str, count: int) -> dict:
    while True:
        current = stats()
        if sum(1 for key in current["arrivals"] if key.startswith(run + "-")) >= count:
            return current
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--paced-rate", type=int, default=200)
    parser.add_argument("--paced-seconds", type=int, default=10)
    args = parser.parse_args()

    bench.build("notifications", "kafka-dev-broker", "samenplanctl")
    try:
        bench.start()
        receiver = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "bench_receiver.py"), "--port", str(RECEIVER_PORT)])
        bench.processes.append(receiver)
        bench.env.update(NOTIFICATIONS_WEBHOOK_URL=f"http://127.0.0.1:{RECEIVER_PORT}/hook",
                         NOTIFICATIONS_WEBHOOK_SECRET=SECRET)
        bench.service("notifications", PORT)

        # Warm-up: connections, metadata, the consumer group.
        publish([due_event(n, "warm") for n in range(200)])
        wait_for("warm", 200)

        print(f"bench: 1. throughput, {args.events} due evaluations at once", flush=True)
        events = [due_event(n, "bulk") for n in range(args.events)]
        started = time.time()
        publish(events)
        published = time.time() - started
        arrived = wait_for("bulk", args.events)
        last = max(at for key, at in arrived["arrivals"].items() if key.startswith("bulk-"))
        elapsed = last - started
        rate = args.events / elapsed

        print(f"bench: 2. latency at {args.paced_rate} events/s for {args.paced_seconds} s", flush=True)
        total = args.paced_rate * args.paced_seconds
        sent_at = publish_paced(args.paced_rate, args.paced_seconds, lambda n: due_event(n, "paced"), publish,
                                chunks_per_second=20)
        final = wait_for("paced", total)
        latencies = [(final["arrivals"][key] - at) * 1000 for key, at in sent_at.items()]
        duplicates = final["duplicates"]
    finally:
        bench.stop_all()

    print("\nbench results (release build, this machine):")
    print(f"  {args.events} due evaluations to webhook messages received: {rate:,.0f} messages/s "
          f"({elapsed:.1f} s; published by {published:.1f} s) (target at least 1,000/s: "
          f"{'met' if rate >= 1000 else 'not met'})")
    print(f"  latency at {args.paced_rate} events/s, publish to receipt: p50 {percentile(latencies, 0.5):.0f} ms, "
          f"p99 {percentile(latencies, 0.99):.0f} ms ({len(latencies)} messages) (target p99 under 250 ms: "
          f"{'met' if percentile(latencies, 0.99) < 250 else 'not met'})")
    print(f"  duplicate messages at the receiver: {duplicates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
