"""Client writes: validated before anything is saved, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kapcare.clients import services
from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    StatusChange,
    WeightMeasurement,
)
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.testing.factories import make_staff
from kapcare.testing.personas import Practice


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "legal_given_names": "Robin",
        "legal_family_name": "Okonkwo",
        "date_of_birth": dt.date(1984, 6, 2),
        "sex_at_birth": "female",
        "email": "robin@example.org",
        "phone": "(555) 555-0142",
    }
    base.update(overrides)
    return base


def counts() -> tuple[int, int, int, int]:
    return (
        Client.objects.count(),
        CareTeamMember.objects.count(),
        StatusChange.objects.count(),
        AuditEvent.objects.count(),
    )


def test_create_saves_the_client_history_team_and_audit(practice: Practice) -> None:
    client = services.client_create(
        actor=practice.front_desk,
        fields=fields(preferred_name="  Rob  "),
        care_team=[
            (practice.therapist, CareTeamRole.PRIMARY_THERAPIST),
            (practice.prescriber, CareTeamRole.PRESCRIBER),
        ],
    )
    assert client.preferred_name == "Rob"  # text is trimmed
    assert client.status == ClientStatus.INQUIRY
    team = {(m.staff, m.role) for m in client.care_team.all()}
    assert team == {
        (practice.therapist, CareTeamRole.PRIMARY_THERAPIST),
        (practice.prescriber, CareTeamRole.PRESCRIBER),
        # The front desk person who created the record joins as coordinator.
        (practice.front_desk, CareTeamRole.COORDINATOR),
    }
    assert list(client.status_changes.values_list("to_status", flat=True)) == ["inquiry"]
    events = AuditEvent.objects.filter(client_public_id=client.public_id)
    assert sorted(events.values_list("action", flat=True)) == [
        "care_team.add",
        "care_team.add",
        "care_team.add",
        "client.create",
    ]
    created = events.get(action="client.create")
    assert created.actor == practice.front_desk
    assert created.after is not None
    assert created.after["legal_family_name"] == "Okonkwo"
    assert created.after["date_of_birth"] == "1984-06-02"
    assert created.before is None


def test_therapist_creator_becomes_primary_therapist(practice: Practice) -> None:
    client = services.client_create(actor=practice.therapist, fields=fields())
    member = client.care_team.get()
    assert (member.staff, member.role) == (practice.therapist, CareTeamRole.PRIMARY_THERAPIST)


def test_therapist_creator_joins_as_therapist_when_primary_is_taken(practice: Practice) -> None:
    client = services.client_create(
        actor=practice.therapist,
        fields=fields(),
        care_team=[(practice.outsider, CareTeamRole.PRIMARY_THERAPIST)],
    )
    assert client.care_team.get(staff=practice.therapist).role == CareTeamRole.THERAPIST


def test_admin_creator_does_not_join_the_team(practice: Practice) -> None:
    client = services.client_create(actor=practice.admin, fields=fields())
    assert not client.care_team.exists()


BAD_FIELDS = [
    ("date_of_birth", {"date_of_birth": practice_today() + dt.timedelta(days=1)}, "future_date"),
    ("date_of_birth", {"date_of_birth": dt.date(1899, 12, 31)}, "too_early"),
    ("email", {"email": "robin@"}, "invalid"),
    ("phone", {"phone": "call me"}, "invalid_phone"),
    ("phone", {"phone": "123"}, "invalid_phone"),
    ("phone", {"phone": "+1 234 567 890 123 456"}, "invalid_phone"),  # 16 digits
    ("emergency_contact_phone", {"emergency_contact_phone": "12-34"}, "invalid_phone"),
    ("legal_family_name", {"legal_family_name": "x" * 101}, "max_length"),
    ("legal_given_names", {"legal_given_names": ""}, "blank"),
    ("access_needs", {"access_needs": "x" * 2001}, "max_length"),
    ("address", {"address": "x" * 501}, "max_length"),
    ("sex_at_birth", {"sex_at_birth": "robot"}, "invalid_choice"),
    ("preferred_channel", {"preferred_channel": "pigeon"}, "invalid_choice"),
]


@pytest.mark.parametrize(("field", "override", "code"), BAD_FIELDS)
def test_bad_input_names_the_field_and_saves_nothing(
    practice: Practice, field: str, override: dict[str, Any], code: str
) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        services.client_create(
            actor=practice.therapist,
            fields=fields(**override),
            care_team=[(practice.prescriber, CareTeamRole.PRESCRIBER)],
        )
    assert field in raised.value.error_dict
    assert code in [error.code for error in raised.value.error_dict[field]]
    assert counts() == before


def test_unknown_fields_are_refused(practice: Practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.client_create(actor=practice.therapist, fields=fields(status="active"))
    assert "status" in raised.value.error_dict


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("nurse", CareTeamRole.PRESCRIBER),
        ("therapist", CareTeamRole.NURSE),
        ("prescriber", CareTeamRole.PRIMARY_THERAPIST),
        ("nurse", CareTeamRole.COORDINATOR),
    ],
)
def test_care_team_places_need_the_matching_staff_role(
    practice: Practice, who: str, role: str
) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        services.client_create(
            actor=practice.admin, fields=fields(), care_team=[(getattr(practice, who), role)]
        )
    assert raised.value.error_dict["care_team"][0].code == "wrong_role"
    assert counts() == before


def test_inactive_staff_cannot_join_a_team(practice: Practice) -> None:
    practice.outsider.is_active = False
    practice.outsider.save()
    with pytest.raises(ValidationError) as raised:
        services.client_create(
            actor=practice.admin,
            fields=fields(),
            care_team=[(practice.outsider, CareTeamRole.THERAPIST)],
        )
    assert raised.value.error_dict["care_team"][0].code == "inactive"


def test_one_primary_therapist_and_one_place_per_person(practice: Practice) -> None:
    with pytest.raises(ValidationError, match="one primary therapist"):
        services.client_create(
            actor=practice.admin,
            fields=fields(),
            care_team=[
                (practice.therapist, CareTeamRole.PRIMARY_THERAPIST),
                (practice.outsider, CareTeamRole.PRIMARY_THERAPIST),
            ],
        )
    with pytest.raises(ValidationError, match="only one place"):
        services.client_create(
            actor=practice.admin,
            fields=fields(),
            care_team=[
                (practice.therapist, CareTeamRole.PRIMARY_THERAPIST),
                (practice.therapist, CareTeamRole.THERAPIST),
            ],
        )


def test_possible_duplicate_is_flagged_across_care_teams(practice: Practice) -> None:
    # Jamie Quinlan belongs to another team than the outsider's; a duplicate is still caught.
    jamie = practice.client
    before = counts()
    with pytest.raises(services.PossibleDuplicate) as raised:
        services.client_create(
            actor=practice.outsider,
            fields=fields(
                legal_given_names="JAMIE ",
                legal_family_name="quinlan",
                date_of_birth=jamie.date_of_birth,
            ),
        )
    assert "acknowledge_duplicate" in raised.value.error_dict
    assert counts() == before
    client = services.client_create(
        actor=practice.outsider,
        fields=fields(
            legal_given_names="Jamie",
            legal_family_name="Quinlan",
            date_of_birth=jamie.date_of_birth,
        ),
        acknowledge_duplicate=True,
    )
    created = AuditEvent.objects.get(action="client.create", subject_public_id=client.public_id)
    assert created.detail == {"duplicate_acknowledged": True}


def test_same_name_other_birth_date_is_not_a_duplicate(practice: Practice) -> None:
    other_day = practice.client.date_of_birth + dt.timedelta(days=1)
    client = services.client_create(
        actor=practice.therapist,
        fields=fields(
            legal_given_names="Jamie", legal_family_name="Quinlan", date_of_birth=other_day
        ),
    )
    assert client.pk is not None


def test_update_audits_only_what_changed(practice: Practice) -> None:
    client = practice.client
    old_phone = client.phone
    services.client_update(
        actor=practice.nurse,
        client=client,
        changes={"phone": "(555) 555-0199", "legal_family_name": client.legal_family_name},
    )
    client.refresh_from_db()
    assert client.phone == "(555) 555-0199"
    assert client.updated_by == practice.nurse
    event = AuditEvent.objects.get(action="client.update")
    assert event.before == {"phone": old_phone}
    assert event.after == {"phone": "(555) 555-0199"}


def test_update_without_changes_writes_nothing(practice: Practice) -> None:
    before = counts()
    services.client_update(
        actor=practice.nurse, client=practice.client, changes={"phone": practice.client.phone}
    )
    assert counts() == before


def test_failed_update_leaves_the_record_as_it_was(practice: Practice) -> None:
    stored = Client.objects.values().get(pk=practice.client.pk)
    with pytest.raises(ValidationError) as raised:
        services.client_update(
            actor=practice.nurse,
            client=practice.client,
            changes={"phone": "(555) 555-0123", "email": "broken@"},
        )
    assert set(raised.value.error_dict) == {"email"}
    assert Client.objects.values().get(pk=practice.client.pk) == stored
    assert not AuditEvent.objects.filter(action="client.update").exists()


def test_update_refuses_fields_outside_the_record(practice: Practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.client_update(
            actor=practice.nurse, client=practice.client, changes={"status": "x"}
        )
    assert "status" in raised.value.error_dict


def test_status_change_is_recorded_with_history(practice: Practice) -> None:
    client = services.client_change_status(
        actor=practice.prescriber, client=practice.client, status=ClientStatus.SCREENING
    )
    assert Client.objects.get(pk=client.pk).status == ClientStatus.SCREENING
    change = client.status_changes.get(to_status=ClientStatus.SCREENING)
    assert (change.from_status, change.changed_by) == (ClientStatus.INQUIRY, practice.prescriber)
    event = AuditEvent.objects.get(action="client.status_change")
    assert (event.before, event.after) == ({"status": "inquiry"}, {"status": "screening"})


def test_discharge_needs_a_reason(practice: Practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.client_change_status(
            actor=practice.therapist, client=practice.client, status="discharged", reason="  "
        )
    assert raised.value.error_dict["reason"][0].code == "required"
    assert Client.objects.get(pk=practice.client.pk).status == ClientStatus.INQUIRY
    services.client_change_status(
        actor=practice.therapist,
        client=practice.client,
        status="discharged",
        reason="Completed the course",
    )
    assert Client.objects.get(pk=practice.client.pk).status == ClientStatus.DISCHARGED


@pytest.mark.parametrize("status", ["inquiry", "paused", ""])
def test_status_must_be_known_and_different(practice: Practice, status: str) -> None:
    with pytest.raises(ValidationError) as raised:
        services.client_change_status(
            actor=practice.therapist, client=practice.client, status=status
        )
    assert "status" in raised.value.error_dict


def test_care_team_add_and_end(practice: Practice) -> None:
    new_nurse = make_staff(nurse=True)
    member = services.care_team_add(
        actor=practice.therapist, client=practice.client, staff=new_nurse, role=CareTeamRole.NURSE
    )
    assert member.is_active
    with pytest.raises(ValidationError) as raised:
        services.care_team_add(
            actor=practice.therapist,
            client=practice.client,
            staff=new_nurse,
            role=CareTeamRole.NURSE,
        )
    assert raised.value.error_dict["staff"][0].code == "unique"
    services.care_team_end(actor=practice.therapist, member=member)
    member.refresh_from_db()
    assert member.ended_at is not None
    # The row stays as history, and the person can be added again later.
    services.care_team_add(
        actor=practice.therapist, client=practice.client, staff=new_nurse, role=CareTeamRole.NURSE
    )
    assert practice.client.care_team.filter(staff=new_nurse).count() == 2
    actions = list(
        AuditEvent.objects.filter(client_public_id=practice.client.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["care_team.add", "care_team.end", "care_team.add"]
    with pytest.raises(ValidationError):
        services.care_team_end(actor=practice.therapist, member=member)


def test_second_primary_therapist_is_refused(practice: Practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.care_team_add(
            actor=practice.admin,
            client=practice.client,
            staff=practice.outsider,
            role=CareTeamRole.PRIMARY_THERAPIST,
        )
    assert "role" in raised.value.error_dict


@pytest.mark.parametrize(
    ("weight", "measured_on", "field"),
    [
        (decimal.Decimal("24.9"), None, "weight_kg"),
        (decimal.Decimal("350.1"), None, "weight_kg"),
        (decimal.Decimal("70"), dt.timedelta(days=1), "measured_on"),
    ],
)
def test_weight_rules(
    practice: Practice, weight: decimal.Decimal, measured_on: dt.timedelta | None, field: str
) -> None:
    day = practice_today() + (measured_on or dt.timedelta(0))
    with pytest.raises(ValidationError) as raised:
        services.weight_record(
            actor=practice.nurse, client=practice.client, measured_on=day, weight_kg=weight
        )
    assert field in raised.value.error_dict
    assert not WeightMeasurement.objects.exists()


def test_weight_is_recorded_and_audited(practice: Practice) -> None:
    weight = services.weight_record(
        actor=practice.nurse,
        client=practice.client,
        measured_on=practice_today(),
        weight_kg=decimal.Decimal("72.46"),
        note="clinic scale",
    )
    assert weight.weight_kg == decimal.Decimal("72.5")
    event = AuditEvent.objects.get(action="weight.record")
    assert event.after == {
        "measured_on": practice_today().isoformat(),
        "weight_kg": "72.5",
        "note": "clinic scale",
    }
    assert event.client_public_id == practice.client.public_id


def test_audit_row_is_rolled_back_with_a_failed_transaction(practice: Practice) -> None:
    """The audit row lives in the write's transaction: if the write fails, neither remains."""
    from django.db import transaction

    before = counts()

    def create_then_fail() -> None:
        with transaction.atomic():
            services.client_create(actor=practice.admin, fields=fields())
            raise RuntimeError("the request failed after the save")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert counts() == before


@pytest.mark.parametrize(
    ("phone", "born"),
    [
        ("+44 20 7946 0958", dt.date(1900, 1, 1)),
        ("555 0100", dt.date(2000, 2, 29)),
        ("+1 234 567 890 12345", dt.date(1975, 12, 31)),
    ],
)
def test_edge_values_that_are_accepted(practice: Practice, phone: str, born: dt.date) -> None:
    """7 and 15 digits are both valid phone numbers; 1900-01-01 is the earliest birth date."""
    client = services.client_create(
        actor=practice.admin, fields=fields(phone=phone, date_of_birth=born)
    )
    assert (client.phone, client.date_of_birth) == (phone, born)
