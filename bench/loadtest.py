"""Load test: locust against gunicorn on 127.0.0.1 only, bounded in time and users.

    bench/run.py loadtest [--users 50] [--spawn-rate 10] [--time 60s] [--workers 4]
                          [--host http://127.0.0.1:PORT] [--json out.json]

Prepares a signed-in session (both factors verified) for generated commissioners and
providers with the Django session engine, starts gunicorn (DEBUG off, collected static files)
on a loopback port unless ``--host`` names one already running, runs ``locust --headless``
with ``bench/locustfile.py``, samples every gunicorn worker's VmRSS from /proc while it runs,
and prints requests/s, p50/p95/p99, failures and the worker RSS peak. Any target other than a
loopback address is refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.loopback import require_loopback

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_sessions(commissioners: int = 40, providers: int = 20) -> dict:
    """Sessions for generated users, as after a real two-factor sign-in."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db.models import Count
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from commissioning.middleware import SESSION_KEY as ORGANISATION_KEY
    from commissioning.models import Membership
    from commissioning.two_factor import NOT_NEEDED_SESSION_KEY
    from contracts.models import Contract
    from monitoring.models import PerformanceReturn
    from monitoring.services import recent_periods

    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = "django.contrib.auth.backends.ModelBackend"

    def session_for(membership, device=None) -> str:
        user = membership.user
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[ORGANISATION_KEY] = membership.organisation_id
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        else:
            session[NOT_NEEDED_SESSION_KEY] = True
        session.create()
        return session.session_key

    result = {"commissioners": [], "providers": []}
    chosen = (Membership.objects.filter(role__in=["commissioner", "contract_manager"],
                                        organisation__kind__in=["local_authority",
                                                                "nhs_commissioner"])
              .select_related("user", "organisation").order_by("pk")[:commissioners])
    devices = {d.user_id: d for d in TOTPDevice.objects.filter(
        user__in=[m.user_id for m in chosen])}
    for membership in chosen:
        contracts = list(Contract.objects.filter(
            partnership__members__organisation=membership.organisation)
            .order_by("?").values_list("pk", flat=True)[:50])
        result["commissioners"].append({
            "email": membership.user.email,
            "session_key": session_for(membership, devices.get(membership.user_id)),
            "contracts": contracts})
    latest = recent_periods(kind="quarter", today=timezone.localdate(), count=1)[-1]
    busy = (Contract.objects.filter(status__in=["live", "extended"], kpis__isnull=False)
            .values("provider").annotate(n=Count("pk", distinct=True)).order_by("-n")
            .values_list("provider", flat=True)[:providers * 3])
    taken = set()
    for membership in (Membership.objects.filter(role="provider_submitter",
                                                 organisation__in=list(busy))
                       .select_related("user", "organisation").order_by("organisation_id")):
        if membership.organisation_id in taken:
            continue
        taken.add(membership.organisation_id)
        done = set(PerformanceReturn.objects.filter(
            contract__provider=membership.organisation, period=latest,
            status__in=["submitted", "accepted"]).values_list("contract_id", flat=True))
        contracts = [pk for pk in Contract.objects.filter(
            provider=membership.organisation, status__in=["live", "extended"],
            start_date__lte=latest.end_date, kpis__isnull=False).distinct()
            .values_list("pk", flat=True) if pk not in done]
        if not contracts:
            continue
        result["providers"].append({
            "email": membership.user.email,
            "session_key": session_for(membership),
            "returns": [f"/returns/{pk}/{latest.code}/" for pk in contracts]})
        if len(result["providers"]) >= providers:
            break
    return result


class RSSSampler(threading.Thread):
    """Peak VmRSS of a process's children (gunicorn workers) and of the process itself."""

    def __init__(self, master_pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.interval = interval
        self.stop = threading.Event()
        self.worker_peak_kb = 0
        self.master_peak_kb = 0
        self.samples = 0

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _children(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.master_pid}/task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return pids

    def run(self) -> None:
        while not self.stop.is_set():
            self.master_peak_kb = max(self.master_peak_kb, self._rss_kb(self.master_pid))
            for pid in self._children():
                self.worker_peak_kb = max(self.worker_peak_kb, self._rss_kb(pid))
            self.samples += 1
            self.stop.wait(self.interval)


def _gunicorn_env(static_root: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "HTTPS": "false",
        "SECURE_SSL_REDIRECT": "false", "STATIC_ROOT": static_root,
        # Tasks (e-mails after a submission) wait in Redis: no worker runs here.
        "CELERY_TASK_ALWAYS_EAGER": "false",
    })
    return env


