"""Transparency notices worked out from the register: which are due, by when, what each
says (field by field against worked examples), and that each notice's OCDS release passes
Open Contracting's checker."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import notices, ocds
from contracts.frameworks.tests.factories import framework_for, quick_call_off
from contracts.models import (
    Contract,
    ContractStatus,
    NoticeKind,
    NoticePublication,
    ProcurementRegime,
    ProcurementRoute,
)
from contracts.tests.factories import ShareFactory, VariationFactory, contract_for
from contracts.tests.ocds_checker import problems

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registered_prefix(settings):
    settings.OCDS_PREFIX = "ocds-a1b2c3"


def loaded(contract: Contract) -> Contract:
    return notices.notice_queryset(Contract.objects.filter(pk=contract.pk).with_term()).get()


def add_kpis(contract: Contract, count: int) -> None:
    for n in range(1, count + 1):
        contract.kpis.create(code=f"K{n}", name=f"Measure {n}", quadrant="how_well",
                             data_type="count", definition="Counted monthly")


def package_of(notice) -> dict:
    """The notice's release in the package the product emits (its declared extensions)."""
    return ocds.release_package([ocds.notice_release(notice)],
                                uri="https://example.org/notice")


def document_of(notice, kind: str, *, published: str | None = None) -> dict:
    """The notice as Find a Tender's releases carry it: a document with its UK notice type."""
    document_type, notice_type = {
        "uk7": ("contractNotice", "UK7"), "uk9": ("implementationNotice", "UK9"),
        "uk10": ("contractNotice", "UK10"), "uk11": ("contractTerminationNotice", "UK11"),
        "psr_intention": ("awardNotice", None), "psr_award": ("awardNotice", None),
    }[kind]
    found = {"id": f"{kind}-{notice.event}", "documentType": document_type,
             "noticeType": notice_type, "title": NoticeKind(kind).label, "language": "en"}
    if published:
        found["datePublished"] = published
    return {key: value for key, value in found.items() if value is not None}


# --- Worked example 1: a £5m+ Procurement Act contract with three KPIs -------------------------

@pytest.fixture
def big_contract(world):
    """£2m a year for 3 years (£6m) under the Procurement Act, awarded 5 January 2026 with
    its standstill ending 15 January 2026."""
    return contract_for(
        world, reference="PA-BIG", annual_value=Decimal("2000000"),
        start_date=date(2026, 2, 1), initial_end_date=date(2029, 1, 31),
        procurement_regime=ProcurementRegime.PA_2023, procurement_route=ProcurementRoute.PA_OPEN,
        awarded_on=date(2026, 1, 5), standstill_end_date=date(2026, 1, 15),
        status=ContractStatus.LIVE)


def test_a_big_contract_owes_contract_details_with_its_three_kpis(world, big_contract):
    add_kpis(big_contract, 3)
    [uk7] = notices.notices_for_contract(loaded(big_contract))
    assert uk7.kind == NoticeKind.UK7 and uk7.event == "award"
    assert uk7.due == date(2026, 2, 14)  # 30 days after the standstill ended
    assert uk7.rule == "within 30 days of entering into the contract"
    assert uk7.problems == []
    assert uk7.when(date(2026, 2, 9)) == "due in 5 days"
    assert uk7.when(date(2026, 2, 16)) == "overdue by 2 days"

    release = ocds.notice_release(uk7)
    assert release["id"] == f"ocds-a1b2c3-{big_contract.pk}-uk7-award"
    assert release["tag"] == ["contract"]
    assert release["tender"]["procurementMethod"] == "open"
    assert release["tender"]["procurementMethodDetails"] == "Open procedure (Procurement Act 2023)"
    assert release["awards"][0]["value"] == {"amount": 6000000, "currency": "GBP"}
    assert release["awards"][0]["date"].startswith("2026-01-05")
    assert release["tender"]["legalBasis"] == {"scheme": "UKPGA", "id": "2023/54",
                                               "description": "Procurement Act 2023"}
    assert release["awards"][0]["standstillPeriod"] == {
        "startDate": "2026-01-05T00:00:00+00:00", "endDate": "2026-01-15T23:59:59+00:00"}
    contract = release["contracts"][0]
    assert contract["status"] == "active"
    assert contract["period"]["startDate"].startswith("2026-02-01")
    assert contract["period"]["endDate"].startswith("2029-01-31")
    # The KPIs as the UK extension's agreed metrics, not as milestones.
    assert contract["agreedMetrics"] == [
        {"id": "K1", "title": "Measure 1", "description": "Counted monthly"},
        {"id": "K2", "title": "Measure 2", "description": "Counted monthly"},
        {"id": "K3", "title": "Measure 3", "description": "Counted monthly"}]
    assert "implementation" not in contract
    assert contract["documents"] == [document_of(uk7, "uk7")]
    package = package_of(uk7)
    assert ocds.EXTENSIONS["uk"] in package["extensions"]
    assert problems(package) == {}

    notices.notice_publish(notice=uk7, notice_identifier="2026/S 000-012345",
                           published_on=date(2026, 2, 10), user=world.commissioner_a)
    [uk7] = notices.notices_for_contract(loaded(big_contract))
    document = ocds.notice_release(uk7)["contracts"][0]["documents"][0]
    assert document["title"] == "UK7 contract details notice 2026/S 000-012345"
    assert document["datePublished"] == "2026-02-10T00:00:00+00:00"
    assert problems(package_of(uk7)) == {}


