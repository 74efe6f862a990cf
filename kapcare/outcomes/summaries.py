"""Keeping the per-course summaries (kapcare.outcomes.models) in step with the records.

`refresh_courses` recomputes the summaries of some courses, a batch at a time, in a fixed number
of queries per batch (never one per course): `read_records` reads what a batch's summaries are
computed from as plain values and `summarize`, a pure function, computes them (`kapcare
generate` calls it too, on the rows it makes). Services do not call it one by one: saving any
record a summary depends on marks its course, and the marked courses are refreshed once when the
transaction commits (`watch` below, connected in the app config). What time alone changes (an
integration window closing, a follow-up window passing, a durability date arriving) is caught by
`kapcare refresh_outcomes`, run nightly (docs/deployment.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, DateField, DateTimeField, Model, Q

from kapcare.clients.models import CareTeamMember, CareTeamRole, Client
from kapcare.core.time import practice_zone
from kapcare.courses import measure_sends
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.courses.protocols import Protocol
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


# One appointment as the summary reads it: (course id, kind, state, starts at, ends at, clinician).
VisitRow = tuple[int, str, str, dt.datetime, dt.datetime, int | None]
# A therapist or prescriber on a client's care team: (role, staff id, started at, ended at).
TeamRow = tuple[str, int, dt.datetime, dt.datetime | None]
# One scored questionnaire of a client: (instrument, total, completed at).
ScoreRow = tuple[str, int, dt.datetime]


@dataclass(frozen=True)
class CourseRow:
    """A course as its summary reads it, with its client's date of birth."""

    id: int
    client_id: int
    protocol: str
    phase: str
    started_on: dt.date
    ended_on: dt.date | None
    protocol_settings: dict[str, Any]
    modalities: Sequence[str]
    birth_date: dt.date


@dataclass(frozen=True)
class Records:
    """Everything the summaries of some courses are computed from, as plain values: what
    `read_records` reads from the database, or what `kapcare generate` takes from the rows it
    makes (kapcare.synthetic.network_summaries). Keyed by course id unless said otherwise; a
    missing key means none."""

    courses: Sequence[CourseRow]
    starts: Mapping[int, Sequence[dt.date]]  # client id -> the start of each of their courses
    visits: Mapping[int, Sequence[VisitRow]]  # in start order (then id)
    team: Mapping[int, Sequence[TeamRow]]  # client id -> therapists and prescribers
    doses: Mapping[int, int]  # dosing sessions with a dose recorded
    location: Mapping[int, int]  # where the first stock administered for the course came from
    trauma: AbstractSet[int]  # courses with EMDR work charted in a session
    excursions: Mapping[int, AbstractSet[int]]  # sessions with a BP stop-level flag
    rems: Mapping[int, Sequence[course_figures.RemsFacts]]
    safety: Mapping[int, Sequence[course_figures.SafetyEvent]]  # corrected rows left out
    scores: Mapping[int, Sequence[ScoreRow]]  # client id -> current forms with a total


@dataclass
class Summaries:
    """Rows to write: each course's summary (values in SUMMARY_COLUMNS order) and, by course id,
    its outcomes and safety counts."""

    summaries: list[tuple[Any, ...]] = field(default_factory=list)
    outcomes: list[tuple[int, course_figures.Outcome]] = field(default_factory=list)
    counts: list[tuple[int, tuple[str, str, str, int]]] = field(default_factory=list)

    def outcome_rows(self, summary_of: Mapping[int, int]) -> list[tuple[Any, ...]]:
        """The outcomes in OUTCOME_COLUMNS order, given each course's summary id."""
        return [
            (
                summary_of[course_id],
                item.instrument,
                item.scores,
                item.baseline,
                item.latest,
                item.change,
                item.responded,
                item.remitted,
                item.days_to_response,
                item.days_to_remission,
                item.relapsed,
                item.kept_3_months,
                item.kept_6_months,
            )
            for course_id, item in self.outcomes
        ]

    def safety_rows(self, summary_of: Mapping[int, int]) -> list[tuple[Any, ...]]:
        """The safety counts in SAFETY_COLUMNS order, given each course's summary id."""
        return [
            (summary_of[course_id], category, kind, severity, n)
            for course_id, (category, kind, severity, n) in self.counts
        ]


def _refresh_batch(
    ids: Sequence[int], *, now: dt.datetime, settings: rules.ProgressSettings
) -> int:
    zone = practice_zone()
    records = read_records(ids, zone=zone)
    if not records.courses:
        return 0
    found = summarize(records, now=now, zone=zone, settings=settings)
    course_ids = [course.id for course in records.courses]
    with transaction.atomic():
        CourseSummary.objects.filter(course_id__in=course_ids).delete()
        summary_of = _insert(CourseSummary, SUMMARY_COLUMNS, found.summaries, keyed_by="course_id")
        _insert(CourseOutcome, OUTCOME_COLUMNS, found.outcome_rows(summary_of))
        _insert(CourseSafetyCount, SAFETY_COLUMNS, found.safety_rows(summary_of))
    return len(found.summaries)


