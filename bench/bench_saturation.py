"""Saturation run (issue 19): the contract register served by gunicorn, driven by ``wrk`` with
no think time, beside a bare Django ``ListView`` of the same rows served by the same gunicorn.

    scripts/with-test-services.sh .venv/bin/python bench/run.py saturation \
        [--workers 4] [--worker-class sync|gthread|both] [--threads 4] [--connections 50] \
        [--duration 30] [--sessions 50]

Needs ``wrk`` (Debian package wrk 4.1.0: ``apt-get install -y wrk``, or
``scripts/install-system-packages.sh bench``).

1. The 10,000-contract data set of ``bench_register`` (built if the database is empty; a
   database holding anything else is refused), plus ``--sessions`` commissioners of the same
   council (``saturation-N@bench.invalid``), each with a confirmed authenticator.
2. One session per commissioner, made with the session engine as after a real sign-in with
   both factors (``loadtest.make_sessions`` does the same for the scale data set).
3. ``collectstatic`` with the manifest storage into a temporary STATIC_ROOT, then gunicorn on
   a free 127.0.0.1 port with production settings (DEBUG off, ``--preload``) and the bench's
   URLconf (``bench.settings``: the service's URLs plus ``/bench/bare/``), ``--workers`` sync
   workers (or gthread workers with ``--threads`` threads each).
4. Every session is checked to get the register page itself (200, not a redirect to sign
   in), then every worker is warmed up.
5. ``wrk -c CONNECTIONS -d DURATION --latency`` on the filtered register page, then on the
   bare ``ListView``, then on the register again while a contract is changed every second
   (a committed UPDATE: what the register remembers is worked out afresh after each), with
   a Lua script that gives each request the next session's cookie and
   counts every answer that is not a 200 (wrk itself counts redirects as successes).

It prints, for each URL: requests per second, median and p99 latency, answers that were not
200, socket errors, the gunicorn workers' and their PostgreSQL backends' CPU per request, and
the load average before and after, with the register's share of the bare list's rate. Only
loopback addresses are ever targeted; every run is bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path

from bench import bench_register
from bench.loadtest import RSSSampler, _free_port, _gunicorn_env, _wait_for
from bench.loopback import require_loopback

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
REGISTER = "/contracts/?status=live&service_area=adult_social_care"
BARE = "/bench/bare/"
TARGET_RPS = 100

LUA = """
-- Each request carries the next signed-in session's cookie; answers other than 200 are
-- counted (wrk counts a 302 to the sign-in page as a success).
local cookies = {%(cookies)s}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  counter = offset or 0
end

function request()
  counter = counter + 1
  local cookie = cookies[(counter %% #cookies) + 1]
  return wrk.format("GET", nil, {["Cookie"] = "sessionid=" .. cookie})
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
  end
  io.write(string.format("NOT_200 %%d\\n", total))
  io.write(string.format("P50_US %%d\\nP99_US %%d\\n", latency:percentile(50),
                         latency:percentile(99)))
end
"""


def prepare_sessions(count: int) -> list[str]:
    """``count`` commissioners of the bench council, each signed in with both factors."""
    # Django is set up at run time, not on import; these modules need it.
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from commissioning.middleware import SESSION_KEY as ORGANISATION_KEY
    from commissioning.models import Membership, Organisation, Role, User

    council = Organisation.objects.get(name=f"{bench_register.ORG_PREFIX}Council 0")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for n in range(count):
        user, created = User.objects.get_or_create(
            email=f"saturation-{n}{bench_register.EMAIL_DOMAIN}",
            defaults={"full_name": f"Saturation Commissioner {n}"})
        if created:
            user.set_password(secrets.token_urlsafe(16))
            user.save()
            Membership.objects.create(user=user, organisation=council, role=Role.COMMISSIONER)
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Bench authenticator", defaults={"confirmed": True})
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[ORGANISATION_KEY] = council.pk
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        keys.append(session.session_key)
    return keys


def _get(host: str, path: str, session_key: str) -> tuple[int, str]:
    request = urllib.request.Request(host + path,
                                     headers={"Cookie": f"sessionid={session_key}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def check_and_warm(host: str, keys: list[str], workers: int) -> None:
    """Every session sees the register itself and the bare list (200, with rows); then each
    worker has compiled its templates and opened its database connection."""
    for key in keys:
        for path, marker in ((REGISTER, "Contract register"), (BARE, "<table>")):
            status, body = _get(host, path, key)
            if status != 200 or marker not in body:
                raise SystemExit(f"session check: GET {path} answered {status}"
                                 f"{'' if status != 200 else ' without the page'}")
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        list(pool.map(lambda n: _get(host, (REGISTER, BARE)[n % 2], keys[n % len(keys)]),
                      range(workers * 20)))


def _drain(host: str, key: str, timeout: float = 120) -> None:
    """Return once the server answers a new request at once (its queue has emptied)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        _get(host, BARE, key)
        if time.monotonic() - started < 3:
            return


def _wrk(host: str, path: str, script: Path, connections: int, duration: int) -> dict:
    started = os.getloadavg()
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
         "--latency", "-s", str(script), host + path],
        capture_output=True, text=True, timeout=duration + 60, check=True)
    out = result.stdout

    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, out)
        return float(match[1]) if match else default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "p50_ms": number(r"P50_US (\d+)") / 1000,
        "p99_ms": number(r"P99_US (\d+)") / 1000,
        "not_200": int(number(r"NOT_200 (\d+)")),
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "socket_detail": errors[0] if errors else "Socket errors: none",
        "load_before": started[0], "load_after": os.getloadavg()[0], "raw": out,
    }


CHANGING = "Register, filtered, a contract changed every second"