def _wait_for(url: str, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer on {url} within {timeout:.0f} s")


def _read_stats(prefix: str) -> dict:
    rows = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"] if row["Name"] != "Aggregated" else "Aggregated"] = row
    return rows


def run(args) -> dict:
    from bench import scale

    require_loopback(args.host or "http://127.0.0.1")
    # The sessions made here must be readable by gunicorn: one secret key for both.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
    os.environ.setdefault("PSEUDONYMISATION_KEY", secrets.token_urlsafe(40))
    scale.setup()
    sessions = make_sessions()
    work = Path(tempfile.mkdtemp(prefix="jc-loadtest-"))
    sessions_file = work / "sessions.json"
    sessions_file.write_text(json.dumps(sessions))
    gunicorn = None
    host = args.host
    env = _gunicorn_env(str(work / "static"))
    if host is None:
        subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput",
                        "-v0"], cwd=ROOT, env=env, check=True)
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "commissioning.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--worker-class", "sync", "--timeout", "60",
             "--max-requests", "0", "--log-level", "warning"],
            cwd=ROOT, env=env)
        _wait_for(host)
    sampler = RSSSampler(gunicorn.pid) if gunicorn else None
    if sampler:
        sampler.start()
    prefix = str(work / "locust")
    try:
        completed = subprocess.run(
            [str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(args.spawn_rate),
             "-t", args.time, "--host", host, "--csv", prefix, "--only-summary",
             "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, env={**os.environ, "LOADTEST_SESSIONS": str(sessions_file)},
            capture_output=True, text=True)
    finally:
        if sampler:
            sampler.stop.set()
            sampler.join()
        if gunicorn:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
    if completed.returncode not in (0, 1):
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-3000:])
        raise SystemExit(f"locust exited with {completed.returncode}")
    stats = _read_stats(prefix)
    total = stats["Aggregated"]
    result = {
        "host": host, "users": args.users, "spawn_rate": args.spawn_rate, "time": args.time,
        "workers": args.workers, "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]), "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]), "p95": float(total["95%"]), "p99": float(total["99%"]),
        "max": float(total["Max Response Time"]),
        "worker_rss_peak_mb": sampler.worker_peak_kb / 1024 if sampler else None,
        "master_rss_peak_mb": sampler.master_peak_kb / 1024 if sampler else None,
        "rss_samples": sampler.samples if sampler else 0,
        "sessions": {k: len(v) for k, v in sessions.items()},
        "by_name": [{"name": name, "requests": int(r["Request Count"]),
                     "failures": int(r["Failure Count"]), "p50": float(r["50%"]),
                     "p95": float(r["95%"]), "p99": float(r["99%"])}
                    for name, r in stats.items() if name != "Aggregated"],
    }
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        result["failure_detail"] = failures_file.read_text()[:2000]
    return result


def print_result(r: dict) -> None:
    print(f"Load test: {r['users']} users (spawn {r['spawn_rate']}/s) for {r['time']} against "
          f"gunicorn ({r['workers']} sync workers) on {r['host']}")
    print()
    print("| Requests | Requests/s | p50 ms | p95 ms | p99 ms | Max ms | Errors | "
          "Worker RSS peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    rss = f"{r['worker_rss_peak_mb']:.0f}" if r["worker_rss_peak_mb"] else "n/a"
    print(f"| {r['requests']:,} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
          f"{r['p99']:.0f} | {r['max']:.0f} | {r['failures']} | {rss} |")
    print()
    print("| Request | Count | Errors | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in sorted(r["by_name"], key=lambda x: -x["requests"]):
        print(f"| {row['name']} | {row['requests']:,} | {row['failures']} | {row['p50']:.0f} | "
              f"{row['p95']:.0f} | {row['p99']:.0f} |")
    if r.get("failure_detail") and r["failures"]:
        print()
        print(r["failure_detail"])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py loadtest")
    parser.add_argument("--host", help="an already running server (loopback only)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--time", default="60s")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.host:
        require_loopback(args.host)
    from bench import scale

    result = run(args)
    scale.write_json(args.json, result)
    print_result(result)