def read_records(ids: Sequence[int], *, zone: dt.tzinfo) -> Records:
    """The records the summaries of these courses are computed from, in a fixed number of
    queries."""
    courses = [
        CourseRow(
            id=course.id,
            client_id=course.client_id,
            protocol=course.protocol,
            phase=course.phase,
            started_on=course.started_on,
            ended_on=course.ended_on,
            protocol_settings=course.protocol_settings,
            modalities=course.modalities or [],
            birth_date=course.client.date_of_birth,
        )
        for course in Course.objects.filter(id__in=ids)
        .select_related("client")
        .only(
            "id",
            "client_id",
            "protocol",
            "phase",
            "started_on",
            "ended_on",
            "protocol_settings",
            "modalities",
            "client__date_of_birth",
        )
    ]
    if not courses:
        return Records(courses, {}, {}, {}, {}, {}, set(), {}, {}, {}, {})
    client_ids = {course.client_id for course in courses}

    # Each client's course starts, so a course's scores stop where the next course begins.
    starts: dict[int, list[dt.date]] = defaultdict(list)
    for client_id, started_on in Course.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "started_on"
    ):
        starts[client_id].append(started_on)

    # Plain rows, not model instances: a batch has some twenty thousand appointments.
    visits: dict[int, list[VisitRow]] = defaultdict(list)
    for row in Appointment.objects.filter(course_id__in=ids).values_list(
        "course_id", "kind", "state", "starts_at", "ends_at", "clinician_id"
    ):
        visits[row[0]].append(row)

    team: dict[int, list[TeamRow]] = defaultdict(list)
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

    # Scores from before the earliest course's start belong to no course here.
    earliest = min(_start_of(course.started_on, zone) for course in courses)
    scores: dict[int, list[ScoreRow]] = defaultdict(list)
    for client_id, instrument, total, completed_at in (
        Administration.objects.current()
        .filter(client_id__in=client_ids, total__isnull=False, completed_at__gte=earliest)
        .values_list("client_id", "instrument", "total", "completed_at")
    ):
        if total is not None:
            scores[client_id].append((instrument, total, completed_at))

    return Records(
        courses, starts, visits, team, doses, location, trauma, excursions, rems, safety, scores
    )


def summarize(
    records: Records, *, now: dt.datetime, zone: dt.tzinfo, settings: rules.ProgressSettings
) -> Summaries:
    """The summary, outcomes and safety counts of each course in `records`, as of `now`. Pure:
    the records are all it reads."""
    # A course's plan is its protocol with the settings it pinned; most courses pin the same
    # (often the same object: its key is then worked out once).
    plans: dict[tuple[str, str], Protocol] = {}
    keys: dict[tuple[str, int], tuple[str, str]] = {}
    # The measurement schedule reads a course's phase, start and plan from a Course: one
    # unsaved instance, filled in for each course (a new one would draw a public id each time).
    model = Course()
    found = Summaries()
    no_visits: Sequence[VisitRow] = ()
    for course in records.courses:
        started_at = _start_of(course.started_on, zone)
        later = [day for day in records.starts.get(course.client_id, ()) if day > course.started_on]
        until = _start_of(min(later), zone) if later else None
        by_instrument: dict[str, list[rules.Score]] = defaultdict(list)
        completions: dict[str, list[dt.datetime]] = defaultdict(list)
        for instrument, total, completed_at in records.scores.get(course.client_id, ()):
            if completed_at >= started_at and (until is None or completed_at < until):
                by_instrument[instrument].append(rules.Score(at=completed_at, total=total))
                completions[instrument].append(completed_at)
        appointments = records.visits.get(course.id, no_visits)
        model.id, model.client_id = course.id, course.client_id
        model.protocol, model.phase = course.protocol, course.phase
        model.started_on, model.ended_on = course.started_on, course.ended_on
        model.protocol_settings = course.protocol_settings
        key = keys.get((course.protocol, id(course.protocol_settings)))
        if key is None:
            key = (course.protocol, json.dumps(course.protocol_settings, sort_keys=True))
            keys[course.protocol, id(course.protocol_settings)] = key
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = model.plan
        facts = course_figures.CourseFacts(
            started_at=started_at,
            birth_date=course.birth_date,
            visits=[
                course_figures.Visit(kind, state, starts_at, ends_at)
                for _, kind, state, starts_at, ends_at, _ in appointments
            ],
            doses_given=records.doses.get(course.id, 0),
            scores=by_instrument,
            completions=completions,
            schedule_events=measure_sends.course_events(
                model,
                [
                    (starts_at, state)
                    for _, kind, state, starts_at, _, _ in appointments
                    if kind == Kind.DOSING and state in LIVE
                ],
            ),
            measure_rules=plan.measures,
            integration_hours=int(plan.integration_within_hours.value),
            bp_excursion_sessions=len(records.excursions.get(course.id, ())),
            rems_forms=records.rems.get(course.id, ()),
            safety=records.safety.get(course.id, ()),
        )
        figures = course_figures.figures(facts, now=now, zone=zone, settings=settings)
        therapist, prescriber = _clinicians(
            records.team.get(course.client_id, ()), started_at, appointments
        )
        found.summaries.append(
            (
                course.id,
                course.client_id,
                course.protocol,
                plan.route,
                course.started_on,
                course.ended_on,
                course.phase,
                course.phase == "completed",
                therapist,
                prescriber,
                records.location.get(course.id),
                figures.age_band,
                "emdr" in course.modalities or course.id in records.trauma,
                figures.dosing_sessions,
                figures.integration_doses,
                figures.integration_met,
                figures.measures_expected,
                figures.measures_done,
                figures.appointments_attended,
                figures.appointments_no_show,
                figures.bp_excursion_sessions,
                figures.rems_forms_due,
                figures.rems_forms_on_time,
                figures.adverse_events,
                now,
            )
        )
        found.outcomes.extend((course.id, item) for item in figures.outcomes)
        found.counts.extend((course.id, row) for row in figures.safety)
    return found