def test_the_checker_flags_the_uk_fields_without_the_uk_extension(world, big_contract):
    """A notice's UK fields pass only because the package declares the UK extension (the
    notices' releases before it had no notice type, so this fails on the old code too)."""
    add_kpis(big_contract, 3)
    [uk7] = notices.notices_for_contract(loaded(big_contract))
    package = package_of(uk7)
    package["extensions"] = [url for url in package["extensions"]
                             if url not in (ocds.EXTENSIONS["uk"], ocds.EXTENSIONS["metrics"])]
    found = problems(package)["additional_fields"]
    assert "/releases/contracts/documents/noticeType" in found
    assert "/releases/contracts/agreedMetrics" in found


def test_a_big_contract_with_two_kpis_is_told_it_needs_three(world, big_contract):
    add_kpis(big_contract, 2)
    [uk7] = notices.notices_for_contract(loaded(big_contract))
    assert uk7.problems == ["A contract worth over £5 million must publish at least 3 KPIs "
                            "with its contract details: it has 2."]


def test_a_final_assessment_of_a_big_contract_owes_a_performance_notice(world, big_contract):
    add_kpis(big_contract, 3)
    assessment = big_contract.performance_assessments.create(
        financial_year="2026/27", status="final", summary="Good",
        finalised_at=timezone.make_aware(timezone.datetime(2027, 4, 20, 10, 0)))
    for kpi, rating in zip(big_contract.kpis.order_by("code"),
                           ("good", "approaching", "inadequate"), strict=True):
        assessment.ratings.create(kpi=kpi, rating=rating, suggested_rating=rating,
                                  explanation=f"{kpi.name} explained")
    by_kind = {n.kind: n for n in notices.notices_for_contract(loaded(big_contract))}
    uk9 = by_kind[NoticeKind.UK9]
    assert uk9.event == "assessment-2026/27" and uk9.due == date(2027, 5, 20)
    release = ocds.notice_release(uk9)
    assert release["tag"] == ["implementation"]
    implementation = release["contracts"][0]["implementation"]
    assert implementation["documents"] == [document_of(uk9, "uk9")]
    assert [(m["id"], m["observations"][0]["measureClassification"])
            for m in implementation["metrics"]] == [
        ("K1", {"id": "met", "description": "Good"}),
        ("K2", {"id": "slightlyBelow", "description": "Approaching target"}),
        ("K3", {"id": "significantlyBelow", "description": "Inadequate"})]
    assert implementation["metrics"][0]["observations"][0] == {
        "id": "2026/27-K1", "measure": "Good", "notes": "Measure 1 explained",
        "period": {"startDate": "2026-04-01T00:00:00+01:00",
                   "endDate": "2027-03-31T23:59:59+01:00"},
        "measureClassification": {"id": "met", "description": "Good"}}
    assert problems(package_of(uk9)) == {}


