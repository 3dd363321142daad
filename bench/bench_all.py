"""Everything, on fresh databases, with one summary:

    scripts/with-test-services.sh .venv/bin/python bench/run.py all --size large

1. the small data set in database ``<name>_small``: generate, measure the pages (for the
   query counts at the small size);
2. the large data set in the database named by DATABASE_URL: generate, measure the pages
   (with EXPLAIN ANALYZE of every query), the monthly report, the imports, then the load
   test against gunicorn on 127.0.0.1.

Each step runs in its own process. The tables are printed and written, with the raw figures
as JSON, to ``--out`` (default ``var/bench``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import subprocess
import sys
import time
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.bench_pages import print_table
from bench.bench_report import print_imports, print_report
from bench.loadtest import print_result

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, str(ROOT / "bench" / "run.py")]


def _url_for(database: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _step(args: list[str], database_url: str, label: str) -> tuple[str, float]:
    print(f"--- {label}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run([*RUN, *args], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "DATABASE_URL": database_url})
    elapsed = time.perf_counter() - started
    sys.stdout.write(completed.stdout)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-5000:])
        raise SystemExit(f"{label} failed (exit {completed.returncode})")
    return completed.stdout, elapsed


def _generated_seconds(output: str) -> float | None:
    match = re.search(r"Generated the \w+ data set in ([\d.]+) s", output)
    return float(match[1]) if match else None


def _machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = os.getloadavg()
    return (f"{cores} cores{memory}, {platform.platform()}, Python {platform.python_version()}"
            f"; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")


def summary(figures: dict) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        print(f"Run {figures['started']} on {figures['machine']}")
        print()
        print("Generator: " + ", ".join(
            f"{size} {g['generate_s']:.0f} s (wall, incl. migrate {g['step_s']:.0f} s)"
            for size, g in figures["generate"].items()))
        print()
        print_table(figures["pages_large"], figures.get("pages_small"))
        print()
        print_report(figures["report"])
        print()
        print_imports(figures["imports"])
        print()
        if figures.get("loadtest"):
            print_result(figures["loadtest"])
            print()
        print("Targets (large data set):")
        for line in targets(figures):
            print(f"- {line}")
    return out.getvalue()


def targets(figures: dict) -> list[str]:
    pages = figures["pages_large"]["pages"]
    small = {r["page"]: r["queries"] for r in figures.get("pages_small", {}).get("pages", [])}
    lines = []
    slow_median = [p["page"] for p in pages if p["median"] >= 100]
    slow_p95 = [p["page"] for p in pages if p["p95"] >= 250]
    slower_than_admin = [f"{p['page']} ({p['ratio']:.2f}×)" for p in pages
                         if p["ratio"] is not None and p["ratio"] > 1]
    varying = [f"{p['page']} ({small[p['page']]} → {p['queries']})" for p in pages
               if p["page"] in small and small[p["page"]] != p["queries"]]
    lines.append("every page median < 100 ms: " + (
        "met" if not slow_median else "NOT met: " + ", ".join(slow_median)))
    lines.append("every page p95 < 250 ms: " + (
        "met" if not slow_p95 else "NOT met: " + ", ".join(slow_p95)))
    lines.append("no page slower than admin's changelist: " + (
        "met" if not slower_than_admin else "NOT met: " + ", ".join(slower_than_admin)))
    if small:
        lines.append("query count independent of data size: " + (
            "met" if not varying else "NOT met: " + ", ".join(varying)))
    report = figures.get("report")
    if report and "size_gather_s" in report:
        lines.append(f"report data for {report['size_contracts']} contracts / "
                     f"{report['size_kpis']:,} KPIs < 0.5 s: "
                     f"{'met' if report['size_gather_s'] < 0.5 else 'NOT met'} "
                     f"({report['size_gather_s']:.2f} s, {report['queries']} queries)")
        lines.append(f"whole report within 1.5x of WeasyPrint alone: "
                     f"{'met' if report['ratio'] <= 1.5 else 'NOT met'} "
                     f"({report['ratio']:.2f}x; peak {report['peak_mb']:.0f} MB vs "
                     f"{report['weasyprint_peak_mb']:.0f} MB)")
    load = figures.get("loadtest")
    if load:
        lines.append(f"load test zero errors: {'met' if load['failures'] == 0 else 'NOT met'}"
                     f" ({load['failures']} of {load['requests']:,})")
        lines.append(f"load test p95 < 500 ms: {'met' if load['p95'] < 500 else 'NOT met'} "
                     f"({load['p95']:.0f} ms)")
        if load.get("worker_rss_peak_mb"):
            lines.append("web worker < 250 MB RSS: "
                         f"{'met' if load['worker_rss_peak_mb'] < 250 else 'NOT met'} "
                         f"({load['worker_rss_peak_mb']:.0f} MB)")
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py all")
    parser.add_argument("--size", choices=["large", "small"], default="large")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-small", action="store_true",
                        help="skip the small data set (no query-count comparison)")
    parser.add_argument("--no-loadtest", action="store_true")
    parser.add_argument("--loadtest-time", default="60s")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL "
                         "(use scripts/with-test-services.sh)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    main_db = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    figures: dict = {"started": datetime.now().isoformat(timespec="seconds"), "generate": {}}
    requests = ["--requests", str(args.requests)]
    if not args.no_small and args.size == "large":
        url = _url_for(f"{main_db}_small")
        output, elapsed = _step(["generate", "--size", "small"], url, "generate small")
        figures["generate"]["small"] = {"generate_s": _generated_seconds(output) or elapsed,
                                        "step_s": elapsed}
        _step(["pages", *requests, "--json", str(out / "pages_small.json")], url,
              "pages (small)")
        figures["pages_small"] = json.loads((out / "pages_small.json").read_text())
    url = os.environ["DATABASE_URL"]
    output, elapsed = _step(["generate", "--size", args.size], url, f"generate {args.size}")
    figures["generate"][args.size] = {"generate_s": _generated_seconds(output) or elapsed,
                                      "step_s": elapsed}
    _step(["pages", *requests, "--explain", "--json", str(out / "pages_large.json")], url,
          f"pages ({args.size})")
    figures["pages_large"] = json.loads((out / "pages_large.json").read_text())
    _step(["report", "--json", str(out / "report.json")], url, "monthly report")
    figures["report"] = json.loads((out / "report.json").read_text())
    _step(["imports", "--json", str(out / "imports.json")], url, "imports")
    figures["imports"] = json.loads((out / "imports.json").read_text())
    if not args.no_loadtest:
        _step(["loadtest", "--time", args.loadtest_time, "--json",
               str(out / "loadtest.json")], url, "load test")
        figures["loadtest"] = json.loads((out / "loadtest.json").read_text())
    figures["machine"] = _machine()
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str))
    text = summary(figures)
    (out / "summary.md").write_text(text)
    print()
    print("=" * 78)
    print(text)
