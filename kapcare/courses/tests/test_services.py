"""Courses, consents, REMS enrolment and booking: validation by field and rule with nothing saved,
conflicts named, the dosing dyad, and the gates before a dose with the prescriber's override."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses import services
from kapcare.courses.models import Appointment, Course, GateOverride, Room, State
from kapcare.courses.protocols import BY_CODE
from kapcare.courses.selectors import course_gates
from kapcare.measures.services import administration_record
from kapcare.screening.services import bp_record
from kapcare.screening.tests.helpers import clear, make_eligible
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.personas import Practice


def counts() -> tuple[int, ...]:
    return (
        Course.objects.count(),
        Appointment.objects.count(),
        GateOverride.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {f: [e.code for e in errs] for f, errs in raised.value.error_dict.items()}  # type: ignore[misc]


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="Room 1")


def course_for(practice: Practice, protocol: str = "kap_sublingual") -> Course:
    return services.course_start(
        actor=practice.therapist,
        client=practice.client,
        protocol=protocol,
        started_on=practice_today(),
        goals="Less numbness; reconnect with family.",
        modalities=["emdr", "breathwork"],
    )


def soon(hours: float) -> dt.datetime:
    return now() + dt.timedelta(hours=hours)


class TestCourses:
    def test_start_is_audited_and_one_open_course_per_client(self, practice: Practice) -> None:
        course = course_for(practice)
        assert AuditEvent.objects.filter(
            action="course.start", subject_public_id=course.public_id
        ).exists()
        errors = refused(lambda: course_for(practice))
        assert errors == {"protocol": ["open_course"]}

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"protocol": "magic"}, "protocol", "invalid_choice"),
            ({"started_on": practice_today() + dt.timedelta(days=1)}, "started_on", "future"),
            ({"modalities": ["emdr", "hypnosis"]}, "modalities", "invalid_choice"),
        ],
    )
    def test_bad_courses(self, practice: Practice, changes, field, rule) -> None:
        fields = {"protocol": "kap_sublingual", "started_on": practice_today()} | changes
        errors = refused(
            lambda: services.course_start(actor=practice.nurse, client=practice.client, **fields)
        )
        assert errors[field] == [rule]

    def test_front_desk_cannot_start_a_course(self, practice: Practice) -> None:
        with pytest.raises(ValidationError):
            services.course_start(
                actor=practice.front_desk,
                client=practice.client,
                protocol="iv_racemic",
                started_on=practice_today(),
            )

    def test_phases_move_forward_and_discontinuing_needs_a_reason(self, practice: Practice) -> None:
        course = course_for(practice)
        assert refused(
            lambda: services.course_change_phase(
                actor=practice.prescriber, course=course, phase="maintenance"
            )
        ) == {"phase": ["invalid_transition"]}
        assert refused(
            lambda: services.course_change_phase(
                actor=practice.prescriber, course=course, phase="discontinued"
            )
        ) == {"reason": ["required"]}
        services.course_change_phase(actor=practice.prescriber, course=course, phase="induction")
        services.course_change_phase(
            actor=practice.prescriber, course=course, phase="discontinued", reason="Moved away"
        )
        course.refresh_from_db()
        assert (course.phase, course.end_reason, course.ended_on) == (
            "discontinued",
            "Moved away",
            practice_today(),
        )
        course_for(practice)  # a new course may start once the last one ended


class TestBooking:
    def book(
        self, practice: Practice, course: Course | None = None, **changes: object
    ) -> Appointment:
        fields: dict = {
            "actor": practice.therapist,
            "client": practice.client,
            "kind": "preparation",
            "starts_at": soon(24),
            "minutes": 60,
            "clinician": practice.therapist,
            "course": course,
        } | changes
        return services.appointment_book(**fields)

    def test_a_conflict_is_refused_naming_the_other_booking_but_not_its_client(
        self, practice: Practice, room: Room
    ) -> None:
        course = course_for(practice)
        self.book(practice, course)
        other = make_client(legal_family_name="Zephyrine")
        make_member(client=other, staff=practice.therapist)
        errors = refused(
            lambda: services.appointment_book(
                actor=practice.therapist,
                client=other,
                kind="consultation",
                starts_at=soon(24.5),
                minutes=30,
                clinician=practice.therapist,
            )
        )
        assert errors == {"starts_at": ["conflict"]}
        with pytest.raises(ValidationError) as raised:
            services.appointment_book(
                actor=practice.therapist,
                client=other,
                kind="consultation",
                starts_at=soon(24.5),
                minutes=30,
                clinician=practice.therapist,
            )
        message = raised.value.messages[0]
        assert str(practice.therapist) in message
        assert "Preparation" in message
        assert practice.client.legal_family_name not in message

    def test_back_to_back_sessions_do_not_clash(self, practice: Practice) -> None:
        course = course_for(practice)
        self.book(practice, course)
        self.book(practice, course, starts_at=soon(25))

    def test_a_cancelled_session_frees_its_time(self, practice: Practice) -> None:
        course = course_for(practice)
        first = self.book(practice, course)
        services.appointment_mark(
            actor=practice.therapist, appointment=first, state="cancelled", reason="Client unwell"
        )
        self.book(practice, course)

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"starts_at": soon(-2)}, "starts_at", "past"),
            ({"minutes": 1}, "minutes", "out_of_range"),
            ({"course": None}, "course", "required"),
            ({"clinician": "front_desk"}, "clinician", "not_clinician"),
            ({"second_clinician": "therapist"}, "second_clinician", "same_person"),
        ],
    )
    def test_bad_bookings(self, practice: Practice, changes, field, rule) -> None:
        course = course_for(practice)
        for key, value in list(changes.items()):
            if isinstance(value, str):
                changes[key] = getattr(practice, value)
        errors = refused(lambda: self.book(practice, **({"course": course} | changes)))
        assert errors[field] == [rule]

    def test_dosing_needs_the_dyad_and_a_room(self, practice: Practice) -> None:
        course = course_for(practice)
        errors = refused(
            lambda: self.book(practice, course, kind="dosing", clinician=practice.therapist)
        )
        assert errors == {
            "clinician": ["not_monitoring_clinician"],
            "second_clinician": ["dyad_required"],
            "room": ["room_required"],
        }

    def test_marking_held_waits_for_the_session_and_cancelling_needs_a_reason(
        self, practice: Practice
    ) -> None:
        appointment = self.book(practice, course_for(practice))
        assert refused(
            lambda: services.appointment_mark(
                actor=practice.therapist, appointment=appointment, state="held"
            )
        ) == {"state": ["future"]}
        assert refused(
            lambda: services.appointment_mark(
                actor=practice.therapist, appointment=appointment, state="cancelled"
            )
        ) == {"reason": ["required"]}


def ready_for_dosing(practice: Practice, protocol: str = "kap_sublingual") -> Course:
    return make_ready(practice, course_for(practice, protocol))


def make_ready(practice: Practice, course: Course) -> Course:
    """Everything a dose's gates ask for: cleared screen, consent, baseline, 5 held preparations."""
    make_eligible(practice.client, practice.therapist)
    clear(practice.client, practice.prescriber)
    services.consent_record(
        actor=practice.prescriber,
        client=practice.client,
        route=course_protocol_route(course),
        signed_on=practice_today(),
        form_version="KAP consent v3",
    )
    for instrument, answers in (
        ("phq9", {f"q{n}": 2 for n in range(1, 10)} | {"q9": 0}),
        ("gad7", {f"q{n}": 2 for n in range(1, 8)}),
    ):
        administration_record(
            actor=practice.therapist, client=practice.client, instrument=instrument, answers=answers
        )
    for _ in range(5):
        Appointment.objects.create(
            client=practice.client,
            course=course,
            kind="preparation",
            starts_at=now() - dt.timedelta(days=3),
            ends_at=now() - dt.timedelta(days=3, hours=-1),
            clinician=practice.therapist,
            state=State.HELD,
        )
    return course


