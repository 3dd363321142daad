"""A failed monthly report tells officers what to do; the technical detail is for staff."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from monitoring.reports import services as report_services
from monitoring.reports.models import MonthlyReport, ReportStatus

pytestmark = pytest.mark.django_db

TECHNICAL = ("PDFRenderError", "Static file not found", "pdf/report.")


@pytest.fixture
def failed_report(world, settings, tmp_path, django_capture_on_commit_callbacks):
    """A report that fails the way it did in production (PDFRenderError: Static file not
    found: pdf/report.<hash>.css): here the worker's STATIC_ROOT lacks the stylesheet."""

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    for stylesheet in (tmp_path / "static" / "pdf").glob("report.*.css"):
        stylesheet.unlink()
    with django_capture_on_commit_callbacks(execute=True):
        result = report_services.monthly_report_request(
            partnership=world.partnership_a, month=date(2025, 7, 1),
            requested_by=world.report_officer_a)
    report = MonthlyReport.objects.get(pk=result.report.pk)
    assert report.status == ReportStatus.FAILED
    assert "Static file not found" in report.error  # kept for the service team
    return report


def test_a_failed_report_shows_officers_a_plain_message_not_the_exception(
        world, failed_report, client_for):
    page = client_for(world.report_officer_a).get(f"/reports/monthly/{failed_report.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "The report could not be produced" in html
    assert "It is not a problem with your data" in html
    assert f"quote report number {failed_report.pk}" in html
    assert "Try again" in html
    for detail in TECHNICAL:
        assert detail not in html


def test_staff_see_the_technical_detail_of_a_failed_report(world, failed_report, client_for):
    html = client_for(world.staff_admin).get(
        f"/reports/monthly/{failed_report.pk}/").content.decode()
    assert "Technical detail (service team only)" in html
    assert "Static file not found" in html