SUMMARY_COLUMNS = (
    "course_id",
    "client_id",
    "protocol",
    "route",
    "started_on",
    "ended_on",
    "phase",
    "completed",
    "therapist_id",
    "prescriber_id",
    "location_id",
    "age_band",
    "trauma_focused",
    "dosing_sessions",
    "integration_doses",
    "integration_met",
    "measures_expected",
    "measures_done",
    "appointments_attended",
    "appointments_no_show",
    "bp_excursion_sessions",
    "rems_forms_due",
    "rems_forms_on_time",
    "adverse_events",
    "refreshed_at",
)
OUTCOME_COLUMNS = (
    "summary_id",
    "instrument",
    "scores",
    "baseline",
    "latest",
    "change",
    "responded",
    "remitted",
    "days_to_response",
    "days_to_remission",
    "relapsed",
    "kept_3_months",
    "kept_6_months",
)
SAFETY_COLUMNS = ("summary_id", "category", "kind", "severity", "count")
INSERT_ROWS = 2000  # rows per INSERT statement at most


def _insert(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keyed_by: str | None = None,
) -> dict[Any, int]:
    """Insert plain rows (values in `columns` order, each column a field's column): what
    `bulk_create` writes, without making and reading back a model instance per row. Values are
    prepared for the database as the fields prepare them (dates and times; text as plain str).
    On PostgreSQL each column goes as one array (`INSERT ... SELECT FROM unnest(...)`), so a
    statement has a parameter per column rather than per value; elsewhere, multi-row INSERTs.
    With `keyed_by`, returns the new ids by that column's value (unique among the rows)."""
    if not rows:
        return {}
    meta = model._meta
    fields = {str(f.column): f for f in meta.concrete_fields}
    prepare: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(columns):
        field = fields[column]
        if isinstance(field, DateField | DateTimeField):
            prepare.append((index, partial(field.get_db_prep_save, connection=connection)))
        elif isinstance(field, CharField):
            prepare.append((index, _text))
    prepared: list[Sequence[Any]] = list(rows)
    if prepare:
        prepared = []
        for row in rows:
            values = list(row)
            for index, convert in prepare:
                values[index] = convert(values[index])
            prepared.append(values)
    quote = connection.ops.quote_name
    table = quote(str(meta.db_table))
    names = ", ".join(quote(column) for column in columns)
    pk = quote(str(meta.pk.column)) if meta.pk is not None else "id"
    returning = keyed_by is not None and connection.features.can_return_rows_from_bulk_insert
    tail = f" RETURNING {pk}, {quote(keyed_by)}" if returning and keyed_by is not None else ""
    found: dict[Any, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(
                f"%s::{str(fields[column].db_type(connection)).split('(')[0]}[]"
                for column in columns
            )
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){tail}",  # noqa: S608 - the model's own names
                [list(values) for values in zip(*prepared, strict=True)],
            )
            if tail:
                found.update((key, row_id) for row_id, key in cursor.fetchall())
        else:
            marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
            limit = connection.features.max_query_params or 65535
            size = max(1, min(INSERT_ROWS, limit // len(columns)))
            for start in range(0, len(prepared), size):
                chunk = prepared[start : start + size]
                listed = ", ".join([marks] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {listed}{tail}",  # noqa: S608 - the model's own names
                    [value for row in chunk for value in row],
                )
                if tail:
                    found.update((key, row_id) for row_id, key in cursor.fetchall())
    if keyed_by is not None and not returning:
        keys = [row[columns.index(keyed_by)] for row in rows]
        found = dict(
            model._default_manager.filter(**{f"{keyed_by}__in": keys}).values_list(keyed_by, "pk")
        )
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _start_of(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def _clinicians(
    members: Sequence[tuple[str, int, dt.datetime, dt.datetime | None]],
    at: dt.datetime,
    appointments: Sequence[VisitRow],
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
        held = [a[5] for a in appointments if a[2] == State.HELD]
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
