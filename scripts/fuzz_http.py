#!/usr/bin/env python3
"""Fuzzes the five HTTP APIs from their OpenAPI documents with Schemathesis.

    python3 scripts/fuzz_http.py [--no-build] [--services intake,planning] [--max-examples 50]
                                 [--refused-examples 3] [--seed 20261123] [--workers 1]

--no-build skips `swift build` in scripts/run.sh (build first, e.g. under the checkout's build
lock). About 2–2.5 minutes on an idle 2-core machine with the defaults, roughly 5,700 requests;
--max-examples trades time for depth (150: about 10,000 requests in 7–8 minutes).

What it shows: no request the documents allow (or almost allow) gets a 5xx, and no answer
falls outside what docs/openapi/<service>.yaml documents. It

  1. installs Schemathesis (pinned, SCHEMATHESIS_VERSION) into a venv of its own,
     .local/venv-fuzz, and reuses it while the pinned version is there;
  2. starts a copy of the suite of its own with scripts/run.sh, like scripts/acceptance.py,
     on other ports (PostgreSQL 54359, services 28081–28085, webhooks 28089, .local/fuzz),
     from an empty database, and stops it at the end, also when something failed;
  3. mints tokens with samenplanctl (an admin, and an `integrator` that almost every route
     refuses) and seeds a little data: a referral (so a case exists in intake, planning,
     notifications and reporting), a first plan version of its case, and a volunteer. Their
     ids, the area `borsele`, version 1 and the referral's source and id are Schemathesis
     dictionaries that parameters of those names draw from half of the time, so those
     requests reach existing objects instead of only 404s;
  4. runs `st run` against each document, with base URL http://127.0.0.1:<port>, twice:
       - as admin: phases examples (the documents' own examples), coverage (boundary and
         just-invalid values, undocumented methods on known paths, missing and wrong
         credentials) and fuzzing (Hypothesis, --max-examples cases per operation, fixed
         seed, no example database, so a run is repeatable);
       - as a refused role (`integrator`): examples and fuzzing with few cases, so the
         401/403 answers are checked against the documents as well;
  5. prints per service and pass the operations, requests sent (counted from the HAR
     report: every request Schemathesis made, probes included) and failures, then one
     line for the whole run; exit code 1 when anything failed.

The checks, chosen to say "no 5xx, no answer outside the documented schema":
  not_a_server_error            no 5xx at all (500 is documented everywhere as a safety
                                net, so status_code_conformance alone would let it pass);
  status_code_conformance       every status is one the operation documents;
  content_type_conformance      every Content-Type is one documented for that status
                                (problem+json for errors);
  response_schema_conformance   every body matches the documented schema;
  response_headers_conformance  documented headers (WWW-Authenticate on 401, Retry-After
                                on 503) are present and match;
  unsupported_method            a method the document does not list on a known path gets
                                405 with an Allow header, not 404 (coverage phase);
  ignored_auth                  an operation that declares bearer auth refuses a request
                                without valid credentials (and that refusal is documented).
Left out on purpose: negative_data_rejection and positive_data_acceptance judge how strict
input validation is (e.g. that every schema-invalid body gets a 4xx, or that every
schema-valid one gets a 2xx, which business rules such as "the case must be open" make
untrue), not whether an answer is documented; use_after_free, ensure_resource_availability
and object_level_authorization need the stateful phase and links the documents do not
declare (the stateful phase is left out for the same reason and for time).

The HAR, JSON and JUnit reports and Schemathesis' full output of each pass are kept in
.local/fuzz-reports/<service>-<pass>/ (the failures' reproduction commands are in output.txt).
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from localsuite import ROOT, SERVICES, LocalSuite

SCHEMATHESIS_VERSION = "4.32.5"
VENV = ROOT / ".local" / "venv-fuzz"
REPORTS = ROOT / ".local" / "fuzz-reports"
SUITE = LocalSuite("fuzz", pgport=54359, port_base=28081, webhook_port=28089)
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "ignored_auth",
]
CTL = ROOT / ".build" / "debug" / "samenplanctl"
SEED_SOURCE = "/integrators/fuzz"
SEED_REFERRAL = "FUZZ-1"


def log(message: str) -> None:
    print(f"fuzz: {message}", flush=True)


# 1. Schemathesis in a venv of its own.

def schemathesis() -> Path:
    st = VENV / "bin" / "st"
    if st.exists():
        version = subprocess.run([str(st), "--version"], capture_output=True, text=True).stdout
        if SCHEMATHESIS_VERSION in version:
            return st
    log(f"installing schemathesis {SCHEMATHESIS_VERSION} into {VENV.relative_to(ROOT)}")
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", f"schemathesis=={SCHEMATHESIS_VERSION}"],
        check=True)
    return st


# 2. A suite of its own.

def start_suite(build: bool) -> None:
    log(f"starting a suite of its own on ports {SUITE.ports['intake']}–{SUITE.ports['reporting']}")
    SUITE.start_fresh(build=build)


# 3. Tokens and a little data.

def mint(role: str, subject: str) -> str:
    env = dict(SUITE.env, JWT_SECRET=SUITE.jwt_secret)
    return subprocess.run([str(CTL), "mint-token", "--role", role, "--subject", subject, "--ttl", "3600"],
                          env=env, check=True, capture_output=True, text=True).stdout.strip()


def http(method: str, service: str, path: str, token: str, body: object | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{SUITE.url(service)}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except json.JSONDecodeError:
            return error.code, {}


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


class SeedFailed(Exception):
    """The fuzz run's objects could not be made: fuzzing without them would test less than it says."""


