"""Load test: locust against gunicorn on 127.0.0.1 only, bounded in time and users.

    bench/run.py loadtest [--users 50] [--spawn-rate 10] [--time 60s] [--workers 4]
                          [--host http://127.0.0.1:PORT] [--no-warm-up]
                          [--locustfile other.py] [--json out.json]

Prepares a signed-in session (both factors verified) for generated commissioners and
providers with the Django session engine, starts gunicorn (DEBUG off, collected static files,
``--preload``: the app and every view are loaded once before the workers fork) on a loopback
port unless ``--host`` names one already running, warms every worker up with a few GETs of
each page (a production server is warm: templates compiled, database connections open), runs
``locust --headless`` with ``bench/locustfile.py``, samples every gunicorn worker's VmRSS and
CPU time and the load average from /proc while it runs, and prints requests/s, p50/p95/p99,
failures, the worker RSS peak, the CPU each request cost (gunicorn workers, their
PostgreSQL backends, locust itself), the load average and how busy the machine was with
other work meanwhile. Any target other than a loopback address is refused.

Uploaded evidence goes to a temporary MEDIA_ROOT. Submitted returns stay submitted in the
database (each run picks returns that are still open).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import secrets
import signal
import socket
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

from bench import scale
from bench.loopback import require_loopback

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_sessions(commissioners: int = 40, providers: int = 20) -> dict:
    """Sessions for generated users, as after a real two-factor sign-in."""

    # Django is set up at run time, not on import; these modules need it.
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
    from monitoring.reporting_periods import recent_periods

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


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of a process (+ its reaped children's); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK


APPLICATION_NAME = "jc-loadtest"  # gunicorn's PostgreSQL connections (PGAPPNAME)


def gunicorn_backends() -> list[int]:
    """Process ids of the PostgreSQL backends serving gunicorn (by application name), so
    that their CPU can be read from /proc: the database server runs on this machine."""
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                       [APPLICATION_NAME])
        return [row[0] for row in cursor.fetchall()]


class RSSSampler(threading.Thread):
    """Peak VmRSS of a process's children (gunicorn workers) and of the process itself, the
    CPU time of the workers and of their PostgreSQL backends, and the load average."""

    def __init__(self, master_pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.interval = interval
        self.stop = threading.Event()
        self.worker_peak_kb = 0
        self.master_peak_kb = 0
        self.samples = 0
        self.worker_cpu: dict[int, float] = {}  # pid -> last CPU seconds seen
        self.worker_cpu_start: dict[int, float] = {}
        self.backend_cpu: dict[int, float] = {}
        self.backend_cpu_start: dict[int, float] = {}
        self.backends_ok = True
        self.loadavg: list[float] = []

    @staticmethod
    def _used(last: dict[int, float], start: dict[int, float]) -> float:
        """CPU used since sampling began; a process that ended mid-run counts up to its last
        sample, one that started mid-run from zero."""
        return sum(cpu - start.get(pid, 0.0) for pid, cpu in last.items())

    def worker_cpu_seconds(self) -> float:
        return self._used(self.worker_cpu, self.worker_cpu_start)

    def backend_cpu_seconds(self) -> float | None:
        if not self.backends_ok or not self.backend_cpu:
            return None
        return self._used(self.backend_cpu, self.backend_cpu_start)

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

    def _sample(self, first: bool = False) -> None:
        self.master_peak_kb = max(self.master_peak_kb, self._rss_kb(self.master_pid))
        for pid in self._children():
            self.worker_peak_kb = max(self.worker_peak_kb, self._rss_kb(pid))
            cpu = _cpu_seconds(pid)
            if cpu:
                self.worker_cpu[pid] = cpu
                if first:
                    self.worker_cpu_start[pid] = cpu
        if self.backends_ok:
            try:
                for pid in gunicorn_backends():
                    cpu = _cpu_seconds(pid)
                    if cpu:
                        self.backend_cpu[pid] = cpu
                        if first:
                            self.backend_cpu_start[pid] = cpu
            except Exception:  # noqa: BLE001 (a figure less, never a failed run)
                self.backends_ok = False
        self.loadavg.append(os.getloadavg()[0])
        self.samples += 1

    def run(self) -> None:
        # Django is set up at run time, not on import; these modules need it.
        from django.db import connection

        try:
            self._sample(first=True)
            while not self.stop.wait(self.interval):
                self._sample()
            self._sample()
        finally:
            connection.close()


def _gunicorn_env(static_root: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "HTTPS": "false",
        "SECURE_SSL_REDIRECT": "false", "STATIC_ROOT": static_root,
        "MEDIA_ROOT": str(Path(static_root).parent / "media"),  # uploaded evidence
        # Tasks (e-mails after a submission) wait in Redis: no worker runs here.
        "CELERY_TASK_ALWAYS_EAGER": "false", "EMAIL_BACKEND": "console",
        "PGAPPNAME": APPLICATION_NAME,
    })
    return env


def _wait_for(url: str, timeout: float = 60) -> None:
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


def warm_up(host: str, sessions: dict, workers: int, rounds: int = 3) -> float:
    """GET every page of the journeys a few times from as many clients as there are workers,
    so that each worker has compiled its templates and opened its database connection before
    the measured run (read-only: no form is posted). Returns the seconds it took."""
    commissioner = sessions["commissioners"][0]
    pages = [(commissioner, path) for path in (
        "/", "/contracts/?page=2", "/contracts/?status=live&service_area=carers",
        "/contracts/?q=care", f"/contracts/{commissioner['contracts'][0]}/",
        "/monitoring/inbox/")]
    if sessions["providers"]:
        provider = sessions["providers"][0]
        pages += [(provider, "/returns/"), (provider, provider["returns"][0]),
                  (provider, provider["returns"][0] + "evidence/")]

    def fetch(page) -> None:
        who, path = page
        request = urllib.request.Request(host + path,
                                         headers={"Cookie": f"sessionid={who['session_key']}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"warm-up: GET {path} answered {error.code}") from error

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in range(rounds):
            list(pool.map(fetch, [page for page in pages for _ in range(workers)]))
    return time.monotonic() - started


def _read_stats(prefix: str) -> dict:
    rows = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"] if row["Name"] != "Aggregated" else "Aggregated"] = row
    return rows


def run(args) -> dict:
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
             "--max-requests", "0", "--preload", "--log-level", "warning"],
            cwd=ROOT, env=env)
    sampler = RSSSampler(gunicorn.pid) if gunicorn else None
    prefix = str(work / "locust")
    try:  # from here on gunicorn is stopped whatever happens
        if gunicorn:
            _wait_for(host)
        warm_up_s = None if args.no_warm_up else warm_up(host, sessions, args.workers)
        load_before = os.getloadavg()
        if sampler:
            sampler.start()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy_before = machine_busy_seconds()
        started = time.monotonic()
        locust = subprocess.Popen(
            [str(VENV_BIN / "locust"), "-f", args.locustfile,
             "--headless", "-u", str(args.users), "-r", str(args.spawn_rate),
             "-t", args.time, "--host", host, "--csv", prefix, "--only-summary",
             "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, env={**os.environ, "LOADTEST_SESSIONS": str(sessions_file)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = locust.communicate()
        elapsed = time.monotonic() - started
        busy = machine_busy_seconds() - busy_before
        # locust is reaped now, gunicorn not yet: the growth of our children's CPU is locust's.
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (children_after.ru_utime + children_after.ru_stime
                      - children_before.ru_utime - children_before.ru_stime)
        load_after = os.getloadavg()
    finally:
        if sampler and sampler.is_alive():
            sampler.stop.set()
            sampler.join()
        if gunicorn:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
    if locust.returncode not in (0, 1):
        sys.stderr.write(stdout[-3000:] + stderr[-3000:])
        raise SystemExit(f"locust exited with {locust.returncode}")
    stats = _read_stats(prefix)
    total = stats["Aggregated"]
    requests_ = max(int(total["Request Count"]), 1)

    def per_request_ms(seconds: float | None) -> float | None:
        return None if seconds is None else seconds * 1000 / requests_

    ours = {"gunicorn_workers": sampler.worker_cpu_seconds() if sampler else None,
            "postgres_backends": sampler.backend_cpu_seconds() if sampler else None,
            "locust": locust_cpu}
    result = {
        "host": host, "users": args.users, "spawn_rate": args.spawn_rate, "time": args.time,
        "workers": args.workers, "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]), "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]), "p95": float(total["95%"]), "p99": float(total["99%"]),
        "max": float(total["Max Response Time"]),
        "worker_rss_peak_mb": sampler.worker_peak_kb / 1024 if sampler else None,
        "master_rss_peak_mb": sampler.master_peak_kb / 1024 if sampler else None,
        "rss_samples": sampler.samples if sampler else 0,
        "locustfile": args.locustfile, "warm_up_s": warm_up_s, "elapsed_s": elapsed,
        "loadavg_before": load_before[0], "loadavg_after": load_after[0],
        "loadavg_max": max(sampler.loadavg) if sampler else None,
        "loadavg_mean": sum(sampler.loadavg) / len(sampler.loadavg) if sampler else None,
        "cpu_ms_per_request": {name: per_request_ms(sec) for name, sec in ours.items()},
        # Everything else the machine did meanwhile (other people's work, the kernel, this
        # script), in cores: how much the run had to share the machine.
        "machine_busy_cores": busy / elapsed,
        "other_cores": (busy - sum(sec for sec in ours.values() if sec)) / elapsed,
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
    if r.get("loadavg_mean") is not None:
        print(f"Load average (1 min): {r['loadavg_before']:.2f} before, mean "
              f"{r['loadavg_mean']:.2f} and max {r['loadavg_max']:.2f} during, "
              f"{r['loadavg_after']:.2f} at the end ({os.cpu_count()} cores).")
    cpu = r.get("cpu_ms_per_request") or {}
    if cpu:
        parts = [f"{name.replace('_', ' ')} {ms:.1f}" for name, ms in cpu.items()
                 if ms is not None]
        print("CPU per request, ms: " + ", ".join(parts) + ".")
    if r.get("machine_busy_cores") is not None:
        print(f"Machine busy {r['machine_busy_cores']:.2f} cores on average, of which "
              f"{r['other_cores']:.2f} not this test's processes (other work, kernel).")
    if r.get("warm_up_s") is not None:
        print(f"Workers warmed up before the run ({r['warm_up_s']:.1f} s, not measured).")
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
    parser.add_argument("--locustfile", default=str(ROOT / "bench" / "locustfile.py"),
                        help="other journeys (to compare); the default is bench/locustfile.py")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="measure from cold workers (first requests compile templates)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.host:
        require_loopback(args.host)

    result = run(args)
    scale.write_json(args.json, result)
    print_result(result)
