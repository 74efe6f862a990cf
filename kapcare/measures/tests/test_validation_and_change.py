"""Bad answers are refused with the item and the rule; change, response and remission."""

from __future__ import annotations

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.rules import (
    REMISSION_DEFAULTS,
    RemissionRule,
    ScoringError,
    change,
    is_remission,
    is_response,
    score,
)


def problems(code: str, answers: dict[str, object]) -> list[tuple[str | None, str]]:
    with pytest.raises(ScoringError) as raised:
        score(code, answers)  # type: ignore[arg-type]
    return [(p.item, p.rule) for p in raised.value.problems]


def test_unknown_instrument() -> None:
    assert problems("phq10", {}) == [(None, "unknown_instrument")]


def test_unknown_item() -> None:
    assert problems("phq9", {"q10": 1}) == [("q10", "unknown_item")]


@pytest.mark.parametrize("value", [4, -1, 99])
def test_out_of_range(value: int) -> None:
    assert problems("phq9", {"q1": value}) == [("q1", "out_of_range")]


@pytest.mark.parametrize("value", ["2", 1.0, True, [1]])
def test_not_a_whole_number(value: object) -> None:
    assert problems("gad7", {"q3": value}) == [("q3", "not_integer")]


def test_every_problem_is_reported_at_once() -> None:
    found = problems("phq9", {"q1": 4, "q2": "x", "q99": 0})
    assert sorted(found, key=str) == sorted(
        [("q99", "unknown_item"), ("q1", "out_of_range"), ("q2", "not_integer")], key=str
    )


def test_the_message_names_the_allowed_values() -> None:
    with pytest.raises(ScoringError) as raised:
        score("pcl5", {"q3": 5})
    assert raised.value.problems[0].message == "q3 must be one of 0–4, not 5."


def test_change_and_percent_change() -> None:
    result = change(20, 10)
    assert result.absolute == -10
    assert result.percent == decimal.Decimal("-50.0")
    assert change(12, 14).percent == decimal.Decimal("16.7")
    assert change(0, 5).percent is None  # no percentage of a zero baseline


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (20, 10, True),
        (20, 11, False),
        (21, 10, True),
        (21, 11, False),
        (18, 0, True),
        (0, 0, None),
        (None, 5, None),
        (10, None, None),
        (10, 12, False),
    ],
)
def test_response_is_a_50_percent_reduction(
    baseline: int | None, current: int | None, expected: bool | None
) -> None:
    assert is_response(baseline, current) is expected


@given(st.integers(1, 80), st.integers(0, 80))
def test_response_matches_its_definition(baseline: int, current: int) -> None:
    assert is_response(baseline, current) is ((baseline - current) * 2 >= baseline)


@pytest.mark.parametrize(
    ("code", "total", "expected"),
    [
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("qids_sr16", 5, True),
        ("qids_sr16", 6, False),
        ("madrs", 12, True),
        ("madrs", 13, False),
        ("gad7", 0, None),
        ("phq9", None, None),
    ],
)
def test_remission_defaults(code: str, total: int | None, expected: bool | None) -> None:
    assert is_remission(code, total) is expected


def test_madrs_remission_threshold_is_a_setting() -> None:
    strict = {**REMISSION_DEFAULTS, "madrs": RemissionRule(10, "KetECT: MADRS ≤10")}
    assert is_remission("madrs", 11) is True
    assert is_remission("madrs", 11, strict) is False
    assert is_remission("madrs", 10, strict) is True
