# Shared by scripts/run.sh and scripts/test.sh: where things live, installing what is
# missing, and the local PostgreSQL server in the project folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="${SAMENPLAN_LOCAL:-$ROOT/.local}"
PGPORT="${SAMENPLAN_PGPORT:-54329}"
mkdir -p "$LOCAL"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages the suite needs: librdkafka (the Kafka client), PostgreSQL, kcat to
# publish by hand, curl for the health checks, libcurl (notifications' SMTP client),
# aiosmtpd and openssl (the tests' SMTP server and its certificate), chromium and a font (the
# test that renders reporting's dashboard).
install_dependencies() {
  local missing=()
  [ -f /usr/include/librdkafka/rdkafka_mock.h ] || missing+=(librdkafka-dev)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev)
  python3 -c "import aiosmtpd" >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user.
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Where a server's data lives. As root, the server runs as `postgres`, which may not be
# allowed into the checkout (a clone under a private temporary folder, say): then the data
# goes to a folder of its own under /var/tmp, named after DIR so each DIR keeps its server.
pg_data() {
  local data="$1"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$(dirname "$data")" 2>/dev/null; then
    data="/var/tmp/samenplan-pg/$(printf '%s' "$data" | md5sum | cut -c1-16)"
    mkdir -p /var/tmp/samenplan-pg
  fi
  printf '%s' "$data"
}

# start_postgres DIR: a server for this project only, on 127.0.0.1:$PGPORT, data in DIR.
start_postgres() {
  local data bin; data="$(pg_data "$1")"; bin="$(pg_bin)"
  mkdir -p "$data"
  [ "$(id -u)" -ne 0 ] || chown postgres "$data"
  chmod 700 "$data"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data"
    as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if as_pg_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  log "starting PostgreSQL on 127.0.0.1:$PGPORT"
  as_pg_user "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k /tmp -c max_connections=400 ${PG_EXTRA_OPTIONS:-}" start >/dev/null
}

stop_postgres() {
  local data bin; data="$(pg_data "$1")"; bin="$(pg_bin)"
  if [ -s "$data/PG_VERSION" ] && as_pg_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg_user "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

ADMIN_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
