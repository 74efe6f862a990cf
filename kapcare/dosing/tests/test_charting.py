"""Charting a dosing session: vitals, scores, side effects and work as append-only rows with
corrections that keep the original, adverse events, and the dyad's sign-off after which nothing
more is charted. Every refusal names its field and rule and saves nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment, Course, Room
from kapcare.dosing import services
from kapcare.dosing.models import (
    AdverseEvent,
    DosingSession,
    ScaleRow,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.testing.personas import Practice

MODELS = (DosingSession, VitalsRow, ScaleRow, SideEffectRow, WorkRow, AdverseEvent, AuditEvent)


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in MODELS)


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {f: [e.code for e in errs] for f, errs in raised.value.error_dict.items()}  # type: ignore[misc]


@pytest.fixture
def session(practice: Practice) -> DosingSession:
    course = Course.objects.create(
        client=practice.client, protocol="iv_racemic", started_on=practice_today()
    )
    appointment = Appointment.objects.create(
        client=practice.client,
        course=course,
        kind="dosing",
        starts_at=now() - dt.timedelta(minutes=30),
        ends_at=now() + dt.timedelta(minutes=90),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name="Infusion bay"),
    )
    return services.session_open(actor=practice.nurse, appointment=appointment)


class TestSession:
    def test_opening_twice_returns_the_same_record(
        self, practice: Practice, session: DosingSession
    ) -> None:
        again = services.session_open(actor=practice.nurse, appointment=session.appointment)
        assert again.pk == session.pk
        assert AuditEvent.objects.filter(action="dosing.open").count() == 1

    def test_only_a_dosing_appointment_and_only_clinicians(
        self, practice: Practice, session: DosingSession
    ) -> None:
        prep = Appointment.objects.create(
            client=practice.client,
            course=session.course,
            kind="preparation",
            starts_at=now(),
            ends_at=now() + dt.timedelta(hours=1),
            clinician=practice.therapist,
        )
        assert refused(lambda: services.session_open(actor=practice.nurse, appointment=prep)) == {
            "appointment": ["not_dosing"]
        }
        front = refused(
            lambda: services.session_open(
                actor=practice.front_desk, appointment=session.appointment
            )
        )
        assert front == {"appointment": ["not_clinician"]}


class TestVitals:
    def test_a_row_is_timed_attributed_and_audited(
        self, practice: Practice, session: DosingSession
    ) -> None:
        row = services.vitals_record(
            actor=practice.nurse,
            session=session,
            systolic=142,
            diastolic=88,
            heart_rate=84,
            spo2=97,
            respiratory_rate=14,
        )
        assert (row.created_by, row.systolic, row.diastolic) == (practice.nurse, 142, 88)
        event = AuditEvent.objects.get(action="dosing.vitals")
        assert (event.after["systolic"], event.after["spo2"]) == (142, 97)

    @pytest.mark.parametrize(
        ("values", "field", "rule"),
        [
            ({"systolic": 400, "diastolic": 90}, "systolic", "implausible"),
            ({"systolic": 120}, "diastolic", "bp_incomplete"),
            ({"diastolic": 80}, "systolic", "bp_incomplete"),
            ({"systolic": 90, "diastolic": 95}, "diastolic", "implausible"),
            ({"spo2": 101}, "spo2", "implausible"),
            ({"heart_rate": 10}, "heart_rate", "implausible"),
            ({"respiratory_rate": 80}, "respiratory_rate", "implausible"),
            ({}, "systolic", "required"),
        ],
    )
    def test_bad_readings(
        self, practice: Practice, session: DosingSession, values: dict, field: str, rule: str
    ) -> None:
        errors = refused(
            lambda: services.vitals_record(actor=practice.nurse, session=session, **values)
        )
        assert errors[field] == [rule]

    def test_a_reading_in_the_future_is_refused(
        self, practice: Practice, session: DosingSession
    ) -> None:
        errors = refused(
            lambda: services.vitals_record(
                actor=practice.nurse,
                session=session,
                heart_rate=80,
                taken_at=now() + dt.timedelta(hours=1),
            )
        )
        assert errors == {"taken_at": ["future"]}

    def test_a_correction_keeps_the_original_and_needs_a_reason(
        self, practice: Practice, session: DosingSession
    ) -> None:
        original = services.vitals_record(
            actor=practice.nurse, session=session, systolic=210, diastolic=90
        )
        assert refused(
            lambda: services.vitals_record(
                actor=practice.nurse,
                session=session,
                systolic=120,
                diastolic=90,
                corrects=original,
            )
        ) == {"correction_reason": ["required"]}
        fixed = services.vitals_record(
            actor=practice.nurse,
            session=session,
            systolic=120,
            diastolic=90,
            corrects=original,
            correction_reason="Typed 210 for 120",
        )
        original.refresh_from_db()
        assert original.systolic == 210  # the original is kept as it was
        assert original.corrected_by == fixed
        assert refused(
            lambda: services.vitals_record(
                actor=practice.nurse,
                session=session,
                heart_rate=70,
                corrects=original,
                correction_reason="again",
            )
        ) == {"corrects": ["already_corrected"]}


class TestScalesAndWork:
    def test_moaas_range_and_cadss_version(
        self, practice: Practice, session: DosingSession
    ) -> None:
        assert refused(
            lambda: services.scale_record(
                actor=practice.nurse, session=session, scale="moaas", score=6
            )
        ) == {"score": ["out_of_range"]}
        assert refused(
            lambda: services.scale_record(
                actor=practice.nurse, session=session, scale="cadss", score=12
            )
        ) == {"version": ["required"]}
        assert refused(
            lambda: services.scale_record(
                actor=practice.nurse, session=session, scale="cadss", score=12, version="23-item"
            )
        ) == {"version": ["invalid_choice"]}
        assert refused(
            lambda: services.scale_record(
                actor=practice.nurse, session=session, scale="cadss", score=93, version="cadss23"
            )
        ) == {"score": ["out_of_range"]}
        row = services.scale_record(
            actor=practice.nurse, session=session, scale="cadss", score=92, version="cadss23"
        )
        assert (row.score, row.version) == (92, "cadss23")

    def test_side_effects_and_work(self, practice: Practice, session: DosingSession) -> None:
        assert refused(
            lambda: services.side_effect_record(
                actor=practice.nurse, session=session, effect="other", severity="mild"
            )
        ) == {"note": ["required"]}
        services.side_effect_record(
            actor=practice.nurse, session=session, effect="nausea", severity="moderate"
        )
        services.work_record(
            actor=practice.nurse, session=session, kind="antiemetic", detail="Ondansetron 4 mg"
        )
        services.work_record(
            actor=practice.therapist, session=session, kind="emdr", detail="3 sets, target: loss"
        )
        assert WorkRow.objects.filter(session=session).count() == 2
        audit_text = str(list(AuditEvent.objects.filter(action="dosing.work").values("after")))
        assert "target: loss" not in audit_text  # the clinical words are not in the audit


class TestSigning:
    def discharge(self, session: DosingSession) -> None:
        DosingSession.objects.filter(pk=session.pk).update(state=SessionState.DISCHARGED)
        session.refresh_from_db()

    def test_not_before_discharge_and_only_by_the_dyad(
        self, practice: Practice, session: DosingSession
    ) -> None:
        assert refused(lambda: services.session_sign(actor=practice.nurse, session=session)) == {
            "session": ["not_discharged"]
        }
        self.discharge(session)
        assert refused(
            lambda: services.session_sign(actor=practice.prescriber, session=session)
        ) == {"session": ["not_dyad"]}

    def test_both_signatures_close_the_session_to_more_charting(
        self, practice: Practice, session: DosingSession
    ) -> None:
        self.discharge(session)
        once = services.session_sign(actor=practice.nurse, session=session)
        assert once.state == SessionState.DISCHARGED
        both = services.session_sign(actor=practice.therapist, session=once)
        assert both.state == SessionState.SIGNED
        assert (both.monitor_signed_by, both.therapist_signed_by) == (
            practice.nurse,
            practice.therapist,
        )
        assert refused(
            lambda: services.vitals_record(actor=practice.nurse, session=both, heart_rate=70)
        ) == {"taken_at": ["signed"]}
        assert refused(
            lambda: services.work_record(
                actor=practice.therapist, session=both, kind="note", detail="late"
            )
        ) == {"kind": ["signed"]}


def test_an_adverse_event_is_structured_and_linked(
    practice: Practice, session: DosingSession
) -> None:
    assert refused(
        lambda: services.adverse_event_record(
            actor=practice.nurse,
            session=session,
            event="",
            onset_at=now(),
            severity="grave",
            seriousness="serious",
            related="possibly",
        )
    ) == {"event": ["required"], "severity": ["invalid_choice"]}
    record = services.adverse_event_record(
        actor=practice.nurse,
        session=session,
        event="Vasovagal syncope",
        onset_at=now() - dt.timedelta(minutes=5),
        severity="moderate",
        seriousness="serious",
        related="possibly",
        action="Supine, legs raised; prescriber called",
    )
    assert (record.client, record.session) == (practice.client, session)
    assert record.followed_up_at is None


def test_a_charted_row_cannot_be_changed_in_place(
    practice: Practice, session: DosingSession
) -> None:
    from kapcare.dosing.models import AppendOnlyError

    row = services.vitals_record(actor=practice.nurse, session=session, heart_rate=80)
    row.heart_rate = 60
    with pytest.raises(AppendOnlyError):
        row.save()
    row.refresh_from_db()
    assert row.heart_rate == 80
