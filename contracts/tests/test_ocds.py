"""The OCDS feed as Open Contracting's own checker (libcoveocds) reads it: every release and
package the register emits has 0 schema errors, 0 undeclared fields, a well-formed prefix and
no empty fields; and what the releases say follows the register (status, method, amendments,
call-offs, organisations)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from contracts import ocds
from contracts.models import (
    ContractStatus,
    ProcurementRegime,
    ProcurementRoute,
)
from contracts.tests.factories import (
    DecisionFactory,
    ExtensionOptionFactory,
    ReviewDateFactory,
    ShareFactory,
    VariationFactory,
    contract_for,
    full_contract,
)
from contracts.tests.ocds_checker import check, problems

pytestmark = pytest.mark.django_db

PREFIX = "ocds-a1b2c3"


@pytest.fixture(autouse=True)
def registered_prefix(settings):
    settings.OCDS_PREFIX = PREFIX


def package_for(client, contract) -> dict:
    response = client.get(reverse("contracts:ocds", args=[contract.pk]))
    assert response.status_code == 200
    return json.loads(response.content)


def only_release(package: dict) -> dict:
    assert len(package["releases"]) == 1
    return package["releases"][0]


# --- The checker's verdict ---------------------------------------------------------------------

def test_it_passes_open_contractings_checker_for_a_contract_with_everything(world, client_for):
    world.provider_x.registration_scheme, world.provider_x.registration_number = (
        "GB-COH", "07654321")
    world.provider_x.save()
    contract = full_contract(world, start_date=date(2024, 4, 1),
                             initial_end_date=date(2099, 3, 31), awarded_on=date(2024, 2, 1))
    package = package_for(client_for(world.commissioner_a), contract)
    assert problems(package) == {}
    report = check(package)
    assert report["validation_errors"] == [] and report["additional_fields"] == []
    assert {e["url"] for e in report["extensions"]["extensions"]} == set(ocds.EXTENSIONS.values())


@pytest.mark.parametrize("status", list(ContractStatus))
def test_it_passes_the_checker_for_a_contract_in_every_status(world, client_for, status):
    contract = contract_for(world, status=status, description="")
    assert problems(package_for(client_for(world.commissioner_a), contract)) == {}


def test_it_passes_the_checker_for_the_whole_register_package(world, client_for):
    full_contract(world, reference="A-1")
    contract_for(world, reference="A-2", status=ContractStatus.PLANNED, description="")
    response = client_for(world.commissioner_a).get(reverse("contracts:export", args=["json"]))
    package = json.loads(b"".join(response.streaming_content))
    assert len(package["releases"]) == 2
    assert problems(package) == {}


def test_the_checker_finds_what_the_old_feed_got_wrong(world, client_for, settings):
    """The checker really looks: the old prefix, an undeclared field and empty fields are
    each reported (the old export had all three)."""
    contract = contract_for(world)
    package = package_for(client_for(world.commissioner_a), contract)
    package["releases"][0]["ocid"] = "ocds-jcomm-29"
    package["releases"][0]["tender"]["description"] = ""
    package["releases"][0]["parties"][0]["details"] = {"charityNumber": "1084553"}
    found = problems(package)
    assert found["ocid_prefixes"] == [["ocds-jcomm-29", "releases/0/ocid"]] or \
        found["ocid_prefixes"] == [("ocds-jcomm-29", "releases/0/ocid")]
    assert "/releases/parties/details/charityNumber" in found["additional_fields"]
    assert found["empty_fields"]
    del package["extensions"]
    assert any(f.endswith("details/scale") for f in problems(package)["additional_fields"])


def test_it_declares_the_cabinet_office_uk_extension_and_the_checker_applies_it(world,
                                                                               client_for):
    """The package declares Find a Tender's UK extension (with the extensions it depends on)
    and libcoveocds applies each one from the files kept in contracts/ocds_extensions: a
    supplier's VCSE status (a UK extension field) passes only because of it."""
    package = package_for(client_for(world.commissioner_a), contract_for(world))
    assert ocds.EXTENSIONS["uk"] in package["extensions"]
    assert "cabinetoffice/ocds_uk_extension/" in ocds.EXTENSIONS["uk"]
    supplier = next(p for p in only_release(package)["parties"] if "supplier" in p["roles"])
    supplier["details"]["vcse"] = True
    report = check(package)
    assert report["extensions"]["invalid_extensions"] == []
    assert [e["url"] for e in report["extensions"]["extensions"]] == package["extensions"]
    assert problems(package) == {}
    package["extensions"].remove(ocds.EXTENSIONS["uk"])
    assert "/releases/parties/details/vcse" in problems(package)["additional_fields"]


