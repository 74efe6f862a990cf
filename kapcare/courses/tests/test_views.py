"""The course pages through the web: starting a course, booking with the gates shown and a
prescriber's override, the proposed integration slots after a dose, one appointment's changes,
the integration-at-risk queue, and flat query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.timezone import localtime

from kapcare.core.time import now, practice_zone
from kapcare.courses import services
from kapcare.courses.models import Appointment, Course, GateOverride, Kind, Room, State
from kapcare.courses.tests.test_services import course_for, ready_for_dosing
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="Garden room")


def plan_url(practice: Practice) -> str:
    return reverse("courses:plan", args=[practice.client.public_id])


def book_url(practice: Practice, course: Course, kind: str = "preparation") -> str:
    return reverse("courses:book", args=[practice.client.public_id, course.public_id]) + (
        f"?kind={kind}"
    )


def slot_fields(moment: dt.datetime) -> dict[str, str]:
    local = localtime(moment, practice_zone())
    return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M")}


def dose_form(practice: Practice, room: Room, moment: dt.datetime, **extra: str) -> dict:
    return {
        "kind": "dosing",
        **slot_fields(moment),
        "minutes": "180",
        "clinician": str(practice.prescriber.public_id),
        "second_clinician": str(practice.therapist.public_id),
        "room": str(room.public_id),
        **extra,
    }


def day_at(days: int, hour: int) -> dt.datetime:
    local = localtime(now(), practice_zone()) + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


class TestStart:
    def test_without_a_course_the_page_offers_to_start_one(self, practice: Practice) -> None:
        page = signed_in(practice.therapist).get(plan_url(practice))
        assert page.status_code == 200
        assert b"Start a course" in page.content

    def test_starting_a_course_and_a_bad_start_named_by_field(self, practice: Practice) -> None:
        http = signed_in(practice.therapist)
        bad = http.post(
            reverse("courses:start", args=[practice.client.public_id]),
            {"protocol": "kap_sublingual", "started_on": "2099-01-01"},
        )
        assert bad.status_code == 400
        assert b"This date is in the future." in bad.content
        assert not Course.objects.exists()
        good = http.post(
            reverse("courses:start", args=[practice.client.public_id]),
            {
                "protocol": "kap_sublingual",
                "started_on": localtime(now()).date().isoformat(),
                "goals": "Feel again",
                "modalities": ["emdr", "movement"],
            },
        )
        assert good.status_code == 302
        course = Course.objects.get()
        assert (course.goals, course.modalities) == ("Feel again", ["emdr", "movement"])
        page = http.get(plan_url(practice))
        assert b"0 of 5" in page.content  # preparation sessions held of the minimum
        assert b'data-gate="preparation" data-passed="no"' in page.content


class TestBooking:
    def test_book_a_preparation_session(self, practice: Practice) -> None:
        course = course_for(practice)
        http = signed_in(practice.therapist)
        form = http.get(book_url(practice, course))
        assert form.status_code == 200
        assert b'value="60"' in form.content  # the protocol's preparation length
        response = http.post(
            book_url(practice, course),
            {
                "kind": "preparation",
                **slot_fields(day_at(1, 10)),
                "minutes": "60",
                "clinician": str(practice.therapist.public_id),
            },
        )
        assert response.status_code == 302
        appointment = Appointment.objects.get()
        assert (appointment.kind, appointment.clinician) == ("preparation", practice.therapist)
        assert localtime(appointment.starts_at, practice_zone()).hour == 10

    def test_a_dose_too_early_shows_every_reason_and_books_nothing(
        self, practice: Practice, room: Room
    ) -> None:
        course = course_for(practice)
        response = signed_in(practice.therapist).post(
            book_url(practice, course, "dosing"), dose_form(practice, room, day_at(2, 10))
        )
        assert response.status_code == 400
        text = response.content.decode()
        assert "Preparation sessions: 0 of 5 preparation sessions held." in text
        assert "Baseline measures: Missing: PHQ-9, GAD-7." in text
        assert "Only a prescriber can override a gate" in text
        assert not Appointment.objects.exists()

    def test_a_prescriber_overrides_a_gate_from_the_form(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        Appointment.objects.filter(kind="preparation").first().delete()  # 4 of 5 held
        http = signed_in(practice.prescriber)
        page = http.get(book_url(practice, course, "dosing"))
        assert b'name="override_preparation"' in page.content
        response = http.post(
            book_url(practice, course, "dosing"),
            dose_form(practice, room, day_at(2, 10), override_preparation="Prior therapy with us"),
        )
        assert response.status_code == 302
        override = GateOverride.objects.get()
        assert (override.gate, override.reason) == ("preparation", "Prior therapy with us")

    def test_a_booked_dose_proposes_integration_slots_and_one_is_accepted(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        http = signed_in(practice.prescriber)
        response = http.post(
            book_url(practice, course, "dosing"), dose_form(practice, room, day_at(2, 9))
        )
        assert response.status_code == 302
        dose = Appointment.objects.get(kind=Kind.DOSING)
        assert response["Location"].endswith(f"#dose-{dose.public_id}")
        page = http.get(plan_url(practice)).content.decode()
        slots = re.findall(r'data-slot="([^"]+)"', page)
        assert slots, "the plan proposes integration times"
        accept = http.post(
            reverse("courses:accept_slot", args=[practice.client.public_id, dose.public_id]),
            {"starts_at": slots[0]},
        )
        assert accept.status_code == 302
        integration = Appointment.objects.get(kind=Kind.INTEGRATION)
        assert integration.clinician == practice.therapist
        assert dose.ends_at <= integration.starts_at <= dose.ends_at + dt.timedelta(hours=72)
        page = http.get(plan_url(practice)).content.decode()
        assert 'data-state="booked"' in page

    def test_a_slot_outside_the_window_is_refused(self, practice: Practice, room: Room) -> None:
        course = ready_for_dosing(practice)
        dose = services.appointment_book(
            actor=practice.prescriber,
            client=practice.client,
            kind="dosing",
            starts_at=day_at(2, 9),
            minutes=180,
            clinician=practice.prescriber,
            second_clinician=practice.therapist,
            room=room,
            course=course,
        )
        http = signed_in(practice.prescriber)
        http.post(
            reverse("courses:accept_slot", args=[practice.client.public_id, dose.public_id]),
            {"starts_at": (dose.ends_at + dt.timedelta(hours=80)).isoformat()},
        )
        assert not Appointment.objects.filter(kind=Kind.INTEGRATION).exists()

    def test_a_time_the_clocks_skip_is_refused(self, practice: Practice) -> None:
        course = course_for(practice)
        # 02:30 on the second Sunday of March does not exist in Los Angeles (the tests' zone).
        year = localtime(now()).year + 1
        march = dt.date(year, 3, 1)
        second_sunday = march + dt.timedelta(days=(6 - march.weekday()) % 7 + 7)
        response = signed_in(practice.therapist).post(
            book_url(practice, course),
            {
                "kind": "preparation",
                "date": second_sunday.isoformat(),
                "time": "02:30",
                "minutes": "60",
                "clinician": str(practice.therapist.public_id),
            },
        )
        assert response.status_code == 400
        assert b"does not exist on that day" in response.content
        assert not Appointment.objects.exists()


class TestAppointmentPage:
    def test_cancel_needs_a_reason_then_cancels(self, practice: Practice) -> None:
        course = course_for(practice)
        appointment = services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=day_at(1, 11),
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
        url = reverse(
            "courses:appointment", args=[practice.client.public_id, appointment.public_id]
        )
        http = signed_in(practice.therapist)
        refused = http.post(url, {"action": "mark", "state": "cancelled", "reason": ""})
        assert refused.status_code == 400
        assert Appointment.objects.get().state == State.BOOKED
        done = http.post(url, {"action": "mark", "state": "cancelled", "reason": "Unwell"})
        assert done.status_code == 302
        assert Appointment.objects.get().state == State.CANCELLED

    def test_move_with_a_reason(self, practice: Practice) -> None:
        course = course_for(practice)
        appointment = services.appointment_book(
            actor=practice.therapist,
            client=practice.client,
            kind="preparation",
            starts_at=day_at(1, 11),
            minutes=60,
            clinician=practice.therapist,
            course=course,
        )
        url = reverse(
            "courses:appointment", args=[practice.client.public_id, appointment.public_id]
        )
        response = signed_in(practice.therapist).post(
            url,
            {"action": "move", **slot_fields(day_at(1, 14)), "minutes": "60", "reason": "Later"},
        )
        assert response.status_code == 302
        assert localtime(Appointment.objects.get().starts_at, practice_zone()).hour == 14


def book_dose_without_integration(practice: Practice, room: Room) -> Appointment:
    course = ready_for_dosing(practice)
    return services.appointment_book(
        actor=practice.prescriber,
        client=practice.client,
        kind="dosing",
        starts_at=now() + dt.timedelta(hours=2),
        minutes=180,
        clinician=practice.prescriber,
        second_clinician=practice.therapist,
        room=room,
        course=course,
    )


class TestAtRisk:
    def test_a_dose_without_integration_is_on_the_queue_for_the_care_team_only(
        self, practice: Practice, room: Room
    ) -> None:
        book_dose_without_integration(practice, room)
        mine = signed_in(practice.therapist).get(reverse("courses:at_risk")).content.decode()
        assert practice.client.display_name in mine
        assert 'data-state="at_risk"' in mine
        theirs = signed_in(practice.outsider).get(reverse("courses:at_risk")).content.decode()
        assert practice.client.display_name not in theirs
        home = signed_in(practice.therapist).get(reverse("home")).content.decode()
        assert "without an integration session inside the window" in home


def test_the_plan_page_runs_a_fixed_number_of_queries(practice: Practice, room: Room) -> None:
    course = ready_for_dosing(practice)
    http = signed_in(practice.therapist)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get(plan_url(practice)).status_code == 200
        return len(captured)

    few = queries()
    for day in range(1, 11):
        Appointment.objects.create(
            client=practice.client,
            course=course,
            kind="preparation",
            starts_at=now() + dt.timedelta(days=day),
            ends_at=now() + dt.timedelta(days=day, hours=1),
            clinician=practice.therapist,
        )
    assert queries() == few


class TestRooms:
    def test_only_practice_admins_manage_rooms(self, practice: Practice) -> None:
        assert signed_in(practice.therapist).get(reverse("courses:rooms")).status_code == 404
        http = signed_in(practice.admin)
        added = http.post(reverse("courses:rooms"), {"name": "Willow room", "active": "on"})
        assert added.status_code == 302
        room = Room.objects.get()
        assert room.active
        duplicate = http.post(reverse("courses:rooms"), {"name": "willow ROOM", "active": "on"})
        assert duplicate.status_code == 400
        assert b"A room with this name exists." in duplicate.content
        retired = http.post(
            reverse("courses:rooms"), {"room": str(room.public_id), "name": "Willow room"}
        )
        assert retired.status_code == 302
        room.refresh_from_db()
        assert not room.active
        from kapcare.core.models import AuditEvent

        assert AuditEvent.objects.filter(action="room.save").count() == 2


def test_the_at_risk_queue_runs_a_fixed_number_of_queries(practice: Practice, room: Room) -> None:
    course = ready_for_dosing(practice)
    http = signed_in(practice.therapist)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            page = http.get(reverse("courses:at_risk"))
        return len(captured), page.content.decode().count('data-state="at_risk"')

    def dose(days: int) -> None:
        Appointment.objects.create(
            client=practice.client,
            course=course,
            kind=Kind.DOSING,
            starts_at=now() + dt.timedelta(days=days),
            ends_at=now() + dt.timedelta(days=days, hours=3),
            clinician=practice.prescriber,
            second_clinician=practice.therapist,
            room=room,
        )

    dose(1)
    few, shown = queries()
    assert shown == 1
    for days in range(3, 21, 3):
        dose(days)
    many, shown = queries()
    assert shown == 7
    assert many == few
