"""Benchmark: a 10,000-row Local Government Transparency Code register, previewed and imported.

    scripts/with-test-services.sh .venv/bin/python bench/bench_import.py [--rows 10000]

It creates and migrates its own database (``bench_import`` on the server named by
DATABASE_URL), a partnership of a council and an ICB, a commissioner, and 200 providers; then,
for the same register as a Windows-1252 CSV and as an XLSX workbook (37 columns, UK dates in
three formats, amounts like "£ 450,000" and "1,234,567.50", 100 providers new to the service
with their own SME and VCSE columns, one row in 50 with a problem):

- preview: ``services.register_import_start`` (file checks and reading) and
  ``register_import_map`` (every row checked by ``contracts.validation``, the preview stored);
- import: ``register_import_confirm`` (every row checked again, then the good rows written by
  ``contracts_create_many`` with history rows, service lines, extension options, review
  dates and the new providers).

These are the functions the Celery tasks run (``imports.ASYNC_ROWS`` is raised for the run so
they run here, in one process, and can be timed). The baseline, measured in the same run on
the same files: reading them with nothing else (``csv.reader`` on the decoded text, openpyxl
read-only), and ``bulk_create`` of 10,000 bare contracts (no checks, no history), rolled back.
The issue's targets: preview under 10 s, import under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.core.management import call_command
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PREVIEW_TARGET_S = 10
IMPORT_TARGET_S = 30
PROVIDERS = 200
NEW_PROVIDERS = 100


def _setup(database: str) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must point at PostgreSQL "
                         "(use scripts/with-test-services.sh)")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
    # Importable once ROOT is on sys.path (this file also runs as a script).
    from bench.bench_register import _create_database

    _create_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    django.setup()

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-import-")
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)


def _people():
    # Django is set up at run time, not on import; these modules need it.
    from commissioning.models import (
        Membership,
        Organisation,
        OrganisationKind,
        Partnership,
        PartnershipMember,
        Role,
        User,
    )

    if Partnership.objects.exclude(name="Bench import partnership").exists():
        raise SystemExit("The bench_import database holds data this benchmark did not "
                         "generate: refusing to run")
    council, _ = Organisation.objects.get_or_create(
        name="London Borough of Bromley", defaults={"kind": OrganisationKind.LOCAL_AUTHORITY})
    icb, _ = Organisation.objects.get_or_create(
        name="NHS South East London ICB", defaults={"kind": OrganisationKind.NHS_COMMISSIONER})
    partnership, _ = Partnership.objects.get_or_create(name="Bench import partnership")
    for organisation in (council, icb):
        PartnershipMember.objects.get_or_create(partnership=partnership,
                                                organisation=organisation)
    user, created = User.objects.get_or_create(email="commissioner@bench-import.invalid",
                                               defaults={"full_name": "Bench Commissioner"})
    if created:
        Membership.objects.create(user=user, organisation=council, role=Role.COMMISSIONER)
    for n in range(PROVIDERS):
        Organisation.objects.get_or_create(
            name=f"Bench provider {n:03d} Ltd",
            defaults={"kind": OrganisationKind.INDEPENDENT_PROVIDER})
    return partnership, user, icb


def register_rows(prefix: str, rows: int) -> list[dict[str, object]]:
    # Django is set up at run time, not on import; these modules need it.
    from contracts.tests.test_import_register import council_row

    dates = ("01/04/2024", "1 April 2024", "01-Apr-24")
    routes = ("Competitive dialogue (Light Touch Regime)", "Negotiated without notice",
              "Framework call-off", "PSR Direct Award C", "Open procedure")
    made = []
    for n in range(rows):
        new = n % 3 == 0
        provider = (f"Bench new provider {n % NEW_PROVIDERS:03d} CIC" if new
                    else f"Bench provider {n % PROVIDERS:03d} Ltd")
        row = council_row(f"{prefix}{n:05d}", **{
            "Supplier name": provider, "Contract start date": dates[n % 3],
            "Contract end date": "31/03/2029", "Procurement process": routes[n % 5],
            "Annual value": "£ 450,000" if n % 2 else "1,234,567.50",
            "Supplier registered company number": f"{n % NEW_PROVIDERS:08d}" if new else "",
            "SME supplier type": "Yes", "VCSE supplier type": "Yes" if n % 2 else "No",
            "Review date": "01/10/2026"})
        if n % 50 == 49:
            row["Annual value"] = "£75k"  # a row with a problem, handed back
        made.append(row)
    return made


def _baseline_read(kind: str, data: bytes) -> float:
    started = time.perf_counter()
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("cp1252"))))
    else:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        rows = list(workbook.active.iter_rows(values_only=True))
        workbook.close()
    assert len(rows) > 1
    return time.perf_counter() - started


def _baseline_write(partnership, user, icb, rows: int) -> float:
    # Django is set up at run time, not on import; these modules need it.
    from django.db import transaction

    from commissioning.models import Organisation
    from contracts.models import Contract

    provider = Organisation.objects.filter(name__startswith="Bench provider").first()
    council = Organisation.objects.get(name="London Borough of Bromley")

    started = time.perf_counter()
    with transaction.atomic():
        Contract.objects.bulk_create([Contract(
            reference=f"BASE-{n:05d}", title="Baseline", service_area="adult_social_care",
            provider=provider, holder=council, lead_commissioner=icb, partnership=partnership,
            procurement_regime="pcr_2015", procurement_route="pcr_light_touch",
            start_date=date(2024, 4, 1), initial_end_date=date(2029, 3, 31),
            annual_value=Decimal("450000")) for n in range(rows)], batch_size=500)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def measure(kind: str, rows: int, partnership, user, icb) -> dict:
    # Django is set up at run time, not on import; these modules need it.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts import services
    from contracts.models import Contract, RegisterImportStatus
    from contracts.tests.test_import_register import register_csv, register_xlsx

    build = register_csv if kind == "csv" else register_xlsx
    data = build(register_rows(f"{kind.upper()}-", rows))
    figures = {"kind": kind, "rows": rows, "megabytes": round(len(data) / 1024 / 1024, 2),
               "baseline_read_s": _baseline_read(kind, data)}
    before = Contract.objects.count()
    started, cpu = time.perf_counter(), time.process_time()
    register_import = services.register_import_start(
        partnership=partnership, created_by=user,
        upload=SimpleUploadedFile(f"register.{kind}", data))
    mapping = dict(register_import.mapping)
    mapping["lead_commissioner"] = ""
    services.register_import_map(register_import=register_import, mapping=mapping,
                                 fixed={"lead_commissioner": icb.name})
    figures["preview_s"] = time.perf_counter() - started
    figures["preview_cpu_s"] = time.process_time() - cpu
    assert register_import.status == RegisterImportStatus.VALIDATED, register_import.failure
    figures["problem_rows"] = sum(1 for r in register_import.preview if r["errors"])
    started, cpu = time.perf_counter(), time.process_time()
    services.register_import_confirm(register_import=register_import, confirmed_by=user,
                                     create_providers=True)
    figures["import_s"] = time.perf_counter() - started
    figures["import_cpu_s"] = time.process_time() - cpu
    assert register_import.status == RegisterImportStatus.IMPORTED, register_import.failure
    figures["imported"] = Contract.objects.count() - before
    figures["baseline_write_s"] = _baseline_write(partnership, user, icb, rows)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench/bench_import.py")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    _setup("bench_import")
    # Django is set up at run time, not on import; these modules need it.
    from contracts import imports
    from contracts.models import Contract

    imports.ASYNC_ROWS = 10**9  # run the tasks' work here, in this process, to time it
    partnership, user, icb = _people()
    Contract.objects.filter(partnership=partnership).delete()
    results = [measure(kind, args.rows, partnership, user, icb) for kind in ("csv", "xlsx")]
    print()
    print("| File | Rows | MB | Baseline: read only (s) | Preview (s) | Preview CPU (s) | "
          "Rows with problems | Baseline: bulk_create only (s) | Import (s) | Import CPU (s) | "
          "Imported |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in results:
        print(f"| {f['kind'].upper()} | {f['rows']:,} | {f['megabytes']} | "
              f"{f['baseline_read_s']:.2f} | {f['preview_s']:.2f} | {f['preview_cpu_s']:.2f} | "
              f"{f['problem_rows']} | {f['baseline_write_s']:.2f} | {f['import_s']:.2f} | "
              f"{f['import_cpu_s']:.2f} | {f['imported']:,} |")
    with open("/proc/loadavg") as load:
        print(f"\nLoad average at the end: {load.read().split()[0]} ({os.cpu_count()} cores); "
              "CPU is this Python process only (PostgreSQL's work is in the wall time)")
    ok = all(f["preview_s"] < PREVIEW_TARGET_S and f["import_s"] < IMPORT_TARGET_S
             for f in results)
    print(f"Targets (preview < {PREVIEW_TARGET_S} s, import < {IMPORT_TARGET_S} s): "
          f"{'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
