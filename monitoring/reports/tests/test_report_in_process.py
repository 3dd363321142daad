"""Issue 19: in the embedded set-up (no broker) asking for a report does not run it inside the
request. The page comes back with the report queued, one in-process worker thread produces it,
and the report page then shows it ready with its PDF."""

import io
import threading

import pytest
from celery import shared_task
from pypdf import PdfReader

from commissioning import queueing
from commissioning.tests.http_pages import Page
from monitoring.reports.models import MonthlyReport, ReportStatus

GATE = threading.Event()


@shared_task(name="monitoring.tests.wait_for_gate")
def wait_for_gate() -> None:
    """Occupies the worker thread until the test opens the gate (no timing involved)."""
    GATE.wait(timeout=300)  # a safety net only: the test opens it


def _page(response, url: str) -> Page:
    response.url = url  # the test client's response has no address of its own
    return Page(response)


@pytest.mark.django_db(transaction=True)
def test_it_answers_the_request_at_once_and_produces_the_report_on_the_worker_thread(
        world, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS_IN_THREAD = True
    GATE.clear()
    queueing.try_enqueue(wait_for_gate)  # the worker thread is now busy until the gate opens
    client = client_for(world.report_officer_a)
    try:
        page = _page(client.get("/reports/"), "http://testserver/reports/")
        form = page.form("Produce report").fill("partnership", str(world.partnership_a.pk))
        data: dict[str, list[str]] = {}
        for name, value in form.data():
            data.setdefault(name, []).append(value)
        response = client.post("/reports/", data, follow=True)

        # The request has come back while the job has not even started.
        assert response.status_code == 200
        report = MonthlyReport.objects.get()
        assert report.status == ReportStatus.QUEUED
        assert 'data-finished="false"' in response.content.decode()
    finally:
        GATE.set()
    queueing.in_process.wait_idle()

    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    html = client.get(report.get_absolute_url()).content.decode()
    assert 'data-finished="true"' in html and "Ready" in html
    pdf = client.get(f"/reports/monthly/{report.pk}/download/")
    assert len(PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages) == report.page_count