def course_protocol_route(course: Course) -> str:
    return BY_CODE[course.protocol].route


class TestGates:
    def dose(self, practice: Practice, course: Course, room: Room, actor=None, overrides=None):
        return services.appointment_book(
            actor=actor or practice.prescriber,
            client=practice.client,
            kind="dosing",
            starts_at=soon(48),
            minutes=180,
            clinician=practice.prescriber,
            second_clinician=practice.therapist,
            room=room,
            course=course,
            overrides=overrides,
        )

    def test_a_ready_course_books_its_dose(self, practice: Practice, room: Room) -> None:
        course = ready_for_dosing(practice)
        assert all(g.passed for g in course_gates(course))
        appointment = self.dose(practice, course, room)
        assert appointment.kind == "dosing"
        assert not GateOverride.objects.exists()

    def test_too_early_is_refused_with_every_reason(self, practice: Practice, room: Room) -> None:
        course = course_for(practice)
        errors = refused(lambda: self.dose(practice, course, room))
        assert set(errors["kind"]) == {
            "gate_screening",
            "gate_consent",
            "gate_preparation",
            "gate_baseline",
        }
        with pytest.raises(ValidationError) as raised:
            self.dose(practice, course, room)
        text = " ".join(raised.value.messages)
        assert "0 of 5 preparation sessions held." in text
        assert "Missing: PHQ-9, GAD-7." in text

    def test_esketamine_asks_for_rems_enrolment(self, practice: Practice, room: Room) -> None:
        course = ready_for_dosing(practice, "esketamine")
        assert [g.code for g in course_gates(course) if not g.passed] == ["rems"]
        services.rems_enroll(
            actor=practice.prescriber,
            client=practice.client,
            enrolled_on=practice_today(),
            reference="PT-0042",
        )
        assert all(g.passed for g in course_gates(course))

    def test_an_open_safety_flag_blocks_the_dose(self, practice: Practice, room: Room) -> None:
        course = ready_for_dosing(practice)
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers={f"q{n}": 1 for n in range(1, 10)},
        )
        errors = refused(lambda: self.dose(practice, course, room))
        assert "gate_safety" in errors["kind"]

    def test_a_prescriber_overrides_with_a_reason_and_it_is_audited(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        Appointment.objects.filter(kind="preparation").first().delete()  # 4 of 5 held
        therapist_try = refused(
            lambda: self.dose(
                practice, course, room, actor=practice.therapist, overrides={"preparation": "x"}
            )
        )
        assert therapist_try == {"overrides": ["not_prescriber"]}
        appointment = self.dose(
            practice, course, room, overrides={"preparation": "Two years of prior therapy with us"}
        )
        override = GateOverride.objects.get()
        assert (override.appointment, override.gate, override.overridden_by) == (
            appointment,
            "preparation",
            practice.prescriber,
        )
        assert override.gate_reason == "4 of 5 preparation sessions held."
        event = AuditEvent.objects.get(action="gate.override")
        assert event.after["reason"] == "Two years of prior therapy with us"

    def test_a_withdrawn_clearance_closes_the_screening_gate(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        bp_record(actor=practice.nurse, client=practice.client, systolic=190, diastolic=100)
        screening = next(g for g in course_gates(course) if g.code == "screening")
        assert not screening.passed
        assert screening.reason.startswith("Clearance withdrawn:")


def test_a_second_prescriber_elsewhere_is_not_a_conflict(practice: Practice, room: Room) -> None:
    other_room = Room.objects.create(name="Room 2")
    course = course_for(practice)
    services.appointment_book(
        actor=practice.therapist,
        client=practice.client,
        kind="preparation",
        starts_at=soon(24),
        minutes=60,
        clinician=practice.therapist,
        room=room,
        course=course,
    )
    colleague = make_staff(therapist=True)
    other = make_client()
    make_member(client=other, staff=colleague)
    services.appointment_book(
        actor=colleague,
        client=other,
        kind="consultation",
        starts_at=soon(24),
        minutes=60,
        clinician=colleague,
        room=other_room,
    )
    errors = refused(
        lambda: services.appointment_book(
            actor=colleague,
            client=other,
            kind="consultation",
            starts_at=soon(24.25),
            minutes=30,
            clinician=make_staff(nurse=True),
            room=room,
        )
    )
    assert errors == {"starts_at": ["conflict"]}
