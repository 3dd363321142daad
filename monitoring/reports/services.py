"""Writes for generated reports: request, produce, distribute.

A report is a row with a unique (partnership, month). Producing it is claimed with a
conditional UPDATE that only one task can win: a second beat, a double-click or a duplicate
delivery finds the row taken and does nothing. A task that Celery redelivers after its worker
died carries the same task id, so it may take its own row back and finish the job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from commissioning import queueing
from commissioning.email import email_queue, render_plain_text
from commissioning.models import Membership, Partnership, Role, User
from commissioning.pdf import PDFPart, RenderedPDF, render_pdf_in_parts
from commissioning.periods import add_months, is_working_day
from monitoring.reports.data import monthly_report_data
from monitoring.reports.models import MonthlyReport, ReportStatus

logger = logging.getLogger(__name__)

# A claimed report whose worker vanished without Celery redelivering it is reclaimed after
# this long by the sweep (longer than the task time limit, so a slow run is never doubled).
STALE_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def previous_month(today: date) -> date:
    return add_months(today.replace(day=1), -1)


def validate_month(month: date, today: date | None = None) -> date:
    today = today or timezone.localdate()
    month = month.replace(day=1)
    if month >= today.replace(day=1):
        raise ValidationError(
            {"month": f"Choose a month that has ended. {month:%B %Y} has not ended yet."}
        )
    return month


@dataclass
class RequestResult:
    report: MonthlyReport
    created: bool
    already_running: bool
    # False when the broker could not be reached: the row waits for the sweep.
    enqueued: bool | None = None


def monthly_report_request(*, partnership: Partnership, month: date,
                           requested_by: User | None) -> RequestResult:
    """Ask for a partnership's report for a month that has ended.

    One row per partnership and month: asking again while it is queued or being produced
    shows that one; asking after it failed runs it again (replacing the file); asking after it
    is ready re-produces it with the latest data.
    """
    month = validate_month(month)
    with transaction.atomic():
        try:
            with transaction.atomic():
                report, created = MonthlyReport.objects.get_or_create(
                    partnership=partnership, month=month,
                    defaults={"requested_by": requested_by},
                )
        except IntegrityError:  # a concurrent request created it first
            report, created = MonthlyReport.objects.get(partnership=partnership,
                                                        month=month), False
        if not created:
            rerun = MonthlyReport.objects.filter(
                pk=report.pk, status__in=[ReportStatus.DONE, ReportStatus.FAILED]
            ).update(status=ReportStatus.QUEUED, error="", requested_by=requested_by,
                     queued_at=timezone.now(), task_id="")
            report.refresh_from_db()
            if not rerun:
                return RequestResult(report, created=False, already_running=True)
        result = RequestResult(report, created=created, already_running=False)

        def send() -> None:
            result.enqueued = queueing.try_enqueue(generate_monthly_report, report.pk)

        transaction.on_commit(send)
    return result


def _enqueue(report: MonthlyReport) -> None:
    queueing.enqueue_on_commit(generate_monthly_report, report.pk)


def claim(*, report_id: int, task_id: str) -> bool:
    """Take the row for this task. Only a queued row, or a running row this same task
    (redelivered) had claimed, can be taken."""
    return bool(
        MonthlyReport.objects.filter(pk=report_id)
        .filter(Q(status=ReportStatus.QUEUED)
                | Q(status=ReportStatus.RUNNING, task_id=task_id))
        .update(status=ReportStatus.RUNNING, task_id=task_id, started_at=timezone.now(),
                attempts=F("attempts") + 1, error="")
    )


@shared_task(name="monitoring.tasks.generate_monthly_report", bind=True)
def generate_monthly_report(self, report_id: int) -> str:
    """Produce one partnership's monthly report (claimed, so safe to deliver twice).

    Defined beside the services that enqueue it, so they need not import monitoring.tasks
    (which imports them); its name keeps the module it had, for queued jobs."""
    report = monthly_report_generate(report_id=report_id, task_id=self.request.id or "eager")
    return report.status if report else "skipped"


def monthly_report_generate(*, report_id: int, task_id: str) -> MonthlyReport | None:
    """Produce the PDF for a claimed report. Returns None when another task owns it."""
    if not claim(report_id=report_id, task_id=task_id):
        logger.info("Monthly report %s already taken; nothing to do", report_id)
        return None
    report = MonthlyReport.objects.select_related("partnership").get(pk=report_id)
    try:
        data = monthly_report_data(partnership=report.partnership, month=report.month)
        rendered = render_monthly_report(data)
    except Exception as error:
        logger.exception("Monthly report %s failed", report_id)
        MonthlyReport.objects.filter(pk=report_id, task_id=task_id).update(
            status=ReportStatus.FAILED, finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        report.refresh_from_db()
        return report
    old_name = report.file.name
    # One name per report and task: a task redelivered after its worker was killed writes
    # the same file again instead of leaving a second one behind.
    storage = report.file.storage
    name = f"reports/monthly-{report.pk}-{task_id}.pdf"
    if storage.exists(name):
        storage.delete(name)
    report.file.name = storage.save(name, ContentFile(rendered.content))
    with transaction.atomic():
        updated = MonthlyReport.objects.filter(
            pk=report_id, task_id=task_id, status=ReportStatus.RUNNING
        ).update(status=ReportStatus.DONE, finished_at=timezone.now(), file=report.file.name,
                 page_count=rendered.page_count, size_bytes=len(rendered.content))
        if not updated:  # lost the row meanwhile (should not happen): keep no orphan file
            report.file.delete(save=False)
            return None
        report.refresh_from_db()
        _notify(report)
    if old_name and old_name != report.file.name:
        report.file.storage.delete(old_name)  # a re-run replaces the row's file
    return report


def _notify(report: MonthlyReport) -> None:
    """Tell the partnership's report officers and commissioners: a link, never the file."""
    recipients = sorted(set(
        Membership.objects.filter(
            organisation__partnership_memberships__partnership=report.partnership,
            role__in=[Role.REPORT_OFFICER, Role.COMMISSIONER], is_active=True,
            user__is_active=True,
        ).values_list("user__email", flat=True)
    ))
    if not recipients:
        return
    link = settings.SITE_URL + reverse("monitoring:report_detail", args=[report.pk])
    # One name for the partnership in the subject and the body: the one the report uses.
    name = f"{report.partnership.name}, {report.month:%B %Y}"
    body = render_plain_text("emails/monthly_report_ready.txt",
                             {"report": report, "report_name": name, "link": link,
                              "service_name": settings.SERVICE_NAME})
    email_queue(subject=f"Joint monitoring report ready: {name}", body=body, to=recipients)
    MonthlyReport.objects.filter(pk=report.pk).update(notified_at=timezone.now())


