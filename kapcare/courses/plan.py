"""Reads for the course plan: what has happened, what is scheduled, what is due and what is
overdue, each dose against the integration rule, and the integration-at-risk queue. The clinical
arithmetic is in the pure rules (kapcare.courses.rules and .schedule); this module gathers the
records they need in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils.timezone import make_aware

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.core.time import practice_zone
from kapcare.courses import measure_sends, rules, schedule
from kapcare.courses.measure_sends import course_started_at
from kapcare.courses.models import Appointment, Course, Kind, Phase, State
from kapcare.courses.protocols import SETTINGS, Protocol
from kapcare.courses.selectors import course_gates
from kapcare.measures.models import Administration

LIVE = (State.BOOKED, State.HELD)


# The session kinds whose length the protocol sets; others are booked with a length given.
LENGTH_SETTING: dict[str, str] = {
    Kind.PREPARATION.value: "prep_minutes",
    Kind.DOSING.value: "dosing_minutes",
    Kind.INTEGRATION.value: "integration_minutes",
}


def protocol_minutes(course: Course, kind: str) -> int | None:
    """The session length the course's pinned protocol sets for this kind, if it sets one."""
    setting = LENGTH_SETTING.get(kind)
    return int(getattr(course.plan, setting).value) if setting else None


def course_events(course: Course, appointments: Iterable[Appointment]) -> schedule.CourseEvents:
    """The events the measurement schedule hangs on, read as the sending worker reads them
    (kapcare.courses.measure_sends.course_events), so the plan shows what is sent."""
    return measure_sends.course_events(
        course,
        [(a.starts_at, a.state) for a in appointments if a.kind == Kind.DOSING and a.state in LIVE],
    )


def completions(client_id: int, since: dt.datetime) -> dict[str, list[dt.datetime]]:
    """When each instrument was completed for the client since `since`, in one query."""
    found: dict[str, list[dt.datetime]] = defaultdict(list)
    rows = (
        Administration.objects.current()
        .filter(client_id=client_id, completed_at__gte=since, total__isnull=False)
        .values_list("instrument", "completed_at")
    )
    for instrument, completed_at in rows:
        found[instrument].append(completed_at)
    return found


@dataclass(frozen=True)
class DoseIntegration:
    dose: Appointment
    opens_at: dt.datetime
    closes_at: dt.datetime
    state: str
    sessions: tuple[Appointment, ...]

    @property
    def label(self) -> str:
        return rules.INTEGRATION_LABELS[self.state]

    @property
    def needs_booking(self) -> bool:
        return self.state == rules.AT_RISK


def integrations(
    protocol: Protocol, appointments: Sequence[Appointment], now: dt.datetime
) -> list[DoseIntegration]:
    """Each live dose of a course with its integration window and state."""
    sessions = [a for a in appointments if a.kind == Kind.INTEGRATION]
    hours = protocol.integration_within_hours.value
    found = []
    for dose in appointments:
        if dose.kind != Kind.DOSING or dose.state not in LIVE:
            continue
        opens, closes = rules.integration_window(dose.ends_at, hours)
        inside = tuple(s for s in sessions if opens <= s.starts_at <= closes)
        state = rules.integration_state(
            dose.ends_at,
            [rules.Session(starts_at=s.starts_at, state=s.state) for s in inside],
            hours=hours,
            needed=protocol.integrations_per_dose.value,
            now=now,
        )
        found.append(DoseIntegration(dose, opens, closes, state, inside))
    return found


@dataclass
class CoursePlan:
    course: Course
    protocol: Protocol
    past: list[Appointment]
    upcoming: list[Appointment]
    dues: list[tuple[schedule.Due, str]]
    doses: list[DoseIntegration]
    gates: list[rules.Gate]
    prep_held: int
    doses_held: int
    review_due: bool
    notes: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> list[schedule.Due]:
        return [due for due, state in self.dues if state == schedule.OVERDUE]

    @property
    def due_now(self) -> list[schedule.Due]:
        return [due for due, state in self.dues if state == schedule.DUE]

    @property
    def at_risk(self) -> list[DoseIntegration]:
        return [d for d in self.doses if d.state in (rules.AT_RISK, rules.MISSED)]


def course_appointments(course: Course) -> list[Appointment]:
    return list(
        Appointment.objects.filter(course=course)
        # A dose's session record (kapcare.dosing) by its reverse relation: the plan shows
        # the session's state and dose without the courses app depending on dosing.
        .select_related(
            "clinician", "second_clinician", "room", "dosing_session", "dosing_session__dose"
        )
        .order_by("starts_at", "id")
    )


def course_plan(course: Course, *, now: dt.datetime) -> CoursePlan:
    protocol = course.plan
    appointments = course_appointments(course)
    events = course_events(course, appointments)
    dues = schedule.assess(
        schedule.due_list(events, measure_sends.course_rules(course)),
        completions(course.client_id, course_started_at(course)),
        now,
    )
    prep_held = sum(1 for a in appointments if a.kind == Kind.PREPARATION and a.state == State.HELD)
    doses_held = sum(1 for a in appointments if a.kind == Kind.DOSING and a.state == State.HELD)
    return CoursePlan(
        course=course,
        protocol=protocol,
        past=[a for a in appointments if a.state != State.BOOKED or a.ends_at < now],
        upcoming=[a for a in appointments if a.state == State.BOOKED and a.ends_at >= now],
        dues=dues,
        doses=integrations(protocol, appointments, now),
        gates=course_gates(course) if course.is_open else [],
        prep_held=prep_held,
        doses_held=doses_held,
        # The review closes the induction series (e.g. the esketamine label's week-4 evaluation).
        review_due=course.phase == Phase.INDUCTION
        and doses_held >= protocol.review_after_doses.value,
    )


