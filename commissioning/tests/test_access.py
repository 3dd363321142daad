import pytest

from commissioning import access
from commissioning.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_it_shows_a_commissioner_only_their_partnerships(world):
    assert list(access.partnerships_for_user(world.commissioner_a)) == [world.partnership_a]
    assert list(access.partnerships_for_user(world.commissioner_b)) == [world.partnership_b]


def test_it_shows_providers_and_outsiders_no_partnership(world):
    assert not access.partnerships_for_user(world.provider_x_user).exists()
    assert not access.partnerships_for_user(world.outsider).exists()


def test_it_shows_a_platform_admin_every_partnership(world):
    assert set(access.partnerships_for_user(world.staff_admin)) == {
        world.partnership_a, world.partnership_b
    }


def test_it_scopes_roles_to_the_organisation_the_user_acts_as(world):
    user = world.commissioner_a
    Membership.objects.create(user=user, organisation=world.provider_x,
                              role=Role.PROVIDER_SUBMITTER)
    user._active_memberships = None
    access.set_current_organisation(user, world.council_a.pk)
    assert access.is_commissioner_side(user) and not access.is_provider_user(user)
    user._active_memberships = None
    access.set_current_organisation(user, world.provider_x.pk)
    assert access.is_provider_user(user) and not access.is_commissioner_side(user)
    assert not access.partnerships_for_user(user).exists()


def test_it_ignores_an_organisation_the_user_does_not_belong_to(world):
    user = world.commissioner_a
    chosen = access.set_current_organisation(user, world.council_b.pk)
    assert chosen == world.council_a


def test_it_ignores_inactive_memberships(world):
    Membership.objects.filter(user=world.commissioner_a).update(is_active=False)
    user = type(world.commissioner_a).objects.get(pk=world.commissioner_a.pk)
    assert access.current_organisation(user) is None
    assert not access.partnerships_for_user(user).exists()
