"""Issue 19, first look: after ``load_demo`` a newcomer finds a ready monthly joint monitoring
report (a real PDF) and a drafted committee report, without asking for either."""

import io
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from commissioning.models import User
from monitoring.reports.models import CommitteeReport, MonthlyReport, ReportStatus


@pytest.mark.django_db
def test_it_shows_a_ready_monthly_report_and_a_committee_paper_after_the_demo_loads(
        client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=StringIO())
    officer = client_for(User.objects.get(email="report.officer@bromley.example.org"))

    page = officer.get(reverse("monitoring:report_list")).content.decode()
    report = MonthlyReport.objects.get()
    assert report.status == ReportStatus.DONE
    assert reverse("monitoring:report_detail", args=[report.pk]) in page
    assert "Ready" in page

    detail = officer.get(report.get_absolute_url()).content.decode()
    download = re.search(r'href="([^"]*/download[^"]*)"', detail).group(1)
    response = officer.get(download)
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert len(pdf.pages) == report.page_count and "Bromley" in text

    paper = CommitteeReport.objects.get()
    assert paper.contract.reference == "CS17033-PSIS"
    assert any(section["body"] for section in paper.sections)
    assert paper.title in page
    assert officer.get(paper.get_absolute_url()).status_code == 200
