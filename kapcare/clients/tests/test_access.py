"""Who sees which client: the care team and practice admins, nobody else."""

from __future__ import annotations

import uuid

import pytest
from django.http import Http404

from kapcare.clients.access import access_client, open_chart, visible_clients
from kapcare.clients.models import CareTeamRole
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.personas import Practice


def test_every_care_team_member_sees_the_client(practice: Practice) -> None:
    for member in (practice.therapist, practice.prescriber, practice.nurse, practice.front_desk):
        assert practice.client in visible_clients(member)
        assert access_client(member, practice.client.public_id) == practice.client
        assert access_client(member, practice.client.public_id, write=True) == practice.client


def test_practice_admin_sees_every_client(practice: Practice) -> None:
    assert set(visible_clients(practice.admin)) == {practice.client, *_others(practice)}
    assert access_client(practice.admin, practice.client.public_id) == practice.client


def _others(practice: Practice) -> list:
    return list(visible_clients(practice.outsider))


@pytest.mark.parametrize("who", ["outsider", "outsider_prescriber"])
def test_staff_outside_the_care_team_get_404(practice: Practice, who: str) -> None:
    user = getattr(practice, who)
    assert practice.client not in visible_clients(user)
    with pytest.raises(Http404):
        access_client(user, practice.client.public_id)
    with pytest.raises(Http404):
        access_client(user, practice.client.public_id, write=True)


def test_ended_membership_ends_access(practice: Practice) -> None:
    membership = practice.client.care_team.get(staff=practice.nurse)
    membership.ended_at = now()
    membership.save()
    assert practice.client not in visible_clients(practice.nurse)
    with pytest.raises(Http404):
        access_client(practice.nurse, practice.client.public_id)


def test_deactivated_staff_see_nothing(practice: Practice) -> None:
    practice.therapist.is_active = False
    practice.therapist.save()
    assert not visible_clients(practice.therapist).exists()
    practice.admin.is_active = False
    practice.admin.save()
    assert not visible_clients(practice.admin).exists()


def test_unknown_and_malformed_ids_are_404(practice: Practice) -> None:
    with pytest.raises(Http404):
        access_client(practice.admin, uuid.uuid4())
    with pytest.raises(Http404):
        access_client(practice.admin, "not-a-uuid")


def test_visible_clients_has_no_duplicates_with_several_memberships(db: None) -> None:
    therapist = make_staff(therapist=True, prescriber=True)
    client = make_client()
    make_member(client=client, staff=therapist, role=CareTeamRole.THERAPIST)
    # An ended and a current membership for the same person must not list the client twice.
    old = make_member(client=client, staff=make_staff(nurse=True), role=CareTeamRole.NURSE)
    old.ended_at = now()
    old.save()
    assert list(visible_clients(therapist)) == [client]


def test_open_chart_records_the_read(practice: Practice) -> None:
    before = AuditEvent.objects.count()
    client = open_chart(practice.nurse, practice.client.public_id, view="chart")
    assert client == practice.client
    event = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "client.read"
    assert event.actor == practice.nurse
    assert event.client_public_id == practice.client.public_id
    assert event.detail == {"view": "chart"}


def test_open_chart_denied_records_nothing(practice: Practice) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(Http404):
        open_chart(practice.outsider, practice.client.public_id)
    assert AuditEvent.objects.count() == before
