"""Background work for courses (run by `kapcare worker`): appointment reminders and the sending of
measurement schedules, each queued to run at the moment it is due.

A queued task only wakes the worker at that moment: it sends whatever is due then, and the
claims inside (kapcare.courses.reminders, kapcare.courses.measure_sends) make a task that runs
twice, or alongside `kapcare remind`, send nothing twice. A task that finds nothing due (the
appointment moved or was cancelled) does nothing. `kapcare remind`, run hourly, catches anything
whose task was never queued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.tasks import Task, task

from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now
from kapcare.courses.measure_sends import dose_openings, measures_send_due, start_openings
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.courses.reminders import reminder_lead, reminders_send_due
from kapcare.courses.rules import utc


@task()
def send_appointment_reminders() -> int:
    with working_as(WorkContext(channel="worker")):
        return reminders_send_due(at=now())


@task()
def send_due_measures(course_id: str | None = None) -> int:
    with working_as(WorkContext(channel="worker")):
        return measures_send_due(at=now(), course_ids=None if course_id is None else [course_id])


def _enqueue_at(job: Task[Any, int], when: dt.datetime, *args: Any) -> None:
    """Queue `job` to run at `when` (at once when that has passed)."""
    if when > now() and job.get_backend().supports_defer:
        job.using(run_after=when).enqueue(*args)
    else:
        job.enqueue(*args)


def appointment_changed(appointment: Appointment) -> None:
    """Called inside the transaction that booked or moved an appointment: once it commits, queue
    the client's reminder for its lead time before the start, and for a dose the measurement
    sends at the openings of the windows before and after it."""
    lead = reminder_lead()
    booked = appointment.state == State.BOOKED
    # In UTC: "24 hours before" is elapsed time, also across a daylight-saving change.
    reminder_at = utc(appointment.starts_at) - lead if lead is not None and booked else None
    openings: list[dt.datetime] = []
    course: Course | None = appointment.course
    if appointment.kind == Kind.DOSING and course is not None:
        openings = dose_openings(course, appointment.starts_at)
    course_id = str(course.public_id) if course is not None else None

    def enqueue() -> None:
        if reminder_at is not None:
            _enqueue_at(send_appointment_reminders, reminder_at)
        for opens_at in openings:
            _enqueue_at(send_due_measures, opens_at, course_id)

    # Robust: a queue that cannot be written to must not fail a booking that is already saved;
    # the error is logged and `kapcare remind` sends what the lost task would have.
    if reminder_at is not None or openings:
        transaction.on_commit(enqueue, robust=True)


def course_started(course: Course) -> None:
    """Called inside the transaction that started a course: once it commits, queue the sends of
    the windows that open at its start."""
    openings = start_openings(course)
    course_id = str(course.public_id)

    def enqueue() -> None:
        for opens_at in openings:
            _enqueue_at(send_due_measures, opens_at, course_id)

    transaction.on_commit(enqueue, robust=True)
