#!/usr/bin/env python3
"""Suite-level acceptance checks, run against the real executables by scripts/test.sh.

What unit and integration tests cannot show, because it needs whole processes:
  1. scripts/run.sh brings all five services to /health/ready within 60 s;
  2. a referral published with kcat reaches planning, the caseload report and the
     manager's webhook (one signed message) within 2 s;
  3. with PostgreSQL stopped, every /health/ready says 503 naming the database within
     10 s; after a restart they are ready again and referrals published meanwhile are
     all processed;
  4. 1,000 referrals published while intake is killed with SIGKILL and restarted midway
     give exactly 1,000 cases;
  5. 10,000 referrals over 20 areas give exactly the cases, joins and queue lengths their
     generator decided (scripts/load_referrals.py);
  6. SIGTERM stops every service with exit code 0 within 10 s.

It runs a copy of the suite of its own (.local/acceptance, other ports), so a suite
started by scripts/run.sh can keep running. Exit code 0 when every check passed.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from localsuite import ROOT, SERVICES, LocalSuite, wait_for

SUITE = LocalSuite("acceptance", pgport=54349, port_base=18081, webhook_port=18089)
LOCAL = SUITE.local
PORTS = SUITE.ports
ENV = SUITE.env
DB_URL = SUITE.database_url
FIGURES: list[tuple[str, str]] = []
FAILURES: list[str] = []


def log(message: str) -> None:
    print(f"acceptance: {message}", flush=True)


def check(condition: bool, message: str) -> None:
    print(f"  {'ok  ' if condition else 'FAIL'} {message}", flush=True)
    if not condition:
        FAILURES.append(message)


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=ENV, check=True, text=True, capture_output=True, **kwargs)


def sql(query: str) -> str:
    return run("psql", DB_URL, "-Atc", query).stdout.strip()


def http(port: int, path: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except json.JSONDecodeError:
            return error.code, {}
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


def referral(referral_id: str, area: str, child: str, birth_date: str) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/integrators/acceptance",
        "type": "nl.samenplan.referral.submitted.v1",
        "time": "2026-11-23T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "referralId": referral_id,
            "framework": "voluntary",
            "urgency": "normal",
            "area": area,
            "referrer": {"organisation": "Veilig Thuis Zeeland"},
            "members": [
                {"memberRef": "m1", "role": "parent", "givenName": "Eva", "familyName": "Jansen"},
                {"memberRef": "m2", "role": "child", "givenName": child, "familyName": "Jansen",
                 "birthDate": birth_date},
            ],
            "reason": "Acceptance check.",
        },
    }


def publish(events: list[dict]) -> None:
    """Publishes with kcat, as an integrator would: one line per event, `key|json`."""
    bootstrap = (LOCAL / "kafka.bootstrap").read_text().strip()
    lines = "".join(f"{event['data']['referralId']}|{json.dumps(event)}\n" for event in events)
    run("kcat", "-P", "-b", bootstrap, "-t", "samenplan.referrals.v1", "-K", "|", input=lines)


def check_run_command() -> None:
    log("1. scripts/run.sh brings every service to /health/ready")
    started = time.monotonic()
    subprocess.run([str(ROOT / "scripts" / "run.sh")], env=ENV, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    check(SUITE.all_ready(), f"all five services ready; run.sh took {elapsed:.1f} s (it fails past 60 s of waiting)")
    FIGURES.append(("run.sh to all ready (build already done)", f"{elapsed:.1f} s"))


def check_referral_end_to_end(token: str) -> None:
    log("2. a referral published with kcat reaches planning, reporting and the webhook")
    publish([referral("ACC-E2E-1", "borsele", "Sanne", "2015-04-02")])
    started = time.monotonic()
    case_id = ""

    def case_served() -> bool:
        nonlocal case_id
        case_id = case_id or sql("SELECT case_id FROM intake.referrals WHERE referral_id = 'ACC-E2E-1'")
        return bool(case_id) and http(PORTS["planning"], f"/v1/cases/{case_id}", token)[1].get("phase") == "connect"

    def in_report() -> bool:
        report = http(PORTS["reporting"], "/v1/reports/caseload", token)[1]
        return {"area": "borsele", "phase": "connect", "openCases": 1} in report.get("byAreaAndPhase", [])

    def webhooks() -> list[dict]:
        path = LOCAL / "logs" / "webhooks.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    def about_case(message: dict) -> bool:
        # The webhook carries the event's data; its ids may be upper-case (Foundation's UUIDs).
        return str(message["body"].get("data", {}).get("caseId", "")).lower() == case_id

    served = wait_for(case_served, 10)
    reported = wait_for(in_report, 10)
    notified = wait_for(lambda: any(about_case(w) for w in webhooks()), 10)
    total = time.monotonic() - started
    check(served is not None, "GET /v1/cases/{id} on planning serves the case in phase connect")
    check(reported is not None, "GET /v1/reports/caseload counts it in borsele/connect")
    check(notified is not None, "the webhook receiver got a signed message for the case")
    time.sleep(1)
    messages = [w for w in webhooks() if about_case(w)]
    check(len(messages) == 1, f"exactly one webhook message for the case (got {len(messages)})")
    check(messages[:1] and messages[0]["body"].get("recipientId") == "fm-borsele",
          "the message is for the area's family manager, fm-borsele")
    check(total <= 2.0, f"all three within 2 s of publishing (took {total:.2f} s)")
    FIGURES.append(("kcat referral to case, report and webhook", f"{total:.2f} s"))


def check_database_outage(token: str) -> None:
    log("3. PostgreSQL stopped: 503 naming the database, then recovery without loss")
    SUITE.postgres("stop")
    stopped = time.monotonic()

    def database_down(port: int) -> bool:
        status, body = http(port, "/health/ready")
        return status == 503 and body.get("checks", {}).get("database", {}).get("status") == "down"

    def all_report_database_down() -> bool:
        # Asked in parallel: each answer may take up to the probe's 2 s timeout.
        with ThreadPoolExecutor(len(PORTS)) as pool:
            return all(pool.map(database_down, PORTS.values()))

    detected = wait_for(all_report_database_down, 10, interval=0.2)
    check(detected is not None, "every /health/ready answers 503 with checks.database down within 10 s"
          + (f" ({detected:.1f} s)" if detected is not None else ""))
    FIGURES.append(("database stop to 503 on all five", f"{detected:.1f} s" if detected is not None else "over 10 s"))
    publish([referral(f"ACC-OUTAGE-{n}", "goes", f"Kind{n}", "2016-01-01") for n in range(20)])
    time.sleep(2)
    SUITE.postgres("start")
    back = wait_for(SUITE.all_ready, 60, interval=0.2)
    check(back is not None, "all five ready again after PostgreSQL restarted"
          + (f" ({back:.1f} s)" if back is not None else ""))
    processed = wait_for(
        lambda: sql("SELECT count(*) FROM intake.referrals WHERE referral_id LIKE 'ACC-OUTAGE-%'") == "20", 60, 0.2)
    check(processed is not None, "the 20 referrals published during the outage all became referrals with cases")
    FIGURES.append(("outage to all ready again", f"{time.monotonic() - stopped:.1f} s"))


def serve_area(area: str, token: str) -> None:
    """Adds an area to the ones intake serves (PUT /v1/areas/{area}): a referral elsewhere is rejected."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORTS['intake']}/v1/areas/{area}", data=json.dumps({"team": "team-acceptance"}).encode(),
        method="PUT", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        check(response.status == 200, f"intake serves area {area}")


