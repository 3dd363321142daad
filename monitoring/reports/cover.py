"""What a committee paper's cover says from the register (seeds 000-003).

A council's report opens with its cover block (decision maker, date, decision type, title,
contact and chief officers, ward), then boxed summaries: corporate policy, financial (cost of
proposal, ongoing costs, budget head, total current budget for the head, source of funding),
customer impact (estimated users or beneficiaries), procurement, legal. The financial,
customer-impact and procurement boxes come straight from the contract, its scheme links and
top-slices and its service-user returns, so nobody types them into the report. They are kept
in the report's sections as ``facts`` (label, value) taken when the draft is made, so every
export of a version shows the same figures.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from commissioning.periods import financial_year_start
from contracts.models import Contract
from funding.selectors import contract_funding_summary

NOT_RECORDED = "Not recorded on the register (add it on the contract page)"


def money(value: Decimal | None) -> str:
    """£2,700,000 or £2,751.50: whole pounds unless there are pence."""
    value = Decimal(value or 0)
    return f"£{value:,.0f}" if value == value.to_integral_value() else f"£{value:,.2f}"


def _year(contract: Contract) -> int:
    """The financial year the paper speaks about: this one, or the contract's first if it has
    not started yet (an award paper)."""
    today = timezone.localdate()
    return financial_year_start(max(today, contract.start_date))


def sources_of_funding(contract: Contract, summary=None) -> str:
    """As the paper states it: the contract's own wording if it has one, else the funding
    sources of its scheme links with the schemes they come from."""
    if contract.funding_sources_text:
        return contract.funding_sources_text
    summary = summary or contract_funding_summary(contract, _year(contract))
    if not summary.allocations:
        return NOT_RECORDED
    by_source: dict[int, list[str]] = {}
    for allocation in summary.allocations:
        by_source.setdefault(allocation.source_id, [])
        label = f"{allocation.scheme.code} {allocation.scheme.name}"
        if label not in by_source[allocation.source_id]:
            by_source[allocation.source_id].append(label)
    return "; ".join(f"{source.name} ({', '.join(by_source[source.pk])})"
                     for source in summary.sources)


def estimated_users(contract: Contract) -> str:
    if contract.estimated_users is not None:
        return f"{contract.estimated_users:,}"
    latest = contract.service_user_lists.select_related("period").first()
    if latest and latest.count:
        return (f"{latest.count:,} people supported in {latest.period}, from the provider's "
                f"service user return")
    return NOT_RECORDED


def financial_facts(contract: Contract) -> list[list[str]]:
    summary = contract_funding_summary(contract, _year(contract))
    annual = contract.annual_value
    ongoing = contract.ongoing_annual_cost if contract.ongoing_annual_cost is not None \
        else annual
    if contract.ongoing_costs:
        ongoing_text = f"{contract.get_ongoing_costs_display()}: {money(ongoing)} per year"
    else:
        ongoing_text = NOT_RECORDED
    if contract.total_current_budget is not None:
        budget = money(contract.total_current_budget)
    elif summary.allocations:
        budget = (f"{money(summary.allocated)} allocated from the pooled budget "
                  f"({summary.year_label})")
    else:
        budget = NOT_RECORDED
    facts = [
        ["Cost of proposal", f"{money(annual)} per year (whole-life value "
                             f"{money(contract.whole_life_value)})"],
        ["Ongoing costs", ongoing_text],
        ["Budget head/performance centre", contract.budget_head or NOT_RECORDED],
        ["Total current budget for this head", budget],
        ["Source of funding", sources_of_funding(contract, summary)],
    ]
    for top_slice in summary.top_slices:
        held_from = (f"{top_slice.scheme.code} {top_slice.scheme.name}" if top_slice.scheme_id
                     else top_slice.agreement.title)
        facts.append([
            "Top-slice",
            f"{top_slice.name}: {top_slice.percent.normalize():f}% of the {summary.year_label} "
            f"budget of {held_from} ({money(top_slice.reserved)}) is held back",
        ])
    return facts


def customer_impact_facts(contract: Contract) -> list[list[str]]:
    return [["Estimated number of users/beneficiaries (current and projected)",
             estimated_users(contract)]]


def procurement_facts(contract: Contract) -> list[list[str]]:
    facts = [
        ["Procurement regime", contract.get_procurement_regime_display()],
        ["Procurement route", contract.get_procurement_route_display()],
        ["Tendered", "Yes" if contract.tendered else "No"],
        ["Term", contract.term_description],
    ]
    if contract.awarded_on:
        standstill = (f"; standstill ends {contract.standstill_end_date:%-d %B %Y}"
                      if contract.standstill_end_date else "")
        facts.append(["Award decision", f"{contract.awarded_on:%-d %B %Y}{standstill}"])
    return facts


def contract_facts(contract: Contract) -> dict[str, list[list[str]]]:
    """The register's facts for each boxed section of a contract's committee paper."""
    return {
        "financial": financial_facts(contract),
        "customer_impact": customer_impact_facts(contract),
        "procurement": procurement_facts(contract),
    }
