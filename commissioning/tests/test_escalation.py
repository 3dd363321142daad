"""No escalation: the property, tested the way an attacker would try to break it.

    No sequence of actions open to users of an organisation, in any role including
    partnership administrator, gives any user access to data of a contract, framework,
    agreement or partnership that organisation is not party to.

The attackers are partnership A's administrator, one of its commissioners and the approver of
A's provider (a provider-side administrator). Through the
product's own pages (forms rendered and filled in as shown, and then tampered with the way a
person editing the HTML would) they try every action that changes who may see what:
invitations and role grants (to themselves and to an address they control, into every
organisation the page offers and into the ones it does not), accepting invitations with an
existing account, changing a contract's provider and shares, framework applications,
admissions and call-offs, and switching organisation. Then every account they control, acting
as every organisation it belongs to, runs the access matrix's checks
(``test_access_matrix.ACCESS``) over every object of partnership B, whose provider also applied
to one of partnership A's frameworks: each must be refused, and no page or export may show a
word of partnership B's.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from commissioning.access import user_organisations
from commissioning.models import Membership, Organisation, Role, User
from commissioning.tests.page_forms import rendered_form
from contracts.frameworks.models import FrameworkParty, ProviderApplication
from contracts.frameworks.tests.factories import admit, framework_for
from contracts.models import CommissioningShare, Contract
from contracts.tests.factories import contract_for
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db


def fill(client: Client, url: str, **changes: str):
    """Open a form page, keep what it shows, change the named fields, submit it."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    form = rendered_form(page.content.decode())
    return client.post(form.action or url, form.with_changes(**changes))


def invitation_links(address: str) -> list[str]:
    return [m.group(0) for message in mail.outbox if address in message.to
            for m in [re.search(r"/invitation/[\w-]+/", message.body)] if m]


def _b_world(world):
    """Partnership B's contract with provider Y, a submitted return and its evidence."""

    contract = contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                            lead_commissioner=world.council_b, provider=world.provider_y,
                            reference="BRAVO-ONLY-1", title="Bravo only service")
    kpi_with_target(contract)
    performance_return = fill_and_submit(contract, quarter(), world.provider_y_user)
    return SimpleNamespace(contract=contract, performance_return=performance_return)


def _what_of_b_it_reaches(client: Client, b) -> list[str]:
    """What of partnership B's the client can reach, whichever organisation it acts as."""
    leaks = []

    user = User.objects.get(pk=client.session["_auth_user_id"])
    for organisation in user_organisations(user):
        client.post(reverse("switch_organisation"), {"organisation": organisation.pk})
        for url in (reverse("contracts:detail", args=[b.contract.pk]),
                    reverse("monitoring:return_list"), reverse("contracts:list")):
            page = client.get(url)
            if page.status_code == 200 and "BRAVO-ONLY-1" in page.content.decode():
                leaks.append(f"{user.email} as {organisation}: {url}")
    return leaks


@pytest.mark.parametrize("link", ["a contract", "a framework application"])
def test_it_never_lets_a_partnership_administrator_into_a_provider(world, client_for,
                                                                 django_capture_on_commit_callbacks,
                                                                 link):
    """Findings 1 (a) and (b): the provider becomes linked to partnership A (by putting it on
    A's contract, or because it applied to A's framework); A's administrator then tries to
    grant themselves a role there, and must not reach B's contract through it."""

    b = _b_world(world)
    attacker = client_for(world.partnership_admin_a)
    if link == "a contract":
        contract = contract_for(world)
        response = fill(attacker, reverse("contracts:edit", args=[contract.pk]),
                        provider=str(world.provider_y.pk))
        assert response.status_code == 200, "the provider of another partnership was accepted"
        assert "Select a provider from the list" in response.content.decode()
        contract.refresh_from_db()
        assert contract.provider == world.provider_x
    else:
        admit(world.provider_y, framework_for(world).lots.first(), decision="pending")

    invite = attacker.get(reverse("invite"))
    offered = rendered_form(invite.content.decode()).offered("organisation")
    assert world.provider_y.name not in offered
    assert not [name for name in offered if name in (world.provider_x.name,)]
    with django_capture_on_commit_callbacks(execute=True):
        response = fill(attacker, reverse("invite"), full_name="Pat Admin",
                        email=world.partnership_admin_a.email,
                        organisation=str(world.provider_y.pk), role=Role.PROVIDER_APPROVER)
    assert response.status_code == 200
    assert "Select an organisation from the list" in response.content.decode()
    assert not Membership.objects.filter(user=world.partnership_admin_a,
                                         organisation=world.provider_y).exists()
    assert not _what_of_b_it_reaches(client_for(world.partnership_admin_a), b)


# --- The whole property, every action, the whole matrix ----------------------------------------

from commissioning.tests import test_access_matrix as matrix  # noqa: E402

# The matrix's fixtures (its two partnerships' objects of every kind), used as they are.
sides = matrix.sides
if hasattr(matrix, "partner_not_party"):
    partner_not_party = matrix.partner_not_party

