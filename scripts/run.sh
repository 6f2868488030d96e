#!/usr/bin/env bash
# Starts the whole suite on this machine, without Docker: PostgreSQL (in .local/pg), the
# Kafka dev broker, a local webhook receiver and the five services on ports 8081–8085.
#   scripts/run.sh          build, start everything, wait until all are ready, print where
#   scripts/run.sh stop     stop everything this script started
#   scripts/run.sh status   show what is running
#   scripts/run.sh start-service NAME   (re)start one service, e.g. after killing it
# SAMENPLAN_LOCAL, SAMENPLAN_PGPORT, SAMENPLAN_PORT_BASE (8081) and SAMENPLAN_WEBHOOK_PORT
# (8089) move everything, so a second copy (the acceptance checks) can run beside this one.
# SAMENPLAN_NO_BUILD=1 skips `swift build` (the caller built already, e.g. under a lock).
source "$(dirname "$0")/common.sh"
cd "$ROOT"

SERVICES=(intake planning volunteers notifications reporting)
PIDS="$LOCAL/pids"
LOGS="$LOCAL/logs"
BIN="$ROOT/.build/debug"
WEBHOOK_PORT="${SAMENPLAN_WEBHOOK_PORT:-8089}"
PORT_BASE="${SAMENPLAN_PORT_BASE:-8081}"
mkdir -p "$PIDS" "$LOGS"

# Local-only secrets, made once per checkout and kept out of git (.local/).
[ -s "$LOCAL/jwt-secret" ] || head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$LOCAL/jwt-secret"
[ -s "$LOCAL/webhook-secret" ] || head -c 24 /dev/urandom | base64 | tr -d '\n=' > "$LOCAL/webhook-secret"
export JWT_SECRET; JWT_SECRET="$(cat "$LOCAL/jwt-secret")"
WEBHOOK_SECRET="$(cat "$LOCAL/webhook-secret")"

stop_pid() {
  local name="$1" file="$PIDS/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop_all() {
  for service in "${SERVICES[@]}"; do stop_pid "$service"; done
  stop_pid webhook-receiver
  stop_pid kafka-dev-broker
  stop_postgres "$LOCAL/pg"
  log "stopped"
}

start_background() {  # name, command…
  local name="$1"; shift
  stop_pid "$name"
  nohup "$@" >>"$LOGS/$name.log" 2>&1 &
  echo $! > "$PIDS/$name.pid"
}

service_port() {  # the HTTP port of a service, by its place in SERVICES
  local index
  for index in "${!SERVICES[@]}"; do
    [ "${SERVICES[$index]}" = "$1" ] && { echo $((PORT_BASE + index)); return; }
  done
  echo "unknown service $1" >&2; exit 2
}

start_service() {
  local service="$1"
  DATABASE_URL="postgres://$service:$service@127.0.0.1:$PGPORT/samenplan" \
  KAFKA_BOOTSTRAP_SERVERS="$(cat "$LOCAL/kafka.bootstrap")" HTTP_HOST=127.0.0.1 HTTP_PORT="$(service_port "$service")" \
  LOG_LEVEL="${LOG_LEVEL:-info}" \
  NOTIFICATIONS_WEBHOOK_URL="http://127.0.0.1:$WEBHOOK_PORT/hook" NOTIFICATIONS_WEBHOOK_SECRET="$WEBHOOK_SECRET" \
    start_background "$service" "$BIN/$service"
}

case "${1:-start}" in
  stop) stop_all; exit 0 ;;
  start-service) start_service "$2"; exit 0 ;;
  status)
    for name in kafka-dev-broker webhook-receiver "${SERVICES[@]}"; do
      if [ -f "$PIDS/$name.pid" ] && kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
        echo "$name: running (pid $(cat "$PIDS/$name.pid"))"
      else
        echo "$name: stopped"
      fi
    done
    exit 0 ;;
  start) ;;
  *) echo "usage: scripts/run.sh [start|stop|status|start-service NAME]" >&2; exit 2 ;;
esac

install_dependencies
if [ -z "${SAMENPLAN_NO_BUILD:-}" ]; then
  log "building (a first build of the dependencies takes several minutes)"
  swift build
fi

start_postgres "$LOCAL/pg"
"$BIN/samenplanctl" setup-database --admin-url "$ADMIN_URL" --database samenplan >/dev/null

rm -f "$LOCAL/kafka.bootstrap"
start_background kafka-dev-broker "$BIN/kafka-dev-broker" --partitions 6 --bootstrap-file "$LOCAL/kafka.bootstrap"
for _ in $(seq 1 100); do [ -s "$LOCAL/kafka.bootstrap" ] && break; sleep 0.1; done
BOOTSTRAP="$(cat "$LOCAL/kafka.bootstrap")"

start_background webhook-receiver python3 "$ROOT/scripts/webhook_receiver.py" \
  --port "$WEBHOOK_PORT" --secret "$WEBHOOK_SECRET" --log "$LOGS/webhooks.jsonl"

for service in "${SERVICES[@]}"; do start_service "$service"; done

log "waiting for every service to be ready"
deadline=$((SECONDS + 60))
for service in "${SERVICES[@]}"; do
  port="$(service_port "$service")"
  until curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "port $port is not ready after 60 s; see $LOGS/" >&2
      curl -sS "http://127.0.0.1:$port/health/ready" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
done

# Seed one family manager per demo area, so a referral finds someone (idempotent).
ADMIN_TOKEN="$("$BIN/samenplanctl" mint-token --role admin --subject local-admin --ttl 86400)"
for area in borsele goes middelburg; do
  curl -fsS -X POST "http://127.0.0.1:$PORT_BASE/v1/managers" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"id\":\"fm-$area\",\"displayName\":\"Gezinsmanager $area\",\"areas\":[\"$area\"],\"maxCaseload\":25}" >/dev/null
done
echo "$ADMIN_TOKEN" > "$LOCAL/admin-token"

cat <<INFO

Samenplan is running.
  intake         http://127.0.0.1:$(service_port intake)   (POST /v1/events, /v1/managers)
  planning       http://127.0.0.1:$(service_port planning)   (GET /v1/cases/{id})
  volunteers     http://127.0.0.1:$(service_port volunteers)
  notifications  http://127.0.0.1:$(service_port notifications)   (GET /v1/deliveries)
  reporting      http://127.0.0.1:$(service_port reporting)   (GET /v1/reports/caseload)
  health         GET /health/live, /health/ready, /metrics on each port
  PostgreSQL     $ADMIN_URL (database samenplan)
  Kafka          $BOOTSTRAP (written to .local/kafka.bootstrap)
  webhooks       received by http://127.0.0.1:$WEBHOOK_PORT/hook, logged to .local/logs/webhooks.jsonl
  admin token    .local/admin-token   (more: .build/debug/samenplanctl mint-token --role ROLE --subject ID)
  logs           .local/logs/
  stop           scripts/run.sh stop
INFO
