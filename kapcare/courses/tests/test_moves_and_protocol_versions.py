"""Rescheduling (checked like a new booking, nothing changed when refused), spacing between doses
through the booking service, and protocol settings pinned by a course at its start."""

from __future__ import annotations

import datetime as dt

import pytest

from kapcare.accounts.models import User
from kapcare.core.models import AuditEvent
from kapcare.courses import parameters, services
from kapcare.courses.models import Appointment, Course, GateOverride, Room, State
from kapcare.courses.tests.test_services import course_for, ready_for_dosing, refused, soon
from kapcare.parameters.services import parameter_sign_off
from kapcare.testing.factories import make_staff
from kapcare.testing.personas import Practice


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="Room 1")


def dose(practice: Practice, course: Course, room: Room, hours: float, **extra) -> Appointment:
    return services.appointment_book(
        actor=extra.pop("actor", practice.prescriber),
        client=practice.client,
        kind="dosing",
        starts_at=soon(hours),
        minutes=180,
        clinician=practice.prescriber,
        second_clinician=practice.therapist,
        room=room,
        course=course,
        **extra,
    )


def prep(practice: Practice, course: Course, hours: float) -> Appointment:
    return services.appointment_book(
        actor=practice.therapist,
        client=practice.client,
        kind="preparation",
        starts_at=soon(hours),
        minutes=60,
        clinician=practice.therapist,
        course=course,
    )