def seed(token: str) -> list[str]:
    """Ids of objects that exist, for path parameters to hit now and then. Any step that
    fails stops the run (issue 19): a fuzz run without its case, plan or volunteer would
    pass while hitting only 404s on the routes that need them."""
    ids: list[str] = []
    event = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": SEED_SOURCE,
        "type": "nl.samenplan.referral.submitted.v1", "time": "2026-11-23T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "referralId": SEED_REFERRAL, "framework": "voluntary", "urgency": "normal", "area": "borsele",
            "referrer": {"organisation": "Veilig Thuis Zeeland"},
            "members": [
                {"memberRef": "m1", "role": "parent", "givenName": "Eva", "familyName": "Jansen"},
                {"memberRef": "m2", "role": "child", "givenName": "Sanne", "familyName": "Jansen",
                 "birthDate": "2015-04-02"},
            ],
            "reason": "Fuzz seed.",
        },
    }
    status, answer = http("POST", "intake", "/v1/events", token, event)
    case_id = answer.get("caseId")
    if status == 202 and case_id:
        ids.append(case_id)
        if wait_for(lambda: http("GET", "planning", f"/v1/cases/{case_id}", token)[0] == 200, 30):
            # A first plan version, so the plan's routes (and `version` 1) have something to find.
            plan = {
                "plan": {
                    "currentSituation": "Fuzz seed.", "concerns": ["Schoolverzuim"], "strengths": ["Betrokken ouder"],
                    "talents": [],
                    "goals": [{"id": "g1", "what": "Naar school", "responsible": {"kind": "member", "who": "m2"},
                               "dueOn": "2027-06-01"}],
                    "safetyAgreements": ["Eva belt bij zorgen"],
                },
                "reason": "First plan.",
            }
            status, answer = http("PUT", "planning", f"/v1/cases/{case_id}/plan", token, plan, {"If-None-Match": "*"})
            if status != 201:
                raise SeedFailed(f"the plan was answered {status} {answer}")
        else:
            raise SeedFailed("planning did not get the case within 30 s")
    else:
        raise SeedFailed(f"the referral was answered {status} {answer}")
    volunteer = {
        "id": "vol-fuzz", "name": "Fuzz Vrijwilliger", "email": "fuzz@example.nl", "areas": ["borsele"],
        "skills": [], "languages": ["nl"], "availability": [], "helpKinds": ["practical"],
        "status": "applicant", "consentGiven": True, "certificateIssuedOn": "2026-11-01",
    }
    status, answer = http("POST", "volunteers", "/v1/volunteers", token, volunteer)
    if status != 201:
        raise SeedFailed(f"the volunteer was answered {status} {answer}")
    ids.append("vol-fuzz")
    return ids