ALT = "attacker.alt@example.org"  # an address the attacker controls, with no account yet
TRIED: list[str] = []


class Attempts:
    """Every privilege-changing request the attacker makes, counted."""

    def __init__(self) -> None:
        self.tried: list[str] = []
        self.accepted: list[str] = []  # answered with a redirect: the product took it

    def _note(self, what: str, response) -> None:
        if response.status_code == 302 and "/sign-in/" not in response.get("Location", ""):
            self.accepted.append(what)

    def fill(self, client: Client, url: str, what: str, extra: dict | None = None,
             **changes: str):
        """As ``fill``, plus fields the page does not have (a tampered request)."""
        self.tried.append(what)
        page = client.get(url)
        if page.status_code != 200:
            return page  # refused before any form: counted, nothing to submit
        form = rendered_form(page.content.decode())
        data = {**form.data, **changes, **(extra or {})}
        response = client.post(form.action or url, data)
        self._note(what, response)
        return response

    def post(self, client: Client, url: str, what: str, data: dict):
        self.tried.append(what)
        response = client.post(url, data)
        self._note(what, response)
        return response


def _attack(world, sides, client_for, capture, attempts: Attempts) -> None:
    """Everything partnership A's administrator and commissioner, and the approver of A's
    provider, can try through the pages."""

    a, b = sides["A"], sides["B"]
    every_org = list(Organisation.objects.all())
    for attacker_user in (world.partnership_admin_a, world.commissioner_a,
                          world.provider_x_approver):
        attacker = client_for(attacker_user)
        # 1. Invitations and role grants: every organisation offered and every other one, every
        #    role, to themselves and to an address they control.
        offered = set()
        page = attacker.get(reverse("invite"))
        if page.status_code == 200:
            form = rendered_form(page.content.decode())
            offered = {value for value, _label in form.options["organisation"] if value}
        for organisation in every_org:
            for role in Role.values:
                for address in (attacker_user.email, ALT):
                    with capture(execute=True):
                        attempts.fill(attacker, reverse("invite"),
                                      f"invite {address} to {organisation} as {role}"
                                      + ("" if str(organisation.pk) in offered else
                                         " (tampered)"),
                                      full_name="Attacker", email=address,
                                      organisation=str(organisation.pk), role=role)
        # 2. Accepting every invitation that reached them: with their existing account, signed
        #    in, and as a new account at the address they control.
        for link in invitation_links(attacker_user.email):
            attempts.fill(attacker, link, f"accept {link} signed in as {attacker_user.email}")
            attempts.post(Client(), link, f"accept {link} signed out with a password",
                          {"new_password1": "Attacker-2026-pass", "new_password2":
                           "Attacker-2026-pass"})
        for link in invitation_links(ALT):
            attempts.post(Client(), link, f"accept {link} as a new account",
                          {"new_password1": "Attacker-2026-pass",
                           "new_password2": "Attacker-2026-pass"})
        # 3. A contract's provider, parties and shares: every provider on the service, and
        #    partnership B's organisations as holder, lead and sharers.
        edit = reverse("contracts:edit", args=[a.contract.pk])
        for organisation in every_org:
            a.contract.refresh_from_db()
            attempts.fill(attacker, edit, f"provider of {a.contract.reference} := {organisation}",
                          provider=str(organisation.pk), version=str(a.contract.version))
        for organisation in (world.council_b, world.icb_b):
            attempts.fill(attacker, reverse("contracts:shares", args=[a.contract.pk]),
                          f"share of {a.contract.reference} to {organisation} (tampered)",
                          extra={f"share_{organisation.pk}": "50",
                                 f"monitor_{organisation.pk}": "on"})
            attempts.fill(attacker, edit, f"holder of {a.contract.reference} := {organisation}",
                          extra={"holder": str(organisation.pk),
                                 "lead_commissioner": str(organisation.pk)})
        # 4. Frameworks: admit partnership B's provider (it applied to A's framework), make
        #    B's organisations parties, and call off from the lot with B's provider.
        for application in a.lot.applications.all():
            attempts.fill(attacker, reverse("contracts:application_evaluate",
                                            args=[application.pk]),
                          f"admit {application.provider} to {a.lot}",
                          submitted_on="4/1/2021", evaluation="met", evaluated_on="1/3/2021",
                          decision="admit", framework_agreement_date="1/4/2021")
        attempts.fill(attacker, reverse("contracts:framework_edit", args=[a.framework.pk]),
                      f"parties of {a.framework.reference} += partnership B (tampered)",
                      extra={"parties": [str(world.council_a.pk), str(world.icb_a.pk),
                                         str(world.council_b.pk), str(world.icb_b.pk)]})
        attempts.fill(attacker, reverse("contracts:call_off_create",
                                        args=[a.framework.pk, a.lot.pk]),
                      f"call off {a.lot} with {world.provider_y}",
                      reference=f"ATTACK-{attacker_user.pk}", title="Attack call-off",
                      service_area="carers", award_method="direct_award",
                      direct_award_justification="Test", provider=str(world.provider_y.pk),
                      called_off_on="1/5/2022", start_date="1/6/2022",
                      initial_end_date="31/5/2023", annual_value="1000",
                      lead_commissioner=str(world.council_a.pk),
                      funding_arrangement="own_budget",
                      extra={f"share_{world.council_a.pk}": "100",
                             f"share_{world.council_b.pk}": "50"})
        # ...and as B's side: apply to B's framework, evaluate B's application.
        attempts.fill(attacker, reverse("contracts:framework_apply", args=[b.framework.pk]),
                      f"apply to {b.framework.reference}")
        attempts.fill(attacker, reverse("contracts:application_evaluate",
                                        args=[b.application.pk]),
                      f"admit {b.application.provider} to {b.lot}",
                      evaluation="met", decision="admit")
        # 5. Organisation switching: to every organisation on the service.
        for organisation in every_org:
            attempts.post(attacker, reverse("switch_organisation"),
                          f"switch to {organisation}", {"organisation": organisation.pk})


