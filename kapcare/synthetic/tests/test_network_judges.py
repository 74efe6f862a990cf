"""The generator's pre-dose judge keeps each check's text per distinct input and, within a run,
serves every clinic a process makes: what it returns must be what the dosing rules say for
these very inputs, whatever it was asked before."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from kapcare.dosing import rules, selectors
from kapcare.dosing.services import _check_json
from kapcare.synthetic.network_sessions import PreChecks

pytestmark = pytest.mark.django_db

SESSION: dict[str, Any] = {
    "route": rules.INTRAMUSCULAR,
    "age": 40,
    "food": 240,
    "liquid": 60,
    "systolic": 124,
    "diastolic": 80,
    "heart_rate": 72,
    "spo2": 98,
    "medicines": (),
    "pregnancy": "not_applicable",
    "item9": False,
    "reviewed": False,
}


def _rules_say(judge: PreChecks, weight: Decimal) -> list[dict[str, Any]]:
    inputs = dataclasses.replace(
        judge.reference,
        route=SESSION["route"],
        weight_kg_today=weight,
        minutes_since_food=SESSION["food"],
        minutes_since_liquid=SESSION["liquid"],
        systolic=SESSION["systolic"],
        diastolic=SESSION["diastolic"],
        heart_rate=SESSION["heart_rate"],
        spo2=SESSION["spo2"],
        phq9_item9_positive=SESSION["item9"],
    )
    return [_check_json(check) for check in rules.pre_dose_checks(inputs, judge.params)]


def test_equal_weights_written_differently_are_judged_as_written() -> None:
    params, _ = selectors.parameters_in_force()
    judge = PreChecks(params)
    for weight in (Decimal("86"), Decimal("86.0"), Decimal("86")):
        text, may_dose = judge.judge(weight=weight, **SESSION)
        expected = _rules_say(judge, weight)
        assert json.loads(text) == expected
        weight_check = next(check for check in expected if check["code"] == "weight")
        assert str(weight) in weight_check["reason"]
        assert may_dose


def test_a_judge_used_before_answers_as_a_fresh_one() -> None:
    params, _ = selectors.parameters_in_force()
    used = PreChecks(params)
    for systolic in range(110, 150, 3):
        used.judge(weight=Decimal("70.5"), **{**SESSION, "systolic": systolic})
    for systolic in (112, 139, 151, 181):
        session = {**SESSION, "systolic": systolic}
        fresh = PreChecks(params)
        assert used.judge(weight=Decimal("70.5"), **session) == fresh.judge(
            weight=Decimal("70.5"), **session
        )
