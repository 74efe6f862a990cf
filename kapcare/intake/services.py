"""Every write to an inquiry: validate first, then one transaction with its audit.

Each function raises django.core.exceptions.ValidationError keyed by field name when input breaks
a rule (the key `status` when the inquiry's state does not allow the action); nothing is written
in that case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.clients.services import client_change_status, client_create
from kapcare.core import audit, context
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_zone
from kapcare.intake import rules
from kapcare.intake.models import (
    NOTE_LIMIT,
    CloseReason,
    ConsultationOutcome,
    Inquiry,
    InquiryStatus,
    InquiryStep,
    StepKind,
)

# What a person sends with an inquiry.
INQUIRY_FIELDS = [
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "phone",
    "preferred_channel",
    "date_of_birth",
    "message",
    "heard_from",
]
# What the audit log keeps of a new inquiry: who the person is and how to reach them, as
# client.create keeps for a client. Not the message, the person's own words about their health,
# which stays on the inquiry alone.
AUDITED_FIELDS = [
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "phone",
    "preferred_channel",
    "date_of_birth",
    "heard_from",
    "status",
]
TRACKED_FIELDS = [
    "status",
    "contacted_at",
    "consultation_at",
    "consultation_with",
    "consultation_outcome",
    "close_reason",
]


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _refuse_if_not_allowed(action: str, status: str) -> None:
    refused = rules.refusal(action, status)
    if refused is not None:
        code, message = refused
        raise field_error("status", message, code)


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise field_error(
            "note", f"Keep the note to {NOTE_LIMIT} characters (it has {len(note)}).", "max_length"
        )
    return note


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment, practice_zone()):%Y-%m-%d %H:%M}"


def _lock(inquiry: Inquiry, action: str) -> None:
    """Inside the action's transaction: hold the inquiry's row and check that nobody moved it on
    since it was read (two people pressing the same button)."""
    current = Inquiry.objects.select_for_update().only("status").get(pk=inquiry.pk)
    if current.status != inquiry.status:
        _refuse_if_not_allowed(action, current.status)
        raise field_error(
            "status",
            "Someone else changed this inquiry meanwhile. Look at it again before going on.",
            "changed",
        )


def _save_step(
    *,
    actor: User | None,
    inquiry: Inquiry,
    action: str,
    before: Mapping[str, Any],
    kind: str,
    summary: str,
    note: str = "",
    client: Client | None = None,
) -> None:
    """The second half of every change, in the caller's transaction: the inquiry, its history
    step and the audit event `inquiry.<action>` with the fields that changed."""
    inquiry.updated_by = actor
    inquiry.save()
    InquiryStep.objects.create(
        inquiry=inquiry, kind=kind, summary=summary[:200], note=note, created_by=actor
    )
    old, new = audit.changed(before, _before(inquiry))
    audit.record(
        actor=actor,
        action=f"inquiry.{action}",
        subject_type="inquiry",
        subject_public_id=inquiry.public_id,
        client_public_id=client.public_id if client is not None else None,
        before=old,
        after=new,
    )


def _before(inquiry: Inquiry) -> dict[str, Any]:
    return audit.snapshot(inquiry, [*TRACKED_FIELDS, "client"])


def _set_status(inquiry: Inquiry, status: str) -> None:
    if status != inquiry.status:
        inquiry.status = status
        inquiry.status_changed_at = now()


def inquiry_create(*, actor: User | None, fields: Mapping[str, Any], consent: bool) -> Inquiry:
    """Record an inquiry. From the public form the actor is None; the caller's address is then
    left out of the audit event (a member of the public is not tracked by address)."""
    unknown = set(fields) - set(INQUIRY_FIELDS)
    if unknown:
        raise ValidationError(
            {name: ValidationError("Unknown field.", code="unknown_field") for name in unknown}
        )
    values = {name: _clean_text(value) for name, value in fields.items()}
    inquiry = Inquiry(**values, consented_at=now(), created_by=actor, updated_by=actor)
    errors: dict[str, list[ValidationError]] = {}
    try:
        inquiry.full_clean()
    except ValidationError as error:
        errors = dict(error.error_dict)
    problems = rules.contact_problems(
        email=inquiry.email, phone=inquiry.phone, channel=inquiry.preferred_channel
    )
    for name, (message, code) in problems.items():
        errors.setdefault(name, []).append(ValidationError(message, code=code))
    if not consent:
        errors["consent"] = [
            ValidationError(
                "Tick the box to agree to be contacted, so the practice can reply to you.",
                code="required",
            )
        ]
    if errors:
        raise ValidationError(errors)

    work = context.current()
    anonymous = dataclasses.replace(work, ip=None) if actor is None else work
    with transaction.atomic(), context.working_as(anonymous):
        inquiry.save()
        InquiryStep.objects.create(
            inquiry=inquiry,
            kind=StepKind.RECEIVED,
            summary="Sent from the inquiry form" if actor is None else f"Entered by {actor}",
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="inquiry.create",
            subject_type="inquiry",
            subject_public_id=inquiry.public_id,
            after=audit.snapshot(inquiry, AUDITED_FIELDS),
        )
    return inquiry


def inquiry_contact(*, actor: User, inquiry: Inquiry, note: str = "") -> Inquiry:
    """Someone reached (or tried to reach) the person; the note says how it went."""
    _refuse_if_not_allowed("contact", inquiry.status)
    note = _clean_note(note)
    before = _before(inquiry)
    with transaction.atomic():
        _lock(inquiry, "contact")
        _set_status(inquiry, rules.status_after("contact", inquiry.status))
        inquiry.contacted_at = now()
        _save_step(
            actor=actor,
            inquiry=inquiry,
            action="contact",
            before=before,
            kind=StepKind.CONTACTED,
            summary="Contacted",
            note=note,
        )
    return inquiry


def inquiry_book_consultation(
    *,
    actor: User,
    inquiry: Inquiry,
    starts_at: dt.datetime,
    clinician: User,
    note: str = "",
) -> Inquiry:
    """Book (or move) the free consultation, at a time still to come, with a therapist or a
    prescriber."""
    _refuse_if_not_allowed("book", inquiry.status)
    errors: dict[str, list[ValidationError]] = {}
    if timezone.is_naive(starts_at):
        raise field_error("consultation_at", "The time needs its time zone.", "naive")
    if starts_at <= now():
        errors["consultation_at"] = [
            ValidationError(
                f"The consultation time {_local(starts_at)} has already passed: choose a date "
                "and time in the future.",
                code="past",
            )
        ]
    if not clinician.is_active:
        errors["clinician"] = [
            ValidationError(f"{clinician} is not an active staff member.", code="inactive")
        ]
    elif not (clinician.is_therapist or clinician.is_prescriber):
        errors["clinician"] = [
            ValidationError(
                f"{clinician} cannot hold a consultation: choose a therapist or a prescriber.",
                code="wrong_role",
            )
        ]
    try:
        note = _clean_note(note)
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    before = _before(inquiry)
    moving = inquiry.status == InquiryStatus.BOOKED
    with transaction.atomic():
        _lock(inquiry, "book")
        _set_status(inquiry, rules.status_after("book", inquiry.status))
        inquiry.consultation_at = starts_at
        inquiry.consultation_with = clinician
        inquiry.consultation_outcome = ""
        _save_step(
            actor=actor,
            inquiry=inquiry,
            action="book_consultation",
            before=before,
            kind=StepKind.BOOKED,
            summary=(
                f"Consultation {'moved to' if moving else 'booked for'} {_local(starts_at)} "
                f"with {clinician}"
            ),
            note=note,
        )
    return inquiry


def inquiry_record_outcome(
    *, actor: User, inquiry: Inquiry, outcome: str, note: str = ""
) -> Inquiry:
    """How the booked consultation went. If it did not take place (did not attend, cancelled)
    the inquiry goes back to contacted, ready to be booked again."""
    _refuse_if_not_allowed("outcome", inquiry.status)
    if outcome not in ConsultationOutcome.values:
        raise field_error("outcome", f"Unknown outcome {outcome!r}.", "invalid_choice")
    booked_at = inquiry.consultation_at
    if booked_at is None:  # a booked inquiry always has its time; refuse rather than guess
        raise field_error("status", "No consultation time is recorded.", "not_booked")
    if rules.outcome_too_early(outcome, booked_at, now()):
        raise field_error(
            "outcome",
            f"The consultation is booked for {_local(booked_at)}. Record how it went once it "
            "has started, or record it as cancelled.",
            "not_yet",
        )
    note = _clean_note(note)
    before = _before(inquiry)
    with transaction.atomic():
        _lock(inquiry, "outcome")
        _set_status(inquiry, rules.status_after("outcome", inquiry.status, outcome))
        inquiry.consultation_outcome = outcome
        _save_step(
            actor=actor,
            inquiry=inquiry,
            action="record_outcome",
            before=before,
            kind=StepKind.OUTCOME,
            summary=f"Consultation: {ConsultationOutcome(outcome).label}",
            note=note,
        )
    return inquiry


def inquiry_close(*, actor: User, inquiry: Inquiry, reason: str, note: str = "") -> Inquiry:
    """Close an inquiry that will not become a client (declined, unreachable, ...)."""
    _refuse_if_not_allowed("close", inquiry.status)
    if reason not in CloseReason.values:
        raise field_error("reason", f"Unknown reason {reason!r}.", "invalid_choice")
    note = _clean_note(note)
    if reason == CloseReason.OTHER and not note:
        raise field_error("note", "Say in the note why the inquiry is closed.", "required")
    before = _before(inquiry)
    with transaction.atomic():
        _lock(inquiry, "close")
        _set_status(inquiry, rules.status_after("close", inquiry.status))
        inquiry.close_reason = reason
        _save_step(
            actor=actor,
            inquiry=inquiry,
            action="close",
            before=before,
            kind=StepKind.CLOSED,
            summary=f"Closed: {CloseReason(reason).label}",
            note=note,
        )
    return inquiry


def client_fields_from(inquiry: Inquiry) -> dict[str, Any]:
    """The client record's fields as the person gave them in their inquiry."""
    fields: dict[str, Any] = {
        "legal_given_names": inquiry.given_name,
        "legal_family_name": inquiry.family_name,
        "preferred_name": inquiry.preferred_name,
        "email": inquiry.email,
        "phone": inquiry.phone,
        "preferred_channel": inquiry.preferred_channel,
    }
    if inquiry.date_of_birth is not None:
        fields["date_of_birth"] = inquiry.date_of_birth
    return fields


