"""Writes for courses and appointments (habit 2: validate, then one audited transaction). Booking
a dosing session runs the gates; a failed gate is refused with its reason unless a prescriber
overrides it with a reason of their own."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import localtime

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_today
from kapcare.courses import parameters, rules, tasks
from kapcare.courses.models import (
    CLOSED_PHASES,
    Appointment,
    Consent,
    Course,
    GateOverride,
    Kind,
    Modality,
    Phase,
    RemsEnrollment,
    Room,
    State,
)
from kapcare.courses.protocols import BY_CODE
from kapcare.courses.selectors import course_gates

REASON_MAX = 300  # the columns' length; longer text is refused, never cut
BOOKING_GRACE = dt.timedelta(minutes=5)  # a booking "now" made a moment late is not in the past


def _require_clinician(actor: User, field: str) -> None:
    if not actor.is_clinician:
        raise field_error(
            field, "Only a therapist, prescriber or nurse can do this.", "not_clinician"
        )


def _text(value: str, field: str, *, required: bool, errors: dict[str, ValidationError]) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = ValidationError("This is required.", code="required")
    elif len(value) > REASON_MAX:
        errors[field] = ValidationError(f"At most {REASON_MAX} characters.", code="max_length")
    return value


# ---------------------------------------------------------------------------------------------
# Courses, consents, REMS enrolment


def course_start(
    *,
    actor: User,
    client: Client,
    protocol: str,
    started_on: dt.date,
    goals: str = "",
    modalities: Sequence[str] = (),
) -> Course:
    _require_clinician(actor, "protocol")
    errors: dict[str, ValidationError] = {}
    if protocol not in BY_CODE:
        errors["protocol"] = ValidationError("Choose a protocol.", code="invalid_choice")
    if started_on > practice_today():
        errors["started_on"] = ValidationError("This date is in the future.", code="future")
    unknown = [m for m in modalities if m not in Modality.values]
    if unknown:
        errors["modalities"] = ValidationError(
            f"Unknown modalities: {', '.join(unknown)}.", code="invalid_choice"
        )
    open_course = Course.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES).first()
    if open_course is not None:
        errors["protocol"] = ValidationError(
            f"The client already has an open course ({open_course}); end it first.",
            code="open_course",
        )
    if errors:
        raise ValidationError(errors)
    course = Course(
        client=client,
        protocol=protocol,
        protocol_settings=parameters.snapshot(protocol),
        started_on=started_on,
        goals=goals.strip(),
        modalities=list(dict.fromkeys(modalities)),
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        course.save()
        audit.record(
            actor=actor,
            action="course.start",
            subject_type="course",
            subject_public_id=course.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(
                course, ["protocol", "protocol_settings", "started_on", "goals", "modalities"]
            ),
        )
        tasks.course_started(course)  # queues the measurement sends on commit
    return course


NEXT_PHASES = {
    Phase.PREPARATION: (Phase.INDUCTION, Phase.DISCONTINUED),
    Phase.INDUCTION: (Phase.MAINTENANCE, Phase.COMPLETED, Phase.DISCONTINUED),
    Phase.MAINTENANCE: (Phase.COMPLETED, Phase.DISCONTINUED),
}


def course_change_phase(*, actor: User, course: Course, phase: str, reason: str = "") -> Course:
    """Move a course along preparation → induction → maintenance → completed; discontinued
    (with its reason) from any open phase."""
    _require_clinician(actor, "phase")
    errors: dict[str, ValidationError] = {}
    allowed = NEXT_PHASES.get(Phase(course.phase), ())
    if phase not in allowed:
        errors["phase"] = ValidationError(
            f"A course in {course.get_phase_display().lower()} cannot move to {phase}.",
            code="invalid_transition",
        )
    reason = _text(reason, "reason", required=phase == Phase.DISCONTINUED, errors=errors)
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(course, ["phase", "ended_on", "end_reason"])
    with transaction.atomic():
        course.phase = phase
        if phase in CLOSED_PHASES:
            course.ended_on = practice_today()
            course.end_reason = reason
        course.updated_by = actor
        course.save()
        old, new = audit.changed(
            before, audit.snapshot(course, ["phase", "ended_on", "end_reason"])
        )
        audit.record(
            actor=actor,
            action="course.phase",
            subject_type="course",
            subject_public_id=course.public_id,
            client_public_id=course.client.public_id,
            before=old,
            after=new,
        )
    return course


def consent_record(
    *, actor: User, client: Client, route: str, signed_on: dt.date, form_version: str
) -> Consent:
    _require_clinician(actor, "route")
    consent = Consent(
        client=client,
        route=route,
        signed_on=signed_on,
        form_version=form_version.strip(),
        created_by=actor,
        updated_by=actor,
    )
    errors: dict[str, Any] = {}
    try:
        consent.full_clean(exclude=["client"])
    except ValidationError as error:
        errors.update(error.error_dict)
    if signed_on and signed_on > practice_today():
        errors["signed_on"] = [ValidationError("This date is in the future.", code="future")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent.save()
        audit.record(
            actor=actor,
            action="consent.record",
            subject_type="consent",
            subject_public_id=consent.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(consent, ["route", "signed_on", "form_version"]),
        )
    return consent


def rems_enroll(
    *, actor: User, client: Client, enrolled_on: dt.date, reference: str
) -> RemsEnrollment:
    _require_clinician(actor, "reference")
    errors: dict[str, ValidationError] = {}
    reference = _text(reference, "reference", required=True, errors=errors)
    if enrolled_on > practice_today():
        errors["enrolled_on"] = ValidationError("This date is in the future.", code="future")
    if errors:
        raise ValidationError(errors)
    enrollment = RemsEnrollment(
        client=client,
        enrolled_on=enrolled_on,
        reference=reference,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        enrollment.save()
        audit.record(
            actor=actor,
            action="rems.enroll",
            subject_type="rems_enrollment",
            subject_public_id=enrollment.public_id,
            client_public_id=client.public_id,
            after={"enrolled_on": enrolled_on.isoformat(), "reference": reference},
        )
    return enrollment


# ---------------------------------------------------------------------------------------------
# Rooms


def room_save(*, actor: User, name: str, active: bool = True, room: Room | None = None) -> Room:
    """Add a room, or rename / take out of use / bring back an existing one (practice admins)."""
    if not actor.is_practice_admin:
        raise field_error("name", "Only a practice admin manages rooms.", "not_admin")
    name = (name or "").strip()
    if not name:
        raise field_error("name", "This is required.", "required")
    if len(name) > 80:
        raise field_error("name", "At most 80 characters.", "max_length")
    clash = Room.objects.filter(name__iexact=name)
    if room is not None:
        clash = clash.exclude(pk=room.pk)
    if clash.exists():
        raise field_error("name", "A room with this name exists.", "unique")
    before = audit.snapshot(room, ["name", "active"]) if room is not None else {}
    target = room or Room(created_by=actor)
    target.name, target.active, target.updated_by = name, active, actor
    with transaction.atomic():
        target.save()
        old, new = audit.changed(before, audit.snapshot(target, ["name", "active"]))
        audit.record(
            actor=actor,
            action="room.save",
            subject_type="room",
            subject_public_id=target.public_id,
            before=old,
            after=new,
        )
    return target


# ---------------------------------------------------------------------------------------------
# Appointments


def _label(appointment: Appointment) -> str:
    """How a clashing appointment is named to someone who may not see its client: kind, time,
    room and clinicians, never the client."""
    start, end = localtime(appointment.starts_at), localtime(appointment.ends_at)
    people = " and ".join(
        str(p) for p in (appointment.clinician, appointment.second_clinician) if p is not None
    )
    room = f", {appointment.room}" if appointment.room else ""
    return (
        f"{appointment.get_kind_display()} {start:%a %b %-d %H:%M}–{end:%H:%M}{room} with {people}"
    )


def _conflicts(candidate: Appointment) -> list[rules.Conflict]:
    people = [p.pk for p in (candidate.clinician, candidate.second_clinician) if p is not None]
    clash = Q(clinician__in=people) | Q(second_clinician__in=people)
    if candidate.room_id:
        clash |= Q(room=candidate.room_id)
    others = (
        Appointment.objects.filter(
            clash,
            state=State.BOOKED,
            starts_at__lt=candidate.ends_at,
            ends_at__gt=candidate.starts_at,
        )
        .exclude(pk=candidate.pk)
        .select_related("clinician", "second_clinician", "room")
        .select_for_update(of=("self",))
    )

    def booking(a: Appointment) -> rules.Booking:
        return rules.Booking(
            ref=str(a.public_id),
            label=_label(a) if a.pk else "",
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            clinicians=frozenset(
                str(p.pk) for p in (a.clinician, a.second_clinician) if p is not None
            ),
            room=str(a.room_id or ""),
        )

    found = rules.conflicts(booking(candidate), [booking(a) for a in others])
    # The rule matched people and rooms by id; name them for the person booking.
    names = {str(p.pk): str(p) for p in (candidate.clinician, candidate.second_clinician) if p}
    names[str(candidate.room_id or "")] = str(candidate.room)
    return [replace(c, who=names[c.who]) for c in found]


def _check_roles(candidate: Appointment, errors: dict[str, ValidationError]) -> None:
    lead, second = candidate.clinician, candidate.second_clinician
    if second is not None and second.pk == lead.pk:
        errors["second_clinician"] = ValidationError(
            "The second clinician must be someone else.", code="same_person"
        )
    if candidate.kind == Kind.DOSING:
        if not (lead.is_prescriber or lead.is_nurse):
            errors["clinician"] = ValidationError(
                "A dosing session's monitoring clinician is a prescriber or a nurse.",
                code="not_monitoring_clinician",
            )
        if second is None or not second.is_therapist:
            errors["second_clinician"] = ValidationError(
                "A dosing session needs a therapist with the monitoring clinician.",
                code="dyad_required",
            )
        if candidate.room is None:
            errors["room"] = ValidationError(
                "A dosing session needs a room for its whole length.", code="room_required"
            )
    elif not lead.is_clinician:
        errors["clinician"] = ValidationError(
            "Sessions are held by a therapist, prescriber or nurse.", code="not_clinician"
        )


def appointment_book(
    *,
    actor: User,
    client: Client,
    kind: str,
    starts_at: dt.datetime,
    minutes: int,
    clinician: User,
    second_clinician: User | None = None,
    room: Room | None = None,
    course: Course | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Appointment:
    """Book a session. Refused with the reason when a clinician or the room is already booked
    (naming the other appointment), when a dosing session lacks its dyad or room, or when a gate
    before a dose fails and no prescriber override (gate → reason) covers it."""
    _require_clinician(actor, "kind")
    errors: dict[str, ValidationError] = {}
    if kind not in Kind.values:
        raise field_error("kind", "Choose a kind of session.", "invalid_choice")
    if starts_at.tzinfo is None:
        raise field_error("starts_at", "The time needs its time zone.", "naive")
    if starts_at < now() - BOOKING_GRACE:
        errors["starts_at"] = ValidationError("This time has passed.", code="past")
    if not 5 <= minutes <= 12 * 60:
        errors["minutes"] = ValidationError(
            "A session lasts between 5 minutes and 12 hours.", code="out_of_range"
        )
    if course is not None and (course.client_id != client.pk or not course.is_open):
        errors["course"] = ValidationError("Not an open course of this client.", code="not_open")
    if kind in (Kind.DOSING, Kind.INTEGRATION, Kind.PREPARATION) and course is None:
        errors["course"] = ValidationError(
            "Preparation, dosing and integration sessions belong to a course.", code="required"
        )
    if room is not None and not room.active:
        errors["room"] = ValidationError("This room is not in use.", code="inactive")
    candidate = Appointment(
        client=client,
        course=course,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=max(minutes, 1)),
        clinician=clinician,
        second_clinician=second_clinician,
        room=room,
        created_by=actor,
        updated_by=actor,
    )
    _check_roles(candidate, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _save_checked(actor, candidate, dict(overrides or {}))
        audit.record(
            actor=actor,
            action="appointment.book",
            subject_type="appointment",
            subject_public_id=candidate.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(candidate, BOOKING_FIELDS),
        )
        tasks.appointment_changed(candidate)  # queues the reminder (and a dose's sends) on commit
    return candidate


BOOKING_FIELDS = ["kind", "starts_at", "ends_at", "clinician", "second_clinician", "room", "course"]


def _save_checked(actor: User, candidate: Appointment, overrides: dict[str, str]) -> None:
    """Inside the caller's transaction: refuse a clash (locking the rows it compares with) or a
    failed gate without a prescriber's override, then save with the overrides recorded."""
    clashes = _conflicts(candidate)
    if clashes:
        raise ValidationError(
            {
                "starts_at": [
                    ValidationError(f"{c.who} is already booked: {c.with_label}.", code="conflict")
                    for c in clashes
                ]
            }
        )
    failed: list[rules.Gate] = []
    if candidate.kind == Kind.DOSING and candidate.course is not None:
        gates = course_gates(
            candidate.course,
            dose_at=candidate.starts_at,
            excluding=candidate if candidate.pk else None,
        )
        failed = [g for g in gates if not g.passed]
        if overrides and not actor.is_prescriber:
            raise field_error(
                "overrides", "Only a prescriber can override a gate.", "not_prescriber"
            )
        missing = [g for g in failed if not (overrides.get(g.code) or "").strip()]
        if missing:
            raise ValidationError(
                {
                    "kind": [
                        ValidationError(f"{g.title}: {g.reason}", code=f"gate_{g.code}")
                        for g in missing
                    ]
                }
            )
    candidate.save()
    for gate in failed:
        GateOverride.objects.create(
            appointment=candidate,
            gate=gate.code,
            gate_reason=gate.reason[:300],
            reason=overrides[gate.code].strip(),
            overridden_by=actor,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            actor=actor,
            action="gate.override",
            subject_type="appointment",
            subject_public_id=candidate.public_id,
            client_public_id=candidate.client.public_id,
            after={"gate": gate.code, "failed": gate.reason, "reason": overrides[gate.code]},
        )


