"""Each contraindication, caution and interaction rule (clinical-facts §3, §4), the result they
add up to, and the questionnaire's own checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.medications.interactions import CATEGORIES
from kapcare.screening import questions, rules
from kapcare.screening.parameters import FINDING_RULES

TODAY = dt.date(2026, 11, 22)

CLEAN_ANSWERS = {
    q.code: ("none" if "none" in dict(q.choices) else "no")
    for q in questions.QUESTIONS
    if q.kind in ("yes_no", "choice") and q.asked_if is None
} | {"height_cm": "175", "pregnancy": "not_applicable"}

PARAMS = rules.ScreenParameters(
    classes={code: default for code, (_, default, _) in FINDING_RULES.items()}
    | {f"interaction.{c.code}": c.default_class for c in CATEGORIES},
    bp_hazard=(180, 100),
    bp_review=(140, 90),
    bp_review_systolic_over_65=150,
    cardiac_event_months=12,
    sud_recent_months=3,
    bmi_above=Decimal(35),
    min_age=18,
    benzodiazepine_lorazepam_mg=Decimal(3),
)
TRD = rules.Resistance(trials=(), failed_drugs=(), failures=2, is_trd=True, needed=2)


def inputs(**changes: object) -> rules.ScreenInputs:
    answers = dict(CLEAN_ANSWERS)
    answers.update(changes.pop("answers", {}))  # type: ignore[arg-type]
    base = rules.ScreenInputs(
        answers=answers,
        age=40,
        weight_kg=Decimal(70),
        blood_pressure=rules.BloodPressure(120, 80, TODAY),
        medications=(),
        resistance=TRD,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def run(params: rules.ScreenParameters = PARAMS, **changes: object) -> rules.ScreenResult:
    return rules.screen(inputs(**changes), params, TODAY)


def codes(result: rules.ScreenResult) -> set[str]:
    return {finding.code for finding in result.findings}


def drug(
    name: str,
    *categories: str,
    daily: str | None = None,
    lorazepam: str | None = None,
    verified: bool = True,
) -> rules.CurrentDrug:
    return rules.CurrentDrug(
        name=name,
        verified=verified,
        categories=categories,
        daily_mg=None if daily is None else Decimal(daily),
        lorazepam_equivalent_mg=None if lorazepam is None else Decimal(lorazepam),
    )


def test_a_clean_screen_is_eligible_with_no_findings() -> None:
    result = run()
    assert result.status == rules.ELIGIBLE
    assert result.findings == ()
    assert result.missing == ()
    assert result.bmi == Decimal("22.9")


YES_RULES = [
    ("aneurysm_avm", rules.ABSOLUTE),
    ("intracerebral_haemorrhage", rules.ABSOLUTE),
    ("hypersensitivity", rules.ABSOLUTE),
    ("hyperthyroidism", rules.ABSOLUTE),
    ("preeclampsia", rules.ABSOLUTE),
    ("stroke_tia", rules.RELATIVE),
    ("raised_icp", rules.RELATIVE),
    ("raised_iop", rules.RELATIVE),
    ("breastfeeding", rules.RELATIVE),
    ("psychosis", rules.RELATIVE),
    ("psychosis_family", rules.RELATIVE),
    ("bipolar", rules.RELATIVE),
    ("mania_current", rules.RELATIVE),
    ("ketamine_misuse", rules.RELATIVE),
    ("bladder", rules.RELATIVE),
    ("personality_disorder", rules.RELATIVE),
]


@pytest.mark.parametrize(("code", "klass"), YES_RULES)
def test_each_yes_answer_gives_its_finding_class_and_source(code: str, klass: str) -> None:
    result = run(answers={code: "yes"})
    (finding,) = result.findings
    assert finding.code == code
    assert finding.klass == klass
    assert finding.source == FINDING_RULES[code][2]
    assert "clinical-facts" in finding.source
    assert result.status == (rules.NOT_ELIGIBLE if klass == rules.ABSOLUTE else rules.NEEDS_REVIEW)


@pytest.mark.parametrize(("code", "klass"), YES_RULES)
def test_the_practice_can_sign_off_another_class(code: str, klass: str) -> None:
    other = rules.PROMPT if klass != rules.PROMPT else rules.ABSOLUTE
    params = dataclasses.replace(PARAMS, classes={**PARAMS.classes, code: other})
    (finding,) = run(params, answers={code: "yes"}).findings
    assert finding.klass == other


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("none", set()), ("controlled", set()), ("uncontrolled", {"hypertension_uncontrolled"})],
)
def test_hypertension(answer: str, expected: set[str]) -> None:
    result = run(answers={"hypertension": answer})
    assert codes(result) == expected
    if expected:
        assert result.status == rules.NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("systolic", "diastolic", "age", "expected"),
    [
        (140, 90, 40, set()),
        (141, 90, 40, {"bp_high"}),
        (140, 91, 40, {"bp_high"}),
        (145, 80, 65, {"bp_high"}),
        (145, 80, 66, set()),
        (150, 80, 66, set()),
        (151, 80, 66, {"bp_high"}),
        (140, 91, 70, {"bp_high"}),
        (180, 100, 40, {"bp_high"}),
        (181, 80, 40, {"bp_hazard"}),
        (170, 101, 40, {"bp_hazard"}),
    ],
)
def test_blood_pressure_levels(systolic: int, diastolic: int, age: int, expected: set[str]) -> None:
    result = run(blood_pressure=rules.BloodPressure(systolic, diastolic, TODAY), age=age)
    assert codes(result) == expected
    if expected:
        assert f"{systolic}/{diastolic}" in result.findings[0].reason


def test_without_a_blood_pressure_the_screen_is_incomplete() -> None:
    result = run(blood_pressure=None)
    assert result.status == rules.INCOMPLETE
    assert "An intake blood pressure reading" in result.missing


@pytest.mark.parametrize(("age", "found"), [(17, True), (18, False), (80, False)])
def test_minimum_age(age: int, found: bool) -> None:
    assert ("age" in codes(run(age=age))) is found


@pytest.mark.parametrize(
    ("weight", "height", "bmi", "found"),
    [
        ("107.2", "175", "35.0", False),
        ("107.3", "175", "35.0", False),
        ("108", "175", "35.3", True),
    ],
)
def test_bmi_above_the_review_level(weight: str, height: str, bmi: str, found: bool) -> None:
    result = run(weight_kg=Decimal(weight), answers={"height_cm": height})
    assert result.bmi == Decimal(bmi)
    assert ("bmi" in codes(result)) is found


def test_bmi_needs_a_weight() -> None:
    result = run(weight_kg=None)
    assert result.status == rules.INCOMPLETE
    assert "A weight on the chart (for the BMI)" in result.missing


@pytest.mark.parametrize(
    ("sud", "last_use", "expected"),
    [
        ("none", None, set()),
        ("current", None, {"sud_recent"}),
        ("past", "2026-09-23", {"sud_recent"}),
        ("past", "2026-08-22", {"sud_past"}),
        ("past", "2020-01-01", {"sud_past"}),
    ],
)
def test_substance_use_recency(sud: str, last_use: str | None, expected: set[str]) -> None:
    answers = {"sud": sud} | ({"sud_last_use": last_use} if last_use else {})
    result = run(answers=answers)
    assert codes(result) == expected
    klass = {"sud_recent": rules.RELATIVE, "sud_past": rules.PROMPT}
    for finding in result.findings:
        assert finding.klass == klass[finding.code]


def test_substance_use_in_remission_without_a_date_is_incomplete() -> None:
    result = run(answers={"sud": "past"})
    assert result.status == rules.INCOMPLETE
    assert "Date of last problematic use" in result.missing


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-01-01", {"cardiac_recent"}),
        ("2025-11-23", {"cardiac_recent"}),
        ("2025-11-22", {"cardiac_past"}),
    ],
)
def test_cardiac_event_recency(when: str, expected: set[str]) -> None:
    assert codes(run(answers={"cardiac_event": "yes", "cardiac_event_on": when})) == expected


@pytest.mark.parametrize(
    ("hepatic", "expected"),
    [
        ("none", set()),
        ("mild", set()),
        ("moderate", {"hepatic_moderate"}),
        ("severe", {"hepatic_severe"}),
    ],
)
def test_hepatic_impairment(hepatic: str, expected: set[str]) -> None:
    assert codes(run(answers={"hepatic": hepatic})) == expected


@pytest.mark.parametrize(
    ("answer", "found"),
    [("no", False), ("not_applicable", False), ("yes", True), ("possible", True)],
)
def test_pregnancy(answer: str, found: bool) -> None:
    assert ("pregnancy" in codes(run(answers={"pregnancy": answer}))) is found


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"answers": {"suicide_plan_intent": "yes"}},
            "Suicidal ideation with a plan or intent recorded.",
        ),
        ({"open_high_risk_flag": True}, "An open high-risk safety flag."),
        ({"latest_risk_level": "high"}, "The latest risk assessment is high."),
    ],
)
def test_high_suicide_risk_from_answers_flags_or_assessment(changes: dict, reason: str) -> None:
    (finding,) = run(**changes).findings
    assert finding.code == "suicide_risk"
    assert finding.reason == reason
    assert finding.klass == rules.RELATIVE


def test_moderate_risk_level_is_not_high_risk() -> None:
    assert codes(run(latest_risk_level="moderate")) == set()


def test_not_treatment_resistant_needs_review_and_says_why() -> None:
    one = rules.Resistance(trials=(), failed_drugs=(), failures=1, is_trd=False, needed=2)
    (finding,) = run(resistance=one).findings
    assert finding.code == "not_trd"
    assert (
        finding.reason == "1 failed adequate antidepressant trial in the current episode; 2 needed."
    )
    assert run(resistance=None).findings == ()


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.code)
def test_each_interaction_category(category) -> None:
    result = run(medications=(drug("Examplamine", category.code, daily="1"),))
    finding = next(f for f in result.findings if f.code == f"interaction.{category.code}")
    assert finding.klass == category.default_class
    assert finding.reason == f"Examplamine: {category.effect}"
    assert finding.source == category.source


def test_drugs_in_one_category_share_one_finding() -> None:
    result = run(medications=(drug("Oxycodone", "opioid"), drug("Tramadol", "opioid")))
    (finding,) = result.findings
    assert finding.reason.startswith("Oxycodone, Tramadol: ")


def test_an_unverified_medication_is_a_prompt_to_check_by_hand() -> None:
    (finding,) = run(medications=(drug("Herbal mix", verified=False),)).findings
    assert finding.code == "unverified_medication"
    assert finding.klass == rules.PROMPT
    assert run(medications=(drug("Herbal mix", verified=False),)).status == rules.ELIGIBLE


@pytest.mark.parametrize(
    ("meds", "expected"),
    [
        ((drug("Lorazepam", "benzodiazepine", daily="3", lorazepam="1"),), set()),
        (
            (drug("Lorazepam", "benzodiazepine", daily="3.5", lorazepam="1"),),
            {"benzodiazepine_dose"},
        ),
        (
            (
                drug("Lorazepam", "benzodiazepine", daily="2", lorazepam="1"),
                drug("Clonazepam", "benzodiazepine", daily="0.75", lorazepam="0.5"),
            ),
            {"benzodiazepine_dose"},
        ),
        ((drug("Alprazolam", "benzodiazepine", daily="1"),), {"benzodiazepine_dose_unknown"}),
        (
            (drug("Lorazepam", "benzodiazepine", daily=None, lorazepam="1"),),
            {"benzodiazepine_dose_unknown"},
        ),
    ],
)
def test_benzodiazepine_daily_dose(meds, expected: set[str]) -> None:
    found = codes(run(medications=meds)) - {"interaction.benzodiazepine"}
    assert found == expected


def test_absolute_wins_over_incomplete_and_relative() -> None:
    result = run(answers={"aneurysm_avm": "yes", "bipolar": "yes", "hepatic": ""})
    assert result.status == rules.NOT_ELIGIBLE
    assert [f.klass for f in result.findings] == [rules.ABSOLUTE, rules.RELATIVE]


def test_unanswered_questions_make_it_incomplete_even_with_relative_findings() -> None:
    result = run(answers={"bipolar": "yes", "hepatic": ""})
    assert result.status == rules.INCOMPLETE
    assert result.missing == ("Hepatic impairment",)


def test_prompts_alone_leave_it_eligible() -> None:
    result = run(answers={"hepatic": "moderate"})
    assert result.status == rules.ELIGIBLE
    assert codes(result) == {"hepatic_moderate"}


def test_every_rule_has_a_test_that_produces_it() -> None:
    produced: set[str] = set()
    for code, _ in YES_RULES:
        produced |= codes(run(answers={code: "yes"}))
    produced |= codes(
        run(
            answers={
                "hypertension": "uncontrolled",
                "pregnancy": "yes",
                "hepatic": "severe",
                "sud": "current",
                "suicide_plan_intent": "yes",
                "cardiac_event": "yes",
                "cardiac_event_on": "2026-10-01",
            }
        )
    )
    produced |= codes(
        run(
            answers={
                "hepatic": "moderate",
                "sud": "past",
                "sud_last_use": "2020-01-01",
                "cardiac_event": "yes",
                "cardiac_event_on": "2020-01-01",
            }
        )
    )
    produced |= codes(run(blood_pressure=rules.BloodPressure(190, 80, TODAY)))
    produced |= codes(
        run(blood_pressure=rules.BloodPressure(150, 80, TODAY), age=17, weight_kg=Decimal(140))
    )
    produced |= codes(run(resistance=rules.Resistance((), (), 0, False, 2)))
    produced |= codes(
        run(
            medications=(
                drug("X", verified=False),
                drug("L", "benzodiazepine", daily="9", lorazepam="1"),
            )
        )
    )
    produced |= codes(run(medications=(drug("A", "benzodiazepine"),)))
    expected = set(FINDING_RULES) | {
        f"interaction.{c.code}" for c in CATEGORIES if c.code == "benzodiazepine"
    }
    assert expected <= produced


def test_signature_ignores_order_and_follows_findings() -> None:
    a = run(answers={"bipolar": "yes", "bladder": "yes"})
    b = rules.ScreenResult(status=a.status, findings=tuple(reversed(a.findings)), missing=a.missing)
    assert a.signature() == b.signature()
    assert run(answers={"bipolar": "yes"}).signature() != a.signature()
    assert (
        run(blood_pressure=rules.BloodPressure(150, 80, TODAY)).signature()
        != run(blood_pressure=rules.BloodPressure(152, 80, TODAY)).signature()
    )


ANSWER_STRATEGY = st.fixed_dictionaries(
    {
        q.code: st.sampled_from([value for value, _ in q.choices] + [""])
        for q in questions.QUESTIONS
        if q.kind in ("yes_no", "choice") and q.asked_if is None
    }
)


@given(ANSWER_STRATEGY, st.integers(90, 200), st.integers(50, 120), st.integers(16, 90))
def test_status_always_follows_the_findings(answers, systolic, diastolic, age) -> None:
    result = run(
        answers=answers, blood_pressure=rules.BloodPressure(systolic, diastolic, TODAY), age=age
    )
    classes = {f.klass for f in result.findings}
    if rules.ABSOLUTE in classes:
        assert result.status == rules.NOT_ELIGIBLE
    elif result.missing:
        assert result.status == rules.INCOMPLETE
    elif rules.RELATIVE in classes:
        assert result.status == rules.NEEDS_REVIEW
    else:
        assert result.status == rules.ELIGIBLE
    # Findings are ordered absolute, relative, prompt.
    order = [rules.CLASS_ORDER.index(f.klass) for f in result.findings]
    assert order == sorted(order)


class TestQuestionnaire:
    def test_clean_answers_pass(self) -> None:
        clean, errors = questions.validate(CLEAN_ANSWERS, TODAY)
        assert errors == {}
        assert clean == CLEAN_ANSWERS

    @pytest.mark.parametrize(
        ("answers", "field", "message"),
        [
            ({"bipolar": "maybe"}, "bipolar", "Choose one of: yes, no."),
            ({"nonsense": "yes"}, "nonsense", "Not a screening question."),
            (
                {"sud": "past", "sud_last_use": "2030-01-01"},
                "sud_last_use",
                "This date is in the future.",
            ),
            (
                {"sud": "past", "sud_last_use": "01/02/2020"},
                "sud_last_use",
                "Enter a date as YYYY-MM-DD.",
            ),
            ({"height_cm": "99"}, "height_cm", "Must be between 100 and 250 cm."),
            ({"height_cm": "tall"}, "height_cm", "Enter a number."),
            ({"sud": "none", "sud_last_use": "2020-01-01"}, "sud_last_use", "Only answered when"),
            (
                {"cardiac_event": "no", "cardiac_event_on": "2020-01-01"},
                "cardiac_event_on",
                "Only answered when",
            ),
            ({"mania_current": "yes", "bipolar": "no"}, "bipolar", "Current mania is recorded"),
            (
                {"psychotic_features_current": "yes", "psychosis": "no"},
                "psychosis",
                "Psychotic features",
            ),
            (
                {"preeclampsia": "yes", "pregnancy": "not_applicable"},
                "preeclampsia",
                "Pre-eclampsia is recorded",
            ),
        ],
    )
    def test_bad_and_contradictory_answers_are_refused_by_field(
        self, answers, field, message
    ) -> None:
        _, errors = questions.validate(answers, TODAY)
        assert field in errors
        assert errors[field].startswith(message)

    def test_blank_answers_are_left_out(self) -> None:
        clean, errors = questions.validate({"bipolar": "", "psychosis": None}, TODAY)
        assert (clean, errors) == ({}, {})

    def test_unanswered_lists_only_asked_questions(self) -> None:
        answered = dict(CLEAN_ANSWERS)
        assert questions.unanswered(answered) == []
        assert [q.code for q in questions.unanswered(answered | {"sud": "past"})] == [
            "sud_last_use"
        ]
