"""Reads for dosing sessions: the parameters in force, and the facts of the day that the
pre-dose check takes from the record rather than asking (age, the course's gates, today's
suicide-risk answers and any same-day risk assessment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.timezone import make_aware

from kapcare.accounts.models import User, display_name
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.clients.selectors import TimelineEntry
from kapcare.core.prepared import prepared
from kapcare.core.time import practice_zone
from kapcare.courses.selectors import course_gates
from kapcare.dosing import parameters, rules
from kapcare.dosing.models import (
    AdverseEvent,
    DoseRoute,
    DosingSession,
    Seriousness,
    SessionState,
)
from kapcare.measures.models import Administration
from kapcare.measures.rules import CSSRS_RISK_FLAGS, SUICIDE_ITEM_POSITIVE
from kapcare.parameters.selectors import settings_for
from kapcare.safety.models import RiskAssessment, SafetyFlag


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
    # "Same day" is the session's day (a session charted after midnight keeps its own day).
    day = appointment.starts_at.astimezone(practice_zone()).date()
    since = make_aware(dt.datetime.combine(day, dt.time()), practice_zone())
    until = since + dt.timedelta(days=1)
    today = Administration.objects.current().filter(
        client=client, completed_at__gte=since, completed_at__lt=until
    )

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
            client=client, assessed_at__gte=since, assessed_at__lt=until
        ).exists(),
    )


@dataclass(frozen=True)
class ChartDosing:
    """The client's dosing sessions as the chart shows them."""

    timeline: list[TimelineEntry]
    # Every dose given, oldest first, as (when, label): drawn on the measure charts.
    markers: list[tuple[dt.datetime, str]]


def chart_dosing(client: Client) -> ChartDosing:
    """The client's dosing sessions for the chart's timeline (when, the dose, where the session
    stands, any vital-signs flag it raised) and the doses for the measure charts: one query,
    reading only the columns shown (a session row also holds its whole pre-dose check and
    discharge)."""
    rows = _chart_dosing_rows(client.pk)
    states, routes = dict(SessionState.choices), dict(DoseRoute.choices)
    entries = []
    doses: list[tuple[dt.datetime, int, str]] = []
    for state, starts_at, dose, mg, per_kg, route, given_at, *given_by, flag_count in rows:
        if dose is None:
            text = f"Dosing session ({states[state].lower()})"
            at, by = starts_at, ""
        else:
            kg = f" ({per_kg.normalize():f} mg/kg)" if per_kg else ""
            text = (
                f"Dose {mg.normalize():f} mg {routes[route].lower()}{kg} · {states[state].lower()}"
            )
            at, by = given_at, display_name(*given_by) if given_by[2] else ""
            doses.append((given_at, dose, f"{mg.normalize():f} mg {route}"))
        if flag_count:
            text += f" · {flag_count} vital-signs flag{'s' if flag_count != 1 else ''}"
        entries.append(TimelineEntry(at, "dosing", text, by))
    doses.sort(key=lambda item: item[:2])
    return ChartDosing(entries, [(given_at, label) for given_at, _, label in doses])


@prepared(arguments=1)
def _chart_dosing_rows(client_id: int) -> QuerySet[Any]:
    # Read on every chart: compiled once (kapcare.core.prepared).
    flags = (
        SafetyFlag.objects.filter(source_session=OuterRef("pk"))
        .order_by()
        .values("source_session")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        DosingSession.objects.filter(client_id=client_id)
        .annotate(flag_count=Coalesce(Subquery(flags), 0))
        .order_by("appointment__starts_at")
        .values_list(
            "state",
            "appointment__starts_at",
            "dose__id",
            "dose__dose_mg",
            "dose__mg_per_kg",
            "dose__route",
            "dose__given_at",
            "dose__given_by__first_name",
            "dose__given_by__last_name",
            "dose__given_by__username",
            "dose__given_by__professional_title",
            "flag_count",
        )
    )


def awaiting_follow_up_first(events: QuerySet[AdverseEvent]) -> QuerySet[AdverseEvent]:
    """Serious events awaiting follow-up first, then the rest; latest onset first in each."""
    awaiting = Case(
        When(seriousness=Seriousness.SERIOUS, followed_up_at__isnull=True, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return events.order_by(awaiting, "-onset_at", "-id")


def adverse_events_for(user: User, limit: int = 200) -> list[AdverseEvent]:
    """Adverse events of the clients this clinician may see, in queue order (one query)."""
    if not user.is_clinician:
        return []
    events = AdverseEvent.objects.filter(client__in=visible_clients(user)).select_related(
        "client", "session", "created_by"
    )
    return list(awaiting_follow_up_first(events)[:limit])


def serious_awaiting_follow_up(user: User) -> int:
    if not user.is_clinician:
        return 0
    return AdverseEvent.objects.filter(
        client__in=visible_clients(user),
        seriousness=Seriousness.SERIOUS,
        followed_up_at__isnull=True,
    ).count()
