#!/usr/bin/env python3
"""The chaos run: load while the suite's parts fail, then proof that nothing was lost or doubled.

    python3 scripts/chaos.py            the short run (about 4–5 minutes; part of scripts/test.sh)
    python3 scripts/chaos.py --long     the long run (20 minutes of traffic)
    python3 scripts/chaos.py --duration S --rate R --seed N --interval S

It starts a copy of the suite of its own (.local/chaos: PostgreSQL 54379, services
17081–17085, webhooks 17089) and runs `samenplan-load generate` against it: referrals over
several areas, joining referrals, exact redeliveries, nuisance reports, and plan work over
planning's HTTP API. While the traffic runs it works through a list of faults, one every
`--interval` seconds, round and round:

  - SIGKILL each of the five services in turn, and start it again a second later;
  - restart PostgreSQL (a fast shutdown, then a start);
  - take the Kafka broker down for 10 s (the dev broker's SIGUSR1/SIGUSR2: librdkafka's
    mock cluster drops every connection and refuses new ones);
and from the start to the end of the traffic a second replica of intake and of planning runs
beside the first (one consumer group, two members; two HTTP ports).

Then it stops the replicas, waits until every service is ready, and runs
`samenplan-load reconcile`, which proves from the database, the topics, the webhook
receiver's log and the reports that every message had exactly its expected effects, and
prints the figures: messages in, effects out, lost, duplicated. Exit code 0 only when
nothing was lost or duplicated.

The dev broker (librdkafka 2.0.2's mock cluster) can crash on an assertion of its own while
group members are killed and rejoin, and takes every message with it. The run then says so
and starts again on a fresh suite, at most three attempts in all.
"""
import argparse
import shutil
import subprocess
import sys
import threading
import time

from localsuite import ROOT, SERVICES, LocalSuite, wait_for

BIN = ROOT / ".build" / "debug"


def log(message: str) -> None:
    print(f"chaos: {message}", flush=True)


class Faults:
    """Works through the faults on a schedule, in a thread of its own, while the load runs."""

    def __init__(self, suite: LocalSuite, interval: float) -> None:
        self.suite = suite
        self.interval = interval
        self.stopping = threading.Event()
        self.counts: dict[str, int] = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def schedule(self):
        kills = [(f"SIGKILL {service}", lambda s=service: self.kill(s)) for service in SERVICES]
        return kills + [("restart PostgreSQL", self.restart_postgres), ("broker down 10 s", self.broker_outage)]

    def run(self) -> None:
        faults = self.schedule()
        index = 0
        while not self.stopping.wait(self.interval):
            name, action = faults[index % len(faults)]
            index += 1
            log(f"fault: {name}")
            action()
            self.counts[name] = self.counts.get(name, 0) + 1

    def kill(self, service: str) -> None:
        self.suite.kill(service)
        time.sleep(1)
        self.suite.start_service(service)

    def restart_postgres(self) -> None:
        self.suite.postgres("stop")
        time.sleep(1)
        self.suite.postgres("start")

    def broker_outage(self) -> None:
        if not self.suite.broker_alive():
            return  # the attempt is over (see `check_broker`); nothing to take down
        self.suite.broker(up=False)
        time.sleep(10)
        if self.suite.broker_alive():
            self.suite.broker(up=True)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--long", action="store_true", help="20 minutes of traffic instead of 2")
    parser.add_argument("--duration", type=float, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=25, help="messages per second")
    parser.add_argument("--interval", type=float, default=3, help="seconds between faults")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    # The short run is long enough for two rounds of faults: every service killed twice,
    # PostgreSQL restarted twice, the broker down twice.
    duration = args.duration or (1200 if args.long else 120)

    # Service ports below Linux's ephemeral range (32768–60999), so no outgoing connection of
    # another process can be holding one when a killed service starts again.
    suite = LocalSuite("chaos", pgport=54379, port_base=17081, webhook_port=17089)
    # The dev broker is test equipment, not the product: librdkafka 2.0.2's mock cluster can
    # abort on an assertion of its own group coordinator (`!member->resp` in
    # rd_kafka_mock_cgrp_member_add) while group members are killed and rejoin (seen in 2 of
    # 4 clean-clone CI runs on 2026-12-03), and it keeps every topic in memory, so the run's
    # messages are gone with it. What happened to the services cannot be judged then: the
    # run is repeated on a fresh suite, at most ATTEMPTS times in all, and says so.
    for number in range(1, ATTEMPTS + 1):
        outcome = attempt(suite, args, duration)
        if outcome is not BROKER_DIED:
            return outcome
        kept = suite.local.parent / f"chaos-attempt-{number}-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(suite.local / "logs", kept)
        log(f"the dev broker crashed in attempt {number} of {ATTEMPTS}: nothing can be reconciled; "
            f"its logs and the services' are in {kept}")
    log(f"the dev broker crashed in all {ATTEMPTS} attempts; chaos run FAILED")
    return 1


#: How many times the run is tried when the dev broker crashes under it.
ATTEMPTS = 3


