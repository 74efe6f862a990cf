"""Day and week calendars of one clinician or one room: the reads behind the schedule pages and
`GET /api/v1/schedule`, and the pure helpers that lay appointments out in days.

Days are dates in the practice's zone. A range runs from midnight of its first day to midnight
after its last, each midnight found in the zone, so a week with a daylight-saving change is 167
or 169 hours long and every appointment lands in the column of the day it starts on the clock.

Which client an appointment is for is shown only to someone who may see that client
(`visible_clients`); anyone else sees that the time is booked, the kind of session and the time.
The names of the clients one may see come in the same single query that decides which those are,
so nothing about the others is even loaded.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.db.models import Q, QuerySet

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.courses.models import Appointment, Room, State

WEEK, DAY = "week", "day"
MAX_RANGE_DAYS = 92  # the longest range one read returns (the API's limit; pages show 1 or 7)


# ---------------------------------------------------------------------------------------------
# Pure: days and ranges


def week_days(day: dt.date) -> list[dt.date]:
    """Monday to Sunday of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]


def days_of(day: dt.date, view: str) -> list[dt.date]:
    return week_days(day) if view == WEEK else [day]


def midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The start of `day` on the practice's clock, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def day_range(
    first: dt.date, last: dt.date, zone: zoneinfo.ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """From midnight of `first` to midnight after `last`, in the zone (so not always 24 h a day),
    as UTC instants."""
    if last < first:
        raise ValueError("the range ends before it starts")
    return (
        midnight(first, zone).astimezone(dt.UTC),
        midnight(last + dt.timedelta(days=1), zone).astimezone(dt.UTC),
    )


def step(day: dt.date, view: str, direction: int) -> dt.date:
    """The same weekday a week on (or back), or the next (previous) day."""
    return day + dt.timedelta(days=(7 if view == WEEK else 1) * direction)


# ---------------------------------------------------------------------------------------------
# Reads


def _in_range(
    appointments: QuerySet[Appointment],
    start: dt.datetime,
    end: dt.datetime,
    include_cancelled: bool,
) -> QuerySet[Appointment]:
    appointments = appointments.filter(starts_at__lt=end, ends_at__gt=start)
    if not include_cancelled:
        appointments = appointments.exclude(state=State.CANCELLED)
    # Everything a calendar shows of an appointment, in this one query; the client is left out
    # on purpose (see `visible_names`).
    return appointments.select_related("clinician", "second_clinician", "room").order_by(
        "starts_at", "id"
    )


def clinician_appointments(
    clinician: User, start: dt.datetime, end: dt.datetime, *, include_cancelled: bool = False
) -> QuerySet[Appointment]:
    """Appointments overlapping [start, end) that the person holds or shares as second
    clinician, in order."""
    mine = Q(clinician=clinician) | Q(second_clinician=clinician)
    return _in_range(Appointment.objects.filter(mine), start, end, include_cancelled)


def room_appointments(
    room: Room, start: dt.datetime, end: dt.datetime, *, include_cancelled: bool = False
) -> QuerySet[Appointment]:
    return _in_range(Appointment.objects.filter(room=room), start, end, include_cancelled)


def visible_names(viewer: User, appointments: Iterable[Appointment]) -> dict[int, Client]:
    """The clients of these appointments that `viewer` may see, by primary key: one query."""
    ids = {appointment.client_id for appointment in appointments}
    if not ids:
        return {}
    return {client.pk: client for client in visible_clients(viewer).filter(pk__in=ids)}


def calendar_staff() -> QuerySet[User]:
    """Whose calendars there are to choose from: active therapists, prescribers and nurses."""
    return User.objects.filter(is_active=True).filter(
        Q(is_therapist=True) | Q(is_prescriber=True) | Q(is_nurse=True)
    )


def record_schedule_read(
    *,
    viewer: User,
    of: str,
    subject: User | Room,
    start: dt.datetime,
    end: dt.datetime,
    entries: Sequence[Entry],
) -> None:
    """One audit row per calendar shown: whose, which range, and the clients it named."""
    named = sorted({str(entry.client.public_id) for entry in entries if entry.client})
    audit.record_read(
        actor=viewer,
        action="schedule.read",
        subject_type=of,
        subject_public_id=subject.public_id,
        detail={
            "from": start,
            "to": end,
            "shown": len(entries),
            "clients": named,
        },
    )


# ---------------------------------------------------------------------------------------------
# Pure: laying appointments out in days


@dataclass(frozen=True)
class Entry:
    appointment: Appointment
    starts: dt.datetime  # in the practice's zone
    ends: dt.datetime
    client: Client | None  # None: the viewer may not see who it is for
    from_earlier: bool = False  # began before the first day shown (ran past midnight into it)

    @property
    def cancelled(self) -> bool:
        return self.appointment.state == State.CANCELLED

    @property
    def time_label(self) -> str:
        start, end = f"{self.starts:%H:%M}", f"{self.ends:%H:%M}"
        if self.from_earlier:
            start = f"{self.starts:%a} {start}"
        elif self.ends.date() != self.starts.date():
            end = f"{self.ends:%a} {end}"
        return f"{start}–{end}"


@dataclass(frozen=True)
class Day:
    date: dt.date
    entries: list[Entry]
    is_today: bool


def entries(
    appointments: Iterable[Appointment], clients: dict[int, Client], zone: zoneinfo.ZoneInfo
) -> list[Entry]:
    return [
        Entry(
            appointment=appointment,
            starts=appointment.starts_at.astimezone(zone),
            ends=appointment.ends_at.astimezone(zone),
            client=clients.get(appointment.client_id),
        )
        for appointment in appointments
    ]


def lay_out(found: Sequence[Entry], dates: Sequence[dt.date], today: dt.date) -> list[Day]:
    """The entries in the column of the date each starts on in the practice's zone; one that
    began before the first date (a session running past midnight) goes in the first column."""
    columns: dict[dt.date, list[Entry]] = {date: [] for date in dates}
    first = dates[0]
    # Sorted by the instant (the UTC value), not by the local reading: two times in one zone
    # compare by their clock reading, which repeats in the hour a daylight-saving change repeats.
    for entry in sorted(
        found, key=lambda e: (e.appointment.starts_at.astimezone(dt.UTC), e.appointment.pk or 0)
    ):
        day = entry.starts.date()
        if day < first:
            day, entry = first, replace(entry, from_earlier=True)
        if day in columns:
            columns[day].append(entry)
    return [Day(date=date, entries=columns[date], is_today=date == today) for date in dates]
