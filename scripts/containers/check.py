#!/usr/bin/env python3
"""The container check: Samenplan deployed as its users deploy it, with docker-compose.

Tried as a new user would on this machine (root, podman instead of a Docker engine, no image
registry), it
  0. makes the tools and base images (scripts/containers/base-images.sh) and starts
     `podman system service` on a socket of its own for docker-compose (DOCKER_HOST);
  1. builds the image with the real docker/Dockerfile, both stages;
  -  tries a start without a required secret: it must stop, naming the variable;
  2. brings the stack up with docker/docker-compose.yml and docker/docker-compose.offline.yml;
  3. waits until every service's health check is healthy, and prints how long that took;
  4. sends referrals from outside the containers, to intake's published port and over Kafka
     (kcat, in the dev broker's network namespace as the offline arrangement exposes it),
     and sees the case in planning's API, the caseload in reporting's and the webhook message
     at a receiver (scripts/webhook_receiver.py, also in that namespace);
  5. kills intake's container (SIGKILL to its process): the restart policy brings it back,
     and the referrals sent meanwhile all become cases, once each;
  -  stops PostgreSQL: every service reports not-ready, none exits; all recover after it;
  -  runs the operator commands in the containers: `samenplanctl dlq list`, and
     `samenplanctl rebuild-reporting` (the caseload the same after it);
  -  backs PostgreSQL up with pg_dump and restores it with pg_restore into a new database;
  6. `down` then `up` again: the cases are still there (the named volume);
  8. checks every service container runs as a non-root user (before the stop) and prints
     the runtime image's size;
  7. stops the stack: every service exits within its stop_grace_period with status 0.
At the end (also on failure or Ctrl-C) it removes the stack and its volumes and stops what it
started (the podman service, the webhook receiver), each by its PID.

Podman starts no health checks by itself where systemd does not run (as here and in CI): this
script runs them, as the engine would, at each container's interval (`podman healthcheck run`).

  scripts/containers/check.py               everything
  scripts/containers/check.py --no-build    use the samenplan image already built
  scripts/containers/check.py --keep        leave the stack running at the end (and say how
                                            to stop it)
Environment: SAMENPLAN_CHECK_PROJECT (samenplan-check), SAMENPLAN_CHECK_PORT_BASE (38081:
intake's published port; the others follow), SAMENPLAN_IMAGE (localhost/samenplan:latest).
Exit code 0 when every check passed.
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["intake", "planning", "volunteers", "notifications", "reporting"]
PROJECT = os.environ.get("SAMENPLAN_CHECK_PROJECT", "samenplan-check")
PORT_BASE = int(os.environ.get("SAMENPLAN_CHECK_PORT_BASE", "38081"))
PORTS = {service: PORT_BASE + index for index, service in enumerate(SERVICES)}
IMAGE = os.environ.get("SAMENPLAN_IMAGE", "localhost/samenplan:latest")
SWIFT_IMAGE = os.environ.get("SAMENPLAN_SWIFT_IMAGE", "docker.io/library/swift:6.3-bookworm")
RUNTIME_IMAGE = os.environ.get("SAMENPLAN_RUNTIME_IMAGE", "docker.io/library/debian:bookworm-slim")
WEBHOOK_PORT = 8089  # inside the dev broker's network namespace, not on the machine
COMPOSE_FILES = ["-f", str(ROOT / "docker" / "docker-compose.yml"),
                 "-f", str(ROOT / "docker" / "docker-compose.offline.yml")]

FIGURES: list[tuple[str, str]] = []
FAILURES: list[str] = []
WORK = Path(tempfile.mkdtemp(prefix="samenplan-check-"))
LOGS = ROOT / ".local" / "container-check"
STARTED: dict[str, subprocess.Popen] = {}


def log(message: str) -> None:
    print(f"container-check: {message}", flush=True)


def check(condition: bool, message: str) -> bool:
    print(f"  {'ok  ' if condition else 'FAIL'} {message}", flush=True)
    if not condition:
        FAILURES.append(message)
    return condition


def figure(name: str, value: str) -> None:
    FIGURES.append((name, value))


class Step:
    """Times a step and records it as a figure."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> "Step":
        log(self.name)
        self.started = time.monotonic()
        return self

    def __exit__(self, *_exc) -> None:
        self.elapsed = time.monotonic() - self.started
        figure(f"step: {self.name}", f"{self.elapsed:.1f} s")