class Changer(threading.Thread):
    """Changes a contract every second while wrk runs, as a person saving a page would
    (a committed UPDATE, so PostgreSQL moves the data's counter on): every page remembered
    before is then worked out afresh by the next request (commissioning.datacache)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.changes = 0

    def run(self) -> None:
        # Django is set up at run time, not on import; a thread has its own connection.
        from django.db import connection

        try:
            while not self.stop.wait(1.0):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE contracts_contract SET title = title || '' WHERE id = "
                        "(SELECT min(id) FROM contracts_contract WHERE service_area = "
                        "'adult_social_care')")
                self.changes += 1
        finally:
            connection.close()


def run_server(args, worker_class: str, keys: list[str], work: Path, env: dict) -> list:
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    require_loopback(host)
    command = [str(VENV_BIN / "gunicorn"), "commissioning.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--worker-class", worker_class,
               "--timeout", "60", "--preload", "--log-level", "warning",
               "--backlog", "2048"]
    if worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    gunicorn = subprocess.Popen(command, cwd=ROOT, env=env)
    rows = []
    try:
        _wait_for(host)
        check_and_warm(host, keys, args.workers)
        script = work / "sessions.lua"
        script.write_text(LUA % {"cookies": ", ".join(f'"{k}"' for k in keys)})
        for label, path in (("Register, filtered", REGISTER), ("Bare ListView", BARE),
                            (CHANGING, REGISTER)):
            sampler = RSSSampler(gunicorn.pid)
            sampler.start()
            changer = Changer() if label == CHANGING else None
            try:
                if changer:
                    changer.start()
                figures = _wrk(host, path, script, args.connections, args.duration)
            finally:
                sampler.stop.set()
                sampler.join()
                if changer:
                    changer.stop.set()
                    changer.join()
            if changer:
                figures["changes"] = changer.changes
            # Sync workers go on serving what wrk left queued when it stopped: wait for them
            # before the next URL, so that it does not start behind the last one's backlog.
            _drain(host, keys[0])
            requests_ = max(figures["requests"], 1)
            backends = sampler.backend_cpu_seconds()
            figures.update({
                "label": label, "worker_class": worker_class,
                "worker_cpu_ms": sampler.worker_cpu_seconds() * 1000 / requests_,
                "backend_cpu_ms": None if backends is None else backends * 1000 / requests_,
            })
            rows.append(figures)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py saturation")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", choices=["sync", "gthread", "both"], default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30, help="seconds per URL (max 120)")
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 1 <= args.connections <= 200:
        raise SystemExit("--duration must be 1-120 s and --connections 1-200")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk "
                         "(or scripts/install-system-packages.sh bench)")
    # gunicorn must read the sessions made here: one secret key for both processes.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
    os.environ.setdefault("PSEUDONYMISATION_KEY", secrets.token_urlsafe(40))
    bench_register._setup_django()
    # Django is set up at run time, not on import; these modules need it.
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    if not bench_register._refuse_foreign_data():
        started = time.perf_counter()
        bench_register.build_data()
        print(f"Built {bench_register.CONTRACTS:,} contracts in "
              f"{time.perf_counter() - started:.1f} s")
    keys = prepare_sessions(args.sessions)
    connection.close()
    work = Path(tempfile.mkdtemp(prefix="jc-saturation-"))
    env = _gunicorn_env(str(work / "static"))
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    classes = ["sync", "gthread"] if args.worker_class == "both" else [args.worker_class]
    print(f"gunicorn: {args.workers} workers ({', '.join(classes)}"
          f"{f', {args.threads} threads each for gthread' if 'gthread' in classes else ''}), "
          f"DEBUG off, collected static (manifest storage), --preload; wrk 2 threads, "
          f"{args.connections} connections, {args.duration} s per URL, no think time, "
          f"{len(keys)} signed-in sessions (both factors) in rotation; {os.cpu_count()} CPUs")
    rows = []
    try:
        for worker_class in classes:
            rows += run_server(args, worker_class, keys, work, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| URL | Workers | Requests/s | Median ms | p99 ms | Not 200 | Socket errors "
          "| Worker CPU ms/request | PostgreSQL CPU ms/request | Load average before / after |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        backend = "" if row["backend_cpu_ms"] is None else f"{row['backend_cpu_ms']:.1f}"
        print(f"| {row['label']} | {args.workers} {row['worker_class']} | {row['rps']:.1f} | "
              f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['not_200']} | "
              f"{row['socket_errors']} | {row['worker_cpu_ms']:.1f} | {backend} | "
              f"{row['load_before']:.2f} / {row['load_after']:.2f} |")
    print()
    for worker_class in classes:
        ours, bare, changing = (next(r for r in rows if r["worker_class"] == worker_class
                                     and r["label"] == label)
                                for label in ("Register, filtered", "Bare ListView", CHANGING))
        met = ours["rps"] >= TARGET_RPS and ours["not_200"] == 0 and ours["socket_errors"] == 0
        share = ours["rps"] / bare["rps"] if bare["rps"] else float("nan")
        print(f"{worker_class}: register {ours['rps']:.1f} req/s = {share:.2f} "
              f"of the bare ListView's {bare['rps']:.1f}; worker CPU per request "
              f"{ours['worker_cpu_ms'] / max(bare['worker_cpu_ms'], 0.001):.2f}x the bare list's; "
              f"target "
              f">= {TARGET_RPS} req/s with 0 errors: {'met' if met else 'NOT met'}")
        met = (changing["rps"] >= TARGET_RPS and changing["not_200"] == 0
               and changing["socket_errors"] == 0)
        print(f"{worker_class}: with a contract changed every second ({changing['changes']} "
              f"changes, each emptying what the register remembered): "
              f"{changing['rps']:.1f} req/s; target >= {TARGET_RPS} req/s with 0 errors: "
              f"{'met' if met else 'NOT met'}")
