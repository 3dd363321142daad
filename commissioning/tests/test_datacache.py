"""Pages remembered until the data changes (commissioning.datacache, issue 19): the counter
PostgreSQL moves on at commit, the pages that use it, and that they never show what a person
may not see or what is no longer true — whatever wrote the change.

These tests commit (transaction=True): inside a test's transaction the cache is, by design,
not consulted."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse

from commissioning import datacache
from commissioning.models import Membership, Role
from contracts.models import Contract
from contracts.tests.factories import ShareFactory, contract_for

pytestmark = pytest.mark.django_db(transaction=True)


def counter() -> str:
    version = datacache.data_version()
    assert version is not None
    return version


def register_html(client, **params) -> str:
    response = client.get(reverse("contracts:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_every_table_of_the_services_apps_moves_the_counter():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND t.tgdeferrable AND t.tginitdeferred",
            [datacache.TRIGGER])
        deferred = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s", [datacache.TRUNCATE_TRIGGER])
        truncate = {row[0] for row in cursor.fetchall()}
    tables = set(datacache.watched_tables())
    assert {"contracts_contract", "contracts_commissioningshare", "commissioning_membership",
            "monitoring_kpi", "funding_scheme"} <= tables
    assert "commissioning_dataversion" not in tables
    assert deferred == tables
    assert truncate == tables


def test_each_committed_write_moves_it_once_whatever_wrote_it(world):
    contract = contract_for(world, reference="DC-001")
    before = counter()
    Contract.objects.filter(pk=contract.pk).update(title="Changed by update()")
    after_update = counter()
    assert after_update != before
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contracts_contract SET title = 'Raw SQL' WHERE id = %s",
                       [contract.pk])
    after_raw = counter()
    assert after_raw != after_update
    with transaction.atomic():
        for n in range(5):
            contract_for(world, reference=f"DC-1{n:02d}")
        # Not trusted inside a transaction: its writes move the counter only at commit.
        assert datacache.data_version() is None
    epoch, number = counter().split(".")
    assert epoch == after_raw.split(".")[0]
    assert int(number) == int(after_raw.split(".")[1]) + 1  # one transaction, one step
    # Reading moves nothing.
    Contract.objects.count()
    assert counter() == f"{epoch}.{number}"


def test_a_rolled_back_transaction_does_not_move_it(world):
    contract = contract_for(world, reference="DC-002")
    before = counter()
    with pytest.raises(RuntimeError), transaction.atomic():
        Contract.objects.filter(pk=contract.pk).update(title="Never committed")
        raise RuntimeError
    assert counter() == before


def test_truncating_the_counter_starts_a_new_epoch(world):
    before = counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE commissioning_dataversion")
    after = counter()
    assert after.split(".")[0] != before.split(".")[0]


def test_the_register_shows_a_change_made_outside_the_orm_at_once(world, client_for):
    contract = contract_for(world, reference="DC-010", title="Day services")
    client = client_for(world.commissioner_a)
    assert "Day services" in register_html(client)
    assert "Day services" in register_html(client)  # remembered
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contracts_contract SET title = 'Night services' WHERE id = %s",
                       [contract.pk])
    html = register_html(client)
    assert "Night services" in html
    assert "Day services" not in html


def test_it_remembers_the_register_for_people_who_see_the_same(world, client_for,
                                                              django_assert_max_num_queries):
    contract_for(world, reference="DC-020", title="Carers support")
    Membership.objects.create(user=world.outsider, organisation=world.council_a,
                              role=Role.COMMISSIONER)
    # Signing in writes (the last sign-in time): both before the pages are read.
    first = client_for(world.commissioner_a)
    colleague = client_for(world.outsider)  # another commissioner of the same council
    with django_assert_max_num_queries(100) as fresh:
        register_html(first)
    with django_assert_max_num_queries(100) as remembered:
        page = register_html(colleague)
    assert "Carers support" in page

    def reads_contracts(queries) -> bool:
        return any('FROM "contracts_contract"' in q["sql"] for q in queries)

    # The rows, the count and the filter options were read for the first commissioner and
    # not again for the second: the same organisation and roles see the same register.
    assert reads_contracts(fresh.captured_queries)
    assert not reads_contracts(remembered.captured_queries)
    # Another role at the same council is another key: worked out afresh.
    with django_assert_max_num_queries(100) as other_role:
        assert "Carers support" in register_html(client_for(world.contract_manager_a))
    assert reads_contracts(other_role.captured_queries)


def test_it_never_shows_one_organisations_remembered_rows_to_another(world, client_for):
    contract_for(world, reference="DC-030", title="Bromley only")
    contract_for(world, reference="DC-031", title="Merton only", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b)
    # Signed in first (signing in writes), so that the three pages are read in one state of
    # the data and only who is looking tells them apart.
    clients = [client_for(user) for user in (world.commissioner_a, world.commissioner_b,
                                             world.provider_y_user)]
    state = counter()
    bromley, merton, provider = (register_html(client) for client in clients)
    assert counter() == state
    assert "Bromley only" in bromley and "Merton only" not in bromley
    assert "Merton only" in merton and "Bromley only" not in merton
    assert "Bromley only" not in provider and "Merton only" not in provider


def test_a_share_given_or_a_role_taken_away_shows_on_the_next_page(world, client_for):
    contract_for(world, reference="DC-040", title="Shared later", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b)
    client = client_for(world.commissioner_a)
    assert "Shared later" not in register_html(client)
    ShareFactory(contract=Contract.objects.get(reference="DC-040"),
                 organisation=world.council_a)
    assert "Shared later" in register_html(client)
    Membership.objects.filter(user=world.commissioner_a).update(role=Role.READ_ONLY)
    # Still a party (read-only sees the register), on another key.
    assert "Shared later" in register_html(client)
    Membership.objects.filter(user=world.commissioner_a).delete()
    response = client.get(reverse("contracts:list"))
    assert "Shared later" not in response.content.decode()


@override_settings(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}})
def test_a_cache_that_does_not_answer_slows_pages_but_never_fails_them(world, client_for):
    contract_for(world, reference="DC-050", title="Still listed")
    assert "Still listed" in register_html(client_for(world.commissioner_a))


def test_the_remembered_page_keeps_the_paging(world, client_for):
    for n in range(30):
        contract_for(world, reference=f"DC-P{n:02d}", title=f"Paged {n:02d}")
    client = client_for(world.commissioner_a)
    for _ in range(2):
        html = register_html(client, page="2")
        assert "Paged 29" in html and "Paged 00" not in html
        assert 'aria-current="page">2<' in html
    html = register_html(client, page="99")  # clamped to the last page, as before
    assert 'aria-current="page">2<' in html
    cache.clear()


def test_the_remembered_overview_follows_the_parties_and_the_data(world, client_for):
    from monitoring.tests.factories import KPIFactory

    bromley = contract_for(world, reference="DC-060", title="Bromley outcomes")
    merton = contract_for(world, reference="DC-061", title="Merton outcomes",
                          partnership=world.partnership_b, holder=world.council_b,
                          lead_commissioner=world.council_b)
    for contract in (bromley, merton):
        KPIFactory(contract=contract)
    clients = [client_for(user) for user in (world.commissioner_a, world.commissioner_b)]
    state = counter()
    for _ in range(2):  # worked out, then remembered
        pages = [client.get(reverse("monitoring:overview")).content.decode()
                 for client in clients]
        assert "Bromley outcomes" in pages[0] and "Merton outcomes" not in pages[0]
        assert "Merton outcomes" in pages[1] and "Bromley outcomes" not in pages[1]
    assert counter() == state
    Contract.objects.filter(pk=bromley.pk).update(title="Bromley results")
    page = clients[0].get(reverse("monitoring:overview")).content.decode()
    assert "Bromley results" in page and "Bromley outcomes" not in page


def test_the_remembered_dashboard_follows_the_parties_the_person_and_the_data(world,
                                                                             client_for):
    from datetime import timedelta

    from django.utils import timezone

    ends = timezone.localdate() + timedelta(days=100)  # within 3 months + : an expiry alert
    contract_for(world, reference="DC-070", title="Bromley ending", initial_end_date=ends,
                 contract_manager=world.commissioner_a)
    contract_for(world, reference="DC-071", title="Merton ending", initial_end_date=ends,
                 partnership=world.partnership_b, holder=world.council_b,
                 lead_commissioner=world.council_b)
    colleague = Membership.objects.create(user=world.outsider, organisation=world.council_a,
                                          role=Role.COMMISSIONER).user
    people = (world.commissioner_a, colleague, world.commissioner_b)
    clients = [client_for(person) for person in people]
    state = counter()
    for _ in range(2):  # worked out, then remembered
        mine, colleagues, merton = (client.get("/").content.decode() for client in clients)
        assert "DC-070" in mine and "DC-071" not in mine
        # How many are on contracts the person manages is the person's own.
        assert "You manage this" in mine and "1 on contracts you manage" in mine
        assert "DC-070" in colleagues
        assert "You manage this" not in colleagues and "contracts you manage" not in colleagues
        assert "DC-071" in merton and "DC-070" not in merton
    assert counter() == state
    Contract.objects.filter(reference="DC-070").update(reference="DC-072")
    page = clients[0].get("/").content.decode()
    assert "DC-072" in page and "DC-070" not in page