# --- Worked example 2: a variation of more than 10% ---------------------------------------------

def test_a_variation_over_ten_percent_owes_a_change_notice_before_it_takes_effect(world):
    contract = contract_for(
        world, reference="PA-VAR", annual_value=Decimal("100000"),
        start_date=date(2025, 4, 1), initial_end_date=date(2028, 3, 31),
        procurement_regime=ProcurementRegime.PA_2023,
        procurement_route=ProcurementRoute.PA_COMPETITIVE_FLEXIBLE, awarded_on=date(2025, 3, 1))
    big = VariationFactory(contract=contract, date=date(2026, 6, 1), value_change=Decimal(
        "40000"), term_change_months=0, description="Extra night-time visits")
    VariationFactory(contract=contract, date=date(2026, 7, 1), value_change=Decimal("15000"),
                     term_change_months=0, description="Small top-up")  # 5%: none due
    found = [n for n in notices.notices_for_contract(loaded(contract))
             if n.kind == NoticeKind.UK10]
    assert [(n.event, n.due, n.rule) for n in found] == [
        (f"variation-{big.pk}", date(2026, 6, 1), "before the change takes effect")]
    release = ocds.notice_release(found[0])
    assert release["tag"] == ["contractAmendment"]
    [amendment] = release["contracts"][0]["amendments"]
    assert amendment == {
        "id": f"variation-{big.pk}", "date": "2026-06-01T00:00:00+01:00",
        "description": "Extra night-time visits",
        "rationale": "Value +£40,000.00 a year"}
    assert "proposedAmendments" not in release["contracts"][0]  # it has taken effect
    assert release["contracts"][0]["documents"] == [document_of(found[0], "uk10")]
    assert release["tender"]["procurementMethod"] == "selective"
    assert release["tender"]["legalBasis"]["id"] == "2023/54"
    assert problems(package_of(found[0])) == {}


def test_a_change_notice_before_the_change_takes_effect_proposes_it(world):
    contract = contract_for(
        world, annual_value=Decimal("100000"), start_date=date(2025, 4, 1),
        initial_end_date=date(2099, 3, 31), procurement_regime=ProcurementRegime.PA_2023,
        procurement_route=ProcurementRoute.PA_OPEN, awarded_on=date(2025, 3, 1))
    coming = VariationFactory(contract=contract, date=date(2098, 6, 1), value_change=Decimal(
        "0"), term_change_months=6, description="Six months longer")
    [uk10] = [n for n in notices.notices_for_contract(loaded(contract))
              if n.kind == NoticeKind.UK10]
    awarded = ocds.notice_release(uk10)["contracts"][0]
    assert [a["id"] for a in awarded["proposedAmendments"]] == [f"variation-{coming.pk}"]
    assert "amendments" not in awarded
    assert problems(package_of(uk10)) == {}


# --- Worked example 3: a PSR Direct Award C ------------------------------------------------------

def test_a_psr_direct_award_c_owes_an_intention_and_a_confirmation(world):
    contract = contract_for(
        world, reference="PSR-C", annual_value=Decimal("250000"),
        start_date=date(2026, 4, 1), initial_end_date=date(2029, 3, 31),
        procurement_regime=ProcurementRegime.PSR,
        procurement_route=ProcurementRoute.PSR_DIRECT_AWARD_C, tendered=False,
        awarded_on=date(2026, 3, 2), standstill_end_date=date(2026, 3, 12),
        status=ContractStatus.AWARDED)
    intention, confirmation = notices.notices_for_contract(loaded(contract))
    assert (intention.kind, intention.due) == (NoticeKind.PSR_INTENTION, date(2026, 3, 2))
    assert intention.rule == "when the award decision is made, before the standstill period"
    assert (confirmation.kind, confirmation.due) == (NoticeKind.PSR_AWARD, date(2026, 4, 11))
    assert confirmation.rule == "within 30 days of the standstill period ending"
    for notice in (intention, confirmation):
        release = ocds.notice_release(notice)
        assert release["tag"] == ["award"]
        assert release["tender"]["procurementMethod"] == "direct"
        assert release["tender"]["procurementMethodDetails"] == \
            "Direct Award C (Provider Selection Regime)"
        award = release["awards"][0]
        assert award["status"] == "pending"
        assert award["suppliers"][0]["name"] == world.provider_x.name
        assert award["standstillPeriod"] == {"startDate": "2026-03-02T00:00:00+00:00",
                                             "endDate": "2026-03-12T23:59:59+00:00"}
        assert award["documents"] == [document_of(notice, notice.kind)]
        assert release["tender"]["legalBasis"] == {
            "scheme": "UKPGA", "id": "2022/31",
            "description": "Health and Care Act 2022: the Health Care Services (Provider "
                           "Selection Regime) Regulations 2023"}
        assert problems(package_of(notice)) == {}


