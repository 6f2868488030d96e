#!/usr/bin/env python3
"""Checks every event the tests caused against its documented JSON Schema (issue 19).

    scripts/check_event_schemas.py DIR

DIR holds the `*.jsonl` files the Swift tests write when SAMENPLAN_EVENT_DUMP names it (one
`{"topic": ..., "event": <CloudEvent>}` per line: every event a service wrote to its outbox
during a test). For each event, docs/asyncapi.yaml names the schema of its `data` by its topic
and type (the same type can have another schema on another topic: `referral.accepted` on
`samenplan.answers.v1`); the `data` is validated with the ecosystem's JSON Schema validator
(`jsonschema`, draft 2020-12, formats checked). An event of a type the topic does not list is
a failure too. Exit 1 on any failure, naming the event, the schema and the broken rule, so the
documented contract cannot drift from the code.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def ensure_jsonschema():
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "jsonschema"], check=True)
    import jsonschema
    return jsonschema


def ensure_yaml():
    try:
        import yaml  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "PyYAML"], check=True)
    import yaml
    return yaml


def schemas_by_topic_and_type(yaml) -> dict[tuple[str, str], Path]:
    """(topic, event type) -> the schema file of its data, from the AsyncAPI document."""
    document = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    messages = document["components"]["messages"]
    found: dict[tuple[str, str], Path] = {}
    for channel in document["channels"].values():
        topic = channel["address"]
        for reference in channel.get("messages", {}).values():
            message = messages[reference["$ref"].rsplit("/", 1)[-1]]
            data = None
            for part in message.get("payload", {}).get("allOf", []):
                data = part.get("properties", {}).get("data", {}).get("$ref") or data
            if data:
                found[(topic, message["name"])] = (DOCS / data).resolve()
    return found


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    directory = Path(sys.argv[1])
    jsonschema = ensure_jsonschema()
    yaml = ensure_yaml()
    schemas = schemas_by_topic_and_type(yaml)
    validators = {}
    checked: Counter[str] = Counter()
    failures: list[str] = []
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    for file in files:
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if not line.strip():
                continue
            entry = json.loads(line)
            topic, event = entry["topic"], entry["event"]
            kind = event.get("type", "?")
            # The platform's own tests (outbox, relay) publish made-up events of this family.
            if kind.startswith("nl.samenplan.test."):
                continue
            schema_file = schemas.get((topic, kind))
            if schema_file is None:
                failures.append(f"{file.name}:{number}: {kind} on {topic} is in no channel of docs/asyncapi.yaml")
                continue
            if schema_file not in validators:
                schema = json.loads(schema_file.read_text())
                validators[schema_file] = jsonschema.Draft202012Validator(
                    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validators[schema_file].iter_errors(event.get("data")), key=lambda error: list(error.path))
            for error in errors[:3]:
                path = "/" + "/".join(str(part) for part in error.path)
                failures.append(f"{file.name}:{number}: {kind} on {topic} breaks {schema_file.name} at {path}: {error.message[:300]}")
            checked[f"{topic} {kind}"] += 1
    total = sum(checked.values())
    print(f"event schemas: {total} events of {len(checked)} kinds from {len(files)} test databases checked, "
          f"{len(failures)} failure(s)")
    documented = {f"{topic} {kind}" for topic, kind in schemas}
    unseen = sorted(documented - set(checked))
    if unseen:
        print(f"event schemas: {len(unseen)} documented kind(s) no test caused: {', '.join(unseen)}")
    for failure in failures[:50]:
        print(f"  FAIL {failure}")
    if total == 0:
        print("  FAIL no events were checked: is SAMENPLAN_EVENT_DUMP set for the tests?")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
