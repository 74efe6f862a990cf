"""The per-course summaries written from the records (kapcare.outcomes.summaries): a course built
through the services (dose, vitals past the stop level, side effects with a correction, an
adverse event, integration, PHQ-9 and GAD-7 scores) and the summary, outcomes and safety counts
written for it; a refresh replaces; a client's next course keeps its own scores; the post_save
receivers refresh on commit; and the query count does not grow with the number of courses.

The expected figures are worked out by hand from the records each test makes and the published
rules (course_figures, courses.schedule, clinical-facts §6.2 via kapcare.measures.rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import make_aware

from kapcare.clients.models import CareTeamMember, CareTeamRole, Client
from kapcare.core.time import now, practice_today, practice_zone
from kapcare.courses import services as course_services
from kapcare.courses.models import Appointment, Course, State
from kapcare.courses.tests.test_services import course_for
from kapcare.dosing import services as dosing_services
from kapcare.dosing.models import DosingSession
from kapcare.dosing.tests.test_discharge_and_flags import dosed, vitals
from kapcare.measures.models import Administration
from kapcare.measures.services import administration_record
from kapcare.outcomes import summaries
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.outcomes.summaries import refresh_courses
from kapcare.outcomes.tests import helpers
from kapcare.safety.models import FlagKind, SafetyFlag
from kapcare.stock.models import Location
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.personas import Practice

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def no_leftover_marks() -> Iterator[None]:
    """Marks of earlier tests' rolled-back transactions would ride along with this test's first
    commit (harmless, but not this test's doing)."""
    summaries._pending.courses.clear()
    summaries._pending.clients.clear()
    yield
    summaries._pending.courses.clear()
    summaries._pending.clients.clear()


def answers(instrument: str, total: int) -> dict[str, int]:
    """Item answers adding up to `total` (PHQ-9 item 9 always 0: no suicide-risk flag)."""
    items = {"phq9": 8, "gad7": 7}[instrument]
    left = total
    given: dict[str, int] = {}
    for number in range(1, items + 1):
        given[f"q{number}"] = min(3, left)
        left -= given[f"q{number}"]
    assert left == 0, f"{total} is more than {instrument} items can add up to"
    if instrument == "phq9":
        given["q9"] = 0
    return given


def record(
    practice: Practice,
    total: int,
    at: dt.datetime | None = None,
    *,
    instrument: str = "phq9",
    client: Client | None = None,
) -> Administration:
    done = administration_record(
        actor=practice.therapist,
        client=client or practice.client,
        instrument=instrument,
        answers=answers(instrument, total),
        completed_at=at,
    )
    assert done.total == total  # the helper's arithmetic, not the code under test
    return done


def local(days_ago: int, hour: int = 0) -> dt.datetime:
    """`hour`:00 in the practice zone on the practice day `days_ago` days before today."""
    day = practice_today() - dt.timedelta(days=days_ago)
    return make_aware(dt.datetime.combine(day, dt.time(hour)), practice_zone())


def summary_of(course: Course) -> CourseSummary:
    return CourseSummary.objects.get(course=course)


def outcomes_of(course: Course) -> dict[str, CourseOutcome]:
    return {o.instrument: o for o in CourseOutcome.objects.filter(summary__course=course)}


def safety_of(course: Course) -> set[tuple[str, str, str, int]]:
    return set(
        CourseSafetyCount.objects.filter(summary__course=course).values_list(
            "category", "kind", "severity", "count"
        )
    )


def birthday_between(start: dt.date, today: dt.date, age: int) -> dt.date:
    """A date of birth whose `age`th birthday falls after `start` and on or before `today`."""
    for back in range(5, 8):
        birthday = today - dt.timedelta(days=back)
        if birthday > start and (birthday.month, birthday.day) != (2, 29):
            return birthday.replace(year=birthday.year - age)
    raise AssertionError("no birthday found")  # pragma: no cover


@dataclass
class Built:
    course: Course
    session: DosingSession
    dosing: Appointment
    started_on: dt.date


def build(practice: Practice) -> Built:
    """An IV course whose dose was given 30 minutes ago, with everything a summary counts but
    the integration session (the tests add it)."""
    session = dosed(practice, "iv_racemic", minutes_ago=30)  # course started today, "emdr"
    course = session.course
    dosing = session.appointment
    course_services.appointment_mark(actor=practice.nurse, appointment=dosing, state=State.HELD)
    # A reading past the stop level (180/100) after the dose raises the bp_stop flag; a low
    # SpO2 raises another rule's flag on the same session.
    vitals(practice, session, 20, "186/104")
    vitals(practice, session, 10, "150/90", spo2=88)
    for effect, severity in (("nausea", "mild"), ("nausea", "mild"), ("headache", "moderate")):
        dosing_services.side_effect_record(
            actor=practice.nurse, session=session, effect=effect, severity=severity
        )
    wrong = dosing_services.side_effect_record(
        actor=practice.nurse, session=session, effect="dizziness", severity="mild"
    )
    dosing_services.side_effect_record(
        actor=practice.nurse,
        session=session,
        effect="dizziness",
        severity="moderate",
        corrects=wrong,
        correction_reason="Severity misread",
    )
    dosing_services.adverse_event_record(
        actor=practice.prescriber,
        session=session,
        event="Vomiting after the infusion",
        onset_at=now() - 15 * dt.timedelta(minutes=1),
        severity="moderate",
        seriousness="not_serious",
        related="related",
    )
    # One missed and one cancelled preparation besides the five held ones (make_ready), and a
    # cancelled dosing session three days ago (no dose, anchors no measure).
    for kind, state in (
        ("preparation", State.NO_SHOW),
        ("preparation", State.CANCELLED),
        ("dosing", State.CANCELLED),
    ):
        Appointment.objects.create(
            client=practice.client,
            course=course,
            kind=kind,
            starts_at=now() - 3 * dt.timedelta(days=1),
            ends_at=now() - 3 * dt.timedelta(days=1) + HOUR,
            clinician=practice.therapist,
            state=state,
        )
    # The course began ten days ago (the services only start courses today or earlier, and
    # the helpers start them today): moved back so the scores below can be dated inside it.
    started_on = practice_today() - dt.timedelta(days=10)
    Course.objects.filter(pk=course.pk).update(started_on=started_on)
    course.refresh_from_db()
    # PHQ-9: 20 at noon nine days ago (course-start window), 18 two hours before the dose
    # (before-dose window), 16 from make_ready (just before the dosing appointment was made),
    # 10 now. GAD-7: 15 nine days ago, 14 from make_ready.
    record(practice, 20, local(9, 12))
    record(practice, 15, local(9, 12), instrument="gad7")
    record(practice, 18, dosing.starts_at - 2 * HOUR)
    record(practice, 10)
    # 35 today, 34 on the day the course started.
    Client.objects.filter(pk=practice.client.pk).update(
        date_of_birth=birthday_between(started_on, practice_today(), 35)
    )
    return Built(course=course, session=session, dosing=dosing, started_on=started_on)


def integration_after(practice: Practice, built: Built, hours: int) -> Appointment:
    """A held integration session `hours` after the dosing appointment's end."""
    return helpers.integration(
        built.course, practice.therapist, at=built.dosing.ends_at + hours * HOUR
    )


class TestSummary:
    def test_a_course_built_through_the_services(self, practice: Practice) -> None:
        built = build(practice)
        integration_after(practice, built, 24)
        later = now() + 72 * HOUR
        assert refresh_courses([built.course.id], now=later) == 1

        summary = summary_of(built.course)
        assert summary.client_id == practice.client.pk
        assert (summary.protocol, summary.route) == ("iv_racemic", "intravenous")
        assert (summary.started_on, summary.ended_on) == (built.started_on, None)
        assert (summary.phase, summary.completed) == ("preparation", False)
        assert summary.therapist_id == practice.therapist.pk
        assert summary.prescriber_id == practice.prescriber.pk
        assert summary.location_id == Location.objects.get().pk  # the one safe session_for made
        assert summary.age_band == "25-34"  # 34 on the start day, 35 today
        assert summary.trauma_focused is True  # course_for's modalities include "emdr"
        assert summary.dosing_sessions == 1
        # The dose ended at the dosing appointment's end; integration 24 h later.
        assert (summary.integration_doses, summary.integration_met) == (1, 1)
        # Due by `later`: PHQ-9 and GAD-7 at the start (done), PHQ-9 before the dose (done),
        # PHQ-9 24-48 h after the dose (overdue). The 72-96 h window is open: not counted.
        assert (summary.measures_expected, summary.measures_done) == (4, 3)
        # Held: 5 preparations, the dosing session, the integration. Missed: 1 preparation
        # (the cancelled preparation and dosing session count neither way).
        assert (summary.appointments_attended, summary.appointments_no_show) == (7, 1)
        assert summary.bp_excursion_sessions == 1
        assert (summary.rems_forms_due, summary.rems_forms_on_time) == (0, 0)
        assert summary.adverse_events == 1
        assert summary.refreshed_at == later

        found = outcomes_of(built.course)
        assert set(found) == {"phq9", "gad7"}
        phq9 = found["phq9"]
        assert (phq9.scores, phq9.baseline, phq9.latest, phq9.change) == (4, 20, 10, -10)
        assert (phq9.responded, phq9.remitted) == (True, False)  # 10 is half of 20; 10 > 4
        assert (phq9.days_to_response, phq9.days_to_remission) == (9, None)
        assert (phq9.relapsed, phq9.kept_3_months, phq9.kept_6_months) == (None, None, None)
        gad7 = found["gad7"]
        assert (gad7.scores, gad7.baseline, gad7.latest, gad7.change) == (2, 15, 14, -1)
        assert (gad7.responded, gad7.remitted, gad7.relapsed) == (False, None, None)

        # The corrected dizziness counts as its correction only.
        assert safety_of(built.course) == {
            ("adverse_event", "not_serious", "moderate", 1),
            ("side_effect", "nausea", "mild", 2),
            ("side_effect", "headache", "moderate", 1),
            ("side_effect", "dizziness", "moderate", 1),
        }
        assert set(
            SafetyFlag.objects.filter(kind=FlagKind.VITAL_SIGNS).values_list("rule", flat=True)
        ) == {"bp_stop", "spo2"}

    def test_refreshing_again_replaces(self, practice: Practice) -> None:
        built = build(practice)
        refresh_courses([built.course.id], now=now())
        first = summary_of(built.course)
        # The integration window (72 h from the dose's end, two hours from now) is open and
        # nothing is held in it: the dose is not judged yet.
        assert (first.integration_doses, first.integration_met) == (0, 0)

        integration_after(practice, built, 80)  # outside the window
        dosing_services.side_effect_record(
            actor=practice.nurse, session=built.session, effect="nausea", severity="mild"
        )
        later = now() + 5 * 24 * HOUR
        refresh_courses([built.course.id], now=later)
        refresh_courses([built.course.id], now=later)
        assert CourseSummary.objects.count() == 1
        again = summary_of(built.course)
        assert (again.integration_doses, again.integration_met) == (1, 0)
        assert again.appointments_attended == first.appointments_attended + 1
        assert again.refreshed_at == later
        assert CourseOutcome.objects.count() == 2
        assert CourseSafetyCount.objects.count() == 4
        assert ("side_effect", "nausea", "mild", 3) in safety_of(built.course)

    def test_trauma_focused_from_an_emdr_work_row(self, practice: Practice) -> None:
        built = build(practice)
        Course.objects.filter(pk=built.course.pk).update(modalities=["breathwork"])
        dosing_services.work_record(
            actor=practice.therapist, session=built.session, kind="somatic", detail="Body scan"
        )
        refresh_courses([built.course.id], now=now())
        assert summary_of(built.course).trauma_focused is False
        dosing_services.work_record(
            actor=practice.therapist, session=built.session, kind="emdr", detail="Two sets"
        )
        refresh_courses([built.course.id], now=now())
        assert summary_of(built.course).trauma_focused is True

    def test_only_dosed_sessions_and_bp_stop_flags_count(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        course = session.course
        # A second dosing appointment whose session is open but has no dose yet.
        undosed = Appointment.objects.create(
            client=practice.client,
            course=course,
            kind="dosing",
            starts_at=now() - HOUR,
            ends_at=now() + HOUR,
            clinician=practice.nurse,
            second_clinician=practice.therapist,
        )
        dosing_services.session_open(actor=practice.nurse, appointment=undosed)
        vitals(practice, session, 20, "150/90", spo2=88)  # a stop rule, but not blood pressure
        assert SafetyFlag.objects.get().rule == "spo2"
        refresh_courses([course.id], now=now())
        summary = summary_of(course)
        assert (summary.dosing_sessions, summary.bp_excursion_sessions) == (1, 0)
        vitals(practice, session, 10, "186/104")
        vitals(practice, session, 5, "192/108")  # the same session: still one
        refresh_courses([course.id], now=now())
        assert summary_of(course).bp_excursion_sessions == 1

    def test_a_corrected_score_counts_as_its_correction(self, practice: Practice) -> None:
        course = course_for(practice)
        record(practice, 20)
        wrong = record(practice, 12)
        administration_record(
            actor=practice.therapist,
            client=practice.client,
            instrument="phq9",
            answers=answers("phq9", 8),
            completed_at=wrong.completed_at,
            replaces=wrong,
            correction_reason="Item 3 misread",
        )
        refresh_courses([course.id], now=now())
        phq9 = outcomes_of(course)["phq9"]
        assert (phq9.scores, phq9.latest, phq9.responded) == (2, 8, True)

    def test_the_therapist_is_the_care_team_one_at_the_course_start(
        self, practice: Practice
    ) -> None:
        course = course_for(practice)
        # The fixture's team joined just now, after the course's start (midnight today); a
        # therapist on the team since before the start is the one in place then.
        earlier = make_member(
            client=practice.client,
            staff=practice.outsider,
            role=CareTeamRole.THERAPIST,
            started_at=local(3),
        )
        refresh_courses([course.id], now=now())
        assert summary_of(course).therapist_id == earlier.staff_id
        assert summary_of(course).prescriber_id == practice.prescriber.pk
        assert summary_of(course).location_id is None  # no dose, no stock movement
        # With both in place at the start, the primary therapist comes first, though the other
        # joined earlier.
        CareTeamMember.objects.filter(
            client=practice.client, role=CareTeamRole.PRIMARY_THERAPIST
        ).update(started_at=local(2))
        refresh_courses([course.id], now=now())
        assert summary_of(course).therapist_id == practice.therapist.pk

    def test_a_course_without_records(self, practice: Practice) -> None:
        course = course_for(practice)
        refresh_courses([course.id], now=now())
        summary = summary_of(course)
        assert (summary.dosing_sessions, summary.appointments_attended) == (0, 0)
        assert (summary.measures_expected, summary.measures_done) == (0, 0)  # start window open
        assert not outcomes_of(course)
        assert not safety_of(course)

    def test_scores_of_the_next_course_are_not_counted_in_the_first(
        self, practice: Practice
    ) -> None:
        today = practice_today()
        first = course_services.course_start(
            actor=practice.therapist,
            client=practice.client,
            protocol="kap_sublingual",
            started_on=today - dt.timedelta(days=20),
        )
        course_services.course_change_phase(
            actor=practice.prescriber, course=first, phase="discontinued", reason="Moved away"
        )
        second = course_services.course_start(
            actor=practice.therapist,
            client=practice.client,
            protocol="kap_sublingual",
            started_on=today - dt.timedelta(days=5),
        )
        record(practice, 22, local(25, 12))  # before either course
        record(practice, 20, local(15, 12))
        record(practice, 12, local(12, 12))
        record(practice, 16, local(5))  # the second course's first moment
        record(practice, 18, local(3, 12))
        record(practice, 8, local(1, 12))
        refresh_courses([first.id, second.id], now=now())
        one, two = outcomes_of(first)["phq9"], outcomes_of(second)["phq9"]
        assert (one.scores, one.baseline, one.latest, one.responded) == (2, 20, 12, False)
        assert (two.scores, two.baseline, two.latest, two.responded) == (3, 16, 8, True)
        assert two.days_to_response == 4
        assert summary_of(first).ended_on == today
        assert summary_of(first).phase == "discontinued"


class TestOnCommit:
    def test_a_score_recorded_through_the_service_updates_the_outcome(
        self, practice: Practice, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):  # committed: marks consumed
            course = course_for(practice)
            record(practice, 20)
        assert outcomes_of(course)["phq9"].scores == 1
        with django_capture_on_commit_callbacks(execute=True):
            record(practice, 4)
            assert outcomes_of(course)["phq9"].scores == 1  # not before the commit
        phq9 = outcomes_of(course)["phq9"]
        assert (phq9.scores, phq9.baseline, phq9.latest, phq9.change) == (2, 20, 4, -16)
        assert (phq9.responded, phq9.remitted, phq9.relapsed) == (True, True, False)
        assert (phq9.days_to_response, phq9.days_to_remission) == (0, 0)

    def test_a_course_started_through_the_service_gets_its_summary(
        self, practice: Practice, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            course = course_for(practice)
            assert not CourseSummary.objects.filter(course=course).exists()
        summary = summary_of(course)
        assert (summary.protocol, summary.started_on) == ("kap_sublingual", practice_today())
        assert summary.therapist_id == practice.therapist.pk
        assert summary.trauma_focused is True

    def test_a_side_effect_updates_the_safety_counts(
        self, practice: Practice, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        built = build(practice)
        refresh_courses([built.course.id], now=now())
        with django_capture_on_commit_callbacks(execute=True):
            dosing_services.side_effect_record(
                actor=practice.nurse, session=built.session, effect="anxiety", severity="severe"
            )
        assert ("side_effect", "anxiety", "severe", 1) in safety_of(built.course)

    def test_without_a_commit_nothing_is_refreshed(self, practice: Practice) -> None:
        course = course_for(practice)  # inside the test's transaction, never committed
        assert not CourseSummary.objects.filter(course=course).exists()


def another_course(practice: Practice, number: int) -> Course:
    """A client of the same team with a course like the built one: care team, doses,
    integration, scores, a side effect, an adverse event and a bp_stop flag."""
    client = make_client(legal_given_names=f"Client{number}")
    make_member(client=client, staff=practice.therapist, role=CareTeamRole.PRIMARY_THERAPIST)
    make_member(client=client, staff=practice.prescriber, role=CareTeamRole.PRESCRIBER)
    course = helpers.course(client, started_days_ago=10)
    appointment = helpers.dose(course, practice.nurse, practice.therapist, at=local(7, 9))
    helpers.integration(course, practice.therapist, at=local(6, 10))
    session = appointment.dosing_session
    dosing_services.side_effect_record(
        actor=practice.nurse, session=session, effect="nausea", severity="mild"
    )
    dosing_services.adverse_event_record(
        actor=practice.prescriber,
        session=session,
        event="Headache",
        onset_at=local(7, 11),
        severity="mild",
        seriousness="not_serious",
        related="possibly",
    )
    SafetyFlag.objects.create(
        client=client,
        kind=FlagKind.VITAL_SIGNS,
        severity="review",
        reason="Vital signs: BP",
        source_session=session,
        rule="bp_stop",
    )
    record(practice, 20, local(9, 12), client=client)
    record(practice, 9, local(2, 12), client=client)
    return course


def test_the_query_count_does_not_grow_with_the_courses(practice: Practice) -> None:
    built = build(practice)
    integration_after(practice, built, 24)
    others = [another_course(practice, number) for number in range(5)]
    one = [built.course.id]
    six = [built.course.id, *(course.id for course in others)]

    def queries(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert refresh_courses(ids, now=now()) == len(ids)
        return len(captured.captured_queries)

    first_one = queries(one)  # no summary yet
    CourseSummary.objects.all().delete()
    first_six = queries(six)
    again_six = queries(six)  # replacing existing summaries
    again_one = queries(one)
    assert first_one == first_six
    assert again_one == again_six
    # Every course got its figures (not just the first of the batch).
    assert CourseSummary.objects.count() == 6
    assert CourseOutcome.objects.filter(summary__course__in=others).count() == 5
    for course in others:
        summary = summary_of(course)
        assert (summary.dosing_sessions, summary.integration_doses) == (1, 1)
        assert (summary.adverse_events, summary.bp_excursion_sessions) == (1, 1)
        assert summary.age_band != ""
