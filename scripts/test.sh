#!/usr/bin/env bash
# Runs every test against a real PostgreSQL (started here, in .local/pg-test) and the real
# Kafka protocol (librdkafka's mock cluster, started by the tests themselves).
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter Name   only the tests whose name matches (no suite-level runs)
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
  # All three run even when one fails, so every run's figures are printed; then the verdict.
  failed=()
  log "running the suite-level acceptance checks"
  python3 "$ROOT/scripts/acceptance.py" || failed+=(acceptance)
  log "fuzzing the HTTP APIs from their OpenAPI documents"
  python3 "$ROOT/scripts/fuzz_http.py" --no-build || failed+=(fuzz)
  log "the short chaos run: load while services, PostgreSQL and the broker fail"
  python3 "$ROOT/scripts/chaos.py" || failed+=(chaos)
  if [ ${#failed[@]} -gt 0 ]; then
    log "failed: ${failed[*]}"
    exit 1
  fi
fi
