"""Report views: the archive, monthly report status and download, committee reports."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from commissioning import access
from commissioning.downloads import as_download
from commissioning.locking import ConcurrentEditError, posted_version
from contracts.frameworks.models import Framework
from contracts.models import Contract
from funding.models import Section75Agreement
from monitoring.permissions import can_request_monthly_report, can_write_committee_report
from monitoring.reports import committee, services
from monitoring.reports import forms as report_forms
from monitoring.reports.models import (
    CommitteeReport,
    CommitteeReportExport,
    ExportFormat,
    MonthlyReport,
    ReportPart,
    ReportStatus,
)


def _partnerships(request: HttpRequest):
    return access.partnerships_for_user(request.user).order_by("name")


@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    partnerships = _partnerships(request)
    may_request = can_request_monthly_report(request.user)
    today = date.today()
    last_month = services.previous_month(today)
    form = report_forms.MonthlyReportRequestForm(
        request.POST or None, partnerships=partnerships,
        initial={"month": str(last_month.month), "year": last_month.year},
    )
    if request.method == "POST":
        if not may_request:
            raise Http404
        if form.is_valid():
            try:
                result = services.monthly_report_request(
                    partnership=form.cleaned_data["partnership"],
                    month=form.cleaned_data["first_day"], requested_by=request.user)
            except ValidationError as error:
                for message in error.message_dict.get("month", []):
                    form.add_error("month", message)
            else:
                if result.already_running:
                    messages.info(request, "This report is already being produced. Its "
                                  "status is below; there is no need to ask again.")
                elif result.enqueued is False:
                    messages.warning(request, "The report service could not be reached just "
                                     "now. Your request is saved and will start "
                                     "automatically within 10 minutes.")
                else:
                    messages.success(request, "Report requested")
                return redirect(result.report)
    filters = report_forms.ReportArchiveFilterForm(request.GET or None,
                                                   partnerships=partnerships)
    reports = MonthlyReport.objects.for_user(request.user).select_related(
        "partnership", "requested_by")
    if filters.is_valid():
        if filters.cleaned_data.get("partnership"):
            reports = reports.filter(partnership=filters.cleaned_data["partnership"])
        if filters.cleaned_data.get("year"):
            reports = reports.filter(month__year=filters.cleaned_data["year"])
    committee_papers = CommitteeReport.objects.for_user(request.user).select_related(
        "partnership").order_by("-meeting_date")[:50]
    return render(request, "monitoring/reports/list.html", {
        "form": form, "filters": filters, "reports": reports[:200],
        "committee": committee_papers,
        "may_request": may_request, "may_write": can_write_committee_report(request.user),
    })


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        MonthlyReport.objects.for_user(request.user).select_related("partnership",
                                                                   "requested_by"), pk=pk)
    return render(request, "monitoring/reports/detail.html", {
        "report": report, "may_request": can_request_monthly_report(request.user),
        "refresh": not report.is_finished,
        # Why a report failed is for the service team (it is also in the worker's log with
        # the traceback); everyone else gets a plain message and what to do next.
        "technical_detail": report.error if request.user.is_staff else "",
    })


def _open(file):
    """A stored file for download; one missing from storage is a 404, not a 500."""
    try:
        return file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error


def report_download(request: HttpRequest, pk: int) -> FileResponse:
    report = get_object_or_404(MonthlyReport.objects.for_user(request.user),
                               pk=pk, status=ReportStatus.DONE)
    if not report.file:
        raise Http404
    filename = f"Joint monitoring report {report.partnership.display_name} {report.month:%Y-%m}.pdf"
    return as_download(FileResponse(_open(report.file), content_type="application/pdf"),
                       filename)


# --- Committee reports -------------------------------------------------------------------------

def _source(request: HttpRequest):
    """The subject the officer chose, found only among what they may see."""
    user = request.user
    params = request.GET if request.method == "GET" else request.POST
    for key, queryset in (("contract", Contract.objects.for_user(user)),
                          ("framework", Framework.objects.for_user(user)),
                          ("agreement", Section75Agreement.objects.for_user(user)),
                          ("partnership", access.partnerships_for_user(user))):
        raw = params.get(key)
        if raw:
            if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit()
                raise Http404
            return key, get_object_or_404(queryset, pk=int(raw))
    raise Http404


@require_http_methods(["GET", "POST"])
def committee_report_new(request: HttpRequest) -> HttpResponse:
    if not can_write_committee_report(request.user):
        raise Http404
    kind, source = _source(request)
    partnership = source if kind == "partnership" else source.partnership
    initial = {"contact_name": request.user.full_name, "contact_email": request.user.email,
               "contact_phone": request.user.phone, "ward": "Borough-wide"}
    if kind == "contract":
        initial["title"] = source.title
    form = report_forms.CommitteeReportStartForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meta = committee.Meta(**{k: data[k] for k in (
            "title", "decision_maker", "meeting_name", "meeting_date", "is_key_decision",
            "is_urgent", "contact_name", "contact_phone", "contact_email", "chief_officer",
            "ward", "report_reference")})
        report = committee.committee_report_create(
            partnership=partnership, report_type=data["report_type"], meta=meta,
            created_by=request.user, **({kind: source} if kind != "partnership" else {}))
        messages.success(request, "Draft created from the register, budgets and KPIs. "
                         "Check and edit each section.")
        return redirect(report)
    return render(request, "monitoring/reports/committee_new.html",
                  {"form": form, "source": source, "kind": kind})


@require_http_methods(["GET", "POST"])
def committee_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(CommitteeReport.objects.for_user(request.user), pk=pk)
    may_write = can_write_committee_report(request.user)
    errors: dict[str, str] = {}
    sections = [dict(s) for s in report.sections]
    if request.method == "POST":
        if not may_write:
            raise Http404
        edits = {}
        for section in sections:
            form = report_forms.SectionForm({
                "body": request.POST.get(f"body-{section['key']}", ""),
                "exempt": request.POST.get(f"exempt-{section['key']}"),
            })
            if form.is_valid():
                edits[section["key"]] = (form.cleaned_data["body"],
                                         form.cleaned_data["exempt"])
                section.update(body=form.cleaned_data["body"],
                               exempt=form.cleaned_data["exempt"])
            else:
                section["body"] = request.POST.get(f"body-{section['key']}", "")
                errors[section["key"]] = (f"{section['title']} must be "
                                          f"{committee.MAX_SECTION_LENGTH:,} characters "
                                          f"or fewer")
        version = posted_version(request.POST)
        if version is None:  # the page always sends its version: this request is not its own
            raise Http404
        if not errors:
            try:
                committee.committee_report_save(
                    report=report, expected_version=version, sections=edits)
            except ConcurrentEditError as error:
                errors["version"] = str(error)
            else:
                messages.success(request, "Draft saved")
                return redirect(report)
    exports = report.exports.select_related("exported_by")
    may_open_exempt = access.can_open_exempt_information(request.user)
    if not may_open_exempt:
        # Part 2 stays with the roles that may open exempt information (commissioning.access).
        exports = exports.exclude(part=ReportPart.PART_2)
        sections = [section | {"body": "", "facts": []} if section.get("exempt") else section
                    for section in sections]
    return render(request, "monitoring/reports/committee_detail.html", {
        "report": report, "sections": sections, "errors": errors, "may_write": may_write,
        "exports": exports, "form_errors": bool(errors), "may_open_exempt": may_open_exempt,
    }, status=400 if errors else 200)


@require_POST
def committee_report_export(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(CommitteeReport.objects.for_user(request.user), pk=pk)
    if not can_write_committee_report(request.user):
        raise Http404
    part = request.POST.get("part", ReportPart.PART_1)
    fmt = request.POST.get("format", ExportFormat.PDF)
    if part not in ReportPart.values or fmt not in ExportFormat.values or (
            part == ReportPart.PART_2 and not access.can_open_exempt_information(request.user)):
        raise Http404
    try:
        export = committee.committee_report_export(report=report, part=part,
                                                   exported_by=request.user, fmt=fmt)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(report)
    noun = "PDF" if export.file_format == ExportFormat.PDF else "Word document"
    messages.success(request, f"{export.get_part_display()} {noun} of version "
                     f"{export.version} exported. It is listed below.")
    return redirect(report)


def committee_export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = get_object_or_404(
        CommitteeReportExport.objects.filter(
            report__in=CommitteeReport.objects.for_user(request.user)).select_related("report"),
        pk=pk)
    if export.part == ReportPart.PART_2 and not access.can_open_exempt_information(request.user):
        raise Http404
    return as_download(FileResponse(_open(export.file), content_type=export.content_type),
                       export.download_name)