def test_it_gives_the_legal_basis_standstill_and_light_touch_as_find_a_tender_does(
        world, client_for):
    client = client_for(world.commissioner_a)
    act = contract_for(world, procurement_regime=ProcurementRegime.PA_2023,
                       procurement_route=ProcurementRoute.PA_OPEN, awarded_on=date(2026, 1, 5),
                       standstill_end_date=date(2026, 1, 15))
    package = package_for(client, act)
    release = only_release(package)
    assert release["tender"]["legalBasis"] == {"scheme": "UKPGA", "id": "2023/54",
                                               "description": "Procurement Act 2023"}
    assert release["awards"][0]["standstillPeriod"] == {
        "startDate": "2026-01-05T00:00:00+00:00", "endDate": "2026-01-15T23:59:59+00:00"}
    assert "specialRegime" not in release["tender"]
    assert problems(package) == {}
    light = contract_for(world, procurement_route=ProcurementRoute.PCR_LIGHT_TOUCH,
                         tendered=False)
    package = package_for(client, light)
    tender = only_release(package)["tender"]
    assert tender["specialRegime"] == ["lightTouch"]
    assert (tender["legalBasis"]["scheme"], tender["legalBasis"]["id"]) == ("CELEX",
                                                                            "32014L0024")
    assert "standstillPeriod" not in only_release(package)["awards"][0]
    assert problems(package) == {}


# --- The prefix ---------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["ocds-jcomm", "ocds-ABCDEF", "ocds-a1b2c3d", "", "a1b2c3"])
def test_it_refuses_to_start_with_a_malformed_prefix_and_names_the_setting(settings, prefix):
    settings.OCDS_PREFIX = prefix
    with pytest.raises(SystemCheckError, match="OCDS_PREFIX"):
        call_command("check")


def test_it_starts_with_a_registered_prefix(settings):
    settings.OCDS_PREFIX = "ocds-b5fd17"
    call_command("check")


def test_every_ocid_uses_the_configured_prefix(world, client_for):
    contract = contract_for(world)
    release = only_release(package_for(client_for(world.commissioner_a), contract))
    assert release["ocid"] == f"{PREFIX}-{contract.pk}"


# --- What the releases say ---------------------------------------------------------------------

def test_it_emits_no_empty_fields(world, client_for):
    contract = contract_for(world, description="")  # and no review dates
    release = only_release(package_for(client_for(world.commissioner_a), contract))
    assert "description" not in release["tender"]
    assert "implementation" not in release["contracts"][0]
    assert "amendments" not in release["contracts"][0]
    assert "contractAmendment" not in release["tag"]


def test_an_extended_contract_carries_its_extension_as_an_amendment(world, client_for):
    contract = contract_for(world, status=ContractStatus.EXTENDED,
                            initial_end_date=date(2098, 3, 31))
    decision = DecisionFactory(contract=contract, meeting_date=date(2026, 1, 12))
    ExtensionOptionFactory(contract=contract, sequence=1, length_months=12, exercised=True,
                           exercised_decision=decision)
    release = only_release(package_for(client_for(world.commissioner_a), contract))
    assert release["tag"] == ["contract", "contractAmendment"]
    [amendment] = release["contracts"][0]["amendments"]
    assert amendment["id"] == "extension-1"
    assert amendment["date"].startswith("2026-01-12")
    assert "12 months longer" in amendment["description"]
    assert release["contracts"][0]["period"]["endDate"].startswith("2099-03-31")


def test_variations_are_amendments_in_date_order(world, client_for):
    contract = contract_for(world, initial_end_date=date(2099, 3, 31))
    VariationFactory(contract=contract, date=date(2025, 6, 1), description="Later",
                     value_change=Decimal("-5000"))
    VariationFactory(contract=contract, date=date(2025, 1, 1), description="Earlier",
                     value_change=Decimal("12000"))
    release = only_release(package_for(client_for(world.commissioner_a), contract))
    amendments = release["contracts"][0]["amendments"]
    assert [a["description"] for a in amendments] == ["Earlier", "Later"]
    assert amendments[0]["rationale"].startswith("Value +£12,000.00 a year")


@pytest.mark.parametrize(("regime", "route", "tendered", "method", "details"), [
    (ProcurementRegime.PCR_2015, ProcurementRoute.PCR_COMPETITIVE_DIALOGUE, True, "selective",
     "Competitive dialogue (Public Contracts Regulations 2015)"),
    (ProcurementRegime.PCR_2015, ProcurementRoute.PCR_RESTRICTED, True, "selective",
     "Restricted procedure (Public Contracts Regulations 2015)"),
    (ProcurementRegime.PCR_2015, ProcurementRoute.PCR_OPEN, True, "open",
     "Open procedure (Public Contracts Regulations 2015)"),
    (ProcurementRegime.PCR_2015, ProcurementRoute.PCR_LIGHT_TOUCH, False, "limited",
     "Light touch regime (Public Contracts Regulations 2015)"),
    (ProcurementRegime.PA_2023, ProcurementRoute.PA_COMPETITIVE_FLEXIBLE, True, "selective",
     "Competitive flexible procedure (Procurement Act 2023)"),
    (ProcurementRegime.PA_2023, ProcurementRoute.PA_DIRECT_AWARD, False, "direct",
     "Direct award (Procurement Act 2023)"),
    (ProcurementRegime.PSR, ProcurementRoute.PSR_DIRECT_AWARD_C, False, "direct",
     "Direct Award C (Provider Selection Regime)"),
    (ProcurementRegime.PSR, ProcurementRoute.PSR_COMPETITIVE_PROCESS, True, "selective",
     "Competitive Process (Provider Selection Regime)"),
])
def test_it_gives_the_procurement_method_of_each_route(world, client_for, regime, route,
                                                        tendered, method, details):
    contract = contract_for(world, procurement_regime=regime, procurement_route=route,
                            tendered=tendered)
    tender = only_release(package_for(client_for(world.commissioner_a), contract))["tender"]
    assert tender["procurementMethod"] == method
    assert tender["procurementMethodDetails"] == details


