"""Shared by the reminder, measurement-send and calendar-feed tests."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from django.db import connection

from kapcare.core.time import now
from kapcare.courses.models import Appointment, Course, Room, State
from kapcare.testing.personas import Practice


class RecordingSms:
    """KAPCARE_SMS_SENDER for tests: keeps what would have been sent."""

    sent: ClassVar[list[dict[str, str]]] = []

    def send(self, *, to: str, text: str, reference: str) -> None:
        self.sent.append({"to": to, "text": text, "reference": reference})


RECORDING_SMS = "kapcare.courses.tests.helpers.RecordingSms"


def appointment(
    practice: Practice,
    *,
    starts_at: dt.datetime,
    kind: str = "preparation",
    course: Course | None = None,
    state: str = State.BOOKED,
    room: Room | None = None,
    second: bool = False,
    minutes: int = 60,
) -> Appointment:
    """An appointment written straight to the table (the booking rules are tested elsewhere)."""
    return Appointment.objects.create(
        client=practice.client,
        course=course,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        clinician=practice.prescriber if second else practice.therapist,
        second_clinician=practice.therapist if second else None,
        room=room,
        state=state,
    )


def in_hours(hours: float) -> dt.datetime:
    return now() + dt.timedelta(hours=hours)


def truly_concurrent() -> bool:
    """Whether threads can write to the test database at the same time. SQLite's in-memory test
    database (shared cache) fails a second writer at once with "database table is locked" where
    the file database kapcare runs on waits for the first (BEGIN IMMEDIATE with a busy timeout);
    so on SQLite the "concurrent" tests run their callers one after another, and PostgreSQL is
    where they really overlap."""
    return connection.vendor != "sqlite"


def at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` `count` times: in threads that start together, each with its own database
    connection (closed afterwards), where the test database allows it, else one after another.
    Returns what each returned, re-raising the first error."""
    if not truly_concurrent():
        return [work() for _ in range(count)]
    barrier = threading.Barrier(count, timeout=20)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results
