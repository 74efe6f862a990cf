"""Writes for dosing sessions (habit 2: validate, then one audited transaction).

What is charted is append-only: each entry is a new row, timestamped and attributed, and a
correction is a new row naming the one it corrects, with a reason, so the original stays
visible. Once both the monitoring clinician and the therapist have signed, nothing more is
charted on the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now
from kapcare.courses.models import Appointment, Kind, State
from kapcare.dosing import rules
from kapcare.dosing.models import (
    AdverseEvent,
    DosingSession,
    Relatedness,
    ScaleKind,
    ScaleRow,
    Seriousness,
    SessionState,
    Severity,
    SideEffect,
    SideEffectRow,
    VitalsRow,
    WorkKind,
    WorkRow,
)

REASON_MAX = 300
FUTURE_GRACE = dt.timedelta(minutes=5)  # a bedside clock a little ahead is not "the future"

# Data-entry plausibility (what a monitor can physically read), not clinical thresholds: the
# thresholds that raise alerts are rule parameters (kapcare.dosing.parameters).
PLAUSIBLE = {
    "systolic": (50, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "respiratory_rate": (4, 60),
}
MOAAS_RANGE = (0, 5)  # Chernik 1990, clinical-facts §5.2


def _require_clinician(actor: User, field: str) -> None:
    if not actor.is_clinician:
        raise field_error(
            field, "Only a therapist, prescriber or nurse charts a session.", "not_clinician"
        )


def _require_open(session: DosingSession, field: str) -> None:
    if session.is_signed:
        raise field_error(field, "The session is signed: nothing more is charted on it.", "signed")


def _when(taken_at: dt.datetime | None, errors: dict[str, ValidationError]) -> dt.datetime:
    moment = taken_at or now()
    if moment.tzinfo is None:
        errors["taken_at"] = ValidationError("The time needs its time zone.", code="naive")
    elif moment > now() + FUTURE_GRACE:
        errors["taken_at"] = ValidationError("This time is in the future.", code="future")
    return moment


def _audit(actor: User, action: str, session: DosingSession, after: dict[str, Any]) -> None:
    audit.record(
        actor=actor,
        action=action,
        subject_type="dosing_session",
        subject_public_id=session.public_id,
        client_public_id=session.client.public_id,
        after=after,
    )


# ---------------------------------------------------------------------------------------------
# The session


def session_open(*, actor: User, appointment: Appointment) -> DosingSession:
    """The session record of a dosing appointment (created once; opening it again returns it)."""
    _require_clinician(actor, "appointment")
    if appointment.kind != Kind.DOSING or appointment.course_id is None:
        raise field_error("appointment", "Only a dosing session of a course.", "not_dosing")
    if appointment.state in (State.CANCELLED, State.NO_SHOW):
        raise field_error(
            "appointment",
            f"This session is {appointment.get_state_display().lower()}.",
            "not_booked",
        )
    existing = DosingSession.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        session = DosingSession.objects.create(
            appointment=appointment,
            client=appointment.client,
            course_id=appointment.course_id,
            created_by=actor,
            updated_by=actor,
        )
        _audit(actor, "dosing.open", session, {"appointment": str(appointment.public_id)})
    return session


# ---------------------------------------------------------------------------------------------
# Charted rows


def _correction(
    model: type[Any], session: DosingSession, corrects: Any, reason: str, errors: dict
) -> str:
    reason = (reason or "").strip()
    if corrects is None:
        return ""
    if not isinstance(corrects, model) or corrects.session_id != session.pk:
        errors["corrects"] = ValidationError("Not an entry of this session.", code="not_found")
    elif model.objects.filter(corrects=corrects).exists():
        errors["corrects"] = ValidationError(
            "This entry is already corrected; correct the correction.", code="already_corrected"
        )
    if not reason:
        errors["correction_reason"] = ValidationError(
            "Say why the entry is corrected.", code="required"
        )
    elif len(reason) > REASON_MAX:
        errors["correction_reason"] = ValidationError(
            f"At most {REASON_MAX} characters.", code="max_length"
        )
    return reason


def vitals_record(
    *,
    actor: User,
    session: DosingSession,
    taken_at: dt.datetime | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    respiratory_rate: int | None = None,
    corrects: VitalsRow | None = None,
    correction_reason: str = "",
) -> VitalsRow:
    """One timed row of vitals. Blood pressure is both numbers or neither; at least one value."""
    _require_clinician(actor, "taken_at")
    _require_open(session, "taken_at")
    errors: dict[str, ValidationError] = {}
    moment = _when(taken_at, errors)
    values = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
    }
    for field, value in values.items():
        low, high = PLAUSIBLE[field]
        if value is not None and not low <= value <= high:
            errors[field] = ValidationError(
                f"Between {low} and {high}: check the reading.", code="implausible"
            )
    if (systolic is None) != (diastolic is None):
        field = "diastolic" if diastolic is None else "systolic"
        errors[field] = ValidationError("Blood pressure needs both numbers.", code="bp_incomplete")
    elif systolic is not None and diastolic is not None and diastolic >= systolic:
        errors["diastolic"] = ValidationError(
            "The diastolic is below the systolic: check the reading.", code="implausible"
        )
    if all(value is None for value in values.values()):
        errors["systolic"] = ValidationError("Enter at least one reading.", code="required")
    reason = _correction(VitalsRow, session, corrects, correction_reason, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = VitalsRow.objects.create(
            session=session,
            taken_at=moment,
            corrects=corrects,
            correction_reason=reason,
            created_by=actor,
            updated_by=actor,
            **values,
        )
        _audit(
            actor,
            "dosing.vitals",
            session,
            {"row": str(row.public_id), "taken_at": moment, "corrects": _ref(corrects), **values},
        )
    return row


def _ref(row: Any) -> str | None:
    return str(row.public_id) if row is not None else None


def scale_record(
    *,
    actor: User,
    session: DosingSession,
    scale: str,
    score: int,
    version: str = "",
    taken_at: dt.datetime | None = None,
    corrects: ScaleRow | None = None,
    correction_reason: str = "",
) -> ScaleRow:
    """A sedation (MOAA/S) or dissociation (CADSS, with the version used) score."""
    _require_clinician(actor, "scale")
    _require_open(session, "scale")
    errors: dict[str, ValidationError] = {}
    moment = _when(taken_at, errors)
    if scale not in ScaleKind.values:
        raise field_error("scale", "Choose MOAA/S or CADSS.", "invalid_choice")
    version = (version or "").strip()
    high: int | None = MOAAS_RANGE[1]
    if scale == ScaleKind.CADSS:
        # The versions differ in items and range (clinical-facts §5.2): the version is stored.
        high = rules.CADSS_VERSIONS[version][2] if version in rules.CADSS_VERSIONS else None
        if not version:
            errors["version"] = ValidationError(
                "Name the CADSS version used (items and range differ between versions).",
                code="required",
            )
        elif high is None:
            errors["version"] = ValidationError(
                f"One of: {', '.join(rules.CADSS_VERSIONS)}.", code="invalid_choice"
            )
    elif version:
        errors["version"] = ValidationError("Only a CADSS score has a version.", code="not_cadss")
    if high is not None and not 0 <= score <= high:
        errors["score"] = ValidationError(f"Between 0 and {high}.", code="out_of_range")
    reason = _correction(ScaleRow, session, corrects, correction_reason, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = ScaleRow.objects.create(
            session=session,
            taken_at=moment,
            scale=scale,
            score=score,
            version=version,
            corrects=corrects,
            correction_reason=reason,
            created_by=actor,
            updated_by=actor,
        )
        _audit(
            actor,
            "dosing.scale",
            session,
            {"row": str(row.public_id), "scale": scale, "score": score, "corrects": _ref(corrects)},
        )
    return row


def side_effect_record(
    *,
    actor: User,
    session: DosingSession,
    effect: str,
    severity: str,
    note: str = "",
    taken_at: dt.datetime | None = None,
    corrects: SideEffectRow | None = None,
    correction_reason: str = "",
) -> SideEffectRow:
    _require_clinician(actor, "effect")
    _require_open(session, "effect")
    errors: dict[str, ValidationError] = {}
    moment = _when(taken_at, errors)
    if effect not in SideEffect.values:
        errors["effect"] = ValidationError("Choose a side effect.", code="invalid_choice")
    if severity not in Severity.values:
        errors["severity"] = ValidationError("Choose a severity.", code="invalid_choice")
    note = (note or "").strip()
    if effect == SideEffect.OTHER and not note:
        errors["note"] = ValidationError("Describe the side effect.", code="required")
    if len(note) > REASON_MAX:
        errors["note"] = ValidationError(f"At most {REASON_MAX} characters.", code="max_length")
    reason = _correction(SideEffectRow, session, corrects, correction_reason, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = SideEffectRow.objects.create(
            session=session,
            taken_at=moment,
            effect=effect,
            severity=severity,
            note=note,
            corrects=corrects,
            correction_reason=reason,
            created_by=actor,
            updated_by=actor,
        )
        _audit(
            actor,
            "dosing.side_effect",
            session,
            {"row": str(row.public_id), "effect": effect, "severity": severity},
        )
    return row


def work_record(
    *,
    actor: User,
    session: DosingSession,
    kind: str,
    detail: str,
    taken_at: dt.datetime | None = None,
    corrects: WorkRow | None = None,
    correction_reason: str = "",
) -> WorkRow:
    """An intervention (antiemetic, antihypertensive, other) or therapeutic work (EMDR sets,
    somatic, music, a therapist's note)."""
    _require_clinician(actor, "kind")
    _require_open(session, "kind")
    errors: dict[str, ValidationError] = {}
    moment = _when(taken_at, errors)
    if kind not in WorkKind.values:
        errors["kind"] = ValidationError("Choose what was done.", code="invalid_choice")
    detail = (detail or "").strip()
    if not detail:
        errors["detail"] = ValidationError("Say what was done.", code="required")
    elif len(detail) > 4000:
        errors["detail"] = ValidationError("At most 4000 characters.", code="max_length")
    reason = _correction(WorkRow, session, corrects, correction_reason, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = WorkRow.objects.create(
            session=session,
            taken_at=moment,
            kind=kind,
            detail=detail,
            corrects=corrects,
            correction_reason=reason,
            created_by=actor,
            updated_by=actor,
        )
        # The detail is clinical text: the audit names the row and its kind, not the words.
        _audit(actor, "dosing.work", session, {"row": str(row.public_id), "kind": kind})
    return row


# ---------------------------------------------------------------------------------------------
# Adverse events


def adverse_event_record(
    *,
    actor: User,
    session: DosingSession,
    event: str,
    onset_at: dt.datetime,
    severity: str,
    seriousness: str,
    related: str,
    action: str = "",
    outcome: str = "",
) -> AdverseEvent:
    """A structured adverse event linked to the session; a serious one waits for follow-up."""
    _require_clinician(actor, "event")
    errors: dict[str, ValidationError] = {}
    event = (event or "").strip()
    if not event:
        errors["event"] = ValidationError("Name the event.", code="required")
    elif len(event) > 200:
        errors["event"] = ValidationError("At most 200 characters.", code="max_length")
    _when(onset_at, errors)
    if "taken_at" in errors:
        errors["onset_at"] = errors.pop("taken_at")
    for field, value, choices in (
        ("severity", severity, Severity.values),
        ("seriousness", seriousness, Seriousness.values),
        ("related", related, Relatedness.values),
    ):
        if value not in choices:
            errors[field] = ValidationError("Choose one.", code="invalid_choice")
    for field, text in (("action", action), ("outcome", outcome)):
        if len((text or "").strip()) > REASON_MAX:
            errors[field] = ValidationError(f"At most {REASON_MAX} characters.", code="max_length")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        record = AdverseEvent.objects.create(
            client=session.client,
            session=session,
            event=event,
            onset_at=onset_at,
            severity=severity,
            seriousness=seriousness,
            related=related,
            action=(action or "").strip(),
            outcome=(outcome or "").strip(),
            created_by=actor,
            updated_by=actor,
        )
        _audit(
            actor,
            "dosing.adverse_event",
            session,
            {
                "adverse_event": str(record.public_id),
                "severity": severity,
                "seriousness": seriousness,
                "related": related,
            },
        )
    return record


# ---------------------------------------------------------------------------------------------
# Sign-off


def session_sign(*, actor: User, session: DosingSession) -> DosingSession:
    """The monitoring clinician's or the therapist's signature, after discharge. When both have
    signed, the session is signed and nothing more is charted on it."""
    _require_clinician(actor, "session")
    _require_open(session, "session")
    appointment = session.appointment
    if session.state != SessionState.DISCHARGED:
        raise field_error("session", "The client is not discharged yet.", "not_discharged")
    as_monitor = actor.pk == appointment.clinician_id
    as_therapist = actor.pk == appointment.second_clinician_id
    if not (as_monitor or as_therapist):
        raise field_error(
            "session",
            "The session is signed by its monitoring clinician and its therapist.",
            "not_dyad",
        )
    moment = now()
    with transaction.atomic():
        locked = DosingSession.objects.select_for_update().get(pk=session.pk)
        if as_monitor and locked.monitor_signed_by_id is None:
            locked.monitor_signed_by, locked.monitor_signed_at = actor, moment
        if as_therapist and locked.therapist_signed_by_id is None:
            locked.therapist_signed_by, locked.therapist_signed_at = actor, moment
        if locked.monitor_signed_by_id and locked.therapist_signed_by_id:
            locked.state = SessionState.SIGNED
        locked.updated_by = actor
        locked.save()
        _audit(
            actor,
            "dosing.sign",
            locked,
            {"as": "monitoring clinician" if as_monitor else "therapist", "state": locked.state},
        )
    return locked