def check_sigkill_midway(token: str) -> None:
    log("4. 1,000 referrals while intake is killed with SIGKILL and restarted")
    serve_area("kill-test", token)
    events = [referral(f"ACC-KILL-{n:04d}", "kill-test", f"Kind{n:04d}", "2014-06-01") for n in range(1000)]
    started = time.monotonic()
    publish(events[:500])

    def cases() -> int:
        return int(sql("SELECT count(*) FROM intake.cases WHERE area = 'kill-test'") or 0)

    wait_for(lambda: cases() >= 100, 60, 0.02)
    os.kill(SUITE.pid_of("intake"), signal.SIGKILL)
    killed_at = cases()
    publish(events[500:])
    time.sleep(1)
    SUITE.start_service("intake")
    done = wait_for(lambda: cases() >= 1000, 180, 0.2)
    time.sleep(2)  # anything extra would show up now
    final = cases()
    referrals = int(sql("SELECT count(*) FROM intake.referrals WHERE referral_id LIKE 'ACC-KILL-%'"))
    check(done is not None and final == 1000, f"exactly 1,000 cases (got {final}; killed after {killed_at})")
    check(referrals == 1000, f"exactly 1,000 referrals (got {referrals})")
    FIGURES.append(("1,000 referrals with intake SIGKILLed midway",
                    f"{final} cases in {time.monotonic() - started:.1f} s (killed after {killed_at})"))


def check_load(token: str) -> None:
    log("5. 10,000 referrals over 20 areas: cases, joins and queues as generated")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "load_referrals.py"),
         "--bootstrap", (LOCAL / "kafka.bootstrap").read_text().strip(),
         "--intake", f"http://127.0.0.1:{PORTS['intake']}", "--admin-token", token, "--database-url", DB_URL],
        env=ENV, text=True, capture_output=True)
    print(result.stdout, end="", flush=True)
    check(result.returncode == 0, "cases, referrals, joins and every area's queue as the generator decided")
    FIGURES.append(("10,000 referrals over 20 areas", f"{time.monotonic() - started:.1f} s, "
                    + ("as generated" if result.returncode == 0 else "DIFFERENT")))


def check_sigterm() -> None:
    log("6. SIGTERM: every service exits 0 within 10 s")
    for service in SERVICES:
        binary, environment = SUITE.command_of(service)
        SUITE.kill(service)
        time.sleep(0.5)
        # Started as a child of this script, so its exit code can be read.
        child = subprocess.Popen([binary], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (LOCAL / "pids" / f"{service}.pid").write_text(str(child.pid))
        ready = wait_for(lambda: http(PORTS[service], "/health/ready")[0] == 200, 60, 0.1)
        child.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            code = child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            code = None
        elapsed = time.monotonic() - started
        check(ready is not None and code == 0 and elapsed <= 10,
              f"{service} stopped with exit code {code} in {elapsed:.2f} s")
        FIGURES.append((f"SIGTERM to exit, {service}", f"{elapsed:.2f} s, exit {code}"))


def main() -> int:
    SUITE.clear()
    try:
        check_run_command()
        token = (LOCAL / "admin-token").read_text().strip()
        check_referral_end_to_end(token)
        check_database_outage(token)
        check_sigkill_midway(token)
        check_load(token)
        check_sigterm()
    except Exception as error:  # a crash of the checks is a failure, reported as such
        FAILURES.append(f"the acceptance run stopped: {error!r}")
        print(f"acceptance: stopped by {error!r}", flush=True)
    finally:
        SUITE.stop()
    print("\nacceptance figures:")
    for name, value in FIGURES:
        print(f"  {name}: {value}")
    checks = sum(1 for _ in FIGURES)
    print(f"\n{len(FAILURES)} failed" if FAILURES else "\nall acceptance checks passed")
    for failure in FAILURES:
        print(f"  - {failure}")
    return 1 if FAILURES else 0 if checks else 1


if __name__ == "__main__":
    sys.exit(main())
