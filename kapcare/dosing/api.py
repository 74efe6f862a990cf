"""Dosing sessions in the JSON API: open a session, the pre-dose check, the dose, the charted rows
(vitals, sedation and dissociation scores, side effects, interventions and therapeutic work),
adverse events, discharge and sign-off, with the same rules, services and audit as the pages.

Access: every path names the client. The client goes through access_client, a session is found
only among that client's sessions and then through `flowsheet.session_for` (clinicians on the
care team), so a session of another client, a session id that does not exist, a client outside
the caller's care teams and a caller who is not a therapist, prescriber or nurse all get the
same 404. Reading a session is audited (`dosing_session.read`); the lists through open_chart
(`client.read`).

Every POST accepts an empty body at the schema level and refuses a missing field after the
access check (rule `required`): someone outside the care team learns nothing from a malformed
request that they would not learn about a client who does not exist. Ids in a body (the
therapist present, the storage location, the row a correction corrects) are looked up before the
service runs; the services validate everything else and write nothing unless all of it passes.
Their ValidationErrors, keyed by field, are the API's 400 (`{"errors": [{field, rule, message}]}`);
a body that does not fit the schema is a 422 in the same shape.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.core.api_schemas import StrictSchema
from kapcare.core.forms import field_error
from kapcare.core.time import now
from kapcare.courses.models import Appointment
from kapcare.courses.protocols import BY_CODE
from kapcare.dosing import flowsheet, rules, services
from kapcare.dosing.flowsheet import can_chart, session_for
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    ScaleRow,
    Seriousness,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.dosing.selectors import awaiting_follow_up_first
from kapcare.stock.models import Location

router = Router(tags=["dosing"])

CLIENT = "/clients/{client_id}"
SESSION = f"{CLIENT}/dosing-sessions/{{session_id}}"

# Data-entry plausibility, not a clinical threshold: an infusion longer than a day is a slip.
INFUSION_MINUTES_MAX = 24 * 60


# ---------------------------------------------------------------------------------------------
# Access and input helpers


def _clinician(request: HttpRequest) -> User:
    """The caller, if they may chart a session at all (a therapist, prescriber or nurse);
    anyone else gets 404 on every endpoint here, as for a client outside their care team."""
    user = api_caller(request)
    if not can_chart(user):
        raise Http404("Not found.")
    return user


def _session(
    user: User,
    client_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    write: bool = False,
    audit_read: bool = False,
) -> DosingSession:
    """The session, found through the client in the path: a session of another client is 404,
    exactly as one that does not exist. The read is audited only once that is settled."""
    client = access_client(user, client_id, write=write)
    if not client.dosing_sessions.filter(public_id=session_id).exists():
        raise Http404("No such session for this client.")
    return session_for(user, session_id, audit_read=audit_read)


def _required(**values: object) -> None:
    """Refuse every missing field at once (rule `required`), after the access check."""
    missing = {
        name: ValidationError("This is required.", code="required")
        for name, value in values.items()
        if value is None
    }
    if missing:
        raise ValidationError(missing)


def _given[T](value: T | None, field: str) -> T:
    """A value `_required` has already checked (typed as present)."""
    if value is None:
        raise field_error(field, "This is required.", "required")
    return value


def _therapist(staff_id: uuid.UUID) -> User:
    user = User.objects.filter(public_id=staff_id).first()
    if user is None:
        raise field_error(
            "therapist_present", f"No staff member has the id {staff_id}.", "unknown_staff"
        )
    return user


def _location(location_id: uuid.UUID | None) -> Location | None:
    if location_id is None:
        return None
    location = Location.objects.filter(public_id=location_id).first()
    if location is None:
        raise field_error("location", f"No storage location has the id {location_id}.", "unknown")
    return location


def _corrected(model: type[Model], session: DosingSession, row_id: uuid.UUID | None) -> Any:
    """The row a correction names: one of this session's rows of the same kind, else refused
    with the service's rule for it."""
    if row_id is None:
        return None
    row = model._default_manager.filter(session=session, public_id=row_id).first()
    if row is None:
        raise field_error("corrects", "Not an entry of this session.", "not_found")
    return row