# -- the engine and compose ---------------------------------------------------------------------

SECRETS = {
    "JWT_SECRET": secrets.token_urlsafe(36),
    "NOTIFICATIONS_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
    "INTAKE_DB_PASSWORD": secrets.token_urlsafe(12),
    "PLANNING_DB_PASSWORD": secrets.token_urlsafe(12),
    "VOLUNTEERS_DB_PASSWORD": secrets.token_urlsafe(12),
    "NOTIFICATIONS_DB_PASSWORD": secrets.token_urlsafe(12),
    "REPORTING_DB_PASSWORD": secrets.token_urlsafe(12),
}
SOCKET = WORK / "podman.sock"
ENV = {name: value for name, value in os.environ.items() if not name.startswith(("DOCKER_", "COMPOSE_"))}
ENV.update(SECRETS)
ENV.update(
    DOCKER_HOST=f"unix://{SOCKET}",
    COMPOSE_PROJECT_NAME=PROJECT,
    COMPOSE_HTTP_TIMEOUT="300",
    NOTIFICATIONS_WEBHOOK_URL=f"http://127.0.0.1:{WEBHOOK_PORT}/hook",
    LOG_LEVEL="notice",
    **{f"{service.upper()}_PORT": str(port) for service, port in PORTS.items()},
)


def run(*command: str, check_status: bool = True, env: dict | None = None, timeout: float = 600,
        **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env or ENV, text=True, capture_output=True, timeout=timeout, **kwargs)
    if check_status and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result


