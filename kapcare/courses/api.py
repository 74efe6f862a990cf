"""Protocols, courses, consents, REMS enrolments, rooms, appointments and schedules in the JSON
API.

Everything about a client goes through the access getter: reads that show the record through
open_chart (audited as `client.read`), writes through access_client(write=True) and the courses
services, which validate, audit and raise ValidationError keyed by field (the API's 400). A
course or an appointment is looked up through its client, never by its own id alone.

Routes that take only a POST accept an empty body at the schema level and refuse a missing
field after the access check (rule `required`): someone outside the care team learns nothing
from a malformed request that they would not learn about a client who does not exist.

The protocols and rooms are practice-wide (no client data, not audited). A schedule names a
client only to someone who may see that client, as the schedule pages do.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NoReturn

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.api_schemas import StrictSchema
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_today, practice_zone
from kapcare.courses import calendar, parameters, services
from kapcare.courses import plan as plans
from kapcare.courses.models import (
    Appointment,
    Consent,
    Course,
    GateOverride,
    RemsEnrollment,
    Room,
)
from kapcare.courses.protocols import BY_CODE, PROTOCOLS, SETTINGS, Protocol
from kapcare.courses.selectors import course_gates
from kapcare.parameters.selectors import settings_for

router = Router(tags=["courses"])

CLIENT = "/clients/{client_id}"
SETTING_INFO = {name: (label, unit, low, high) for name, label, unit, low, high in SETTINGS}


def _required(field: str) -> NoReturn:
    raise field_error(field, "This is required.", "required")


# ---------------------------------------------------------------------------------------------
# Protocols


class SettingOut(Schema):
    name: str
    label: str
    unit: str
    value: int
    version: int
    source: str
    minimum: int
    maximum: int


class MeasureRuleOut(Schema):
    instruments: list[str]
    anchor: str
    offsets_hours: list[int]
    window_hours: int


class ProtocolOut(Schema):
    code: str
    name: str
    route: str
    needs_rems: bool
    settings: list[SettingOut]
    measures: list[MeasureRuleOut]


def _setting(name: str, value: int, version: int, source: str) -> dict[str, Any]:
    label, unit, low, high = SETTING_INFO[name]
    return {
        "name": name,
        "label": label,
        "unit": unit,
        "value": value,
        "version": version,
        "source": source,
        "minimum": low,
        "maximum": high,
    }


def _measures(protocol: Protocol) -> list[dict[str, Any]]:
    return [
        {
            "instruments": list(rule.instruments),
            "anchor": str(rule.anchor),
            "offsets_hours": list(rule.offsets_hours),
            "window_hours": rule.window_hours,
        }
        for rule in protocol.measures
    ]


def _protocols_in_force(protocols: list[Protocol]) -> list[dict[str, Any]]:
    """Each protocol with the value, version and source of every setting now in force (one
    query for them all)."""
    keys = [key for protocol in protocols for key in parameters.keys_for(protocol.code)]
    current = settings_for(keys)
    found = []
    for protocol in protocols:
        settings = []
        for name, *_ in SETTINGS:
            setting = current[parameters.key(protocol.code, name)]
            settings.append(_setting(name, int(setting.value), setting.version, setting.source))
        found.append(
            {
                "code": protocol.code,
                "name": protocol.name,
                "route": protocol.route,
                "needs_rems": protocol.needs_rems,
                "settings": settings,
                "measures": _measures(protocol),
            }
        )
    return found


@router.get(
    "/protocols",
    response=list[ProtocolOut],
    summary="The protocols, each setting with the value in force, its version and source",
)
def list_protocols(request: HttpRequest) -> list[dict[str, Any]]:
    api_caller(request)
    return _protocols_in_force(list(PROTOCOLS))


@router.get("/protocols/{code}", response=ProtocolOut, summary="One protocol")
def read_protocol(request: HttpRequest, code: str) -> dict[str, Any]:
    api_caller(request)
    protocol = BY_CODE.get(code)
    if protocol is None:
        raise Http404("No such protocol.")
    return _protocols_in_force([protocol])[0]


# ---------------------------------------------------------------------------------------------
# Courses


class GateOut(Schema):
    code: str
    title: str
    passed: bool
    reason: str
    source: str


class CourseOut(Schema):
    id: uuid.UUID
    protocol: str
    protocol_name: str
    route: str
    phase: str
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str
    goals: str
    modalities: list[str]
    settings: list[SettingOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class CourseDetailOut(CourseOut):
    gates: list[GateOut]


class CourseIn(StrictSchema):
    protocol: str
    started_on: dt.date | None = None  # today (in the practice's zone) when left out
    goals: str = ""
    modalities: list[str] = Field(default_factory=list)


class PhaseIn(StrictSchema):
    # Empty is refused (rule required) after the access check.
    phase: str = ""
    reason: str = ""


def course_out(course: Course) -> dict[str, Any]:
    plan = course.plan
    return {
        "id": course.public_id,
        "protocol": course.protocol,
        "protocol_name": plan.name,
        "route": plan.route,
        "phase": course.phase,
        "started_on": course.started_on,
        "ended_on": course.ended_on,
        "end_reason": course.end_reason,
        "goals": course.goals,
        "modalities": list(course.modalities),
        "settings": [
            _setting(
                name,
                getattr(plan, name).value,
                getattr(plan, name).version,
                getattr(plan, name).source,
            )
            for name, *_ in SETTINGS
        ],
        "created_at": course.created_at,
        "updated_at": course.updated_at,
    }


def course_detail_out(course: Course) -> dict[str, Any]:
    return course_out(course) | {
        "gates": [
            {
                "code": gate.code,
                "title": gate.title,
                "passed": gate.passed,
                "reason": gate.reason,
                "source": gate.source,
            }
            for gate in course_gates(course)
        ]
    }


def _course(client: Client, course_id: uuid.UUID) -> Course:
    course = client.courses.filter(public_id=course_id).first()
    if course is None:
        raise Http404("No such course for this client.")
    return course


@router.get(f"{CLIENT}/courses", response=list[CourseOut], summary="The client's courses")
def list_courses(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.courses")
    return [course_out(course) for course in client.courses.all()]


@router.post(
    f"{CLIENT}/courses",
    response={201: CourseDetailOut},
    summary="Start a course (the protocol's settings in force are pinned to it)",
)
def start_course(
    request: HttpRequest, client_id: uuid.UUID, payload: CourseIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    course = services.course_start(
        actor=user,
        client=client,
        protocol=payload.protocol,
        started_on=payload.started_on or practice_today(),
        goals=payload.goals,
        modalities=payload.modalities,
    )
    return Status(201, course_detail_out(course))


@router.get(
    f"{CLIENT}/courses/{{course_id}}",
    response=CourseDetailOut,
    summary="One course: phase, pinned settings, goals, modalities and the gates before a dose",
)
def read_course(request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID) -> dict[str, Any]:
    client = open_chart(api_caller(request), client_id, view="api.course")
    return course_detail_out(_course(client, course_id))


class DueOut(Schema):
    instrument: str
    anchor: str
    anchor_at: dt.datetime
    opens_at: dt.datetime
    closes_at: dt.datetime
    state: str = Field(description="done, due, overdue or upcoming")


class DoseWindowOut(Schema):
    dose: uuid.UUID
    dose_state: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    state: str = Field(description="held, booked, at_risk or missed")
    integrations: list[uuid.UUID]


class PlanOut(Schema):
    course: uuid.UUID
    phase: str
    preparation_held: int
    preparation_required: int
    doses_held: int
    induction_doses: int
    review_due: bool
    integration: list[DoseWindowOut]
    due: list[DueOut]


@router.get(
    f"{CLIENT}/courses/{{course_id}}/plan",
    response=PlanOut,
    summary="The course plan: each dose's integration window and state, and the measurement "
    "due list with each item's state",
)
def read_plan(request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID) -> dict[str, Any]:
    client = open_chart(api_caller(request), client_id, view="api.course_plan")
    course = _course(client, course_id)
    plan = plans.course_plan(course, now=now())
    return {
        "course": course.public_id,
        "phase": course.phase,
        "preparation_held": plan.prep_held,
        "preparation_required": plan.protocol.prep_min.value,
        "doses_held": plan.doses_held,
        "induction_doses": plan.protocol.induction_doses.value,
        "review_due": plan.review_due,
        "integration": [
            {
                "dose": item.dose.public_id,
                "dose_state": item.dose.state,
                "opens_at": item.opens_at,
                "closes_at": item.closes_at,
                "state": item.state,
                "integrations": [session.public_id for session in item.sessions],
            }
            for item in plan.doses
        ],
        "due": [
            {
                "instrument": due.instrument,
                "anchor": due.anchor.value,
                "anchor_at": due.anchor_at,
                "opens_at": due.opens_at,
                "closes_at": due.closes_at,
                "state": state,
            }
            for due, state in plan.dues
        ],
    }


@router.post(
    f"{CLIENT}/courses/{{course_id}}/phase",
    response=CourseDetailOut,
    summary="Move the course to its next phase (discontinued needs a reason)",
)
def change_phase(
    request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID, payload: PhaseIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    course = _course(client, course_id)
    if not payload.phase:
        _required("phase")
    course = services.course_change_phase(
        actor=user, course=course, phase=payload.phase, reason=payload.reason
    )
    return course_detail_out(course)


# ---------------------------------------------------------------------------------------------
# Consents and REMS enrolments


class ConsentIn(StrictSchema):
    route: str
    signed_on: dt.date
    form_version: str


class ConsentOut(Schema):
    id: uuid.UUID
    route: str
    signed_on: dt.date
    form_version: str
    withdrawn_on: dt.date | None
    recorded_at: dt.datetime


class RemsIn(StrictSchema):
    enrolled_on: dt.date
    reference: str


class RemsOut(Schema):
    id: uuid.UUID
    enrolled_on: dt.date
    reference: str
    recorded_at: dt.datetime


def consent_out(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.public_id,
        "route": consent.route,
        "signed_on": consent.signed_on,
        "form_version": consent.form_version,
        "withdrawn_on": consent.withdrawn_on,
        "recorded_at": consent.created_at,
    }


def rems_out(enrollment: RemsEnrollment) -> dict[str, Any]:
    return {
        "id": enrollment.public_id,
        "enrolled_on": enrollment.enrolled_on,
        "reference": enrollment.reference,
        "recorded_at": enrollment.created_at,
    }


@router.get(f"{CLIENT}/consents", response=list[ConsentOut], summary="The client's consents")
def list_consents(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.consents")
    return [consent_out(consent) for consent in client.consents.all()]


@router.post(
    f"{CLIENT}/consents",
    response={201: ConsentOut},
    summary="Record informed consent for a route, on a named version of the form",
)
def record_consent(
    request: HttpRequest, client_id: uuid.UUID, payload: ConsentIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    consent = services.consent_record(actor=user, client=client, **payload.dict())
    return Status(201, consent_out(consent))


@router.get(
    f"{CLIENT}/rems-enrolments",
    response=list[RemsOut],
    summary="The client's esketamine REMS enrolments",
)
def list_rems(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.rems_enrolments")
    return [rems_out(item) for item in client.rems_enrollments.all()]


@router.post(
    f"{CLIENT}/rems-enrolments",
    response={201: RemsOut},
    summary="Record the client's esketamine REMS enrolment",
)
def record_rems(
    request: HttpRequest, client_id: uuid.UUID, payload: RemsIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    enrollment = services.rems_enroll(actor=user, client=client, **payload.dict())
    return Status(201, rems_out(enrollment))


# ---------------------------------------------------------------------------------------------
# Rooms


class RoomOut(Schema):
    id: uuid.UUID
    name: str
    active: bool


def room_out(room: Room) -> dict[str, Any]:
    return {"id": room.public_id, "name": room.name, "active": room.active}


@router.get(
    "/rooms", response=list[RoomOut], summary="The rooms (include_inactive=true adds retired ones)"
)
def list_rooms(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    api_caller(request)
    rooms = Room.objects.all() if include_inactive else Room.objects.filter(active=True)
    return [room_out(room) for room in rooms]


# ---------------------------------------------------------------------------------------------
# Appointments


class StaffRef(Schema):
    id: uuid.UUID
    name: str


class OverrideOut(Schema):
    gate: str
    gate_reason: str
    reason: str
    overridden_by: StaffRef
    overridden_at: dt.datetime


class AppointmentOut(Schema):
    id: uuid.UUID
    course: uuid.UUID | None
    kind: str
    state: str
    state_reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    clinician: StaffRef
    second_clinician: StaffRef | None
    room: RoomOut | None
    overrides: list[OverrideOut]


class AppointmentIn(StrictSchema):
    kind: str
    starts_at: AwareDatetime
    minutes: int | None = Field(
        None, description="Length; left out, the course's pinned length for the kind"
    )
    clinician: uuid.UUID
    second_clinician: uuid.UUID | None = None
    room: uuid.UUID | None = None
    course: uuid.UUID | None = None
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="A prescriber's reason for each failed gate: code → reason",
    )


class RescheduleIn(StrictSchema):
    # Empty is refused (rule required) after the access check.
    starts_at: AwareDatetime | None = None
    minutes: int | None = None  # the present length when left out
    room: uuid.UUID | None = None  # the present room when left out
    reason: str = ""
    overrides: dict[str, str] = Field(default_factory=dict)


class StateIn(StrictSchema):
    # held, no_show or cancelled; empty is refused (rule required) after the access check.
    state: str = ""
    reason: str = ""


def _staff_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.public_id, "name": str(user)}


def appointment_out(appointment: Appointment) -> dict[str, Any]:
    """Expects clinicians, room, course and the overrides (with who made them) loaded."""
    return {
        "id": appointment.public_id,
        "course": appointment.course.public_id if appointment.course else None,
        "kind": appointment.kind,
        "state": appointment.state,
        "state_reason": appointment.state_reason,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "clinician": _staff_ref(appointment.clinician),
        "second_clinician": _staff_ref(appointment.second_clinician),
        "room": room_out(appointment.room) if appointment.room else None,
        "overrides": [
            {
                "gate": override.gate,
                "gate_reason": override.gate_reason,
                "reason": override.reason,
                "overridden_by": _staff_ref(override.overridden_by),
                "overridden_at": override.created_at,
            }
            for override in appointment.gate_overrides.all()
        ],
    }


def _appointments(client: Client) -> QuerySet[Appointment]:
    overrides = GateOverride.objects.select_related("overridden_by").order_by("id")
    return (
        Appointment.objects.filter(client=client)
        .select_related("clinician", "second_clinician", "room", "course")
        .prefetch_related(Prefetch("gate_overrides", queryset=overrides))
    )


def _appointment(client: Client, appointment_id: uuid.UUID) -> Appointment:
    return get_object_or_404(_appointments(client), public_id=appointment_id)


def _staff(field: str, staff_id: uuid.UUID) -> User:
    user = User.objects.filter(public_id=staff_id, is_active=True).first()
    if user is None:
        raise field_error(field, f"No active staff member has the id {staff_id}.", "unknown_staff")
    return user


def _room(room_id: uuid.UUID) -> Room:
    room = Room.objects.filter(public_id=room_id).first()
    if room is None:
        raise field_error("room", f"No room has the id {room_id}.", "unknown")
    return room


def _maybe_room(room_id: uuid.UUID | None) -> Room | None:
    return None if room_id is None else _room(room_id)


@router.get(
    f"{CLIENT}/appointments",
    response=list[AppointmentOut],
    summary="The client's appointments, in time order (cancelled ones included)",
)
def list_appointments(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.appointments")
    return [appointment_out(appointment) for appointment in _appointments(client)]


@router.post(
    f"{CLIENT}/appointments",
    response={201: AppointmentOut},
    summary="Book a session; a dose runs the gates (a prescriber may override with reasons)",
)
def book_appointment(
    request: HttpRequest, client_id: uuid.UUID, payload: AppointmentIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    course = None
    if payload.course is not None:
        course = client.courses.filter(public_id=payload.course).first()
        if course is None:
            raise field_error("course", "The client has no course with this id.", "unknown")
    minutes = payload.minutes
    if minutes is None:
        found = plans.protocol_minutes(course, payload.kind) if course is not None else None
        if found is None:
            _required("minutes")
        minutes = found
    second = payload.second_clinician
    appointment = services.appointment_book(
        actor=user,
        client=client,
        kind=payload.kind,
        starts_at=payload.starts_at,
        minutes=minutes,
        clinician=_staff("clinician", payload.clinician),
        second_clinician=_staff("second_clinician", second) if second else None,
        room=_maybe_room(payload.room),
        course=course,
        overrides=payload.overrides,
    )
    return Status(201, appointment_out(_appointment(client, appointment.public_id)))


@router.post(
    f"{CLIENT}/appointments/{{appointment_id}}/reschedule",
    response=AppointmentOut,
    summary="Move a booked session (checked as a new booking), with the reason",
)
def reschedule_appointment(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID, payload: RescheduleIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    appointment = _appointment(client, appointment_id)
    if payload.starts_at is None:
        _required("starts_at")
    services.appointment_reschedule(
        actor=user,
        appointment=appointment,
        starts_at=payload.starts_at,
        minutes=payload.minutes,
        room=_maybe_room(payload.room),
        reason=payload.reason,
        overrides=payload.overrides,
    )
    return appointment_out(_appointment(client, appointment_id))


@router.post(
    f"{CLIENT}/appointments/{{appointment_id}}/state",
    response=AppointmentOut,
    summary="Mark a session held, did not attend (no_show) or cancelled (with a reason)",
)
def mark_appointment(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID, payload: StateIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    appointment = _appointment(client, appointment_id)
    if not payload.state:
        _required("state")
    services.appointment_mark(
        actor=user, appointment=appointment, state=payload.state, reason=payload.reason
    )
    return appointment_out(_appointment(client, appointment_id))


# ---------------------------------------------------------------------------------------------
# Schedules


class ScheduleQuery(Schema):
    clinician: uuid.UUID | None = None
    room: uuid.UUID | None = None
    start: dt.date | None = None  # today (in the practice's zone) when left out
    end: dt.date | None = None  # the sixth day after start when left out; inclusive
    include_cancelled: bool = False


class ScheduleItemOut(Schema):
    visible: bool
    id: uuid.UUID | None
    client: uuid.UUID | None
    kind: str
    state: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    date: dt.date
    clinician: StaffRef | None
    second_clinician: StaffRef | None
    room: RoomOut | None


class ScheduleOut(Schema):
    clinician: StaffRef | None
    room: RoomOut | None
    start: dt.date
    end: dt.date
    time_zone: str
    appointments: list[ScheduleItemOut]


def schedule_item(entry: calendar.Entry) -> dict[str, Any]:
    """What anyone may see (the kind and the time); the rest only when the viewer may see the
    client."""
    appointment = entry.appointment
    item: dict[str, Any] = {
        "visible": entry.client is not None,
        "id": None,
        "client": None,
        "kind": appointment.kind,
        "state": appointment.state,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "date": entry.starts.date(),
        "clinician": None,
        "second_clinician": None,
        "room": None,
    }
    if entry.client is not None:
        item |= {
            "id": appointment.public_id,
            "client": entry.client.public_id,
            "clinician": _staff_ref(appointment.clinician),
            "second_clinician": _staff_ref(appointment.second_clinician),
            "room": room_out(appointment.room) if appointment.room else None,
        }
    return item


@router.get(
    "/schedule",
    response=ScheduleOut,
    summary="One clinician's or one room's appointments over a range of days",
)
def read_schedule(request: HttpRequest, query: Query[ScheduleQuery]) -> dict[str, Any]:
    user = api_caller(request)
    if (query.clinician is None) == (query.room is None):
        raise field_error(
            "clinician", "Send either a clinician's id or a room's id (one of them).", "one_of"
        )
    start = query.start or practice_today()
    end = query.end or start + dt.timedelta(days=6)
    if end < start:
        raise field_error("end", "The range ends before it starts.", "end_before_start")
    if (end - start).days + 1 > calendar.MAX_RANGE_DAYS:
        raise field_error("end", f"At most {calendar.MAX_RANGE_DAYS} days at a time.", "too_long")
    zone = practice_zone()
    since, until = calendar.day_range(start, end, zone)
    person: User | None = None
    room: Room | None = None
    subject: User | Room
    if query.clinician is not None:
        person = User.objects.filter(public_id=query.clinician).first()
        if person is None:
            raise field_error("clinician", "No staff member has this id.", "unknown")
        subject = person
        found = calendar.clinician_appointments(
            person, since, until, include_cancelled=query.include_cancelled
        )
    elif query.room is not None:
        room = subject = _room(query.room)
        found = calendar.room_appointments(
            room, since, until, include_cancelled=query.include_cancelled
        )
    appointments = list(found)
    entries = calendar.entries(appointments, calendar.visible_names(user, appointments), zone)
    calendar.record_schedule_read(
        viewer=user,
        of="clinician" if person is not None else "room",
        subject=subject,
        start=since,
        end=until,
        entries=entries,
    )
    return {
        "clinician": _staff_ref(person),
        "room": room_out(room) if room else None,
        "start": start,
        "end": end,
        "time_zone": str(zone),
        "appointments": [schedule_item(entry) for entry in entries],
    }