# ---------------------------------------------------------------------------------------------
# Output


class DosingStaffOut(Schema):
    id: uuid.UUID
    name: str


class DosingCheckOut(Schema):
    code: str
    title: str
    passed: bool
    reason: str
    source: str
    blocking: bool
    overridable: bool
    overridden_by: str = Field(description="The prescriber who overrode it; empty if none")
    override_reason: str


class PreCheckOut(Schema):
    passed: bool
    checked_by: DosingStaffOut | None
    checked_at: dt.datetime | None
    answers: dict[str, Any]
    checks: list[DosingCheckOut]
    parameter_versions: dict[str, int]


class DosingDoseOut(Schema):
    id: uuid.UUID
    route: str
    product: str
    concentration_mg_per_ml: decimal.Decimal | None
    lot: str
    expires_on: dt.date
    dose_mg: decimal.Decimal
    weight_kg: decimal.Decimal | None
    mg_per_kg: decimal.Decimal | None
    infusion_minutes: int | None
    devices: int | None
    given_at: dt.datetime
    completed_at: dt.datetime = Field(
        description="When the dose ended: the infusion's end, the last device, else given_at"
    )
    given_by: DosingStaffOut
    therapist_present: DosingStaffOut


class DosingAlertOut(Schema):
    code: str
    severity: str = Field(description="stop or watch")
    value: str
    threshold: str
    reason: str
    source: str


class DosingLineOut(Schema):
    kind: str = Field(description="vitals, moaas, cadss, side_effect or work")
    id: uuid.UUID
    taken_at: dt.datetime
    by: DosingStaffOut | None
    recorded_at: dt.datetime
    text: str
    values: dict[str, Any]
    corrects: uuid.UUID | None
    correction_reason: str
    corrected: bool
    corrected_by: uuid.UUID | None
    alerts: list[DosingAlertOut]


class DosingDueOut(Schema):
    at: dt.datetime
    label: str
    kind: str = Field(description="pre_dose, during, after, peak or discharge")
    state: str = Field(description="done, due, missed or upcoming")
    reading_at: dt.datetime | None


class DischargeOut(Schema):
    discharged_by: DosingStaffOut | None
    discharged_at: dt.datetime | None
    answers: dict[str, Any]
    checks: list[DosingCheckOut]
    parameter_versions: dict[str, int]


class SignOffOut(Schema):
    signed: bool
    monitor_signed_by: DosingStaffOut | None
    monitor_signed_at: dt.datetime | None
    therapist_signed_by: DosingStaffOut | None
    therapist_signed_at: dt.datetime | None


class DosingAppointmentOut(Schema):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    clinician: DosingStaffOut
    second_clinician: DosingStaffOut | None
    room: str | None


class DosingFlagOut(Schema):
    id: uuid.UUID
    rule: str
    reason: str
    raised_at: dt.datetime
    closed_at: dt.datetime | None


class AdverseEventOut(Schema):
    id: uuid.UUID
    session: uuid.UUID | None
    event: str
    onset_at: dt.datetime
    severity: str
    seriousness: str
    serious: bool
    awaiting_follow_up: bool = Field(
        description="Serious and its follow-up not yet recorded (highlighted until it is)"
    )
    related: str
    action: str
    outcome: str
    followed_up_at: dt.datetime | None
    recorded_by: DosingStaffOut | None
    recorded_at: dt.datetime


class DoseSummaryOut(Schema):
    id: uuid.UUID
    dose_mg: decimal.Decimal
    mg_per_kg: decimal.Decimal | None
    devices: int | None
    product: str
    given_at: dt.datetime


class DosingSessionSummaryOut(Schema):
    id: uuid.UUID
    appointment: uuid.UUID
    starts_at: dt.datetime
    course: uuid.UUID
    protocol: str
    route: str
    state: str = Field(description="checking, dosed, discharged or signed")
    dose: DoseSummaryOut | None


class DosingSessionOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    course: uuid.UUID
    protocol: str
    route: str
    state: str = Field(description="checking, dosed, discharged or signed")
    appointment: DosingAppointmentOut
    weight_kg: decimal.Decimal | None
    intention: str
    pre_check: PreCheckOut | None
    dose: DosingDoseOut | None
    lines: list[DosingLineOut]
    vitals_due: list[DosingDueOut]
    vitals_missed: int
    alerts: list[DosingAlertOut]
    discharge_criteria: list[DosingCheckOut]
    discharge: DischargeOut | None
    sign_off: SignOffOut
    adverse_events: list[AdverseEventOut]
    safety_flags: list[DosingFlagOut]


def _staff(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.public_id, "name": user.display_name}


def _check(check: rules.Check) -> dict[str, Any]:
    return {
        "code": check.code,
        "title": check.title,
        "passed": check.passed,
        "reason": check.reason,
        "source": check.source,
        "blocking": check.blocking,
        "overridable": check.overridable,
        "overridden_by": check.overridden_by,
        "override_reason": check.override_reason,
    }


def _alert(alert: rules.Alert) -> dict[str, Any]:
    return {
        "code": alert.code,
        "severity": alert.severity,
        "value": alert.value,
        "threshold": alert.threshold,
        "reason": alert.reason,
        "source": alert.source,
    }


def _values(line: flowsheet.Line) -> dict[str, Any]:
    row = line.row
    if isinstance(row, VitalsRow):
        return {
            "systolic": row.systolic,
            "diastolic": row.diastolic,
            "heart_rate": row.heart_rate,
            "spo2": row.spo2,
            "respiratory_rate": row.respiratory_rate,
        }
    if isinstance(row, ScaleRow):
        return {"scale": row.scale, "score": row.score, "version": row.version}
    if isinstance(row, SideEffectRow):
        return {"effect": row.effect, "severity": row.severity, "note": row.note}
    return {"kind": row.kind, "detail": row.detail}


def _lines(sheet: flowsheet.Flowsheet) -> list[dict[str, Any]]:
    corrected_by = {
        (type(line.corrects), line.corrects.pk): line.row.public_id
        for line in sheet.lines
        if line.corrects is not None
    }
    return [
        {
            "kind": line.kind,
            "id": line.row.public_id,
            "taken_at": line.at,
            "by": _staff(line.row.created_by),
            "recorded_at": line.row.created_at,
            "text": line.text,
            "values": _values(line),
            "corrects": line.corrects.public_id if line.corrects is not None else None,
            "correction_reason": line.row.correction_reason,
            "corrected": line.corrected,
            "corrected_by": corrected_by.get((type(line.row), line.row.pk)),
            "alerts": [_alert(alert) for alert in line.alerts],
        }
        for line in sheet.lines
    ]


def adverse_event_out(event: AdverseEvent) -> dict[str, Any]:
    """Expects the session and who recorded it loaded."""
    return {
        "id": event.public_id,
        "session": event.session.public_id if event.session is not None else None,
        "event": event.event,
        "onset_at": event.onset_at,
        "severity": event.severity,
        "seriousness": event.seriousness,
        "serious": event.seriousness == Seriousness.SERIOUS,
        "awaiting_follow_up": event.awaits_follow_up,
        "related": event.related,
        "action": event.action,
        "outcome": event.outcome,
        "followed_up_at": event.followed_up_at,
        "recorded_by": _staff(event.created_by),
        "recorded_at": event.created_at,
    }


def _dose_summary(dose: Dose | None) -> dict[str, Any] | None:
    if dose is None:
        return None
    return {
        "id": dose.public_id,
        "dose_mg": dose.dose_mg,
        "mg_per_kg": dose.mg_per_kg,
        "devices": dose.devices,
        "product": dose.product,
        "given_at": dose.given_at,
    }


def session_summary(session: DosingSession) -> dict[str, Any]:
    """Expects the appointment, the course and the dose loaded."""
    return {
        "id": session.public_id,
        "appointment": session.appointment.public_id,
        "starts_at": session.appointment.starts_at,
        "course": session.course.public_id,
        "protocol": session.course.protocol,
        "route": BY_CODE[session.course.protocol].route,
        "state": session.state,
        # The reverse one-to-one raises when there is no dose; select_related caches that.
        "dose": _dose_summary(getattr(session, "dose", None)),
    }


