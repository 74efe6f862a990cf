"""Reads for courses: the gates before a dose, built from the records they depend on."""

from __future__ import annotations

import datetime as dt

from django.utils.timezone import make_aware

from kapcare.core.time import practice_zone
from kapcare.courses import rules
from kapcare.courses.models import Appointment, Consent, Course, Kind, RemsEnrollment, State
from kapcare.courses.schedule import Anchor
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration
from kapcare.safety.models import SafetyFlag
from kapcare.screening.selectors import screening_for


def baseline_instruments(course: Course) -> tuple[str, ...]:
    """What the protocol measures at course start: the baseline the gate asks for."""
    protocol = course.plan
    found: list[str] = []
    for rule in protocol.measures:
        if rule.anchor == Anchor.COURSE_START:
            found += [code for code in rule.instruments if code not in found]
    return tuple(found)


def _screening_reason(course: Course) -> tuple[bool, str]:
    screening = screening_for(course.client)
    decision = screening.decision
    if screening.clearance_valid:
        return True, ""
    if decision is None:
        return False, "No prescriber decision on the screen yet."
    if not decision.is_clearance:
        return False, "The prescriber did not clear the screen."
    if decision.invalidated_at is not None:
        return False, f"Clearance withdrawn: {decision.invalidation_reason}."
    return False, "The screen no longer matches the clearance (facts changed with time)."


def short_instrument_name(code: str) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire-9 (PHQ-9)"."""
    name = INSTRUMENTS[code].name if code in INSTRUMENTS else code
    return name.rsplit("(", 1)[1].rstrip(")") if name.endswith(")") else name


def _other_doses(course: Course, excluding: Appointment | None) -> tuple[dt.datetime, ...]:
    doses = Appointment.objects.filter(
        course=course, kind=Kind.DOSING, state__in=(State.BOOKED, State.HELD)
    )
    if excluding is not None:
        doses = doses.exclude(pk=excluding.pk)
    return tuple(doses.values_list("starts_at", flat=True))


def course_gates(
    course: Course, *, dose_at: dt.datetime | None = None, excluding: Appointment | None = None
) -> list[rules.Gate]:
    """The gates before a dose of this course; with `dose_at`, also its spacing from the course's
    other doses (`excluding` the appointment being moved)."""
    protocol = course.plan
    client = course.client
    cleared, why = _screening_reason(course)
    since = make_aware(dt.datetime.combine(course.started_on, dt.time()), practice_zone())
    done = set(
        Administration.objects.current()
        .filter(client=client, completed_at__gte=since, total__isnull=False)
        .values_list("instrument", flat=True)
    )
    missing = tuple(
        short_instrument_name(code) for code in baseline_instruments(course) if code not in done
    )
    inputs = rules.GateInputs(
        screening_cleared=cleared,
        screening_reason=why,
        consent_signed=Consent.objects.filter(
            client=client, route=protocol.route, withdrawn_on__isnull=True
        ).exists(),
        needs_rems=protocol.needs_rems,
        rems_enrolled=RemsEnrollment.objects.filter(client=client).exists(),
        prep_done=Appointment.objects.filter(
            course=course, kind=Kind.PREPARATION, state=State.HELD
        ).count(),
        prep_required=protocol.prep_min.value,
        baseline_missing=missing,
        open_flags=tuple(
            SafetyFlag.objects.open().filter(client=client).values_list("severity", flat=True)
        ),
        dose_at=dose_at,
        other_doses=_other_doses(course, excluding) if dose_at is not None else (),
        min_days_between_doses=protocol.min_days_between_doses.value,
        zone=practice_zone(),
    )
    return rules.dosing_gates(inputs)
