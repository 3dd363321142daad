"""The NHS-numbers upload follows the return it belongs to: an accepted (locked) return offers
no upload and refuses one with a clear message, saving nothing (issue 14 item 5)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.tests.factories import contract_for
from monitoring.models import ServiceUserList
from monitoring.services import returns as return_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter


def test_it_offers_and_takes_no_nhs_numbers_for_an_accepted_return(world, client_for):
    contract = contract_for(world, reference="BW-001", title="Bromley Well")
    kpi_with_target(contract, code="BW1", name="People supported", evidence_required=False)
    period = quarter()
    ret = fill_and_submit(contract, period, world.provider_x_user)
    return_services.return_accept(performance_return=ret, expected_version=ret.version,
                                  accepted_by=world.commissioner_a)
    client = client_for(world.provider_x_user)
    url = reverse("monitoring:service_users_upload", args=[contract.pk, period.code])
    page = client.get(url).content.decode()
    assert 'type="file"' not in page
    assert "return was accepted and is locked" in page
    response = client.post(url, {"file": SimpleUploadedFile(
        "n.csv", b"NHS number\n943 476 5919\n", content_type="text/csv")})
    assert response.status_code == 200
    assert "return was accepted and is locked" in response.content.decode()
    assert not ServiceUserList.objects.exists()
