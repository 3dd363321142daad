import pytest
from django.core import mail

from commissioning.models import Invitation, Membership, Role
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


def test_it_shows_a_partnership_only_to_its_members(world, client_for):
    url = f"/partnerships/{world.partnership_a.pk}/"
    assert client_for(world.commissioner_a).get(url).status_code == 200
    assert client_for(world.icb_commissioner_a).get(url).status_code == 200
    assert client_for(world.staff_admin).get(url).status_code == 200
    for user in (world.commissioner_b, world.provider_x_user, world.outsider):
        response = client_for(user).get(url)
        assert response.status_code == 404
        assert world.partnership_a.name not in response.content.decode()


def test_it_answers_malformed_and_unknown_ids_with_not_found(world, client_for):
    client = client_for(world.commissioner_a)
    for url in ("/partnerships/abc/", "/partnerships/99999999/", "/history/nope.model/1/",
                "/history/commissioning.partnership/99999/", "/partnerships/-1/"):
        assert client.get(url).status_code == 404


def test_it_shows_history_only_to_those_who_may_see_the_object(world, client_for):
    world.partnership_a.board_name = "Health and Wellbeing Board"
    world.partnership_a.save()
    url = f"/history/commissioning.partnership/{world.partnership_a.pk}/"
    page = client_for(world.commissioner_a).get(url).content.decode()
    assert "History of changes" in page and "Health and Wellbeing Board" in page
    assert client_for(world.commissioner_b).get(url).status_code == 404


def test_it_lets_a_user_switch_only_to_their_own_organisations(world, client_for):
    Membership.objects.create(user=world.commissioner_a, organisation=world.icb_a,
                              role=Role.READ_ONLY)
    client = client_for(world.commissioner_a)
    assert client.post("/organisation/switch/", {"organisation": world.icb_a.pk}).status_code \
        == 302
    assert "NHS South East London ICB" in client.get("/account/").content.decode()
    refused = client.post("/organisation/switch/", {"organisation": world.council_b.pk})
    assert refused.status_code == 400
    assert "Select an organisation you belong to" in refused.content.decode()
    garbage = client.post("/organisation/switch/", {"organisation": "'; drop table"})
    assert garbage.status_code == 400


class TestPeople:
    def test_it_lets_only_administrators_invite(self, world, client_for):
        for user in (world.commissioner_a, world.provider_x_user, world.finance_officer_a,
                     world.outsider):
            assert client_for(user).get("/people/invite/").status_code == 404
        assert client_for(world.partnership_admin_a).get("/people/invite/").status_code == 200
        assert client_for(world.staff_admin).get("/people/invite/").status_code == 200

    def test_it_validates_every_field_and_saves_nothing_on_error(self, world, client_for):
        client = client_for(world.partnership_admin_a)
        response = client.post("/people/invite/", {"full_name": "", "email": "not-an-email",
                                                   "organisation": world.council_b.pk,
                                                   "role": "emperor"})
        body = response.content.decode()
        assert "There is a problem" in body
        for message in ("Enter the person&#x27;s full name",
                        "Enter an email address in the correct format",
                        "Select an organisation from the list", "Select a role from the list"):
            assert message in body
        assert not Invitation.objects.exists()
        assert not mail.outbox

    def test_it_refuses_a_provider_role_in_a_council(self, world, client_for):
        # A platform administrator is offered every role (a partnership administrator only
        # the commissioner-side ones), so the form's fit check is theirs to meet.
        response = client_for(world.staff_admin).post("/people/invite/", {
            "full_name": "Al Wrong", "email": "al@example.org",
            "organisation": world.council_a.pk, "role": Role.PROVIDER_SUBMITTER})
        assert "Select a role that fits" in response.content.decode()
        assert not Invitation.objects.exists()

    def test_it_invites_into_a_partner_organisation_but_never_a_provider(self, world,
                                                                          client_for):
        """Issue 13: a provider's people are managed by its approver (or, for its first
        person, a platform administrator), even when it works for the partnership."""
        contract_for(world)  # provider X works for partnership A
        client = client_for(world.partnership_admin_a)
        response = client.post("/people/invite/", {
            "full_name": "New Person", "email": "new.icb@example.org",
            "organisation": world.icb_a.pk, "role": Role.COMMISSIONER})
        assert response.status_code == 302
        response = client.post("/people/invite/", {
            "full_name": "New Person", "email": "new.x@example.org",
            "organisation": world.provider_x.pk, "role": Role.PROVIDER_SUBMITTER})
        assert "Select an organisation from the list" in response.content.decode()
        assert Invitation.objects.count() == 1

    def test_it_never_gives_a_role_at_a_provider_of_another_partnership(self, world,
                                                                        client_for):
        """Provider Y works only for partnership B: a role there would open B's contracts,
        returns and documents to partnership A's administrator (or whoever they chose)."""
        contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                     lead_commissioner=world.council_b, provider=world.provider_y)
        client = client_for(world.partnership_admin_a)
        for email in ("padmin.a@example.org", "someone.new@example.org"):
            response = client.post("/people/invite/", {
                "full_name": "Pat Admin", "email": email,
                "organisation": world.provider_y.pk, "role": Role.PROVIDER_APPROVER})
            assert response.status_code == 200
            assert "Select an organisation from the list" in response.content.decode()
        assert not Invitation.objects.exists()
        assert not Membership.objects.filter(organisation=world.provider_y,
                                             user=world.partnership_admin_a).exists()
        assert "Yusuf Provider" not in client.get("/people/").content.decode()

    def test_it_lists_only_people_an_administrator_may_see(self, world, client_for):
        page = client_for(world.partnership_admin_a).get("/people/").content.decode()
        assert "Cara Commissioner" in page and "Ian ICB" in page
        assert "Bea Merton" not in page
        own = client_for(world.provider_y_user).get("/people/").content.decode()
        assert "Yusuf Provider" in own and "Xena Provider" not in own


def test_it_reports_health_without_signing_in(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_it_keeps_the_accessibility_statement_public(client):
    assert client.get("/accessibility/").status_code == 200


def test_it_shows_gov_uk_error_pages(world, client_for):
    response = client_for(world.commissioner_a).get("/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_it_names_the_partnership_in_the_header_and_never_uses_the_crown(world, client_for):
    page = client_for(world.commissioner_a).get("/").content.decode()
    assert "Bromley Council and NHS South East London ICB" in page
    assert "govuk-header__logotype" not in page
    assert "GDS Transport" not in page