def compose(*arguments: str, check_status: bool = True, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    return run("docker-compose", *COMPOSE_FILES, *arguments, check_status=check_status, env=env, timeout=timeout)


def container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def inspect(name: str) -> dict:
    result = run("podman", "inspect", "--type", "container", name, check_status=False)
    if result.returncode != 0:
        return {}
    return json.loads(result.stdout)[0]


def health(state: dict) -> str:
    return ((state.get("State") or {}).get("Health") or (state.get("State") or {}).get("Healthcheck") or {}).get(
        "Status", "")


def project_containers() -> list[str]:
    result = run("podman", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
                 "--format", "{{.Names}}", check_status=False)
    return result.stdout.split()


def start_podman_service() -> None:
    log(f"podman system service on {SOCKET}")
    output = open(LOGS / "podman-service.log", "w")
    STARTED["podman-service"] = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{SOCKET}"], stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(str(SOCKET))
                client.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                if b"OK" in client.recv(1024):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("podman system service did not answer within 30 s")


class HealthRunner(threading.Thread):
    """Runs every project container's health check at its interval, as the engine would.

    Podman schedules health checks with systemd timers; without systemd nothing runs them, and
    compose's `condition: service_healthy` would wait for ever."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.due: dict[str, float] = {}

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            try:
                self.tick()
            except Exception as error:  # noqa: BLE001 (keep checking whatever one round met)
                print(f"  (health runner: {error!r})", flush=True)

    def tick(self) -> None:
        names = run("podman", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                    "--format", "{{.ID}}", check_status=False).stdout.split()
        if not names:
            return
        result = run("podman", "inspect", "--type", "container", *names, check_status=False)
        if result.returncode != 0:
            return
        now = time.monotonic()
        for state in json.loads(result.stdout):
            config = (state.get("Config") or {}).get("Healthcheck") or {}
            if not config.get("Test") or config["Test"] == ["NONE"]:
                continue
            interval = (config.get("Interval") or 30_000_000_000) / 1e9
            key = f"{state['Id']}:{state['State'].get('StartedAt')}"
            if key not in self.due:
                self.due[key] = now + interval  # the first check one interval after the start
            if now >= self.due[key]:
                self.due[key] = now + interval
                subprocess.Popen(["podman", "healthcheck", "run", state["Id"]],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.stopping.set()


# -- asking the stack ---------------------------------------------------------------------------

def http(method: str, port: int, path: str, token: str | None = None, body: dict | None = None,
         accept: str = "application/json") -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Accept", accept)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except json.JSONDecodeError:
            return error.code, {}
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return 0, {}


def wait_for(condition, timeout: float, interval: float = 0.2) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    return None


def sql(query: str) -> str:
    return run("podman", "exec", "-u", "postgres", container("postgres"), "psql", "-d", "samenplan", "-Atc",
               query).stdout.strip()


def broker_netns() -> str:
    pid = inspect(container("kafka")).get("State", {}).get("Pid")
    if not pid:
        raise RuntimeError("the kafka container has no process")
    return f"/proc/{pid}/ns/net"


def referral(referral_id: str, area: str, child: str, source: str = "/integrators/container-check") -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
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
                {"memberRef": "m1", "role": "parent", "givenName": "Eva", "familyName": f"Jansen-{child}"},
                {"memberRef": "m2", "role": "child", "givenName": child, "familyName": f"Jansen-{child}",
                 "birthDate": "2015-04-02"},
            ],
            "reason": "Container check.",
        },
    }


def publish(events: list[dict]) -> None:
    """kcat, as an integrator would, in the dev broker's network namespace: kafka:9092 there."""
    lines = "".join(f"{event['data']['referralId']}|{json.dumps(event)}\n" for event in events)
    run("nsenter", f"--net={broker_netns()}", "kcat", "-P", "-b", "127.0.0.1:9092", "-t", "samenplan.referrals.v1",
        "-K", "|", input=lines, timeout=120)


def start_webhook_receiver() -> None:
    stop_started("webhook-receiver")
    output = open(LOGS / "webhook-receiver.log", "a")
    STARTED["webhook-receiver"] = subprocess.Popen(
        ["nsenter", f"--net={broker_netns()}", sys.executable, str(ROOT / "scripts" / "webhook_receiver.py"),
         "--port", str(WEBHOOK_PORT), "--secret", SECRETS["NOTIFICATIONS_WEBHOOK_SECRET"],
         "--log", str(WORK / "webhooks.jsonl")], stdout=output, stderr=output)


def webhooks() -> list[dict]:
    path = WORK / "webhooks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def stop_started(name: str) -> None:
    process = STARTED.pop(name, None)
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the steps ----------------------------------------------------------------------------------

def build_image(build: bool) -> None:
    if build:
        with Step("1. build the image with docker/Dockerfile (both stages)") as step:
            with open(LOGS / "build.log", "w") as output:
                result = subprocess.run(
                    ["nice", "-n", "19", "podman", "build", "--pull=never", "-f", "docker/Dockerfile", "-t", IMAGE,
                     "--build-arg", f"SWIFT_IMAGE={SWIFT_IMAGE}", "--build-arg", f"RUNTIME_IMAGE={RUNTIME_IMAGE}",
                     "."], cwd=ROOT, env=ENV, stdout=output, stderr=subprocess.STDOUT)
            if result.returncode != 0:
                print((LOGS / "build.log").read_text()[-4000:], flush=True)
            check(result.returncode == 0, f"podman build -f docker/Dockerfile . (log: {LOGS / 'build.log'})")
        figure("image build (both stages)", f"{step.elapsed:.0f} s")
    if IMAGE != "localhost/samenplan:latest":
        run("podman", "tag", IMAGE, "localhost/samenplan:latest")
    size = int(json.loads(run("podman", "image", "inspect", IMAGE).stdout)[0]["Size"])
    figure("runtime image size", f"{size / 1e6:.0f} MB")
    check(size <= 250e6, f"the runtime image is {size / 1e6:.0f} MB (at most 250 MB)")


def check_missing_secrets() -> None:
    with Step("a start without a required secret stops, naming the variable"):
        for variable in ["JWT_SECRET", "NOTIFICATIONS_WEBHOOK_SECRET"]:
            environment = {name: value for name, value in ENV.items() if name != variable}
            result = compose("up", "-d", check_status=False, env=environment, timeout=120)
            message = (result.stderr + result.stdout).strip().splitlines()
            said = message[-1] if message else "(nothing)"
            check(result.returncode != 0 and variable in said and not project_containers(),
                  f"without {variable}: exit {result.returncode}, nothing created, says "
                  f"{said[:60]!r} … {said[said.find(' in service'):]!r}")


def up(label: str) -> float:
    started = time.monotonic()
    result = compose("up", "-d", check_status=False, timeout=900)
    if result.returncode != 0:
        print(result.stderr[-3000:], flush=True)
        for name in ["kafka", "postgres", "topic-setup", "database-setup"]:
            state = inspect(container(name)).get("State", {})
            print(f"  {name}: started {state.get('StartedAt')}, finished {state.get('FinishedAt')}, "
                  f"exit {state.get('ExitCode')}, health {json.dumps(state.get('Health'))[:600]}", flush=True)
        raise RuntimeError(f"docker-compose up exited {result.returncode}")

    def all_healthy() -> bool:
        # The engine's health state, and /health/ready on the published port to be sure.
        return all(health(inspect(container(service))) == "healthy" for service in SERVICES) and all(
            http("GET", PORTS[service], "/health/ready")[0] == 200 for service in SERVICES)

    healthy = wait_for(all_healthy, 180, 0.5)
    elapsed = time.monotonic() - started
    states = {service: health(inspect(container(service))) for service in SERVICES}
    check(healthy is not None, f"{label}: every service healthy {elapsed:.1f} s after `up -d` ({states})")
    figure(f"{label}: `up -d` to all five healthy", f"{elapsed:.1f} s")
    start_webhook_receiver()
    return elapsed


def down(*options: str) -> subprocess.CompletedProcess:
    """`down`, with the services that share the dev broker's namespace removed first.

    docker-compose 1.29 removes containers in parallel, and podman refuses to remove the
    `kafka` container while containers that joined its network namespace still exist."""
    compose("rm", "-f", "-s", *SERVICES, "topic-setup", check_status=False, timeout=300)
    return compose("down", *options, check_status=False, timeout=300)


def admin_token() -> str:
    return run("podman", "exec", container("intake"), "samenplanctl", "mint-token", "--role", "admin",
               "--subject", "container-check", "--ttl", "7200").stdout.strip()


def seed_managers(token: str) -> None:
    # Intake takes referrals only for the areas it serves: those with a registered manager.
    for area in ["borsele", "goes", "kill-check"]:
        status, body = http("POST", PORTS["intake"], "/v1/managers", token, {
            "id": f"fm-{area}", "displayName": f"Gezinsmanager {area}", "areas": [area], "maxCaseload": 25})
        if status not in (200, 201):
            raise RuntimeError(f"POST /v1/managers answered {status}: {body}")


def case_of(token: str, referral_id: str, source: str = "/integrators/container-check") -> str:
    status, body = http("GET", PORTS["intake"],
                        f"/v1/referrals?source={urllib.request.quote(source, safe='')}&referralId={referral_id}", token)
    return str(body.get("caseId", "")).lower() if status == 200 else ""


def check_referrals(token: str) -> dict[str, str]:
    """Two referrals, one over HTTP and one over Kafka, each all the way through."""
    cases: dict[str, str] = {}
    with Step("4. referrals from outside: intake's port and Kafka, to planning, reporting and a webhook"):
        started = time.monotonic()
        status, body = http("POST", PORTS["intake"], "/v1/events", token, referral("CHK-HTTP-1", "borsele", "Sanne"))
        check(status in (200, 201, 202), f"POST /v1/events on 127.0.0.1:{PORTS['intake']} answered {status}")
        publish([referral("CHK-KAFKA-1", "goes", "Daan")])
        for referral_id, area in [("CHK-HTTP-1", "borsele"), ("CHK-KAFKA-1", "goes")]:
            wait_for(lambda: case_of(token, referral_id) != "", 30)
            case_id = cases[referral_id] = case_of(token, referral_id)
            served = wait_for(lambda: case_id != "" and http(
                "GET", PORTS["planning"], f"/v1/cases/{case_id}", token)[1].get("phase") == "connect", 30)
            check(served is not None, f"{referral_id}: planning serves case {case_id or '(none)'} in phase connect")

            def in_report() -> bool:
                report = http("GET", PORTS["reporting"], f"/v1/reports/caseload?area={area}", token)[1]
                return {"area": area, "phase": "connect", "openCases": 1} in report.get("byAreaAndPhase", [])

            check(wait_for(in_report, 30) is not None, f"{referral_id}: reporting's caseload counts it in {area}/connect")

            def about_case() -> list[dict]:
                return [w for w in webhooks()
                        if str(w["body"].get("data", {}).get("caseId", "")).lower() == case_id]

            notified = wait_for(lambda: bool(about_case()), 30)
            check(notified is not None and about_case()[0]["body"].get("recipientId") == f"fm-{area}",
                  f"{referral_id}: the webhook receiver got a signed message for fm-{area}")
        figure("two referrals (HTTP and Kafka) to case, report and webhook", f"{time.monotonic() - started:.1f} s")
    return cases


def check_sigkill(token: str) -> None:
    with Step("5. SIGKILL intake's container: the restart policy brings it back, no referral lost or doubled"):
        total = 1000
        events = [referral(f"CHK-KILL-{n:04d}", "kill-check", f"Kind{n:04d}") for n in range(total)]

        def cases() -> int:
            return int(sql("SELECT count(*) FROM intake.cases WHERE area = 'kill-check'") or 0)

        def open_in_report() -> int:
            report = http("GET", PORTS["reporting"], "/v1/reports/caseload?area=kill-check", token)[1]
            return sum(row.get("openCases", 0) for row in report.get("byAreaAndPhase", [])
                       if row.get("area") == "kill-check")

        def planned() -> int:
            return int(sql("SELECT count(*) FROM planning.cases WHERE id IN "
                           "(SELECT id FROM intake.cases WHERE area = 'kill-check')") or 0)

        def handled() -> int:
            """Referrals intake has handled since it started, from its /metrics."""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORTS['intake']}/metrics", timeout=2) as response:
                    text = response.read().decode()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return 0
            return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                           if line.startswith("samenplan_events_consumed_total{")
                           and 'topic="samenplan.referrals.v1"' in line and 'outcome="handled"' in line))

        before = inspect(container("intake"))
        already = handled()
        # 600 of them, and the kill while intake is working through them (once it has handled 50).
        first = 600
        publish(events[:first])
        wait_for(lambda: handled() - already >= 50, 30, 0.01)
        os.kill(before["State"]["Pid"], signal.SIGKILL)
        killed_at = cases()
        publish(events[first:])

        def restarted() -> bool:
            state = inspect(container("intake"))
            return (state.get("State", {}).get("Pid") not in (0, None, before["State"]["Pid"])
                    and health(state) == "healthy")

        back = wait_for(restarted, 120, 0.5)
        after = inspect(container("intake"))
        check(back is not None, f"intake restarted by its restart policy and healthy again in "
              f"{back if back is None else round(back, 1)} s (restarts: {after.get('RestartCount')})")
        done = wait_for(lambda: cases() >= total, 180, 0.5)
        time.sleep(3)  # anything extra would show up now
        final = cases()
        referrals = int(sql("SELECT count(*) FROM intake.referrals WHERE referral_id LIKE 'CHK-KILL-%'"))
        check(done is not None and final == total, f"exactly {total} cases (got {final}; {killed_at} when killed)")
        check(referrals == total, f"exactly {total} referrals (got {referrals})")
        check(wait_for(lambda: planned() == total, 60) is not None, f"planning has every case once ({planned()})")
        check(wait_for(lambda: open_in_report() == total, 60) is not None,
              f"reporting counts {total} open cases in kill-check ({open_in_report()})")
        figure("SIGKILL of intake to healthy again (restart policy)", f"{back:.1f} s" if back is not None else "over 120 s")
        figure(f"{total} referrals over Kafka with intake SIGKILLed midway", f"{final} cases ({killed_at} of them there when killed)")


