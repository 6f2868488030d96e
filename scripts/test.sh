#!/usr/bin/env bash
# Runs every test against a real PostgreSQL (started here, in .local/pg-test) and the real
# Kafka protocol (librdkafka's mock cluster, started by the tests themselves).
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter Name   only the tests whose name matches
# The test server has a port of its own, so a suite started by scripts/run.sh can keep running.
export SAMENPLAN_PGPORT="${SAMENPLAN_TEST_PGPORT:-54339}"
source "$(dirname "$0")/common.sh"
cd "$ROOT"

install_dependencies
# The test server trades durability for speed: its data is thrown away anyway.
PG_EXTRA_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" start_postgres "$LOCAL/pg-test"
trap 'stop_postgres "$LOCAL/pg-test"' EXIT

log "building"
swift build --build-tests

log "running the tests"
SAMENPLAN_TEST_ADMIN_URL="$ADMIN_URL" swift test --skip-build "$@"

if [ $# -eq 0 ]; then
  log "running the suite-level acceptance checks"
  python3 "$ROOT/scripts/acceptance.py"
fi
