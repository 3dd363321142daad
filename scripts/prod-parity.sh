#!/usr/bin/env bash
# Production parity: run the app the way README's production section does, for real, and
# drive it over HTTPS as its users (commissioning/tests/test_prod_parity.py).
#
#   DEBUG=false, collectstatic with the manifest storage into a fresh STATIC_ROOT, gunicorn
#   on 127.0.0.1 (TLS on a random free port, so secure cookies, HSTS and the HTTPS redirect
#   stay on as in production), a real `celery worker` and `celery beat` on Redis, PostgreSQL
#   with the demo data (`manage.py load_demo`), and a real SMTP server (aiosmtpd) on loopback.
#
# Usage: scripts/prod-parity.sh [pytest options]. Throwaway PostgreSQL and Redis come from
# scripts/with-test-services.sh; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_SERVICES_DIR:-}" ]; then
  exec scripts/with-test-services.sh "$0" "$@"
fi

started=$(date +%s)
venv=${VENV:-.venv}
py="$venv/bin/python"
run="$TEST_SERVICES_DIR/prod"
mkdir -p "$run/media"  # the SMTP server creates its Maildir
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
web_port=$(free_port)
smtp_port=$(free_port)

# A certificate for 127.0.0.1 that the test client trusts (and nothing else does).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$run/tls.key" -out "$run/tls.crt" 2>/dev/null

# The production configuration: nothing below is test-only except the addresses.
export DEBUG=false
export SECRET_KEY=$("$py" -c 'import secrets; print(secrets.token_urlsafe(60))')
export PSEUDONYMISATION_KEY=$("$py" -c 'import secrets; print(secrets.token_urlsafe(32))')
export ALLOWED_HOSTS=127.0.0.1
export SITE_URL="https://127.0.0.1:$web_port"
export CSRF_TRUSTED_ORIGINS="$SITE_URL"
export STATIC_ROOT="$run/static" MEDIA_ROOT="$run/media"
export EMAIL_BACKEND=smtp EMAIL_HOST=127.0.0.1 EMAIL_PORT="$smtp_port" EMAIL_USE_TLS=false
export CELERY_TASK_ALWAYS_EAGER=false
unset EMAIL_FILE_PATH TWO_FACTOR_ENABLED
pg_host=127.0.0.1
"$TEST_PG_BIN/createdb" -h "$pg_host" -p "$TEST_PG_PORT" -U postgres commissioning

step() { echo "prod-parity: $* ($(( $(date +%s) - started ))s)"; }
step "migrate"
"$py" manage.py migrate --noinput >"$run/migrate.log"
step "collectstatic"
"$py" manage.py collectstatic --noinput >"$run/collectstatic.log"
step "load_demo"
"$py" manage.py load_demo >"$run/load_demo.log"
"$py" manage.py check --deploy --fail-level WARNING

step "start SMTP, gunicorn, worker, beat"
"$py" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$run/mail" \
  >"$run/smtp.log" 2>&1 &
pids+=($!)
"$venv/bin/gunicorn" commissioning.wsgi --bind "127.0.0.1:$web_port" --workers 2 \
  --certfile "$run/tls.crt" --keyfile "$run/tls.key" --timeout 120 \
  --access-logfile "$run/gunicorn-access.log" --error-logfile "$run/gunicorn.log" &
pids+=($!)
"$venv/bin/celery" -A commissioning worker --loglevel=INFO --concurrency=1 \
  --without-gossip --without-mingle --logfile "$run/worker.log" &
pids+=($!)
"$venv/bin/celery" -A commissioning beat --loglevel=INFO --schedule "$run/beat-schedule" \
  --logfile "$run/beat.log" &
pids+=($!)

export PROD_PARITY_URL="$SITE_URL" PROD_PARITY_CA="$run/tls.crt" PROD_PARITY_MAIL="$run/mail"
export PROD_PARITY_LOGS="$run" PROD_PARITY_PIDS="${pids[*]}"
if [ -n "${PROD_PARITY_HOLD:-}" ]; then
  # Debugging: keep everything running; run the tests from another shell after
  # `set -a; . $run/env; set +a` (stop with Ctrl-C).
  export -p >"$run/env"
  echo "prod-parity: holding; environment in $run/env"
  wait
fi
set +e
"$venv/bin/pytest" -m prodparity commissioning/tests/test_prod_parity.py -p no:randomly "$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  for log in gunicorn worker beat smtp; do
    echo "----- $log.log (last 40 lines)"; tail -n 40 "$run/$log.log" 2>/dev/null || true
  done
fi
step "finished with status $status"
exit "$status"