def config_file(ids: list[str]) -> Path:
    path = REPORTS / "schemathesis.toml"
    values = lambda items: "[" + ", ".join(json.dumps(item) for item in items) + "]"  # noqa: E731
    text = ""
    if ids:
        text += f"[dictionaries.known-ids]\nvalues = {values(ids)}\n\n"
    text += f"[dictionaries.known-areas]\nvalues = {values(['borsele'])}\n\n"
    text += f"[dictionaries.known-versions]\nvalues = {values([1])}\n\n"
    text += f"[dictionaries.known-sources]\nvalues = {values([SEED_SOURCE])}\n\n"
    text += f"[dictionaries.known-referrals]\nvalues = {values([SEED_REFERRAL])}\n\n[parameters]\n"
    if ids:
        text += '"path.id" = { dictionary = "known-ids", probability = 0.5 }\n'
    text += '"path.area" = { dictionary = "known-areas", probability = 0.5 }\n'
    text += '"path.version" = { dictionary = "known-versions", probability = 0.5 }\n'
    # intake's GET /v1/referrals names the seeded referral by its event source and referralId.
    text += '"query.source" = { dictionary = "known-sources", probability = 0.5 }\n'
    text += '"query.referralId" = { dictionary = "known-referrals", probability = 0.5 }\n'
    path.write_text(text)
    return path


# 4. and 5. Schemathesis per service, and its figures.

