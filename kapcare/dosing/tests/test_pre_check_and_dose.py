"""The pre-dose check through the service (answers plus the record's facts, stored with the
parameter versions, overrides by prescribers only, hard stops that no override opens) and the
dose (pre-check first, credentials, mg/kg, maximum-dose stop, esketamine devices and first
dose)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses import services as course_services
from kapcare.courses.models import Appointment, Room
from kapcare.courses.tests.test_services import ready_for_dosing
from kapcare.dosing import parameters, services
from kapcare.dosing.models import Dose, DosingSession, SessionState, VitalsRow
from kapcare.measures.services import administration_record
from kapcare.stock.models import Movement
from kapcare.stock.tests.helpers import make_location, make_lot, receive
from kapcare.testing.personas import Practice

GOOD: dict[str, Any] = {
    "identity_confirmed": True,
    "escort_confirmed": True,
    "intention": "Meet the grief with curiosity.",
    "weight_kg": Decimal("70.0"),
    "minutes_since_food": 240,
    "minutes_since_liquid": 60,
    "systolic": 128,
    "diastolic": 82,
    "heart_rate": 72,
    "spo2": 98,
    "medicines_today": [],
    "pregnancy_test": "not_applicable",
}


def session_for(practice: Practice, protocol: str) -> DosingSession:
    course = ready_for_dosing(practice, protocol)
    if protocol == "esketamine":
        course_services.rems_enroll(
            actor=practice.prescriber,
            client=practice.client,
            enrolled_on=practice_today(),
            reference="PT-1",
        )
    # The stock the doses come from: one safe, the lots the tests name, received.
    safe = make_location()
    for number, drug, product in (
        ("K2611A", "ketamine", "Ketamine HCl 10 mg/mL"),
        ("ES1", "esketamine", "Spravato 28 mg device"),
    ):
        receive(practice, make_lot(number, drug=drug, product=product), safe, 1000)
    appointment = Appointment.objects.create(
        client=practice.client,
        course=course,
        kind="dosing",
        starts_at=now() - dt.timedelta(minutes=10),
        ends_at=now() + dt.timedelta(hours=2),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name="Bay 1"),
    )
    return services.session_open(actor=practice.nurse, appointment=appointment)


def failed(session: DosingSession) -> set[str]:
    return {c["code"] for c in session.pre_check["checks"] if not c["passed"]}


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    def counted() -> tuple[int, ...]:
        return (
            Dose.objects.count(),
            AuditEvent.objects.count(),
            VitalsRow.objects.count(),
            Movement.objects.count(),
        )

    before = counted()
    with pytest.raises(ValidationError) as raised:
        call()
    after = counted()
    assert after == before
    return {f: [e.code for e in errs] for f, errs in raised.value.error_dict.items()}  # type: ignore[misc]


class TestPreCheck:
    def test_a_clean_check_passes_and_puts_the_readings_on_the_flowsheet(
        self, practice: Practice
    ) -> None:
        session = session_for(practice, "iv_racemic")
        checked = services.pre_check_record(actor=practice.nurse, session=session, **GOOD)
        assert checked.pre_check_passed, failed(checked)
        assert checked.weight_kg == Decimal("70.0")
        row = VitalsRow.objects.get(session=session)
        assert (row.systolic, row.diastolic, row.spo2) == (128, 82, 98)
        versions = checked.pre_check["parameter_versions"]
        assert len(versions) == len(parameters.ALL_KEYS)
        assert set(versions.values()) == {0}  # the shipped defaults, none signed off
        assert AuditEvent.objects.get(action="dosing.pre_check").after["passed"] is True

    def test_a_high_blood_pressure_holds_until_a_prescriber_overrides(
        self, practice: Practice
    ) -> None:
        session = session_for(practice, "iv_racemic")
        held = services.pre_check_record(
            actor=practice.nurse, session=session, **(GOOD | {"systolic": 150, "diastolic": 95})
        )
        assert not held.pre_check_passed
        assert "bp" in failed(held)
        assert refused(
            lambda: services.pre_check_record(
                actor=practice.nurse,
                session=session,
                overrides={"bp": "Anxious; repeat reading 146/92"},
                **(GOOD | {"systolic": 150, "diastolic": 95}),
            )
        ) == {"overrides": ["not_prescriber"]}
        opened = services.pre_check_record(
            actor=practice.prescriber,
            session=session,
            overrides={"bp": "White-coat rise; repeat 146/92, discussed"},
            **(GOOD | {"systolic": 150, "diastolic": 95}),
        )
        assert opened.pre_check_passed
        bp = next(c for c in opened.pre_check["checks"] if c["code"] == "bp")
        assert bp["override_reason"] == "White-coat rise; repeat 146/92, discussed"

    def test_a_hazardous_pressure_is_a_hard_stop_no_override_opens(
        self, practice: Practice
    ) -> None:
        session = session_for(practice, "iv_racemic")
        stopped = services.pre_check_record(
            actor=practice.prescriber,
            session=session,
            overrides={"bp": "x", "bp_hazard": "y"},
            **(GOOD | {"systolic": 190, "diastolic": 105}),
        )
        assert not stopped.pre_check_passed
        assert "bp_hazard" in failed(stopped)

    def test_a_positive_item_9_today_without_review_holds(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers={f"q{n}": 1 for n in range(1, 10)},
        )
        held = services.pre_check_record(actor=practice.nurse, session=session, **GOOD)
        assert not held.pre_check_passed
        # The open safety flag also closes the course's gate.
        assert {"suicide_screen", "gates"} <= failed(held)

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"weight_kg": Decimal("5")}, "weight_kg", "implausible"),
            ({"systolic": 120, "diastolic": None}, "diastolic", "bp_incomplete"),
            ({"medicines_today": ["unicorn"]}, "medicines_today", "invalid_choice"),
            ({"pregnancy_test": "maybe"}, "pregnancy_test", "invalid_choice"),
            ({"minutes_since_food": -5}, "minutes_since_food", "out_of_range"),
        ],
    )
    def test_bad_answers(self, practice: Practice, changes: dict, field: str, rule: str) -> None:
        session = session_for(practice, "iv_racemic")
        errors = refused(
            lambda: services.pre_check_record(
                actor=practice.nurse, session=session, **(GOOD | changes)
            )
        )
        assert errors == {field: [rule]}


def dose(practice: Practice, session: DosingSession, actor: Any = None, **changes: Any) -> Dose:
    fields: dict[str, Any] = {
        "product": "Ketamine HCl 10 mg/mL",
        "lot": "K2611A",
        "expires_on": practice_today() + dt.timedelta(days=200),
        "dose_mg": Decimal("35.0"),
        "therapist_present": practice.therapist,
        "concentration_mg_per_ml": Decimal("10"),
        "infusion_minutes": 40,
    }
    return services.dose_record(
        actor=actor or practice.nurse, session=session, **(fields | changes)
    )


class TestDose:
    def test_not_before_the_pre_check_passes(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        assert refused(lambda: dose(practice, session)) == {"dose_mg": ["pre_check"]}

    def test_an_iv_dose_with_its_mg_per_kg(self, practice: Practice) -> None:
        session = services.pre_check_record(
            actor=practice.nurse, session=session_for(practice, "iv_racemic"), **GOOD
        )
        given = dose(practice, session)
        assert (given.mg_per_kg, given.route, given.given_by) == (
            Decimal("0.50"),
            "intravenous",
            practice.nurse,
        )
        session.refresh_from_db()
        assert session.state == SessionState.DOSED
        taken = Movement.objects.get(dose=given)
        assert (taken.kind, taken.quantity_mg, taken.balance_after_mg) == (
            "administered",
            Decimal("-35.0"),
            Decimal("965.0"),
        )
        assert refused(lambda: dose(practice, session)) == {"dose_mg": ["already_dosed"]}

    def test_a_lot_not_in_the_stock_log_refuses_the_dose_and_saves_nothing(
        self, practice: Practice
    ) -> None:
        session = services.pre_check_record(
            actor=practice.nurse, session=session_for(practice, "iv_racemic"), **GOOD
        )
        assert refused(lambda: dose(practice, session, lot="NOPE-1")) == {"lot": ["unknown_lot"]}
        session.refresh_from_db()
        assert session.state == SessionState.CHECKING

    def test_above_the_maximum_is_a_hard_stop(self, practice: Practice) -> None:
        session = services.pre_check_record(
            actor=practice.nurse, session=session_for(practice, "iv_racemic"), **GOOD
        )
        errors = refused(
            lambda: dose(
                practice,
                session,
                actor=practice.prescriber,
                dose_mg=Decimal("80"),
                overrides={"max_dose": "I know"},
            )
        )
        assert errors == {"dose_mg": ["max_dose"]}

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"expires_on": dt.date(2020, 1, 1)}, "expires_on", "expired"),
            ({"lot": " "}, "lot", "required"),
            ({"infusion_minutes": None}, "infusion_minutes", "required"),
            ({"dose_mg": Decimal("0")}, "dose_mg", "invalid"),
        ],
    )
    def test_bad_doses(self, practice: Practice, changes: dict, field: str, rule: str) -> None:
        session = services.pre_check_record(
            actor=practice.nurse, session=session_for(practice, "iv_racemic"), **GOOD
        )
        errors = refused(lambda: dose(practice, session, **changes))
        assert errors[field] == [rule]

    def test_given_by_a_prescriber_or_nurse_with_a_therapist_present(
        self, practice: Practice
    ) -> None:
        session = services.pre_check_record(
            actor=practice.nurse, session=session_for(practice, "iv_racemic"), **GOOD
        )
        errors = refused(
            lambda: dose(
                practice, session, actor=practice.therapist, therapist_present=practice.nurse
            )
        )
        assert errors == {
            "given_by": ["not_credentialed"],
            "therapist_present": ["not_therapist"],
        }


class TestEsketamine:
    def checked(self, practice: Practice) -> DosingSession:
        return services.pre_check_record(
            actor=practice.nurse,
            session=session_for(practice, "esketamine"),
            **(GOOD | {"weight_kg": None, "minutes_since_food": 180, "minutes_since_liquid": 45}),
        )

    def test_whole_devices_and_the_first_dose(self, practice: Practice) -> None:
        session = self.checked(practice)
        assert session.pre_check_passed, failed(session)
        spray = {"product": "Spravato 28 mg device", "lot": "ES1", "infusion_minutes": None}
        errors = refused(lambda: dose(practice, session, dose_mg=Decimal("70"), **spray))
        assert errors["dose_mg"][0].startswith("esketamine")
        over = refused(lambda: dose(practice, session, dose_mg=Decimal("112"), **spray))
        assert over["dose_mg"]
        first_84 = refused(lambda: dose(practice, session, dose_mg=Decimal("84"), **spray))
        assert first_84 == {"dose_mg": ["esketamine_first_dose"]}
        given = dose(
            practice,
            session,
            actor=practice.prescriber,
            dose_mg=Decimal("84"),
            overrides={"esketamine_first_dose": "Tolerated 84 mg elsewhere last month"},
            **spray,
        )
        assert (given.devices, given.mg_per_kg) == (3, None)
