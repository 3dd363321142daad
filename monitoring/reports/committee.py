"""Committee reports in the councils' standard shape (seeds 000–003), pre-filled from the
register, the budgets and the KPIs. Officers edit the prose, mark exempt (Part 2) sections,
and export the PDF; every export is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum

from commissioning.locking import lock_for_update
from commissioning.models import Partnership, User
from commissioning.pdf import render_pdf
from contracts.models import ACTIVE_STATUSES, Contract
from funding.selectors import agreement_page, current_year
from monitoring.overview import performance_overview
from monitoring.reports.cover import contract_facts, estimated_users
from monitoring.reports.models import (
    CommitteeReport,
    CommitteeReportExport,
    CommitteeReportType,
    ExportFormat,
    ReportPart,
)
from monitoring.reports.word import render_committee_docx
from monitoring.selectors import contract_performance

# (key, title) in the order the councils' reports use.
SECTIONS = [
    ("reason", "Reason for report"),
    ("recommendations", "Recommendations"),
    ("corporate_policy", "Corporate policy"),
    ("financial", "Financial"),
    ("customer_impact", "Customer impact"),
    ("commentary", "Commentary"),
    ("procurement", "Procurement implications"),
    ("legal", "Legal implications"),
    ("personnel", "Personnel implications"),
    ("implications", "Policy and financial implications"),
    ("background", "Background documents"),
]
SECTION_TITLES = dict(SECTIONS)
MAX_SECTION_LENGTH = 20_000


def _money(value) -> str:
    return f"£{Decimal(value or 0):,.0f}"


@dataclass
class Meta:
    title: str
    decision_maker: str
    meeting_name: str
    meeting_date: date
    is_key_decision: bool
    is_urgent: bool
    contact_name: str
    contact_phone: str
    contact_email: str
    chief_officer: str
    ward: str
    report_reference: str = ""


# --- Drafting from the data --------------------------------------------------------------------

def _contract_sections(contract: Contract, report_type: str, meeting: str) -> dict[str, str]:
    _periods, kpis = contract_performance(contract=contract)
    reds = [k for k in kpis if k.rag == "red"]
    greens = [k for k in kpis if k.rag == "green"]
    performance = (
        f"Of {len(kpis)} key performance indicators, {len(greens)} are green and "
        f"{len(reds)} red in the latest returns."
        + (" Red: " + "; ".join(f"{k.kpi.code} {k.kpi.name} ({k.latest.value.display} against "
                                f"{k.target_text})" for k in reds[:5]) + "." if reds else "")
    ) if kpis else "No key performance indicators are recorded for this contract yet."
    decisions = list(contract.decisions.order_by("meeting_date"))
    history = " ".join(
        f"On {d.meeting_date:%-d %B %Y} the {d.get_decision_maker_display()}"
        f"{' (' + d.report_reference + ')' if d.report_reference else ''} decided: "
        f"{d.outcome}" for d in decisions
    ) or "No earlier decisions are recorded."
    variations = list(contract.variations.order_by("date"))
    term = contract.term_description
    partners = ", ".join(
        f"{s.organisation.display_name} {s.share_percent}%" for s in
        contract.shares.select_related("organisation")
    )
    purpose = {
        CommitteeReportType.CONTRACT_AWARD: (
            f"This report recommends the award of the contract for {contract.title} to "
            f"{contract.provider.name}."),
        CommitteeReportType.EXTENSION: (
            f"This report recommends exercising the option to extend the contract for "
            f"{contract.title} with {contract.provider.name}, which currently ends on "
            f"{contract.current_end_date:%-d %B %Y}."),
        CommitteeReportType.RECOMMISSIONING: (
            f"The contract for {contract.title} ends on {contract.current_end_date:%-d %B %Y} "
            f"and needs to be re-commissioned. This report seeks approval to begin market "
            f"engagement."),
        CommitteeReportType.PERFORMANCE: (
            f"This report updates the {meeting} on the performance of the contract for "
            f"{contract.title} delivered by {contract.provider.name}."),
    }.get(report_type, f"This report concerns the contract for {contract.title}.")
    recommendation = {
        CommitteeReportType.CONTRACT_AWARD: (
            f"Approve the contract award to {contract.provider.name} for {term}, at an "
            f"annual value of {_money(contract.annual_value)} (whole-life value "
            f"{_money(contract.whole_life_value)})."),
        CommitteeReportType.EXTENSION: (
            "Approve the extension of the contract"
            + (f" for {contract.next_option.length_months} months"
               if contract.next_option else "") + "."),
        CommitteeReportType.RECOMMISSIONING: "Approve the start of market engagement.",
        CommitteeReportType.PERFORMANCE: "Note the contents of this report.",
    }.get(report_type, "Note the contents of this report.")
    return {
        "reason": purpose,
        "recommendations": f"The {meeting} is asked to: {recommendation}",
        "corporate_policy": "Policy status: Existing policy.",
        # The figures are the section's facts (monitoring/reports/cover.py); the prose adds
        # what the register knows beyond the boxes.
        "financial": (
            f"The contract's annual value is {_money(contract.annual_value)}. Commissioners' "
            f"shares: {partners or 'not recorded'}."),
        "customer_impact": _service_users(contract),
        "commentary": (
            f"Contract history: the contract ({contract.reference}) started on "
            f"{contract.start_date:%-d %B %Y} for {term} and currently ends on "
            f"{contract.current_end_date:%-d %B %Y}. {history} "
            + (f"{len(variations)} variation{'s' if len(variations) != 1 else ''} recorded. "
               if variations else "")
            + f"Performance: {performance}"),
        "procurement": (
            f"Procurement regime: {contract.get_procurement_regime_display()}. Route: "
            f"{contract.get_procurement_route_display()}."),
        "legal": "Legal requirement: officers to confirm. Call-in: applicable.",
        "personnel": "There are no personnel implications for the Council's staff.",
        "implications": (
            f"The annual value is {_money(contract.annual_value)}; the whole-life value "
            f"including all extension options is {_money(contract.whole_life_value)}."),
        "background": "Previous reports: " + (
            ", ".join(d.report_reference for d in decisions if d.report_reference) or "none"),
    }


def _service_users(contract: Contract) -> str:
    latest = contract.service_user_lists.select_related("period").first()
    if latest and latest.count:
        return (f"{latest.count:,} people were supported in {latest.period}, from the "
                f"provider's service user return.")
    if contract.estimated_users is not None:
        return f"The service expects to support {estimated_users(contract)} people."
    return "The provider has not yet sent a service user return."


def _agreement_sections(agreement, meeting: str, on: date) -> dict[str, str]:
    """The pooled fund's figures for the financial year of the meeting, as at its month (a
    paper for a meeting in March reports that year, whenever it is drafted)."""
    # The meeting's year, kept within the agreement's years (as its own page does).
    page = agreement_page(agreement, current_year(agreement, on), as_at=on)
    partners = ", ".join(p.organisation.name for p in page.partners)
    schemes = "; ".join(f"{s.code} {s.name} (lead: {s.lead_partner.display_name}, budget "
                        f"{_money(s.budget)})" for s in page.schemes)
    shares = "; ".join(f"{p.partner.display_name} {_money(p.amount)}" for p in page.projection)
    return {
        "reason": f"This report is the annual review of the Section 75 agreement "
                  f"{agreement.title} between {partners}.",
        "recommendations": f"The {meeting} is asked to note the pooled fund position and "
                           f"approve the continuation of the agreement.",
        "corporate_policy": "Policy status: Existing policy. Joint commissioning with health.",
        "financial": f"Total budget for {page.year_label}: {_money(page.totals.budget)}. "
                     f"Actual to date: {_money(page.totals.actual_to_date)}. Forecast outturn: "
                     f"{_money(page.totals.forecast)}, a variance of "
                     f"{_money(page.totals.variance)}. Risk share "
                     f"({agreement.get_risk_share_rule_display()}): {shares or 'none'}.",
        "customer_impact": "Residents using the services funded through the pooled budget.",
        "commentary": f"Schemes in the agreement: {schemes or 'none recorded'}.",
        "procurement": "There are no procurement implications arising from this review.",
        "legal": "Section 75 of the NHS Act 2006 and the NHS Bodies and Local Authorities "
                 "Partnership Arrangements Regulations 2000 (SI 2000/617).",
        "personnel": "There are no personnel implications.",
        "implications": f"Host partner: {agreement.host_partner}. The pooled fund manager "
                        f"reports to the partners quarterly.",
        "background": f"Section 75 agreement: {agreement.title}.",
    }


def _framework_sections(framework, meeting: str) -> dict[str, str]:
    lots = list(framework.lots.order_by("number"))
    called_off = Contract.objects.filter(call_off__lot__framework=framework).aggregate(
        total=Sum("annual_value"))["total"] or Decimal(0)
    return {
        "reason": f"This report concerns the {framework.title} framework ({framework.reference}).",
        "recommendations": f"The {meeting} is asked to note the report.",
        "corporate_policy": "Policy status: Existing policy.",
        "financial": f"Estimated framework value: {_money(framework.estimated_total_value)}. Value "
                     f"called off to date: {_money(called_off)} per year.",
        "customer_impact": "Residents supported by services called off from the framework.",
        "commentary": "Lots: " + "; ".join(f"Lot {lot.number} {lot.title} "
                                           f"({lot.get_status_display().lower()})"
                                           for lot in lots) + ".",
        "procurement": "Providers are admitted to lots after a light-touch evaluation; "
                       "procurement windows reopen to admit new providers.",
        "legal": "Inter Authority Agreement between the framework's parties.",
        "personnel": "There are no personnel implications.",
        "implications": "No volume is guaranteed to providers on the framework.",
        "background": f"Framework {framework.reference}.",
    }


def _partnership_sections(partnership: Partnership, meeting: str) -> dict[str, str]:
    contracts = Contract.objects.filter(partnership=partnership, status__in=ACTIVE_STATUSES)
    overview = performance_overview(contracts=contracts)
    reds = [row for row in overview if row.worst == "red"]
    total = contracts.aggregate(total=Sum("annual_value"))["total"] or Decimal(0)
    return {
        "reason": f"This report updates the {meeting} on the performance of the contracts "
                  f"jointly commissioned by {partnership.name}.",
        "recommendations": f"The {meeting} is asked to note the performance of jointly "
                           f"commissioned services.",
        "corporate_policy": "Policy status: Existing policy.",
        "financial": f"{len(overview)} live contracts with a combined annual value of "
                     f"{_money(total)}.",
        "customer_impact": "Residents using jointly commissioned services.",
        "commentary": f"{len(reds)} contract{'s' if len(reds) != 1 else ''} rated red: "
                      + ("; ".join(row.contract.title for row in reds) or "none") + ".",
        "procurement": "There are no procurement implications.",
        "legal": "There are no legal implications.",
        "personnel": "There are no personnel implications.",
        "implications": "None arising directly from this report.",
        "background": "Monthly joint monitoring reports.",
    }


def draft_sections(*, partnership: Partnership, report_type: str, contract=None,
                   framework=None, agreement=None, meeting: str, on: date) -> list[dict]:
    facts: dict[str, list[list[str]]] = {}
    if contract is not None:
        texts = _contract_sections(contract, report_type, meeting)
        facts = contract_facts(contract)
    elif agreement is not None:
        texts = _agreement_sections(agreement, meeting, on)
    elif framework is not None:
        texts = _framework_sections(framework, meeting)
    else:
        texts = _partnership_sections(partnership, meeting)
    return [{"key": key, "title": title, "body": texts.get(key, ""), "exempt": False,
             "facts": facts.get(key, [])}
            for key, title in SECTIONS]


# --- Writes --------------------------------------------------------------------------------------

@transaction.atomic
def committee_report_create(*, partnership: Partnership, report_type: str, meta: Meta,
                            created_by: User, contract=None, framework=None,
                            agreement=None) -> CommitteeReport:
    """Start a committee report with every section drafted from the data."""
    sources = [s for s in (contract, framework, agreement) if s is not None]
    if len(sources) > 1:
        raise ValidationError("A report is about one contract, framework or agreement.")
    for source in sources:
        if source.partnership_id != partnership.pk:
            raise ValidationError("The report's subject belongs to another partnership.")
    meeting = meta.meeting_name or "Committee"
    return CommitteeReport.objects.create(
        partnership=partnership, report_type=report_type, contract=contract,
        framework=framework, agreement=agreement, created_by=created_by,
        sections=draft_sections(partnership=partnership, report_type=report_type,
                                contract=contract, framework=framework, agreement=agreement,
                                meeting=meeting, on=meta.meeting_date),
        **meta.__dict__,
    )


@transaction.atomic
def committee_report_save(*, report: CommitteeReport, expected_version: int,
                          sections: dict[str, tuple[str, bool]], meta: Meta | None = None
                          ) -> CommitteeReport:
    """Save the officer's edits. Refused if someone else saved since the page was opened."""
    current = lock_for_update(CommitteeReport, report.pk, expected_version, "this report")
    new_sections = []
    for section in current.sections:
        body, exempt = sections.get(section["key"], (section["body"], section["exempt"]))
        if len(body) > MAX_SECTION_LENGTH:
            raise ValidationError({section["key"]: f"{section['title']} must be "
                                   f"{MAX_SECTION_LENGTH:,} characters or fewer"})
        new_sections.append({**section, "body": body, "exempt": bool(exempt)})
    current.sections = new_sections
    if meta is not None:
        for name, value in meta.__dict__.items():
            setattr(current, name, value)
    current.save()
    return current