def fuzz(st: Path, config: Path, service: str, label: str, token: str, phases: str, max_examples: int, seed_value: int,
         workers: int) -> dict:
    out = REPORTS / f"{service}-{label}"
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(st), "--config-file", str(config), "run", str(ROOT / "docs" / "openapi" / f"{service}.yaml"),
        "--url", f"{SUITE.url(service)}",
        "--header", f"Authorization: Bearer {token}",
        "--checks", ",".join(CHECKS),
        "--phases", phases,
        "--max-examples", str(max_examples),
        "--seed", str(seed_value),
        "--generation-database", "none",
        "--workers", str(workers),
        "--request-timeout", "10",
        "--suppress-health-check", "all",
        "--report", "har,json,junit",
        "--report-har-path", str(out / "requests.har"),
        "--report-json-path", str(out / "report.json"),
        "--report-junit-path", str(out / "junit.xml"),
        "--no-color",
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, cwd=out)
    elapsed = time.monotonic() - started
    (out / "output.txt").write_text(result.stdout + result.stderr)
    figures = {"service": service, "pass": label, "seconds": elapsed, "exit": result.returncode,
               "operations": 0, "requests": 0, "server_errors": 0, "failures": 0, "violations": 0, "checks_failed": {},
               "errors": 0}
    try:
        report = json.loads((out / "report.json").read_text())
        figures["operations"] = report["operations"]["tested"] if report.get("operations") else 0
        figures["test_cases"] = report["test_cases"]["generated"]
        for failure in report["failures"]:
            figures["failures"] += failure["count"]
            if failure["title"] != "Server error":
                figures["violations"] += failure["count"]
            figures["checks_failed"][failure["title"]] = figures["checks_failed"].get(failure["title"], 0) + failure["count"]
        figures["errors"] = sum(error["count"] for error in report["errors"])
    except (OSError, ValueError, KeyError) as error:
        figures["errors"] += 1
        figures["checks_failed"][f"no readable report ({error!r})"] = 1
    try:
        entries = json.loads((out / "requests.har").read_text())["log"]["entries"]
        figures["requests"] = len(entries)
        figures["server_errors"] = sum(1 for entry in entries if entry["response"]["status"] >= 500)
    except (OSError, ValueError, KeyError):
        pass
    if result.returncode != 0 and not figures["failures"] and not figures["errors"]:
        figures["errors"] = 1
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="skip `swift build` (build beforehand)")
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated, default all five")
    parser.add_argument("--max-examples", type=int, default=50, help="fuzzing cases per operation as admin")
    parser.add_argument("--refused-examples", type=int, default=3, help="fuzzing cases per operation as a refused role")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=1, help="Schemathesis workers (threads); more than 1 can trip CPython 3.11's ast.parse in Hypothesis")
    arguments = parser.parse_args()
    services = [name for name in arguments.services.split(",") if name]
    unknown = set(services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    st = schemathesis()
    shutil.rmtree(REPORTS, ignore_errors=True)
    REPORTS.mkdir(parents=True)
    results: list[dict] = []
    problems: list[str] = []
    try:
        start_suite(build=not arguments.no_build)
        admin = mint("admin", "fuzz-admin")
        refused = mint("integrator", "fuzz-integrator")
        ids = seed(admin)
        config = config_file(ids)
        log(f"seeded {len(ids)} object(s); fuzzing {', '.join(services)} "
            f"({arguments.max_examples} cases per operation as admin, seed {arguments.seed})")
        for service in services:
            for label, token, phases, examples in (
                ("admin", admin, "examples,coverage,fuzzing", arguments.max_examples),
                ("refused", refused, "examples,fuzzing", arguments.refused_examples),
            ):
                figures = fuzz(st, config, service, label, token, phases, examples, arguments.seed, arguments.workers)
                results.append(figures)
                failed = ", ".join(f"{title} ×{count}" for title, count in figures["checks_failed"].items())
                if figures["errors"]:
                    failed += (", " if failed else "") + f"errors ×{figures['errors']}"
                log(f"  {service:13} {label:7} {figures['operations']:3} operations {figures['requests']:6} requests "
                    f"{figures['failures']:3} failures {figures['server_errors']:3} 5xx  "
                    f"{figures['seconds']:5.1f} s{'  ' + failed if failed else ''}")
                if figures["failures"] or figures["errors"] or figures["exit"] != 0:
                    output = REPORTS / f"{service}-{label}" / "output.txt"
                    print(excerpt(output.read_text()), flush=True)
                    problems.append(f"{service} ({label}): see {output.relative_to(ROOT)}")
        dead = [name for name in SERVICES if not alive(name)]
        if dead:
            problems.append(f"not alive after fuzzing: {', '.join(dead)}")
    except Exception as error:  # a crash of the run is a failure, reported as such
        problems.append(f"the fuzz run stopped: {error!r}")
    finally:
        SUITE.stop()

    print("\nfuzz figures (per service, both passes):")
    print(f"  {'service':13} {'operations':>10} {'requests':>9} {'5xx':>4} {'failures':>8} {'seconds':>8}")
    for service in services:
        rows = [row for row in results if row["service"] == service]
        print(f"  {service:13} {max((row['operations'] for row in rows), default=0):10} "
              f"{sum(row['requests'] for row in rows):9} {sum(row['server_errors'] for row in rows):4} "
              f"{sum(row['failures'] for row in rows):8} {sum(row['seconds'] for row in rows):8.1f}")
    requests = sum(row["requests"] for row in results)
    operations = sum(max((row["operations"] for row in results if row["service"] == s), default=0) for s in services)
    server_errors = sum(row["server_errors"] for row in results)
    violations = sum(row["violations"] for row in results)
    for problem in problems:
        print(f"  FAIL {problem}")
    print(f"fuzz: {requests} requests over {operations} operations, {server_errors} server errors, "
          f"{violations} schema violations, {time.monotonic() - started:.0f} s")
    return 1 if problems or server_errors or violations or not requests else 0


def excerpt(output: str, limit: int = 80) -> str:
    """The FAILURES and ERRORS sections of Schemathesis' output, at most `limit` lines each."""
    sections = re.split(r"^=+ ([A-Z]+) =+$", output, flags=re.MULTILINE)
    kept = []
    for title, body in zip(sections[1::2], sections[2::2]):
        if title in ("FAILURES", "ERRORS"):
            lines = body.strip("\n").splitlines()
            kept.append(f"---- {title}\n" + "\n".join(lines[:limit]) + (f"\n… ({len(lines) - limit} more lines)" if len(lines) > limit else ""))
    return "\n".join(kept) or output[-3000:]


def alive(service: str) -> bool:
    try:
        with urllib.request.urlopen(f"{SUITE.url(service)}/health/live", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


if __name__ == "__main__":
    sys.exit(main())
