"""The dosing-session rules: dose arithmetic and its rounding, esketamine devices and doses, the
maximum dose per route, every pre-dose hold alone and in every combination (with the override
path), the blood-pressure boundaries as the sources word them, the vitals flowsheet (due times,
status with grace, alerts at and around each threshold), sedation and dissociation, the
discharge check, the REMS form's deadline, and the parameters behind all of them."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapcare.dosing import parameters, rules
from kapcare.medications.interactions import CATEGORIES
from kapcare.parameters import registry
from kapcare.parameters.registry import Evidence

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
PARAMS = parameters.dosing_parameters(parameters.default_values())
T0 = dt.datetime(2026, 3, 12, 10, 0, tzinfo=dt.UTC)  # a Thursday


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def D(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------------------------------
# Dose arithmetic


class TestMgPerKg:
    def test_the_standard_iv_dose(self) -> None:
        assert rules.mg_per_kg(D("36.7"), D("73.4")) == D("0.50")
        assert str(rules.mg_per_kg(D("36.7"), D("73.4"))) == "0.50"

    @pytest.mark.parametrize(
        ("dose", "weight", "expected"),
        [
            ("1.25", "10", "0.13"),  # exactly half a cent: up, not to even
            ("1.35", "10", "0.14"),
            ("1.249", "10", "0.12"),
            ("0.045", "1", "0.05"),
            ("0.0449", "1", "0.04"),
            ("0", "70", "0.00"),
            ("100", "3", "33.33"),
            ("200", "3", "66.67"),
        ],
    )
    def test_rounds_half_up_to_two_decimals(self, dose: str, weight: str, expected: str) -> None:
        assert str(rules.mg_per_kg(D(dose), D(weight))) == expected

    def test_whole_numbers_are_accepted(self) -> None:
        assert rules.mg_per_kg(35, 70) == D("0.50")

    @pytest.mark.parametrize(
        ("dose", "weight", "message"),
        [
            (D("10"), D("0"), "weight_kg: must be more than 0 kg"),
            (D("10"), D("-70"), "weight_kg: must be more than 0 kg"),
            (D("-1"), D("70"), "dose_mg: must be 0 mg or more"),
            (D("10"), 70.5, "weight_kg: give a Decimal or a whole number, not float"),
            (10.0, D("70"), "dose_mg: give a Decimal or a whole number, not float"),
            (D("NaN"), D("70"), "dose_mg: must be a finite number"),
            (D("10"), D("Infinity"), "weight_kg: must be a finite number"),
            (True, D("70"), "dose_mg: give a Decimal"),
        ],
    )
    def test_bad_input_names_the_field(self, dose: object, weight: object, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            rules.mg_per_kg(dose, weight)  # type: ignore[arg-type]


class TestDoseFor:
    def test_iv_half_mg_per_kg(self) -> None:
        assert rules.dose_for(D("0.5"), D("73.4"), D("0.1")) == D("36.7")

    @pytest.mark.parametrize(
        ("rate", "weight", "step", "expected"),
        [
            ("0.5", "73.3", "0.1", "36.7"),  # 36.65: the half goes up
            ("0.5", "73.25", "0.1", "36.6"),  # 36.625
            ("0.5", "73.4", "0.5", "36.5"),  # 36.7 to the nearest 0.5
            ("0.5", "73.5", "0.5", "37.0"),  # 36.75: half a step, up
            ("0.5", "73.0", "1", "37"),  # 36.5: half, up
            ("0.5", "73.4", "5", "35"),
            ("1", "100", "0.1", "100.0"),  # written with the step's decimals, not 1E+2
            ("0", "80", "0.1", "0.0"),
            ("0.75", "81.3", "0.01", "60.98"),  # 60.975
        ],
    )
    def test_rounds_half_up_to_the_step(
        self, rate: str, weight: str, step: str, expected: str
    ) -> None:
        assert str(rules.dose_for(D(rate), D(weight), D(step))) == expected

    @pytest.mark.parametrize(
        ("rate", "weight", "step", "field"),
        [
            ("-0.5", "70", "0.1", "mg_per_kg"),
            ("0.5", "0", "0.1", "weight_kg"),
            ("0.5", "70", "0", "step_mg"),
            ("0.5", "70", "-0.1", "step_mg"),
        ],
    )
    def test_bad_input_names_the_field(self, rate: str, weight: str, step: str, field: str) -> None:
        with pytest.raises(ValueError, match=f"^{field}: "):
            rules.dose_for(D(rate), D(weight), D(step))


class TestInfusion:
    def test_rates_for_the_standard_infusion(self) -> None:
        pump = rules.infusion(D("36.7"), 40, D("1"))
        assert pump == rules.Infusion(D("0.92"), D("55.05"), D("36.70"))

    def test_concentrated_bag(self) -> None:
        pump = rules.infusion(D("50"), 40, D("10"))
        assert (pump.mg_per_min, pump.ml_per_hour, pump.volume_ml) == (
            D("1.25"),
            D("7.50"),
            D("5.00"),
        )

    def test_rounding_is_from_the_unrounded_values(self) -> None:
        # 35 mg over 45 min = 0.7777 mg/min; 35 mL over 45 min = 46.666 mL/h.
        pump = rules.infusion(D("35"), 45, D("1"))
        assert (pump.mg_per_min, pump.ml_per_hour) == (D("0.78"), D("46.67"))

    @pytest.mark.parametrize(
        ("dose", "length", "concentration", "message"),
        [
            ("36.7", 0, "1", "minutes: must be more than 0 minutes"),
            ("36.7", -40, "1", "minutes: must be more than 0 minutes"),
            ("36.7", 40, "0", "concentration_mg_per_ml: must be more than 0"),
            ("-1", 40, "1", "dose_mg: must be 0 mg or more"),
        ],
    )
    def test_refusals(self, dose: str, length: int, concentration: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            rules.infusion(D(dose), length, D(concentration))


@given(
    rate=st.decimals(min_value=D("0.01"), max_value=D("2.00"), places=2),
    weight=st.decimals(min_value=D("30.0"), max_value=D("200.0"), places=1),
    step=st.sampled_from([D("0.01"), D("0.1"), D("0.5"), D("1")]),
)
def test_mg_per_kg_and_dose_round_trip_within_rounding(
    rate: Decimal, weight: Decimal, step: Decimal
) -> None:
    dose = rules.dose_for(rate, weight, step)
    assert abs(dose - rate * weight) <= step / 2
    assert dose % step == 0
    back = rules.mg_per_kg(dose, weight)
    # The dose moved by at most half a step; mg/kg is then rounded to the cent.
    assert abs(back - rate) <= step / 2 / weight + D("0.005")


# ---------------------------------------------------------------------------------------------
# Esketamine


def eske_check(
    dose: int | Decimal, *, first_dose: bool = False, age: int = 40
) -> list[rules.Check]:
    return rules.esketamine_dose_check(
        dose,
        first_dose=first_dose,
        age=age,
        max_mg=PARAMS.limits.esketamine_max_mg,
        start=PARAMS.esketamine_start,
    )


class TestEsketamine:
    @pytest.mark.parametrize(("dose", "devices"), [(28, 1), (56, 2), (84, 3), (112, 4)])
    def test_devices(self, dose: int, devices: int) -> None:
        assert rules.esketamine_devices(dose) == devices

    @pytest.mark.parametrize("dose", [0, 14, 70, 85, -28])
    def test_not_a_whole_number_of_devices(self, dose: int) -> None:
        with pytest.raises(ValueError, match=r"dose_mg: .* is not a whole number of 28 mg devices"):
            rules.esketamine_devices(dose)

    def test_device_times_are_five_minutes_apart_in_utc(self) -> None:
        first = dt.datetime(2026, 3, 12, 9, 0, tzinfo=LA)
        times = rules.esketamine_device_times(84, first, PARAMS.device_interval_minutes)
        assert len(times) == 3
        assert times[0] == first
        assert all(t.tzinfo is dt.UTC for t in times)
        assert [b - a for a, b in itertools.pairwise(times)] == [dt.timedelta(minutes=5)] * 2
        assert rules.esketamine_device_times(28, first, 5) == [first]

    def test_device_times_refuse_a_bad_interval_or_dose(self) -> None:
        with pytest.raises(ValueError, match="interval_minutes"):
            rules.esketamine_device_times(56, T0, 0)
        with pytest.raises(ValueError, match="dose_mg"):
            rules.esketamine_device_times(70, T0, 5)

    @pytest.mark.parametrize("dose", [28, 56, 84])
    def test_labelled_doses_have_no_problem(self, dose: int) -> None:
        assert eske_check(dose) == []

    def test_70_mg_is_refused_and_no_override_opens_it(self) -> None:
        problems = eske_check(70)
        assert [p.code for p in problems] == ["esketamine_devices"]
        assert problems[0].reason == (
            "70 mg is not a whole number of 28 mg devices: give 28, 56 or 84 mg."
        )
        assert not problems[0].overridable
        assert not rules.may_dose(problems, {"esketamine_devices": ("Dr. Patel", "Trust me")})

    @pytest.mark.parametrize("dose", [112, 140])
    def test_above_84_mg_is_a_hard_stop(self, dose: int) -> None:
        problems = eske_check(dose)
        assert [p.code for p in problems] == ["max_dose"]
        assert problems[0].reason == f"{dose} mg is above the 84 mg maximum per session."
        assert "label" in problems[0].source
        assert not rules.may_dose(problems, {"max_dose": ("Dr. Patel", "Tolerated before")})

    def test_a_lower_practice_maximum(self) -> None:
        problems = rules.esketamine_dose_check(
            84, first_dose=False, age=40, max_mg=56, start=PARAMS.esketamine_start
        )
        assert [p.code for p in problems] == ["max_dose"]

    def test_first_dose_is_56_mg(self) -> None:
        assert eske_check(56, first_dose=True) == []
        problems = eske_check(84, first_dose=True)
        assert [(p.code, p.blocking, p.overridable) for p in problems] == [
            ("esketamine_first_dose", True, True)
        ]
        assert "is 56 mg; planned 84 mg" in problems[0].reason
        assert "US Spravato label" in problems[0].source
        assert not rules.may_dose(problems)
        assert rules.may_dose(problems, {"esketamine_first_dose": ("Dr. Patel", "MDSI")})

    @pytest.mark.parametrize("dose", [28, 56])
    def test_from_65_the_eu_start_is_a_note_not_a_hold(self, dose: int) -> None:
        problems = eske_check(dose, first_dose=True, age=65)
        assert [(p.code, p.blocking) for p in problems] == [("esketamine_first_dose", False)]
        assert "EU label starts at 28 mg from age 65" in problems[0].reason
        assert rules.may_dose(problems)
        assert rules.prompts(problems) == problems

    def test_from_65_another_first_dose_still_holds(self) -> None:
        problems = eske_check(84, first_dose=True, age=70)
        assert [p.blocking for p in problems] == [True]
        assert "56 mg (or 28 mg from age 65, EU)" in problems[0].reason

    def test_under_65_a_28_mg_first_dose_holds(self) -> None:
        problems = eske_check(28, first_dose=True, age=64)
        assert [(p.code, p.blocking) for p in problems] == [("esketamine_first_dose", True)]

    def test_later_doses_are_not_held_to_the_first_dose_rule(self) -> None:
        assert eske_check(84, first_dose=False, age=70) == []


# ---------------------------------------------------------------------------------------------
# Maximum dose per route


class TestMaxDose:
    @pytest.mark.parametrize(
        ("route", "dose", "rate", "passed"),
        [
            (rules.INTRANASAL, "84", None, True),
            (rules.INTRANASAL, "112", None, False),
            (rules.INTRAVENOUS, "70", "1.00", True),
            (rules.INTRAVENOUS, "70.7", "1.01", False),
            (rules.INTRAMUSCULAR, "70", "1.00", True),
            (rules.INTRAMUSCULAR, "70.7", "1.01", False),
            (rules.SUBLINGUAL, "400", None, True),
            (rules.SUBLINGUAL, "401", None, False),
            (rules.ORAL, "300", None, True),
            (rules.ORAL, "300.5", None, False),
        ],
    )
    def test_at_and_just_above_each_maximum(
        self, route: str, dose: str, rate: str | None, passed: bool
    ) -> None:
        stop = rules.max_dose_stop(route, D(dose), D(rate) if rate else None, PARAMS.limits)
        assert stop.passed is passed
        assert (stop.code, stop.blocking, stop.overridable) == ("max_dose", True, False)
        assert stop.source
        assert rules.may_dose([stop], {"max_dose": ("Dr. Patel", "Needed more")}) is passed

    def test_reasons_name_the_dose_and_the_maximum(self) -> None:
        iv = rules.max_dose_stop(rules.INTRAVENOUS, D("88.2"), D("1.20"), PARAMS.limits)
        assert iv.reason == "88.2 mg (1.20 mg/kg) is above the 1 mg/kg maximum."
        sl = rules.max_dose_stop(rules.SUBLINGUAL, D("300"), None, PARAMS.limits)
        assert sl.reason == "300 mg is within the 400 mg maximum per session."

    def test_weight_based_routes_need_mg_per_kg(self) -> None:
        stop = rules.max_dose_stop(rules.INTRAVENOUS, D("35"), None, PARAMS.limits)
        assert not stop.passed
        assert stop.reason == "No mg/kg: weigh the client to check the dose."

    def test_sources_say_which_maxima_are_practice_settings(self) -> None:
        def source(route: str) -> str:
            return rules.max_dose_stop(route, D("1"), D("0.01"), PARAMS.limits).source

        assert source(rules.INTRANASAL).startswith("Spravato label")
        assert source(rules.INTRAVENOUS).startswith("Practice setting")
        assert source(rules.INTRAMUSCULAR).startswith("Practice setting, not verified")
        assert source(rules.SUBLINGUAL).startswith("Practice setting")

    def test_a_signed_off_maximum_is_used(self) -> None:
        limits = replace(PARAMS.limits, iv_max_mg_per_kg=D("0.75"))
        assert not rules.max_dose_stop(rules.INTRAVENOUS, D("60"), D("0.80"), limits).passed

    def test_unknown_route(self) -> None:
        with pytest.raises(ValueError, match=r"^route: unknown route 'nasal'"):
            rules.max_dose_stop("nasal", D("10"), None, PARAMS.limits)


# ---------------------------------------------------------------------------------------------
# Pre-dose check


def pre(**changes: object) -> rules.PreDoseInputs:
    base: dict[str, object] = {
        "route": rules.INTRANASAL,
        "age": 40,
        "identity_confirmed": True,
        "gates_open": True,
        "gates_reason": "",
        "weight_kg_today": D("73.4"),
        "minutes_since_food": 180,
        "minutes_since_liquid": 45,
        "systolic": 128,
        "diastolic": 82,
        "heart_rate": 72,
        "spo2": 98,
        "medicines_today": (),
        "pregnancy_test": "negative",
        "phq9_item9_positive": False,
        "cssrs_positive": False,
        "suicide_reviewed_today": False,
        "escort_confirmed": True,
        "intention_recorded": True,
    }
    return rules.PreDoseInputs(**(base | changes))  # type: ignore[arg-type]


def failed(checks: list[rules.Check]) -> set[str]:
    return {c.code for c in checks if not c.passed}


ESKETAMINE_CODES = [
    "identity",
    "gates",
    "fasting_food",
    "fasting_liquid",
    "bp",
    "heart_rate",
    "spo2",
    "medicines",
    "pregnancy",
    "suicide_screen",
    "escort",
    "intention",
]

# Each blocking hold, alone: the inputs that cause it and the reason it gives.
HOLDS: dict[str, tuple[dict[str, object], str]] = {
    "identity": ({"identity_confirmed": False}, "Identity not confirmed."),
    "gates": (
        {"gates_open": False, "gates_reason": "No signed consent for this route."},
        "No signed consent for this route.",
    ),
    "weight": ({"weight_kg_today": None}, "No weight today: the dose is in mg/kg."),
    "fasting_food": (
        {"minutes_since_food": 90},
        "1 h 30 min since food; at least 2 h needed.",
    ),
    "fasting_liquid": (
        {"minutes_since_liquid": 20},
        "20 min since liquids; at least 30 min needed.",
    ),
    "bp": (
        {"systolic": 150, "diastolic": 80},
        "150/80 mmHg: systolic above 140; hold unless a prescriber decides to dose.",
    ),
    "heart_rate": ({"heart_rate": 118}, "118 bpm: above 110 bpm."),
    "spo2": ({"spo2": 90}, "90%: below 92%."),
    "medicine.theophylline": (
        {"medicines_today": ("theophylline",)},
        "Lowers the seizure threshold; unpredictable extensor-type seizures reported. A "
        "prescriber decides before the dose.",
    ),
    "pregnancy": ({"pregnancy_test": "missing"}, "No result today."),
    "suicide_screen": (
        {"phq9_item9_positive": True},
        "PHQ-9 item 9 positive today without a same-day clinician review: hold until a "
        "clinician records a risk assessment.",
    ),
    "escort": (
        {"escort_confirmed": False},
        "No one confirmed to take the client home (no driving until the next day).",
    ),
}


class TestPreDose:
    def test_all_pass_for_esketamine(self) -> None:
        checks = rules.pre_dose_checks(pre(), PARAMS)
        assert [c.code for c in checks] == ESKETAMINE_CODES
        assert all(c.passed for c in checks)
        assert rules.may_dose(checks)
        assert all(c.source and c.reason for c in checks)

    def test_iv_adds_the_weight_and_the_contraindication_level(self) -> None:
        checks = rules.pre_dose_checks(pre(route=rules.INTRAVENOUS), PARAMS)
        codes = [c.code for c in checks]
        assert codes[2] == "weight"
        assert codes[codes.index("bp") + 1] == "bp_hazard"
        assert rules.may_dose(checks)
        assert "weight" not in {c.code for c in rules.pre_dose_checks(pre(), PARAMS)}
        sublingual = rules.pre_dose_checks(pre(route=rules.SUBLINGUAL), PARAMS)
        assert "weight" not in {c.code for c in sublingual}
        assert "bp_hazard" in {c.code for c in sublingual}

    def test_a_weight_based_sublingual_order_needs_the_weight(self) -> None:
        checks = rules.pre_dose_checks(
            pre(route=rules.SUBLINGUAL, weight_based=True, weight_kg_today=None), PARAMS
        )
        assert failed(checks) == {"weight"}

    @pytest.mark.parametrize("code", HOLDS)
    def test_each_hold_alone_blocks_and_says_why(self, code: str) -> None:
        changes, reason = HOLDS[code]
        checks = rules.pre_dose_checks(pre(route=rules.INTRAVENOUS, **changes), PARAMS)
        held = rules.holds(checks)
        assert [c.code for c in held] == [code]
        assert held[0].reason == reason
        assert held[0].source
        assert held[0].blocking
        assert not rules.may_dose(checks)

    def test_every_combination_holds_exactly_the_failed_checks(self) -> None:
        for size in range(len(HOLDS) + 1):
            for combo in itertools.combinations(HOLDS, size):
                changes: dict[str, object] = {}
                for code in combo:
                    changes |= HOLDS[code][0]
                checks = rules.pre_dose_checks(pre(route=rules.INTRAVENOUS, **changes), PARAMS)
                assert {c.code for c in rules.holds(checks)} == set(combo)
                assert rules.may_dose(checks) == (not combo)
                assert all(c.reason and c.source for c in rules.holds(checks))

    def test_an_override_needs_a_name_and_a_reason_and_opens_only_its_check(self) -> None:
        checks = rules.pre_dose_checks(pre(systolic=146, escort_confirmed=False), PARAMS)
        assert not rules.may_dose(checks, {"bp": ("Dr. Patel", "")})
        assert not rules.may_dose(checks, {"bp": ("", "Anxious, repeat reading 138/84")})
        assert not rules.may_dose(checks, {"bp": ("Dr. Patel", "White-coat effect")})
        both = {"bp": ("Dr. Patel", "White-coat effect"), "escort": ("Dr. Patel", "Taxi booked")}
        assert rules.may_dose(checks, both)
        applied = rules.with_overrides(checks, both)
        bp = next(c for c in applied if c.code == "bp")
        assert (bp.passed, bp.open, bp.overridden_by, bp.override_reason) == (
            False,
            True,
            "Dr. Patel",
            "White-coat effect",
        )

    def test_a_passing_check_is_not_marked_overridden(self) -> None:
        applied = rules.with_overrides(
            rules.pre_dose_checks(pre(), PARAMS), {"bp": ("Dr. Patel", "x")}
        )
        assert all(not c.overridden_by for c in applied)

    @pytest.mark.parametrize(
        ("age", "systolic", "diastolic", "passes"),
        [
            (40, 140, 90, True),  # the label's "> 140/90": exactly 140/90 passes
            (40, 141, 90, False),
            (40, 140, 91, False),
            (65, 140, 90, True),
            (65, 141, 80, False),  # 65 is not "over 65": the 140 limit applies
            (65, 150, 80, False),
            (66, 150, 90, True),  # over 65: "> 150 systolic"
            (66, 151, 80, False),
            (66, 145, 91, False),  # the diastolic limit stays 90
            (90, 150, 70, True),
        ],
    )
    def test_esketamine_bp_boundaries_follow_the_source_wording(
        self, age: int, systolic: int, diastolic: int, passes: bool
    ) -> None:
        checks = rules.pre_dose_checks(pre(age=age, systolic=systolic, diastolic=diastolic), PARAMS)
        bp = next(c for c in checks if c.code == "bp")
        assert bp.passed is passes
        assert "Spravato label" in bp.source
        assert ("over 65" in bp.reason) is (age > 65)

    @pytest.mark.parametrize(
        ("age", "systolic", "diastolic", "passes"),
        [
            (40, 140, 90, True),
            (40, 141, 90, False),
            (70, 145, 80, False),  # no age rule for racemic ketamine by default
        ],
    )
    def test_racemic_bp_is_a_practice_setting(
        self, age: int, systolic: int, diastolic: int, passes: bool
    ) -> None:
        checks = rules.pre_dose_checks(
            pre(route=rules.INTRAVENOUS, age=age, systolic=systolic, diastolic=diastolic), PARAMS
        )
        bp = next(c for c in checks if c.code == "bp")
        assert bp.passed is passes
        assert bp.source.startswith("Practice setting")
        assert "not verified" in bp.source

    def test_a_signed_off_racemic_bp_limit_is_used(self) -> None:
        values = parameters.default_values() | {"dosing.hold_systolic.racemic": 150}
        params = parameters.dosing_parameters(values)
        checks = rules.pre_dose_checks(pre(route=rules.INTRAVENOUS, systolic=145), params)
        assert rules.may_dose(checks)

    @pytest.mark.parametrize(
        ("systolic", "diastolic", "hazard"),
        [(180, 100, False), (181, 95, True), (170, 101, True), (200, 120, True)],
    )
    def test_the_smpc_contraindication_is_a_hard_stop(
        self, systolic: int, diastolic: int, hazard: bool
    ) -> None:
        checks = rules.pre_dose_checks(
            pre(route=rules.INTRAVENOUS, systolic=systolic, diastolic=diastolic), PARAMS
        )
        stop = next(c for c in checks if c.code == "bp_hazard")
        assert stop.passed is not hazard
        assert not stop.overridable
        assert "Swiss ketamine SmPC" in stop.source
        overrides = {
            "bp": ("Dr. Patel", "Reviewed"),
            "bp_hazard": ("Dr. Patel", "Reviewed"),
        }
        assert rules.may_dose(checks, overrides) is not hazard

    def test_esketamine_has_no_smpc_level(self) -> None:
        checks = rules.pre_dose_checks(pre(systolic=190, diastolic=105), PARAMS)
        assert "bp_hazard" not in {c.code for c in checks}
        assert rules.may_dose(checks, {"bp": ("Dr. Patel", "Benefit outweighs the rise")})

    def test_missing_vitals_hold(self) -> None:
        checks = rules.pre_dose_checks(
            pre(route=rules.INTRAVENOUS, systolic=None, heart_rate=None, spo2=None), PARAMS
        )
        assert {c.code for c in rules.holds(checks)} == {"bp", "bp_hazard", "heart_rate", "spo2"}
        reasons = {c.code: c.reason for c in checks}
        assert reasons["bp"] == "No pre-dose blood pressure recorded."
        assert reasons["spo2"] == "No pre-dose SpO2 recorded."
        assert reasons["heart_rate"] == "No pre-dose heart rate recorded."

    @pytest.mark.parametrize(
        ("route", "food", "liquid", "expected"),
        [
            (rules.INTRANASAL, 120, 30, set()),  # "≥2 h", "≥30 min": exactly enough passes
            (rules.INTRANASAL, 119, 30, {"fasting_food"}),
            (rules.INTRANASAL, 120, 29, {"fasting_liquid"}),
            (rules.INTRANASAL, None, None, {"fasting_food", "fasting_liquid"}),
            (rules.INTRAMUSCULAR, 120, 30, set()),
            (rules.SUBLINGUAL, 100, 30, {"fasting_food"}),
        ],
    )
    def test_fasting_boundaries(
        self, route: str, food: int | None, liquid: int | None, expected: set[str]
    ) -> None:
        checks = rules.pre_dose_checks(
            pre(route=route, minutes_since_food=food, minutes_since_liquid=liquid), PARAMS
        )
        assert failed(checks) == expected

    def test_fasting_sources_distinguish_label_and_practice(self) -> None:
        def source(route: str) -> str:
            checks = rules.pre_dose_checks(pre(route=route), PARAMS)
            return next(c.source for c in checks if c.code == "fasting_food")

        assert source(rules.INTRANASAL).startswith("Spravato label")
        assert source(rules.INTRAVENOUS).startswith("Practice setting")

    def test_a_practice_with_a_longer_fast(self) -> None:
        values = parameters.default_values() | {"dosing.fast_food_minutes.intravenous": 240}
        params = parameters.dosing_parameters(values)
        checks = rules.pre_dose_checks(pre(route=rules.INTRAVENOUS, minutes_since_food=180), params)
        food = next(c for c in checks if c.code == "fasting_food")
        assert food.reason == "3 h since food; at least 4 h needed."
        assert not food.passed

    @pytest.mark.parametrize(
        "category", ["benzodiazepine", "psychostimulant", "maoi", "opioid", "naltrexone"]
    )
    def test_mixed_evidence_interactions_are_prompts(self, category: str) -> None:
        checks = rules.pre_dose_checks(pre(medicines_today=(category,)), PARAMS)
        prompt = next(c for c in checks if c.code == f"medicine.{category}")
        assert (prompt.passed, prompt.blocking) == (False, False)
        assert prompt.reason
        assert "clinical-facts §4" in prompt.source
        assert rules.may_dose(checks)
        assert rules.prompts(checks) == [prompt]

    @pytest.mark.parametrize("category", ["theophylline", "memantine"])
    def test_interactions_the_screen_treats_as_relative_hold(self, category: str) -> None:
        checks = rules.pre_dose_checks(pre(medicines_today=(category,)), PARAMS)
        assert [c.code for c in rules.holds(checks)] == [f"medicine.{category}"]

    def test_a_practice_may_make_a_prompt_a_hold(self) -> None:
        values = parameters.default_values() | {"dosing.medicine_today.benzodiazepine": "hold"}
        params = parameters.dosing_parameters(values)
        checks = rules.pre_dose_checks(pre(medicines_today=("benzodiazepine",)), params)
        assert [c.code for c in rules.holds(checks)] == ["medicine.benzodiazepine"]

    def test_several_medicines_once_each_and_unknown_ones_refused(self) -> None:
        checks = rules.pre_dose_checks(pre(medicines_today=("opioid", "maoi", "opioid")), PARAMS)
        assert [c.code for c in checks if c.code.startswith("medicine")] == [
            "medicine.opioid",
            "medicine.maoi",
        ]
        with pytest.raises(ValueError, match="medicines_today: unknown interaction category"):
            rules.pre_dose_checks(pre(medicines_today=("aspirin",)), PARAMS)

    def test_medicines_not_asked_holds(self) -> None:
        checks = rules.pre_dose_checks(pre(medicines_today=None), PARAMS)
        assert [c.code for c in rules.holds(checks)] == ["medicines"]

    @pytest.mark.parametrize(
        ("result", "passes"),
        [("negative", True), ("not_applicable", True), ("positive", False), ("missing", False)],
    )
    def test_pregnancy_test(self, result: str, passes: bool) -> None:
        checks = rules.pre_dose_checks(pre(pregnancy_test=result), PARAMS)
        assert next(c for c in checks if c.code == "pregnancy").passed is passes
        assert rules.may_dose(checks) is passes
        with pytest.raises(ValueError, match="pregnancy_test: unknown result"):
            rules.pre_dose_checks(pre(pregnancy_test="unknown"), PARAMS)

    @pytest.mark.parametrize(
        ("item9", "cssrs", "reviewed", "state"),
        [
            (False, False, False, "pass"),
            (True, None, False, "hold"),
            (None, True, False, "hold"),
            (True, True, False, "hold"),
            (True, False, True, "pass"),
            (None, True, True, "pass"),
            (None, None, False, "prompt"),
            (None, None, True, "prompt"),
            (False, None, False, "pass"),
        ],
    )
    def test_same_day_suicide_screen(
        self, item9: bool | None, cssrs: bool | None, reviewed: bool, state: str
    ) -> None:
        checks = rules.pre_dose_checks(
            pre(phq9_item9_positive=item9, cssrs_positive=cssrs, suicide_reviewed_today=reviewed),
            PARAMS,
        )
        screen = next(c for c in checks if c.code == "suicide_screen")
        got = "pass" if screen.passed else ("hold" if screen.blocking else "prompt")
        assert got == state
        assert "§6.1" in screen.source

    def test_the_positive_screens_are_named(self) -> None:
        checks = rules.pre_dose_checks(pre(phq9_item9_positive=True, cssrs_positive=True), PARAMS)
        screen = next(c for c in checks if c.code == "suicide_screen")
        assert screen.reason.startswith("PHQ-9 item 9 and C-SSRS positive today")

    def test_a_missing_intention_is_a_prompt(self) -> None:
        checks = rules.pre_dose_checks(pre(intention_recorded=False), PARAMS)
        assert [c.code for c in rules.prompts(checks)] == ["intention"]
        assert rules.may_dose(checks)

    def test_the_gates_reason_is_passed_through_or_defaulted(self) -> None:
        checks = rules.pre_dose_checks(pre(gates_open=False, gates_reason=""), PARAMS)
        assert next(c for c in checks if c.code == "gates").reason == "A course gate fails."


# ---------------------------------------------------------------------------------------------
# Vitals


def offsets(dues: list[rules.DueVitals], start: dt.datetime = T0) -> list[int]:
    return [int((d.at - start).total_seconds() // 60) for d in dues]


class TestVitalsDue:
    def test_iv_every_10_during_and_every_15_after(self) -> None:
        dues = rules.vitals_due(rules.INTRAVENOUS, T0, 40, None, PARAMS)
        assert offsets(dues) == [0, 10, 20, 30, 40, 55, 70, 85, 100, 115, 130, 145, 160]
        assert [d.kind for d in dues[:6]] == [
            "pre_dose",
            "during",
            "during",
            "during",
            "during",
            "after",
        ]
        assert dues[0].label == "Pre-dose"
        assert dues[0].early_minutes == 60
        assert dues[4].label == "40 min, end of infusion"
        assert dues[-1].label == "160 min, after infusion; before discharge"

    def test_an_infusion_that_is_not_a_multiple_of_10(self) -> None:
        dues = rules.vitals_due(rules.INTRAVENOUS, T0, 45, None, PARAMS)
        assert offsets(dues)[:8] == [0, 10, 20, 30, 40, 45, 60, 75]
        assert offsets(dues)[-1] == 165

    def test_esketamine_pre_dose_40_minutes_and_before_discharge(self) -> None:
        dues = rules.vitals_due(rules.INTRANASAL, T0, 10, None, PARAMS)
        assert offsets(dues) == [0, 40, 130]  # the last device at 10 min, then 2 h
        assert [d.label for d in dues] == ["Pre-dose", "40 min after dosing", "Before discharge"]
        assert [d.kind for d in dues] == ["pre_dose", "peak", "discharge"]

    @pytest.mark.parametrize("route", [rules.SUBLINGUAL, rules.INTRAMUSCULAR, rules.ORAL])
    def test_other_routes_use_the_practice_defaults(self, route: str) -> None:
        assert offsets(rules.vitals_due(route, T0, 0, None, PARAMS)) == [0, 40, 120]

    def test_a_planned_discharge_time(self) -> None:
        dues = rules.vitals_due(rules.INTRANASAL, T0, 10, minutes(150), PARAMS)
        assert offsets(dues) == [0, 40, 150]

    def test_an_early_discharge_shortens_the_sheet(self) -> None:
        dues = rules.vitals_due(rules.INTRAVENOUS, T0, 40, minutes(100), PARAMS)
        assert offsets(dues) == [0, 10, 20, 30, 40, 55, 70, 85, 100]
        assert dues[-1].label == "100 min, after infusion; before discharge"
        between = rules.vitals_due(rules.INTRAVENOUS, T0, 40, minutes(95), PARAMS)
        assert offsets(between)[-2:] == [85, 95]
        assert between[-1].label == "Before discharge"

    def test_times_are_elapsed_across_the_daylight_saving_change(self) -> None:
        # Los Angeles springs forward at 02:00 on 8 March 2026.
        start = dt.datetime(2026, 3, 8, 1, 30, tzinfo=LA)
        dues = rules.vitals_due(rules.INTRAVENOUS, start, 40, None, PARAMS)
        assert all(d.at.tzinfo is dt.UTC for d in dues)
        assert offsets(dues, rules.utc(start))[:5] == [0, 10, 20, 30, 40]
        assert dues[4].at.astimezone(LA).timetuple()[3:5] == (3, 10)

    def test_refusals(self) -> None:
        with pytest.raises(ValueError, match="infusion_minutes: an infusion lasts"):
            rules.vitals_due(rules.INTRAVENOUS, T0, 0, None, PARAMS)
        with pytest.raises(ValueError, match="infusion_minutes: must be 0"):
            rules.vitals_due(rules.INTRANASAL, T0, -5, None, PARAMS)
        with pytest.raises(ValueError, match="discharge_at: discharge comes after"):
            rules.vitals_due(rules.INTRANASAL, T0, 10, minutes(-1), PARAMS)
        with pytest.raises(ValueError, match="timezone-aware"):
            rules.vitals_due(rules.INTRANASAL, dt.datetime(2026, 1, 1), 10, None, PARAMS)  # noqa: DTZ001


@settings(deadline=None)
@given(
    route=st.sampled_from(rules.ROUTES),
    length=st.integers(min_value=1, max_value=180),
    discharge_after=st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    during=st.integers(min_value=5, max_value=30),
    after=st.integers(min_value=5, max_value=60),
)
def test_due_times_are_sorted_and_unique(
    route: str, length: int, discharge_after: int | None, during: int, after: int
) -> None:
    params = replace(PARAMS, iv_during_every_minutes=during, iv_after_every_minutes=after)
    leaving = None if discharge_after is None else minutes(discharge_after)
    dues = rules.vitals_due(route, T0, length, leaving, params)
    times = [d.at for d in dues]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert dues[0].kind == "pre_dose"
    if leaving is not None:
        assert all(t <= leaving for t in times)
    if leaving is not None and leaving > T0:
        assert times[-1] == leaving


class TestVitalsStatus:
    DUES = rules.vitals_due(rules.INTRANASAL, T0, 10, None, PARAMS)  # 0, 40, 130

    def states(self, readings: list[float], now: float, grace: int = 5) -> list[str]:
        result = rules.vitals_status(self.DUES, [minutes(m) for m in readings], minutes(now), grace)
        return [s.state for s in result]

    def test_on_time_readings_are_done(self) -> None:
        assert self.states([-20, 44], now=100) == ["done", "done", "upcoming"]

    def test_the_grace_is_inclusive_either_side(self) -> None:
        assert self.states([0, 35], now=100)[1] == "done"
        assert self.states([0, 45], now=100)[1] == "done"
        assert self.states([0, 34], now=100)[1] == "missed"
        assert self.states([0, 46], now=100)[1] == "missed"

    def test_due_while_the_window_is_open(self) -> None:
        assert self.states([0], now=35) == ["done", "due", "upcoming"]
        assert self.states([0], now=45) == ["done", "due", "upcoming"]
        assert self.states([0], now=34) == ["done", "upcoming", "upcoming"]
        assert self.states([0], now=46) == ["done", "missed", "upcoming"]

    def test_the_pre_dose_window(self) -> None:
        assert self.states([-65], now=1)[0] == "done"  # 60 min window + 5 min grace
        assert self.states([-66], now=1)[0] == "due"
        assert self.states([-66], now=6)[0] == "missed"

    def test_a_reading_counts_once(self) -> None:
        dues = rules.vitals_due(rules.INTRAVENOUS, T0, 40, None, PARAMS)[:3]  # 0, 10, 20
        result = rules.vitals_status(dues, [minutes(0), minutes(15)], minutes(30), 5)
        assert [s.state for s in result] == ["done", "done", "missed"]
        assert result[1].reading_at == minutes(15)

    def test_the_matched_reading_is_returned_in_utc(self) -> None:
        local = minutes(41).astimezone(LA)
        result = rules.vitals_status(self.DUES, [local], minutes(60), 5)
        assert result[1].reading_at == minutes(41)
        assert result[1].reading_at is not None
        assert result[1].reading_at.tzinfo is dt.UTC

    def test_no_grace_and_bad_grace(self) -> None:
        assert self.states([0, 40], now=50, grace=0)[:2] == ["done", "done"]
        assert self.states([0, 41], now=50, grace=0)[1] == "missed"
        with pytest.raises(ValueError, match="grace_minutes"):
            self.states([], now=0, grace=-1)


@settings(deadline=None)
@given(
    readings=st.lists(st.integers(min_value=-120, max_value=300), max_size=20),
    now=st.integers(min_value=-60, max_value=400),
    grace=st.integers(min_value=0, max_value=15),
)
def test_each_reading_satisfies_at_most_one_due_time(
    readings: list[int], now: int, grace: int
) -> None:
    dues = rules.vitals_due(rules.INTRAVENOUS, T0, 40, None, PARAMS)
    result = rules.vitals_status(dues, [minutes(m) for m in readings], minutes(now), grace)
    done = Counter(s.reading_at for s in result if s.state == "done")
    available = Counter(minutes(m) for m in readings)
    assert len(result) == len(dues)
    assert all(count <= available[moment] for moment, count in done.items())
    for status in result:
        if status.state == "done":
            assert status.reading_at is not None
            early = dt.timedelta(minutes=status.due.early_minutes + grace)
            assert status.due.at - early <= status.reading_at
            assert status.reading_at <= status.due.at + dt.timedelta(minutes=grace)


def alerts(age: int = 40, route: str = rules.INTRANASAL, **values: int) -> dict[str, str]:
    found = rules.vitals_alerts(rules.Reading(**values), None, PARAMS, age, route=route)  # type: ignore[arg-type]
    return {a.code: a.severity for a in found}


class TestAlerts:
    @pytest.mark.parametrize(
        ("systolic", "diastolic", "expected"),
        [
            (140, 90, {}),
            (141, 90, {"bp_high": "watch"}),
            (140, 91, {"bp_high": "watch"}),
            (180, 100, {"bp_high": "watch"}),
            (181, 90, {"bp_stop": "stop"}),
            (170, 101, {"bp_stop": "stop"}),
            (181, 101, {"bp_stop": "stop"}),
        ],
    )
    def test_blood_pressure(self, systolic: int, diastolic: int, expected: dict[str, str]) -> None:
        assert alerts(systolic=systolic, diastolic=diastolic) == expected

    def test_the_watch_level_follows_age_and_route(self) -> None:
        assert alerts(age=66, systolic=150, diastolic=85) == {}
        assert alerts(age=66, systolic=151, diastolic=85) == {"bp_high": "watch"}
        assert alerts(age=66, route=rules.INTRAVENOUS, systolic=145, diastolic=85) == {
            "bp_high": "watch"
        }

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ({"heart_rate": 110}, {}),
            ({"heart_rate": 111}, {"heart_rate": "stop"}),
            ({"spo2": 92}, {}),
            ({"spo2": 91}, {"spo2": "stop"}),
            ({"respiratory_rate": 10}, {}),
            ({"respiratory_rate": 9}, {"respiratory_rate": "stop"}),
            ({}, {}),
            ({"systolic": 200}, {}),  # half a blood pressure raises nothing
        ],
    )
    def test_heart_rate_spo2_and_breathing(
        self, values: dict[str, int], expected: dict[str, str]
    ) -> None:
        assert alerts(**values) == expected

    def test_each_alert_names_value_threshold_and_source(self) -> None:
        reading = rules.Reading(
            systolic=184, diastolic=96, heart_rate=120, spo2=89, respiratory_rate=8
        )
        baseline = rules.Reading(systolic=140, diastolic=86)
        found = rules.vitals_alerts(reading, baseline, PARAMS, 50, route=rules.INTRAVENOUS)
        by_code = {a.code: a for a in found}
        assert list(by_code) == ["bp_stop", "heart_rate", "spo2", "respiratory_rate"]
        bp = by_code["bp_stop"]
        assert (bp.value, bp.threshold) == ("184/96 mmHg", ">180/100 mmHg")
        assert bp.reason == (
            "BP 184/96 mmHg (+44/+10 from baseline 140/86): systolic above 180: stop or modify "
            "dosing; a clinician assesses now."
        )
        assert "not verified" in bp.source
        assert (by_code["spo2"].value, by_code["spo2"].threshold) == ("89%", "<92%")
        assert "pulse oximetry" in by_code["spo2"].source
        assert "practice setting" in by_code["respiratory_rate"].source
        assert by_code["heart_rate"].reason == "Heart rate 120 bpm: above 110."

    def test_signed_off_thresholds_are_used(self) -> None:
        params = replace(PARAMS, spo2_below=94, bp_stop=(170, 100))
        found = rules.vitals_alerts(
            rules.Reading(systolic=175, diastolic=80, spo2=93), None, params, 40, route=rules.ORAL
        )
        assert {a.code for a in found} == {"bp_stop", "spo2"}


# ---------------------------------------------------------------------------------------------
# Sedation and dissociation


class TestSedation:
    @pytest.mark.parametrize(
        ("score", "level"),
        [
            (5, "alert"),
            (4, "mild"),
            (3, "moderate_or_greater"),
            (2, "moderate_or_greater"),
            (1, "moderate_or_greater"),
            (0, "loss_of_consciousness"),
        ],
    )
    def test_levels(self, score: int, level: str) -> None:
        sedation = rules.moaas_level(score)
        assert (sedation.score, sedation.level) == (score, level)
        assert sedation.label == rules.SEDATION_LABELS[level]
        assert "§5.2" in sedation.source

    @pytest.mark.parametrize("score", [-1, 6, True, 4.5])
    def test_out_of_range(self, score: object) -> None:
        with pytest.raises(ValueError, match="score: a MOAA/S score is a whole number"):
            rules.moaas_level(score)  # type: ignore[arg-type]


class TestDissociation:
    @pytest.mark.parametrize(("total", "resolved"), [(0, True), (4, True), (5, False), (40, False)])
    def test_the_cut_off(self, total: int, resolved: bool) -> None:
        result = rules.dissociation_resolved(total, "cadss23", PARAMS)
        assert result.resolved is resolved
        assert "secondary source" in result.source
        assert f"Latest CADSS (cadss23) {total}" in result.reason

    def test_a_clinicians_statement_decides(self) -> None:
        assert rules.dissociation_resolved(30, "cadss23", PARAMS, clinician_resolved=True).resolved
        assert not rules.dissociation_resolved(
            0, "cadss23", PARAMS, clinician_resolved=False
        ).resolved
        assert rules.dissociation_resolved(
            None, "cadss23", PARAMS, clinician_resolved=True
        ).resolved

    def test_nothing_recorded_is_not_resolved(self) -> None:
        result = rules.dissociation_resolved(None, "cadss23", PARAMS)
        assert not result.resolved
        assert result.reason == "No CADSS score since the dose and no clinician statement."

    def test_a_signed_off_cut_off(self) -> None:
        params = replace(PARAMS, cadss_resolved_at_most=2)
        assert not rules.dissociation_resolved(3, "cadss23", params).resolved

    def test_version_and_range_are_checked(self) -> None:
        with pytest.raises(ValueError, match="version: unknown CADSS version 'cadss99'"):
            rules.dissociation_resolved(2, "cadss99", PARAMS)
        with pytest.raises(ValueError, match="latest_cadss_total: a cadss23 total is from 0 to 92"):
            rules.dissociation_resolved(93, "cadss23", PARAMS)
        with pytest.raises(ValueError, match="from 0 to 24"):
            rules.dissociation_resolved(25, "cadss6", PARAMS)
        assert rules.cadss_max("cadss27") == 108


# ---------------------------------------------------------------------------------------------
# Discharge

DOSE_END = minutes(10)  # the last esketamine device


def discharge(**changes: object) -> rules.DischargeInputs:
    base: dict[str, object] = {
        "route": rules.INTRANASAL,
        "age": 40,
        "dose_completed_at": DOSE_END,
        "now": DOSE_END + dt.timedelta(minutes=125),
        "readings": (
            rules.Reading(at=minutes(-10), systolic=130, diastolic=80, spo2=98, heart_rate=70),
            rules.Reading(at=minutes(40), systolic=150, diastolic=92, spo2=97, heart_rate=80),
            rules.Reading(at=minutes(100), systolic=134, diastolic=84, spo2=98, heart_rate=72),
        ),
        "baseline": rules.Reading(at=minutes(-10), systolic=130, diastolic=80),
        "latest_moaas": 5,
        "latest_cadss": 1,
        "cadss_version": "cadss23",
        "clinician_dissociation_resolved": None,
        "escort_present": True,
        "no_driving_counselled": True,
    }
    return rules.DischargeInputs(**(base | changes))  # type: ignore[arg-type]


def with_last(**values: int) -> tuple[rules.Reading, ...]:
    earlier = discharge().readings[:2]
    return (*earlier, rules.Reading(at=minutes(100), **values))  # type: ignore[arg-type]


DISCHARGE_FAILURES: dict[str, tuple[dict[str, object], str]] = {
    "observation": (
        {"now": DOSE_END + dt.timedelta(minutes=100)},
        "Observed 1 h 40 min since the dose ended; at least 2 h needed.",
    ),
    "vitals": (
        {"readings": with_last(systolic=138, diastolic=84, spo2=90)},
        "SpO2 90%: below 92%.",
    ),
    "bp_trend": (
        {
            "readings": (
                rules.Reading(at=minutes(-10), systolic=130, diastolic=80),
                rules.Reading(at=minutes(40), systolic=136, diastolic=88),
                rules.Reading(at=minutes(100), systolic=138, diastolic=90, spo2=98),
            )
        },
        "138/90: not falling from 136/88 and above baseline; keep monitoring.",
    ),
    "sedation": ({"latest_moaas": 4}, "MOAA/S 4 (mild sedation); 5 needed."),
    "dissociation": ({"latest_cadss": 9}, "Latest CADSS (cadss23) 9: above 4."),
    "escort": ({"escort_present": False}, "No responsible adult to take the client home."),
    "no_driving": (
        {"no_driving_counselled": False},
        "Not yet told: no driving until the next day after a restful sleep.",
    ),
}


class TestDischarge:
    def test_all_pass(self) -> None:
        checks = rules.discharge_checks(discharge(), PARAMS)
        assert [c.code for c in checks] == [
            "observation",
            "vitals",
            "bp_trend",
            "sedation",
            "dissociation",
            "escort",
            "no_driving",
        ]
        assert all(c.passed for c in checks), [c.reason for c in checks if not c.passed]
        assert rules.may_discharge(checks)
        assert all(c.source and c.blocking for c in checks)
        reasons = {c.code: c.reason for c in checks}
        assert reasons["bp_trend"] == "134/84: falling from 150/92."
        assert reasons["vitals"] == "Last BP 134/84 mmHg: not above 140/90."

    def test_a_last_bp_above_the_hold_level(self) -> None:
        checks = rules.discharge_checks(
            discharge(readings=with_last(systolic=150, diastolic=92, spo2=98)), PARAMS
        )
        assert failed(checks) == {"vitals", "bp_trend"}
        vitals = next(c for c in checks if c.code == "vitals")
        assert vitals.reason == (
            "Last BP 150/92 mmHg: systolic above 140 and diastolic above 90; keep monitoring."
        )
        # Over 65 the esketamine systolic limit is 150 ("> 150"); at 65 it is still 140.
        settling = with_last(systolic=150, diastolic=90, spo2=98)  # falling from 150/92
        assert failed(rules.discharge_checks(discharge(age=66, readings=settling), PARAMS)) == set()
        assert failed(rules.discharge_checks(discharge(age=65, readings=settling), PARAMS)) == {
            "vitals"
        }

    @pytest.mark.parametrize("code", DISCHARGE_FAILURES)
    def test_each_failing_criterion_alone(self, code: str) -> None:
        changes, reason = DISCHARGE_FAILURES[code]
        checks = rules.discharge_checks(discharge(**changes), PARAMS)
        assert failed(checks) == {code}
        assert next(c for c in checks if c.code == code).reason == reason
        assert not rules.may_discharge(checks)

    def test_every_combination_of_failing_criteria(self) -> None:
        simple = [code for code in DISCHARGE_FAILURES if code not in ("vitals", "bp_trend")]
        for size in range(len(simple) + 1):
            for combo in itertools.combinations(simple, size):
                changes: dict[str, object] = {}
                for code in combo:
                    changes |= DISCHARGE_FAILURES[code][0]
                checks = rules.discharge_checks(discharge(**changes), PARAMS)
                assert failed(checks) == set(combo)
                assert rules.may_discharge(checks) == (not combo)

    def test_early_discharge_needs_a_prescriber_override_with_a_reason(self) -> None:
        checks = rules.discharge_checks(discharge(now=DOSE_END + dt.timedelta(minutes=90)), PARAMS)
        assert failed(checks) == {"observation"}
        assert not rules.may_discharge(checks)
        assert not rules.may_discharge(checks, {"observation": ("Dr. Patel", " ")})
        assert not rules.may_discharge(checks, {"observation": ("", "Stable")})
        assert rules.may_discharge(
            checks, {"observation": ("Dr. Patel", "Stable, MOAA/S 5 since 60 min")}
        )

    def test_observation_boundary_and_source(self) -> None:
        exactly = rules.discharge_checks(
            discharge(now=DOSE_END + dt.timedelta(minutes=120)), PARAMS
        )
        assert exactly[0].passed
        short = rules.discharge_checks(
            discharge(now=DOSE_END + dt.timedelta(minutes=119, seconds=59)), PARAMS
        )
        assert not short[0].passed
        assert "Spravato label and REMS" in exactly[0].source
        iv = rules.discharge_checks(discharge(route=rules.INTRAVENOUS), PARAMS)
        assert iv[0].source.startswith("Practice setting")

    def test_observation_is_elapsed_time_across_fall_back(self) -> None:
        # Los Angeles falls back at 02:00 on 1 November 2026: 00:30 PDT to 01:45 PST is 135
        # minutes, though the wall clock moved 75.
        ended = dt.datetime(2026, 11, 1, 0, 30, tzinfo=LA)
        now = dt.datetime(2026, 11, 1, 1, 45, fold=1, tzinfo=LA)
        reading = rules.Reading(at=now, systolic=120, diastolic=75)
        checks = rules.discharge_checks(
            discharge(dose_completed_at=ended, now=now, readings=(reading,)), PARAMS
        )
        assert checks[0].passed
        assert checks[0].reason.startswith("Observed 2 h 15 min")

    def test_back_to_baseline_passes_without_a_falling_trend(self) -> None:
        checks = rules.discharge_checks(
            discharge(
                readings=(
                    rules.Reading(at=minutes(100), systolic=126, diastolic=78),
                    rules.Reading(at=minutes(120), systolic=128, diastolic=80),
                )
            ),
            PARAMS,
        )
        trend = next(c for c in checks if c.code == "bp_trend")
        assert trend.passed
        assert trend.reason == "128/80: back to baseline 130/80."

    def test_no_reading_since_the_dose(self) -> None:
        only_before = (rules.Reading(at=minutes(-10), systolic=120, diastolic=75),)
        checks = rules.discharge_checks(discharge(readings=only_before), PARAMS)
        assert failed(checks) == {"vitals", "bp_trend"}
        assert {c.reason for c in checks if not c.passed} == {
            "No blood pressure since the dose ended."
        }

    def test_a_single_reading_above_baseline_cannot_show_a_fall(self) -> None:
        one = (rules.Reading(at=minutes(120), systolic=135, diastolic=85),)
        checks = rules.discharge_checks(discharge(readings=one), PARAMS)
        assert failed(checks) == {"bp_trend"}

    def test_readings_after_now_are_ignored(self) -> None:
        future = (
            *discharge().readings,
            rules.Reading(at=minutes(500), systolic=190, diastolic=110),
        )
        assert rules.may_discharge(rules.discharge_checks(discharge(readings=future), PARAMS))

    def test_no_moaas_and_a_clinician_statement(self) -> None:
        checks = rules.discharge_checks(
            discharge(latest_moaas=None, latest_cadss=12, clinician_dissociation_resolved=True),
            PARAMS,
        )
        assert failed(checks) == {"sedation"}

    def test_the_check_comes_after_the_dose(self) -> None:
        with pytest.raises(ValueError, match=r"^now: "):
            rules.discharge_checks(discharge(now=DOSE_END - dt.timedelta(minutes=1)), PARAMS)


# ---------------------------------------------------------------------------------------------
# REMS monitoring form


class TestRems:
    @pytest.mark.parametrize(
        ("session", "deadline"),
        [
            (dt.date(2026, 3, 9), dt.date(2026, 3, 16)),  # Monday to Monday
            (dt.date(2026, 1, 30), dt.date(2026, 2, 6)),  # across a weekend and a month end
            (dt.date(2026, 3, 14), dt.date(2026, 3, 21)),  # a Saturday session: weekends count
            (dt.date(2026, 2, 25), dt.date(2026, 3, 4)),  # February, not a leap year
            (dt.date(2028, 2, 25), dt.date(2028, 3, 3)),  # leap year
            (dt.date(2026, 12, 28), dt.date(2027, 1, 4)),  # year end
            (dt.date(2026, 12, 25), dt.date(2027, 1, 1)),  # holidays count
        ],
    )
    def test_deadline_is_seven_calendar_days(self, session: dt.date, deadline: dt.date) -> None:
        assert rules.rems_deadline(session) == deadline
        assert rules.rems_deadline(session, PARAMS.rems_form_days) == deadline

    def test_a_shorter_signed_off_window_and_refusal(self) -> None:
        assert rules.rems_deadline(dt.date(2026, 3, 9), 3) == dt.date(2026, 3, 12)
        with pytest.raises(ValueError, match="days"):
            rules.rems_deadline(dt.date(2026, 3, 9), -1)

    DEADLINE = dt.date(2026, 3, 16)

    @pytest.mark.parametrize(
        ("submitted", "today", "state", "reason"),
        [
            (
                dt.date(2026, 3, 16),
                dt.date(2026, 3, 20),
                "on_time",
                "Submitted Mar 16, due by Mar 16.",
            ),
            (
                dt.date(2026, 3, 10),
                dt.date(2026, 3, 10),
                "on_time",
                "Submitted Mar 10, due by Mar 16.",
            ),
            (
                dt.date(2026, 3, 17),
                dt.date(2026, 3, 17),
                "submitted_late",
                "Submitted Mar 17, 1 day after the deadline Mar 16.",
            ),
            (
                dt.date(2026, 3, 20),
                dt.date(2026, 3, 25),
                "submitted_late",
                "Submitted Mar 20, 4 days after the deadline Mar 16.",
            ),
            (None, dt.date(2026, 3, 13), "due", "Due by Mar 16 (in 3 days)."),
            (None, dt.date(2026, 3, 15), "due", "Due by Mar 16 (in 1 day)."),
            (None, dt.date(2026, 3, 16), "due", "Due by Mar 16 (today)."),
            (
                None,
                dt.date(2026, 3, 17),
                "overdue",
                "Not submitted; the deadline was Mar 16, 1 day ago.",
            ),
            (
                None,
                dt.date(2026, 3, 19),
                "overdue",
                "Not submitted; the deadline was Mar 16, 3 days ago.",
            ),
        ],
    )
    def test_status(
        self, submitted: dt.date | None, today: dt.date, state: str, reason: str
    ) -> None:
        status = rules.rems_status(self.DEADLINE, submitted, today)
        assert (status.state, status.reason) == (state, reason)
        assert status.label == rules.REMS_LABELS[state]
        assert "within 7 days" in status.source


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 1)))
def test_the_deadline_is_always_seven_days_and_on_time_until_it(session: dt.date) -> None:
    deadline = rules.rems_deadline(session)
    assert (deadline - session).days == 7
    assert deadline.weekday() == session.weekday()
    assert rules.rems_status(deadline, deadline, deadline).state == "on_time"
    assert rules.rems_status(deadline, None, deadline + dt.timedelta(days=1)).state == "overdue"


# ---------------------------------------------------------------------------------------------
# Parameters


class TestParameters:
    def test_every_key_is_registered_with_a_default_source_and_evidence(self) -> None:
        evidence = {Evidence.READ, Evidence.SECONDARY, Evidence.UNVERIFIED, Evidence.PRACTICE}
        assert len(parameters.ALL_KEYS) == len(set(parameters.ALL_KEYS))
        for key in parameters.ALL_KEYS:
            parameter = registry.get(key)
            assert parameter.group.startswith("Dosing: ")
            assert parameter.source
            assert parameter.evidence in evidence
            assert parameter.parse(parameter.default) == parameter.default or (
                Decimal(str(parameter.parse(parameter.default))) == Decimal(str(parameter.default))
            )
            if parameter.kind != "choice":
                assert parameter.minimum is not None
                assert parameter.maximum is not None
                assert parameter.minimum <= Decimal(str(parameter.default)) <= parameter.maximum
                assert parameter.unit

    @pytest.mark.parametrize(
        ("key", "evidence"),
        [
            ("dosing.esketamine_max_mg", Evidence.READ),
            ("dosing.observation_minutes.intranasal", Evidence.READ),
            ("dosing.fast_food_minutes.intranasal", Evidence.READ),
            ("dosing.hold_systolic_older.esketamine", Evidence.READ),
            ("dosing.hazard_systolic.racemic", Evidence.READ),
            ("dosing.rems_form_days", Evidence.READ),
            ("dosing.hold_systolic.racemic", Evidence.UNVERIFIED),
            ("dosing.alert.stop_systolic", Evidence.UNVERIFIED),
            ("dosing.alert.hr_above", Evidence.UNVERIFIED),
            ("dosing.im_max_mg_per_kg", Evidence.UNVERIFIED),
            ("dosing.iv_max_mg_per_kg", Evidence.PRACTICE),
            ("dosing.sublingual_max_mg", Evidence.PRACTICE),
            ("dosing.alert.spo2_below", Evidence.PRACTICE),
            ("dosing.alert.rr_below", Evidence.PRACTICE),
            ("dosing.observation_minutes.intravenous", Evidence.PRACTICE),
            ("dosing.fast_food_minutes.intravenous", Evidence.PRACTICE),
            ("dosing.cadss_resolved_at_most", Evidence.SECONDARY),
        ],
    )
    def test_evidence_tags(self, key: str, evidence: str) -> None:
        assert registry.get(key).evidence == evidence

    def test_every_interaction_category_has_a_class_on_the_day(self) -> None:
        for category in CATEGORIES:
            parameter = registry.get(f"dosing.medicine_today.{category.code}")
            expected = "prompt" if category.default_class == "prompt" else "hold"
            assert parameter.default == expected
            assert parameter.parse("hold") == "hold"
        for code in ("benzodiazepine", "psychostimulant", "maoi", "opioid"):
            assert PARAMS.medicine_classes[code] == "prompt"

    def test_the_defaults_as_the_rules_take_them(self) -> None:
        assert PARAMS.limits == rules.DoseLimits(84, D("1"), D("1"), 400, 300)
        assert PARAMS.esketamine_start == rules.EsketamineStart(56, 65, 28)
        assert PARAMS.bp_hold[rules.ESKETAMINE] == rules.BpHold(140, 90, 65, 150)
        assert PARAMS.bp_hold[rules.RACEMIC] == rules.BpHold(140, 90, 65, 140)
        assert PARAMS.bp_hazard_racemic == (180, 100)
        assert PARAMS.bp_stop == (180, 100)
        assert (PARAMS.hr_above, PARAMS.spo2_below, PARAMS.rr_below) == (110, 92, 10)
        assert PARAMS.fasting[rules.INTRANASAL] == rules.Fasting(120, 30)
        assert PARAMS.observation_minutes[rules.INTRANASAL] == 120
        assert PARAMS.check_minutes[rules.INTRANASAL] == 40
        assert rules.INTRAVENOUS not in PARAMS.check_minutes
        assert (PARAMS.iv_during_every_minutes, PARAMS.iv_after_every_minutes) == (10, 15)
        assert PARAMS.dose_step_mg == D("0.1")
        assert PARAMS.iv_infusion_minutes == 40
        assert (PARAMS.cadss_resolved_at_most, PARAMS.discharge_moaas_at_least) == (4, 5)
        assert PARAMS.device_interval_minutes == 5
        assert PARAMS.rems_form_days == 7

    def test_signed_off_decimal_strings_are_read(self) -> None:
        values = parameters.default_values() | {"dosing.iv_max_mg_per_kg": "0.75"}
        assert parameters.dosing_parameters(values).limits.iv_max_mg_per_kg == D("0.75")

    def test_a_missing_value_names_its_key(self) -> None:
        values = parameters.default_values()
        del values["dosing.alert.hr_above"]
        with pytest.raises(KeyError, match=r"dosing\.alert\.hr_above"):
            parameters.dosing_parameters(values)

    def test_defining_again_is_harmless_and_a_conflict_is_refused(self) -> None:
        registry.define(*parameters.PARAMETERS)
        parameter = registry.get("dosing.esketamine_max_mg")
        with pytest.raises(ValueError, match="defined twice"):
            registry.define(replace(parameter, default=112))
