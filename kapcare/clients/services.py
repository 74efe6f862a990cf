"""Every write to a client record (habit 2): validate first, then one transaction with its audit.

Each function raises django.core.exceptions.ValidationError keyed by field name when input
breaks a rule; nothing is written in that case.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import Role, User
from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    StatusChange,
    WeightMeasurement,
)
from kapcare.clients.selectors import possible_duplicates
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.signals import client_facts_changed
from kapcare.core.time import now

# The fields of the record a care team edits directly (status has its own service).
CLIENT_FIELDS = [
    "legal_given_names",
    "legal_family_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "sex_at_birth",
    "gender_identity",
    "email",
    "phone",
    "address",
    "preferred_channel",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "primary_care_provider",
    "primary_care_contact",
    "referring_provider",
    "referring_provider_contact",
    "access_needs",
]

# The staff role a person must hold to fill each place on a care team.
REQUIRED_STAFF_ROLE: dict[str, Role] = {
    CareTeamRole.PRIMARY_THERAPIST: Role.THERAPIST,
    CareTeamRole.THERAPIST: Role.THERAPIST,
    CareTeamRole.PRESCRIBER: Role.PRESCRIBER,
    CareTeamRole.NURSE: Role.NURSE,
    CareTeamRole.COORDINATOR: Role.FRONT_DESK,
}


class PossibleDuplicate(ValidationError):
    """Raised when a new client matches an existing one by legal name and date of birth."""


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _own_care_team_role(actor: User, taken: set[str]) -> str | None:
    """Where the person creating a client joins its care team, so they can see what they made."""
    if actor.is_therapist:
        return (
            CareTeamRole.PRIMARY_THERAPIST
            if CareTeamRole.PRIMARY_THERAPIST not in taken
            else CareTeamRole.THERAPIST
        )
    if actor.is_prescriber:
        return CareTeamRole.PRESCRIBER
    if actor.is_nurse:
        return CareTeamRole.NURSE
    if actor.is_front_desk:
        return CareTeamRole.COORDINATOR
    return None


def _check_member(staff: User, role: str, field: str) -> None:
    if role not in CareTeamRole.values:
        raise field_error("role", f"Unknown care-team role {role!r}.", "invalid")
    if not staff.is_active:
        raise field_error(field, f"{staff} is not an active staff member.", "inactive")
    needed = REQUIRED_STAFF_ROLE[role]
    if not staff.has_role(needed):
        raise field_error(
            field,
            f"{staff} cannot be {CareTeamRole(role).label.lower()}: that place needs "
            f"the {needed.label.lower()} role.",
            "wrong_role",
        )


def client_create(
    *,
    actor: User,
    fields: Mapping[str, Any],
    care_team: list[tuple[User, str]] | None = None,
    acknowledge_duplicate: bool = False,
) -> Client:
    """Create a client with an initial care team. The creator joins the team unless they are a
    practice admin (who sees every client anyway)."""
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError(
            {name: ValidationError("Unknown field.", code="unknown_field") for name in unknown}
        )
    client = Client(**{name: _clean_text(value) for name, value in fields.items()})
    client.created_by = client.updated_by = actor
    client.full_clean()

    team: list[tuple[User, str]] = list(care_team or [])
    for staff, role in team:
        _check_member(staff, role, "care_team")
    staff_ids = [staff.pk for staff, _ in team]
    if len(set(staff_ids)) != len(staff_ids):
        raise field_error(
            "care_team", "A person can hold only one place on a care team.", "duplicate_member"
        )
    if sum(role == CareTeamRole.PRIMARY_THERAPIST for _, role in team) > 1:
        raise field_error("care_team", "A client has one primary therapist.", "unique")
    if not actor.is_practice_admin and actor.pk not in staff_ids:
        own_role = _own_care_team_role(actor, {role for _, role in team})
        if own_role is not None:
            team.append((actor, own_role))

    if not acknowledge_duplicate:
        existing = possible_duplicates(
            legal_given_names=client.legal_given_names,
            legal_family_name=client.legal_family_name,
            date_of_birth=client.date_of_birth,
        )
        if existing.exists():
            # The existing record may belong to another care team: say that it exists (so a
            # duplicate is not created) but nothing more about it.
            message = (
                f"A client named {client.legal_name}, born {client.date_of_birth:%Y-%m-%d}, is "
                "already on record. Check that this is not the same person (a practice admin can "
                "look); if it is a different person, confirm that to create a separate record."
            )
            raise PossibleDuplicate(
                {"acknowledge_duplicate": ValidationError(message, code="possible_duplicate")}
            )

    with transaction.atomic():
        client.save()
        StatusChange.objects.create(
            client=client, to_status=client.status, changed_by=actor, reason="Record created"
        )
        audit.record(
            actor=actor,
            action="client.create",
            subject_type="client",
            subject_public_id=client.public_id,
            client_public_id=client.public_id,
            after={**audit.snapshot(client, [*CLIENT_FIELDS, "status"])},
            detail={"duplicate_acknowledged": True} if acknowledge_duplicate else None,
        )
        for staff, role in team:
            _add_member(actor=actor, client=client, staff=staff, role=role)
    return client


def client_update(*, actor: User, client: Client, changes: Mapping[str, Any]) -> Client:
    unknown = set(changes) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError("This field cannot be changed here.", code="not_editable")
                for name in unknown
            }
        )
    before = audit.snapshot(client, CLIENT_FIELDS)
    for name, value in changes.items():
        setattr(client, name, _clean_text(value))
    client.updated_by = actor
    client.full_clean()
    old, new = audit.changed(before, audit.snapshot(client, CLIENT_FIELDS))
    if not new:
        return client
    with transaction.atomic():
        client.save()
        audit.record(
            actor=actor,
            action="client.update",
            subject_type="client",
            subject_public_id=client.public_id,
            client_public_id=client.public_id,
            before=old,
            after=new,
        )
    return client


def client_change_status(*, actor: User, client: Client, status: str, reason: str = "") -> Client:
    if status not in ClientStatus.values:
        raise field_error("status", f"Unknown status {status!r}.", "invalid_choice")
    reason = reason.strip()
    if status == client.status:
        raise field_error(
            "status", f"The client is already {ClientStatus(status).label.lower()}.", "unchanged"
        )
    if status == ClientStatus.DISCHARGED and not reason:
        raise field_error("reason", "Give a reason when discharging a client.", "required")
    if len(reason) > 300:
        raise field_error("reason", "Keep the reason under 300 characters.", "max_length")
    previous = client.status
    with transaction.atomic():
        client.status = status
        client.status_changed_at = now()
        client.updated_by = actor
        client.save(update_fields=["status", "status_changed_at", "updated_by", "updated_at"])
        StatusChange.objects.create(
            client=client, from_status=previous, to_status=status, reason=reason, changed_by=actor
        )
        audit.record(
            actor=actor,
            action="client.status_change",
            subject_type="client",
            subject_public_id=client.public_id,
            client_public_id=client.public_id,
            before={"status": previous},
            after={"status": status},
            detail={"reason": reason} if reason else None,
        )
    return client


def _add_member(*, actor: User, client: Client, staff: User, role: str) -> CareTeamMember:
    member = CareTeamMember(client=client, staff=staff, role=role, created_by=actor)
    member.full_clean()
    member.save()
    audit.record(
        actor=actor,
        action="care_team.add",
        subject_type="care_team_member",
        subject_public_id=member.public_id,
        client_public_id=client.public_id,
        after={"staff": str(staff.public_id), "staff_name": str(staff), "role": role},
    )
    return member


def care_team_add(*, actor: User, client: Client, staff: User, role: str) -> CareTeamMember:
    _check_member(staff, role, "staff")
    if client.care_team.filter(staff=staff, ended_at__isnull=True).exists():
        raise field_error("staff", f"{staff} is already on the care team.", "unique")
    if (
        role == CareTeamRole.PRIMARY_THERAPIST
        and client.care_team.filter(role=role, ended_at__isnull=True).exists()
    ):
        raise field_error(
            "role", "The client already has a primary therapist; end that place first.", "unique"
        )
    with transaction.atomic():
        return _add_member(actor=actor, client=client, staff=staff, role=role)


def care_team_end(*, actor: User, member: CareTeamMember) -> CareTeamMember:
    """Take someone off a care team. The row stays, with its end time, as history."""
    if member.ended_at is not None:
        raise field_error("member", "This place on the care team has already ended.", "ended")
    with transaction.atomic():
        member.ended_at = now()
        member.updated_by = actor
        member.save(update_fields=["ended_at", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action="care_team.end",
            subject_type="care_team_member",
            subject_public_id=member.public_id,
            client_public_id=member.client.public_id,
            before={"staff": str(member.staff.public_id), "role": member.role},
        )
    return member


def weight_record(
    *,
    actor: User,
    client: Client,
    measured_on: dt.date,
    weight_kg: decimal.Decimal,
    note: str = "",
) -> WeightMeasurement:
    weight = WeightMeasurement(
        client=client,
        measured_on=measured_on,
        weight_kg=decimal.Decimal(weight_kg).quantize(decimal.Decimal("0.1")),
        note=note.strip(),
        created_by=actor,
        updated_by=actor,
    )
    weight.full_clean()
    with transaction.atomic():
        weight.save()
        audit.record(
            actor=actor,
            action="weight.record",
            subject_type="weight",
            subject_public_id=weight.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(weight, ["measured_on", "weight_kg", "note"]),
        )
        client_facts_changed.send(
            sender=WeightMeasurement, client=client, actor=actor, reason="weight recorded"
        )
    return weight
