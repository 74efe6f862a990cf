"""Keeping the per-course summaries (kapcare.outcomes.models) in step with the records.

`refresh_courses` recomputes the summaries of some courses, a batch at a time, in a fixed number
of queries per batch (never one per course). Services do not call it one by one: saving any
record a summary depends on marks its course, and the marked courses are refreshed once when the
transaction commits (`watch` below, connected in the app config). What time alone changes (an
integration window closing, a follow-up window passing, a durability date arriving) is caught by
`kapcare refresh_outcomes`, run nightly (docs/deployment.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q

from kapcare.clients.models import CareTeamMember, CareTeamRole, Client
from kapcare.core.time import practice_zone
from kapcare.courses import measure_sends
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    RemsForm,
    SideEffectRow,
    WorkKind,
    WorkRow,
)
from kapcare.measures.models import Administration
from kapcare.measures.selectors import remission_rules
from kapcare.outcomes import course_figures, rules
from kapcare.outcomes.models import (
    CourseOutcome,
    CourseSafetyCount,
    CourseSummary,
    SafetyCategory,
)
from kapcare.safety.models import FlagKind, SafetyFlag
from kapcare.stock.models import Kind as MovementKind
from kapcare.stock.models import Movement

log = logging.getLogger(__name__)

BATCH = 1000
LIVE = (State.BOOKED, State.HELD)
THERAPIST_ROLES = (CareTeamRole.PRIMARY_THERAPIST, CareTeamRole.THERAPIST)


def progress_settings() -> rules.ProgressSettings:
    """The practice's progress settings (its remission thresholds; defaults otherwise)."""
    return rules.ProgressSettings(remission=remission_rules())


def refresh_courses(course_ids: Iterable[int], *, now: dt.datetime) -> int:
    """Recompute the summaries of these courses as of `now`; returns how many were written."""
    ids = sorted(set(course_ids))
    settings = progress_settings()
    written = 0
    for start in range(0, len(ids), BATCH):
        written += _refresh_batch(ids[start : start + BATCH], now=now, settings=settings)
    return written