def working_hours() -> tuple[dt.time, dt.time]:
    return (
        dt.time.fromisoformat(settings.SCHEDULE_DAY_STARTS),
        dt.time.fromisoformat(settings.SCHEDULE_DAY_ENDS),
    )


SLOTS_SHOWN, SLOTS_PER_DAY = 6, 2


def proposed_slots(
    dose: Appointment, therapist: User, protocol: Protocol, *, now: dt.datetime
) -> list[dt.datetime]:
    """Free integration starts for the therapist inside the dose's window, from now on, at most
    two a day so that the choice spans the window (UTC, earliest first)."""
    opens, closes = rules.integration_window(dose.ends_at, protocol.integration_within_hours.value)
    busy = Appointment.objects.filter(
        state=State.BOOKED, starts_at__lt=closes, ends_at__gt=opens
    ).filter(clinician=therapist) | Appointment.objects.filter(
        state=State.BOOKED, starts_at__lt=closes, ends_at__gt=opens, second_clinician=therapist
    )
    day_starts, day_ends = working_hours()
    return rules.proposed_integration_slots(
        dose.ends_at,
        hours=protocol.integration_within_hours.value,
        minutes=protocol.integration_minutes.value,
        busy=list(busy.values_list("starts_at", "ends_at")),
        day_starts=day_starts,
        day_ends=day_ends,
        zone=practice_zone(),
        limit=SLOTS_SHOWN,
        not_before=now,
        per_day=SLOTS_PER_DAY,
    )


def integration_therapist(dose: Appointment) -> User:
    """Who holds the integration: the therapist of the dosing dyad."""
    return dose.second_clinician or dose.clinician


# ---------------------------------------------------------------------------------------------
# The integration-at-risk queue

MISSED_SHOWN_FOR = dt.timedelta(days=14)  # a missed integration stays on the queue this long
OPEN_PHASES = (Phase.PREPARATION, Phase.INDUCTION, Phase.MAINTENANCE)
# The longest integration window a practice may sign off (the parameter's maximum).
WINDOW_LIMIT_HOURS = next(
    high for name, _, _, _, high in SETTINGS if name == "integration_within_hours"
)


@dataclass(frozen=True)
class RiskRow:
    client_id: str
    client_name: str
    course: Course
    item: DoseIntegration


def integration_at_risk(user: User, *, now: dt.datetime) -> list[RiskRow]:
    """Doses of open courses, among the clients `user` may see, whose integration is not booked
    inside the window, or was not held in it (shown for two weeks after the window closed). One
    query however many courses there are: it looks back as far as the longest window a practice
    may sign off, and each course's own window decides."""
    longest = dt.timedelta(hours=WINDOW_LIMIT_HOURS)
    appointments = (
        Appointment.objects.filter(
            kind__in=(Kind.DOSING, Kind.INTEGRATION),
            course__phase__in=OPEN_PHASES,
            course__client__in=visible_clients(user),
            starts_at__gte=now - 2 * longest - MISSED_SHOWN_FOR,
        )
        .select_related("course", "course__client", "clinician", "second_clinician", "room")
        .order_by("starts_at", "id")
    )
    by_course: dict[Course, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        if appointment.course is not None:
            by_course[appointment.course].append(appointment)
    rows = []
    for course, items in by_course.items():
        for item in integrations(course.plan, items, now):
            recent = item.closes_at >= now - MISSED_SHOWN_FOR
            if item.state in (rules.AT_RISK, rules.MISSED) and recent:
                rows.append(
                    RiskRow(str(course.client.public_id), course.client.display_name, course, item)
                )
    return sorted(rows, key=lambda row: row.item.closes_at)


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    client_id: str | None  # None when the viewer may not see the client
    client_name: str


def todays_appointments(user: User) -> list[DayRow]:
    """The user's sessions today in the practice zone (as either clinician), not cancelled; the
    client is named only to someone who may see them. Two queries."""
    today = dt.datetime.now(practice_zone()).date()
    start = make_aware(dt.datetime.combine(today, dt.time()), practice_zone())
    end = start.astimezone(dt.UTC) + dt.timedelta(hours=24)
    mine = Appointment.objects.filter(
        Q(clinician=user) | Q(second_clinician=user),
        starts_at__gte=start,
        starts_at__lt=end,
    ).exclude(state=State.CANCELLED)
    rows = list(mine.select_related("client", "room", "clinician", "second_clinician"))
    visible = set(
        visible_clients(user)
        .filter(pk__in=[a.client_id for a in rows])
        .values_list("pk", flat=True)
    )
    return [
        DayRow(a, str(a.client.public_id), a.client.display_name)
        if a.client_id in visible
        else DayRow(a, None, "Booked")
        for a in rows
    ]
