"""A charted esketamine session for the REMS form tests: pre-dose check, dose, the label's
blood pressures, scores, a side effect, an adverse event and medicines, then discharged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kapcare.clients.models import Client
from kapcare.core.time import now, practice_today
from kapcare.courses import services as course_services
from kapcare.courses.models import Appointment, Course, Room
from kapcare.courses.tests.test_services import ready_for_dosing
from kapcare.dosing import services
from kapcare.dosing.models import DosingSession, SessionState
from kapcare.dosing.tests.test_pre_check_and_dose import GOOD
from kapcare.medications.models import Medication
from kapcare.screening.models import CurrentMedication
from kapcare.stock.tests.helpers import make_location, make_lot, receive
from kapcare.testing.personas import Practice

LOT = "ES-7731Q"


def minutes(start: dt.datetime, count: int) -> dt.datetime:
    return start + dt.timedelta(minutes=count)


def open_session(
    practice: Practice,
    *,
    starts_at: dt.datetime | None = None,
    protocol: str = "esketamine",
    enrol: bool = True,
) -> DosingSession:
    """An opened dosing session of the client's course (made ready for dosing the first time),
    starting at `starts_at`."""
    course = Course.objects.filter(client=practice.client, protocol=protocol).first()
    if course is not None:  # a later session of the same course
        enrol = False
    else:
        course = ready_for_dosing(practice, protocol)
    if enrol and protocol == "esketamine":
        course_services.rems_enroll(
            actor=practice.prescriber,
            client=practice.client,
            enrolled_on=practice_today() - dt.timedelta(days=30),
            reference="PT-448812",
        )
    start = starts_at or now()
    appointment = Appointment.objects.create(
        client=practice.client,
        course=course,
        kind="dosing",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2, minutes=30),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name=f"Bay {Appointment.objects.count()}"),
    )
    return services.session_open(actor=practice.nurse, appointment=appointment)


def discharge(session: DosingSession, practice: Practice, at: dt.datetime) -> DosingSession:
    """The discharge service is not written yet: the test sets the session's discharge fields
    directly, as that service will."""
    session.state = SessionState.DISCHARGED
    session.discharged_at = at
    session.discharged_by = practice.nurse
    session.save(update_fields=["state", "discharged_at", "discharged_by", "updated_at"])
    return session


def charted_session(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, *, discharged: bool = True
) -> DosingSession:
    """A realistic esketamine session that started about three hours ago: 56 mg (2 devices)
    from lot ES-7731Q, BP 128/82 before, 152/94 at 40 min, 136/84 before discharge at 2 h 5 min;
    MOAA/S down to 3 and back to 5; CADSS 23-item up to 18 and down to 2; SpO2 down to 93;
    nausea; a vasovagal adverse event; sertraline and lorazepam on the list, an opioid today."""
    # The hold level behind the BP alerts depends on age (150 systolic over 65): a fixed age
    # under 65, so 144/88 is above the 140/90 level whatever birth date the factory drew.
    Client.objects.filter(pk=practice.client.pk).update(date_of_birth=dt.date(1985, 6, 1))
    practice.client.refresh_from_db()
    start = now() - dt.timedelta(hours=3)
    session = open_session(practice, starts_at=start)
    safe = make_location()
    receive(practice, make_lot(LOT, drug="esketamine", product="Spravato 28 mg device"), safe, 560)
    # The pre-dose check writes its readings at the service's clock: set it to the session's
    # start so the pre-dose reading comes before the dose.
    with monkeypatch.context() as clock:
        clock.setattr(services, "now", lambda: minutes(start, 5))
        session = services.pre_check_record(
            actor=practice.nurse,
            session=session,
            **(
                GOOD
                | {
                    "weight_kg": None,
                    "minutes_since_food": 180,
                    "minutes_since_liquid": 45,
                    "medicines_today": ["opioid"],
                }
            ),
        )
    assert session.pre_check_passed, session.pre_check["checks"]
    dose_at = minutes(start, 10)
    services.dose_record(
        actor=practice.prescriber,
        session=session,
        product="Spravato 28 mg device",
        lot=LOT,
        expires_on=practice_today() + dt.timedelta(days=300),
        dose_mg=Decimal("56"),
        therapist_present=practice.therapist,
        given_at=dose_at,
    )
    nurse = practice.nurse
    services.vitals_record(
        actor=nurse,
        session=session,
        taken_at=minutes(dose_at, 20),
        systolic=140,
        diastolic=88,
        spo2=96,
        respiratory_rate=14,
    )
    wrong = services.vitals_record(
        actor=nurse, session=session, taken_at=minutes(dose_at, 41), systolic=215, diastolic=94
    )
    services.vitals_record(
        actor=nurse,
        session=session,
        taken_at=minutes(dose_at, 41),
        systolic=152,
        diastolic=94,
        heart_rate=88,
        spo2=93,
        respiratory_rate=12,
        corrects=wrong,
        correction_reason="Typed 215 for 152",
    )
    services.vitals_record(
        actor=nurse,
        session=session,
        taken_at=minutes(dose_at, 80),
        systolic=144,
        diastolic=88,
        spo2=97,
    )
    services.vitals_record(
        actor=nurse,
        session=session,
        taken_at=minutes(dose_at, 122),
        systolic=136,
        diastolic=84,
        spo2=98,
        respiratory_rate=14,
    )
    for at, score in ((15, 4), (35, 3), (60, 4), (118, 5)):
        services.scale_record(
            actor=nurse, session=session, scale="moaas", score=score, taken_at=minutes(dose_at, at)
        )
    for at, score in ((30, 18), (60, 9), (118, 2)):
        services.scale_record(
            actor=nurse,
            session=session,
            scale="cadss",
            score=score,
            version="cadss23",
            taken_at=minutes(dose_at, at),
        )
    services.side_effect_record(
        actor=nurse,
        session=session,
        effect="nausea",
        severity="mild",
        note="Settled with ondansetron",
        taken_at=minutes(dose_at, 25),
    )
    services.adverse_event_record(
        actor=practice.prescriber,
        session=session,
        event="Vasovagal episode",
        onset_at=minutes(dose_at, 50),
        severity="moderate",
        seriousness="not_serious",
        related="possibly",
        action="Legs raised, fluids",
        outcome="Resolved in 10 min",
    )
    for name in ("Sertraline", "Lorazepam"):
        CurrentMedication.objects.create(
            client=practice.client,
            medication=Medication.objects.get(name=name),
            dose_amount=Decimal("100" if name == "Sertraline" else "0.5"),
            frequency="once_daily" if name == "Sertraline" else "as_needed",
        )
    if discharged:
        discharge(session, practice, minutes(dose_at, 125))
    session.refresh_from_db()
    return session
