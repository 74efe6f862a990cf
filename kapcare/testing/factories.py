"""factory_boy factories for tests (and nothing else)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import factory
from factory.django import DjangoModelFactory, Password

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, CareTeamRole, Client, SexAtBirth

TEST_PASSWORD = "correct-horse-battery-staple-42"


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = Password(TEST_PASSWORD)

    class Params:
        therapist = factory.Trait(is_therapist=True, professional_title="LMFT")
        prescriber = factory.Trait(
            is_prescriber=True,
            prescriber_credential="MD",
            licence_number=factory.Sequence(lambda n: f"LIC-{n:05d}"),
            professional_title="MD",
        )
        nurse = factory.Trait(is_nurse=True, professional_title="RN")
        front_desk = factory.Trait(is_front_desk=True)
        admin = factory.Trait(is_practice_admin=True)


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    legal_given_names = factory.Faker("first_name")
    legal_family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=dt.date(1950, 1, 1), end_date=dt.date(2004, 12, 31)
    )
    sex_at_birth = SexAtBirth.FEMALE
    email = factory.LazyAttribute(
        lambda o: f"{o.legal_given_names}.{o.legal_family_name}@example.org".lower()
    )
    phone = "(555) 555-0100"


class CareTeamMemberFactory(DjangoModelFactory):
    class Meta:
        model = CareTeamMember

    client = factory.SubFactory(ClientFactory)
    staff = factory.SubFactory(StaffFactory, therapist=True)
    role = CareTeamRole.THERAPIST


def make_staff(**kwargs: Any) -> User:
    return cast(User, StaffFactory(**kwargs))


def make_client(**kwargs: Any) -> Client:
    return cast(Client, ClientFactory(**kwargs))


def make_member(**kwargs: Any) -> CareTeamMember:
    return cast(CareTeamMember, CareTeamMemberFactory(**kwargs))