def session_out(session: DosingSession) -> dict[str, Any]:
    """The session as it stands now: the flowsheet read model plus what the session stores."""
    sheet = flowsheet.flowsheet(session, now())
    appointment = session.appointment
    dose = sheet.dose
    pre_check = None
    if session.pre_checked_at is not None:
        pre_check = {
            "passed": session.pre_check_passed,
            "checked_by": _staff(session.pre_checked_by),
            "checked_at": session.pre_checked_at,
            "answers": session.pre_check.get("answers", {}),
            "checks": session.pre_check.get("checks", []),
            "parameter_versions": session.pre_check.get("parameter_versions", {}),
        }
    discharge = None
    if session.discharged_at is not None:
        discharge = {
            "discharged_by": _staff(session.discharged_by),
            "discharged_at": session.discharged_at,
            "answers": session.discharge.get("answers", {}),
            "checks": session.discharge.get("checks", []),
            "parameter_versions": session.discharge.get("parameter_versions", {}),
        }
    dose_out = None
    if dose is not None and sheet.dose_completed_at is not None:
        dose_out = {
            "id": dose.public_id,
            "route": dose.route,
            "product": dose.product,
            "concentration_mg_per_ml": dose.concentration_mg_per_ml,
            "lot": dose.lot,
            "expires_on": dose.expires_on,
            "dose_mg": dose.dose_mg,
            "weight_kg": dose.weight_kg,
            "mg_per_kg": dose.mg_per_kg,
            "infusion_minutes": dose.infusion_minutes,
            "devices": dose.devices,
            "given_at": dose.given_at,
            "completed_at": sheet.dose_completed_at,
            "given_by": _staff(dose.given_by),
            "therapist_present": _staff(dose.therapist_present),
        }
    events = session.adverse_events.select_related("session", "created_by")
    return {
        "id": session.public_id,
        "client": session.client.public_id,
        "course": session.course.public_id,
        "protocol": session.course.protocol,
        "route": sheet.route,
        "state": session.state,
        "appointment": {
            "id": appointment.public_id,
            "starts_at": appointment.starts_at,
            "ends_at": appointment.ends_at,
            "clinician": _staff(appointment.clinician),
            "second_clinician": _staff(appointment.second_clinician),
            "room": appointment.room.name if appointment.room else None,
        },
        "weight_kg": session.weight_kg,
        "intention": session.intention,
        "pre_check": pre_check,
        "dose": dose_out,
        "lines": _lines(sheet),
        "vitals_due": [
            {
                "at": item.due.at,
                "label": item.due.label,
                "kind": item.due.kind,
                "state": item.state,
                "reading_at": item.reading_at,
            }
            for item in sheet.dues
        ],
        "vitals_missed": sheet.missed,
        "alerts": [_alert(alert) for alert in sheet.alerts],
        "discharge_criteria": [_check(check) for check in sheet.discharge_checks],
        "discharge": discharge,
        "sign_off": {
            "signed": session.is_signed,
            "monitor_signed_by": _staff(session.monitor_signed_by),
            "monitor_signed_at": session.monitor_signed_at,
            "therapist_signed_by": _staff(session.therapist_signed_by),
            "therapist_signed_at": session.therapist_signed_at,
        },
        "adverse_events": [adverse_event_out(event) for event in events],
        "safety_flags": [
            {
                "id": flag.public_id,
                "rule": flag.rule,
                "reason": flag.reason,
                "raised_at": flag.raised_at,
                "closed_at": flag.closed_at,
            }
            for flag in session.safety_flags.order_by("raised_at", "id")
        ],
    }


def _fresh(user: User, session: DosingSession) -> dict[str, Any]:
    """The session as it now stands, after a write (read again with everything loaded)."""
    return session_out(session_for(user, session.public_id))


def _line(session: DosingSession, row: Any) -> dict[str, Any]:
    """A charted row as the flowsheet shows it (with the alerts it raised)."""
    sheet = flowsheet.flowsheet(session, now())
    lines = _lines(sheet)
    return next(line for line in lines if line["id"] == row.public_id)


# ---------------------------------------------------------------------------------------------
# Lists


