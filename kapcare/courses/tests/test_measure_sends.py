"""Sending a course's measurement schedule: each opening once (also with two callers at the same
moment), only questionnaires a client may be sent, nothing already completed in its window,
nothing for a discontinued course and only follow-ups for a completed one, queued for the moment
each window opens."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import replace

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses import measure_sends, protocols
from kapcare.courses.measure_sends import NO_CONTACT, measures_send_due
from kapcare.courses.models import Appointment, Course, MeasureSend, Room, State
from kapcare.courses.schedule import Anchor, MeasureRule
from kapcare.courses.tests.helpers import (
    RECORDING_SMS,
    RecordingSms,
    appointment,
    at_once,
    in_hours,
)
from kapcare.courses.tests.test_services import course_for, ready_for_dosing
from kapcare.measures.models import SelfReportLink
from kapcare.measures.services import administration_record
from kapcare.testing.factories import make_client
from kapcare.testing.personas import Practice

HOUR = dt.timedelta(hours=1)
PHQ9 = {f"q{n}": 1 for n in range(1, 9)} | {"q9": 0}
GAD7 = {f"q{n}": 1 for n in range(1, 8)}


@pytest.fixture(autouse=True)
def _settings(settings) -> None:
    settings.SMS_SENDER = RECORDING_SMS
    RecordingSms.sent.clear()


def baseline(practice: Practice, at: dt.datetime | None = None) -> None:
    for instrument, answers in (("phq9", PHQ9), ("gad7", GAD7)):
        administration_record(
            actor=practice.therapist,
            client=practice.client,
            instrument=instrument,
            answers=answers,
            completed_at=at,
        )


def dose(practice: Practice, course: Course, starts_at: dt.datetime, **kw) -> Appointment:
    room, _ = Room.objects.get_or_create(name="Room 1")
    return appointment(
        practice, starts_at=starts_at, kind="dosing", course=course, room=room, second=True, **kw
    )


def send(at: dt.datetime, capture: Callable) -> int:
    with capture(execute=True):
        return measures_send_due(at=at)


def test_phq9_before_a_dose_is_sent_when_its_window_opens(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    baseline(practice)
    dosed = dose(practice, course, in_hours(72))
    opens = dosed.starts_at - 24 * HOUR
    assert send(opens - dt.timedelta(seconds=1), django_capture_on_commit_callbacks) == 0
    assert send(opens, django_capture_on_commit_callbacks) == 1
    assert send(opens + HOUR, django_capture_on_commit_callbacks) == 0  # once per opening
    sent = MeasureSend.objects.get()
    assert (sent.course, sent.opens_at, sent.instruments) == (course, opens, ["phq9"])
    assert sent.outcome == "sent by e-mail: PHQ-9"
    link = SelfReportLink.objects.get()
    assert (sent.link, link.instruments, link.channel) == (link, ["phq9"], "email")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [practice.client.email]
    assert "/r/?t=" in mail.outbox[0].body
    created = AuditEvent.objects.get(action="measure_send.create")
    assert (created.actor, created.subject_public_id) == (None, sent.public_id)
    assert created.after["outcome"] == "sent by e-mail: PHQ-9"
    assert AuditEvent.objects.get(action="self_report.send").actor is None


def test_the_baseline_is_sent_at_the_course_start(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    assert send(now(), django_capture_on_commit_callbacks) == 1
    sent = MeasureSend.objects.get()
    assert sent.instruments == ["gad7", "phq9"]
    assert sorted(sent.link.instruments) == ["gad7", "phq9"]
    assert sent.opens_at == measure_sends.course_started_at(course)


def test_only_what_was_not_completed_in_its_window_is_sent(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    administration_record(
        actor=practice.therapist, client=practice.client, instrument="gad7", answers=GAD7
    )
    assert send(now(), django_capture_on_commit_callbacks) == 1
    assert MeasureSend.objects.get().link.instruments == ["phq9"]
    # A PHQ-9 from before the course's start does not count for its baseline window.
    assert course.started_on == practice_today()


def test_nothing_is_sent_when_everything_was_completed_in_the_window(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    baseline(practice)
    dose(practice, course, in_hours(12))  # its PHQ-9 window (24 h before) is open now
    administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9
    )
    assert send(now(), django_capture_on_commit_callbacks) == 0
    assert not MeasureSend.objects.exists()
    assert mail.outbox == []


def test_a_completion_before_the_window_does_not_count(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    baseline(practice)  # now: inside the course-start window, before the dose's window
    dosed = dose(practice, course, in_hours(40))
    assert send(dosed.starts_at - 20 * HOUR, django_capture_on_commit_callbacks) == 1
    assert MeasureSend.objects.get().instruments == ["phq9"]


def test_licensed_questionnaires_are_recorded_but_never_sent(
    practice: Practice, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    shipped = protocols.BY_CODE["kap_sublingual"]
    monkeypatch.setitem(
        protocols.BY_CODE,
        "kap_sublingual",
        replace(
            shipped,
            measures=(
                MeasureRule(("phq9", "qids_sr16", "madrs"), Anchor.BEFORE_EACH_DOSE, (-24,), 24),
                MeasureRule(("madrs",), Anchor.AFTER_EACH_DOSE, (24,), 24),
            ),
        ),
    )
    course = course_for(practice)
    dosed = dose(practice, course, in_hours(30))
    assert send(dosed.starts_at - 23 * HOUR, django_capture_on_commit_callbacks) == 1
    sent = MeasureSend.objects.get()
    assert sent.instruments == ["madrs", "phq9", "qids_sr16"]
    assert sent.link.instruments == ["phq9"]
    assert sent.outcome == (
        "sent by e-mail: PHQ-9; not sent (licensed wording, give in the clinic): MADRS, QIDS-SR16"
    )
    # An opening with nothing a client may be sent: recorded, no link, no message.
    assert send(dosed.starts_at + 25 * HOUR, django_capture_on_commit_callbacks) == 1
    after = MeasureSend.objects.get(opens_at=dosed.starts_at + 24 * HOUR)
    assert after.link is None
    assert after.outcome == "not sent (licensed wording, give in the clinic): MADRS"
    assert len(mail.outbox) == 1


def test_by_text_message_without_email_and_recorded_without_any_contact(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course_for(practice)
    practice.client.email = ""
    practice.client.save()
    assert send(now(), django_capture_on_commit_callbacks) == 1
    assert MeasureSend.objects.get().link.channel == "sms"
    assert len(RecordingSms.sent) == 1
    assert RecordingSms.sent[0]["to"] == practice.client.phone

    other = make_client(email="", phone="")
    course_for_other = Course.objects.create(
        client=other, protocol="kap_sublingual", started_on=practice_today()
    )
    assert send(now(), django_capture_on_commit_callbacks) == 1
    sent = MeasureSend.objects.get(course=course_for_other)
    assert (sent.link, sent.outcome) == (None, NO_CONTACT)
    assert len(RecordingSms.sent) == 1


@pytest.mark.parametrize(
    ("phase", "openings"), [("induction", 2), ("discontinued", 0), ("completed", 0)]
)
def test_closed_courses_send_nothing_due_around_a_dose(
    practice: Practice, django_capture_on_commit_callbacks, phase: str, openings: int
) -> None:
    course = course_for(practice)
    dose(practice, course, in_hours(12))
    Course.objects.filter(pk=course.pk).update(phase=phase, ended_on=practice_today())
    assert send(now(), django_capture_on_commit_callbacks) == openings
    assert MeasureSend.objects.count() == openings
    assert len(mail.outbox) == min(openings, 1)


def test_openings_due_together_go_in_one_message(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    dosed = dose(practice, course, in_hours(12))
    assert send(now(), django_capture_on_commit_callbacks) == 2
    # Which opens first depends on the time of day (before noon, 24 h before a dose in 12 h is
    # yesterday, before the course's first day began): find each by its opening.
    start = MeasureSend.objects.get(opens_at=measure_sends.course_started_at(course))
    before = MeasureSend.objects.get(opens_at=dosed.starts_at - 24 * HOUR)
    assert (start.opens_at, start.instruments) == (
        measure_sends.course_started_at(course),
        ["gad7", "phq9"],
    )
    assert (before.opens_at, before.instruments) == (dosed.starts_at - 24 * HOUR, ["phq9"])
    assert start.link == before.link
    assert sorted(start.link.instruments) == ["gad7", "phq9"]
    assert before.outcome == "sent by e-mail: PHQ-9"
    assert len(mail.outbox) == 1


def test_a_completed_course_sends_its_follow_ups_after_the_last_held_dose(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    Course.objects.filter(pk=course.pk).update(started_on=practice_today() - dt.timedelta(days=60))
    last = dose(practice, course, now() - dt.timedelta(days=31), state=State.HELD)
    dose(practice, course, now() - dt.timedelta(days=33), state=State.HELD)
    dose(practice, course, now() - dt.timedelta(days=30), state=State.CANCELLED)
    # While the course is open the series has not ended: no follow-up.
    Course.objects.filter(pk=course.pk).update(phase="induction")
    assert send(now(), django_capture_on_commit_callbacks) == 0
    Course.objects.filter(pk=course.pk).update(phase="completed", ended_on=practice_today())
    assert send(now(), django_capture_on_commit_callbacks) == 1
    sent = MeasureSend.objects.get()
    assert sent.opens_at == last.starts_at + dt.timedelta(days=30)
    assert sent.instruments == ["gad7", "phq9"]
    # Long after the last follow-up window, a completed course is not even looked at.
    Course.objects.filter(pk=course.pk).update(ended_on=practice_today() - dt.timedelta(days=400))
    with CaptureQueriesContext(connection) as queries:
        assert measures_send_due(at=now()) == 0
    assert not any("measures_administration" in q["sql"] for q in queries.captured_queries)


def test_two_callers_that_both_found_it_due_send_it_once(
    practice: Practice, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """The worst interleaving, on any database: the first caller has worked out what is due
    when the second sends it; the first's insert then fails on the unique opening."""
    course_for(practice)
    real = measure_sends.openings_to_send
    second: list[int] = []

    def found_then_second_caller(course: Course, at: dt.datetime) -> dict:
        found = real(course, at)
        monkeypatch.setattr(measure_sends, "openings_to_send", real)
        second.append(measures_send_due(at=at))
        return found

    monkeypatch.setattr(measure_sends, "openings_to_send", found_then_second_caller)
    assert (send(now(), django_capture_on_commit_callbacks), second) == (0, [1])
    assert MeasureSend.objects.count() == 1
    assert SelfReportLink.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_exactly_once_with_two_callers_at_the_same_moment(practice: Practice) -> None:
    course_for(practice)
    results = at_once(2, lambda: measures_send_due(at=now()))
    assert sorted(results) == [0, 1]
    assert MeasureSend.objects.count() == 1
    assert SelfReportLink.objects.count() == 1
    assert AuditEvent.objects.filter(action="self_report.send").count() == 1
    assert len(mail.outbox) == 1


