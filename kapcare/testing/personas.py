"""The people every test suite talks about (habit 9), as pytest fixtures.

One client, Jamie, whose care team is: treating therapist (primary), prescriber, nurse and front
desk. Outsiders: a therapist and a prescriber on nobody's team for Jamie. And a practice admin.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamRole, Client
from kapcare.testing.factories import make_client, make_member, make_staff


@dataclass
class Practice:
    client: Client
    therapist: User
    prescriber: User
    nurse: User
    front_desk: User
    outsider: User
    outsider_prescriber: User
    admin: User


@pytest.fixture
def practice(db: None) -> Practice:
    therapist = make_staff(username="therapist", therapist=True)
    prescriber = make_staff(username="prescriber", prescriber=True)
    nurse = make_staff(username="nurse", nurse=True)
    front_desk = make_staff(username="frontdesk", front_desk=True)
    outsider = make_staff(username="outsider", therapist=True)
    outsider_prescriber = make_staff(username="outsider_prescriber", prescriber=True)
    admin = make_staff(username="admin", admin=True)
    client = make_client(
        legal_given_names="Jamie", legal_family_name="Quinlan", preferred_name="Jay"
    )
    for staff, role in [
        (therapist, CareTeamRole.PRIMARY_THERAPIST),
        (prescriber, CareTeamRole.PRESCRIBER),
        (nurse, CareTeamRole.NURSE),
        (front_desk, CareTeamRole.COORDINATOR),
    ]:
        make_member(client=client, staff=staff, role=role)
    # The outsiders treat someone else, so they are ordinary, busy clinicians.
    other = make_client(legal_given_names="Other", legal_family_name="Person")
    make_member(client=other, staff=outsider, role=CareTeamRole.PRIMARY_THERAPIST)
    make_member(client=other, staff=outsider_prescriber, role=CareTeamRole.PRESCRIBER)
    return Practice(
        client=client,
        therapist=therapist,
        prescriber=prescriber,
        nurse=nurse,
        front_desk=front_desk,
        outsider=outsider,
        outsider_prescriber=outsider_prescriber,
        admin=admin,
    )
