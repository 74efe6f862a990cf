"""The esketamine REMS Patient Monitoring Form (clinical-facts §2a): filled from the charted
session, due within the REMS deadline, and the submission's date and reference once sent.

The form is prepared from what was charted and nothing else: an item the record does not hold
is named in the form's `missing` list and left empty, never guessed. The monitoring clinician
checks the form, sends it to the REMS, and records the date and the REMS's reference here.

`rems_form_create` is called by the discharge service inside its own transaction when an
esketamine session is discharged; it can also be called on its own (the form of a session
that was not discharged through kapcare lists the discharge as missing).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses.models import RemsEnrollment
from kapcare.dosing import rules, selectors
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    RemsForm,
    RemsSiteCertification,
    ScaleKind,
    ScaleRow,
    SideEffect,
    SideEffectRow,
    VitalsRow,
)
from kapcare.medications.interactions import BY_CODE as INTERACTION_CODES
from kapcare.screening.models import CurrentMedication

SCHEMA_VERSION = 1
REFERENCE_MAX = 80
SITE_NAME_MAX = 200
NUMBER_MAX = 80

# The medicine groups the form asks about: those that may cause sedation, dissociation,
# respiratory depression or blood pressure changes. The REMS names benzodiazepines,
# sedative-hypnotics, opioids and psychostimulants; the Spravato label adds MAO inhibitors
# (monitor blood pressure). Other groups on the list are shown, not flagged.
REMS_MEDICINE_GROUPS = ("benzodiazepine", "cns_depressant", "opioid", "psychostimulant", "maoi")
MEDICINES_SOURCE = (
    "Spravato REMS Patient Monitoring Form: concomitant medicines that may cause sedation, "
    "dissociation, respiratory depression or blood pressure changes (benzodiazepines, "
    "sedative-hypnotics, opioids, psychostimulants); MAO inhibitors: Spravato label "
    "(clinical-facts §2a, §4)"
)
SITE_SOURCE = (
    "Spravato REMS: healthcare settings that give the drug must be certified in the REMS "
    "(clinical-facts §2a)"
)
BP_SOURCE = rules.VITALS_SOURCES[rules.INTRANASAL]
RESPIRATORY_SOURCE = rules.ALERT_SOURCES["spo2"]

MISSING_LABELS = {
    "rems_enrollment": "The client's REMS patient enrolment",
    "site_certification": "The site's REMS certification",
    "dose": "The dose record",
    "medicines_today": "Medicines taken today (the pre-dose check)",
    "bp_pre_dose": "Blood pressure before the dose",
    "bp_post_dose": "Blood pressure about 40 minutes after the dose",
    "bp_discharge": "Blood pressure before discharge",
    "discharge": "The discharge (end of monitoring)",
    "moaas": "A sedation score (MOAA/S)",
    "cadss": "A dissociation score (CADSS)",
    "spo2": "Pulse oximetry (SpO2)",
}


# ---------------------------------------------------------------------------------------------
# Who may do what


def may_see_rems(user: User) -> bool:
    """The REMS pages are for clinicians and practice admins (each sees the forms of the clients
    they may see); anyone else gets 404."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_clinician or user.is_practice_admin)
    )


def may_submit(user: User) -> bool:
    return bool(user.is_active and (user.is_prescriber or user.is_nurse))


# ---------------------------------------------------------------------------------------------
# Filling the form


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(practice_zone()).isoformat(timespec="minutes") if moment else None


def session_day(session: DosingSession) -> dt.date:
    """The session's day in the practice's zone (the appointment's start), as the REMS counts
    its deadline from it."""
    return session.appointment.starts_at.astimezone(practice_zone()).date()


def _current(model: Any, session: DosingSession) -> list[Any]:
    """The session's rows of an append-only table as they stand: a row corrected by a later
    one is replaced by its correction."""
    rows = model.objects.filter(session=session, corrected_by__isnull=True)
    return list(rows.order_by("taken_at", "id"))


def _reading(row: VitalsRow) -> rules.Reading:
    return rules.Reading(
        at=row.taken_at,
        systolic=row.systolic,
        diastolic=row.diastolic,
        heart_rate=row.heart_rate,
        spo2=row.spo2,
        respiratory_rate=row.respiratory_rate,
    )


