"""Benchmark: the monthly joint monitoring report for one partnership, and imports.

    bench/run.py report [--json out.json]
    bench/run.py imports [--json out.json]

Report: data gathering (``monthly_report_data``, with its query count), the report as the
worker renders it (part by part, joined) and WeasyPrint alone on the same report as one HTML
document, each in a forked process with its peak memory. Imports: rows per second for
checking a 5,000-row contract register file, previewing and confirming a finance system
export of monthly actuals, and a provider's spreadsheet return upload. Writes are rolled
back, so the data set is left as it was.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import resource
import statistics
import time

from bench import scale

IMPORT_ROWS = 5_000


def _in_child(work):
    """Run ``work`` in a forked process, as a Celery prefork pool process runs a task, and
    return (its result, the child's peak resident memory in MB)."""

    # Django is set up at run time, not on import; these modules need it.
    from django.db import connections

    def target(queue):
        result = work()
        queue.put((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))

    connections.close_all()  # the child opens its own
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=target, args=(queue,))
    child.start()
    result = queue.get()
    child.join()
    return result


def _gather_at_issue_size(partnership, month, kpis_wanted: int = 2_000) -> dict:
    """Data gathering for a partnership of the issue's size (300 contracts, 2,000 KPIs):
    live contracts of the measured partnership moved, inside a transaction the caller rolls
    back, to a copy of it until they hold 2,000 KPIs. Median of 5 after one warm-up."""
    # Django is set up at run time, not on import; these modules need it.
    from django.db.models import Count, Q

    from commissioning.models import Partnership, PartnershipMember
    from contracts.models import ACTIVE_STATUSES, Contract
    from monitoring.reports.data import monthly_report_data

    copy = Partnership.objects.create(name=f"{partnership.name} (benchmark copy)",
                                      short_name="Bench copy")
    for member in partnership.members.all():
        PartnershipMember.objects.create(partnership=copy, organisation=member.organisation)
    picked, kpis = [], 0
    for pk, count in (Contract.objects.filter(partnership=partnership,
                                              status__in=ACTIVE_STATUSES)
                      .annotate(n=Count("kpis", filter=Q(kpis__is_active=True)))
                      .order_by("pk").values_list("pk", "n")):
        if kpis >= kpis_wanted:
            break
        picked.append(pk)
        kpis += count
    Contract.objects.filter(pk__in=picked).update(partnership=copy)
    monthly_report_data(partnership=copy, month=month)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        data = monthly_report_data(partnership=copy, month=month)
        timings.append(time.perf_counter() - started)
    return {"size_contracts": len(data.contracts),
            "size_kpis": sum(len(s.kpis) for s in data.sections),
            "size_gather_s": statistics.median(timings)}


def measure_report(repeats: int = 3) -> dict:
    """Data gathering (median of ``repeats``, with its query count); then, each in a forked
    process with its peak memory: the report as the worker produces it (rendered part by
    part and joined) and WeasyPrint alone rendering the same report as one HTML document."""
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from commissioning.models import Partnership
    from commissioning.pdf import html_to_pdf, render_html
    from monitoring.reports.data import monthly_report_data
    from monitoring.reports.services import (
        monthly_report_context,
        monthly_report_parts,
        previous_month,
        render_monthly_report,
    )

    t = scale.targets()
    partnership = Partnership.objects.get(pk=t.partnership_id)
    month = previous_month(timezone.localdate())
    gather = []
    queries = 0
    for _attempt in range(repeats):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            data = monthly_report_data(partnership=partnership, month=month)
        gather.append(time.perf_counter() - started)
        queries = len(captured)

    at_size = _rolled_back(lambda: _gather_at_issue_size(partnership, month))

    def ours():
        started = time.perf_counter()
        rendered = render_monthly_report(data)
        return {"seconds": time.perf_counter() - started, "html_s": rendered.html_seconds,
                "pages": rendered.page_count, "bytes": len(rendered.content)}

    def weasyprint_alone():
        html = render_html("pdf/monthly_report.html", monthly_report_context(data))
        started = time.perf_counter()
        content, pages = html_to_pdf(html)
        return {"seconds": time.perf_counter() - started, "pages": pages,
                "bytes": len(content)}

    rendered, rendered_peak = _in_child(ours)
    alone, alone_peak = _in_child(weasyprint_alone)
    result = {
        "partnership": partnership.name, "month": f"{month:%B %Y}",
        "contracts": len(data.contracts), "kpis": sum(len(s.kpis) for s in data.sections),
        "parts": len(monthly_report_parts(data)) + 1,
        "gather_s": statistics.median(gather), "queries": queries, **at_size,
        "html_s": rendered["html_s"], "render_s": rendered["seconds"],
        "pages": rendered["pages"], "bytes": rendered["bytes"], "peak_mb": rendered_peak,
        "weasyprint_s": alone["seconds"], "weasyprint_pages": alone["pages"],
        "weasyprint_peak_mb": alone_peak,
    }
    result["total_s"] = result["gather_s"] + result["render_s"]
    result["ratio"] = result["total_s"] / result["weasyprint_s"]
    return result


def _rolled_back(work):
    # Django is set up at run time, not on import; these modules need it.
    from django.db import transaction

    with transaction.atomic():
        result = work()
        transaction.set_rollback(True)
    return result


def measure_imports() -> list[dict]:
    # Django is set up at run time, not on import; these modules need it.
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from commissioning.models import Organisation, User
    from contracts import imports as register_imports
    from contracts.models import Contract
    from funding import services as funding_services
    from funding.models import Section75Agreement
    from monitoring import reporting_periods
    from monitoring.models import KPI
    from monitoring.services import return_uploads

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
    period = reporting_periods.period_from_code(t.return_period_code)
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
        outcome = _rolled_back(lambda upload=upload: return_uploads.return_import(
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
          f"pages in {report['parts']} parts, {report['bytes'] / 1e6:.1f} MB")
    print()
    print("| Step | Seconds | SQL queries | Peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| Data gathering (median of 3) | {report['gather_s']:.2f} | {report['queries']} | |")
    print(f"| Data gathering at the issue's size: {report['size_contracts']} contracts, "
          f"{report['size_kpis']:,} KPIs (median of 5) | {report['size_gather_s']:.2f} | | |")
    print(f"| Rendering part by part and joining (HTML {report['html_s']:.2f} s) | "
          f"{report['render_s']:.2f} | | {report['peak_mb']:.0f} |")
    print(f"| **Whole report** | **{report['total_s']:.2f}** | {report['queries']} | |")
    print(f"| WeasyPrint alone, the same report as one HTML document "
          f"({report['weasyprint_pages']} pages) | {report['weasyprint_s']:.2f} | | "
          f"{report['weasyprint_peak_mb']:.0f} |")
    print(f"\nWhole report / WeasyPrint alone: {report['ratio']:.2f}×")


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

    scale.setup()
    if what == "report":
        report = measure_report()
        scale.write_json(args.json, report)
        print_report(report)
    else:
        rows = measure_imports()
        scale.write_json(args.json, rows)
        print_imports(rows)