class TestSpacing:
    def test_a_second_dose_too_soon_is_refused_with_the_nearest_dose_named(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        dose(practice, course, room, 48)
        errors = refused(lambda: dose(practice, course, room, 72))
        assert errors == {"kind": ["gate_spacing"]}
        assert dose(practice, course, room, 48 + 24 * 4).kind == "dosing"

    def test_a_prescriber_may_override_the_spacing_with_a_reason(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        dose(practice, course, room, 48)
        second = dose(
            practice, course, room, 72, overrides={"spacing": "Holiday closure next week"}
        )
        override = GateOverride.objects.get(appointment=second)
        assert override.gate == "spacing"
        assert "the protocol asks for at least 3" in override.gate_reason

    def test_a_cancelled_dose_does_not_count(self, practice: Practice, room: Room) -> None:
        course = ready_for_dosing(practice)
        first = dose(practice, course, room, 48)
        services.appointment_mark(
            actor=practice.therapist, appointment=first, state="cancelled", reason="Unwell"
        )
        assert dose(practice, course, room, 72).kind == "dosing"


class TestReschedule:
    def test_a_move_is_audited_with_its_reason_and_resets_the_reminder(
        self, practice: Practice
    ) -> None:
        course = course_for(practice)
        appointment = prep(practice, course, 24)
        Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=soon(0))
        appointment.refresh_from_db()
        moved = services.appointment_reschedule(
            actor=practice.therapist,
            appointment=appointment,
            starts_at=soon(30),
            reason="Client asked for the afternoon",
        )
        stored = Appointment.objects.get(pk=appointment.pk)
        assert stored.starts_at == moved.starts_at
        assert stored.ends_at - stored.starts_at == dt.timedelta(minutes=60)
        assert stored.reminder_sent_at is None
        event = AuditEvent.objects.get(action="appointment.reschedule")
        assert event.after["reason"] == "Client asked for the afternoon"
        assert set(event.before) == {"starts_at", "ends_at"}

    def test_a_clash_at_the_new_time_is_refused_and_nothing_moves(self, practice: Practice) -> None:
        course = course_for(practice)
        first = prep(practice, course, 24)
        second = prep(practice, course, 48)
        errors = refused(
            lambda: services.appointment_reschedule(
                actor=practice.therapist,
                appointment=second,
                starts_at=first.starts_at,
                reason="Earlier",
            )
        )
        assert errors == {"starts_at": ["conflict"]}
        assert Appointment.objects.get(pk=second.pk).starts_at == second.starts_at
        assert second.starts_at != first.starts_at  # the caller's object is unchanged too

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"reason": " "}, "reason", "required"),
            ({"starts_at_hours": -2}, "starts_at", "past"),
            ({"minutes": 2}, "minutes", "out_of_range"),
        ],
    )
    def test_bad_moves(self, practice: Practice, changes, field, rule) -> None:
        appointment = prep(practice, course_for(practice), 24)
        hours = changes.pop("starts_at_hours", 30)
        fields = {"reason": "Moved", "starts_at": soon(hours)} | changes
        errors = refused(
            lambda: services.appointment_reschedule(
                actor=practice.therapist, appointment=appointment, **fields
            )
        )
        assert errors == {field: [rule]}

    def test_only_a_booked_session_moves(self, practice: Practice) -> None:
        appointment = prep(practice, course_for(practice), 24)
        services.appointment_mark(
            actor=practice.therapist, appointment=appointment, state="cancelled", reason="Unwell"
        )
        errors = refused(
            lambda: services.appointment_reschedule(
                actor=practice.therapist, appointment=appointment, starts_at=soon(30), reason="x"
            )
        )
        assert errors == {"state": ["not_booked"]}
        assert Appointment.objects.get(pk=appointment.pk).state == State.CANCELLED

    def test_moving_a_dose_a_day_does_not_clash_with_itself(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        booked = dose(practice, course, room, 48)
        moved = services.appointment_reschedule(
            actor=practice.prescriber,
            appointment=booked,
            starts_at=booked.starts_at + dt.timedelta(days=1),
            reason="Room needed for an infusion",
        )
        assert moved.starts_at == booked.starts_at + dt.timedelta(days=1)
        assert not GateOverride.objects.exists()

    def test_moving_a_dose_next_to_another_runs_the_spacing_gate(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        dose(practice, course, room, 48)
        later = dose(practice, course, room, 48 + 24 * 7)
        errors = refused(
            lambda: services.appointment_reschedule(
                actor=practice.prescriber,
                appointment=later,
                starts_at=soon(48 + 24),
                reason="Earlier",
            )
        )
        assert errors == {"kind": ["gate_spacing"]}


def medical_director() -> User:
    return make_staff(username="director", admin=True, prescriber=True)


class TestProtocolVersions:
    def test_every_setting_of_every_protocol_is_a_parameter_with_its_source(self) -> None:
        from kapcare.courses.protocols import PROTOCOLS, SETTING_NAMES
        from kapcare.parameters import registry

        for protocol in PROTOCOLS:
            for name in SETTING_NAMES:
                parameter = registry.get(parameters.key(protocol.code, name))
                assert parameter.default == getattr(protocol, name).value
                assert parameter.source == getattr(protocol, name).source

    def test_a_course_keeps_the_settings_it_started_with(self, practice: Practice) -> None:
        before = course_for(practice)
        assert before.plan.prep_min.value == 5
        assert before.protocol_settings["prep_min"]["version"] == 0
        parameter_sign_off(
            actor=medical_director(),
            key=parameters.key("kap_sublingual", "prep_min"),
            value=3,
            source="Sage: at least 3 preparation sessions (clinical-facts §7)",
            reason="Our therapists agreed on three",
        )
        services.course_change_phase(
            actor=practice.therapist, course=before, phase="discontinued", reason="Moved away"
        )
        after = course_for(practice)
        assert after.plan.prep_min.value == 3
        assert after.plan.prep_min.version == 1
        assert after.plan.prep_min.source.startswith("Sage")
        assert Course.objects.get(pk=before.pk).plan.prep_min.value == 5

    def test_the_preparation_gate_follows_the_pinned_setting(self, practice: Practice) -> None:
        from kapcare.courses.selectors import course_gates

        course = ready_for_dosing(practice)
        course.protocol_settings["prep_min"] = {"value": 6, "version": 2, "source": "Local"}
        course.save()
        prep_gate = next(g for g in course_gates(course) if g.code == "preparation")
        assert (prep_gate.passed, prep_gate.reason) == (False, "5 of 6 preparation sessions held.")


@pytest.mark.django_db(transaction=True)
def test_a_protocol_sign_off_does_not_queue_a_rescreen(practice: Practice) -> None:
    from django_tasks_db.models import DBTaskResult

    director = medical_director()
    parameter_sign_off(
        actor=director,
        key=parameters.key("iv_racemic", "dosing_minutes"),
        value=150,
        source="Practice policy: longer observation",
        reason="Our infusion chairs turn over slowly",
    )
    assert not DBTaskResult.objects.filter(task_path__contains="rescreen").exists()
    parameter_sign_off(
        actor=director,
        key="trd.min_trial_weeks",
        value=8,
        source="Practice policy",
        reason="Stricter",
    )
    assert DBTaskResult.objects.filter(task_path__contains="rescreen").exists()
