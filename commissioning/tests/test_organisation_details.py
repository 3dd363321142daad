"""An organisation's identifiers, address and contact point are kept on its details page,
checked per scheme, and only by whoever manages its people."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commissioning.models import Organisation

pytestmark = pytest.mark.django_db

GOOD = {"ppon": "pabc-1234-defg", "registration_scheme": "", "registration_number": "",
        "ods_code": "", "local_authority_code": "cam", "street_address": "Shire Hall",
        "locality": "Cambridge", "postal_code": "cb3 0ap", "contact_name": "Procurement team",
        "contact_email": "procurement@example.gov.uk", "contact_telephone": "01223 000000"}


def fields_on_page(html: str) -> set[str]:
    return {name for name in GOOD if f'name="{name}"' in html}


def test_it_saves_an_organisations_identifiers_address_and_contact(world, client_for):
    client = client_for(world.partnership_admin_a)
    url = reverse("organisation_details", args=[world.council_a.pk])
    page = client.get(url).content.decode()
    assert fields_on_page(page) == set(GOOD)
    response = client.post(url, GOOD)
    assert response.status_code == 302
    council = Organisation.objects.get(pk=world.council_a.pk)
    assert (council.ppon, council.local_authority_code, council.postal_code) == (
        "PABC-1234-DEFG", "CAM", "CB3 0AP")
    assert council.identifiers == [("GB-PPON", "PABC-1234-DEFG"), ("GB-LAE", "CAM")]
    assert council.history.count() >= 2


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"ppon": "12345"}, "ppon", "Enter the PPON in the right format, like PABC-1234-DEFG"),
    ({"registration_scheme": "GB-COH", "registration_number": "12"}, "registration_number",
     "Enter the Companies House number in the right format, like 01234567 or SC123456"),
    ({"registration_scheme": "GB-CHC", "registration_number": "ABC"}, "registration_number",
     "Enter the charity number in the right format, like 1123456"),
    ({"registration_number": "01234567"}, "registration_scheme",
     "Select which register the number is from"),
    ({"local_authority_code": "C4M"}, "local_authority_code",
     "Enter the local authority code in the right format, like CAM"),
    ({"contact_email": "not an email"}, "contact_email",
     "Enter an email address in the correct format, like name@example.org"),
])
def test_it_refuses_a_malformed_identifier_next_to_its_field(world, client_for, changes, field,
                                                            message):
    client = client_for(world.partnership_admin_a)
    url = reverse("organisation_details", args=[world.council_a.pk])
    response = client.post(url, {**GOOD, **changes})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and f'href="#id_{field}"' in html
    assert Organisation.objects.get(pk=world.council_a.pk).ppon == ""


@pytest.mark.parametrize("persona", ["commissioner_a", "commissioner_b", "outsider",
                                     "provider_x_user"])
def test_it_refuses_whoever_does_not_manage_the_organisations_people(world, client_for,
                                                                     persona):
    client = client_for(getattr(world, persona))
    url = reverse("organisation_details", args=[world.council_a.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, GOOD).status_code == 404