def check_database_away() -> None:
    with Step("PostgreSQL stopped: the services report not-ready and keep running, then recover"):
        restarts = {service: inspect(container(service)).get("RestartCount", 0) for service in SERVICES}
        compose("stop", "postgres", timeout=120)

        def database_down(service: str) -> bool:
            status, body = http("GET", PORTS[service], "/health/ready")
            return status == 503 and body.get("checks", {}).get("database", {}).get("status") == "down"

        detected = wait_for(lambda: all(database_down(service) for service in SERVICES), 30, 0.5)
        check(detected is not None, "every /health/ready answers 503 naming the database"
              + (f" within {detected:.1f} s" if detected is not None else " (not within 30 s)"))
        time.sleep(3)
        running = {service: inspect(container(service)).get("State", {}).get("Status") for service in SERVICES}
        same = {service: inspect(container(service)).get("RestartCount", 0) == restarts[service] for service in SERVICES}
        check(all(state == "running" for state in running.values()) and all(same.values()),
              f"no service exited or was restarted meanwhile ({running})")
        compose("start", "postgres", timeout=120)
        back = wait_for(lambda: all(http("GET", PORTS[service], "/health/ready")[0] == 200 for service in SERVICES),
                        90, 0.5)
        check(back is not None, "all five ready again after PostgreSQL started"
              + (f" ({back:.1f} s)" if back is not None else ""))


