"""Reads for dosing sessions: the parameters in force, and the facts of the day that the
pre-dose check takes from the record rather than asking (age, the course's gates, today's
suicide-risk answers and any same-day risk assessment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.timezone import make_aware

from kapcare.core.time import practice_today, practice_zone
from kapcare.courses.selectors import course_gates
from kapcare.dosing import parameters, rules
from kapcare.dosing.models import DosingSession
from kapcare.measures.models import Administration
from kapcare.measures.rules import CSSRS_RISK_FLAGS, SUICIDE_ITEM_POSITIVE
from kapcare.parameters.selectors import settings_for
from kapcare.safety.models import RiskAssessment


def parameters_in_force() -> tuple[rules.DosingParameters, dict[str, int]]:
    """The dosing rules' values now, and the version of each (stored with what they judged)."""
    current = settings_for(parameters.ALL_KEYS)
    values = {key: setting.value for key, setting in current.items()}
    return parameters.dosing_parameters(values), {
        key: setting.version for key, setting in current.items()
    }


def session_route(session: DosingSession) -> str:
    """The dose route the session's protocol uses (the protocol routes are dose routes)."""
    return session.course.plan.route


@dataclass(frozen=True)
class DayFacts:
    age: int
    gates_open: bool
    gates_reason: str
    phq9_item9_positive: bool | None
    cssrs_positive: bool | None
    suicide_reviewed_today: bool


def day_facts(session: DosingSession) -> DayFacts:
    client = session.client
    appointment = session.appointment
    gates = course_gates(session.course, dose_at=appointment.starts_at, excluding=appointment)
    failed = [g for g in gates if not g.passed]
    overridden = set(appointment.gate_overrides.values_list("gate", flat=True))
    still_failed = [g for g in failed if g.code not in overridden]
    since = make_aware(dt.datetime.combine(practice_today(), dt.time()), practice_zone())
    today = Administration.objects.current().filter(client=client, completed_at__gte=since)

    def positive(instrument: str, flags: set[str]) -> bool | None:
        latest = today.filter(instrument=instrument).order_by("-completed_at").first()
        if latest is None:
            return None
        return bool(flags & set(latest.flags or []))

    return DayFacts(
        age=client.age,
        gates_open=not still_failed,
        gates_reason="; ".join(f"{g.title}: {g.reason}" for g in still_failed),
        phq9_item9_positive=positive("phq9", {SUICIDE_ITEM_POSITIVE}),
        # Any C-SSRS risk level (low, moderate, high) needs the same-day review.
        cssrs_positive=positive("cssrs_screener", set(CSSRS_RISK_FLAGS.values())),
        suicide_reviewed_today=RiskAssessment.objects.filter(
            client=client, assessed_at__gte=since
        ).exists(),
    )
