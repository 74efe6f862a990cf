"""Writes for dosing sessions (habit 2: validate, then one audited transaction).

What is charted is append-only: each entry is a new row, timestamped and attributed, and a
correction is a new row naming the one it corrects, with a reason, so the original stays
visible. Once both the monitoring clinician and the therapist have signed, nothing more is
charted on the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Appointment, Kind, State
from kapcare.dosing import flowsheet, rules, selectors
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
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
from kapcare.medications.interactions import BY_CODE as INTERACTION_CODES
from kapcare.safety.services import flag_raise_for_vitals
from kapcare.stock.models import Location
from kapcare.stock.services import administer_for_dose

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


def _when(
    taken_at: dt.datetime | None, errors: dict[str, ValidationError], field: str = "taken_at"
) -> dt.datetime:
    """The time given (now if none), with an error at `field` when naive or in the future."""
    moment = taken_at or now()
    if moment.tzinfo is None:
        errors[field] = ValidationError("The time needs its time zone.", code="naive")
    elif moment > now() + FUTURE_GRACE:
        errors[field] = ValidationError("This time is in the future.", code="future")
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


def _chart_entry(
    model: type[Any],
    *,
    actor: User,
    session: DosingSession,
    moment: dt.datetime,
    errors: dict[str, ValidationError],
    corrects: Any,
    correction_reason: str,
    action: str,
    audited: dict[str, Any],
    then: Callable[[Any], None] | None = None,
    **fields: Any,
) -> Any:
    """The end every charted row shares: the correction's rules joined to the caller's errors,
    then (when nothing is wrong) the row inserted and audited, and `then(row)` run, in one
    transaction."""
    reason = _correction(model, session, corrects, correction_reason, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = model.objects.create(
            session=session,
            taken_at=moment,
            corrects=corrects,
            correction_reason=reason,
            created_by=actor,
            updated_by=actor,
            **fields,
        )
        _audit(actor, action, session, {"row": str(row.public_id), **audited})
        if then is not None:
            then(row)
    return row


def _check_readings(readings: Mapping[str, int | None], errors: dict[str, ValidationError]) -> None:
    """What a monitor can physically read, and blood pressure as both numbers or neither."""
    for field, value in readings.items():
        low, high = PLAUSIBLE[field]
        if value is not None and not low <= value <= high:
            errors[field] = ValidationError(
                f"Between {low} and {high}: check the reading.", code="implausible"
            )
    systolic, diastolic = readings.get("systolic"), readings.get("diastolic")
    if (systolic is None) != (diastolic is None):
        errors["diastolic" if diastolic is None else "systolic"] = ValidationError(
            "Blood pressure needs both numbers.", code="bp_incomplete"
        )


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
    _check_readings(values, errors)
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        errors.setdefault(
            "diastolic",
            ValidationError(
                "The diastolic is below the systolic: check the reading.", code="implausible"
            ),
        )
    if all(value is None for value in values.values()):
        errors["systolic"] = ValidationError("Enter at least one reading.", code="required")
    row: VitalsRow = _chart_entry(
        VitalsRow,
        actor=actor,
        session=session,
        moment=moment,
        errors=errors,
        corrects=corrects,
        correction_reason=correction_reason,
        action="dosing.vitals",
        audited={"taken_at": moment, "corrects": _ref(corrects), **values},
        then=lambda row: _flag_stops(actor, session, row),
        **values,
    )
    return row


def _flag_stops(actor: User, session: DosingSession, row: VitalsRow) -> None:
    """Once the dose is given, a reading past a stop rule raises a vital-signs safety flag
    (one open flag per session and rule), besides the alert on the flowsheet."""
    # The state in the database, not the caller's copy (which may predate the dose).
    if not DosingSession.objects.filter(pk=session.pk, state=SessionState.DOSED).exists():
        return
    params, _versions = selectors.parameters_in_force()
    dose = Dose.objects.filter(session=session).first()
    charted = flowsheet.current_rows(list(VitalsRow.objects.filter(session=session)))
    baseline = flowsheet.pre_dose_baseline([r for r in charted if r.pk != row.pk], dose)
    alerts = rules.vitals_alerts(
        flowsheet.reading(row),
        baseline,
        params,
        session.client.age,
        route=selectors.session_route(session),
    )
    for alert in alerts:
        if alert.severity == rules.STOP:
            flag_raise_for_vitals(
                actor=actor,
                client=session.client,
                session=session,
                rule=alert.code,
                reason=f"{alert.reason} Threshold {alert.threshold}; {alert.source}",
            )


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
    row: ScaleRow = _chart_entry(
        ScaleRow,
        actor=actor,
        session=session,
        moment=moment,
        errors=errors,
        corrects=corrects,
        correction_reason=correction_reason,
        action="dosing.scale",
        audited={"scale": scale, "score": score, "corrects": _ref(corrects)},
        scale=scale,
        score=score,
        version=version,
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
    row: SideEffectRow = _chart_entry(
        SideEffectRow,
        actor=actor,
        session=session,
        moment=moment,
        errors=errors,
        corrects=corrects,
        correction_reason=correction_reason,
        action="dosing.side_effect",
        audited={"effect": effect, "severity": severity},
        effect=effect,
        severity=severity,
        note=note,
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
    # The detail is clinical text: the audit names the row and its kind, not the words.
    row: WorkRow = _chart_entry(
        WorkRow,
        actor=actor,
        session=session,
        moment=moment,
        errors=errors,
        corrects=corrects,
        correction_reason=correction_reason,
        action="dosing.work",
        audited={"kind": kind},
        kind=kind,
        detail=detail,
    )
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
    _when(onset_at, errors, "onset_at")
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


# ---------------------------------------------------------------------------------------------
# The pre-dose check

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable", "missing")


def _check_json(check: rules.Check) -> dict[str, Any]:
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


def pre_check_record(
    *,
    actor: User,
    session: DosingSession,
    identity_confirmed: bool,
    escort_confirmed: bool,
    intention: str = "",
    weight_kg: Decimal | None = None,
    minutes_since_food: int | None = None,
    minutes_since_liquid: int | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    medicines_today: Sequence[str] | None = None,
    pregnancy_test: str = "missing",
    overrides: Mapping[str, str] | None = None,
    checked_at: dt.datetime | None = None,
) -> DosingSession:
    """Run the pre-dose check on today's answers and the record's facts (age, the course's gates,
    today's suicide-risk answers and reviews). The result is stored with the parameter versions
    it used; the pre-dose readings go on the flowsheet. A failed hold blocks the dose unless a
    prescriber overrides it with a reason; a hard stop cannot be overridden."""
    _require_clinician(actor, "identity_confirmed")
    _require_open(session, "identity_confirmed")
    if session.state != SessionState.CHECKING:
        raise field_error(
            "identity_confirmed", "The dose is given: the check is closed.", "already_dosed"
        )
    overrides = {code: (why or "").strip() for code, why in (overrides or {}).items()}
    overrides = {code: why for code, why in overrides.items() if why}
    errors: dict[str, ValidationError] = {}
    moment = _when(checked_at, errors, "checked_at")
    if overrides and not actor.is_prescriber:
        errors["overrides"] = ValidationError(
            "Only a prescriber can override a check.", code="not_prescriber"
        )
    if pregnancy_test not in PREGNANCY_RESULTS:
        errors["pregnancy_test"] = ValidationError("Choose a result.", code="invalid_choice")
    if weight_kg is not None and not Decimal(20) <= weight_kg <= Decimal(400):
        errors["weight_kg"] = ValidationError(
            "Between 20 and 400 kg: check the weight.", code="implausible"
        )
    for field, value in (
        ("minutes_since_food", minutes_since_food),
        ("minutes_since_liquid", minutes_since_liquid),
    ):
        if value is not None and not 0 <= value <= 7 * 24 * 60:
            errors[field] = ValidationError("Between 0 and a week.", code="out_of_range")
    known = set(INTERACTION_CODES)
    unknown = [code for code in medicines_today or () if code not in known]
    if unknown:
        errors["medicines_today"] = ValidationError(
            f"Unknown medicine groups: {', '.join(unknown)}.", code="invalid_choice"
        )
    intention = (intention or "").strip()
    if len(intention) > 4000:
        errors["intention"] = ValidationError("At most 4000 characters.", code="max_length")
    readings = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
    }
    _check_readings(readings, errors)
    if errors:
        raise ValidationError(errors)
    params, versions = selectors.parameters_in_force()
    facts = selectors.day_facts(session)
    inputs = rules.PreDoseInputs(
        route=selectors.session_route(session),
        age=facts.age,
        identity_confirmed=identity_confirmed,
        gates_open=facts.gates_open,
        gates_reason=facts.gates_reason,
        weight_kg_today=weight_kg,
        minutes_since_food=minutes_since_food,
        minutes_since_liquid=minutes_since_liquid,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        medicines_today=tuple(medicines_today) if medicines_today is not None else None,
        pregnancy_test=pregnancy_test,
        phq9_item9_positive=facts.phq9_item9_positive,
        cssrs_positive=facts.cssrs_positive,
        suicide_reviewed_today=facts.suicide_reviewed_today,
        escort_confirmed=escort_confirmed,
        intention_recorded=bool(intention),
    )
    checks = rules.pre_dose_checks(inputs, params)
    applied = {code: (actor.display_name, why) for code, why in overrides.items()}
    judged = rules.with_overrides(checks, applied)
    passed = rules.may_dose(checks, applied)
    with transaction.atomic():
        locked = DosingSession.objects.select_for_update().get(pk=session.pk)
        locked.weight_kg = weight_kg
        locked.intention = intention
        locked.pre_check = {
            "answers": {
                "identity_confirmed": identity_confirmed,
                "escort_confirmed": escort_confirmed,
                "weight_kg": str(weight_kg) if weight_kg is not None else None,
                "minutes_since_food": minutes_since_food,
                "minutes_since_liquid": minutes_since_liquid,
                "medicines_today": list(medicines_today) if medicines_today is not None else None,
                "pregnancy_test": pregnancy_test,
                **readings,
            },
            "checks": [_check_json(check) for check in judged],
            "parameter_versions": versions,
        }
        locked.pre_check_passed = passed
        locked.pre_checked_by, locked.pre_checked_at = actor, moment
        locked.updated_by = actor
        locked.save()
        if any(value is not None for value in readings.values()):
            VitalsRow.objects.create(
                session=locked,
                taken_at=moment,
                created_by=actor,
                updated_by=actor,
                respiratory_rate=None,
                **readings,
            )
        _audit(
            actor,
            "dosing.pre_check",
            locked,
            {
                "passed": passed,
                "failed": [c.code for c in judged if not c.passed],
                "overridden": sorted(overrides),
                "override_reasons": overrides,
            },
        )
    return locked


# ---------------------------------------------------------------------------------------------
# The dose


def dose_record(
    *,
    actor: User,
    session: DosingSession,
    product: str,
    lot: str,
    expires_on: dt.date,
    dose_mg: Decimal,
    therapist_present: User,
    given_at: dt.datetime | None = None,
    concentration_mg_per_ml: Decimal | None = None,
    infusion_minutes: int | None = None,
    overrides: Mapping[str, str] | None = None,
    location: Location | None = None,
) -> Dose:
    """Record the dose given, by the person giving it (a prescriber, or a nurse), with the
    therapist present. Refused until the pre-dose check has passed; above the protocol's maximum
    is a hard stop; mg/kg comes from the day's weight; esketamine is whole 28 mg devices. The
    stock log's administration (from the lot the dose names, at `location`) is written in the
    same transaction: no dose without its stock movement."""
    _require_clinician(actor, "dose_mg")
    _require_open(session, "dose_mg")
    errors: dict[str, ValidationError] = {}
    if session.state != SessionState.CHECKING or Dose.objects.filter(session=session).exists():
        raise field_error("dose_mg", "This session's dose is already recorded.", "already_dosed")
    if not session.pre_check_passed:
        raise field_error(
            "dose_mg", "The pre-dose check has not passed: complete it first.", "pre_check"
        )
    if not (actor.is_prescriber or actor.is_nurse):
        errors["given_by"] = ValidationError(
            "A dose is given by a prescriber or a nurse.", code="not_credentialed"
        )
    if not therapist_present.is_therapist or not therapist_present.is_active:
        errors["therapist_present"] = ValidationError(
            "Name the therapist present.", code="not_therapist"
        )
    moment = _when(given_at, errors, "given_at")
    product, lot = (product or "").strip(), (lot or "").strip()
    if not product:
        errors["product"] = ValidationError("Name the product.", code="required")
    if not lot:
        errors["lot"] = ValidationError("Enter the lot number.", code="required")
    if expires_on < moment.astimezone(practice_zone()).date():
        errors["expires_on"] = ValidationError("This lot has expired.", code="expired")
    route = selectors.session_route(session)
    params, _versions = selectors.parameters_in_force()
    weight = session.weight_kg
    per_kg: Decimal | None = None
    devices: int | None = None
    if not isinstance(dose_mg, Decimal) or not dose_mg.is_finite() or dose_mg <= 0:
        errors["dose_mg"] = ValidationError("Enter the dose in mg, more than 0.", code="invalid")
        raise ValidationError(errors)
    dose = dose_mg
    if weight is not None:
        per_kg = rules.mg_per_kg(dose, weight)
    if route == "intravenous":
        if infusion_minutes is None or infusion_minutes <= 0:
            errors["infusion_minutes"] = ValidationError(
                "Enter the infusion's length.", code="required"
            )
        if weight is None:
            errors["dose_mg"] = ValidationError(
                "An IV dose is weight-based: record today's weight in the pre-dose check.",
                code="no_weight",
            )
    stops = [rules.max_dose_stop(route, dose, per_kg, params.limits)]
    if route == "intranasal":
        first = not Dose.objects.filter(session__course=session.course).exists()
        stops += rules.esketamine_dose_check(
            dose,
            first_dose=first,
            age=session.client.age,
            max_mg=params.limits.esketamine_max_mg,
            start=params.esketamine_start,
        )
        if "dose_mg" not in errors and dose % 28 == 0:
            devices = rules.esketamine_devices(dose)
    applied = {
        code: (actor.display_name, why.strip())
        for code, why in (overrides or {}).items()
        if (why or "").strip()
    }
    if applied and not actor.is_prescriber:
        errors["overrides"] = ValidationError(
            "Only a prescriber can override a dose check.", code="not_prescriber"
        )
    judged = rules.with_overrides(stops, applied)
    blocked = [check for check in judged if not check.open]
    if blocked:
        errors["dose_mg"] = ValidationError(
            " ".join(f"{c.title}: {c.reason}" for c in blocked), code=blocked[0].code
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = DosingSession.objects.select_for_update().get(pk=session.pk)
        if locked.state != SessionState.CHECKING:
            raise field_error(
                "dose_mg", "This session's dose is already recorded.", "already_dosed"
            )
        record = Dose.objects.create(
            session=locked,
            route=route,
            product=product,
            concentration_mg_per_ml=concentration_mg_per_ml,
            lot=lot,
            expires_on=expires_on,
            dose_mg=dose,
            weight_kg=weight,
            mg_per_kg=per_kg,
            infusion_minutes=infusion_minutes if route == "intravenous" else None,
            devices=devices,
            given_at=moment,
            given_by=actor,
            therapist_present=therapist_present,
            created_by=actor,
            updated_by=actor,
        )
        administer_for_dose(actor=actor, dose=record, location=location)
        locked.state = SessionState.DOSED
        locked.updated_by = actor
        locked.save(update_fields=["state", "updated_by", "updated_at"])
        _audit(
            actor,
            "dosing.dose",
            locked,
            {
                "dose": str(record.public_id),
                "route": route,
                "dose_mg": str(dose),
                "mg_per_kg": str(per_kg) if per_kg is not None else None,
                "lot": lot,
                "devices": devices,
                "overrides": {code: why for code, (_by, why) in applied.items()},
            },
        )
    return record


# ---------------------------------------------------------------------------------------------
# Discharge


def can_discharge(user: User) -> bool:
    """The monitoring clinician discharges: a prescriber or a nurse."""
    return user.is_active and (user.is_prescriber or user.is_nurse)


def discharge_record(
    *,
    actor: User,
    session: DosingSession,
    escort_present: bool,
    no_driving_counselled: bool,
    dissociation_resolved: bool | None = None,
    overrides: Mapping[str, str] | None = None,
    discharged_at: dt.datetime | None = None,
) -> DosingSession:
    """Discharge the client when every criterion passes (minimum observation, vitals acceptable
    and falling, MOAA/S 5, dissociation resolved, escort present, no-driving counselling).
    A failed criterion, an early discharge among them, needs a prescriber's override with a
    reason. The checks are stored as judged with the parameter versions; an esketamine session
    gets its REMS monitoring form in the same transaction."""
    _require_clinician(actor, "discharged_at")
    _require_open(session, "discharged_at")
    if session.state != SessionState.DOSED:
        message = (
            "The client is already discharged."
            if session.state == SessionState.DISCHARGED
            else "No dose is recorded yet: there is nothing to discharge from."
        )
        raise field_error("discharged_at", message, "not_dosed")
    errors: dict[str, ValidationError] = {}
    if not can_discharge(actor):
        errors["discharged_at"] = ValidationError(
            "A prescriber or nurse discharges the client.", code="not_credentialed"
        )
    moment = _when(discharged_at, errors, "discharged_at")
    applied = {
        code: (actor.display_name, why.strip())
        for code, why in (overrides or {}).items()
        if (why or "").strip()
    }
    if applied and not actor.is_prescriber:
        errors["overrides"] = ValidationError(
            "Only a prescriber can override a discharge criterion.", code="not_prescriber"
        )
    if any(len(why) > REASON_MAX for _by, why in applied.values()):
        errors["overrides"] = ValidationError(
            f"At most {REASON_MAX} characters for a reason.", code="max_length"
        )
    if errors:
        raise ValidationError(errors)
    sheet = flowsheet.flowsheet(session, moment)
    if sheet.dose_completed_at is None or moment < sheet.dose_completed_at:
        raise field_error("discharged_at", "The dose has not ended at this time.", "before_dose")
    inputs = flowsheet.discharge_inputs(
        sheet,
        moment,
        escort_present=escort_present,
        no_driving_counselled=no_driving_counselled,
        dissociation_resolved=dissociation_resolved,
    )
    checks = rules.discharge_checks(inputs, sheet.params)
    unknown = sorted(set(applied) - {check.code for check in checks})
    if unknown:
        raise field_error(
            "overrides", f"No such discharge criterion: {', '.join(unknown)}.", "invalid_choice"
        )
    judged = rules.with_overrides(checks, applied)
    if not rules.may_discharge(checks, applied):
        failed = [check for check in judged if not check.open]
        raise field_error(
            "overrides",
            "Not ready for discharge: "
            + " ".join(f"{check.title}: {check.reason}" for check in failed)
            + " A prescriber may override a criterion with a reason.",
            "not_ready",
        )
    with transaction.atomic():
        locked = DosingSession.objects.select_for_update().get(pk=session.pk)
        if locked.state != SessionState.DOSED:
            raise field_error("discharged_at", "The client is already discharged.", "not_dosed")
        locked.discharge = {
            "answers": {
                "escort_present": escort_present,
                "no_driving_counselled": no_driving_counselled,
                "dissociation_resolved": dissociation_resolved,
            },
            "checks": [_check_json(check) for check in judged],
            "parameter_versions": sheet.versions,
        }
        locked.state = SessionState.DISCHARGED
        locked.discharged_by, locked.discharged_at = actor, moment
        locked.updated_by = actor
        locked.save()
        _audit(
            actor,
            "dosing.discharge",
            locked,
            {
                "discharged_at": moment,
                "failed": [c.code for c in judged if not c.passed],
                "overridden": sorted(applied),
                "override_reasons": {code: why for code, (_by, why) in applied.items()},
            },
        )
        if sheet.route == rules.INTRANASAL:
            from kapcare.dosing.rems import rems_form_create

            rems_form_create(actor=actor, session=locked)
    return locked


# ---------------------------------------------------------------------------------------------
# Adverse-event follow-up


def adverse_event_follow_up(*, actor: User, event: AdverseEvent, outcome: str) -> AdverseEvent:
    """Record the follow-up of an adverse event (a serious one waits in the follow-up queue
    until this is done): the outcome as now known, by a clinician, once."""
    _require_clinician(actor, "outcome")
    outcome = (outcome or "").strip()
    if not outcome:
        raise field_error("outcome", "Say how the event turned out.", "required")
    if len(outcome) > REASON_MAX:
        raise field_error("outcome", f"At most {REASON_MAX} characters.", "max_length")
    with transaction.atomic():
        locked = AdverseEvent.objects.select_for_update().select_related("client").get(pk=event.pk)
        if locked.followed_up_at is not None:
            raise field_error("outcome", "This event is already followed up.", "followed_up")
        locked.outcome = outcome
        locked.followed_up_at = now()
        locked.updated_by = actor
        locked.save(update_fields=["outcome", "followed_up_at", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action="dosing.adverse_event_follow_up",
            subject_type="adverse_event",
            subject_public_id=locked.public_id,
            client_public_id=locked.client.public_id,
            after={"followed_up_at": locked.followed_up_at.isoformat()},
        )
    return locked
