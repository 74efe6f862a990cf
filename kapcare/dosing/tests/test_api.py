"""The dosing-session endpoints: a whole IV session from opening to sign-off, an esketamine
dose, errors naming their field and rule with nothing saved, a session reached only through its
own client, who may do what (others get 404), the lists, and token authentication."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.services import api_token_create
from kapcare.clients.models import CareTeamRole, Client
from kapcare.clients.tests.test_api import Api
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment
from kapcare.dosing import services
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    ScaleRow,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.dosing.tests.test_pre_check_and_dose import GOOD, session_for
from kapcare.safety.models import SafetyFlag
from kapcare.stock.models import Location, Movement
from kapcare.testing.factories import make_member
from kapcare.testing.personas import Practice

MODELS = (
    DosingSession,
    Dose,
    VitalsRow,
    ScaleRow,
    SideEffectRow,
    WorkRow,
    AdverseEvent,
    Movement,
    SafetyFlag,
    AuditEvent,
)


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in MODELS)


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


def stamp(moment: dt.datetime) -> str:
    return moment.isoformat()


def base(session: DosingSession, client: Client | None = None) -> str:
    owner = client or session.client
    return f"/clients/{owner.public_id}/dosing-sessions/{session.public_id}"


def pre_check_body(**changes: Any) -> dict[str, Any]:
    body = {key: str(value) if isinstance(value, Decimal) else value for key, value in GOOD.items()}
    return body | changes


def iv_dose_body(practice: Practice, given: dt.datetime, **changes: Any) -> dict[str, Any]:
    body = {
        "product": "Ketamine HCl 10 mg/mL",
        "lot": "K2611A",
        "expires_on": str(practice_today() + dt.timedelta(days=200)),
        "dose_mg": "35.0",
        "concentration_mg_per_ml": "10",
        "infusion_minutes": 40,
        "therapist_present": str(practice.therapist.public_id),
        "given_at": stamp(given),
        "location": str(Location.objects.get().public_id),
    }
    return body | changes


def dosed(practice: Practice, minutes_ago: int = 60) -> tuple[DosingSession, dt.datetime]:
    """An IV session checked and dosed through the API `minutes_ago` (a 40-minute infusion)."""
    session = session_for(practice, "iv_racemic")
    given = now() - dt.timedelta(minutes=minutes_ago)
    nurse = Api(practice.nurse)
    checked = nurse.post(
        f"{base(session)}/pre-check",
        pre_check_body(checked_at=stamp(given - dt.timedelta(minutes=5))),
    )
    assert checked.status_code == 200, checked.json()
    response = nurse.post(f"{base(session)}/dose", iv_dose_body(practice, given))
    assert response.status_code == 201, response.json()
    return session, given


# ---------------------------------------------------------------------------------------------
# The whole session


def test_a_whole_iv_session_through_the_api(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    nurse, prescriber = Api(practice.nurse), Api(practice.prescriber)
    therapist = Api(practice.therapist)
    root = base(session)
    # Opening the appointment's session again answers with the one already open.
    opened = nurse.post(
        f"/clients/{practice.client.public_id}/appointments/"
        f"{session.appointment.public_id}/dosing-session",
        {},
    )
    assert opened.status_code == 200
    assert (opened.json()["id"], opened.json()["state"]) == (str(session.public_id), "checking")
    assert opened.json()["pre_check"] is None

    given = now() - dt.timedelta(minutes=60)

    def at(minutes: int) -> str:
        return stamp(given + dt.timedelta(minutes=minutes))

    # The pre-dose check: answers and judged checks, with reason and source.
    checked = nurse.post(f"{root}/pre-check", pre_check_body(checked_at=at(-5)))
    assert checked.status_code == 200, checked.json()
    pre = checked.json()["pre_check"]
    assert pre["passed"] is True
    assert pre["checked_by"]["id"] == str(practice.nurse.public_id)
    assert pre["answers"]["weight_kg"] == "70.0"
    bp = next(check for check in pre["checks"] if check["code"] == "bp")
    assert bp["passed"] is True
    assert bp["reason"]
    assert bp["source"]
    assert bp["overridden_by"] == ""

    # The dose, by the nurse, from a named storage location, given an hour ago.
    response = nurse.post(f"{root}/dose", iv_dose_body(practice, given))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "dosed"
    dose = body["dose"]
    assert (dose["dose_mg"], dose["mg_per_kg"], dose["route"]) == ("35.00", "0.50", "intravenous")
    ends = dt.datetime.fromisoformat(dose["completed_at"])
    assert ends - dt.datetime.fromisoformat(dose["given_at"]) == dt.timedelta(minutes=40)
    assert dose["therapist_present"]["id"] == str(practice.therapist.public_id)
    assert Movement.objects.get(dose__public_id=dose["id"]).kind == "administered"

    # Vitals through the infusion; a reading past the stop rule alerts and raises a safety flag.
    readings = [
        (10, {"systolic": 130, "diastolic": 84, "heart_rate": 80, "spo2": 98}),
        (20, {"systolic": 186, "diastolic": 104, "heart_rate": 92, "spo2": 97}),
        (30, {"systolic": 150, "diastolic": 90, "heart_rate": 84, "spo2": 98}),
        (40, {"systolic": 134, "diastolic": 84, "heart_rate": 78, "spo2": 98}),
        (55, {"systolic": 124, "diastolic": 80, "heart_rate": 72, "spo2": 99}),
    ]
    ids = {}
    for minute, values in readings:
        response = nurse.post(f"{root}/vitals", values | {"taken_at": at(minute)})
        assert response.status_code == 201, response.json()
        ids[minute] = response.json()["id"]
        if minute == 20:
            line = response.json()
            assert line["kind"] == "vitals"
            assert line["values"]["systolic"] == 186
            assert [alert["code"] for alert in line["alerts"]] == ["bp_stop"]
            assert line["alerts"][0]["severity"] == "stop"
    flag = SafetyFlag.objects.get(source_session=session)
    assert (flag.kind, flag.rule, flag.closed_at) == ("vital_signs", "bp_stop", None)

    # A correction keeps the original and names it.
    fixed = nurse.post(
        f"{root}/vitals",
        {
            "taken_at": at(40),
            "systolic": 132,
            "diastolic": 84,
            "heart_rate": 78,
            "spo2": 98,
            "corrects": ids[40],
            "correction_reason": "Transposed digits",
        },
    )
    assert fixed.status_code == 201, fixed.json()
    assert fixed.json()["corrects"] == ids[40]

    # Scores, a side effect and the therapeutic work (the therapist charts too).
    for scale in (
        {"scale": "moaas", "score": 5, "taken_at": at(50)},
        {"scale": "cadss", "score": 2, "version": "cadss23", "taken_at": at(50)},
    ):
        assert nurse.post(f"{root}/scales", scale).status_code == 201
    effect = nurse.post(
        f"{root}/side-effects", {"effect": "nausea", "severity": "mild", "taken_at": at(25)}
    )
    assert effect.status_code == 201, effect.json()
    work = therapist.post(
        f"{root}/work", {"kind": "emdr", "detail": "Three sets on the accident", "taken_at": at(35)}
    )
    assert work.status_code == 201, work.json()
    assert work.json()["by"]["id"] == str(practice.therapist.public_id)

    # The session as it stands: every line, the due vitals, the criteria as they stand.
    read = nurse.get(root)
    assert read.status_code == 200
    sheet = read.json()
    kinds = [line["kind"] for line in sheet["lines"]]
    assert kinds.count("vitals") == 7  # the pre-dose reading, five, and the correction
    assert {"moaas", "cadss", "side_effect", "work"} <= set(kinds)
    original = next(line for line in sheet["lines"] if line["id"] == ids[40])
    assert original["corrected"] is True
    assert original["corrected_by"] == fixed.json()["id"]
    states = {item["label"]: item["state"] for item in sheet["vitals_due"]}
    assert states["Pre-dose"] == "done"
    assert "done" in states.values()
    assert sheet["alerts"] == []  # the latest reading is back down
    assert [flag["rule"] for flag in sheet["safety_flags"]] == ["bp_stop"]
    criteria = {check["code"]: check for check in sheet["discharge_criteria"]}
    assert criteria["observation"]["passed"] is False
    assert criteria["sedation"]["passed"] is True
    assert AuditEvent.objects.filter(
        action="dosing_session.read", actor=practice.nurse, channel="api"
    ).exists()

    # Discharge: not by the therapist; refused early with the reasons; a prescriber overrides.
    answers = {"escort_present": True, "no_driving_counselled": True}
    refused = therapist.post(f"{root}/discharge", answers)
    assert refused.status_code == 400
    assert errors(refused) == {("discharged_at", "not_credentialed")}
    before = counts()
    early = nurse.post(f"{root}/discharge", answers)
    assert early.status_code == 400
    assert errors(early) == {("overrides", "not_ready")}
    assert "Minimum observation" in early.json()["errors"][0]["message"]
    reason = {"observation": "Stable, escort waiting; reviewed at the bedside"}
    not_yours = nurse.post(f"{root}/discharge", answers | {"overrides": reason})
    assert errors(not_yours) == {("overrides", "not_prescriber")}
    assert counts() == before
    discharged = prescriber.post(f"{root}/discharge", answers | {"overrides": reason})
    assert discharged.status_code == 200, discharged.json()
    record = discharged.json()["discharge"]
    assert discharged.json()["state"] == "discharged"
    assert record["discharged_by"]["id"] == str(practice.prescriber.public_id)
    observation = next(check for check in record["checks"] if check["code"] == "observation")
    assert observation["passed"] is False
    assert observation["override_reason"] == reason["observation"]
    assert record["answers"]["escort_present"] is True

    # Both sign; the prescriber is not the session's dyad.
    assert errors(prescriber.post(f"{root}/sign", {})) == {("session", "not_dyad")}
    half = nurse.post(f"{root}/sign", {})
    assert half.status_code == 200
    assert half.json()["sign_off"]["signed"] is False
    assert half.json()["sign_off"]["monitor_signed_by"]["id"] == str(practice.nurse.public_id)
    signed = therapist.post(f"{root}/sign", {})
    assert signed.status_code == 200
    assert (signed.json()["state"], signed.json()["sign_off"]["signed"]) == ("signed", True)

    # Nothing more is charted on a signed session.
    before = counts()
    for path, payload, field in (
        ("vitals", {"heart_rate": 70}, "taken_at"),
        ("scales", {"scale": "moaas", "score": 5}, "scale"),
        ("side-effects", {"effect": "headache", "severity": "mild"}, "effect"),
        ("work", {"kind": "note", "detail": "Late note"}, "kind"),
        ("discharge", answers, "discharged_at"),
        ("pre-check", pre_check_body(), "identity_confirmed"),
        ("dose", iv_dose_body(practice, now()), "dose_mg"),
        ("sign", {}, "session"),
    ):
        response = therapist.post(f"{root}/{path}", payload)
        assert response.status_code == 400, path
        assert errors(response) == {(field, "signed")}, path
    assert counts() == before


def test_opening_a_session_of_a_dosing_appointment(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    later = Appointment.objects.create(
        client=practice.client,
        course=session.course,
        kind="dosing",
        starts_at=now() + dt.timedelta(days=7),
        ends_at=now() + dt.timedelta(days=7, hours=3),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=session.appointment.room,
    )
    nurse = Api(practice.nurse)
    path = f"/clients/{practice.client.public_id}/appointments/{later.public_id}/dosing-session"
    first = nurse.post(path, {})
    assert first.status_code == 201, first.json()
    assert first.json()["appointment"]["id"] == str(later.public_id)
    assert first.json()["dose"] is None
    again = nurse.post(path, {})
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert AuditEvent.objects.filter(action="dosing.open").count() == 2  # the helper's and this

    prep = Appointment.objects.create(
        client=practice.client,
        course=session.course,
        kind="preparation",
        starts_at=now() + dt.timedelta(days=1),
        ends_at=now() + dt.timedelta(days=1, hours=1),
        clinician=practice.therapist,
    )
    refused = nurse.post(
        f"/clients/{practice.client.public_id}/appointments/{prep.public_id}/dosing-session", {}
    )
    assert refused.status_code == 400
    assert errors(refused) == {("appointment", "not_dosing")}
    assert Api(practice.front_desk).post(path, {}).status_code == 404


def test_an_esketamine_dose_of_56_mg(practice: Practice) -> None:
    session = session_for(practice, "esketamine")
    nurse = Api(practice.nurse)
    checked = nurse.post(
        f"{base(session)}/pre-check",
        pre_check_body(weight_kg=None, minutes_since_food=180, minutes_since_liquid=45),
    )
    assert checked.json()["pre_check"]["passed"] is True, checked.json()
    response = nurse.post(
        f"{base(session)}/dose",
        {
            "product": "Spravato 28 mg device",
            "lot": "ES1",
            "expires_on": str(practice_today() + dt.timedelta(days=200)),
            "dose_mg": 56,
            "therapist_present": str(practice.therapist.public_id),
        },
    )
    assert response.status_code == 201, response.json()
    dose = response.json()["dose"]
    assert (dose["route"], dose["dose_mg"], dose["devices"]) == ("intranasal", "56.00", 2)
    assert (dose["mg_per_kg"], dose["infusion_minutes"]) == (None, None)
    # The label's timetable: a reading at about 40 minutes is due after the pre-dose one.
    kinds = [item["kind"] for item in response.json()["vitals_due"]]
    assert kinds[0] == "pre_dose"
    assert "peak" in kinds
    taken = Movement.objects.get(dose__public_id=dose["id"])
    assert (taken.quantity_mg, taken.lot.lot_number) == (Decimal("-56.00"), "ES1")


# ---------------------------------------------------------------------------------------------
# Errors


def test_errors_name_the_field_and_save_nothing(practice: Practice) -> None:
    session, given = dosed(practice)
    nurse = Api(practice.nurse)
    root = base(session)
    before = counts()
    # The schema: wrong types, unknown fields, a time without its zone, too many decimals.
    for path, payload, expected in (
        ("vitals", {"systolic": "high"}, ("systolic", "int_parsing")),
        ("vitals", {"heart_rate": 80, "mood": "fine"}, ("mood", "extra_forbidden")),
        ("vitals", {"heart_rate": 80, "taken_at": "2026-03-06T10:00:00"}, None),
        ("pre-check", {"weight_kg": "70.25"}, ("weight_kg", "decimal_max_places")),
        ("dose", {"infusion_minutes": 5000}, ("infusion_minutes", "less_than_equal")),
    ):
        response = nurse.post(f"{root}/{path}", payload)
        assert response.status_code == 422, (path, response.json())
        if expected is not None:
            assert errors(response) == {expected}, path
        else:
            assert errors(response) == {("taken_at", "timezone_aware")}
    # Missing fields, all at once, after the access check.
    missing = nurse.post(f"{root}/dose", {})
    assert missing.status_code == 400
    assert errors(missing) == {
        (field, "required")
        for field in ("product", "lot", "expires_on", "dose_mg", "therapist_present")
    }
    assert errors(nurse.post(f"{root}/scales", {})) == {
        ("scale", "required"),
        ("score", "required"),
    }
    assert errors(nurse.post(f"{root}/discharge", {})) == {
        ("escort_present", "required"),
        ("no_driving_counselled", "required"),
    }
    # The services' rules, each naming its field.
    for path, payload, rules in (
        ("vitals", {"systolic": 400, "diastolic": 90}, {("systolic", "implausible")}),
        ("vitals", {"systolic": 120}, {("diastolic", "bp_incomplete")}),
        ("vitals", {}, {("systolic", "required")}),
        (
            "vitals",
            {"heart_rate": 80, "taken_at": stamp(now() + dt.timedelta(hours=1))},
            {("taken_at", "future")},
        ),
        (
            "vitals",
            {"heart_rate": 80, "corrects": str(uuid.uuid4()), "correction_reason": "x"},
            {("corrects", "not_found")},
        ),
        ("scales", {"scale": "cadss", "score": 3}, {("version", "required")}),
        ("scales", {"scale": "moaas", "score": 9}, {("score", "out_of_range")}),
        ("side-effects", {"effect": "hiccups", "severity": "mild"}, {("effect", "invalid_choice")}),
        ("work", {"kind": "emdr", "detail": "  "}, {("detail", "required")}),
        (
            "adverse-events",
            {
                "event": "Vomiting",
                "onset_at": stamp(given),
                "severity": "mild",
                "seriousness": "grave",
                "related": "related",
            },
            {("seriousness", "invalid_choice")},
        ),
        (
            "discharge",
            {"escort_present": True, "no_driving_counselled": True, "overrides": {"unicorn": "x"}},
            {("overrides", "not_prescriber")},
        ),
    ):
        response = nurse.post(f"{root}/{path}", payload)
        assert response.status_code == 400, (path, response.json())
        assert errors(response) == rules, (path, response.json())
    assert counts() == before


def test_a_dose_with_an_unknown_location_or_therapist_saves_nothing(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    nurse = Api(practice.nurse)
    root = base(session)
    given = now() - dt.timedelta(minutes=30)
    assert nurse.post(f"{root}/pre-check", pre_check_body()).status_code == 200
    before = counts()
    for changes, expected in (
        ({"location": str(uuid.uuid4())}, ("location", "unknown")),
        ({"therapist_present": str(uuid.uuid4())}, ("therapist_present", "unknown_staff")),
        (
            {"therapist_present": str(practice.nurse.public_id)},
            ("therapist_present", "not_therapist"),
        ),
        ({"lot": "NOPE-1"}, ("lot", "unknown_lot")),
        ({"dose_mg": "80", "given_at": stamp(now())}, ("dose_mg", "max_dose")),
    ):
        response = nurse.post(f"{root}/dose", iv_dose_body(practice, given, **changes))
        assert response.status_code == 400, changes
        assert errors(response) == {expected}, response.json()
    assert counts() == before
    session.refresh_from_db()
    assert session.state == SessionState.CHECKING


# ---------------------------------------------------------------------------------------------
# Access


def test_a_session_of_another_client_is_404(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    other = Client.objects.exclude(pk=practice.client.pk).get()
    # The nurse may see both clients: the session still belongs to only one of them.
    make_member(client=other, staff=practice.nurse, role=CareTeamRole.NURSE)
    nurse = Api(practice.nurse)
    before = counts()
    for path, payload in (
        ("", None),
        ("/vitals", {"heart_rate": 80}),
        ("/pre-check", pre_check_body()),
        ("/sign", {}),
    ):
        wrong = f"{base(session, other)}{path}"
        ghost = f"/clients/{other.public_id}/dosing-sessions/{uuid.uuid4()}{path}"
        if payload is None:
            response, nothing = nurse.get(wrong), nurse.get(ghost)
        else:
            response, nothing = nurse.post(wrong, payload), nurse.post(ghost, payload)
        assert response.status_code == 404, path
        assert (
            response.json()
            == nothing.json()
            == {"errors": [{"field": None, "rule": "not_found", "message": "Not found."}]}
        )
    assert counts() == before  # nothing charted, nothing audited as read
    # Nor is an appointment of the client opened through another client.
    path = f"/clients/{other.public_id}/appointments/{session.appointment.public_id}/dosing-session"
    assert nurse.post(path, {}).status_code == 404


@pytest.mark.parametrize("who", ["front_desk", "admin", "outsider", "outsider_prescriber"])
def test_anyone_but_the_clinicians_on_the_team_gets_404(practice: Practice, who: str) -> None:
    session, _given = dosed(practice)
    api = Api(getattr(practice, who))
    client = practice.client.public_id
    before = counts()
    for path in (
        f"/clients/{client}/dosing-sessions",
        f"/clients/{client}/adverse-events",
        base(session),
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert errors(response) == {(None, "not_found")}
    for path, payload in (
        ("vitals", {"heart_rate": 80}),
        ("work", {"kind": "note", "detail": "x"}),
        ("discharge", {"escort_present": True, "no_driving_counselled": True}),
        ("sign", {}),
    ):
        assert api.post(f"{base(session)}/{path}", payload).status_code == 404
    assert counts() == before


def test_the_therapist_charts_but_does_not_dose_or_discharge(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    therapist = Api(practice.therapist)
    root = base(session)
    given = now() - dt.timedelta(minutes=60)
    assert (
        therapist.post(
            f"{root}/pre-check", pre_check_body(checked_at=stamp(given - dt.timedelta(minutes=5)))
        ).status_code
        == 200
    )
    before = counts()
    response = therapist.post(f"{root}/dose", iv_dose_body(practice, given))
    assert response.status_code == 400
    assert ("given_by", "not_credentialed") in errors(response)
    assert counts() == before
    assert (
        Api(practice.nurse).post(f"{root}/dose", iv_dose_body(practice, given)).status_code == 201
    )
    refused = therapist.post(
        f"{root}/discharge",
        {"escort_present": True, "no_driving_counselled": True, "overrides": {"observation": "x"}},
    )
    assert refused.status_code == 400
    assert ("discharged_at", "not_credentialed") in errors(refused)
    assert (
        therapist.post(f"{root}/work", {"kind": "somatic", "detail": "Grounding"}).status_code
        == 201
    )
    assert therapist.get(root).status_code == 200


# ---------------------------------------------------------------------------------------------
# Lists


def test_the_session_list(practice: Practice) -> None:
    session, _given = dosed(practice)
    nurse = Api(practice.nurse)
    response = nurse.get(f"/clients/{practice.client.public_id}/dosing-sessions")
    assert response.status_code == 200
    [item] = response.json()
    assert (item["id"], item["state"], item["route"], item["protocol"]) == (
        str(session.public_id),
        "dosed",
        "intravenous",
        "iv_racemic",
    )
    assert item["dose"]["dose_mg"] == "35.00"
    assert item["starts_at"]
    event = AuditEvent.objects.filter(action="client.read").latest("id")
    assert (event.detail or {})["view"] == "api.dosing_sessions"


def test_the_session_list_costs_the_same_whatever_its_length(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    nurse = Api(practice.nurse)
    path = f"/clients/{practice.client.public_id}/dosing-sessions"

    def add(n: int) -> None:
        for day in range(n):
            appointment = Appointment.objects.create(
                client=practice.client,
                course=session.course,
                kind="dosing",
                starts_at=now() + dt.timedelta(days=10 + day + DosingSession.objects.count()),
                ends_at=now()
                + dt.timedelta(days=10 + day + DosingSession.objects.count(), hours=2),
                clinician=practice.nurse,
                second_clinician=practice.therapist,
            )
            services.session_open(actor=practice.nurse, appointment=appointment)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert nurse.get(path).status_code == 200
        return len(captured.captured_queries)

    add(2)
    queries()  # the token's first use is written once; later calls do not write it
    few = queries()
    add(20)
    assert queries() == few
    assert len(nurse.get(path).json()) == 23


def test_reading_a_session_costs_the_same_whatever_it_holds(practice: Practice) -> None:
    session, given = dosed(practice, minutes_ago=200)
    nurse = Api(practice.nurse)

    def chart(n: int, start: int) -> None:
        for minute in range(start, start + n):
            moment = given + dt.timedelta(minutes=minute)
            services.vitals_record(
                actor=practice.nurse, session=session, taken_at=moment, heart_rate=70 + minute % 9
            )
            services.scale_record(
                actor=practice.nurse, session=session, scale="moaas", score=5, taken_at=moment
            )
            services.work_record(
                actor=practice.therapist, session=session, kind="note", detail="x", taken_at=moment
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert nurse.get(base(session)).status_code == 200
        return len(captured.captured_queries)

    chart(2, 1)
    queries()  # the token's first use is written once
    few = queries()
    chart(30, 10)
    assert queries() == few
    assert len(nurse.get(base(session)).json()["lines"]) == 1 + 32 * 3


def test_adverse_events_awaiting_follow_up_first_and_flagged(practice: Practice) -> None:
    session, given = dosed(practice)
    nurse = Api(practice.nurse)
    path = f"{base(session)}/adverse-events"
    mild = nurse.post(
        path,
        {
            "event": "Nausea needing an antiemetic",
            "onset_at": stamp(given + dt.timedelta(minutes=30)),
            "severity": "mild",
            "seriousness": "not_serious",
            "related": "related",
            "action": "Ondansetron 4 mg",
            "outcome": "Resolved",
        },
    )
    assert mild.status_code == 201, mild.json()
    serious = nurse.post(
        path,
        {
            "event": "Hypertensive urgency",
            "onset_at": stamp(given + dt.timedelta(minutes=20)),
            "severity": "severe",
            "seriousness": "serious",
            "related": "possibly",
        },
    )
    assert serious.status_code == 201, serious.json()
    assert serious.json()["session"] == str(session.public_id)
    assert serious.json()["awaiting_follow_up"] is True
    earlier = nurse.post(
        path,
        {
            "event": "Fall on standing",
            "onset_at": stamp(given + dt.timedelta(minutes=40)),
            "severity": "moderate",
            "seriousness": "serious",
            "related": "possibly",
        },
    )
    assert earlier.status_code == 201, earlier.json()
    # Its follow-up is recorded (written straight to the row: the follow-up is not in the API).
    AdverseEvent.objects.filter(public_id=earlier.json()["id"]).update(followed_up_at=now())
    listed = nurse.get(f"/clients/{practice.client.public_id}/adverse-events")
    assert listed.status_code == 200
    events = listed.json()
    # Serious and awaiting follow-up first, then the rest, latest onset first.
    assert [event["event"] for event in events] == [
        "Hypertensive urgency",
        "Fall on standing",
        "Nausea needing an antiemetic",
    ]
    flags = [(event["serious"], event["awaiting_follow_up"]) for event in events]
    assert flags == [(True, True), (True, False), (False, False)]
    assert events[2]["recorded_by"]["id"] == str(practice.nurse.public_id)
    assert (events[2]["action"], events[2]["outcome"]) == ("Ondansetron 4 mg", "Resolved")
    sheet = nurse.get(base(session)).json()
    assert {event["id"] for event in sheet["adverse_events"]} == {e["id"] for e in events}


# ---------------------------------------------------------------------------------------------
# Authentication


def test_a_token_works_without_a_session_or_csrf(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    _, raw = api_token_create(actor=practice.nurse, name="bedside monitor")
    http = HttpClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    root = f"/api/v1{base(session)}"
    assert http.get(root).status_code == 200
    response = http.post(
        f"{root}/vitals",
        json.dumps({"heart_rate": 76, "spo2": 98}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    event = AuditEvent.objects.get(action="dosing.vitals")
    assert (event.actor, event.channel) == (practice.nurse, "api")
    assert HttpClient(HTTP_X_API_KEY=raw).get(root).status_code == 200


def test_signed_out_and_csrf(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    root = f"/api/v1{base(session)}"
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(practice.nurse)  # the sign-in is audited; the refusals below are not
    before = counts()
    anonymous = HttpClient()
    assert anonymous.get(root).status_code == 401
    body = json.dumps({"heart_rate": 76})
    assert (
        anonymous.post(f"{root}/vitals", body, content_type="application/json").status_code == 401
    )
    response = browser.post(f"{root}/vitals", body, content_type="application/json")
    assert response.status_code == 403
    assert counts() == before
