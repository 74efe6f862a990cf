"""Appointment reminders: due only inside the lead time, once (also with two workers at the same
moment), never for a cancelled session, again for a new time, by text message without an e-mail
address, and saying nothing but the practice and the time."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
import zoneinfo

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from kapcare.core.context import WorkContext, working_as
from kapcare.core.models import AuditEvent
from kapcare.courses import reminders, services
from kapcare.courses.models import Appointment, Room, State
from kapcare.courses.reminders import reminders_send_due, when_text
from kapcare.courses.tasks import send_appointment_reminders
from kapcare.courses.tests.helpers import (
    RECORDING_SMS,
    RecordingSms,
    appointment,
    at_once,
    in_hours,
    truly_concurrent,
)
from kapcare.courses.tests.test_services import course_for
from kapcare.testing.personas import Practice

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _settings(settings) -> None:
    settings.APPOINTMENT_REMINDER_HOURS = 24
    settings.PRACTICE_NAME = "Harbor Light KAP Clinic"
    settings.SMS_SENDER = RECORDING_SMS
    RecordingSms.sent.clear()


def remind(at: dt.datetime, capture) -> int:
    with capture(execute=True):
        return reminders_send_due(at=at)


def test_due_from_the_lead_time_until_the_start_and_sent_once(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    starts = in_hours(40)
    booked = appointment(practice, starts_at=starts)
    assert (
        remind(starts - 24 * HOUR - dt.timedelta(seconds=1), django_capture_on_commit_callbacks)
        == 0
    )
    assert mail.outbox == []
    at = starts - 24 * HOUR
    assert remind(at, django_capture_on_commit_callbacks) == 1
    assert remind(at + HOUR, django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [practice.client.email]
    booked.refresh_from_db()
    assert booked.reminder_sent_at == at
    event = AuditEvent.objects.get(action="appointment.remind")
    assert (event.actor, event.subject_public_id, event.client_public_id, event.detail) == (
        None,
        booked.public_id,
        practice.client.public_id,
        {"channel": "email"},
    )


def test_nothing_once_the_appointment_has_started(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    starts = in_hours(2)
    appointment(practice, starts_at=starts)
    assert remind(starts, django_capture_on_commit_callbacks) == 0
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 1


@pytest.mark.parametrize("state", [State.CANCELLED, State.HELD, State.NO_SHOW])
def test_no_reminder_unless_booked(
    practice: Practice, django_capture_on_commit_callbacks, state: str
) -> None:
    starts = in_hours(10)
    appointment(practice, starts_at=starts, state=state)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="appointment.remind").exists()


def test_a_lead_of_zero_sends_and_queues_nothing(
    practice: Practice, django_capture_on_commit_callbacks, settings
) -> None:
    settings.APPOINTMENT_REMINDER_HOURS = 0
    starts = in_hours(10)
    appointment(practice, starts_at=starts)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 0
    course = course_for(practice)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=in_hours(30),
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
    assert not DBTaskResult.objects.filter(
        task_path__endswith="send_appointment_reminders"
    ).exists()
    assert mail.outbox == []


def test_booking_queues_the_reminder_for_the_lead_time_before(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    starts = in_hours(50)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=starts,
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
    task = DBTaskResult.objects.get(task_path__endswith="send_appointment_reminders")
    assert task.run_after == starts - 24 * HOUR
    assert not DBTaskResult.objects.ready().filter(pk=task.pk).exists()  # not before its time


def test_the_lead_time_is_elapsed_hours_across_a_daylight_saving_change(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    # Los Angeles moves to PDT at 2:00 on 14 March 2027: noon that day is 19:00 UTC, and 24 hours
    # earlier is 11:00 PST on the 13th (not noon, which is 23 hours earlier).
    starts = dt.datetime(2027, 3, 14, 12, 0, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="consultation",
            starts_at=starts,
            minutes=60,
            clinician=practice.therapist,
        )
    task = DBTaskResult.objects.get(task_path__endswith="send_appointment_reminders")
    assert task.run_after == dt.datetime(2027, 3, 13, 19, 0, tzinfo=dt.UTC)


def test_a_booking_inside_the_lead_time_queues_it_to_run_now(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=in_hours(3),
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
    task = DBTaskResult.objects.get(task_path__endswith="send_appointment_reminders")
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()


def test_a_moved_appointment_gets_a_reminder_for_its_new_time(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = course_for(practice)
    old_start = in_hours(30)
    with django_capture_on_commit_callbacks(execute=True):
        booked = services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=old_start,
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
    assert remind(old_start - 20 * HOUR, django_capture_on_commit_callbacks) == 1
    new_start = old_start + 48 * HOUR
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(
            actor=practice.therapist,
            appointment=booked,
            starts_at=new_start,
            reason="Client asked to move it",
        )
    queued = DBTaskResult.objects.filter(task_path__endswith="send_appointment_reminders")
    assert sorted(t.run_after for t in queued) == [
        old_start - 24 * HOUR,
        new_start - 24 * HOUR,
    ]
    # The first reminder's time has come again for nothing: the appointment is later now.
    assert remind(old_start - 19 * HOUR, django_capture_on_commit_callbacks) == 0
    assert remind(new_start - 24 * HOUR, django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 2
    assert when_text(new_start) in mail.outbox[1].body
    assert when_text(old_start) not in mail.outbox[1].body


def test_a_reminder_read_before_a_move_is_not_sent_for_the_old_time(
    practice: Practice, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    starts = in_hours(10)
    booked = appointment(practice, starts_at=starts)
    real = reminders.reminders_due

    def read_then_moved(at: dt.datetime) -> list[Appointment]:
        found = real(at)
        # Between the read and the claim, someone moves the appointment.
        Appointment.objects.filter(pk=booked.pk).update(starts_at=starts + 3 * HOUR)
        return found

    monkeypatch.setattr(reminders, "reminders_due", read_then_moved)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_two_callers_that_both_read_it_as_due_send_it_once(
    practice: Practice, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """The worst interleaving, on any database: the first caller has read the appointment as due
    when the second sends its reminder; the first's claim then finds it taken."""
    starts = in_hours(10)
    appointment(practice, starts_at=starts)
    real = reminders.reminders_due
    second: list[int] = []

    def read_then_second_caller(at: dt.datetime) -> list[Appointment]:
        found = real(at)
        monkeypatch.setattr(reminders, "reminders_due", real)
        second.append(reminders_send_due(at=at))
        return found

    monkeypatch.setattr(reminders, "reminders_due", read_then_second_caller)
    first = remind(starts - HOUR, django_capture_on_commit_callbacks)
    assert (first, second) == (0, [1])
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="appointment.remind").count() == 1


