"""Discharge through the service (every criterion, too early, prescriber overrides, stored as
judged), vital-signs safety flags raised from the flowsheet and closed by a review, and the
flowsheet read model (due times, corrections, alerts) with a flat query count."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment, Room
from kapcare.dosing import flowsheet, rules, services
from kapcare.dosing.models import DosingSession, SessionState, VitalsRow
from kapcare.dosing.tests.test_pre_check_and_dose import GOOD, session_for
from kapcare.safety import services as safety_services
from kapcare.safety.models import FlagKind, SafetyFlag
from kapcare.safety.selectors import blocks_dosing
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

MINUTE = dt.timedelta(minutes=1)


def dosed(practice: Practice, protocol: str, minutes_ago: int) -> DosingSession:
    """A session whose dose was given `minutes_ago` (pre-check ten minutes before it)."""
    session = session_for(practice, protocol)
    given = now() - minutes_ago * MINUTE
    services.pre_check_record(
        actor=practice.nurse, session=session, checked_at=given - 10 * MINUTE, **GOOD
    )
    session.refresh_from_db()
    fields: dict[str, Any] = {
        "product": "Ketamine HCl 10 mg/mL",
        "lot": "K2611A",
        "expires_on": practice_today() + dt.timedelta(days=200),
        "dose_mg": Decimal("35.0"),
        "therapist_present": practice.therapist,
        "given_at": given,
    }
    if protocol == "iv_racemic":
        fields |= {"concentration_mg_per_ml": Decimal("10"), "infusion_minutes": 40}
    if protocol == "esketamine":
        fields |= {"product": "Spravato 28 mg device", "lot": "ES1", "dose_mg": Decimal("56")}
    services.dose_record(actor=practice.nurse, session=session, **fields)
    session.refresh_from_db()
    return session


def vitals(
    practice: Practice, session: DosingSession, minutes_ago: int, bp: str, **more: Any
) -> VitalsRow:
    systolic, diastolic = (int(part) for part in bp.split("/"))
    return services.vitals_record(
        actor=practice.nurse,
        session=session,
        taken_at=now() - minutes_ago * MINUTE,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=more.get("heart_rate", 76),
        spo2=more.get("spo2", 98),
        respiratory_rate=more.get("respiratory_rate", 14),
    )


def settled(practice: Practice, session: DosingSession) -> None:
    """Readings falling back towards the baseline, alert, dissociation resolved."""
    vitals(practice, session, 20, "136/86")
    vitals(practice, session, 5, "126/80")
    services.scale_record(actor=practice.nurse, session=session, scale="moaas", score=5)
    services.scale_record(
        actor=practice.therapist, session=session, scale="cadss", score=2, version="cadss23"
    )


def discharge(
    practice: Practice, session: DosingSession, actor: Any = None, **changes: Any
) -> DosingSession:
    fields: dict[str, Any] = {"escort_present": True, "no_driving_counselled": True}
    return services.discharge_record(
        actor=actor or practice.nurse, session=session, **(fields | changes)
    )


def codes(raised: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {f: [e.code for e in errs] for f, errs in raised.value.error_dict.items()}  # type: ignore[misc]


class TestDischarge:
    def test_every_criterion_met_discharges_and_stores_the_checks(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)  # infusion ended 160 min ago
        settled(practice, session)
        done = discharge(practice, session)
        assert done.state == SessionState.DISCHARGED
        assert done.discharged_by == practice.nurse
        assert all(check["passed"] for check in done.discharge["checks"])
        assert {c["code"] for c in done.discharge["checks"]} == {
            "observation",
            "vitals",
            "bp_trend",
            "sedation",
            "dissociation",
            "escort",
            "no_driving",
        }
        assert done.discharge["parameter_versions"]
        event = AuditEvent.objects.get(action="dosing.discharge")
        assert event.after is not None
        assert event.after["failed"] == []

    def test_too_early_is_refused_with_the_reason_and_nothing_is_saved(
        self, practice: Practice
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=100)  # ended 60 min ago; 120 needed
        settled(practice, session)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert codes(raised) == {"overrides": ["not_ready"]}
        assert "Minimum observation" in str(raised.value)
        assert "at least 2 h" in str(raised.value)
        session.refresh_from_db()
        assert session.state == SessionState.DOSED
        assert not AuditEvent.objects.filter(action="dosing.discharge").exists()

    def test_an_early_discharge_needs_a_prescriber_with_a_reason(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=100)
        settled(practice, session)
        reason = {"observation": "Stable, escort waiting, prescriber saw the client"}
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session, overrides=reason)
        assert codes(raised) == {"overrides": ["not_prescriber"]}
        done = discharge(practice, session, actor=practice.prescriber, overrides=reason)
        assert done.state == SessionState.DISCHARGED
        observation = next(c for c in done.discharge["checks"] if c["code"] == "observation")
        assert observation["passed"] is False
        assert observation["overridden_by"] == practice.prescriber.display_name
        assert observation["override_reason"] == reason["observation"]
        event = AuditEvent.objects.get(action="dosing.discharge")
        assert event.after is not None
        assert event.after["overridden"] == ["observation"]

    @pytest.mark.parametrize(
        ("changes", "criterion"),
        [
            ({"escort_present": False}, "escort"),
            ({"no_driving_counselled": False}, "no_driving"),
            ({"dissociation_resolved": False}, "dissociation"),
        ],
    )
    def test_each_answer_holds_the_discharge(
        self, practice: Practice, changes: dict[str, Any], criterion: str
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session, **changes)
        failed = [c for c in flowsheet_checks(session, **changes) if not c.passed]
        assert [c.code for c in failed] == [criterion]
        assert failed[0].title in str(raised.value)

    def test_sedation_not_resolved_holds(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        services.scale_record(actor=practice.nurse, session=session, scale="moaas", score=4)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert "MOAA/S 4" in str(raised.value)

    def test_an_unknown_override_code_is_refused(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session, actor=practice.prescriber, overrides={"bp": "why"})
        assert codes(raised) == {"overrides": ["invalid_choice"]}

    def test_a_therapist_does_not_discharge(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session, actor=practice.therapist)
        assert codes(raised) == {"discharged_at": ["not_credentialed"]}

    def test_not_before_the_dose_and_not_twice(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert codes(raised) == {"discharged_at": ["not_dosed"]}
        session = dosed_again = dosed_session_of_other(practice)
        settled(practice, dosed_again)
        discharge(practice, session)
        session.refresh_from_db()
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert codes(raised) == {"discharged_at": ["not_dosed"]}

    def test_a_discharge_time_before_the_dose_ends_is_refused(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)  # the infusion runs 40 min
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert codes(raised) == {"discharged_at": ["before_dose"]}

    def test_after_discharge_the_dyad_signs_and_nothing_more_is_charted(
        self, practice: Practice
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        discharge(practice, session)
        session.refresh_from_db()
        services.session_sign(actor=practice.nurse, session=session)
        signed = services.session_sign(actor=practice.therapist, session=session)
        assert signed.state == SessionState.SIGNED
        with pytest.raises(ValidationError) as raised:
            vitals(practice, signed, 1, "120/80")
        assert codes(raised) == {"taken_at": ["signed"]}


def dosed_session_of_other(practice: Practice) -> DosingSession:
    """The first session of the test is still checking: cancel its appointment and dose in a
    second one of the same course, as a later session would be."""
    first = DosingSession.objects.get()
    Appointment.objects.filter(pk=first.appointment_id).update(state="cancelled")
    assert first.appointment.course_id is not None
    return dosed_existing(practice, first.appointment.course_id)


def dosed_existing(practice: Practice, course_id: int) -> DosingSession:
    appointment = Appointment.objects.create(
        client=practice.client,
        course_id=course_id,
        kind="dosing",
        starts_at=now() - dt.timedelta(hours=4),
        ends_at=now() - dt.timedelta(hours=1),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name="Bay 2"),
    )
    session = services.session_open(actor=practice.nurse, appointment=appointment)
    given = now() - 200 * MINUTE
    services.pre_check_record(
        actor=practice.nurse, session=session, checked_at=given - 10 * MINUTE, **GOOD
    )
    session.refresh_from_db()
    services.dose_record(
        actor=practice.nurse,
        session=session,
        product="Ketamine HCl 10 mg/mL",
        lot="K2611A",
        expires_on=practice_today() + dt.timedelta(days=200),
        dose_mg=Decimal("35.0"),
        therapist_present=practice.therapist,
        given_at=given,
        concentration_mg_per_ml=Decimal("10"),
        infusion_minutes=40,
    )
    session.refresh_from_db()
    return session


def flowsheet_checks(session: DosingSession, **answers: Any) -> list[rules.Check]:
    session.refresh_from_db()
    sheet = flowsheet.flowsheet(
        session,
        now(),
        escort_present=answers.get("escort_present", True),
        no_driving_counselled=answers.get("no_driving_counselled", True),
        dissociation_resolved=answers.get("dissociation_resolved"),
    )
    return sheet.discharge_checks


class TestEsketamineDischarge:
    def test_the_label_two_hours_hold_an_early_esketamine_discharge(
        self, practice: Practice
    ) -> None:
        # 2 devices: the dose ends 5 minutes after the first; 100 minutes is under 2 h.
        session = dosed(practice, "esketamine", minutes_ago=100)
        settled(practice, session)
        with pytest.raises(ValidationError) as raised:
            discharge(practice, session)
        assert "Minimum observation" in str(raised.value)
        assert "Observed 1 h 35 min" in str(raised.value)


class TestVitalSignsFlags:
    def test_a_stop_reading_after_the_dose_raises_one_flag_per_rule(
        self, practice: Practice
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        vitals(practice, session, 20, "186/104")
        vitals(practice, session, 15, "190/106")  # still past the same rule: no second flag
        flag = SafetyFlag.objects.get(kind=FlagKind.VITAL_SIGNS)
        assert flag.source_session == session
        assert flag.rule == "bp_stop"
        assert "190/106" not in flag.reason
        assert "186/104" in flag.reason
        assert ">180/100" in flag.reason
        assert "Sanacora" in flag.reason  # the rule's source travels with it
        assert blocks_dosing(practice.client)
        vitals(practice, session, 10, "150/90", spo2=88)
        assert set(
            SafetyFlag.objects.filter(kind=FlagKind.VITAL_SIGNS).values_list("rule", flat=True)
        ) == {"bp_stop", "spo2"}
        raised = AuditEvent.objects.filter(action="safety_flag.raise")
        assert raised.count() == 2

    def test_a_watch_level_reading_and_pre_dose_readings_raise_no_flag(
        self, practice: Practice
    ) -> None:
        session = session_for(practice, "iv_racemic")
        vitals(practice, session, 5, "186/104")  # before the dose: the pre-dose check holds
        session = dosed_session_of_other(practice)
        vitals(practice, session, 5, "150/92")  # above the hold level: watch, not stop
        assert not SafetyFlag.objects.exists()

    def test_a_prescriber_or_nurse_closes_it_with_what_was_done(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        vitals(practice, session, 20, "186/104")
        flag = SafetyFlag.objects.get()
        with pytest.raises(ValidationError) as raised:
            safety_services.vitals_flag_review(
                actor=practice.therapist, flag=flag, note="Looked at it"
            )
        assert codes(raised) == {"review_note": ["not_prescriber"]}
        with pytest.raises(ValidationError) as raised:
            safety_services.vitals_flag_review(actor=practice.nurse, flag=flag, note="  ")
        assert codes(raised) == {"review_note": ["required"]}
        closed = safety_services.vitals_flag_review(
            actor=practice.nurse, flag=flag, note="Rechecked 150/92 after 15 min; prescriber told"
        )
        assert not closed.is_open
        assert closed.closed_by == practice.nurse
        assert not blocks_dosing(practice.client)
        event = AuditEvent.objects.get(action="safety_flag.review")
        assert "Rechecked" not in str(event.after)  # clinical words stay out of the audit
        with pytest.raises(ValidationError) as raised:
            safety_services.vitals_flag_review(actor=practice.nurse, flag=closed, note="again")
        assert codes(raised) == {"review_note": ["closed"]}

    def test_a_risk_assessment_does_not_close_a_vital_signs_flag(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        vitals(practice, session, 20, "186/104")
        safety_services.risk_assessment_record(
            actor=practice.therapist,
            client=practice.client,
            risk_level="none",
            actions="Reviewed",
            safety_plan="Kept",
        )
        assert SafetyFlag.objects.get().is_open

    def test_a_suicide_risk_flag_is_not_closed_by_a_vitals_review(self, practice: Practice) -> None:
        flag = SafetyFlag.objects.create(
            client=practice.client, severity="review", reason="PHQ-9: item 9"
        )
        with pytest.raises(ValidationError) as raised:
            safety_services.vitals_flag_review(actor=practice.nurse, flag=flag, note="seen")
        assert codes(raised) == {"review_note": ["not_vital_signs"]}


class TestFlowsheet:
    def test_due_times_corrections_and_alerts(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=25)
        first = vitals(practice, session, 15, "186/104")  # 10 min: during the infusion
        fixed = services.vitals_record(
            actor=practice.nurse,
            session=session,
            taken_at=first.taken_at,
            systolic=136,
            diastolic=84,
            corrects=first,
            correction_reason="Cuff on the wrong size; repeated",
        )
        sheet = flowsheet.flowsheet(session, now())
        states = [(item.due.label, item.state) for item in sheet.dues]
        assert states[0] == ("Pre-dose", rules.DONE)  # the pre-check's reading
        assert states[1] == ("10 min, during infusion", rules.DONE)
        assert states[2] == ("20 min, during infusion", rules.MISSED)
        assert states[3][1] in (rules.DUE, rules.UPCOMING)
        assert sheet.missed == 1
        struck = next(line for line in sheet.lines if line.row.pk == first.pk)
        correction = next(line for line in sheet.lines if line.row.pk == fixed.pk)
        assert struck.corrected
        assert not struck.alerts
        assert correction.corrects.pk == first.pk
        assert sheet.alerts == []  # what the chart now says: 136/84
        assert not sheet.discharge_checks  # the infusion is still running

    def test_the_query_count_does_not_grow_with_the_rows(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=100)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                flowsheet.flowsheet(DosingSession.objects.get(pk=session.pk), now())
            return len(queries)

        vitals(practice, session, 90, "130/80")
        few = count()
        for minutes in range(80, 20, -5):
            vitals(practice, session, minutes, "132/82")
            services.scale_record(actor=practice.nurse, session=session, scale="moaas", score=5)
            services.side_effect_record(
                actor=practice.nurse, session=session, effect="nausea", severity="mild"
            )
            services.work_record(
                actor=practice.therapist, session=session, kind="emdr", detail="Set"
            )
        assert count() == few

    def test_only_clinicians_of_the_care_team_read_a_session(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        assert flowsheet.session_for(practice.nurse, session.public_id, audit_read=True)
        assert AuditEvent.objects.filter(action="dosing_session.read").count() == 1
        for outsider in (practice.outsider, practice.front_desk):
            with pytest.raises(Http404):
                flowsheet.session_for(outsider, session.public_id)


def test_pre_check_time_is_never_in_the_future(practice: Practice) -> None:
    session = session_for(practice, "iv_racemic")
    with pytest.raises(ValidationError) as raised:
        services.pre_check_record(
            actor=practice.nurse, session=session, checked_at=now() + dt.timedelta(hours=1), **GOOD
        )
    assert codes(raised) == {"checked_at": ["future"]}
    assert not VitalsRow.objects.exists()


def test_a_vital_signs_flag_through_the_api(practice: Practice) -> None:
    session = dosed(practice, "iv_racemic", minutes_ago=30)
    vitals(practice, session, 20, "186/104")
    base = f"/api/v1/clients/{practice.client.public_id}"
    http = signed_in(practice.nurse)
    [flag] = http.get(f"{base}/safety-flags?open=true").json()
    assert (flag["kind"], flag["rule"], flag["source_session"]) == (
        "vital_signs",
        "bp_stop",
        str(session.public_id),
    )
    review = f"{base}/safety-flags/{flag['id']}/review"
    empty = http.post(review, json.dumps({"review_note": ""}), content_type="application/json")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "review_note"
    outsider = signed_in(practice.outsider_prescriber)
    assert (
        outsider.post(
            review, json.dumps({"review_note": "x"}), content_type="application/json"
        ).status_code
        == 404
    )
    done = http.post(
        review,
        json.dumps({"review_note": "Repeat 148/90 after 15 min; prescriber informed"}),
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["open"] is False
    assert http.get(f"{base}/safety-flags?open=true").json() == []