def test_a_psr_direct_award_a_owes_only_a_confirmation_after_the_award(world):
    contract = contract_for(world, procurement_regime=ProcurementRegime.PSR,
                            procurement_route=ProcurementRoute.PSR_DIRECT_AWARD_A,
                            awarded_on=date(2026, 3, 2), status=ContractStatus.LIVE)
    [confirmation] = notices.notices_for_contract(loaded(contract))
    assert (confirmation.kind, confirmation.due) == (NoticeKind.PSR_AWARD, date(2026, 4, 1))


# --- Regimes ----------------------------------------------------------------------------------

def test_an_ended_pa_contract_owes_a_termination_notice(world):
    contract = contract_for(world, procurement_regime=ProcurementRegime.PA_2023,
                            procurement_route=ProcurementRoute.PA_OPEN,
                            start_date=date(2025, 3, 1), initial_end_date=date(2025, 12, 31))
    kinds = {n.kind: n for n in notices.notices_for_contract(loaded(contract))}
    uk11 = kinds[NoticeKind.UK11]
    assert uk11.due == date(2026, 1, 30)
    release = ocds.notice_release(uk11)
    assert release["tag"] == ["contractTermination"]
    awarded = release["contracts"][0]
    assert awarded["status"] == "terminated"
    assert awarded["implementation"]["endDate"] == "2025-12-31T23:59:59+00:00"
    assert awarded["implementation"]["endDateDetails"] == "Expired at the end of its term"
    assert awarded["implementation"]["documents"] == [document_of(uk11, "uk11")]
    assert problems(package_of(uk11)) == {}


def test_a_pcr_contract_owes_no_procurement_act_notices(world):
    contract = contract_for(world)  # Public Contracts Regulations 2015
    VariationFactory(contract=contract, value_change=Decimal("90000"))
    assert notices.notices_for_contract(loaded(contract)) == []


def test_a_call_off_of_a_2021_framework_follows_the_frameworks_regime(world, client_for):
    framework = framework_for(world, start_date=date(2021, 4, 1))
    call_off = quick_call_off(world, framework.lots.get(number=1), world.provider_x)
    contract = call_off.contract  # recorded as a Procurement Act call-off
    assert notices.notices_for_contract(loaded(contract)) == []
    package = json.loads(client_for(world.commissioner_a).get(
        reverse("contracts:ocds", args=[contract.pk])).content)
    release = package["releases"][0]
    assert release["tender"]["procurementMethodDetails"] == \
        "Call-off from a framework (Public Contracts Regulations 2015)"
    assert release["tender"]["procurementMethod"] == "limited"  # a direct award
    assert release["relatedProcesses"] == [{
        "id": "framework", "relationship": ["framework"], "title": framework.title,
        "scheme": "ocid", "identifier": f"ocds-a1b2c3-framework-{framework.pk}"}]
    assert release["tender"]["lots"][0]["id"] == "lot-1"
    assert release["awards"][0]["relatedLots"] == ["lot-1"]
    assert problems(package) == {}
    page = client_for(world.commissioner_a).get(contract.get_absolute_url()).content.decode()
    assert "Framework call-off (Public Contracts Regulations 2015)" in page
    assert "(Procurement Act 2023)" not in page


# --- The pages: preview, data, recording ----------------------------------------------------------

