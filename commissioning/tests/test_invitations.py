"""Who may give whom a role, and how a role is accepted (issue 13, finding 1).

The rule (``commissioning.access``, "Who may give whom a role"): a partnership administrator
invites to the commissioning organisations of their partnerships only; a provider's approver
to that provider only; a platform administrator anywhere (a provider's first person). Nobody
is given a role without accepting it, signed in as the account it is for.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commissioning import services
from commissioning.models import Invitation, Membership, Role
from commissioning.tests.factories import ProviderFactory, UserFactory
from commissioning.tests.page_forms import rendered_form
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db

PASSWORD = "Bromley-well-2026!"


def invite_through_the_page(client: Client, capture, **answers: str):
    page = client.get(reverse("invite"))
    assert page.status_code == 200
    form = rendered_form(page.content.decode())
    with capture(execute=True):
        return client.post(reverse("invite"), form.with_changes(**answers))


def link_for(address: str) -> str:
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no e-mail to {address}"
    return re.search(r"/invitation/[\w-]+/", bodies[-1]).group(0)


def test_it_gives_an_existing_account_nothing_until_it_accepts_signed_in(
        world, client_for, django_capture_on_commit_callbacks):
    admin = client_for(world.partnership_admin_a)
    response = invite_through_the_page(
        admin, django_capture_on_commit_callbacks, full_name="Ian ICB",
        email="ICB.A@example.org", organisation=str(world.council_a.pk), role=Role.READ_ONLY)
    assert response.status_code == 302
    granted = Membership.objects.filter(user=world.icb_commissioner_a,
                                        organisation=world.council_a)
    assert not granted.exists(), "an existing account was given the role at once"
    assert "You already have an account" in mail.outbox[-1].body
    link = link_for("icb.a@example.org")

    # Opening the link signed out asks for a sign-in, never for a new password.
    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "Sign in to accept" in page and "new_password1" not in page
    anonymous.post(link, {"new_password1": "Taken-over-2026!", "new_password2":
                          "Taken-over-2026!"})
    world.icb_commissioner_a.refresh_from_db()
    assert not world.icb_commissioner_a.check_password("Taken-over-2026!")
    assert not granted.exists()

    # Someone else signed in cannot accept it for them.
    other = client_for(world.commissioner_a)
    assert "This invitation is for icb.a@example.org" in other.get(link).content.decode()
    other.post(link, {})
    assert not granted.exists()
    assert not Membership.objects.filter(user=world.commissioner_a, role=Role.READ_ONLY).exists()

    # The person it is for accepts it, signed in.
    invitee = client_for(world.icb_commissioner_a)
    page = invitee.get(link)
    form = rendered_form(page.content.decode())
    response = invitee.post(link, form.data)
    assert response.status_code == 302
    assert granted.filter(role=Role.READ_ONLY, is_active=True).exists()
    assert invitee.get(reverse("dashboard")).context["request"].user.current_organisation \
        == world.council_a
    assert invitee.get(link).status_code == 410  # used once


def test_it_sends_a_signed_out_invitee_with_an_account_to_sign_in_and_back(
        world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=world.partnership_admin_a, email="icb.a@example.org",
                                   full_name="Ian ICB", organisation=world.council_a,
                                   role=Role.READ_ONLY)
    link = link_for("icb.a@example.org")
    page = client.get(link).content.decode()
    sign_in = re.search(r'href="([^"]+)"[^>]*>Sign in to accept', page).group(1)
    assert sign_in == reverse("login") + "?next=" + link.replace("/", "%2F")


def test_it_never_sets_an_existing_accounts_password_through_a_link(
        world, django_capture_on_commit_callbacks):
    """An invitation sent before the person had an account: once they have one, the link no
    longer creates or changes a password."""
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=world.partnership_admin_a,
                                   email="late@example.org", full_name="Late Person",
                                   organisation=world.council_a, role=Role.COMMISSIONER)
    person = UserFactory(email="late@example.org")
    person.set_password("Their-own-2026!")
    person.save()
    with pytest.raises(services.InvitationError):
        token = link_for("late@example.org").split("/")[2]
        services.invitation_accept(token=token, password=PASSWORD)
    person.refresh_from_db()
    assert person.check_password("Their-own-2026!")
    assert not Membership.objects.filter(user=person).exists()


def test_it_lets_a_partnership_administrator_invite_only_to_its_commissioning_organisations(
        world, client_for, django_capture_on_commit_callbacks):
    contract_for(world)  # provider X works for partnership A
    admin = client_for(world.partnership_admin_a)
    form = rendered_form(admin.get(reverse("invite")).content.decode())
    assert form.offered("organisation") == [world.council_a.name, world.icb_a.name]
    assert set(form.offered("role")) == {"Commissioner", "Contract manager", "Finance officer",
                                         "Report officer", "Read only",
                                         "Partnership administrator"}
    for organisation in (world.provider_x, world.provider_y, world.council_b):
        response = invite_through_the_page(
            admin, django_capture_on_commit_callbacks, full_name="Pat Admin",
            email=world.partnership_admin_a.email, organisation=str(organisation.pk),
            role=Role.PROVIDER_APPROVER if not organisation.is_commissioner
            else Role.COMMISSIONER)
        assert response.status_code == 200
        assert "Select an organisation from the list" in response.content.decode()
    assert not Invitation.objects.exists()
    # The service refuses it too, whichever form calls it.
    with pytest.raises(services.InvitationError):
        services.invitation_create(invited_by=world.partnership_admin_a,
                                   email="someone@example.org", full_name="Someone",
                                   organisation=world.provider_x,
                                   role=Role.PROVIDER_APPROVER)
    # People: only the commissioning organisations' people.
    people = admin.get(reverse("people")).content.decode()
    assert world.provider_x_user.email not in people
    assert world.commissioner_a.email in people


def test_it_lets_a_providers_approver_manage_the_providers_people(
        world, client_for, django_capture_on_commit_callbacks):
    approver = client_for(world.provider_x_approver)
    form = rendered_form(approver.get(reverse("invite")).content.decode())
    assert form.offered("organisation") == [world.provider_x.name]
    assert form.offered("role") == ["Provider submitter", "Provider approver"]
    response = invite_through_the_page(
        approver, django_capture_on_commit_callbacks, full_name="New Colleague",
        email="colleague@example.org", organisation=str(world.provider_x.pk),
        role=Role.PROVIDER_SUBMITTER)
    assert response.status_code == 302
    people = approver.get(reverse("people")).content.decode()
    assert "New Colleague" in people and world.provider_x_user.email in people
    assert world.commissioner_a.email not in people
    response = invite_through_the_page(
        approver, django_capture_on_commit_callbacks, full_name="New Colleague",
        email="colleague@example.org", organisation=str(world.council_a.pk),
        role=Role.PROVIDER_SUBMITTER)
    assert "Select an organisation from the list" in response.content.decode()
    # A submitter does not manage people.
    assert client_for(world.provider_x_user).get(reverse("invite")).status_code == 404


def test_it_lets_a_platform_administrator_invite_a_providers_first_person(
        world, client_for, django_capture_on_commit_callbacks):
    newcomer = ProviderFactory(name="Brand New Care CIC")
    staff = client_for(world.staff_admin)
    response = invite_through_the_page(
        staff, django_capture_on_commit_callbacks, full_name="First Person",
        email="first@example.org", organisation=str(newcomer.pk),
        role=Role.PROVIDER_APPROVER)
    assert response.status_code == 302
    page = Client().get(link_for("first@example.org"))
    form = rendered_form(page.content.decode())
    response = Client().post(link_for("first@example.org"), form.with_changes(
        new_password1=PASSWORD, new_password2=PASSWORD))
    assert response.status_code == 302
    assert Membership.objects.filter(user__email="first@example.org", organisation=newcomer,
                                     role=Role.PROVIDER_APPROVER).exists()


def test_it_revokes_provider_invitations_that_nobody_inside_the_provider_sent(world):
    """Invitations a partnership administrator could send into a provider before the rule
    changed are revoked by migration 0004; the others stay usable."""
    migration = import_module(
        "commissioning.migrations.0004_revoke_provider_invitations_from_commissioners")

    def invitation(by, organisation, role):
        _token, token_hash = Invitation.new_token()
        return Invitation.objects.create(
            email=f"{by.pk}.{organisation.pk}@example.org", full_name="Someone",
            organisation=organisation, role=role, token_hash=token_hash, invited_by=by,
            expires_at=timezone.now() + timedelta(days=7))

    from_admin = invitation(world.partnership_admin_a, world.provider_y, Role.PROVIDER_APPROVER)
    from_inside = invitation(world.provider_x_approver, world.provider_x, Role.PROVIDER_SUBMITTER)
    from_desk = invitation(world.staff_admin, world.provider_y, Role.PROVIDER_APPROVER)
    to_council = invitation(world.partnership_admin_a, world.council_a, Role.COMMISSIONER)
    migration.revoke(apps, None)
    assert not Invitation.objects.pending().filter(pk=from_admin.pk).exists()
    assert Invitation.objects.pending().filter(
        pk__in=[from_inside.pk, from_desk.pk, to_council.pk]).count() == 3
