"""Hostile spreadsheets against the one upload module (commissioning/uploads.py).

    .venv/bin/python bench/bench_uploads.py [--timeout 60]

No database or services are needed: the files are built here (commissioning/tests/
hostile_files.py) and read the way each import reads them (the return upload's and the
register's limits), each case in a forked process so that its memory is its own. For every
case it prints the wall time, the growth of the process's peak RSS while reading (VmHWM,
reset through /proc/self/clear_refs before the case) and, in a second run, the peak of Python
allocations (tracemalloc). The baseline, measured in the same run, is a normal 1,000-row return
read in full; the "before" rows read the same files the way the imports did before (openpyxl
read-only, the whole sheet, limits checked afterwards), stopped after ``--timeout`` seconds or
1.5 GB of extra address space.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import signal
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")

import django  # noqa: E402

django.setup()

from openpyxl import Workbook, load_workbook  # noqa: E402

from commissioning import uploads  # noqa: E402
from commissioning.tests import hostile_files as hostile  # noqa: E402
from contracts import imports as register_imports  # noqa: E402
from monitoring.services.return_uploads import RETURN_LIMITS, SPREADSHEET_TYPES  # noqa: E402

MB = 1024 * 1024
ADDRESS_SPACE_CAP = 1536 * MB


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _in_child(work: Callable[[], str], *, trace: bool, timeout: float) -> dict:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure one case, report as JSON, exit
        os.close(read_end)
        result: dict = {}
        try:
            # A "before" reader may want gigabytes: cap the child's address space so that
            # it fails on its own instead of pushing the shared machine into swap.
            resource.setrlimit(resource.RLIMIT_AS, (_status("VmSize") + ADDRESS_SPACE_CAP,
                                                    resource.RLIM_INFINITY))
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            start_rss = _status("VmRSS")

            def stop(_signum, _frame):
                raise TimeoutError

            signal.signal(signal.SIGALRM, stop)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            try:
                result["outcome"] = work()
            except uploads.UploadRefused as error:
                result["outcome"] = f"refused: {error}"
            except TimeoutError:
                result["outcome"] = f"still reading after {timeout:g} s: stopped"
            except MemoryError:
                result["outcome"] = (f"needed more than {ADDRESS_SPACE_CAP // MB:,} MB more "
                                     "address space: stopped")
            result["seconds"] = time.perf_counter() - started
            signal.setitimer(signal.ITIMER_REAL, 0)
            if trace:
                result["python_peak"] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            result["rss_growth"] = _status("VmHWM") - start_rss
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            result["outcome"] = f"error: {type(error).__name__}: {error}"
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


def measure(work: Callable[[], str], timeout: float) -> dict:
    timed = _in_child(work, trace=False, timeout=timeout)
    traced = _in_child(work, trace=True, timeout=timeout)
    return {**timed, "python_peak": traced.get("python_peak")}


# --- How each import reads a file now, and how it read one before ------------------------------

def return_now(name: str, data: bytes) -> Callable[[], str]:
    def work() -> str:
        file = io.BytesIO(data)
        kind = uploads.check_file(file, name=name, allowed=SPREADSHEET_TYPES,
                                  description="a CSV or XLSX file").family
        rows = sum(1 for _ in uploads.read_rows(file, kind, RETURN_LIMITS))
        return f"read {rows:,} rows"
    return work


def register_now(name: str, data: bytes) -> Callable[[], str]:
    def work() -> str:
        table = register_imports.read_table(name, data)
        return f"read {len(table.rows):,} rows"
    return work


def openpyxl_before(data: bytes) -> Callable[[], str]:
    """The return upload before: the whole first sheet as lists, then the row limit."""
    def work() -> str:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [["" if c is None else str(c) for c in row]
                for row in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
        if len(rows) > 1_001:
            return f"read all {len(rows):,} rows, then refused for the 1,000-row limit"
        return f"read {len(rows):,} rows"
    return work


# --- The files ---------------------------------------------------------------------------------

def normal_return(rows: int = 1_000) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"])
    for number in range(1, rows + 1):
        sheet.append([f"K{number}", f"Indicator {number}", number * 3, None, None,
                      "Figures from the case management system"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def issue_case() -> bytes:
    """About 5 MB that expands to about 40 MB of worksheet XML (the issue's example)."""
    def chunks():
        yield hostile.row_xml(1, ["kpi_code", "kpi_name", "value", "numerator", "denominator",
                                  "commentary"])
        rows = []
        for number in range(2, 260_000):
            rows.append(hostile.row_xml(number, [f"K{number}", f"Indicator {number % 97}",
                                                 number, "", "", f"note {number * 7919 % 100003}"]))
            if len(rows) == 2_000:
                yield b"".join(rows)
                rows = []
        yield b"".join(rows)
    return hostile.workbook(chunks(), compresslevel=9)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/bench_uploads.py")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    files = {
        "normal": normal_return(),
        "issue": issue_case(),
        "dense": hostile.many_rows_xlsx(19 * MB),
        "bomb": hostile.zip_bomb_xlsx(2_000),
        "wide": hostile.wide_row_xlsx(2_200_000, random_numbers=True),
    }
    print(f"files built in {time.perf_counter() - started:.1f} s")

    def expanded(data: bytes) -> float:
        return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) / MB

    cases = [
        ("Baseline: normal return, 1,000 rows, read in full", "normal",
         return_now("return.xlsx", files["normal"])),
        ("Baseline, before: the same with openpyxl", "normal", openpyxl_before(files["normal"])),
        ("Issue's case: return upload", "issue", return_now("return.xlsx", files["issue"])),
        ("Issue's case, before (openpyxl, whole sheet)", "issue",
         openpyxl_before(files["issue"])),
        ("Dense workbook: return upload", "dense",
         return_now("return.xlsx", files["dense"])),
        ("Dense workbook: register import", "dense",
         register_now("register.xlsx", files["dense"])),
        ("Dense workbook, before (openpyxl, whole sheet)", "dense",
         openpyxl_before(files["dense"])),
        ("Zip bomb: return upload", "bomb", return_now("return.xlsx", files["bomb"])),
        ("One row of 2,200,000 cells: return upload", "wide",
         return_now("return.xlsx", files["wide"])),
        ("One row of 2,200,000 cells: register import", "wide",
         register_now("register.xlsx", files["wide"])),
        ("One row of 2,200,000 cells, before (openpyxl, whole sheet)", "wide",
         openpyxl_before(files["wide"])),
    ]
    print()
    print("| Case | File (MB) | Expands to (MB) | Outcome | Seconds | Peak RSS growth (MB) "
          "| Python peak (MB) |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for title, key, work in cases:
        result = measure(work, args.timeout)
        peak = result.get("python_peak")
        print(f"| {title} | {len(files[key]) / MB:.2f} | {expanded(files[key]):,.1f} "
              f"| {result['outcome'][:90]} | {result.get('seconds', float('nan')):.2f} "
              f"| {result.get('rss_growth', 0) / MB:.0f} "
              f"| {'' if peak is None else f'{peak / MB:.0f}'} |", flush=True)
    load = os.getloadavg()
    print(f"\nload average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main(sys.argv[1:])