def test_a_contract_that_ended_is_terminated_and_its_page_says_expired(world, client_for):
    contract = contract_for(world, status=ContractStatus.EXTENDED,
                            start_date=date(2019, 4, 1), initial_end_date=date(2022, 3, 31))
    client = client_for(world.commissioner_a)
    release = only_release(package_for(client, contract))
    assert release["contracts"][0]["status"] == "terminated"
    assert release["tag"] == ["contractTermination"]
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert "Expired" in page and ">Extended<" not in page


def test_the_contract_page_links_to_its_ocds_release(world, client_for):
    contract = contract_for(world)
    page = client_for(world.commissioner_a).get(
        reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert f'href="{reverse("contracts:ocds", args=[contract.pk])}"' in page


def test_organisations_carry_their_identifiers_address_and_contact_point(world, client_for):
    provider = world.provider_x
    provider.ppon, provider.registration_scheme = "PABC-1234-DEFG", "GB-CHC"
    provider.registration_number, provider.is_sme = "1084553", True
    provider.street_address, provider.locality = "1 High Street", "Bromley"
    provider.postal_code, provider.contact_email = "BR1 1AA", "bids@example.org"
    provider.save()
    council = world.council_a
    council.local_authority_code = "CAM"
    council.save()
    release = only_release(package_for(client_for(world.commissioner_a), contract_for(world)))
    parties = {p["name"]: p for p in release["parties"]}
    supplier = parties[provider.name]
    assert supplier["id"] == "GB-PPON-PABC-1234-DEFG"
    assert supplier["identifier"] == {"scheme": "GB-PPON", "id": "PABC-1234-DEFG",
                                      "legalName": provider.name}
    assert supplier["additionalIdentifiers"] == [{"scheme": "GB-CHC", "id": "1084553"}]
    assert supplier["address"] == {"streetAddress": "1 High Street", "locality": "Bromley",
                                   "postalCode": "BR1 1AA", "countryName": "United Kingdom"}
    assert supplier["contactPoint"] == {"email": "bids@example.org"}
    assert supplier["details"] == {"scale": "sme"}
    assert parties[council.name]["identifier"]["scheme"] == "GB-LAE"
    assert "details" not in parties[council.name]
    assert release["buyer"]["id"] == "GB-LAE-CAM"


def test_review_dates_are_milestones(world, client_for):
    contract = contract_for(world, initial_end_date=date(2099, 3, 31))
    ReviewDateFactory(contract=contract, date=date(2098, 1, 1), description="Annual review")
    ShareFactory(contract=contract, organisation=world.icb_a, share_percent=Decimal("40"))
    release = only_release(package_for(client_for(world.commissioner_a), contract))
    [milestone] = release["contracts"][0]["implementation"]["milestones"]
    assert milestone["status"] == "scheduled" and milestone["type"] == "assessment"
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    assert roles[world.icb_a.name] == ["buyer", "payer"]


def test_it_classifies_a_contract_by_its_cpv_codes_and_links_find_a_tender(world, client_for):
    contract = full_contract(world, start_date=date(2024, 4, 1),
                             initial_end_date=date(2099, 3, 31), awarded_on=date(2024, 2, 1),
                             cpv_code="85323000", additional_cpv_codes=["85312000"],
                             find_a_tender_notice_id="012345-2025",
                             find_a_tender_procedure_id="ocds-h6vhtk-04f3a1")
    package = package_for(client_for(world.commissioner_a), contract)
    item = only_release(package)["tender"]["items"][0]
    assert item["classification"] == {"scheme": "CPV", "id": "85323000",
                                      "description": "Community health services"}
    assert item["additionalClassifications"] == [{
        "scheme": "CPV", "id": "85312000",
        "description": "Social work services without accommodation"}]
    assert only_release(package)["tender"]["documents"][0]["url"] == (
        "https://www.find-tender.service.gov.uk/Notice/012345-2025")
    assert problems(package) == {}
    report = check(package)
    assert report["validation_errors"] == [] and report["additional_fields"] == []


def test_a_contract_without_cpv_codes_has_no_items(world, client_for):
    contract = full_contract(world, start_date=date(2024, 4, 1),
                             initial_end_date=date(2099, 3, 31), awarded_on=date(2024, 2, 1))
    package = package_for(client_for(world.commissioner_a), contract)
    assert "items" not in only_release(package)["tender"]
    assert "documents" not in only_release(package)["tender"]
