"""The progress selector: which course, which scores (from the course's start, not the next
course's), the baseline, the previous score, doses and integration adherence with an open
window, the client without a course, the text for notes and the header, and a fixed number of
queries however long the history."""

from __future__ import annotations

import decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.core.time import now
from kapcare.courses.measure_sends import course_started_at
from kapcare.courses.models import Phase, State
from kapcare.outcomes.progress import (
    MINUS,
    adverse_events_during,
    client_progress,
    percent_text,
    progress_for_course,
)
from kapcare.outcomes.tests.helpers import (
    corrected_score,
    course,
    days_ago,
    dose,
    integration,
    score,
    start_of_day,
)
from kapcare.testing.personas import Practice


def test_the_baseline_is_the_first_score_of_the_course(practice: Practice) -> None:
    client = practice.client
    current = course(client, started_days_ago=60)
    score(client, 24, start_of_day(61))  # the day before the course: not its baseline
    score(client, 18, start_of_day(60))  # the course's first moment counts
    score(client, 11, days_ago(30))
    score(client, 4, days_ago(2))
    score(client, None, days_ago(1))  # incomplete, no total: left out

    progress = client_progress(client, now=now())

    assert progress.course == current
    assert progress.since == course_started_at(current)
    phq9 = progress.get("phq9")
    assert phq9 is not None
    assert [s.total for s in phq9.progress.scores] == [18, 11, 4]
    assert phq9.baseline is not None
    assert phq9.baseline.total == 18
    assert phq9.previous is not None
    assert phq9.previous.total == 11
    assert phq9.latest is not None
    assert phq9.latest.total == 4
    assert phq9.change is not None
    assert phq9.change.absolute == -14
    assert phq9.change.percent == decimal.Decimal("-77.8")
    assert phq9.response is True
    assert phq9.remission is True
    assert phq9.progress.days_to_first_response == 58  # 11 is not half of 18
    assert phq9.progress.days_to_first_remission == 58


def test_corrected_scores_count_as_corrected(practice: Practice) -> None:
    client = practice.client
    course(client, started_days_ago=10)
    score(client, 20, days_ago(9))
    corrected_score(client, 3, 13, days_ago(2))
    phq9 = client_progress(client, now=now()).get("phq9")
    assert phq9 is not None
    assert phq9.latest is not None
    assert phq9.latest.total == 13


def test_the_open_course_is_current_and_earlier_courses_scores_are_left_out(
    practice: Practice,
) -> None:
    client = practice.client
    course(client, started_days_ago=300, phase=Phase.COMPLETED)
    score(client, 25, days_ago(290))
    current = course(client, started_days_ago=20)
    score(client, 16, days_ago(19))

    progress = client_progress(client, now=now())

    assert progress.course == current
    assert progress.next_course is None
    phq9 = progress.get("phq9")
    assert phq9 is not None
    assert phq9.baseline is not None
    assert phq9.baseline.total == 16
    assert phq9.previous is None
    assert phq9.change is None  # only the baseline so far
    assert phq9.remission is None  # a lone baseline is not judged


def test_the_most_recent_course_is_current_when_none_is_open(practice: Practice) -> None:
    client = practice.client
    course(client, started_days_ago=300, phase=Phase.COMPLETED)
    latest = course(client, started_days_ago=100, phase=Phase.COMPLETED)
    assert client_progress(client, now=now()).course == latest


def test_the_next_courses_scores_are_left_out(practice: Practice) -> None:
    client = practice.client
    first = course(client, started_days_ago=200, phase=Phase.COMPLETED)
    following = course(client, started_days_ago=50)
    score(client, 20, days_ago(199))
    score(client, 9, days_ago(120))
    score(client, 22, start_of_day(50))  # the next course's baseline
    score(client, 5, days_ago(10))

    progress = progress_for_course(first, now=now(), next_course=following)

    assert progress.until == course_started_at(following)
    phq9 = progress.get("phq9")
    assert phq9 is not None
    assert [s.total for s in phq9.progress.scores] == [20, 9]
    assert phq9.previous is not None
    assert phq9.previous.total == 20

    current = client_progress(client, now=now())
    assert current.course == following
    phq9 = current.get("phq9")
    assert phq9 is not None
    assert [s.total for s in phq9.progress.scores] == [22, 5]


def test_doses_and_integration_adherence_with_an_open_window(practice: Practice) -> None:
    client = practice.client
    current = course(client, started_days_ago=40)
    nurse, therapist = practice.nurse, practice.therapist
    dose(current, nurse, therapist, at=days_ago(20), mg="150")
    integration(current, therapist, at=days_ago(19))  # inside 72 h: met
    dose(current, nurse, therapist, at=days_ago(10), mg="200")
    integration(current, therapist, at=days_ago(9), state=State.CANCELLED)  # not held: missed
    dose(current, nurse, therapist, at=days_ago(0.5), mg="250")  # window open: pending
    dose(current, nurse, therapist, at=days_ago(5), with_dose=False)  # no dose given
    other = course(practice.client, started_days_ago=400, phase=Phase.COMPLETED)
    dose(other, nurse, therapist, at=days_ago(390))  # another course's dose

    progress = client_progress(client, now=now())

    assert [d.amount for d in progress.doses] == ["150 mg", "200 mg", "250 mg"]
    assert progress.doses[0].route == "Sublingual / lozenge"
    adherence = progress.adherence
    assert adherence is not None
    assert (adherence.doses, adherence.met, adherence.pending) == (3, 1, 1)
    assert adherence.evaluated == 2
    assert adherence.window_hours == 72  # the course's pinned setting (the shipped default)
    assert progress.adherence_text == "integration 1/2 (1 pending)"
    assert "3 doses" in progress.header