def test_the_contract_page_lists_its_notices_and_the_preview_explains_one(world, client_for,
                                                                         big_contract):
    add_kpis(big_contract, 3)
    client = client_for(world.commissioner_a)
    page = client.get(reverse("contracts:detail", args=[big_contract.pk])).content.decode()
    url = reverse("contracts:notice", args=[big_contract.pk, "uk7", "award"])
    assert "Transparency notices" in page and url in page
    preview = client.get(url).content.decode()
    assert "UK7 contract details notice" in preview
    assert "within 30 days of entering into the contract: by 14 Feb 2026" in preview
    assert "Measure 3" in preview
    data = json.loads(client.get(
        reverse("contracts:notice_ocds", args=[big_contract.pk, "uk7", "award"])).content)
    assert problems(data) == {}


def test_it_refuses_a_notice_that_is_not_due_and_an_outsider(world, client_for, big_contract):
    client = client_for(world.commissioner_a)
    assert client.get(reverse("contracts:notice", args=[big_contract.pk, "uk10", "x"])
                      ).status_code == 404
    url = reverse("contracts:notice", args=[big_contract.pk, "uk7", "award"])
    for persona in ("commissioner_b", "outsider", "provider_y_user"):
        assert client_for(getattr(world, persona)).get(url).status_code == 404


def test_recording_a_publication_clears_the_notice_and_keeps_the_record(world, client_for,
                                                                      big_contract):
    add_kpis(big_contract, 3)
    client = client_for(world.commissioner_a)
    url = reverse("contracts:notice", args=[big_contract.pk, "uk7", "award"])
    def contract_notices() -> list[str]:  # the holder's payments notices are left out here
        return [n.kind for n in notices.outstanding(Contract.objects.with_term()) if n.contract]

    assert contract_notices() == ["uk7"]
    bad = client.post(url, {"notice_identifier": "", "published_on": "31/02/2026"})
    assert bad.status_code == 200
    assert "Enter the notice identifier" in bad.content.decode()
    assert "Enter the date published as a real date" in bad.content.decode()
    assert not NoticePublication.objects.exists()
    today = timezone.localdate()
    wrong = client.post(url, {"notice_identifier": "FTS 12345",
                              "published_on": today.strftime("%d/%m/%Y")})
    assert "Enter the Find a Tender notice identifier in the right format, like 012345-2025" \
        in wrong.content.decode()
    assert not NoticePublication.objects.exists()
    response = client.post(url, {"notice_identifier": "2026/S 000-012345",
                                 "published_on": today.strftime("%d/%m/%Y")})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = NoticePublication.objects.get()
    assert (record.kind, record.event, record.notice_identifier, record.published_on,
            record.recorded_by) == ("uk7", "award", "012345-2026", today,
                                    world.commissioner_a)
    assert record.history.count() == 1
    assert contract_notices() == []
    page = client.get(url).content.decode()
    assert "Published" in page and "012345-2026" in page and "Record publication" \
        not in page


def test_a_reader_sees_the_notice_but_may_not_record_it(world, client_for, big_contract):
    url = reverse("contracts:notice", args=[big_contract.pk, "uk7", "award"])
    reader = client_for(world.finance_officer_a)
    assert "Record publication" not in reader.get(url).content.decode()
    assert reader.post(url, {"notice_identifier": "X"}).status_code == 404
    assert not NoticePublication.objects.exists()


# --- The ICB's annual PSR summary ----------------------------------------------------------------

def test_the_psr_summary_lists_the_years_psr_awards(world):
    def psr(reference, awarded_on, **kwargs):
        return contract_for(world, reference=reference, holder=world.icb_a,
                            lead_commissioner=world.icb_a,
                            procurement_regime=ProcurementRegime.PSR,
                            procurement_route=ProcurementRoute.PSR_DIRECT_AWARD_C,
                            awarded_on=awarded_on, **kwargs)

    second = psr("PSR-2", date(2026, 1, 10))
    first = psr("PSR-1", date(2025, 4, 1))
    psr("PSR-OLD", date(2025, 3, 31))
    contract_for(world, reference="PCR-1", holder=world.icb_a, lead_commissioner=world.icb_a,
                 awarded_on=date(2025, 6, 1))
    listed = notices.psr_summary(Contract.objects.all(), organisation=world.icb_a,
                                 financial_year="2025/26")
    assert listed == [first, second]