REPORT_PARTS = ("cover", "summary", "performance", "returns", "budgets", "expiry",
                "assessments", "appendix")
# KPI rows per rendered part of the performance section (about 25 pages): WeasyPrint's
# memory grows with the pages of one part, not with the report (commissioning/pdf.py).
KPI_ROWS_PER_PART = 200


def monthly_report_context(data) -> dict:
    """The whole report as one HTML document (every part, every contract)."""
    return {
        "data": data,
        "parts": REPORT_PARTS,
        "perf_sections": data.sections,
        "perf_heading": True,
        "document_title": f"Joint monitoring report: {data.partnership.name}, "
                          f"{data.month_label}",
        "running_title": data.partnership.name,
        "running_period": f"Joint monitoring report, {data.month_label}",
        "marking": "OFFICIAL",
        "service_name": settings.SERVICE_NAME,
    }


def monthly_report_parts(data) -> list[PDFPart]:
    """The report's parts after the cover, each laid out on its own: the summary, the
    performance section in slices of about ``KPI_ROWS_PER_PART`` KPI rows (a slice starts on
    a new page, at a contract), then the other sections."""
    slices, current, rows = [], [], 0
    for section in data.sections:
        if current and rows + len(section.kpis) + 1 > KPI_ROWS_PER_PART:
            slices.append(current)
            current, rows = [], 0
        current.append(section)
        rows += len(section.kpis) + 1
    slices.append(current)
    parts = [PDFPart({"parts": ("summary",)})]
    parts += [PDFPart({"parts": ("performance",), "perf_sections": chunk,
                       "perf_heading": index == 0}, outline_depth=1 if index == 0 else 2)
              for index, chunk in enumerate(slices)]
    parts += [PDFPart({"parts": ("returns",)}), PDFPart({"parts": ("budgets",)}),
              PDFPart({"parts": ("expiry", "assessments")}), PDFPart({"parts": ("appendix",)})]
    return parts


def render_monthly_report(data) -> RenderedPDF:
    """The report PDF, rendered part by part (memory bounded by the largest part)."""
    return render_pdf_in_parts("pdf/monthly_report.html", monthly_report_context(data),
                               monthly_report_parts(data), cover={"parts": ("cover",)},
                               contents=REPORT_PARTS[1:])


def is_first_working_day(day: date) -> bool:
    first = day.replace(day=1)
    while not is_working_day(first):
        first += timedelta(days=1)
    return day == first


def start_monthly_reports(*, today: date | None = None) -> list[MonthlyReport]:
    """The beat job: on the first working day of the month, one report per active
    partnership for the month just ended. Rows that already exist are left alone, so a second
    beat (or a re-run of this job) creates nothing new."""
    today = today or timezone.localdate()
    if not is_first_working_day(today):
        return []
    month = previous_month(today)
    created = []
    for partnership in Partnership.objects.filter(is_active=True):
        with transaction.atomic():
            report, was_created = MonthlyReport.objects.get_or_create(
                partnership=partnership, month=month
            )
            if was_created:
                _enqueue(report)
                created.append(report)
    return created


def sweep_reports() -> int:
    """Enqueue reports recorded while the broker was down, and reclaim ones whose worker
    vanished without a redelivery."""
    now = timezone.now()
    MonthlyReport.objects.filter(status=ReportStatus.RUNNING,
                                 started_at__lt=now - STALE_AFTER).update(
        status=ReportStatus.QUEUED, task_id="")
    ids = list(MonthlyReport.objects.filter(
        status=ReportStatus.QUEUED, queued_at__lt=now - timedelta(minutes=10)
    ).values_list("pk", flat=True))
    return queueing.sweep(ids, generate_monthly_report)

