"""Benchmark entry point: ``python bench/run.py <name>`` (see bench/README.md)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARKS = {"register": "bench.bench_register"}


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in BENCHMARKS:
        raise SystemExit(f"usage: bench/run.py {{{'|'.join(sorted(BENCHMARKS))}}}")
    importlib.import_module(BENCHMARKS[argv[0]]).main()


if __name__ == "__main__":
    main(sys.argv[1:])
