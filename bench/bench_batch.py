"""A month's batch of joint monitoring reports through real Celery workers.

    scripts/with-test-services.sh .venv/bin/python bench/bench_batch.py [--size small|large]

Generates the scale data set (unless the database already holds it), then for one and for two
worker processes: empties the reports, starts ``celery worker --concurrency=N`` on the test
Redis, runs the beat job for the first working day of a month (one report per partnership,
fanned out as one task each), waits until every report is done, and samples the resident
memory of the worker's pool processes every 0.2 s. Prints the wall time, the speed-up and the
peak memory per pool process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_WORKING_DAY = date(2026, 9, 1)  # a Tuesday after the August bank holiday weekend


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def run_batch(concurrency: int, log_dir: Path) -> dict:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection

    from commissioning.celery import app
    from monitoring.reports.models import MonthlyReport, ReportStatus
    from monitoring.reports.services import start_monthly_reports

    MonthlyReport.objects.all().delete()
    db = connection.settings_dict
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "true",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "MEDIA_ROOT": str(log_dir / "media"), "EMAIL_FILE_PATH": str(log_dir / "mail")}
    log = log_dir / f"worker-{concurrency}.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "commissioning", "worker",
         f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel=INFO", f"--logfile={log}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "ready." in log.read_text()):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"worker did not start: {log.read_text()}")
            time.sleep(0.2)
        app.conf.task_always_eager = False
        started = time.monotonic()
        reports = start_monthly_reports(today=FIRST_WORKING_DAY)
        peak = 0
        while True:
            for pid in _children(worker.pid):
                peak = max(peak, _rss_kib(pid))
            left = MonthlyReport.objects.exclude(
                status__in=[ReportStatus.DONE, ReportStatus.FAILED]).count()
            if not left:
                break
            if time.monotonic() - started > 3600:
                raise SystemExit("batch did not finish within an hour")
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        failed = MonthlyReport.objects.filter(status=ReportStatus.FAILED).count()
        pages = sum(MonthlyReport.objects.values_list("page_count", flat=True).exclude(
            page_count=None))
        return {"workers": concurrency, "reports": len(reports), "failed": failed,
                "pages": pages, "seconds": elapsed, "peak_rss_mb": peak / 1024}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/bench_batch.py")
    parser.add_argument("--size", choices=["small", "large"], default="large")
    args = parser.parse_args(argv)
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        raise SystemExit("Run through scripts/with-test-services.sh (needs the test Redis).")
    # Importable once ROOT is on sys.path (this file also runs as a script).
    from bench import scale

    scale.setup(migrate=True)
    # Django is set up at run time, not on import; these modules need it.
    from commissioning.models import Partnership

    if not Partnership.objects.exists():
        print(f"generating the {args.size} data set…", flush=True)
        print(f"  {scale.generate(args.size):.0f} s", flush=True)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (1, 2):
            (Path(tmp) / "mail").mkdir(exist_ok=True)
            results.append(run_batch(concurrency, Path(tmp)))
            print(results[-1], flush=True)
    one, two = results
    print()
    print("| Worker processes | Reports | Failed | Pages | Wall time (s) | Peak RSS per "
          "process (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in results:
        print(f"| {row['workers']} | {row['reports']} | {row['failed']} | {row['pages']} | "
              f"{row['seconds']:.1f} | {row['peak_rss_mb']:.0f} |")
    print(f"\nSpeed-up with two worker processes: {one['seconds'] / two['seconds']:.2f}×")


if __name__ == "__main__":
    main(sys.argv[1:])
