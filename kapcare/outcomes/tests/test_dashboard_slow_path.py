"""The dashboard's figures on a generated network equal the same figures computed the slow,
obvious way: course by course, straight from the records (scores, appointments, sessions,
flags, forms), with the published rules, and Python's statistics module for the median and the
spread. Nothing here reads the summary tables."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pytest

from kapcare.core.time import practice_zone
from kapcare.courses import measure_sends, schedule
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.dosing.models import AdverseEvent, DosingSession, RemsForm, SideEffectRow
from kapcare.measures.models import Administration
from kapcare.measures.selectors import remission_rules
from kapcare.outcomes import dashboard as figures
from kapcare.outcomes import rules
from kapcare.safety.models import FlagKind, SafetyFlag
from kapcare.synthetic.network import generate_network

NOW = dt.datetime(2026, 11, 1, 17, 0, tzinfo=dt.UTC)


@dataclass
class Slow:
    started: int = 0
    completed: int = 0
    response: list[bool] = field(default_factory=list)
    remission: list[bool] = field(default_factory=list)
    days_to_response: list[int] = field(default_factory=list)
    kept_3: list[bool] = field(default_factory=list)
    relapsed: list[bool] = field(default_factory=list)
    changes: list[int] = field(default_factory=list)
    integration: list[int] = field(default_factory=lambda: [0, 0])
    measures: list[int] = field(default_factory=lambda: [0, 0])
    sessions: int = 0
    adverse: int = 0
    bp: int = 0
    rems: list[int] = field(default_factory=lambda: [0, 0])
    attended: int = 0
    no_show: int = 0
    safety: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def slow_figures(filters: figures.Filters) -> Slow:
    zone = practice_zone()
    settings = rules.ProgressSettings(remission=remission_rules())
    today = NOW.astimezone(zone).date()
    found = Slow()
    for course in Course.objects.filter(
        started_on__gte=filters.start, started_on__lte=filters.end
    ).order_by("id"):
        if filters.protocol and course.protocol != filters.protocol:
            continue
        found.started += 1
        found.completed += course.phase == "completed"
        start = dt.datetime.combine(course.started_on, dt.time(), tzinfo=zone)
        later = (
            Course.objects.filter(client=course.client, started_on__gt=course.started_on)
            .order_by("started_on")
            .first()
        )
        scores = Administration.objects.current().filter(
            client=course.client, total__isnull=False, completed_at__gte=start
        )
        if later is not None:
            scores = scores.filter(
                completed_at__lt=dt.datetime.combine(later.started_on, dt.time(), tzinfo=zone)
            )
        trajectory = [
            rules.Score(at=a.completed_at, total=a.total)
            for a in scores.filter(instrument=filters.instrument)
            if a.total is not None
        ]
        if trajectory:
            judged = rules.progress(
                trajectory, instrument=filters.instrument, now=NOW, zone=zone, settings=settings
            )
            if judged.response is not None:
                found.response.append(judged.response)
            if len(judged.scores) > 1:
                found.remission.append(bool(judged.remission))
            if judged.days_to_first_response is not None:
                found.days_to_response.append(judged.days_to_first_response)
            if judged.durability[0].kept is not None:
                found.kept_3.append(judged.durability[0].kept)
            if judged.first_remission is not None:
                found.relapsed.append(judged.relapse is not None)
            if judged.change is not None:
                found.changes.append(judged.change.absolute)

        appointments = list(Appointment.objects.filter(course=course))
        doses = [a.ends_at for a in appointments if a.kind == Kind.DOSING and a.state == State.HELD]
        held = [
            a.starts_at for a in appointments if a.kind == Kind.INTEGRATION and a.state == "held"
        ]
        adherence = rules.integration_adherence(
            doses, held, int(course.plan.integration_within_hours.value), now=NOW
        )
        found.integration[0] += adherence.met
        found.integration[1] += adherence.evaluated
        found.attended += sum(a.state == State.HELD for a in appointments)
        found.no_show += sum(a.state == State.NO_SHOW for a in appointments)

        events = measure_sends.course_events(
            course,
            [
                (a.starts_at, a.state)
                for a in appointments
                if a.kind == Kind.DOSING and a.state in (State.BOOKED, State.HELD)
            ],
        )
        completions: dict[str, list[dt.datetime]] = {}
        for administration in scores:
            completions.setdefault(administration.instrument, []).append(
                administration.completed_at
            )
        for _, state in schedule.assess(
            schedule.due_list(events, course.plan.measures), completions, NOW
        ):
            if state in (schedule.DONE, schedule.OVERDUE):
                found.measures[1] += 1
                found.measures[0] += state == schedule.DONE

        found.sessions += DosingSession.objects.filter(course=course, dose__isnull=False).count()
        events_of_course = AdverseEvent.objects.filter(session__course=course)
        found.adverse += events_of_course.count()
        for event in events_of_course:
            found.safety["adverse_event", event.seriousness, event.severity] += 1
        for row in SideEffectRow.objects.filter(session__course=course, corrected_by__isnull=True):
            found.safety["side_effect", row.effect, row.severity] += 1
        found.bp += (
            SafetyFlag.objects.filter(
                kind=FlagKind.VITAL_SIGNS, rule="bp_stop", source_session__course=course
            )
            .values("source_session")
            .distinct()
            .count()
        )
        for form in RemsForm.objects.filter(session__course=course):
            if form.submitted_on is not None or form.due_on < today:
                found.rems[1] += 1
                found.rems[0] += form.submitted_on is not None and form.submitted_on <= form.due_on
    return found


@pytest.fixture
def network(db: None) -> None:
    generate_network(clients=60, seed=5, now=NOW, years=2)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"protocol": "kap_sublingual"},
        {"start": dt.date(2026, 1, 1)},
    ],
)
def test_dashboard_equals_the_slow_path(network: None, changes: dict[str, object]) -> None:
    filters = figures.Filters(
        **{"start": dt.date(2020, 1, 1), "end": NOW.date(), **changes}  # type: ignore[arg-type]
    )
    board = figures.dashboard(filters)
    slow = slow_figures(filters)

    assert slow.started > 0
    assert board.courses_started == slow.started
    assert board.courses_completed == slow.completed
    assert board.response == figures.Proportion(sum(slow.response), len(slow.response))
    assert board.remission == figures.Proportion(sum(slow.remission), len(slow.remission))
    assert board.median_days_to_response == (
        statistics.median(slow.days_to_response) if slow.days_to_response else None
    )
    assert board.kept_3_months == figures.Proportion(sum(slow.kept_3), len(slow.kept_3))
    assert board.relapse == figures.Proportion(sum(slow.relapsed), len(slow.relapsed))
    assert board.change.n == len(slow.changes)
    if len(slow.changes) > 1:
        assert board.change.mean == pytest.approx(statistics.mean(slow.changes))
        assert board.change.sd == pytest.approx(statistics.stdev(slow.changes))
    assert board.integration == figures.Proportion(*slow.integration)
    assert board.measurement == figures.Proportion(*slow.measures)
    assert board.dosing_sessions == slow.sessions
    assert board.adverse_events == slow.adverse
    assert board.bp_excursions == slow.bp
    assert board.rems == figures.Proportion(*slow.rems)
    assert board.no_show == figures.Proportion(slow.no_show, slow.no_show + slow.attended)
    assert {(r.category, r.kind, r.severity): r.count for r in board.safety} == dict(slow.safety)


def test_the_generated_network_exercises_every_figure(network: None) -> None:
    """The comparison above means something only if the data has each kind of case."""
    slow = slow_figures(figures.Filters(start=dt.date(2020, 1, 1), end=NOW.date()))
    assert 0 < sum(slow.response) < len(slow.response)
    assert 0 < sum(slow.remission) < len(slow.remission)
    assert slow.days_to_response
    assert slow.kept_3
    assert 0 < slow.integration[0] < slow.integration[1]
    assert 0 < slow.measures[0] < slow.measures[1]
    assert slow.sessions > 0
    assert slow.no_show > 0
    assert slow.safety
