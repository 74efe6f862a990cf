"""A clinic's course summaries for `kapcare generate`, made with the clinic's other rows.

The summaries (kapcare.outcomes.models) are computed by `kapcare.outcomes.summaries.summarize`,
the pure function `refresh_courses` also calls; here its inputs come from the rows the clinic's
simulation made rather than from the database. The rows are the ones `refresh_courses` would
read back once written, so the inputs are read from them with the same filters: scores of
current (uncorrected) forms with a total, side effects not corrected, dosing sessions with a
dose, the first administered stock movement (by time, then id), appointments in start order,
scores newest first. Columns a table does not declare take their field's default in every row
(a form no correction replaces, a care team membership that has not ended), exactly as written.

The rows are a clinic's own, with ids from 1 (kapcare.synthetic.network); the summary rows made
here refer to them by those ids and move with them when written.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from kapcare.clients.models import CareTeamRole
from kapcare.dosing.models import WorkKind
from kapcare.outcomes import course_figures
from kapcare.outcomes.models import SafetyCategory
from kapcare.outcomes.rules import ProgressSettings
from kapcare.outcomes.summaries import (
    THERAPIST_ROLES,
    CourseRow,
    Records,
    ScoreRow,
    TeamRow,
    VisitRow,
    summarize,
)
from kapcare.safety.models import FlagKind
from kapcare.stock.models import Kind as MovementKind
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.synthetic.network_writer import JsonText

Rows = Mapping[str, Sequence[tuple[Any, ...]]]


def add_summaries(
    tables: NetworkTables,
    rows: Rows,
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
    settings: ProgressSettings,
) -> int:
    """Add the summary, outcomes and safety counts of every course in `rows` (a clinic's rows as
    made, before `Table.finish`, by table name) to `tables`; returns how many summaries."""
    # Reading the rows makes hundreds of thousands of small tuples and no reference cycles; the
    # cycle collector would walk them (and the clinic's rows) over and over for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = summarize(records(tables, rows, zone=zone), now=now, zone=zone, settings=settings)
    finally:
        if collecting:
            gc.enable()
    summary_of = {row[0]: tables.course_summary.add(*row) for row in found.summaries}
    for row in found.outcome_rows(summary_of):
        tables.course_outcome.add(*row)
    for row in found.safety_rows(summary_of):
        tables.course_safety.add(*row)
    return len(found.summaries)


def _read(tables: NetworkTables, rows: Rows, name: str, *columns: str) -> list[tuple[Any, ...]]:
    """These columns (by name) of a table's rows as made: the id first, then the declared
    columns. A column the table does not declare holds its default in every row; list such
    columns last (they are added to each row as they are)."""
    table = tables.named()[name]
    positions: list[int] = []
    defaults: list[Any] = []
    for column in columns:
        if column == "id":
            positions.append(0)
        elif column in table.declared:
            if defaults:
                raise ValueError(f"{name}.{column}: list the columns not declared last")
            positions.append(table.declared.index(column) + 1)
        else:
            defaults.append(table.defaults[table.defaulted.index(column)])
    taken = rows.get(name, ())
    pick = operator.itemgetter(*positions)
    # itemgetter gives a bare value for one position, a tuple for more.
    found = [(pick(row),) for row in taken] if len(positions) == 1 else list(map(pick, taken))
    if defaults:
        tail = tuple(defaults)
        found = [(*row, *tail) for row in found]
    return found


def _json(value: Any, cache: dict[str, Any]) -> Any:
    """A JSON column's value as the database gives it back (the generator passes most as the
    values themselves, some serialized once for many rows: JsonText)."""
    if not isinstance(value, JsonText):
        return value
    found = cache.get(value.text)
    if found is None:
        found = cache[value.text] = json.loads(value.text)
    return found


def records(tables: NetworkTables, rows: Rows, *, zone: dt.tzinfo) -> Records:
    """What `kapcare.outcomes.summaries.read_records` would read for every course in `rows`."""
    born = dict(_read(tables, rows, "client", "id", "date_of_birth"))
    settings_cache: dict[str, Any] = {}
    courses: list[CourseRow] = []
    starts: dict[int, list[dt.date]] = defaultdict(list)
    for (
        course_id,
        client_id,
        protocol,
        phase,
        started_on,
        ended_on,
        protocol_settings,
        modalities,
    ) in _read(
        tables,
        rows,
        "course",
        "id",
        "client_id",
        "protocol",
        "phase",
        "started_on",
        "ended_on",
        "protocol_settings",
        "modalities",
    ):
        courses.append(
            CourseRow(
                id=course_id,
                client_id=client_id,
                protocol=protocol,
                phase=phase,
                started_on=started_on,
                ended_on=ended_on,
                protocol_settings=_json(protocol_settings, settings_cache),
                modalities=_json(modalities, {}) or [],
                birth_date=born[client_id],
            )
        )
        starts[client_id].append(started_on)

    visits: dict[int, list[VisitRow]] = defaultdict(list)
    appointments = _read(
        tables,
        rows,
        "appointment",
        "course_id",
        "kind",
        "state",
        "starts_at",
        "ends_at",
        "clinician_id",
        "id",
    )
    # In the order the appointments are read back: by start, then id.
    appointments.sort(key=lambda row: (row[3], row[6]))
    for course_id, kind, state, starts_at, ends_at, clinician, _ in appointments:
        if course_id is not None:
            visits[course_id].append((course_id, kind, state, starts_at, ends_at, clinician))

    roles = (*THERAPIST_ROLES, CareTeamRole.PRESCRIBER)
    team: dict[int, list[TeamRow]] = defaultdict(list)
    members = _read(
        tables, rows, "care_team", "id", "client_id", "role", "staff_id", "started_at", "ended_at"
    )
    # In the order the care team is read back: by start, then id.
    members.sort(key=lambda row: (row[4], row[0]))
    for _, client_id, role, staff_id, started_at, ended_at in members:
        if role in roles:
            team[client_id].append((role, staff_id, started_at, ended_at))

    course_of_session = dict(_read(tables, rows, "session", "id", "course_id"))
    session_of_dose = dict(_read(tables, rows, "dose", "id", "session_id"))
    dosed = set(session_of_dose.values())
    doses: dict[int, int] = defaultdict(int)
    for session, course_id in course_of_session.items():
        if session in dosed and course_id is not None:
            doses[course_id] += 1

    location: dict[int, int] = {}
    movements = _read(tables, rows, "movement", "moved_at", "id", "kind", "dose_id", "location_id")
    movements.sort(key=lambda row: (row[0], row[1]))  # the first by time (then id) counts
    for _, _, kind, dose_id, location_id in movements:
        if kind == MovementKind.ADMINISTERED and dose_id is not None:
            course_id = course_of_session.get(session_of_dose[dose_id])
            if course_id is not None:
                location.setdefault(course_id, location_id)

    trauma = {
        course_of_session[session]
        for session, kind in _read(tables, rows, "work", "session_id", "kind")
        if kind == WorkKind.EMDR and course_of_session[session] is not None
    }

    excursions: dict[int, set[int]] = defaultdict(set)
    for kind, rule, session in _read(
        tables, rows, "safety_flag", "kind", "rule", "source_session_id"
    ):
        if (
            kind == FlagKind.VITAL_SIGNS
            and rule == course_figures.BP_STOP_RULE
            and session is not None
        ):
            course_id = course_of_session[session]
            if course_id is not None:
                excursions[course_id].add(session)

    rems: dict[int, list[course_figures.RemsFacts]] = defaultdict(list)
    for session, due_on, submitted_on in _read(
        tables, rows, "rems_form", "session_id", "due_on", "submitted_on"
    ):
        course_id = course_of_session[session]
        if course_id is not None:
            rems[course_id].append(course_figures.RemsFacts(due_on, submitted_on))

    safety: dict[int, list[course_figures.SafetyEvent]] = defaultdict(list)
    for session, seriousness, severity in _read(
        tables, rows, "adverse_event", "session_id", "seriousness", "severity"
    ):
        course_id = course_of_session.get(session) if session is not None else None
        if course_id is not None:
            safety[course_id].append(
                course_figures.SafetyEvent(SafetyCategory.ADVERSE_EVENT, seriousness, severity)
            )
    side_effects = _read(
        tables, rows, "side_effect", "id", "session_id", "effect", "severity", "corrects_id"
    )
    corrected = {corrects for *_, corrects in side_effects if corrects is not None}
    for row_id, session, effect, severity, _ in side_effects:
        course_id = course_of_session[session]
        if row_id not in corrected and course_id is not None:
            safety[course_id].append(
                course_figures.SafetyEvent(SafetyCategory.SIDE_EFFECT, effect, severity)
            )

    forms = _read(
        tables,
        rows,
        "administration",
        "id",
        "client_id",
        "instrument",
        "total",
        "completed_at",
        "replaces_id",
    )
    replaced = {replaces for *_, replaces in forms if replaces is not None}
    # Newest first, as the forms are read back.
    forms.sort(key=lambda row: (row[4], row[0]), reverse=True)
    scores: dict[int, list[ScoreRow]] = defaultdict(list)
    for form_id, client_id, instrument, total, completed_at, _ in forms:
        if total is not None and form_id not in replaced:
            scores[client_id].append((instrument, total, completed_at))

    return Records(
        courses, starts, visits, team, doses, location, trauma, excursions, rems, safety, scores
    )