def check_operator_commands(token: str) -> None:
    with Step("operator commands in the containers: dead letters, rebuild reporting"):
        result = run("podman", "exec", container("intake"), "samenplanctl", "dlq", "list", "--service", "intake",
                     check_status=False, timeout=120)
        check(result.returncode == 0, f"samenplanctl dlq list --service intake in intake's container: exit "
              f"{result.returncode} ({(result.stdout.strip().splitlines() or ['no output'])[-1][:100]})")
        before = http("GET", PORTS["reporting"], "/v1/reports/caseload", token)[1].get("byAreaAndPhase")
        started = time.monotonic()
        result = run("podman", "exec", container("reporting"), "samenplanctl", "rebuild-reporting",
                     check_status=False, timeout=600)
        elapsed = time.monotonic() - started
        after = http("GET", PORTS["reporting"], "/v1/reports/caseload", token)[1].get("byAreaAndPhase")
        check(result.returncode == 0 and before == after and bool(after),
              f"samenplanctl rebuild-reporting in reporting's container: exit {result.returncode} in {elapsed:.1f} s, "
              f"caseload the same after it ({after})" + ("" if result.returncode == 0 else
                                                         f": {(result.stderr or result.stdout)[-500:]}"))
        figure("rebuild-reporting (about 3,000 events)", f"{elapsed:.1f} s")


