"""Records for the progress tests: courses, scores, doses and integration sessions, made
directly (the services that make them are tested in their own apps)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.utils.timezone import make_aware

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Appointment, Course, Phase, State
from kapcare.dosing.models import Dose, DosingSession
from kapcare.measures.models import Administration


def days_ago(days: float, *, at: dt.datetime | None = None) -> dt.datetime:
    return (at or now()) - dt.timedelta(days=days)


def start_of_day(days: int) -> dt.datetime:
    """The start of the practice day `days` ago."""
    day = now().astimezone(practice_zone()).date() - dt.timedelta(days=days)
    return make_aware(dt.datetime.combine(day, dt.time()), practice_zone())


def course(
    client: Client,
    *,
    started_days_ago: int,
    phase: str = Phase.INDUCTION,
    protocol: str = "kap_sublingual",
) -> Course:
    started = now().astimezone(practice_zone()).date() - dt.timedelta(days=started_days_ago)
    return Course.objects.create(
        client=client,
        protocol=protocol,
        phase=phase,
        started_on=started,
        ended_on=started + dt.timedelta(days=30) if phase == Phase.COMPLETED else None,
    )


def score(client: Client, total: int | None, at: dt.datetime, instrument: str = "phq9") -> None:
    Administration.objects.create(
        client=client,
        instrument=instrument,
        source="score_entry",
        completed_at=at,
        answers={},
        total=total,
        complete=total is not None,
        scoring_version="test",
    )


def corrected_score(
    client: Client, wrong: int, right: int, at: dt.datetime, instrument: str = "phq9"
) -> None:
    """A score entered as `wrong`, then corrected to `right`: only the correction is current."""
    fields: dict[str, Any] = {
        "client": client,
        "instrument": instrument,
        "source": "score_entry",
        "completed_at": at,
        "answers": {},
        "complete": True,
        "scoring_version": "test",
    }
    original = Administration.objects.create(**fields, total=wrong)
    Administration.objects.create(
        **fields, total=right, replaces=original, correction_reason="Typed the wrong total."
    )


def dose(
    course: Course,
    nurse: User,
    therapist: User,
    *,
    at: dt.datetime,
    mg: str = "200",
    with_dose: bool = True,
    state: str = State.HELD,
) -> Appointment:
    """A dosing appointment of two hours from `at`, its session and (by default) the dose."""
    appointment = Appointment.objects.create(
        client=course.client,
        course=course,
        kind="dosing",
        starts_at=at,
        ends_at=at + dt.timedelta(hours=2),
        clinician=nurse,
        second_clinician=therapist,
        state=state,
    )
    session = DosingSession.objects.create(
        appointment=appointment, client=course.client, course=course, state="discharged"
    )
    if with_dose:
        Dose.objects.create(
            session=session,
            route="sublingual",
            product="Ketamine HCl troche 100 mg",
            lot="K2611A",
            expires_on=dt.date(2030, 1, 1),
            dose_mg=decimal.Decimal(mg),
            given_at=at + dt.timedelta(minutes=10),
            given_by=nurse,
            therapist_present=therapist,
        )
    return appointment


def integration(
    course: Course, therapist: User, *, at: dt.datetime, state: str = State.HELD
) -> Appointment:
    return Appointment.objects.create(
        client=course.client,
        course=course,
        kind="integration",
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=50),
        clinician=therapist,
        state=state,
    )