def test_by_text_message_when_there_is_no_email(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    practice.client.email = ""
    practice.client.save()
    starts = in_hours(5)
    booked = appointment(practice, starts_at=starts)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 1
    assert mail.outbox == []
    assert RecordingSms.sent == [
        {
            "to": practice.client.phone,
            "text": RecordingSms.sent[0]["text"],
            "reference": str(booked.public_id),
        }
    ]
    assert when_text(starts) in RecordingSms.sent[0]["text"]
    assert AuditEvent.objects.get(action="appointment.remind").detail == {"channel": "sms"}


def test_by_text_message_when_the_client_prefers_it(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    practice.client.preferred_channel = "sms"
    practice.client.save()
    starts = in_hours(5)
    appointment(practice, starts_at=starts)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 1
    assert (len(mail.outbox), len(RecordingSms.sent)) == (0, 1)


def test_no_contact_details_nothing_sent_or_claimed(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    practice.client.email = ""
    practice.client.phone = ""
    practice.client.save()
    starts = in_hours(5)
    booked = appointment(practice, starts_at=starts)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 0
    booked.refresh_from_db()
    assert booked.reminder_sent_at is None
    assert (mail.outbox, RecordingSms.sent) == ([], [])


def test_the_message_says_who_and_when_and_nothing_clinical(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    room = Room.objects.create(name="Ketamine Suite")
    course = course_for(practice)
    starts = in_hours(6)
    appointment(practice, starts_at=starts, kind="dosing", course=course, room=room, second=True)
    assert remind(starts - HOUR, django_capture_on_commit_callbacks) == 1
    message = mail.outbox[0]
    text = f"{message.subject}\n{message.body}"
    assert message.subject == "Harbor Light KAP Clinic: appointment reminder"
    assert "Harbor Light KAP Clinic" in message.body
    assert when_text(starts) in message.body
    assert "reply" in message.body
    assert "call us" in message.body
    client = practice.client
    for private in (
        client.legal_given_names,
        client.legal_family_name,
        client.preferred_name,
        str(client.public_id),
        str(practice.therapist),
        str(practice.prescriber),
        "Ketamine",
        "ketamine",
        "dos",
        "Dos",
        "session",
    ):
        assert private not in text


def test_times_are_the_practice_zone_with_its_abbreviation() -> None:
    # The test practice is in America/Los_Angeles: PDT from March 8, 2026, PST before.
    assert when_text(dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC)) == (
        "Tuesday, March 10 at 9:30 AM PDT"
    )
    assert when_text(dt.datetime(2026, 1, 15, 21, 5, tzinfo=dt.UTC)) == (
        "Thursday, January 15 at 1:05 PM PST"
    )


def test_the_remind_command_sweeps_appointments(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    import io

    appointment(practice, starts_at=in_hours(3))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind", stdout=out)
    assert "1 appointment reminder sent." in out.getvalue()
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.get(action="appointment.remind").channel == "cli"


# ---------------------------------------------------------------------------------------------
# Several workers at once (committed data, real threads with their own connections)


@pytest.mark.django_db(transaction=True)
def test_sent_once_by_two_callers_at_the_same_moment(practice: Practice) -> None:
    starts = in_hours(3)
    appointment(practice, starts_at=starts)
    at = starts - HOUR
    results = at_once(2, lambda: reminders_send_due(at=at))
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="appointment.remind").count() == 1


@pytest.mark.django_db(transaction=True)
def test_sent_once_with_two_workers_running(practice: Practice, monkeypatch) -> None:
    """Two real workers each take one of two queued reminder tasks; both read the appointment as
    due before either claims it, and still one message goes."""
    appointment(practice, starts_at=in_hours(3))
    send_appointment_reminders.enqueue()
    send_appointment_reminders.enqueue()
    both_read = threading.Barrier(2, timeout=20)
    real = reminders.reminders_due

    def read_together(at: dt.datetime) -> list[Appointment]:
        found = real(at)
        both_read.wait()
        return found

    if truly_concurrent():
        monkeypatch.setattr(reminders, "reminders_due", read_together)

    def worker() -> None:
        with working_as(WorkContext(channel="worker")):
            Worker(
                queue_names=["default"],
                interval=0.01,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=1,
                worker_id=uuid.uuid4().hex,
                excluded_queue_names=[],
            ).run()

    at_once(2, worker)
    results = DBTaskResult.objects.filter(task_path__endswith="send_appointment_reminders")
    assert sorted((r.status, r.return_value) for r in results) == [
        ("SUCCESSFUL", 0),
        ("SUCCESSFUL", 1),
    ]
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(action="appointment.remind")
    assert event.channel == "worker"
