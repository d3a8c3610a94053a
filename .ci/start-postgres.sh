#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on a loopback port for the store tests and prints
# the URL to use. PostgreSQL refuses to run as root, so it runs as `postgres`.
set -euo pipefail
PORT="${RAMPART_TEST_PG_PORT:-55432}"
DIR="${RAMPART_TEST_PG_DIR:-/tmp/rampart-ci-postgres}"
BIN="$(dirname "$(readlink -f "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")")"
if [ ! -x "$BIN/initdb" ]; then
  for v in /usr/lib/postgresql/*/bin; do BIN="$v"; done
fi
if [ ! -x "$BIN/initdb" ]; then
  echo "installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  for v in /usr/lib/postgresql/*/bin; do BIN="$v"; done
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  echo "postgres://rampart:rampart@127.0.0.1:$PORT/postgres"
  exit 0
fi
rm -rf "$DIR"
mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
as_pg "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -w start >/dev/null
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "create role rampart login superuser password 'rampart'" >/dev/null
echo "postgres://rampart:rampart@127.0.0.1:$PORT/postgres"