def _refresh_batch(
    ids: Sequence[int], *, now: dt.datetime, settings: rules.ProgressSettings
) -> int:
    zone = practice_zone()
    courses = list(Course.objects.filter(id__in=ids).select_related("client"))
    if not courses:
        return 0
    client_ids = {course.client_id for course in courses}

    # Each client's course starts, so a course's scores stop where the next course begins.
    starts: dict[int, list[dt.datetime]] = defaultdict(list)
    for client_id, started_on in Course.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "started_on"
    ):
        starts[client_id].append(_start_of(started_on, zone))

    visits: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in Appointment.objects.filter(course_id__in=ids).only(
        "course_id", "kind", "state", "starts_at", "ends_at", "clinician_id"
    ):
        assert appointment.course_id is not None  # noqa: S101 - filtered on it
        visits[appointment.course_id].append(appointment)

    team: dict[int, list[tuple[str, int, dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for client_id, role, staff_id, started_at, ended_at in CareTeamMember.objects.filter(
        client_id__in=client_ids, role__in=[*THERAPIST_ROLES, CareTeamRole.PRESCRIBER]
    ).values_list("client_id", "role", "staff_id", "started_at", "ended_at"):
        team[client_id].append((role, staff_id, started_at, ended_at))

    doses: dict[int, int] = defaultdict(int)
    for course_id in DosingSession.objects.filter(
        course_id__in=ids, dose__isnull=False
    ).values_list("course_id", flat=True):
        doses[course_id] += 1

    location: dict[int, int] = {}
    for course_id, location_id in (
        Movement.objects.filter(kind=MovementKind.ADMINISTERED, dose__session__course_id__in=ids)
        .order_by("moved_at", "id")
        .values_list("dose__session__course_id", "location_id")
    ):
        location.setdefault(course_id, location_id)

    trauma = set(
        WorkRow.objects.filter(session__course_id__in=ids, kind=WorkKind.EMDR).values_list(
            "session__course_id", flat=True
        )
    )

    excursions: dict[int, set[int]] = defaultdict(set)
    for course_id, session_id in SafetyFlag.objects.filter(
        kind=FlagKind.VITAL_SIGNS,
        rule=course_figures.BP_STOP_RULE,
        source_session__course_id__in=ids,
    ).values_list("source_session__course_id", "source_session_id"):
        excursions[course_id].add(session_id)

    rems: dict[int, list[course_figures.RemsFacts]] = defaultdict(list)
    for course_id, due_on, submitted_on in RemsForm.objects.filter(
        session__course_id__in=ids
    ).values_list("session__course_id", "due_on", "submitted_on"):
        rems[course_id].append(course_figures.RemsFacts(due_on, submitted_on))

    safety: dict[int, list[course_figures.SafetyEvent]] = defaultdict(list)
    for course_id, seriousness, severity in AdverseEvent.objects.filter(
        session__course_id__in=ids
    ).values_list("session__course_id", "seriousness", "severity"):
        safety[course_id].append(
            course_figures.SafetyEvent(SafetyCategory.ADVERSE_EVENT, seriousness, severity)
        )
    # Side effects as the flowsheet shows them: a corrected row counts as its correction.
    for course_id, effect, severity in SideEffectRow.objects.filter(
        session__course_id__in=ids, corrected_by__isnull=True
    ).values_list("session__course_id", "effect", "severity"):
        safety[course_id].append(
            course_figures.SafetyEvent(SafetyCategory.SIDE_EFFECT, effect, severity)
        )

    earliest = min(_start_of(course.started_on, zone) for course in courses)
    scores: dict[int, list[tuple[str, int, dt.datetime]]] = defaultdict(list)
    for client_id, instrument, total, completed_at in (
        Administration.objects.current()
        .filter(client_id__in=client_ids, total__isnull=False, completed_at__gte=earliest)
        .values_list("client_id", "instrument", "total", "completed_at")
    ):
        if total is not None:
            scores[client_id].append((instrument, total, completed_at))

    summaries: list[CourseSummary] = []
    outcomes: list[list[course_figures.Outcome]] = []
    counts: list[tuple[tuple[str, str, str, int], ...]] = []
    for course in courses:
        started_at = _start_of(course.started_on, zone)
        later = [moment for moment in starts[course.client_id] if moment > started_at]
        until = min(later) if later else None
        in_window = [
            item
            for item in scores[course.client_id]
            if item[2] >= started_at and (until is None or item[2] < until)
        ]
        by_instrument: dict[str, list[rules.Score]] = defaultdict(list)
        completions: dict[str, list[dt.datetime]] = defaultdict(list)
        for instrument, total, completed_at in in_window:
            by_instrument[instrument].append(rules.Score(at=completed_at, total=total))
            completions[instrument].append(completed_at)
        appointments = visits[course.id]
        plan = course.plan
        facts = course_figures.CourseFacts(
            started_at=started_at,
            birth_date=course.client.date_of_birth,
            visits=[
                course_figures.Visit(a.kind, a.state, a.starts_at, a.ends_at) for a in appointments
            ],
            doses_given=doses[course.id],
            scores=by_instrument,
            completions=completions,
            schedule_events=measure_sends.course_events(
                course,
                [
                    (a.starts_at, a.state)
                    for a in appointments
                    if a.kind == Kind.DOSING and a.state in LIVE
                ],
            ),
            measure_rules=plan.measures,
            integration_hours=int(plan.integration_within_hours.value),
            bp_excursion_sessions=len(excursions[course.id]),
            rems_forms=rems[course.id],
            safety=safety[course.id],
        )
        found = course_figures.figures(facts, now=now, zone=zone, settings=settings)
        therapist, prescriber = _clinicians(team[course.client_id], started_at, appointments)
        summaries.append(
            CourseSummary(
                course_id=course.id,
                client_id=course.client_id,
                protocol=course.protocol,
                route=plan.route,
                started_on=course.started_on,
                ended_on=course.ended_on,
                phase=course.phase,
                completed=course.phase == "completed",
                therapist_id=therapist,
                prescriber_id=prescriber,
                location_id=location.get(course.id),
                age_band=found.age_band,
                trauma_focused="emdr" in (course.modalities or []) or course.id in trauma,
                dosing_sessions=found.dosing_sessions,
                integration_doses=found.integration_doses,
                integration_met=found.integration_met,
                measures_expected=found.measures_expected,
                measures_done=found.measures_done,
                appointments_attended=found.appointments_attended,
                appointments_no_show=found.appointments_no_show,
                bp_excursion_sessions=found.bp_excursion_sessions,
                rems_forms_due=found.rems_forms_due,
                rems_forms_on_time=found.rems_forms_on_time,
                adverse_events=found.adverse_events,
                refreshed_at=now,
            )
        )
        outcomes.append(list(found.outcomes))
        counts.append(found.safety)

    with transaction.atomic():
        CourseSummary.objects.filter(course_id__in=[c.id for c in courses]).delete()
        CourseSummary.objects.bulk_create(summaries)
        CourseOutcome.objects.bulk_create(
            [
                CourseOutcome(
                    summary=summary,
                    instrument=item.instrument,
                    scores=item.scores,
                    baseline=item.baseline,
                    latest=item.latest,
                    change=item.change,
                    responded=item.responded,
                    remitted=item.remitted,
                    days_to_response=item.days_to_response,
                    days_to_remission=item.days_to_remission,
                    relapsed=item.relapsed,
                    kept_3_months=item.kept_3_months,
                    kept_6_months=item.kept_6_months,
                )
                for summary, items in zip(summaries, outcomes, strict=True)
                for item in items
            ],
            batch_size=2000,
        )
        CourseSafetyCount.objects.bulk_create(
            [
                CourseSafetyCount(
                    summary=summary, category=category, kind=kind, severity=severity, count=n
                )
                for summary, rows in zip(summaries, counts, strict=True)
                for category, kind, severity, n in rows
            ],
            batch_size=2000,
        )
    return len(summaries)


def _start_of(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def _clinicians(
    members: Sequence[tuple[str, int, dt.datetime, dt.datetime | None]],
    at: dt.datetime,
    appointments: Sequence[Appointment],
) -> tuple[int | None, int | None]:
    """The course's therapist and prescriber: the care team's at the course's start (the primary
    therapist before another therapist; else the earliest to join after the start), the
    therapist falling back to whoever held most of the course's sessions."""

    def pick(roles: Sequence[str]) -> int | None:
        candidates = [m for m in members if m[0] in roles]
        current = [m for m in candidates if m[2] <= at and (m[3] is None or m[3] > at)]
        pool = (
            current
            or sorted((m for m in candidates if m[2] > at), key=lambda m: m[2])
            or candidates
        )
        if not pool:
            return None
        pool = sorted(pool, key=lambda m: (roles.index(m[0]), m[2]))
        return pool[0][1]

    therapist = pick(THERAPIST_ROLES)
    if therapist is None and appointments:
        held = [a.clinician_id for a in appointments if a.state == State.HELD]
        therapist = max(set(held), key=held.count) if held else None
    return therapist, pick((CareTeamRole.PRESCRIBER,))


# ---------------------------------------------------------------------------------------------
# Refreshing when the records change


class _Pending(threading.local):
    def __init__(self) -> None:
        self.courses: set[int] = set()
        self.clients: set[int] = set()


_pending = _Pending()


def mark(*, courses: Iterable[int | None] = (), clients: Iterable[int | None] = ()) -> None:
    """Refresh these courses (and every course of these clients) when the transaction commits.

    Every mark registers a callback; the first to run refreshes everything marked so far and the
    others find nothing left. Marks of a transaction that rolled back are refreshed with the
    next commit's, which costs a little and is never wrong."""
    _pending.courses.update(c for c in courses if c is not None)
    _pending.clients.update(c for c in clients if c is not None)
    transaction.on_commit(_refresh_pending, robust=True)


def _refresh_pending() -> None:
    from kapcare.core.time import now

    courses, clients = set(_pending.courses), set(_pending.clients)
    _pending.courses.clear()
    _pending.clients.clear()
    if clients:
        courses |= set(Course.objects.filter(client_id__in=clients).values_list("id", flat=True))
    if courses:
        refresh_courses(courses, now=now())


def _course_of_session(session_id: int | None) -> int | None:
    if session_id is None:
        return None
    return DosingSession.objects.filter(id=session_id).values_list("course_id", flat=True).first()


def watch(sender: type, instance: Any, **kwargs: Any) -> None:
    """post_save receiver: mark the course (or client) a saved record belongs to."""
    if kwargs.get("raw"):
        return  # loading fixtures
    if isinstance(instance, Course):
        mark(courses=[instance.id])
    elif isinstance(instance, Appointment | DosingSession):
        mark(courses=[instance.course_id])
    elif isinstance(instance, Dose):
        mark(courses=[_course_of_session(instance.session_id)])
    elif isinstance(instance, Administration | CareTeamMember):
        mark(clients=[instance.client_id])
    elif isinstance(instance, Client):
        mark(clients=[instance.id])
    elif isinstance(instance, AdverseEvent | SideEffectRow | WorkRow | RemsForm):
        mark(courses=[_course_of_session(instance.session_id)])
    elif isinstance(instance, SafetyFlag):
        mark(courses=[_course_of_session(instance.source_session_id)])
    elif isinstance(instance, Movement) and instance.dose_id is not None:
        mark(
            courses=DosingSession.objects.filter(dose__id=instance.dose_id).values_list(
                "course_id", flat=True
            )
        )


WATCHED: tuple[type, ...] = (
    Course,
    Appointment,
    DosingSession,
    Dose,
    Administration,
    CareTeamMember,
    Client,
    AdverseEvent,
    SideEffectRow,
    WorkRow,
    RemsForm,
    SafetyFlag,
    Movement,
)


def courses_in_motion(*, now: dt.datetime, days: int = 200) -> Q:
    """Courses whose figures time alone can still change: open ones, and those ended within
    `days` (follow-ups and durability run on after the end)."""
    since = (now - dt.timedelta(days=days)).date()
    return Q(ended_on__isnull=True) | Q(ended_on__gte=since)
