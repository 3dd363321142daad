#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis on loopback, run the given command against them,
# then stop both. The test suite uses real services, never stand-ins.
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)" >&2; exit 1; }
oidc_dir="$(cd "$(dirname "$0")" && pwd)/oidc-provider"
[ -d "$oidc_dir/node_modules/oidc-provider" ] || { echo "The test OpenID provider is not installed (cd scripts/oidc-provider && npm ci)" >&2; exit 1; }

run_dir=$(mktemp -d /tmp/jc-services-XXXXXX)
chmod 755 "$run_dir"
# Ports nothing is listening on now (asked of the kernel, not guessed: a guessed port can be
# one another run, a browser or a benchmark's connections already hold).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pg_port=${TEST_PG_PORT:-$(free_port)}
redis_port=${TEST_REDIS_PORT:-$(free_port)}
oidc_port=${TEST_OIDC_PORT:-$(free_port)}

as_postgres() {
  # initdb and postgres refuse to run as root: use the postgres system user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  as_postgres "$pgbin/pg_ctl" -D "$run_dir/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$run_dir/redis.pid" ] && kill "$(cat "$run_dir/redis.pid")" 2>/dev/null || true
  [ -f "$run_dir/oidc.pid" ] && kill "$(cat "$run_dir/oidc.pid")" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

mkdir "$run_dir/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$run_dir" "$run_dir/pg"
as_postgres "$pgbin/initdb" -D "$run_dir/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$run_dir/pg" -l "$run_dir/pg/server.log" -w \
  -o "-p $pg_port -k $run_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$run_dir/redis.pid" --logfile "$run_dir/redis.log"
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || {
  cat "$run_dir/redis.log" >&2; echo "Redis did not start on port $redis_port" >&2; exit 1; }
# A real OpenID provider (Node.js oidc-provider) for the single sign-on tests.
PORT="$oidc_port" node "$oidc_dir/provider.mjs" >"$run_dir/oidc.log" 2>&1 &
echo $! >"$run_dir/oidc.pid"
# Up to 30 s: Node.js starts slowly on a busy machine.
for _ in $(seq 300); do grep -q listening "$run_dir/oidc.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$run_dir/oidc.log" || { cat "$run_dir/oidc.log" >&2; echo "The test OpenID provider did not start" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/commissioning"
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"
# Tests run tasks in-process unless a test drives the real worker (tests marked "services").
export CELERY_TASK_ALWAYS_EAGER=true
export TEST_REDIS_URL="$CELERY_BROKER_URL"
export TEST_REDIS_PORT="$redis_port"
export TEST_PG_PORT="$pg_port"
export TEST_PG_BIN="$pgbin"
export TEST_PG_DATA="$run_dir/pg"
export TEST_SERVICES_DIR="$run_dir"
export TEST_OIDC_ISSUER="http://127.0.0.1:$oidc_port"
echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port, OpenID provider on $TEST_OIDC_ISSUER"
"$@"
