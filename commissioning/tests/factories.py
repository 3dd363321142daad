"""Factories for the core models. Other apps' factories build on these."""

from __future__ import annotations

import factory

from commissioning.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Partnership,
    PartnershipMember,
    Role,
    User,
)

PASSWORD = "Correct-horse-battery-2026"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    short_name = factory.LazyAttribute(lambda o: o.name)
    kind = OrganisationKind.LOCAL_AUTHORITY


class CouncilFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"London Borough {n}")
    kind = OrganisationKind.LOCAL_AUTHORITY


class ICBFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"NHS Integrated Care Board {n}")
    kind = OrganisationKind.NHS_COMMISSIONER


class ProviderFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Provider Charity {n}")
    kind = OrganisationKind.VCSE
    is_vcse = True
    is_sme = True


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Joint Commissioning Partnership {n}")
    board_name = "Integrated Commissioning Board"

    @factory.post_generation
    def organisations(self, create, extracted, **kwargs):
        if create and extracted:
            for organisation in extracted:
                PartnershipMember.objects.create(partnership=self, organisation=organisation)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.COMMISSIONER


def user_with_role(organisation: Organisation, role: str, **kwargs) -> User:
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user
