#!/usr/bin/env python3
"""10,000 referrals over 20 areas, published with kcat, against a running suite.

The generator decides every outcome before anything is sent, and the check compares the
database with those numbers (never with what the suite answered):
  - 8,000 families, 400 per area, each with one child of its own (name + birth date);
  - 1,500 of them referred a second time by another desk while their case is open: a join;
  - 300 events delivered twice (the same CloudEvent id): no effect the second time;
  - 200 referrals resent under a new event id (the same source + referralId): one referral;
  - in area N (1–20) two managers with 100 + 10·N places each, so areas 1–9 end with a
    queue of 200 − 20·N families and areas 10–20 with none.
That is 10,000 messages, 8,000 cases, 9,500 referrals, 1,500 joins.

Usage: load_referrals.py --bootstrap HOST:PORT --intake http://127.0.0.1:8081 \
                         --admin-token TOKEN --database-url postgres://…/samenplan
It prints the figures and exits 1 when any differs from what was generated.
"""
import argparse
import json
import random
import subprocess
import sys
import time
import urllib.request
import uuid

AREAS = [f"load-{n:02d}" for n in range(1, 21)]
FAMILIES_PER_AREA = 400
JOINS = 1500
EXACT_DUPLICATES = 300
RESENT = 200


def capacity(area_number: int) -> int:
    return 100 + 10 * area_number


def generate(seed: int = 20261123):
    rng = random.Random(seed)
    families = []
    for area_number, area in enumerate(AREAS, start=1):
        for n in range(FAMILIES_PER_AREA):
            families.append({
                "area": area, "areaNumber": area_number, "ref": f"{area}-fam-{n:03d}",
                "child": f"Kind{area_number:02d}x{n:03d}",
                "birthDate": f"{2008 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "urgent": rng.random() < 0.1,
            })

    def referral(family, source, referral_id):
        return {
            "specversion": "1.0", "id": str(uuid.UUID(int=rng.getrandbits(128))), "source": source,
            "type": "nl.samenplan.referral.submitted.v1", "time": "2026-11-23T10:00:00Z",
            "datacontenttype": "application/json",
            "data": {
                "referralId": referral_id, "framework": "voluntary",
                "urgency": "urgent" if family["urgent"] else "normal", "area": family["area"],
                "referrer": {"organisation": "Load test"},
                "members": [
                    {"memberRef": "p", "role": "parent", "givenName": "Ouder", "familyName": "Test"},
                    {"memberRef": "c", "role": "child", "givenName": family["child"], "familyName": "Test",
                     "birthDate": family["birthDate"]},
                ],
            },
        }

    messages = []  # (key, event)
    for family in families:
        messages.append((family["ref"], referral(family, "/integrators/load-a", family["ref"])))
    for family in rng.sample(families, JOINS):
        # Another desk, the same child written differently: joins the open case.
        second = referral(family, "/integrators/load-b", family["ref"] + "-b")
        second["data"]["members"][1]["givenName"] = family["child"].upper()
        messages.append((family["ref"], second))
    first_round = list(messages)
    for key, event in rng.sample(first_round, EXACT_DUPLICATES):
        messages.append((key, event))  # the very same CloudEvent again
    for key, event in rng.sample(first_round, RESENT):
        resent = json.loads(json.dumps(event))
        resent["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        messages.append((key, resent))  # same source + referralId, new event id
    expected = {
        "messages": len(messages),
        "cases": len(families),
        "referrals": len(families) + JOINS,
        "joins": JOINS,
        "queues": {
            area: max(0, FAMILIES_PER_AREA - 2 * capacity(number)) for number, area in enumerate(AREAS, start=1)
        },
    }
    return messages, expected


def sql(database_url: str, query: str) -> str:
    return subprocess.run(["psql", database_url, "-Atc", query], check=True, capture_output=True, text=True).stdout.strip()


def register_managers(intake: str, token: str) -> None:
    for number, area in enumerate(AREAS, start=1):
        for letter in "ab":
            body = json.dumps({"id": f"fm-{area}-{letter}", "displayName": f"Load {area} {letter}",
                               "areas": [area], "maxCaseload": capacity(number)}).encode()
            request = urllib.request.Request(f"{intake}/v1/managers", data=body, method="POST", headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--intake", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    messages, expected = generate()
    assert expected["messages"] == 10_000, expected["messages"]
    register_managers(args.intake, args.admin_token)
    lines = "".join(f"{key}|{json.dumps(event)}\n" for key, event in messages)
    started = time.monotonic()
    subprocess.run(["kcat", "-P", "-b", args.bootstrap, "-t", "samenplan.referrals.v1", "-K", "|"],
                   input=lines, text=True, check=True)
    published = time.monotonic() - started
    area_list = ",".join(f"'{a}'" for a in AREAS)

    def referrals() -> int:
        return int(sql(args.database_url, f"SELECT count(*) FROM intake.referrals WHERE area IN ({area_list})"))

    while referrals() < expected["referrals"] and time.monotonic() - started < args.timeout:
        time.sleep(0.5)
    # Every inbox entry written means every message was handled; then nothing more may change.
    time.sleep(2)
    elapsed = time.monotonic() - started
    actual = {
        "cases": int(sql(args.database_url, f"SELECT count(*) FROM intake.cases WHERE area IN ({area_list})")),
        "referrals": referrals(),
        "joins": int(sql(args.database_url,
                         f"SELECT count(*) FROM intake.referrals WHERE area IN ({area_list}) AND joined_existing_case")),
        "queues": {area: 0 for area in AREAS},
    }
    for line in sql(args.database_url, f"""
            SELECT area, count(*) FROM intake.cases
            WHERE area IN ({area_list}) AND status = 'open' AND manager_id IS NULL GROUP BY area""").splitlines():
        area, count = line.split("|")
        actual["queues"][area] = int(count)

    failures = [name for name in ("cases", "referrals", "joins", "queues") if actual[name] != expected[name]]
    print(f"load: {expected['messages']} messages published in {published:.1f} s, handled in {elapsed:.1f} s "
          f"({expected['messages'] / elapsed:.0f} messages/s end to end)")
    for name in ("cases", "referrals", "joins"):
        print(f"  {name}: expected {expected[name]}, got {actual[name]}")
    print(f"  queue lengths: expected {sorted(expected['queues'].items())}")
    if actual["queues"] != expected["queues"]:
        print(f"                 got      {sorted(actual['queues'].items())}")
    print("  all as generated" if not failures else f"  DIFFERENT: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
