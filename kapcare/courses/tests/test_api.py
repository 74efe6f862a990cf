"""Protocols, courses, consents, REMS, rooms, appointments and schedules in the JSON API: each
endpoint's answer, errors naming field and rule with nothing saved, outsiders told 404, the gates
on a dose and a prescriber's override, and the audit rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from typing import Any

import pytest
from django.test import Client as HttpClient

from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses import parameters
from kapcare.courses.models import (
    Appointment,
    Consent,
    Course,
    GateOverride,
    RemsEnrollment,
    Room,
    State,
)
from kapcare.courses.protocols import PROTOCOLS, SETTING_NAMES
from kapcare.courses.tests.test_services import course_for, ready_for_dosing
from kapcare.parameters.services import parameter_sign_off
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

API = "/api/v1"
MODELS = (Course, Consent, RemsEnrollment, Appointment, GateOverride, AuditEvent)


def base(client: Client) -> str:
    return f"{API}/clients/{client.public_id}"


def send(http: HttpClient, path: str, body: Any = None) -> Any:
    return http.post(path, json.dumps(body or {}), content_type="application/json")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


def refused(http: HttpClient, path: str, body: Any, status: int = 400) -> set:
    """POST that must fail with `status`, changing nothing (audit rows included)."""
    before = counts()
    response = send(http, path, body)
    assert response.status_code == status, response.content
    assert counts() == before
    return errors(response)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def soon(hours: float) -> dt.datetime:
    return (now() + dt.timedelta(hours=hours)).replace(microsecond=0)


def reads(client: Client, view: str) -> int:
    return AuditEvent.objects.filter(
        action="client.read", client_public_id=client.public_id, detail__view=view, channel="api"
    ).count()


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="Room 1")


# ---------------------------------------------------------------------------------------------
# Protocols and rooms


class TestProtocols:
    def test_every_protocol_with_every_setting_in_force(self, practice: Practice) -> None:
        parameter_sign_off(
            actor=make_staff(admin=True, prescriber=True),
            key=parameters.key("esketamine", "prep_min"),
            value=2,
            source="Practice policy after review",
            reason="Two sessions suit our esketamine clients",
        )
        response = signed_in(practice.front_desk).get(f"{API}/protocols")
        assert response.status_code == 200
        found = {p["code"]: p for p in response.json()}
        assert set(found) == {p.code for p in PROTOCOLS}
        for protocol in found.values():
            assert [s["name"] for s in protocol["settings"]] == list(SETTING_NAMES)
            assert protocol["measures"]
        prep = {s["name"]: s for s in found["esketamine"]["settings"]}["prep_min"]
        assert (prep["value"], prep["version"], prep["source"]) == (
            2,
            1,
            "Practice policy after review",
        )
        shipped = {s["name"]: s for s in found["kap_sublingual"]["settings"]}["prep_min"]
        assert (shipped["value"], shipped["version"]) == (5, 0)
        assert shipped["source"].startswith("Seed practices")
        assert found["esketamine"]["needs_rems"] is True
        rule = found["kap_sublingual"]["measures"][0]
        assert rule == {
            "instruments": ["phq9", "gad7"],
            "anchor": "course_start",
            "offsets_hours": [0],
            "window_hours": 72,
        }

    def test_one_protocol_and_an_unknown_code(self, practice: Practice) -> None:
        http = signed_in(practice.therapist)
        one = http.get(f"{API}/protocols/iv_racemic").json()
        assert (one["code"], one["route"]) == ("iv_racemic", "intravenous")
        missing = http.get(f"{API}/protocols/magic")
        assert missing.status_code == 404
        assert errors(missing) == {(None, "not_found")}

    def test_rooms(self, practice: Practice, room: Room) -> None:
        Room.objects.create(name="Old annex", active=False)
        http = signed_in(practice.front_desk)
        assert [r["name"] for r in http.get(f"{API}/rooms").json()] == ["Room 1"]
        every = http.get(f"{API}/rooms?include_inactive=true").json()
        assert {(r["name"], r["active"]) for r in every} == {
            ("Room 1", True),
            ("Old annex", False),
        }
        assert every[1]["id"] == str(room.public_id)

    def test_signed_out_is_401(self, db: None) -> None:
        assert HttpClient().get(f"{API}/protocols").status_code == 401


# ---------------------------------------------------------------------------------------------
# Courses


class TestCourses:
    def test_start_read_list_and_move_a_course(self, practice: Practice) -> None:
        http = signed_in(practice.therapist)
        started = send(
            http,
            f"{base(practice.client)}/courses",
            {"protocol": "kap_sublingual", "goals": "Reconnect", "modalities": ["emdr"]},
        )
        assert started.status_code == 201, started.content
        body = started.json()
        assert (body["phase"], body["started_on"], body["modalities"]) == (
            "preparation",
            practice_today().isoformat(),
            ["emdr"],
        )
        settings = {s["name"]: s for s in body["settings"]}
        assert settings["prep_min"]["value"] == 5
        assert settings["prep_min"]["source"].startswith("Seed practices")
        gates = {g["code"]: g for g in body["gates"]}
        assert gates["consent"]["passed"] is False
        assert gates["consent"]["reason"]
        assert gates["consent"]["source"]
        course = Course.objects.get(public_id=body["id"])
        assert AuditEvent.objects.filter(
            action="course.start", subject_public_id=course.public_id, channel="api"
        ).exists()

        listed = http.get(f"{base(practice.client)}/courses")
        assert [c["id"] for c in listed.json()] == [str(course.public_id)]
        assert reads(practice.client, "api.courses") == 1

        one = http.get(f"{base(practice.client)}/courses/{course.public_id}")
        assert one.json()["goals"] == "Reconnect"
        assert {g["code"] for g in one.json()["gates"]} >= {"screening", "consent", "baseline"}
        assert reads(practice.client, "api.course") == 1

        moved = send(
            http,
            f"{base(practice.client)}/courses/{course.public_id}/phase",
            {"phase": "induction"},
        )
        assert moved.json()["phase"] == "induction"
        assert AuditEvent.objects.filter(action="course.phase", channel="api").count() == 1

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"protocol": "magic"}, {("protocol", "invalid_choice")}),
            (
                {"protocol": "kap_sublingual", "started_on": "2999-01-01"},
                {("started_on", "future")},
            ),
            (
                {"protocol": "kap_sublingual", "modalities": ["hypnosis"]},
                {("modalities", "invalid_choice")},
            ),
        ],
    )
    def test_bad_courses_name_field_and_rule(
        self, practice: Practice, body: dict, expected: set
    ) -> None:
        http = signed_in(practice.prescriber)
        assert refused(http, f"{base(practice.client)}/courses", body) == expected

    def test_schema_errors_are_422_with_the_field(self, practice: Practice) -> None:
        http = signed_in(practice.prescriber)
        path = f"{base(practice.client)}/courses"
        assert refused(http, path, {"protocol": "x", "colour": "red"}, 422) == {
            ("colour", "extra_forbidden")
        }
        assert refused(http, path, {}, 422) == {("protocol", "missing")}

    def test_front_desk_cannot_start_a_course(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)
        assert refused(http, f"{base(practice.client)}/courses", {"protocol": "iv_racemic"}) == {
            ("protocol", "not_clinician")
        }

    def test_phase_changes_are_checked(self, practice: Practice) -> None:
        course = course_for(practice)
        http = signed_in(practice.prescriber)
        path = f"{base(practice.client)}/courses/{course.public_id}/phase"
        assert refused(http, path, {}) == {("phase", "required")}
        assert refused(http, path, {"phase": "maintenance"}) == {("phase", "invalid_transition")}
        assert refused(http, path, {"phase": "discontinued"}) == {("reason", "required")}
        course.refresh_from_db()
        assert course.phase == "preparation"

    def test_a_course_of_another_client_is_404_through_this_client(
        self, practice: Practice
    ) -> None:
        other = make_client()
        make_member(client=other, staff=practice.therapist)
        theirs = Course.objects.create(
            client=other, protocol="iv_racemic", started_on=practice_today()
        )
        http = signed_in(practice.therapist)
        path = f"{base(practice.client)}/courses/{theirs.public_id}"
        assert http.get(path).status_code == 404
        assert refused(http, f"{path}/phase", {"phase": "induction"}, 404) == {(None, "not_found")}


# ---------------------------------------------------------------------------------------------
# Consents and REMS


class TestConsentAndRems:
    def test_record_and_list(self, practice: Practice) -> None:
        http = signed_in(practice.prescriber)
        consent = send(
            http,
            f"{base(practice.client)}/consents",
            {
                "route": "intranasal",
                "signed_on": practice_today().isoformat(),
                "form_version": "v3",
            },
        )
        assert consent.status_code == 201
        assert consent.json()["route"] == "intranasal"
        rems = send(
            http,
            f"{base(practice.client)}/rems-enrolments",
            {"enrolled_on": practice_today().isoformat(), "reference": "PT-0042"},
        )
        assert rems.status_code == 201
        assert rems.json()["reference"] == "PT-0042"
        assert [
            c["form_version"] for c in http.get(f"{base(practice.client)}/consents").json()
        ] == ["v3"]
        assert [
            r["reference"] for r in http.get(f"{base(practice.client)}/rems-enrolments").json()
        ] == ["PT-0042"]
        assert reads(practice.client, "api.consents") == 1
        assert reads(practice.client, "api.rems_enrolments") == 1
        assert AuditEvent.objects.filter(action="consent.record", channel="api").count() == 1
        assert AuditEvent.objects.filter(action="rems.enroll", channel="api").count() == 1

    def test_bad_consent_and_enrolment(self, practice: Practice) -> None:
        http = signed_in(practice.prescriber)
        tomorrow = (practice_today() + dt.timedelta(days=1)).isoformat()
        assert refused(
            http,
            f"{base(practice.client)}/consents",
            {"route": "oral", "signed_on": tomorrow, "form_version": ""},
        ) == {("route", "invalid_choice"), ("signed_on", "future"), ("form_version", "blank")}
        assert refused(
            http,
            f"{base(practice.client)}/rems-enrolments",
            {"enrolled_on": practice_today().isoformat(), "reference": "  "},
        ) == {("reference", "required")}


# ---------------------------------------------------------------------------------------------
# Appointments


def prep_body(practice: Practice, course: Course, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "preparation",
        "starts_at": iso(soon(24)),
        "clinician": str(practice.therapist.public_id),
        "course": str(course.public_id),
    } | changes


def dose_body(practice: Practice, course: Course, room: Room, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "dosing",
        "starts_at": iso(soon(48)),
        "minutes": 180,
        "clinician": str(practice.prescriber.public_id),
        "second_clinician": str(practice.therapist.public_id),
        "room": str(room.public_id),
        "course": str(course.public_id),
    } | changes


class TestAppointments:
    def test_book_list_move_and_cancel(self, practice: Practice, room: Room) -> None:
        course = course_for(practice)
        http = signed_in(practice.therapist)
        path = f"{base(practice.client)}/appointments"
        booked = send(http, path, prep_body(practice, course, room=str(room.public_id)))
        assert booked.status_code == 201, booked.content
        body = booked.json()
        # Left out, the length is the course's pinned preparation length (60 minutes).
        starts, ends = (dt.datetime.fromisoformat(body[k]) for k in ("starts_at", "ends_at"))
        assert ends - starts == dt.timedelta(minutes=60)
        assert body["clinician"]["id"] == str(practice.therapist.public_id)
        assert body["room"]["name"] == "Room 1"
        assert (body["course"], body["state"], body["overrides"]) == (
            str(course.public_id),
            "booked",
            [],
        )
        assert AuditEvent.objects.filter(action="appointment.book", channel="api").count() == 1

        listed = http.get(path).json()
        assert [a["id"] for a in listed] == [body["id"]]
        assert reads(practice.client, "api.appointments") == 1

        later = soon(30)
        moved = send(
            http,
            f"{path}/{body['id']}/reschedule",
            {"starts_at": iso(later), "minutes": 45, "reason": "Client asked"},
        )
        assert moved.status_code == 200, moved.content
        assert dt.datetime.fromisoformat(moved.json()["starts_at"]) == later
        event = AuditEvent.objects.get(action="appointment.reschedule")
        assert event.after["reason"] == "Client asked"

        cancelled = send(
            http, f"{path}/{body['id']}/state", {"state": "cancelled", "reason": "Unwell"}
        )
        assert (cancelled.json()["state"], cancelled.json()["state_reason"]) == (
            "cancelled",
            "Unwell",
        )
        assert Appointment.objects.get().state == State.CANCELLED

    def test_bad_bookings_name_field_and_rule(self, practice: Practice, room: Room) -> None:
        course = course_for(practice)
        http = signed_in(practice.therapist)
        path = f"{base(practice.client)}/appointments"
        cases = [
            ({"starts_at": iso(soon(-3))}, {("starts_at", "past")}),
            ({"minutes": 2}, {("minutes", "out_of_range")}),
            ({"clinician": str(uuid.uuid4())}, {("clinician", "unknown_staff")}),
            ({"room": str(uuid.uuid4())}, {("room", "unknown")}),
            ({"course": str(uuid.uuid4())}, {("course", "unknown")}),
            ({"kind": "consultation", "course": None}, {("minutes", "required")}),
            (
                {"second_clinician": str(practice.therapist.public_id)},
                {("second_clinician", "same_person")},
            ),
        ]
        for changes, expected in cases:
            assert refused(http, path, prep_body(practice, course) | changes) == expected, changes
        assert refused(
            http, path, prep_body(practice, course, starts_at="2030-01-01T09:00:00"), 422
        ) == {("starts_at", "timezone_aware")}

    def test_a_course_of_another_client_cannot_be_booked_through_this_one(
        self, practice: Practice
    ) -> None:
        other = make_client()
        make_member(client=other, staff=practice.therapist)
        theirs = Course.objects.create(
            client=other, protocol="kap_sublingual", started_on=practice_today()
        )
        http = signed_in(practice.therapist)
        assert refused(
            http,
            f"{base(practice.client)}/appointments",
            prep_body(practice, theirs, minutes=60),
        ) == {("course", "unknown")}

    def test_moves_and_marks_are_checked(self, practice: Practice) -> None:
        course = course_for(practice)
        http = signed_in(practice.therapist)
        path = f"{base(practice.client)}/appointments"
        appointment_id = send(http, path, prep_body(practice, course)).json()["id"]
        one = f"{path}/{appointment_id}"
        assert refused(http, f"{one}/reschedule", {"reason": "x"}) == {("starts_at", "required")}
        assert refused(http, f"{one}/reschedule", {"starts_at": iso(soon(30))}) == {
            ("reason", "required")
        }
        assert refused(http, f"{one}/state", {}) == {("state", "required")}
        assert refused(http, f"{one}/state", {"state": "held"}) == {("state", "future")}
        assert refused(http, f"{one}/state", {"state": "cancelled"}) == {("reason", "required")}
        assert refused(http, f"{one}/state", {"state": "booked"}) == {
            ("state", "invalid_transition")
        }
        assert refused(http, f"{path}/{uuid.uuid4()}/state", {"state": "held"}, 404) == {
            (None, "not_found")
        }


class TestGates:
    def test_a_dose_too_early_is_refused_with_the_gate_codes(
        self, practice: Practice, room: Room
    ) -> None:
        course = course_for(practice)
        http = signed_in(practice.prescriber)
        found = refused(
            http, f"{base(practice.client)}/appointments", dose_body(practice, course, room)
        )
        assert found == {
            ("kind", "gate_screening"),
            ("kind", "gate_consent"),
            ("kind", "gate_preparation"),
            ("kind", "gate_baseline"),
        }
        response = send(
            http, f"{base(practice.client)}/appointments", dose_body(practice, course, room)
        )
        messages = " ".join(item["message"] for item in response.json()["errors"])
        assert "0 of 5 preparation sessions held." in messages

    def test_a_prescriber_override_books_the_dose_and_is_recorded(
        self, practice: Practice, room: Room
    ) -> None:
        course = ready_for_dosing(practice)
        Appointment.objects.filter(kind="preparation").first().delete()  # 4 of 5 held
        path = f"{base(practice.client)}/appointments"
        overrides = {"preparation": "Two years of prior therapy with us"}
        # A therapist may not override.
        assert refused(
            signed_in(practice.therapist),
            path,
            dose_body(practice, course, room, overrides=overrides),
        ) == {("overrides", "not_prescriber")}
        http = signed_in(practice.prescriber)
        booked = send(http, path, dose_body(practice, course, room, overrides=overrides))
        assert booked.status_code == 201, booked.content
        override = GateOverride.objects.get()
        assert (override.gate, override.overridden_by, override.reason) == (
            "preparation",
            practice.prescriber,
            "Two years of prior therapy with us",
        )
        shown = booked.json()["overrides"]
        assert [(o["gate"], o["gate_reason"], o["overridden_by"]["id"]) for o in shown] == [
            ("preparation", "4 of 5 preparation sessions held.", str(practice.prescriber.public_id))
        ]
        event = AuditEvent.objects.get(action="gate.override")
        assert (event.channel, event.after["reason"]) == ("api", overrides["preparation"])


def test_the_plan_gives_the_integration_windows_and_the_due_list(
    practice: Practice, room: Room
) -> None:
    course = ready_for_dosing(practice)
    http = signed_in(practice.prescriber)
    booked = send(http, f"{base(practice.client)}/appointments", dose_body(practice, course, room))
    assert booked.status_code == 201, booked.content
    response = http.get(f"{base(practice.client)}/courses/{course.public_id}/plan")
    assert response.status_code == 200
    plan = response.json()
    assert (plan["preparation_held"], plan["preparation_required"]) == (5, 5)
    [window] = plan["integration"]
    assert (window["dose"], window["state"], window["integrations"]) == (
        booked.json()["id"],
        "at_risk",
        [],
    )
    opens = dt.datetime.fromisoformat(window["opens_at"])
    closes = dt.datetime.fromisoformat(window["closes_at"])
    assert closes - opens == dt.timedelta(hours=72)
    states = {(d["instrument"], d["anchor"]): d["state"] for d in plan["due"]}
    # The baseline was completed today: done. The dose's "before" and "after" items are to come.
    assert states[("phq9", "course_start")] == "done"
    assert states[("gad7", "course_start")] == "done"
    assert states[("phq9", "before_each_dose")] in ("upcoming", "due")
    assert states[("phq9", "after_each_dose")] == "upcoming"
    openings = [d["opens_at"] for d in plan["due"]]
    assert openings == sorted(openings)
    assert reads(practice.client, "api.course_plan") == 1


# ---------------------------------------------------------------------------------------------
# Outsiders


def test_an_outsider_is_told_404_and_nothing_changes(practice: Practice, room: Room) -> None:
    course = course_for(practice)
    appointment = Appointment.objects.create(
        client=practice.client,
        course=course,
        kind="preparation",
        starts_at=soon(24),
        ends_at=soon(25),
        clinician=practice.therapist,
    )
    http = signed_in(practice.outsider)
    client_path = base(practice.client)
    for path in (
        f"{client_path}/courses",
        f"{client_path}/courses/{course.public_id}",
        f"{client_path}/consents",
        f"{client_path}/rems-enrolments",
        f"{client_path}/appointments",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert errors(response) == {(None, "not_found")}
    writes = [
        (f"{client_path}/courses/{course.public_id}/phase", {"phase": "induction"}),
        (
            f"{client_path}/consents",
            {"route": "sublingual", "signed_on": practice_today().isoformat(), "form_version": "v"},
        ),
        (
            f"{client_path}/rems-enrolments",
            {"enrolled_on": practice_today().isoformat(), "reference": "R"},
        ),
        (f"{client_path}/appointments", prep_body(practice, course, minutes=60)),
        (
            f"{client_path}/appointments/{appointment.public_id}/reschedule",
            {"starts_at": iso(soon(30)), "reason": "x"},
        ),
        (
            f"{client_path}/appointments/{appointment.public_id}/state",
            {"state": "cancelled", "reason": "x"},
        ),
    ]
    for path, body in writes:
        assert refused(http, path, body, 404) == {(None, "not_found")}, path
    assert (
        not AuditEvent.objects.filter(client_public_id=practice.client.public_id)
        .exclude(action__in=["course.start"])
        .exists()
    )


# ---------------------------------------------------------------------------------------------
# Schedules


LA = zoneinfo.ZoneInfo("America/Los_Angeles")


class TestSchedule:
    def setup_appointments(self, practice: Practice, room: Room) -> tuple[Appointment, Appointment]:
        other = Client.objects.get(legal_family_name="Person")  # the outsider's client
        start = dt.datetime(2026, 3, 4, 9, tzinfo=LA)
        jamie = Appointment.objects.create(
            client=practice.client,
            kind="preparation",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            clinician=practice.therapist,
            room=room,
        )
        theirs = Appointment.objects.create(
            client=other,
            kind="consultation",
            starts_at=start + dt.timedelta(hours=2),
            ends_at=start + dt.timedelta(hours=3),
            clinician=practice.outsider,
            room=room,
        )
        return jamie, theirs

    def test_a_room_names_only_the_clients_the_caller_may_see(
        self, practice: Practice, room: Room
    ) -> None:
        jamie, theirs = self.setup_appointments(practice, room)
        query = f"room={room.public_id}&start=2026-03-02&end=2026-03-08"
        response = signed_in(practice.outsider).get(f"{API}/schedule?{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["room"]["name"], body["time_zone"]) == ("Room 1", "America/Los_Angeles")
        hidden, shown = body["appointments"]
        assert hidden == {
            "visible": False,
            "id": None,
            "client": None,
            "kind": "preparation",
            "state": "booked",
            "starts_at": hidden["starts_at"],
            "ends_at": hidden["ends_at"],
            "date": "2026-03-04",
            "clinician": None,
            "second_clinician": None,
            "room": None,
        }
        assert dt.datetime.fromisoformat(hidden["starts_at"]) == jamie.starts_at
        assert (shown["visible"], shown["client"], shown["id"]) == (
            True,
            str(theirs.client.public_id),
            str(theirs.public_id),
        )
        assert str(practice.client.public_id) not in response.content.decode()
        event = AuditEvent.objects.get(action="schedule.read")
        assert (event.channel, event.subject_public_id) == ("api", room.public_id)
        assert event.detail["clients"] == [str(theirs.client.public_id)]

    def test_a_clinician_with_the_default_week(self, practice: Practice, room: Room) -> None:
        jamie, _ = self.setup_appointments(practice, room)
        http = signed_in(practice.therapist)
        empty = http.get(f"{API}/schedule?clinician={practice.therapist.public_id}").json()
        assert dt.date.fromisoformat(empty["end"]) - dt.date.fromisoformat(
            empty["start"]
        ) == dt.timedelta(days=6)
        week = http.get(
            f"{API}/schedule?clinician={practice.therapist.public_id}&start=2026-03-04&end=2026-03-04"
        ).json()
        assert [a["client"] for a in week["appointments"]] == [str(practice.client.public_id)]
        assert week["appointments"][0]["id"] == str(jamie.public_id)

    def test_bad_queries(self, practice: Practice, room: Room) -> None:
        http = signed_in(practice.front_desk)
        before = AuditEvent.objects.count()
        therapist = practice.therapist.public_id
        cases = [
            ("", ("clinician", "one_of")),
            (f"clinician={therapist}&room={room.public_id}", ("clinician", "one_of")),
            (f"room={uuid.uuid4()}", ("room", "unknown")),
            (f"clinician={uuid.uuid4()}", ("clinician", "unknown")),
            (f"room={room.public_id}&start=2026-03-09&end=2026-03-08", ("end", "end_before_start")),
            (f"room={room.public_id}&start=2026-01-01&end=2026-12-31", ("end", "too_long")),
        ]
        for query, expected in cases:
            response = http.get(f"{API}/schedule?{query}")
            assert response.status_code == 400, query
            assert errors(response) == {expected}, query
        assert AuditEvent.objects.count() == before
        malformed = http.get(f"{API}/schedule?room=nope")
        assert malformed.status_code == 422
        assert errors(malformed) == {("query.room", "uuid_parsing")}
