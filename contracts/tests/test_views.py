import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commissioning.tests import hostile_files as hostile
from contracts.models import Contract, ContractDocument, ContractStatus
from contracts.tests.factories import (
    ExtensionOptionFactory,
    contract_for,
    full_contract,
)

pytestmark = pytest.mark.django_db

CHANGE_PAGES = ["contracts:edit", "contracts:status", "contracts:extension",
                "contracts:decision", "contracts:variation", "contracts:review_date",
                "contracts:shares", "contracts:document_upload"]

def shown_count(response) -> int:
    """The count the register's page shows ("<strong>30</strong> contracts")."""
    found = re.search(r"<strong>([\d,]+)</strong> contracts?", response.content.decode())
    assert found, "no count on the page"
    return int(found.group(1).replace(",", ""))


def listed_references(response) -> list[str]:
    """The references in the register's rows, in the order shown."""
    return re.findall(r'<th scope="row" class="govuk-table__header"><a class="govuk-link" '
                      r'href="[^"]+">([^<]+)</a></th>', response.content.decode())



@pytest.fixture
def contract(world):
    contract = full_contract(world)
    return contract


def test_it_redirects_anonymous_users_to_sign_in(client, contract):
    for url in [reverse("contracts:list"), reverse("contracts:detail", args=[contract.pk]),
                reverse("contracts:create"), reverse("contracts:edit", args=[contract.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["commissioner_b", "provider_y_user", "outsider"])
def test_it_refuses_the_contract_page_to_the_wrong_persona(world, client_for, contract,
                                                           persona):
    client = client_for(getattr(world, persona))
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 404
    assert client.get(reverse("object_history",
                              args=["contracts.contract", contract.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["commissioner_b", "provider_y_user", "outsider",
                                     "provider_x_user", "finance_officer_a", "read_only_a"])
@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_it_refuses_change_pages_to_the_wrong_persona(world, client_for, contract, persona,
                                                      name):
    client = client_for(getattr(world, persona))
    url = reverse(name, args=[contract.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


@pytest.mark.parametrize("persona", ["provider_x_user", "finance_officer_a", "outsider",
                                     "provider_y_user"])
def test_it_refuses_the_create_journey_to_people_who_cannot_create(world, client_for, persona):
    client = client_for(getattr(world, persona))
    assert client.get(reverse("contracts:create")).status_code == 404
    assert client.get(reverse("contracts:create_check")).status_code == 404


@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_it_shows_change_pages_to_the_commissioner(world, client_for, contract, name):
    response = client_for(world.commissioner_a).get(reverse(name, args=[contract.pk]))
    assert response.status_code == 200


def test_it_lists_only_provider_xs_contracts_to_provider_x(world, client_for, contract):
    other = contract_for(world, provider=world.provider_y, reference="OTHER-1")
    response = client_for(world.provider_x_user).get(reverse("contracts:list"))
    assert contract.reference.encode() in response.content
    assert other.reference.encode() not in response.content
    response = client_for(world.commissioner_b).get(reverse("contracts:list"))
    assert shown_count(response) == 0
    response = client_for(world.outsider).get(reverse("contracts:list"))
    assert shown_count(response) == 0


def test_it_hides_committee_reports_from_the_provider(world, client_for, contract, settings,
                                                      tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = ContractDocument.objects.create(
        contract=contract, kind="committee_report", original_name="report.pdf", size=10,
        content_type="application/pdf", uploaded_by=world.commissioner_a,
        file=SimpleUploadedFile("x", b"%PDF-1.4 report"),
    )
    signed = ContractDocument.objects.create(
        contract=contract, kind="signed_contract", original_name="Signed.pdf", size=10,
        content_type="application/pdf", uploaded_by=world.commissioner_a,
        file=SimpleUploadedFile("y", b"%PDF-1.4 signed"),
    )
    provider = client_for(world.provider_x_user)
    assert provider.get(report.get_absolute_url()).status_code == 404
    response = provider.get(signed.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="Signed.pdf"')
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    for persona in (world.commissioner_b, world.provider_y_user, world.outsider):
        assert client_for(persona).get(signed.get_absolute_url()).status_code == 404
    assert client_for(world.finance_officer_a).get(report.get_absolute_url()).status_code == 200


def test_it_uploads_a_document_through_the_form(world, client_for, contract, settings,
                                                tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(world.commissioner_a)
    url = reverse("contracts:document_upload", args=[contract.pk])
    response = client.post(url, {"kind": "specification",
                                 "file": SimpleUploadedFile("spec.txt", b"The service will")})
    assert response.status_code == 302
    response = client.post(url, {"kind": "specification",
                                 "file": SimpleUploadedFile("spec.pdf", b"not really")})
    assert response.status_code == 200
    assert "not a real PDF" in response.content.decode()
    assert "govuk-error-summary" in response.content.decode()
    assert ContractDocument.objects.count() == 1


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_register_runs_the_same_number_of_queries_for_3_or_40_contracts(world,
                                                                             client_for):
    client = client_for(world.commissioner_a)
    url = reverse("contracts:list") + "?status=live&sort=-end&expiring_within=24&q=service"
    for _ in range(3):
        full_contract(world)
    small = _queries(client, url)
    for _ in range(37):
        full_contract(world)
    large = _queries(client, url)
    assert small == large
    assert _queries(client, reverse("contracts:list")) == small


def test_the_contract_page_runs_the_same_number_of_queries_whatever_it_holds(world,
                                                                             client_for):
    client = client_for(world.commissioner_a)
    light = full_contract(world)
    small = _queries(client, reverse("contracts:detail", args=[light.pk]))
    heavy = full_contract(world)
    for sequence in range(3, 8):
        ExtensionOptionFactory(contract=heavy, sequence=sequence)
    for _ in range(38):
        full_contract(world)
    large = _queries(client, reverse("contracts:detail", args=[heavy.pk]))
    assert small == large


def test_it_filters_sorts_and_paginates_the_register(world, client_for):
    for index in range(30):
        contract_for(world, reference=f"R-{index:02d}", annual_value=Decimal(index * 1000))
    client = client_for(world.commissioner_a)
    response = client.get(reverse("contracts:list"), {"sort": "-value"})
    assert shown_count(response) == 30
    assert len(listed_references(response)) == 25
    assert listed_references(response)[0] == "R-29"
    response = client.get(reverse("contracts:list"), {"value_band": "under_5k"})
    assert shown_count(response) == 5
    response = client.get(reverse("contracts:list"), {"q": "R-1"})
    assert shown_count(response) == 10
    response = client.get(reverse("contracts:list"), {"provider": "999999", "page": "x"})
    assert response.status_code == 200  # unknown choices are ignored, never a 500


def test_it_refuses_the_second_of_two_edits_from_the_same_version(world, client_for, contract):
    url = reverse("contracts:edit", args=[contract.pk])
    form = client_for(world.commissioner_a).get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["provider"] = contract.provider_id
    data["tendered"] = "on"
    data = {k: ("" if v is None else v) for k, v in data.items()}
    first = client_for(world.commissioner_a).post(url, {**data, "title": "First"})
    assert first.status_code == 302, first.context["form"].errors
    second = client_for(world.icb_commissioner_a).post(url, {**data, "title": "Second"})
    assert second.status_code == 200
    assert "Someone else changed this contract since you opened it" in second.content.decode()
    contract.refresh_from_db()
    assert contract.title == "First"


def test_it_explains_an_illegal_status_change(world, client_for):
    contract = contract_for(world, status=ContractStatus.PLANNED)
    response = client_for(world.commissioner_a).post(
        reverse("contracts:status", args=[contract.pk]),
        {"status": "live", "on": "01/01/2026", "version": contract.version})
    assert response.status_code == 200
    assert "A planned contract cannot go live before it is awarded" in response.content.decode()


@pytest.mark.parametrize("value", ["-£5", "£1,2,3.456", "abc", "1e9", "NaN", "£" * 300])
def test_it_refuses_bad_money_without_a_500(world, client_for, contract, value):
    response = client_for(world.commissioner_a).post(
        reverse("contracts:variation", args=[contract.pk]),
        {"date": "32/01/2025", "description": "x", "value_change": value,
         "term_change_months": "lots"})
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()


def test_it_adds_a_contract_through_the_journey_and_check_your_answers(world, client_for):
    client = client_for(world.commissioner_a)
    assert client.get(reverse("contracts:create")).status_code == 302

    def post(step, data):
        return client.post(reverse("contracts:create_step", args=[step]), data)

    # A later page cannot be reached first.
    response = client.get(reverse("contracts:create_step", args=["values"]))
    assert response["Location"].endswith("/details/")
    assert post("details", {"reference": "", "title": "", "service_area": "x"}).status_code \
        == 200
    assert post("details", {"reference": "BW-1", "title": "Bromley Well",
                            "service_area": "carers"}).status_code == 302
    response = post("parties", {"partnership": world.partnership_a.pk,
                                "holder": world.council_b.pk,
                                "lead_commissioner": world.council_a.pk,
                                "provider": world.provider_x.pk})
    assert "Select a contract holder from the list" in response.content.decode()
    assert post("parties", {"partnership": world.partnership_a.pk,
                            "holder": world.council_a.pk,
                            "lead_commissioner": world.icb_a.pk,
                            "provider": world.provider_x.pk,
                            "contract_manager": world.contract_manager_a.pk}).status_code == 302
    assert post("procurement", {"procurement_regime": "pcr_2015",
                                "procurement_route": "pcr_competitive_dialogue",
                                "tendered": "yes", "status": "live"}).status_code == 302
    response = post("dates", {"start_date": "01/10/2017", "initial_end_date": "30/09/2016",
                              "notice_period_months": "6", "extension_options": "12, 12"})
    assert "The end date must be the same as or after the start date" in \
        response.content.decode()
    assert post("dates", {"start_date": "01/10/2017", "initial_end_date": "30/09/2020",
                          "notice_period_months": "6",
                          "extension_options": "12, 12"}).status_code == 302
    response = post("values", {"annual_value": "-£1", "vat_not_recoverable": ""})
    assert "The annual value must be £0 or more" in response.content.decode()
    assert post("values", {"annual_value": "£2,700,000.00",
                           "vat_not_recoverable": ""}).status_code == 302
    assert post("service-lines", {"service_lines": "Carers' Support Services\n\n"
                                                   "Dementia Support Services"}).status_code \
        == 302
    response = post("shares", {f"share_{world.council_a.pk}": "70",
                               f"share_{world.icb_a.pk}": "20"})
    assert "The shares must add up to 100%. They add up to 90%" in response.content.decode()
    assert Contract.objects.count() == 0
    response = post("shares", {f"share_{world.council_a.pk}": "70",
                               f"monitor_{world.council_a.pk}": "on",
                               f"share_{world.icb_a.pk}": "30",
                               f"monitor_{world.icb_a.pk}": "on"})
    assert response["Location"] == reverse("contracts:create_check")
    check = client.get(reverse("contracts:create_check"))
    text = check.content.decode()
    assert "Check your answers" in text
    assert "£13,500,000.00" in text  # whole-life value, 3 + 2 years
    assert reverse("contracts:create_step", args=["values"]) + "?change=1" in text
    assert Contract.objects.count() == 0  # nothing saved before confirming
    response = client.post(reverse("contracts:create_check"))
    contract = Contract.objects.get()
    assert response["Location"] == contract.get_absolute_url()
    assert contract.contract_manager == world.contract_manager_a
    assert contract.service_lines.count() == 2
    assert contract.shares.count() == 2
    assert contract.current_end_date == date(2020, 9, 30)
    # The same answers again hit the duplicate reference: shown on check your answers.
    client.get(reverse("contracts:create"))
    session = client.session
    assert "contract_create" in session


def test_it_shows_a_duplicate_reference_on_check_your_answers(world, client_for):
    contract_for(world, reference="DUP-9")
    client = client_for(world.commissioner_a)
    client.get(reverse("contracts:create"))
    steps = {
        "details": {"reference": "DUP-9", "title": "Copy", "service_area": "carers"},
        "parties": {"partnership": world.partnership_a.pk, "holder": world.council_a.pk,
                    "lead_commissioner": world.council_a.pk, "provider": world.provider_x.pk},
        "procurement": {"procurement_regime": "grant", "procurement_route": "grant",
                        "tendered": "no", "status": "planned"},
        "dates": {"start_date": "1/4/2026", "initial_end_date": "31/3/2027",
                  "notice_period_months": "0", "extension_options": ""},
        "values": {"annual_value": "5000", "vat_not_recoverable": "0"},
        "service-lines": {"service_lines": ""},
        "shares": {f"share_{world.council_a.pk}": "100"},
    }
    for step, data in steps.items():
        assert client.post(reverse("contracts:create_step", args=[step]), data).status_code \
            == 302
    response = client.post(reverse("contracts:create_check"))
    assert response.status_code == 200
    assert "already has a contract with reference DUP-9" in response.content.decode()
    assert Contract.objects.count() == 1


def test_it_refuses_a_zip_bomb_document_next_to_the_file_field(world, client_for, contract,
                                                                settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(world.commissioner_a)
    url = reverse("contracts:document_upload", args=[contract.pk])
    assert 'name="file"' in client.get(url).content.decode()
    response = client.post(url, {"kind": "specification", "file": SimpleUploadedFile(
        "spec.docx", hostile.zip_bomb_docx(150))})
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body and "govuk-error-message" in body
    assert "The selected file is too large when uncompressed" in body
    assert not ContractDocument.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