def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: dt.datetime,
    minutes: int | None = None,
    room: Room | None = None,
    reason: str,
    overrides: Mapping[str, str] | None = None,
) -> Appointment:
    """Move a booked session to another time (and room), with the reason. The new time is checked
    as a new booking would be: clashes, and for a dose its gates and spacing."""
    _require_clinician(actor, "starts_at")
    errors: dict[str, ValidationError] = {}
    if appointment.state != State.BOOKED:
        errors["state"] = ValidationError(
            f"A {appointment.get_state_display().lower()} appointment cannot be moved.",
            code="not_booked",
        )
    if starts_at.tzinfo is None:
        raise field_error("starts_at", "The time needs its time zone.", "naive")
    if starts_at < now() - BOOKING_GRACE:
        errors["starts_at"] = ValidationError("This time has passed.", code="past")
    length = (
        minutes
        if minutes is not None
        else int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    )
    if not 5 <= length <= 12 * 60:
        errors["minutes"] = ValidationError(
            "A session lasts between 5 minutes and 12 hours.", code="out_of_range"
        )
    if room is not None and not room.active:
        errors["room"] = ValidationError("This room is not in use.", code="inactive")
    reason = _text(reason, "reason", required=True, errors=errors)
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(appointment, ["starts_at", "ends_at", "room"])
    # Work on a copy, so that a refused move leaves the caller's object as it was.
    appointment = copy.copy(appointment)
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + dt.timedelta(minutes=length)
    if room is not None:
        appointment.room = room
    _check_roles(appointment, errors)
    if errors:
        raise ValidationError(errors)
    appointment.reminder_sent_at = None
    appointment.updated_by = actor
    with transaction.atomic():
        _save_checked(actor, appointment, dict(overrides or {}))
        old, new = audit.changed(
            before, audit.snapshot(appointment, ["starts_at", "ends_at", "room"])
        )
        audit.record(
            actor=actor,
            action="appointment.reschedule",
            subject_type="appointment",
            subject_public_id=appointment.public_id,
            client_public_id=appointment.client.public_id,
            before=old,
            after=new | {"reason": reason},
        )
        tasks.appointment_changed(appointment)  # the new time's reminder and sends, on commit
    return appointment


NEXT_STATES = {
    State.BOOKED: (State.HELD, State.CANCELLED, State.NO_SHOW),
}


def appointment_mark(
    *, actor: User, appointment: Appointment, state: str, reason: str = ""
) -> Appointment:
    """Held, did not attend, or cancelled (with a reason). A session is marked held or missed only
    once its time has come."""
    _require_clinician(actor, "state")
    errors: dict[str, ValidationError] = {}
    if state not in NEXT_STATES.get(State(appointment.state), ()):
        errors["state"] = ValidationError(
            f"A {appointment.get_state_display().lower()} appointment cannot become {state}.",
            code="invalid_transition",
        )
    elif state in (State.HELD, State.NO_SHOW) and appointment.starts_at > now():
        errors["state"] = ValidationError("This session has not started yet.", code="future")
    reason = _text(reason, "reason", required=state == State.CANCELLED, errors=errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        appointment.state = state
        appointment.state_reason = reason
        appointment.updated_by = actor
        appointment.save(update_fields=["state", "state_reason", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action=f"appointment.{state}",
            subject_type="appointment",
            subject_public_id=appointment.public_id,
            client_public_id=appointment.client.public_id,
            after={"state": state, "reason": reason},
        )
    return appointment
