"""The course summaries `kapcare generate` writes with a clinic's rows are exactly what
`refresh_courses` computes from the records once they are written: the summary, outcome and
safety-count tables, row for row (by course and natural key; the surrogate ids aside), for a
network generated beside a practice that already has a course and its summary (so that every
table's ids start past existing rows) and made by two worker processes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kapcare.courses.models import Course
from kapcare.courses.tests.test_services import course_for
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.outcomes.summaries import refresh_courses
from kapcare.synthetic.network import generate_network
from kapcare.testing.personas import Practice

NOW = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)
CLIENTS = 300

Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _snapshot() -> Snapshot:
    """The three tables' rows, each row by its course (and natural key), without surrogate ids."""
    summary_fields = [
        f.attname for f in CourseSummary._meta.concrete_fields if f.attname not in ("id",)
    ]
    outcome_fields = [
        f.attname
        for f in CourseOutcome._meta.concrete_fields
        if f.attname not in ("id", "summary_id")
    ]
    summaries = sorted(CourseSummary.objects.values_list(*summary_fields))
    outcomes = sorted(CourseOutcome.objects.values_list("summary__course_id", *outcome_fields))
    safety = sorted(
        CourseSafetyCount.objects.values_list(
            "summary__course_id", "category", "kind", "severity", "count"
        )
    )
    return summaries, outcomes, safety


def _share(rows: list[tuple[Any, ...]], index: int, value: Any) -> float:
    return sum(1 for row in rows if row[index] == value) / len(rows)


@pytest.mark.django_db
def test_generated_summaries_equal_a_refresh_from_the_records(practice: Practice) -> None:
    existing = course_for(practice)
    assert refresh_courses([existing.id], now=NOW) == 1

    report = generate_network(clients=CLIENTS, seed=3, now=NOW, processes=2, alongside=True)

    courses = set(Course.objects.values_list("id", flat=True))
    generated = courses - {existing.id}
    assert report.outcomes == len(generated) > CLIENTS * 0.6
    assert report.rows["outcomes_coursesummary"] == len(generated)
    written = _snapshot()
    summaries, outcomes, safety = written
    # Every course has its summary, one each.
    assert sorted(row[0] for row in summaries) == sorted(courses)
    fields = [f.attname for f in CourseSummary._meta.concrete_fields if f.attname != "id"]

    def column(name: str) -> list[Any]:
        return [row[fields.index(name)] for row in summaries if row[0] in generated]

    # The comparison below means something only if the generated summaries hold each kind of
    # value: a therapist, prescriber and clinic, and every count.
    assert all(column("therapist_id"))
    assert all(column("prescriber_id"))
    assert all(column("location_id")[i] for i, n in enumerate(column("dosing_sessions")) if n)
    assert 0 < sum(column("trauma_focused")) < len(generated)
    assert 0 < sum(column("completed")) < len(generated)
    for name in (
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
    ):
        assert sum(column(name)) > 0, name
    assert len(set(column("age_band"))) > 2
    assert {row[1] for row in outcomes} >= {"phq9", "gad7"}
    assert 0 < _share(outcomes, 6, True) < 1  # responded
    assert {row[1] for row in safety} == {"adverse_event", "side_effect"}
    before = max(CourseSummary.objects.values_list("id", flat=True))

    assert refresh_courses(courses, now=NOW) == len(courses)

    # Rewritten (new rows), and the same row for row.
    assert min(CourseSummary.objects.values_list("id", flat=True)) > before
    refreshed = _snapshot()
    assert len(refreshed[0]) == len(summaries)
    assert refreshed[0] == summaries
    assert refreshed[1] == outcomes
    assert refreshed[2] == safety


@pytest.mark.django_db
def test_a_refresh_at_another_time_differs() -> None:
    """The comparison above tells summaries apart: as of four months later (integration windows
    and measurement windows closed, durability judged) the figures differ."""
    generate_network(clients=60, seed=3, now=NOW, processes=1)
    written = _snapshot()
    refresh_courses(Course.objects.values_list("id", flat=True), now=NOW + dt.timedelta(days=120))
    later = _snapshot()
    assert len(later[0]) == len(written[0])
    # Leaving out when each summary was refreshed (the last column).
    assert [row[:-1] for row in later[0]] != [row[:-1] for row in written[0]]
