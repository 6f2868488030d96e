#!/usr/bin/env bash
# The entrypoint of the offline postgres:15-bookworm image (scripts/containers/base-images.sh).
# It does what the official image's entrypoint does for what Samenplan's compose file uses:
#   - started as root, it makes the data folder (the named volume) the postgres user's and
#     runs itself again as that user;
#   - on the first start (no PG_VERSION in $PGDATA) it runs initdb with POSTGRES_USER
#     (postgres) and POSTGRES_PASSWORD, lets every host in with POSTGRES_HOST_AUTH_METHOD
#     (scram-sha-256), listens on every address, creates POSTGRES_DB if it is not `postgres`
#     and runs /docker-entrypoint-initdb.d/*.sql and *.sh;
#   - then it execs the server, so the server is PID 1 and gets the stop signal itself.
# A later start on a volume that has data leaves it as it is (POSTGRES_PASSWORD is not applied).
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
    cat >&2 <<'MESSAGE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
MESSAGE
    exit 1
  fi
  echo "initialising a new database cluster in $PGDATA"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
  printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

  # A server on the socket only, for the database and the init scripts.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$user" --dbname postgres)
  if [ "$database" != postgres ]; then
    "${psql[@]}" --set db="$database" -q <<<'CREATE DATABASE :"db";'
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sh) echo "running $file"; . "$file" ;;
      *.sql) echo "running $file"; "${psql[@]}" --dbname "$database" -f "$file" ;;
      *) if [ -e "$file" ]; then echo "ignoring $file"; fi ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
