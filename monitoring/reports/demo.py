"""Demo outputs, so a newcomer sees the product's main outputs on first sign-in: last month's
monthly joint monitoring report for the Bromley partnership (a real PDF, produced by the same
service the Celery task runs) and a drafted committee report (the Bromley Well contract award
paper). Safe to run any number of times: a partnership that has any monthly report, or a
contract that has any committee report, is left alone, so a second run writes nothing.

Called from ``monitoring.demo.load`` after the returns exist (the report draws on them).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from commissioning.models import Partnership, User
from contracts.models import Contract
from monitoring.reports import committee, services
from monitoring.reports.models import (
    CommitteeReport,
    CommitteeReportType,
    DecisionMakerChoice,
    MonthlyReport,
)

BROMLEY_PARTNERSHIP = "Bromley Council and NHS South East London ICB"
BROMLEY_WELL = "CS17033-PSIS"
REPORT_OFFICER = "report.officer@bromley.example.org"
COMMISSIONER = "josepha.reynolds@bromley.example.org"


def _monthly_report(partnership: Partnership, officer: User | None) -> str:
    if MonthlyReport.objects.filter(partnership=partnership).exists():
        return "kept"
    month = services.previous_month(timezone.localdate())
    report = MonthlyReport.objects.create(partnership=partnership, month=month,
                                          requested_by=officer)
    # Produced here and now (not enqueued): the demo must hold the finished PDF whether or
    # not a worker is running.
    produced = services.monthly_report_generate(report_id=report.pk, task_id="demo")
    return produced.status if produced else "skipped"


def _committee_report(partnership: Partnership, author: User | None) -> str:
    contract = Contract.objects.filter(reference=BROMLEY_WELL).first()
    if contract is None or author is None:
        return "skipped"
    if CommitteeReport.objects.filter(contract=contract).exists():
        return "kept"
    committee.committee_report_create(
        partnership=partnership, report_type=CommitteeReportType.CONTRACT_AWARD,
        contract=contract, created_by=author,
        meta=committee.Meta(
            title="Contract award: Bromley Well primary and secondary intervention services",
            decision_maker=DecisionMakerChoice.EXECUTIVE,
            meeting_name="Adult Care and Health Policy Development and Scrutiny Committee",
            meeting_date=timezone.localdate() + timedelta(days=28),
            is_key_decision=True, is_urgent=False,
            contact_name=author.get_full_name() or author.email,
            contact_phone="020 8461 7395", contact_email=author.email,
            chief_officer="Director of Adult Social Care", ward="Borough-wide",
            report_reference="CS17033",
        ),
    )
    return "drafted"


def load(stdout) -> None:
    partnership = Partnership.objects.filter(name=BROMLEY_PARTNERSHIP).first()
    if partnership is None:
        stdout.write("Report demo skipped: the Bromley partnership is not loaded.")
        return
    officer = User.objects.filter(email=REPORT_OFFICER).first()
    author = User.objects.filter(email=COMMISSIONER).first()
    monthly = _monthly_report(partnership, officer)
    paper = _committee_report(partnership, author)
    stdout.write(f"Reports: monthly joint monitoring report {monthly}; "
                 f"Bromley Well contract award paper {paper}.")
