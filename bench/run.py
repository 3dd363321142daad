"""Benchmark entry point: ``python bench/run.py <name> [options]`` (see bench/README.md).

    register                 the contract register on its own 10,000-contract data set
    generate --size S        migrate and generate the scale data set (small or large)
    pages [--explain]        every main page against admin's changelist (generated data)
    report                   the monthly joint monitoring report (gather, HTML, WeasyPrint)
    imports                  rows per second: register file, finance export, return upload
    uploads                  hostile spreadsheets refused: time and memory (no database)
    api [--size S]           the read-only API: pages, query counts, CSV export memory
    loadtest                 locust against gunicorn on 127.0.0.1 (50 users, 60 s)
    saturation               wrk against gunicorn: the register vs a bare ListView (no think time)
    all --size large         all of the above on fresh databases, one summary
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARKS = {"register": "bench.bench_register"}


def _generate(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/run.py generate")
    parser.add_argument("--size", choices=["small", "large"], default="large")
    args = parser.parse_args(argv)
    # Importable once ROOT is on sys.path (this file also runs as a script).
    from bench import scale

    scale.setup(migrate=True)
    seconds = scale.generate(args.size)
    print(f"generate_scale_data --size {args.size}: {seconds:.1f} s")


COMMANDS = {
    "generate": _generate,
    "pages": lambda argv: importlib.import_module("bench.bench_pages").main(argv),
    "report": lambda argv: importlib.import_module("bench.bench_report").main(argv,
                                                                             what="report"),
    "imports": lambda argv: importlib.import_module("bench.bench_report").main(argv,
                                                                              what="imports"),
    "loadtest": lambda argv: importlib.import_module("bench.loadtest").main(argv),
    "saturation": lambda argv: importlib.import_module("bench.bench_saturation").main(argv),
    "uploads": lambda argv: importlib.import_module("bench.bench_uploads").main(argv),
    "api": lambda argv: importlib.import_module("bench.bench_api").main(argv),
    "all": lambda argv: importlib.import_module("bench.bench_all").main(argv),
}


def main(argv: list[str]) -> None:
    names = sorted([*BENCHMARKS, *COMMANDS])
    if not argv or argv[0] not in names:
        raise SystemExit(f"usage: bench/run.py {{{'|'.join(names)}}} [options]")
    if argv[0] in BENCHMARKS:
        if len(argv) != 1:
            raise SystemExit(f"usage: bench/run.py {argv[0]}")
        importlib.import_module(BENCHMARKS[argv[0]]).main()
        return
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