def test_the_psr_summary_page_lists_the_awards_its_reader_may_see(world, client_for):
    psr = contract_for(world, reference="PSR-PAGE", holder=world.icb_a,
                       lead_commissioner=world.icb_a, procurement_regime=ProcurementRegime.PSR,
                       procurement_route=ProcurementRoute.PSR_DIRECT_AWARD_C,
                       awarded_on=date(2025, 9, 1), standstill_end_date=date(2025, 9, 11))
    ShareFactory(contract=psr, organisation=world.council_a, share_percent=Decimal("50"))
    client = client_for(world.commissioner_a)
    notice = client.get(reverse("contracts:notice", args=[psr.pk, "psr_award", "award"]))
    url = reverse("contracts:psr_summary", args=[world.icb_a.pk, "2025-26"])
    assert url in notice.content.decode()
    page = client.get(url).content.decode()
    assert "Provider Selection Regime summary 2025/26" in page and "PSR-PAGE" in page
    assert "1 Sep 2025" in page
    assert client.get(reverse("contracts:psr_summary", args=[world.icb_a.pk, "2025"])
                      ).status_code == 404
    for persona in ("commissioner_b", "outsider", "provider_x_user"):
        assert client_for(getattr(world, persona)).get(url).status_code == 404


# --- Six-monthly payments compliance (per organisation) ---------------------------------------

def test_payments_reporting_periods_end_on_30_september_and_31_march():
    assert notices.payments_periods(date(2025, 9, 30)) == []
    assert notices.payments_periods(date(2026, 4, 1)) == [
        (date(2025, 4, 1), date(2025, 9, 30)), (date(2025, 10, 1), date(2026, 3, 31))]


def test_an_organisation_with_a_big_procurement_act_contract_owes_payments_notices(
        world, big_contract):
    small = contract_for(world, reference="PA-SMALL", annual_value=Decimal("100000"),
                         start_date=date(2025, 6, 1), initial_end_date=date(2027, 5, 31),
                         procurement_regime=ProcurementRegime.PA_2023,
                         procurement_route=ProcurementRoute.PA_OPEN, status=ContractStatus.LIVE)
    contracts = Contract.objects.filter(pk__in=[big_contract.pk, small.pk]).with_term()
    # The big contract was entered into on 15 January 2026: the period to 31 March 2026 only.
    [due] = notices.payments_notices(contracts, today=date(2026, 11, 1))[:1]
    assert (due.kind, due.event, due.due) == (
        NoticeKind.PAYMENTS, "2025-10-01/2026-03-31", date(2026, 4, 30))
    assert due.organisation == world.council_a and due.contracts == [big_contract]
    owed = notices.payments_notices(contracts, today=date(2026, 11, 1))
    assert [n.event for n in owed] == ["2025-10-01/2026-03-31", "2026-04-01/2026-09-30"]
    assert owed[1].when(date(2026, 10, 25)) == "due in 5 days"  # 30 October 2026

    notices.notice_publish(notice=owed[0], notice_identifier="2026/S 000-000777",
                           published_on=date(2026, 4, 20), user=world.commissioner_a)
    [left] = [n for n in notices.payments_notices(contracts, today=date(2026, 11, 1))
              if n.published is None]
    assert left.event == "2026-04-01/2026-09-30"
    record = NoticePublication.objects.get()
    assert (record.contract, record.organisation) == (None, world.council_a)


def test_no_payments_notice_without_a_procurement_act_contract_over_5_million(world):
    contract_for(world, annual_value=Decimal("6000000"), start_date=date(2025, 4, 1),
                 initial_end_date=date(2026, 3, 31), status=ContractStatus.LIVE,
                 procurement_regime=ProcurementRegime.PCR_2015,
                 procurement_route=ProcurementRoute.PCR_OPEN)
    contract_for(world, annual_value=Decimal("100000"), start_date=date(2025, 4, 1),
                 initial_end_date=date(2027, 3, 31), status=ContractStatus.LIVE,
                 procurement_regime=ProcurementRegime.PA_2023,
                 procurement_route=ProcurementRoute.PA_OPEN)
    assert notices.payments_notices(Contract.objects.with_term(),
                                    today=date(2026, 11, 1)) == []
