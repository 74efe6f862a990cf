"""Treatment courses in the demo practice: a client in each phase (preparation, induction,
maintenance, completed, discontinued), with the sessions a real course has had, some still to
come, one dose whose integration is not booked (at risk), one whose integration was missed, and
one course whose next dose is held back because the clearance was withdrawn.

Courses, consents and enrolments go through kapcare.courses.services as in real use. Sessions in
the past cannot be booked through the booking service (it refuses past times, as it should), so
the history of sessions is written as rows with the clinician as their author; the sessions still
to come are booked through the service, gates and conflicts included.

Deterministic for a given `now`: clients are chosen in creation order and every offset is fixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamRole, Client, ClientStatus
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses import services
from kapcare.courses.models import Appointment, Course, Kind, Room, State
from kapcare.courses.protocols import BY_CODE
from kapcare.measures.services import administration_record

ROOMS = ("Garden room", "Willow room", "Infusion bay")

PHQ9_BASELINE = {"q1": 2, "q2": 3, "q3": 2, "q4": 3, "q5": 1, "q6": 2, "q7": 2, "q8": 1, "q9": 0}
GAD7_BASELINE = {"q1": 2, "q2": 2, "q3": 2, "q4": 1, "q5": 1, "q6": 2, "q7": 1}


@dataclass
class Builder:
    client: Client
    therapist: User
    prescriber: User
    nurse: User | None
    rooms: dict[str, Room]
    now: dt.datetime

    def at(self, days: int, hour: int, minute: int = 0) -> dt.datetime:
        """`days` from today (negative: past) at a wall-clock time in the practice zone."""
        day = timezone.localdate(self.now, practice_zone()) + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=practice_zone())

    def ahead(self, days: int, hour: int) -> dt.datetime:
        """A future time for a booking: `days` after today by the clock (bookings in the past
        are refused, whatever moment the demo is built for)."""
        day = practice_today() + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=practice_zone())

    def course(self, protocol: str, days_ago: int, goals: str, modalities: list[str]) -> Course:
        today = min(practice_today(), timezone.localdate(self.now, practice_zone()))
        services.consent_record(
            actor=self.prescriber,
            client=self.client,
            route=protocol_route(protocol),
            signed_on=today - dt.timedelta(days=days_ago),
            form_version="KAP informed consent v3 (2026)",
        )
        course = services.course_start(
            actor=self.therapist,
            client=self.client,
            protocol=protocol,
            started_on=today - dt.timedelta(days=days_ago),
            goals=goals,
            modalities=modalities,
        )
        for instrument, answers in (("phq9", PHQ9_BASELINE), ("gad7", GAD7_BASELINE)):
            administration_record(
                actor=self.therapist,
                client=self.client,
                instrument=instrument,
                answers=answers,
                completed_at=min(self.at(-days_ago, 12), self.now),
            )
        return course

    def past(
        self,
        course: Course,
        kind: str,
        start: dt.datetime,
        minutes: int,
        state: str = State.HELD,
        reason: str = "",
    ) -> Appointment:
        dosing = kind == Kind.DOSING
        lead = self.prescriber if dosing or kind == Kind.PRESCRIBER_VISIT else self.therapist
        return Appointment.objects.create(
            client=self.client,
            course=course,
            kind=kind,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=minutes),
            clinician=(self.nurse or lead) if dosing else lead,
            second_clinician=self.therapist if dosing else None,
            room=self.rooms["Garden room"] if dosing else None,
            state=state,
            state_reason=reason,
            created_by=lead,
            updated_by=lead,
        )

    def book(self, course: Course, kind: str, start: dt.datetime, minutes: int) -> Appointment:
        dosing = kind == Kind.DOSING
        return services.appointment_book(
            actor=self.prescriber if dosing else self.therapist,
            client=self.client,
            course=course,
            kind=kind,
            starts_at=start,
            minutes=minutes,
            clinician=(self.nurse or self.prescriber) if dosing else self.therapist,
            second_clinician=self.therapist if dosing else None,
            room=self.rooms["Willow room"] if dosing else None,
        )

    def preparation(self, course: Course, days_ago: list[int]) -> None:
        for days in days_ago:
            self.past(course, Kind.PREPARATION, self.at(-days, 10), 60)

    def dose_with_integration(self, course: Course, days_ago: int, *, held: bool = True) -> None:
        dose = self.past(course, Kind.DOSING, self.at(-days_ago, 9), 180)
        if held:
            self.past(course, Kind.INTEGRATION, self.at(-days_ago + 1, 15), 60)
        self.dose_questionnaires(dose.starts_at, days_ago)

    def dose_questionnaires(self, dose_at: dt.datetime, days_ago: int) -> None:
        """The PHQ-9s the schedule asks for around a dose: the morning of it, then a day and three
        days after (scores easing a little each time). One in four doses misses its 72-hour one,
        so the plan has something overdue, as real plans do."""
        for hours, drop in ((-2, 0), (26, 2), (74, 3)):
            when = dose_at + dt.timedelta(hours=hours)
            if when > self.now or (hours == 74 and days_ago % 4 == 1):
                continue
            answers = dict(PHQ9_BASELINE)
            for item in ("q1", "q2", "q4")[:drop]:
                answers[item] = max(0, answers[item] - 1)
            administration_record(
                actor=None,
                client=self.client,
                instrument="phq9",
                answers=answers,
                completed_at=when,
                self_report=True,
            )


def protocol_route(code: str) -> str:
    return BY_CODE[code].route


def _team(client: Client) -> tuple[User, User, User | None] | None:
    by_role: dict[str, User] = {}
    for member in client.care_team.filter(ended_at__isnull=True).select_related("staff"):
        by_role.setdefault(member.role, member.staff)
    therapist = by_role.get(CareTeamRole.PRIMARY_THERAPIST)
    prescriber = by_role.get(CareTeamRole.PRESCRIBER)
    if therapist is None or prescriber is None:
        return None
    return therapist, prescriber, by_role.get(CareTeamRole.NURSE)


def _builder(client: Client, rooms: dict[str, Room], now: dt.datetime) -> Builder | None:
    team = _team(client)
    if team is None:
        return None
    therapist, prescriber, nurse = team
    return Builder(client, therapist, prescriber, nurse, rooms, now)


def _induction_at_risk(b: Builder) -> Course:
    """Induction: 5 preparations, 3 doses; the last dose, yesterday, has no integration booked."""
    course = b.course(
        "kap_sublingual", 40, "Feel less numb; return to work.", ["emdr", "breathwork"]
    )
    b.preparation(course, [38, 34, 31, 27, 24])
    services.course_change_phase(actor=b.therapist, course=course, phase="induction")
    b.dose_with_integration(course, 8)
    b.dose_with_integration(course, 4)
    b.past(course, Kind.DOSING, b.at(-1, 9), 180)  # integration not booked yet: at risk
    b.book(course, Kind.DOSING, b.ahead(3, 9), 180)
    return course


def _maintenance_with_missed(b: Builder) -> Course:
    """Maintenance after a full induction; one integration was missed (client did not come)."""
    course = b.course(
        "kap_intramuscular", 80, "Steadier mood; grieve my father.", ["movement", "body_awareness"]
    )
    b.preparation(course, [78, 74, 71, 67, 64, 60])
    services.course_change_phase(actor=b.therapist, course=course, phase="induction")
    for days in (50, 46, 43, 39, 36):
        b.dose_with_integration(course, days)
    b.past(course, Kind.DOSING, b.at(-10, 9), 180)
    b.past(course, Kind.INTEGRATION, b.at(-9, 15), 60, State.NO_SHOW)
    services.course_change_phase(actor=b.therapist, course=course, phase="maintenance")
    b.book(course, Kind.DOSING, b.ahead(18, 9), 180)
    b.book(course, Kind.INTEGRATION, b.ahead(19, 15), 60)
    b.book(course, Kind.PRESCRIBER_VISIT, b.ahead(5, 14), 30)
    return course


def _preparation(b: Builder) -> Course:
    """Preparation: 2 of 5 sessions held, 3 booked; the dose gates show what is missing."""
    course = b.course(
        "kap_sublingual",
        12,
        "Understand the grief under the depression.",
        ["emdr", "body_awareness"],
    )
    b.preparation(course, [10, 3])
    for days in (2, 6, 9):
        b.book(course, Kind.PREPARATION, b.ahead(days, 11), 60)
    return course


def _held_back(b: Builder) -> Course:
    """Induction, held back: the clearance was withdrawn (a new MAOI), so the screening gate
    stops the next dose until a prescriber reviews the screen."""
    course = b.course("iv_racemic", 30, "Fewer days in bed.", [])
    b.preparation(course, [28])
    services.course_change_phase(actor=b.therapist, course=course, phase="induction")
    b.dose_with_integration(course, 12)
    b.dose_with_integration(course, 9)
    return course


def _completed(b: Builder) -> Course:
    course = b.course("kap_sublingual", 200, "Come back to myself.", ["emdr"])
    b.preparation(course, [198, 194, 190, 187, 184])
    services.course_change_phase(actor=b.therapist, course=course, phase="induction")
    for days in (175, 171, 168, 164, 161, 157):
        b.dose_with_integration(course, days)
    services.course_change_phase(actor=b.therapist, course=course, phase="completed")
    return course


def _discontinued(b: Builder) -> Course:
    course = b.course("esketamine", 60, "Get through the winter.", [])
    services.rems_enroll(
        actor=b.prescriber,
        client=b.client,
        enrolled_on=practice_today() - dt.timedelta(days=58),
        reference="DEMO-REMS-0007",
    )
    b.preparation(course, [58])
    services.course_change_phase(actor=b.therapist, course=course, phase="induction")
    b.dose_with_integration(course, 50)
    b.past(
        course, Kind.DOSING, b.at(-47, 9), 120, State.CANCELLED, "Blood pressure 168/102 on arrival"
    )
    services.course_change_phase(
        actor=b.prescriber,
        course=course,
        phase="discontinued",
        reason="Blood pressure repeatedly above the hold threshold; referred to primary care.",
    )
    return course


def create_course_demo(*, screened: dict[str, Client], now: dt.datetime) -> dict[str, Course]:
    """Courses for the screened demo clients (one per phase) and two other clients (a completed
    course and a discontinued one). Returns each scenario's course."""
    rooms = {name: Room.objects.get_or_create(name=name)[0] for name in ROOMS}
    plan: list[tuple[str, Client | None, Callable[[Builder], Course]]] = [
        ("induction_at_risk", screened.get("cleared"), _induction_at_risk),
        ("maintenance", screened.get("cleared_with_conditions"), _maintenance_with_missed),
        ("preparation", screened.get("review_cleared"), _preparation),
        ("held_back", screened.get("invalidated"), _held_back),
    ]
    used = [c.pk for c in screened.values()]
    others = list(
        Client.objects.filter(status__in=(ClientStatus.DISCHARGED, ClientStatus.MAINTENANCE))
        .exclude(pk__in=used)
        .order_by("id")[:2]
    )
    extra: tuple[tuple[str, Callable[[Builder], Course]], ...] = (
        ("completed", _completed),
        ("discontinued", _discontinued),
    )
    built: dict[str, Course] = {}
    for (name, build), other in zip(extra, others, strict=False):
        plan.append((name, other, build))
    for name, client, build in plan:
        if client is None:
            continue
        builder = _builder(client, rooms, now)
        if builder is None:
            continue
        built[name] = build(builder)
    return built