@router.get(
    f"{CLIENT}/dosing-sessions",
    response=list[DosingSessionSummaryOut],
    summary="The client's dosing sessions, newest appointment first, with state and dose",
)
def list_sessions(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    user = _clinician(request)
    client = open_chart(user, client_id, view="api.dosing_sessions")
    sessions = (
        DosingSession.objects.filter(client=client)
        .select_related("appointment", "course", "dose")
        .order_by("-appointment__starts_at", "-id")
    )
    return [session_summary(session) for session in sessions]


@router.get(
    f"{CLIENT}/adverse-events",
    response=list[AdverseEventOut],
    summary="The client's adverse events: serious ones awaiting follow-up first, then the rest, "
    "latest onset first",
)
def list_adverse_events(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    user = _clinician(request)
    client = open_chart(user, client_id, view="api.adverse_events")
    events = awaiting_follow_up_first(
        AdverseEvent.objects.filter(client=client).select_related("session", "created_by")
    )
    return [adverse_event_out(event) for event in events]


# ---------------------------------------------------------------------------------------------
# The session


@router.post(
    f"{CLIENT}/appointments/{{appointment_id}}/dosing-session",
    response={200: DosingSessionOut, 201: DosingSessionOut},
    summary="Open the dosing session of a dosing appointment (201; 200 if it is already open)",
)
def open_session(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    client = access_client(user, client_id, write=True)
    appointment = (
        Appointment.objects.filter(client=client, public_id=appointment_id)
        .select_related("client")
        .first()
    )
    if appointment is None:
        raise Http404("No such appointment for this client.")
    existed = DosingSession.objects.filter(appointment=appointment).exists()
    session = services.session_open(actor=user, appointment=appointment)
    return Status(200 if existed else 201, _fresh(user, session))


@router.get(
    SESSION,
    response=DosingSessionOut,
    summary="One session: pre-dose check, dose, flowsheet, due vitals, alerts, discharge "
    "criteria, discharge and sign-off (an audited read)",
)
def read_session(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> dict[str, Any]:
    user = _clinician(request)
    return session_out(_session(user, client_id, session_id, audit_read=True))


class PreCheckIn(StrictSchema):
    # Every field optional at the schema: the two confirmations are refused as `required` after
    # the access check.
    identity_confirmed: bool | None = None
    escort_confirmed: bool | None = None
    intention: str = ""
    weight_kg: decimal.Decimal | None = Field(
        None, max_digits=5, decimal_places=1, description="Today's weight (kg, one decimal)"
    )
    minutes_since_food: int | None = None
    minutes_since_liquid: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    medicines_today: list[str] | None = Field(
        None, description="Interaction groups taken today; null: not asked"
    )
    pregnancy_test: str = Field("missing", description="negative, positive, not_applicable")
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="A prescriber's reason for each failed hold: code → reason",
    )
    checked_at: AwareDatetime | None = None


@router.post(
    f"{SESSION}/pre-check",
    response=DosingSessionOut,
    summary="Record the pre-dose check (again, until the dose is given)",
)
def record_pre_check(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: PreCheckIn
) -> dict[str, Any]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(
        identity_confirmed=payload.identity_confirmed, escort_confirmed=payload.escort_confirmed
    )
    services.pre_check_record(
        actor=user,
        session=session,
        identity_confirmed=_given(payload.identity_confirmed, "identity_confirmed"),
        escort_confirmed=_given(payload.escort_confirmed, "escort_confirmed"),
        intention=payload.intention,
        weight_kg=payload.weight_kg,
        minutes_since_food=payload.minutes_since_food,
        minutes_since_liquid=payload.minutes_since_liquid,
        systolic=payload.systolic,
        diastolic=payload.diastolic,
        heart_rate=payload.heart_rate,
        spo2=payload.spo2,
        medicines_today=payload.medicines_today,
        pregnancy_test=payload.pregnancy_test,
        overrides=payload.overrides,
        checked_at=payload.checked_at,
    )
    return _fresh(user, session)


class DoseIn(StrictSchema):
    product: str | None = None
    lot: str | None = Field(None, description="The lot number, as in the stock log")
    expires_on: dt.date | None = None
    # The stored columns' precision (data entry, not a clinical limit: the service judges it).
    dose_mg: decimal.Decimal | None = Field(None, max_digits=7, decimal_places=2)
    therapist_present: uuid.UUID | None = Field(None, description="The therapist's staff id")
    given_at: AwareDatetime | None = None
    concentration_mg_per_ml: decimal.Decimal | None = Field(None, max_digits=7, decimal_places=2)
    infusion_minutes: int | None = Field(None, ge=0, le=INFUSION_MINUTES_MAX)
    location: uuid.UUID | None = Field(
        None, description="The storage location the dose came from; left out: the only one"
    )
    overrides: dict[str, str] = Field(default_factory=dict)


@router.post(
    f"{SESSION}/dose",
    response={201: DosingSessionOut},
    summary="Record the dose given (and its stock entry, together)",
)
def record_dose(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: DoseIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(
        product=payload.product,
        lot=payload.lot,
        expires_on=payload.expires_on,
        dose_mg=payload.dose_mg,
        therapist_present=payload.therapist_present,
    )
    services.dose_record(
        actor=user,
        session=session,
        product=payload.product or "",
        lot=payload.lot or "",
        expires_on=_given(payload.expires_on, "expires_on"),
        dose_mg=_given(payload.dose_mg, "dose_mg"),
        therapist_present=_therapist(_given(payload.therapist_present, "therapist_present")),
        given_at=payload.given_at,
        concentration_mg_per_ml=payload.concentration_mg_per_ml,
        infusion_minutes=payload.infusion_minutes,
        overrides=payload.overrides,
        location=_location(payload.location),
    )
    return Status(201, _fresh(user, session))


# ---------------------------------------------------------------------------------------------
# Charted rows


class CorrectionIn(StrictSchema):
    taken_at: AwareDatetime | None = Field(None, description="Now when left out")
    corrects: uuid.UUID | None = Field(
        None, description="The id of the row of the same kind in this session this one corrects"
    )
    correction_reason: str = ""


class VitalsIn(CorrectionIn):
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None


class ScaleIn(CorrectionIn):
    scale: str | None = Field(None, description="moaas or cadss")
    score: int | None = None
    version: str = Field("", description="CADSS: the version used")


class SideEffectIn(CorrectionIn):
    effect: str | None = None
    severity: str | None = None
    note: str = ""


class WorkIn(CorrectionIn):
    kind: str | None = None
    detail: str | None = None


@router.post(
    f"{SESSION}/vitals",
    response={201: DosingLineOut},
    summary="Chart a row of vitals (a reading past a stop rule also raises a safety flag)",
)
def record_vitals(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: VitalsIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    row = services.vitals_record(
        actor=user,
        session=session,
        taken_at=payload.taken_at,
        systolic=payload.systolic,
        diastolic=payload.diastolic,
        heart_rate=payload.heart_rate,
        spo2=payload.spo2,
        respiratory_rate=payload.respiratory_rate,
        corrects=_corrected(VitalsRow, session, payload.corrects),
        correction_reason=payload.correction_reason,
    )
    return Status(201, _line(session, row))


@router.post(
    f"{SESSION}/scales",
    response={201: DosingLineOut},
    summary="Chart a sedation (MOAA/S) or dissociation (CADSS) score",
)
def record_scale(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: ScaleIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(scale=payload.scale, score=payload.score)
    row = services.scale_record(
        actor=user,
        session=session,
        scale=payload.scale or "",
        score=_given(payload.score, "score"),
        version=payload.version,
        taken_at=payload.taken_at,
        corrects=_corrected(ScaleRow, session, payload.corrects),
        correction_reason=payload.correction_reason,
    )
    return Status(201, _line(session, row))


@router.post(
    f"{SESSION}/side-effects",
    response={201: DosingLineOut},
    summary="Chart a side effect with its severity",
)
def record_side_effect(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: SideEffectIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(effect=payload.effect, severity=payload.severity)
    row = services.side_effect_record(
        actor=user,
        session=session,
        effect=payload.effect or "",
        severity=payload.severity or "",
        note=payload.note,
        taken_at=payload.taken_at,
        corrects=_corrected(SideEffectRow, session, payload.corrects),
        correction_reason=payload.correction_reason,
    )
    return Status(201, _line(session, row))


@router.post(
    f"{SESSION}/work",
    response={201: DosingLineOut},
    summary="Chart an intervention or therapeutic work (EMDR, somatic, music, a note)",
)
def record_work(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: WorkIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(kind=payload.kind, detail=payload.detail)
    row = services.work_record(
        actor=user,
        session=session,
        kind=payload.kind or "",
        detail=payload.detail or "",
        taken_at=payload.taken_at,
        corrects=_corrected(WorkRow, session, payload.corrects),
        correction_reason=payload.correction_reason,
    )
    return Status(201, _line(session, row))


# ---------------------------------------------------------------------------------------------
# Adverse events, discharge and sign-off


class AdverseEventIn(StrictSchema):
    event: str | None = None
    onset_at: AwareDatetime | None = None
    severity: str | None = Field(None, description="mild, moderate or severe")
    seriousness: str | None = Field(None, description="not_serious or serious")
    related: str | None = Field(None, description="related, possibly, unlikely or not_related")
    action: str = ""
    outcome: str = ""


@router.post(
    f"{SESSION}/adverse-events",
    response={201: AdverseEventOut},
    summary="Record a structured adverse event linked to the session",
)
def record_adverse_event(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: AdverseEventIn
) -> Status[dict[str, Any]]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(
        event=payload.event,
        onset_at=payload.onset_at,
        severity=payload.severity,
        seriousness=payload.seriousness,
        related=payload.related,
    )
    event = services.adverse_event_record(
        actor=user,
        session=session,
        event=payload.event or "",
        onset_at=_given(payload.onset_at, "onset_at"),
        severity=payload.severity or "",
        seriousness=payload.seriousness or "",
        related=payload.related or "",
        action=payload.action,
        outcome=payload.outcome,
    )
    found = AdverseEvent.objects.select_related("session", "created_by").get(pk=event.pk)
    return Status(201, adverse_event_out(found))


class FollowUpIn(StrictSchema):
    outcome: str = ""


@router.post(
    f"{CLIENT}/adverse-events/{{event_id}}/follow-up",
    response=AdverseEventOut,
    summary="Record an adverse event's follow-up (its outcome); a serious event waits for it",
)
def follow_up_adverse_event(
    request: HttpRequest, client_id: uuid.UUID, event_id: uuid.UUID, payload: FollowUpIn
) -> dict[str, Any]:
    user = _clinician(request)
    client = access_client(user, client_id, write=True)
    event = get_object_or_404(AdverseEvent, client=client, public_id=event_id)
    services.adverse_event_follow_up(actor=user, event=event, outcome=payload.outcome)
    found = AdverseEvent.objects.select_related("session", "created_by").get(pk=event.pk)
    return adverse_event_out(found)


class DischargeIn(StrictSchema):
    escort_present: bool | None = None
    no_driving_counselled: bool | None = None
    dissociation_resolved: bool | None = Field(
        None, description="The clinician's judgement; null: judged from the latest CADSS"
    )
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="A prescriber's reason for each failed criterion: code → reason",
    )
    discharged_at: AwareDatetime | None = None


@router.post(
    f"{SESSION}/discharge",
    response=DosingSessionOut,
    summary="Discharge the client (every criterion passes, or a prescriber overrides it)",
)
def record_discharge(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID, payload: DischargeIn
) -> dict[str, Any]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    _required(
        escort_present=payload.escort_present,
        no_driving_counselled=payload.no_driving_counselled,
    )
    services.discharge_record(
        actor=user,
        session=session,
        escort_present=_given(payload.escort_present, "escort_present"),
        no_driving_counselled=_given(payload.no_driving_counselled, "no_driving_counselled"),
        dissociation_resolved=payload.dissociation_resolved,
        overrides=payload.overrides,
        discharged_at=payload.discharged_at,
    )
    return _fresh(user, session)


@router.post(
    f"{SESSION}/sign",
    response=DosingSessionOut,
    summary="Sign the session as its monitoring clinician or its therapist (no body)",
)
def sign_session(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> dict[str, Any]:
    user = _clinician(request)
    session = _session(user, client_id, session_id, write=True)
    services.session_sign(actor=user, session=session)
    return _fresh(user, session)
