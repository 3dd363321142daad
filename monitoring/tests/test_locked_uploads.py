"""An accepted, locked return offers no uploads and refuses one without reading the file
(issue 20, item 4)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.tests.factories import contract_for
from monitoring.models import Evidence, ReturnValue
from monitoring.services import returns as return_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def accepted(world):
    contract = contract_for(world, reference="BW-001", title="Bromley Well")
    kpi_with_target(contract, code="BW1", name="People supported", evidence_required=False)
    period = quarter()
    ret = fill_and_submit(contract, period, world.provider_x_user)
    return_services.return_accept(performance_return=ret, expected_version=ret.version,
                                  accepted_by=world.commissioner_a)
    return world, contract, period


def url(name, contract, period):
    return reverse(f"monitoring:{name}", args=[contract.pk, period.code])


def test_it_offers_no_upload_on_an_accepted_return(accepted, client_for):
    world, contract, period = accepted
    client = client_for(world.provider_x_user)
    page = client.get(url("return_form", contract, period)).content.decode()
    assert "accepted this return" in page
    assert url("return_upload", contract, period) not in page
    assert url("evidence_upload", contract, period) not in page
    for name in ("return_upload", "evidence_upload"):
        upload_page = client.get(url(name, contract, period)).content.decode()
        assert 'type="file"' not in upload_page, name
        assert "return was accepted and is locked" in upload_page, name


def test_it_refuses_an_upload_to_a_locked_return_as_locked_not_as_a_file_problem(
        accepted, client_for):
    world, contract, period = accepted
    client = client_for(world.provider_x_user)
    before = list(ReturnValue.objects.values_list("value", "commentary"))
    sheet = SimpleUploadedFile("return.csv", b"kpi_code,value,numerator,denominator\nBW1,5,,\n",
                               content_type="text/csv")
    response = client.post(url("return_upload", contract, period), {"file": sheet})
    text = response.content.decode()
    assert response.status_code == 200
    assert "return was accepted and is locked" in text
    assert "The file has" not in text and "problem" not in text
    evidence = SimpleUploadedFile("evidence.pdf", PDF, content_type="application/pdf")
    response = client.post(url("evidence_upload", contract, period), {"file": evidence})
    text = response.content.decode()
    assert "return was accepted and is locked" in text
    assert "govuk-error-summary" not in text  # not presented as a problem with the file
    assert not Evidence.objects.exists()
    assert list(ReturnValue.objects.values_list("value", "commentary")) == before