def check_backup_restore() -> None:
    with Step("backup with pg_dump, restore with pg_restore (owners and rights kept) into a new database"):
        dump = "/var/lib/postgresql/data/check-backup.dump"
        pg = ["podman", "exec", "-u", "postgres", container("postgres")]
        run(*pg, "pg_dump", "-Fc", "-d", "samenplan", "-f", dump)
        run(*pg, "createdb", "samenplan_restored")
        run(*pg, "pg_restore", "--exit-on-error", "-d", "samenplan_restored", dump)
        query = "SELECT (SELECT count(*) FROM intake.cases) || '/' || (SELECT count(*) FROM planning.cases)"
        original = run(*pg, "psql", "-d", "samenplan", "-Atc", query).stdout.strip()
        restored = run(*pg, "psql", "-d", "samenplan_restored", "-Atc", query).stdout.strip()
        check(original == restored, f"the restored database has the same cases (intake/planning: {restored}, "
              f"original {original})")
        run(*pg, "dropdb", "samenplan_restored")
        run(*pg, "rm", "-f", dump)


def check_down_up(token_cases: dict[str, str]) -> str:
    with Step("6. down, then up again: the cases are still there"):
        stop_started("webhook-receiver")
        result = down()
        check(result.returncode == 0 and not project_containers(),
              f"down removed every container (exit {result.returncode})")
        up("after down and up")
        token = admin_token()
        for referral_id, case_id in token_cases.items():
            status, body = http("GET", PORTS["planning"], f"/v1/cases/{case_id}", token)
            check(status == 200 and body.get("phase") == "connect", f"{referral_id}: case {case_id} still served")
        count = int(sql("SELECT count(*) FROM intake.cases WHERE area = 'kill-check'"))
        check(count == 1000, f"the 1,000 kill-check cases are still there (got {count})")
    return token


def check_non_root() -> None:
    log("8. every service container runs as a non-root user")
    for service in SERVICES + ["kafka", "database-setup", "topic-setup"]:
        state = inspect(container(service))
        pid = state.get("State", {}).get("Pid")
        if pid:
            uid = int(Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0])
            check(uid != 0, f"{service}: process {pid} runs as uid {uid} (image user {state['Config'].get('User')!r})")
        else:
            user = state.get("Config", {}).get("User", "")
            check(user not in ("", "0", "root"), f"{service} (exited): image user {user!r}")