def _bp_point(reading: rules.Reading | None, dose_at: dt.datetime | None) -> dict[str, Any] | None:
    if reading is None or reading.at is None:
        return None
    after = None
    if dose_at is not None and reading.at >= dose_at:
        after = int((reading.at - dose_at).total_seconds() // 60)
    return {
        "at": _iso(reading.at),
        "systolic": reading.systolic,
        "diastolic": reading.diastolic,
        "heart_rate": reading.heart_rate,
        "minutes_after_dose": after,
    }


@dataclass(frozen=True)
class BpPoints:
    pre_dose: rules.Reading | None
    post_dose: rules.Reading | None
    discharge: rules.Reading | None


def bp_points(
    readings: Sequence[rules.Reading],
    dose_at: dt.datetime | None,
    discharged_at: dt.datetime | None,
    check_minutes: int,
) -> BpPoints:
    """The three blood pressures the form asks for (pure: readings in, readings out).

    Pre-dose: the last reading with both numbers at or before the dose. About 40 minutes: the
    post-dose reading nearest `check_minutes` after the dose, other than the last one when there
    are several (the last is the discharge reading). Before discharge: the last post-dose
    reading at or before the discharge; none until the client is discharged."""
    with_bp = sorted((r for r in readings if r.has_bp and r.at is not None), key=_at)
    if dose_at is None:
        return BpPoints(None, None, None)
    before = [r for r in with_bp if _at(r) <= dose_at]
    after = [r for r in with_bp if _at(r) > dose_at]
    if discharged_at is not None:
        after = [r for r in after if _at(r) <= discharged_at]
    target = dose_at + dt.timedelta(minutes=check_minutes)
    candidates = after[:-1] if len(after) > 1 and discharged_at is not None else after
    post = min(candidates, key=lambda r: abs(_at(r) - target), default=None)
    last = after[-1] if after and discharged_at is not None else None
    return BpPoints(before[-1] if before else None, post, last)


def _at(reading: rules.Reading) -> dt.datetime:
    assert reading.at is not None  # noqa: S101  (only readings with a time are passed)
    return reading.at


def _alert(alert: rules.Alert, at: dt.datetime | None) -> dict[str, Any]:
    return {
        "at": _iso(at),
        "code": alert.code,
        "severity": alert.severity,
        "value": alert.value,
        "threshold": alert.threshold,
        "reason": alert.reason,
        "source": alert.source,
    }


def _medicines(session: DosingSession, day: dt.date) -> dict[str, Any]:
    listed = (
        CurrentMedication.objects.filter(client_id=session.client_id)
        .filter(Q(started_on__isnull=True) | Q(started_on__lte=day))
        .filter(Q(stopped_on__isnull=True) | Q(stopped_on__gt=day))
        .select_related("medication")
        .order_by("id")
    )
    current = []
    for item in listed:
        groups = list(item.medication.interaction_categories or []) if item.medication else []
        current.append(
            {
                "name": item.drug_name,
                "dose": item.dose_display,
                "frequency": item.get_frequency_display(),
                "groups": [
                    INTERACTION_CODES[g].label if g in INTERACTION_CODES else g for g in groups
                ],
                "rems_relevant": any(g in REMS_MEDICINE_GROUPS for g in groups),
            }
        )
    answers = (session.pre_check or {}).get("answers") or {}
    codes = answers.get("medicines_today")
    today = None
    if codes is not None:
        today = [
            {
                "code": code,
                "label": INTERACTION_CODES[code].label if code in INTERACTION_CODES else code,
                "rems_relevant": code in REMS_MEDICINE_GROUPS,
            }
            for code in codes
        ]
    relevant = any(m["rems_relevant"] for m in current) or any(
        m["rems_relevant"] for m in today or []
    )
    return {
        "current": current,
        "taken_today": today,
        "rems_relevant": relevant,
        "source": MEDICINES_SOURCE,
    }


def active_certification() -> RemsSiteCertification | None:
    return (
        RemsSiteCertification.objects.filter(active=True).order_by("-certified_on", "-id").first()
    )


def _staff(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def rems_form_fill(session: DosingSession) -> dict[str, Any]:
    """The Patient Monitoring Form's content from the charted session (JSON-ready). Reads the
    record and the parameters in force; writes nothing. Anything the record lacks is None and
    named in `missing`."""
    params, _versions = selectors.parameters_in_force()
    route = rules.INTRANASAL
    client = session.client
    appointment = session.appointment
    day = session_day(session)
    missing: list[str] = []

    enrolment = (
        RemsEnrollment.objects.filter(client=client, enrolled_on__lte=day)
        .order_by("-enrolled_on", "-id")
        .first()
    )
    if enrolment is None:
        missing.append("rems_enrollment")
    certification = active_certification()
    if certification is None:
        missing.append("site_certification")

    dose = Dose.objects.filter(session=session).select_related("given_by").first()
    if dose is None:
        missing.append("dose")
    medicines = _medicines(session, day)
    if medicines["taken_today"] is None:
        missing.append("medicines_today")

    dose_at = dose.given_at if dose is not None else None
    discharged_at = session.discharged_at if dose is not None else None
    if session.discharged_at is None:
        missing.append("discharge")

    rows = _current(VitalsRow, session)
    readings = [_reading(row) for row in rows]
    points = bp_points(readings, dose_at, discharged_at, params.check_minutes[route])
    for code, point in (
        ("bp_pre_dose", points.pre_dose),
        ("bp_post_dose", points.post_dose),
        ("bp_discharge", points.discharge),
    ):
        if point is None:
            missing.append(code)

    # What happened after the dose: the alerts each reading raised against the pre-dose one.
    age = client.age_on(day)
    watched = [r for r in readings if dose_at is None or (r.at is not None and r.at > dose_at)]
    alerts = [
        (reading, alert)
        for reading in watched
        for alert in rules.vitals_alerts(reading, points.pre_dose, params, age, route=route)
    ]
    bp_alerts = [_alert(a, r.at) for r, a in alerts if a.code in ("bp_high", "bp_stop")]
    breathing = [_alert(a, r.at) for r, a in alerts if a.code in ("spo2", "respiratory_rate")]
    spo2_values = [r.spo2 for r in watched if r.spo2 is not None]
    rates = [r.respiratory_rate for r in watched if r.respiratory_rate is not None]
    if not spo2_values:
        missing.append("spo2")

    scales = _current(ScaleRow, session)
    effects = _current(SideEffectRow, session)
    effect_codes = {row.effect for row in effects}

    moaas = [row for row in scales if row.scale == ScaleKind.MOAAS]
    sedation: dict[str, Any] = {
        "occurred": None,
        "lowest": None,
        "level": None,
        "label": None,
        "latest": None,
        "resolved": None,
        "scores": len(moaas),
        "source": rules.MOAAS_SOURCE,
    }
    if moaas:
        lowest = rules.moaas_level(min(row.score for row in moaas))
        latest = moaas[-1].score
        sedation.update(
            occurred=lowest.level != rules.ALERT_LEVEL or SideEffect.SEDATION in effect_codes,
            lowest=lowest.score,
            level=lowest.level,
            label=lowest.label,
            latest=latest,
            resolved=latest >= params.discharge_moaas_at_least,
        )
    else:
        missing.append("moaas")
        if SideEffect.SEDATION in effect_codes:
            sedation["occurred"] = True

    cadss = [row for row in scales if row.scale == ScaleKind.CADSS]
    # The discharging clinician's statement, where there is one, decides (as at discharge).
    stated = ((session.discharge or {}).get("answers") or {}).get("dissociation_resolved")
    stated = stated if isinstance(stated, bool) else None
    dissociation: dict[str, Any] = {
        "occurred": None,
        "highest": None,
        "version": None,
        "version_label": None,
        "latest": None,
        "resolved": None,
        "reason": None,
        "cut_off": params.cadss_resolved_at_most,
        "scores": len(cadss),
        "source": rules.DISSOCIATION_SOURCE,
    }
    if cadss:
        highest = max(cadss, key=lambda row: (row.score, row.taken_at))
        latest_row = cadss[-1]
        judged = rules.dissociation_resolved(
            latest_row.score, latest_row.version, params, clinician_resolved=stated
        )
        dissociation.update(
            occurred=highest.score > params.cadss_resolved_at_most
            or SideEffect.DISSOCIATION in effect_codes,
            highest=highest.score,
            version=highest.version,
            version_label=rules.CADSS_VERSIONS.get(highest.version, (highest.version,))[0],
            latest=latest_row.score,
            resolved=judged.resolved,
            reason=judged.reason,
        )
    else:
        missing.append("cadss")
        if SideEffect.DISSOCIATION in effect_codes:
            dissociation["occurred"] = True
        if stated is not None:
            judged = rules.dissociation_resolved(None, "", params, clinician_resolved=stated)
            dissociation.update(resolved=judged.resolved, reason=judged.reason)

    respiratory = {
        "occurred": bool(breathing) if (spo2_values or rates) else None,
        "alerts": breathing,
        "lowest_spo2": min(spo2_values) if spo2_values else None,
        "lowest_respiratory_rate": min(rates) if rates else None,
        "spo2_below": params.spo2_below,
        "source": RESPIRATORY_SOURCE,
    }

    monitoring: dict[str, Any] = {
        "started_at": _iso(dose_at),
        "ended_at": _iso(discharged_at),
        "minutes": None,
        "minimum_minutes": params.observation_minutes[route],
        "met_minimum": None,
    }
    if dose_at is not None and discharged_at is not None:
        minutes = int((discharged_at - dose_at).total_seconds() // 60)
        monitoring.update(minutes=minutes, met_minimum=minutes >= params.observation_minutes[route])

    events = AdverseEvent.objects.filter(session=session).order_by("onset_at", "id")
    return {
        "schema": SCHEMA_VERSION,
        "patient": {
            "name": client.legal_name,
            "date_of_birth": client.date_of_birth.isoformat(),
            "rems_reference": enrolment.reference if enrolment else None,
            "rems_enrolled_on": enrolment.enrolled_on.isoformat() if enrolment else None,
        },
        "site": {
            "certification_number": certification.number if certification else None,
            "site_name": certification.site_name if certification else None,
            "certified_on": certification.certified_on.isoformat() if certification else None,
            "source": SITE_SOURCE,
        },
        "session": {"date": day.isoformat(), "id": str(session.public_id)},
        "medicines": medicines,
        "dose": None
        if dose is None
        else {
            "product": dose.product,
            "dose_mg": str(dose.dose_mg.normalize()),
            "devices": dose.devices,
            "lot": dose.lot,
            "expires_on": dose.expires_on.isoformat(),
            "given_at": _iso(dose.given_at),
            "given_by": _staff(dose.given_by),
        },
        "monitoring": monitoring,
        "blood_pressure": {
            "pre_dose": _bp_point(points.pre_dose, dose_at),
            "post_dose": _bp_point(points.post_dose, dose_at),
            "discharge": _bp_point(points.discharge, dose_at),
            "check_minutes": params.check_minutes[route],
            "alerts": bp_alerts,
            "changed": bool(bp_alerts) if points.post_dose or points.discharge else None,
            "source": BP_SOURCE,
        },
        "sedation": sedation,
        "dissociation": dissociation,
        "respiratory": respiratory,
        "side_effects": [
            {
                "at": _iso(row.taken_at),
                "effect": row.get_effect_display(),
                "severity": row.get_severity_display(),
                "note": row.note,
            }
            for row in effects
        ],
        "adverse_events": [
            {
                "event": event.event,
                "onset_at": _iso(event.onset_at),
                "severity": event.get_severity_display(),
                "seriousness": event.get_seriousness_display(),
                "serious": event.seriousness == "serious",
                "related": event.get_related_display(),
                "action": event.action,
                "outcome": event.outcome,
            }
            for event in events
        ],
        "monitored_by": {
            "monitoring_clinician": _staff(appointment.clinician),
            "therapist": _staff(appointment.second_clinician),
            "dose_given_by": _staff(dose.given_by) if dose is not None else None,
            "discharged_by": _staff(session.discharged_by),
        },
        "missing": [{"code": code, "label": MISSING_LABELS[code]} for code in missing],
    }


# ---------------------------------------------------------------------------------------------
# Services


def _audit(actor: User, action: str, form: RemsForm, **changes: Any) -> None:
    audit.record(
        actor=actor,
        action=action,
        subject_type="rems_form",
        subject_public_id=form.public_id,
        client_public_id=form.session.client.public_id,
        **changes,
    )


def _missing_codes(data: dict[str, Any]) -> list[str]:
    return [item["code"] for item in data.get("missing", [])]


def rems_form_create(*, actor: User, session: DosingSession) -> RemsForm:
    """The session's Patient Monitoring Form, created once (a second call returns the first
    form): filled from the session, due `dosing.rems_form_days` days after the session's day.
    Only for esketamine (intranasal) sessions. Safe inside the caller's transaction (the
    discharge service calls it in its own): its writes join that transaction."""
    if not actor.is_clinician:
        raise field_error(
            "session", "Only a therapist, prescriber or nurse prepares the form.", "not_clinician"
        )
    if selectors.session_route(session) != rules.INTRANASAL:
        raise field_error(
            "session",
            "A REMS monitoring form is only for an esketamine (intranasal) session.",
            "not_esketamine",
        )
    with transaction.atomic():
        # Two calls at once: the second waits here, then finds the first one's form.
        DosingSession.objects.select_for_update().filter(pk=session.pk).first()
        existing = RemsForm.objects.filter(session=session).first()
        if existing is not None:
            return existing
        params, versions = selectors.parameters_in_force()
        data = rems_form_fill(session)
        form = RemsForm.objects.create(
            session=session,
            due_on=rules.rems_deadline(session_day(session), params.rems_form_days),
            data=data,
            created_by=actor,
            updated_by=actor,
        )
        _audit(
            actor,
            "rems_form.create",
            form,
            after={
                "session": str(session.public_id),
                "due_on": form.due_on.isoformat(),
                "rems_form_days": params.rems_form_days,
                "parameter_version": versions.get("dosing.rems_form_days"),
                "missing": _missing_codes(data),
            },
        )
    return form


def rems_form_refresh(*, actor: User, form: RemsForm) -> RemsForm:
    """Fill the form again from the session (after a correction, a late entry, the discharge),
    while it has not been submitted."""
    if not actor.is_clinician:
        raise field_error(
            "form", "Only a therapist, prescriber or nurse prepares the form.", "not_clinician"
        )
    with transaction.atomic():
        locked = RemsForm.objects.select_for_update().select_related("session").get(pk=form.pk)
        if locked.submitted_on is not None:
            raise field_error(
                "form", "The form is submitted: it is kept as it was sent.", "submitted"
            )
        before = _missing_codes(locked.data)
        locked.data = rems_form_fill(locked.session)
        locked.updated_by = actor
        locked.save(update_fields=["data", "updated_by", "updated_at"])
        _audit(
            actor,
            "rems_form.refresh",
            locked,
            before={"missing": before},
            after={"missing": _missing_codes(locked.data)},
        )
    return locked


def rems_form_submit(
    *, actor: User, form: RemsForm, submitted_on: dt.date, reference: str
) -> RemsForm:
    """Record that the form was sent to the REMS: the day it was sent and the REMS's reference.
    A prescriber or a nurse records it; the day is not in the future nor before the session;
    a form is submitted once."""
    errors: dict[str, ValidationError] = {}
    if not may_submit(actor):
        errors["submitted_by"] = ValidationError(
            "A prescriber or a nurse records the submission.", code="not_credentialed"
        )
    reference = " ".join((reference or "").split())
    if not reference:
        errors["reference"] = ValidationError(
            "Enter the reference the REMS gave the submission.", code="required"
        )
    elif len(reference) > REFERENCE_MAX:
        errors["reference"] = ValidationError(
            f"At most {REFERENCE_MAX} characters.", code="max_length"
        )
    day = session_day(form.session)
    if submitted_on is None:
        errors["submitted_on"] = ValidationError("Enter the day it was sent.", code="required")
    elif submitted_on > practice_today():
        errors["submitted_on"] = ValidationError("This day is in the future.", code="future")
    elif submitted_on < day:
        errors["submitted_on"] = ValidationError(
            f"The session was on {day:%Y-%m-%d}: the form is sent after it.",
            code="before_session",
        )
    if form.submitted_on is not None:
        errors = {"submitted_on": _already(form)}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = RemsForm.objects.select_for_update().select_related("session").get(pk=form.pk)
        if locked.submitted_on is not None:
            raise ValidationError({"submitted_on": _already(locked)})
        locked.submitted_on = submitted_on
        locked.reference = reference
        locked.submitted_by = actor
        locked.updated_by = actor
        locked.save(
            update_fields=["submitted_on", "reference", "submitted_by", "updated_by", "updated_at"]
        )
        status = rules.rems_status(locked.due_on, submitted_on, practice_today())
        _audit(
            actor,
            "rems_form.submit",
            locked,
            after={
                "submitted_on": submitted_on.isoformat(),
                "reference": reference,
                "status": status.state,
            },
        )
    return locked


def _already(form: RemsForm) -> ValidationError:
    return ValidationError(
        f"Already submitted on {form.submitted_on:%Y-%m-%d} (reference {form.reference}).",
        code="already_submitted",
    )


def rems_site_certify(
    *, actor: User, number: str, certified_on: dt.date, site_name: str
) -> RemsSiteCertification:
    """Record the practice's REMS certification (practice admins). The new one becomes the
    active one; an earlier one stays as history."""
    if not actor.is_practice_admin:
        raise field_error(
            "number", "Only a practice admin records the site's certification.", "not_admin"
        )
    errors: dict[str, ValidationError] = {}
    number = " ".join((number or "").split())
    site_name = " ".join((site_name or "").split())
    for field, value, limit in (
        ("number", number, NUMBER_MAX),
        ("site_name", site_name, SITE_NAME_MAX),
    ):
        if not value:
            errors[field] = ValidationError("This is required.", code="required")
        elif len(value) > limit:
            errors[field] = ValidationError(f"At most {limit} characters.", code="max_length")
    if certified_on is None:
        errors["certified_on"] = ValidationError("Enter the day.", code="required")
    elif certified_on > practice_today():
        errors["certified_on"] = ValidationError("This day is in the future.", code="future")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        previous = list(RemsSiteCertification.objects.select_for_update().filter(active=True))
        RemsSiteCertification.objects.filter(pk__in=[p.pk for p in previous]).update(
            active=False, updated_by=actor
        )
        certification = RemsSiteCertification.objects.create(
            number=number,
            certified_on=certified_on,
            site_name=site_name,
            active=True,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            actor=actor,
            action="rems_site.certify",
            subject_type="rems_site_certification",
            subject_public_id=certification.public_id,
            before={"active": [p.number for p in previous]},
            after={
                "number": number,
                "certified_on": certified_on.isoformat(),
                "site_name": site_name,
            },
        )
    return certification


# ---------------------------------------------------------------------------------------------
# Selectors


@dataclass(frozen=True)
class QueueRow:
    form: RemsForm
    status: rules.RemsStatus

    @property
    def client(self) -> Any:
        return self.form.session.client

    @property
    def session_date(self) -> dt.date:
        return session_day(self.form.session)


def rems_forms(user: User) -> QuerySet[RemsForm]:
    """The forms of the clients `user` may see: not submitted first, by due day."""
    if not may_see_rems(user):
        return RemsForm.objects.none()
    done = ExpressionWrapper(Q(submitted_on__isnull=False), output_field=BooleanField())
    return (
        RemsForm.objects.filter(session__client__in=visible_clients(user))
        .select_related("session__client", "session__appointment", "submitted_by")
        .annotate(done=done)
        .order_by("done", "due_on", "id")
    )


def queue_rows(forms: Iterable[RemsForm], today: dt.date | None = None) -> list[QueueRow]:
    today = today or practice_today()
    return [
        QueueRow(form, rules.rems_status(form.due_on, form.submitted_on, today)) for form in forms
    ]


def rems_queue(user: User) -> list[QueueRow]:
    """The forms `user` may see with each one's status today (one query, however many)."""
    return queue_rows(rems_forms(user))


def rems_form_for(user: User, public_id: uuid.UUID | str) -> RemsForm:
    """One form, if `user` may see its client; otherwise Http404 (as for a client outside the
    care team)."""
    try:
        return rems_forms(user).get(public_id=public_id)
    except (RemsForm.DoesNotExist, ValueError, ValidationError) as missing:
        raise Http404("No such form.") from missing


def record_form_read(user: User, form: RemsForm, action: str, **detail: Any) -> None:
    """A look at a form (`rems_form.read`) or its export (`rems_form.export`), in the audit
    log like a chart read."""
    audit.record_read(
        actor=user,
        action=action,
        subject_type="rems_form",
        subject_public_id=form.public_id,
        client_public_id=form.session.client.public_id,
        detail=detail or None,
    )


def form_status(form: RemsForm, today: dt.date | None = None) -> rules.RemsStatus:
    return rules.rems_status(form.due_on, form.submitted_on, today or practice_today())


# ---------------------------------------------------------------------------------------------
# The form as people read it (the page and the PDF show the same sections)


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]]
    notes: list[str]


MISSING_TEXT = "Not recorded"


def _when(value: str | None) -> str:
    if not value:
        return MISSING_TEXT
    moment = dt.datetime.fromisoformat(value)
    return f"{moment:%Y-%m-%d %H:%M}"


def _time(value: str | None) -> str:
    return f"{dt.datetime.fromisoformat(value):%H:%M}" if value else MISSING_TEXT


def _yes_no(value: bool | None) -> str:
    return MISSING_TEXT if value is None else ("Yes" if value else "No")


def _bp_text(point: dict[str, Any] | None, *, with_minutes: bool = True) -> str:
    if not point:
        return MISSING_TEXT
    text = f"{point['systolic']}/{point['diastolic']} mmHg at {_time(point['at'])}"
    if with_minutes and point.get("minutes_after_dose") is not None:
        text += f" ({point['minutes_after_dose']} min after the dose)"
    return text


def _or_missing(value: Any, suffix: str = "") -> str:
    return MISSING_TEXT if value in (None, "") else f"{value}{suffix}"


def form_sections(data: dict[str, Any]) -> list[Section]:
    """The form's data as titled sections of (label, text) rows, in the order of the REMS
    Patient Monitoring Form."""
    patient, site, session = data["patient"], data["site"], data["session"]
    dose, monitoring, bp = data["dose"], data["monitoring"], data["blood_pressure"]
    sedation, dissociation = data["sedation"], data["dissociation"]
    breathing, medicines, people = data["respiratory"], data["medicines"], data["monitored_by"]

    sections = [
        Section(
            "Patient and site",
            [
                ("Patient", patient["name"]),
                ("Date of birth", patient["date_of_birth"]),
                ("REMS patient enrolment", _or_missing(patient["rems_reference"])),
                ("Healthcare setting", _or_missing(site["site_name"])),
                ("Site certification number", _or_missing(site["certification_number"])),
                ("Session date", session["date"]),
            ],
            [],
        )
    ]
    current = [
        f"{m['name']} {m['dose']} {m['frequency'].lower()}"
        + (f" ({', '.join(m['groups'])})" if m["groups"] else "")
        + (" *" if m["rems_relevant"] else "")
        for m in medicines["current"]
    ]
    today = medicines["taken_today"]
    sections.append(
        Section(
            "Concomitant medicines",
            [
                ("Current medication list", "; ".join(current) if current else "None listed"),
                (
                    "Taken today (pre-dose check)",
                    MISSING_TEXT
                    if today is None
                    else ("; ".join(m["label"] for m in today) if today else "None"),
                ),
                (
                    "Any in a group the REMS asks about",
                    "Yes" if medicines["rems_relevant"] else "None recorded",
                ),
            ],
            [
                "The REMS asks about medicines that may cause sedation, dissociation, "
                "respiratory depression or blood pressure changes"
                + ("; * marks one on the list." if current else ".")
            ],
        )
    )
    sections.append(
        Section(
            "Dose",
            [
                ("Product", dose["product"] if dose else MISSING_TEXT),
                (
                    "Dose",
                    f"{dose['dose_mg']} mg"
                    + (f" ({dose['devices']} devices)" if dose and dose["devices"] else "")
                    if dose
                    else MISSING_TEXT,
                ),
                (
                    "Lot and expiry",
                    f"{dose['lot']}, expires {dose['expires_on']}" if dose else MISSING_TEXT,
                ),
                ("First device given", _when(dose["given_at"]) if dose else MISSING_TEXT),
            ],
            [],
        )
    )
    minutes = monitoring["minutes"]
    sections.append(
        Section(
            "Monitoring",
            [
                ("Started (dose given)", _when(monitoring["started_at"])),
                ("Ended (discharged)", _when(monitoring["ended_at"])),
                (
                    "Total monitoring time",
                    MISSING_TEXT
                    if minutes is None
                    else f"{minutes} min ({minutes // 60} h {minutes % 60:02d} min)",
                ),
                (
                    f"At least {monitoring['minimum_minutes']} min",
                    _yes_no(monitoring["met_minimum"]),
                ),
            ],
            [],
        )
    )
    sections.append(
        Section(
            "Blood pressure",
            [
                ("Before the dose", _bp_text(bp["pre_dose"], with_minutes=False)),
                (f"About {bp['check_minutes']} min after the dose", _bp_text(bp["post_dose"])),
                ("Before discharge", _bp_text(bp["discharge"])),
                (
                    "After the dose, above the hold or stop level",
                    _yes_no(bp["changed"]),
                ),
            ],
            [alert["reason"] for alert in bp["alerts"]],
        )
    )
    sections.append(
        Section(
            "Sedation (MOAA/S)",
            [
                ("Sedation occurred", _yes_no(sedation["occurred"])),
                (
                    "Lowest MOAA/S",
                    MISSING_TEXT
                    if sedation["lowest"] is None
                    else f"{sedation['lowest']} ({sedation['label']})",
                ),
                ("Resolved before discharge", _yes_no(sedation["resolved"])),
            ],
            [],
        )
    )
    sections.append(
        Section(
            "Dissociation (CADSS)",
            [
                ("Dissociation occurred", _yes_no(dissociation["occurred"])),
                (
                    "Highest CADSS",
                    MISSING_TEXT
                    if dissociation["highest"] is None
                    else f"{dissociation['highest']} ({dissociation['version_label']})",
                ),
                ("Resolved before discharge", _yes_no(dissociation["resolved"])),
            ],
            [dissociation["reason"]] if dissociation["reason"] else [],
        )
    )
    sections.append(
        Section(
            "Respiratory depression",
            [
                ("Respiratory depression occurred", _yes_no(breathing["occurred"])),
                ("Lowest SpO2", _or_missing(breathing["lowest_spo2"], "%")),
                (
                    "Lowest respiratory rate",
                    _or_missing(breathing["lowest_respiratory_rate"], "/min"),
                ),
            ],
            [alert["reason"] for alert in breathing["alerts"]],
        )
    )
    effects = [
        f"{e['effect']} ({e['severity'].lower()}) at {_time(e['at'])}"
        + (f": {e['note']}" if e["note"] else "")
        for e in data["side_effects"]
    ]
    events = [
        f"{e['event']}: {e['severity'].lower()}, {e['seriousness'].lower()}, "
        f"{e['related'].lower()}; onset {_when(e['onset_at'])}"
        + (f"; action: {e['action']}" if e["action"] else "")
        + (f"; outcome: {e['outcome']}" if e["outcome"] else "")
        for e in data["adverse_events"]
    ]
    sections.append(
        Section(
            "Side effects and adverse events",
            [
                ("Side effects", "; ".join(effects) if effects else "None recorded"),
                ("Adverse events", " | ".join(events) if events else "None recorded"),
            ],
            [],
        )
    )
    sections.append(
        Section(
            "Monitored by",
            [
                ("Monitoring clinician", _or_missing(people["monitoring_clinician"])),
                ("Therapist present", _or_missing(people["therapist"])),
                ("Dose given by", _or_missing(people["dose_given_by"])),
                ("Discharged by", _or_missing(people["discharged_by"])),
            ],
            [],
        )
    )
    return sections