def test_queries_do_not_grow_with_courses_that_have_nothing_due(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    def courses(n: int) -> None:
        for _ in range(n):
            Course.objects.create(
                client=make_client(),
                protocol="kap_sublingual",
                started_on=practice_today() - dt.timedelta(days=10),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert measures_send_due(at=now()) == 0
        return len(captured)

    courses(2)
    few = queries()
    courses(10)
    assert queries() == few


def test_booking_a_dose_queues_the_sends_for_its_windows(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    from kapcare.courses import services

    course = ready_for_dosing(practice)
    room = Room.objects.create(name="Room 7")
    starts = in_hours(48)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(
            actor=practice.prescriber,
            client=practice.client,
            kind="dosing",
            starts_at=starts,
            minutes=180,
            clinician=practice.prescriber,
            second_clinician=practice.therapist,
            room=room,
            course=course,
        )
    queued = DBTaskResult.objects.filter(task_path__endswith="send_due_measures")
    assert sorted(t.run_after for t in queued) == [
        starts - 24 * HOUR,
        starts + 24 * HOUR,
        starts + 72 * HOUR,
    ]
    assert {t.args_kwargs["args"][0] for t in queued} == {str(course.public_id)}


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_baseline_queued_at_the_course_start(
    practice: Practice, run_worker: Callable[..., None]
) -> None:
    course = course_for(practice)
    queued = DBTaskResult.objects.get(task_path__endswith="send_due_measures")
    assert queued.args_kwargs["args"] == [str(course.public_id)]
    run_worker(tasks=1)
    assert MeasureSend.objects.get().course == course
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(action="measure_send.create")
    assert event.channel == "worker"


def test_the_remind_command_sweeps_course_schedules(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course_for(practice)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind", stdout=out)
    assert "1 questionnaire send from course schedules recorded." in out.getvalue()
    assert AuditEvent.objects.get(action="measure_send.create").channel == "cli"