def check_stop() -> None:
    with Step("7. stop: every service exits within its stop_grace_period with status 0"):
        grace = 15.0
        for service in SERVICES:
            started = time.monotonic()
            compose("stop", service, timeout=120)
            elapsed = time.monotonic() - started
            state = inspect(container(service)).get("State", {})
            check(state.get("ExitCode") == 0 and elapsed <= grace,
                  f"{service}: exit code {state.get('ExitCode')} after {elapsed:.1f} s (grace {grace:.0f} s)")
            figure(f"stop {service}", f"{elapsed:.1f} s, exit {state.get('ExitCode')}")
        started = time.monotonic()
        compose("stop", timeout=120)
        for name in ["kafka", "postgres"]:
            state = inspect(container(name)).get("State", {})
            check(state.get("ExitCode") == 0, f"{name}: exit code {state.get('ExitCode')}")
        figure("stop kafka and postgres", f"{time.monotonic() - started:.1f} s")


def remove_leftovers() -> None:
    """What `down -v` could not remove: containers still stopping, and then their volumes."""
    for name in project_containers():
        run("podman", "rm", "-f", "-t", "20", name, check_status=False)
    volumes = run("podman", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}",
                  check_status=False).stdout.split()
    if volumes:
        run("podman", "volume", "rm", "-f", *volumes, check_status=False)


def cleanup(keep: bool) -> None:
    log("cleaning up")
    stop_started("webhook-receiver")
    if "podman-service" in STARTED:
        if keep:
            log(f"the stack is left running: DOCKER_HOST=unix://{SOCKET} COMPOSE_PROJECT_NAME={PROJECT} "
                f"docker-compose {' '.join(COMPOSE_FILES)} down -v; then kill {STARTED['podman-service'].pid}")
            return
        down("-v", "--remove-orphans")
        remove_leftovers()
        stop_started("podman-service")
    shutil.rmtree(WORK, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-build", action="store_true", help="use the samenplan image already built")
    parser.add_argument("--keep", action="store_true", help="leave the stack running at the end")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("container-check: run as root (podman's system storage, nsenter)", file=sys.stderr)
        return 2
    LOGS.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runner = HealthRunner()
    started = time.monotonic()
    try:
        with Step("0. tools and base images (scripts/containers/base-images.sh)"):
            result = subprocess.run([str(ROOT / "scripts" / "containers" / "base-images.sh")], env=ENV)
            if result.returncode != 0:
                raise RuntimeError("base-images.sh failed")
            if shutil.which("kcat") is None:
                run("bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat")
        start_podman_service()
        down("-v", "--remove-orphans")  # an earlier run's leftovers
        remove_leftovers()
        with Step("compose files pass `docker-compose config`"):
            check(compose("config", "-q", check_status=False).returncode == 0, "production file and offline override")
            check(run("docker-compose", "-f", str(ROOT / "docker" / "docker-compose.yml"), "config", "-q",
                      check_status=False).returncode == 0, "production file alone")
        build_image(not args.no_build)
        check_missing_secrets()
        runner.start()
        with Step("2-3. up with the production file and the offline override, until all healthy"):
            up("first start")
        token = admin_token()
        seed_managers(token)
        cases = check_referrals(token)
        check_sigkill(token)
        check_database_away()
        check_operator_commands(token)
        check_backup_restore()
        check_down_up(cases)
        check_non_root()
        check_stop()
    except (Exception, KeyboardInterrupt, SystemExit) as error:  # reported as a failure, after the cleanup
        FAILURES.append(f"the check stopped: {error!r}")
        print(f"container-check: stopped by {error!r}", flush=True)
        try:
            for service in SERVICES + ["kafka", "postgres", "database-setup", "topic-setup"]:
                logs = run("podman", "logs", "--tail", "15", container(service), check_status=False)
                print(f"--- {service} ---\n{(logs.stdout + logs.stderr).strip()}", flush=True)
        except Exception:  # noqa: BLE001
            pass
    finally:
        runner.stop()
        cleanup(args.keep)
    figure("whole check", f"{time.monotonic() - started:.0f} s")
    print("\ncontainer-check figures:")
    for name, value in FIGURES:
        print(f"  {name}: {value}")
    print(f"\n{len(FAILURES)} failed" if FAILURES else "\nall container checks passed")
    for failure in FAILURES:
        print(f"  - {failure}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