def report_context(report: CommitteeReport, part: str) -> dict:
    shown = []
    for section in report.sections:
        omitted = section.get("exempt") and part == ReportPart.PART_1
        shown.append({**section, "omitted": omitted})
    return {
        "report": report, "sections": shown, "part": part,
        "part_label": ReportPart(part).label,
        "document_title": report.title + (" (Part 2, exempt)"
                                          if part == ReportPart.PART_2 else ""),
        "running_title": report.meeting_name,
        "running_period": f"{report.meeting_date:%-d %B %Y}",
        "marking": "NOT FOR PUBLICATION: exempt information (Part 2)"
                   if part == ReportPart.PART_2 else "Part 1 (public)",
        "service_name": settings.SERVICE_NAME,
    }


@transaction.atomic
def committee_report_export(*, report: CommitteeReport, part: str, exported_by: User,
                            fmt: str = ExportFormat.PDF) -> CommitteeReportExport:
    """Render the current version as a PDF or a Word document from the same context (same
    Part 1 / Part 2 split) and keep it with its version, format and who exported it."""
    if part == ReportPart.PART_2 and not report.has_exempt_sections:
        raise ValidationError({"part": "This report has no exempt sections, so it has no Part 2."})
    context = report_context(report, part)
    if fmt == ExportFormat.DOCX:
        content, page_count = render_committee_docx(context).content, None
    elif fmt == ExportFormat.PDF:
        rendered = render_pdf("pdf/committee_report.html", context)
        content, page_count = rendered.content, rendered.page_count
    else:
        raise ValidationError({"format": "Choose PDF or Word."})
    export = CommitteeReportExport(report=report, version=report.version, part=part,
                                   file_format=fmt, page_count=page_count,
                                   size_bytes=len(content), exported_by=exported_by)
    export.file.save(f"{report.pk}-v{report.version}-{part}.{fmt}", ContentFile(content),
                     save=False)
    export.save()
    return export