def test_the_window_is_the_courses_pinned_setting(practice: Practice) -> None:
    current = course(practice.client, started_days_ago=40)
    current.protocol_settings = {
        "integration_within_hours": {"value": 24, "version": 2, "source": "practice policy"}
    }
    current.save()
    dose(current, practice.nurse, practice.therapist, at=days_ago(20))
    integration(current, practice.therapist, at=days_ago(18))  # 46 h after: outside 24 h
    adherence = client_progress(practice.client, now=now()).adherence
    assert adherence is not None
    assert (adherence.window_hours, adherence.met, adherence.evaluated) == (24, 0, 1)


def test_without_a_course_progress_runs_over_every_score(practice: Practice) -> None:
    client = practice.client
    score(client, 21, days_ago(400))
    score(client, 12, days_ago(100))
    score(client, 10, days_ago(3), instrument="gad7")

    progress = client_progress(client, now=now())

    assert progress.course is None
    assert progress.adherence is None
    assert progress.doses == ()
    phq9 = progress.get("phq9")
    assert phq9 is not None
    assert phq9.baseline is not None
    assert phq9.baseline.total == 21
    assert progress.header.startswith("PHQ-9 21 → 12")
    assert "dose" not in progress.header
    gad7 = progress.get("gad7")
    assert gad7 is not None
    assert not gad7.defined  # clinical-facts §6.2 defines no GAD-7 response or remission
    assert gad7.response is None
    assert gad7.status_words() == []
    assert [item.code for item in progress.instruments] == ["phq9", "gad7"]


def test_no_scores_at_all(practice: Practice) -> None:
    progress = client_progress(practice.client, now=now())
    assert progress.instruments == ()
    assert progress.main is None
    assert progress.header == ""


def test_the_note_line_and_header(practice: Practice) -> None:
    client = practice.client
    current = course(client, started_days_ago=60)
    score(client, 18, days_ago(59))
    score(client, 11, days_ago(30))
    score(client, 7, days_ago(2))
    for days in (50, 40, 30, 20):
        dose(current, practice.nurse, practice.therapist, at=days_ago(days))
        integration(current, practice.therapist, at=days_ago(days - 1))

    progress = client_progress(client, now=now())
    phq9 = progress.get("phq9")
    assert phq9 is not None

    def day(days: int) -> str:
        return f"{days_ago(days).astimezone(phq9.zone):%Y-%m-%d}"

    assert phq9.note_line == (
        f"PHQ-9: baseline 18 ({day(59)}), previous 11 ({day(30)}), latest 7 ({day(2)}), "
        f"{MINUS}61.1% from baseline; response; not in remission"
    )
    assert progress.header == (
        f"PHQ-9 18 → 7 ({MINUS}61.1%) · response · not in remission · 4 doses · integration 4/4"
    )
    assert progress.note_text == phq9.note_line


def test_a_lone_baseline_in_the_note(practice: Practice) -> None:
    score(practice.client, 15, days_ago(1))
    phq9 = client_progress(practice.client, now=now()).get("phq9")
    assert phq9 is not None
    assert phq9.note_line.endswith("; no later score yet.")
    assert "previous" not in phq9.note_line
    assert "latest" not in phq9.note_line


@pytest.mark.parametrize(
    ("value", "text"),
    [("-61.1", f"{MINUS}61.1%"), ("-50.0", f"{MINUS}50%"), ("12.5", "+12.5%"), ("0.0", "0%")],
)
def test_percent_text(value: str, text: str) -> None:
    assert percent_text(decimal.Decimal(value)) == text


def test_adverse_events_in_the_course(practice: Practice) -> None:
    from kapcare.dosing.models import AdverseEvent

    client = practice.client
    course(client, started_days_ago=30)
    for onset, seriousness in ((40, "serious"), (20, "serious"), (10, "not_serious")):
        AdverseEvent.objects.create(
            client=client,
            event="Nausea",
            onset_at=days_ago(onset),
            severity="mild",
            seriousness=seriousness,
            related="possibly",
        )
    counted = adverse_events_during(client_progress(client, now=now()))
    assert (counted.total, counted.serious) == (2, 1)


def test_the_query_count_does_not_grow_with_the_history(practice: Practice) -> None:
    client = practice.client
    current = course(client, started_days_ago=200)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            progress = client_progress(client, now=now())
            _ = (
                progress.header,
                progress.note_text,
                [i.chart(progress.doses) for i in progress.instruments],
            )
        return len(captured)

    score(client, 20, days_ago(199))
    dose(current, practice.nurse, practice.therapist, at=days_ago(190))
    few = queries()
    for n in range(30):
        score(client, 10 + n % 5, days_ago(180 - n), instrument=("phq9", "gad7")[n % 2])
    for n in range(5):
        dose(current, practice.nurse, practice.therapist, at=days_ago(150 - 10 * n))
        integration(current, practice.therapist, at=days_ago(149 - 10 * n))
    assert queries() == few == 3