def inquiry_convert(
    *,
    actor: User,
    inquiry: Inquiry,
    fields: Mapping[str, Any] | None = None,
    care_team: list[tuple[User, str]] | None = None,
    acknowledge_duplicate: bool = False,
) -> Client:
    """Make the inquiry a client: kapcare.clients.services.client_create with the inquiry's data
    (`fields` confirm or complete it: legal names, date of birth, sex assigned at birth), then
    link the two. A possible duplicate is refused by client_create as on the new-client page.
    The client starts at the consultation stage when a consultation was booked or held, or at
    screening when the consultation found them suitable."""
    _refuse_if_not_allowed("convert", inquiry.status)
    values = {**client_fields_from(inquiry), **(fields or {})}
    starts_at = rules.client_status_on_convert(inquiry.status, inquiry.consultation_outcome)
    before = _before(inquiry)
    with transaction.atomic():
        _lock(inquiry, "convert")
        # client_create validates before it writes; its errors (and a possible duplicate)
        # leave this transaction, and so everything, unwritten.
        client = client_create(
            actor=actor,
            fields=values,
            care_team=care_team,
            acknowledge_duplicate=acknowledge_duplicate,
        )
        if starts_at != client.status:
            client_change_status(
                actor=actor, client=client, status=starts_at, reason="Converted from an inquiry"
            )
        _set_status(inquiry, rules.status_after("convert", inquiry.status))
        inquiry.client = client
        _save_step(
            actor=actor,
            inquiry=inquiry,
            action="convert",
            before=before,
            kind=StepKind.CONVERTED,
            summary=f"Became a client: {client.display_name}",
            client=client,
        )
    return client
