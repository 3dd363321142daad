"""Benchmark: the monthly joint monitoring report for one partnership, and imports.

    bench/run.py report [--json out.json]
    bench/run.py imports [--json out.json]

Report: data gathering (``monthly_report_data``, with its query count), HTML render and
WeasyPrint, as ``commissioning.pdf.render_pdf`` times them. Imports: rows per second for
checking a 5,000-row contract register file, previewing and confirming a finance system
export of monthly actuals, and a provider's spreadsheet return upload. Writes are rolled
back, so the data set is left as it was.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time

IMPORT_ROWS = 5_000


def measure_report(repeats: int = 3) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench import scale
    from commissioning.models import Partnership
    from commissioning.pdf import html_to_pdf, render_html
    from monitoring.report_data import monthly_report_data
    from monitoring.report_services import monthly_report_context, previous_month

    t = scale.targets()
    partnership = Partnership.objects.get(pk=t.partnership_id)
    month = previous_month(timezone.localdate())
    gather, html_times, pdf_times = [], [], []
    queries = 0
    pages = 0
    size = 0
    for attempt in range(repeats):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            data = monthly_report_data(partnership=partnership, month=month)
        gather.append(time.perf_counter() - started)
        queries = len(captured)
        started = time.perf_counter()
        html = render_html("pdf/monthly_report.html", monthly_report_context(data))
        html_times.append(time.perf_counter() - started)
        if attempt == 0:  # WeasyPrint once: it dominates and barely varies
            started = time.perf_counter()
            content, pages = html_to_pdf(html)
            pdf_times.append(time.perf_counter() - started)
            size = len(content)
    result = {
        "partnership": partnership.name, "month": f"{month:%B %Y}",
        "contracts": len(data.contracts), "kpis": sum(len(s.kpis) for s in data.sections),
        "gather_s": statistics.median(gather), "html_s": statistics.median(html_times),
        "pdf_s": pdf_times[0], "queries": queries, "pages": pages, "bytes": size,
    }
    result["total_s"] = result["gather_s"] + result["html_s"] + result["pdf_s"]
    return result


def _rolled_back(work):
    from django.db import transaction

    with transaction.atomic():
        result = work()
        transaction.set_rollback(True)
    return result


def measure_imports() -> list[dict]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from bench import scale
    from commissioning.models import Organisation, User
    from contracts import imports as register_imports
    from contracts.models import Contract
    from funding import services as funding_services
    from funding.models import Section75Agreement
    from monitoring import services as monitoring_services
    from monitoring.models import KPI

    t = scale.targets()
    people = scale.personas()
    results = []

    # 1. Contract register: read and check every row (the colleague's register benchmark
    #    measures the same thing on its own data set).
    contract = Contract.objects.select_related("partnership", "holder").get(pk=t.contract_id)
    providers = list(Organisation.objects.providers().values_list("name", flat=True)[:300])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Reference", "Title", "Service area", "Provider", "Contract holder",
                     "Lead commissioner", "Procurement route", "Start date", "End date",
                     "Annual value", "Extension options"])
    for n in range(IMPORT_ROWS):
        writer.writerow([f"IMPORT-{n:05d}", f"Imported service {n}", "Adult social care",
                         providers[n % len(providers)], contract.holder.name,
                         contract.holder.name, "Light touch regime", "01/04/2025",
                         "31 March 2028", "£270,000.00", "12, 12"])
    data = buffer.getvalue().encode()
    started = time.perf_counter()
    table = register_imports.read_table("register.csv", data)
    checked = register_imports.check_rows(table, register_imports.auto_mapping(table.headers),
                                          partnership=contract.partnership)
    elapsed = time.perf_counter() - started
    results.append({"import": "Contract register file, read + check every row",
                    "rows": IMPORT_ROWS, "seconds": elapsed, "errors": checked.error_count})

    # 2. Finance system export: preview (read + validate + keep) and confirm (save).
    finance = User.objects.get(email=people["finance"])
    agreement = Section75Agreement.objects.get(pk=t.agreement_id)
    codes = list(agreement.schemes.values_list("code", flat=True))
    months = []
    day = agreement.start_date.replace(day=1)
    while day <= min(agreement.end_date, timezone.localdate()):
        months.append(day)
        day = (day.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Scheme code", "Month", "Actual", "Forecast"])
    for code in codes:
        for month in months:
            writer.writerow([code, f"{month:%d/%m/%Y}", "12,345.67", "150,000.00"])
    data = buffer.getvalue().encode()
    rows = len(codes) * len(months)

    def finance_import():
        started = time.perf_counter()
        preview = funding_services.finance_import_preview(
            agreement=agreement, name="actuals.csv", data=data, user=finance)
        previewed = time.perf_counter() - started
        saved = funding_services.finance_import_confirm(finance_import=preview, user=finance)
        return previewed, time.perf_counter() - started, saved, len(preview.errors)

    previewed, total, saved, errors = _rolled_back(finance_import)
    results.append({"import": "Finance export (monthly actuals), preview", "rows": rows,
                    "seconds": previewed, "errors": errors})
    results.append({"import": "Finance export (monthly actuals), preview + confirm",
                    "rows": saved, "seconds": total, "errors": errors})

    # 3. A provider's spreadsheet return (the CSV template), saved as a draft.
    provider = User.objects.get(email=people["provider"])
    return_contract = Contract.objects.get(pk=t.return_contract_id)
    period = monitoring_services.period_from_code(t.return_period_code)
    kpis = list(KPI.objects.filter(contract=return_contract, is_active=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"])
    for kpi in kpis:
        if kpi.data_type == "percentage":
            writer.writerow([kpi.code, kpi.name, "", "45", "60", "On track"])
        elif kpi.data_type == "yes_no":
            writer.writerow([kpi.code, kpi.name, "yes", "", "", ""])
        else:
            writer.writerow([kpi.code, kpi.name, "120", "", "", ""])
    data = buffer.getvalue().encode()
    timings = []
    outcome = None
    for _ in range(10):
        upload = SimpleUploadedFile("return.csv", data, content_type="text/csv")
        started = time.perf_counter()
        outcome = _rolled_back(lambda upload=upload: monitoring_services.return_import(
            contract=return_contract, period=period, upload=upload, imported_by=provider))
        timings.append(time.perf_counter() - started)
    results.append({"import": f"Provider return upload (CSV, {len(kpis)} KPIs; median of 10)",
                    "rows": len(kpis), "seconds": statistics.median(timings),
                    "errors": len(outcome.errors) if outcome else -1})
    for row in results:
        row["rows_per_s"] = row["rows"] / row["seconds"] if row["seconds"] else 0
    return results


def print_report(report: dict) -> None:
    print(f"Monthly report, {report['partnership']}, {report['month']}: "
          f"{report['contracts']:,} contracts, {report['kpis']:,} KPIs, {report['pages']} "
          f"pages, {report['bytes'] / 1e6:.1f} MB")
    print()
    print("| Step | Seconds | SQL queries |")
    print("|---|---:|---:|")
    print(f"| Data gathering | {report['gather_s']:.2f} | {report['queries']} |")
    print(f"| HTML render | {report['html_s']:.2f} | |")
    print(f"| WeasyPrint | {report['pdf_s']:.2f} | |")
    print(f"| Total | {report['total_s']:.2f} | {report['queries']} |")


def print_imports(rows: list[dict]) -> None:
    print("| Import | Rows | Seconds | Rows/s | Row errors |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['import']} | {row['rows']:,} | {row['seconds']:.3f} | "
              f"{row['rows_per_s']:,.0f} | {row['errors']} |")


def main(argv: list[str], *, what: str) -> None:
    parser = argparse.ArgumentParser(prog=f"bench/run.py {what}")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    from bench import scale

    scale.setup()
    if what == "report":
        report = measure_report()
        scale.write_json(args.json, report)
        print_report(report)
    else:
        rows = measure_imports()
        scale.write_json(args.json, rows)
        print_imports(rows)