#: What `attempt` returns when the dev broker died under it.
BROKER_DIED = None


class BrokerDied(Exception):
    """The dev broker process is gone: nothing of this attempt can be judged."""


def check_broker(suite: LocalSuite) -> None:
    """Raises BrokerDied, naming the crash from the broker's log, when the broker is gone."""
    if suite.broker_alive():
        return
    lines = (suite.local / "logs" / "kafka-dev-broker.log").read_text(errors="replace").splitlines()
    crash = [line for line in lines if "Assertion" in line or "crashed" in line]
    log("the dev broker is gone: " + ("; ".join(crash[:2]) if crash else "no reason in its log"))
    raise BrokerDied()


def attempt(suite: LocalSuite, args, duration: float) -> int | None:
    """One chaos run on `suite`, started afresh: 0 passed, 1 failed, None (BROKER_DIED) when
    the dev broker crashed and nothing could be judged."""
    log(f"starting a suite of its own in {suite.local}")
    try:
        suite.start_fresh()
    except subprocess.CalledProcessError:
        suite.stop()
        log(f"the suite did not start; see {suite.local / 'logs'}")
        return 1
    environment = dict(suite.env, JWT_SECRET=suite.jwt_secret)
    common = ["--bootstrap", suite.bootstrap, "--intake", suite.url("intake"), "--planning", suite.url("planning"),
              "--reporting", suite.url("reporting")]
    manifest = suite.local / "manifest.json"
    replicas = []
    stopped: dict[str, str] = {}
    faults = Faults(suite, args.interval)
    started = time.monotonic()
    generator = None
    try:
        log(f"{args.rate:g} messages/s for {duration:g} s, a fault every {args.interval:g} s, "
            "second replicas of intake and planning")
        replicas = [suite.start_replica("intake", 17091), suite.start_replica("planning", 17092)]
        generator = subprocess.Popen(
            [str(BIN / "samenplan-load"), "generate", *common, "--rate", str(args.rate), "--duration", str(duration),
             "--seed", str(args.seed), "--areas", "6", "--run-id", f"chaos-{args.seed}", "--manifest", str(manifest),
             "--settle", "300"],
            env=environment)
        time.sleep(3)  # the managers registered before the first fault
        faults.thread.start()
        wait_for(lambda: time.monotonic() - started > duration or not suite.broker_alive(), duration + 60, 1)
        faults.stop()
        check_broker(suite)
        log("traffic over; stopping the second replicas, waiting for the plan work and for every service")
        for replica in replicas:
            replica.terminate()
            stopping = time.monotonic()
            while replica.poll() is None and time.monotonic() - stopping < 60:
                check_broker(suite)
                time.sleep(0.1)
            if replica.poll() is None:
                # Leaving a consumer group whose coordinator was just away can hang in
                # librdkafka; the replica is killed instead, which the run tolerates too.
                replica.kill()
                stopped[replica.args[0].rsplit("/", 1)[-1]] = "over 60 s, killed"
            else:
                stopped[replica.args[0].rsplit("/", 1)[-1]] = f"{time.monotonic() - stopping:.1f} s"
        replicas = []
        # The generator waits up to its `--settle` for the plan work; a broker that dies
        # meanwhile ends the wait.
        while generator.poll() is None:
            check_broker(suite)
            time.sleep(1)
        generated = generator.returncode
        for service in SERVICES:  # a service killed last may still be starting
            if not suite.ready(suite.ports[service]):
                wait_for(lambda s=service: suite.ready(suite.ports[s]), 60)
        if generated != 0:
            log(f"the generator failed (exit code {generated})")
        # The broker's crash can void an attempt only before its reconcile: once the reconcile
        # has judged the run, its verdict stands (issue 19), so a loss it found is never
        # thrown away by rerunning after the broker died.
        check_broker(suite)
        reconciled = subprocess.run(
            [str(BIN / "samenplan-load"), "reconcile", *common, "--manifest", str(manifest),
             "--database-url", suite.database_url, "--webhook-log", str(suite.local / "logs" / "webhooks.jsonl"),
             "--wait", "300"],
            env=environment).returncode
        print("\nchaos figures:")
        for name, count in faults.counts.items():
            print(f"  {name}: {count}×")
        print(f"  second replicas of intake and planning for {duration:g} s; SIGTERM to exit: "
              + ", ".join(f"{name} {took}" for name, took in stopped.items()))
        print(f"  whole run: {time.monotonic() - started:.0f} s")
        ok = generated == 0 and reconciled == 0
        print("\nchaos run passed: nothing lost, nothing duplicated" if ok else "\nchaos run FAILED")
        return 0 if ok else 1
    except BrokerDied:
        if generator is not None:
            generator.kill()
        return BROKER_DIED
    finally:
        faults.stopping.set()
        for replica in replicas:
            replica.kill()
        if (suite.local / "pids" / "kafka-dev-broker.pid").exists() and suite.broker_alive():
            suite.broker(up=True)  # a fault cut short must not leave it down for the next run
        suite.stop()


if __name__ == "__main__":
    sys.exit(main())