def _identities(world) -> list[tuple[object, object]]:
    """Every (account, organisation) the attackers can act as after the attack."""

    accounts = [world.partnership_admin_a, world.commissioner_a, world.provider_x_approver,
                *User.objects.filter(email=ALT)]
    pairs = []
    for account in accounts:
        account = User.objects.get(pk=account.pk)
        pairs += [(account, organisation) for organisation in user_organisations(account)]
    return pairs


def test_no_sequence_of_actions_gives_an_attacker_another_partnerships_data(
        world, sides, client_for, django_capture_on_commit_callbacks):
    """The property in the module docstring, with partnership B's provider linked to
    partnership A by an application to A's framework (finding 1 (b)) and free to be named on
    A's contracts (finding 1 (a))."""

    b = sides["B"]
    admit(world.provider_y, sides["A"].lot, decision="pending")
    attempts = Attempts()
    _attack(world, sides, client_for, django_capture_on_commit_callbacks, attempts)

    foreign = list(b.markers)
    # B's provider is free to apply to A's frameworks (finding 1 (b)) and to be named on A's
    # contracts (finding 1 (a)); once it is, its own record (name, kind, identifiers) is what
    # A's people see on their application list and contract, not B's data. B's data on any page
    # or API answer is still caught by the markers below.
    b_provider_named_by_a = Contract.objects.filter(
        partnership=world.partnership_a, provider_id=b.application.provider_id).exists() or \
        ProviderApplication.objects.filter(
            lot__framework__partnership=world.partnership_a,
            provider_id=b.application.provider_id).exists()
    leaks: list[str] = []
    checked = 0
    identities = _identities(world)
    for account, organisation in identities:
        client = client_for(account)
        client.post(reverse("switch_organisation"), {"organisation": organisation.pk})
        for name, case, side in matrix._checks():
            if name == "logout" or (side == "A" and case.method == "POST"):
                continue  # signing out, and changing A's own data, reach nothing of B's
            this_client = client
            if case.method == "POST":
                this_client = client_for(account)
                this_client.post(reverse("switch_organisation"),
                                 {"organisation": organisation.pk})
            url = case.url(sides[side])
            got = matrix.outcome(this_client, case.method, url)
            checked += 1
            who = f"{account.email} as {organisation}"
            shared = name == "api:provider-detail" and b_provider_named_by_a
            if side == "B" and got.kind == matrix.OK and not shared and \
                    matrix.expected(case, "B", matrix.CA) != matrix.OK:
                leaks.append(f"{who}: {name} {case.method} {url} [B's object] gave {got.detail}")
            shown = [m for m in foreign if m in got.body]
            if shown:
                leaks.append(f"{who}: {name} {case.method} {url} shows {shown}")
    TRIED.append(f"{len(attempts.tried)} actions ({len(attempts.accepted)} accepted by the "
                 f"product); {len(identities)} identities × "
                 f"{checked // max(len(identities), 1)} view×object checks = {checked} checks")
    TRIED.append("accepted: " + "; ".join(sorted({
        re.sub(r" as \w+$", " as <role>", a) for a in attempts.accepted})))
    assert not leaks, f"{len(leaks)} leaks after the attack:\n" + "\n".join(leaks[:60])
    # Whatever the product accepted, partnership B's organisations are party to nothing of A's.

    b_orgs = (world.council_b, world.icb_b)
    assert not Contract.objects.filter(partnership=world.partnership_a).filter(
        Q(holder__in=b_orgs) | Q(lead_commissioner__in=b_orgs)).exists()
    assert not CommissioningShare.objects.filter(contract__partnership=world.partnership_a,
                                                 organisation__in=b_orgs).exists()
    assert not FrameworkParty.objects.filter(framework__partnership=world.partnership_a,
                                             organisation__in=b_orgs).exists()
    # The attack was real: the attacker did get what the product legitimately offers.
    assert Membership.objects.filter(user__email=world.partnership_admin_a.email,
                                     organisation=world.icb_a).exists()
    assert len(identities) >= 3


def test_zz_report_the_size_of_the_escalation_test(capsys):
    with capsys.disabled():
        for line in TRIED:
            print(f"\nescalation test: {line}")
