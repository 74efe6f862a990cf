"""PHQ-9 and GAD-7: sums, every band boundary, item 9, proration, positive screen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.rules import (
    GAD7_POSITIVE_SCREEN,
    SUICIDE_ITEM_MISSING,
    SUICIDE_ITEM_POSITIVE,
    score,
)
from kapcare.measures.tests.helpers import scored_items, spread

PHQ9_ITEMS = scored_items("phq9")
GAD7_ITEMS = scored_items("gad7")


def phq9(**answers: int | None) -> dict[str, int | None]:
    return {**dict.fromkeys(PHQ9_ITEMS, 0), **answers}


def test_phq9_all_minimum_and_all_maximum() -> None:
    low = score("phq9", phq9())
    assert (low.total, low.band, low.complete, low.flags) == (0, "None–minimal", True, ())
    high = score("phq9", dict.fromkeys(PHQ9_ITEMS, 3))
    assert (high.total, high.band) == (27, "Severe")
    assert high.flags == (SUICIDE_ITEM_POSITIVE,)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "None–minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
    ],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    # Items 1-8 carry the total so that item 9 stays 0 (the band must not depend on the flag).
    answers = {**spread(total, PHQ9_ITEMS[:8], 3), "q9": 0}
    result = score("phq9", answers)
    assert (result.total, result.band) == (total, band)
    assert SUICIDE_ITEM_POSITIVE not in result.flags


@pytest.mark.parametrize("value", [1, 2, 3])
def test_any_nonzero_item9_is_flagged_whatever_the_total(value: int) -> None:
    result = score("phq9", phq9(q9=value))
    assert result.total == value
    assert result.band == "None–minimal"
    assert result.flags == (SUICIDE_ITEM_POSITIVE,)


def test_worked_example() -> None:
    # 2+1+3+2+0+1+2+1+0 = 12 -> moderate; item 9 is 0.
    answers = dict(zip(PHQ9_ITEMS, [2, 1, 3, 2, 0, 1, 2, 1, 0], strict=True))
    result = score("phq9", answers)
    assert (result.total, result.band, result.flags) == (12, "Moderate", ())


def test_difficulty_is_recorded_but_not_scored() -> None:
    without = score("phq9", phq9(q1=2))
    with_difficulty = score("phq9", phq9(q1=2, difficulty=3))
    assert without.total == with_difficulty.total == 2
    assert with_difficulty.details == {"difficulty": 3}
    assert with_difficulty.complete


@pytest.mark.parametrize(
    ("answered", "missing", "expected"),
    [
        # 8 answered summing to 16: mean 2 x 9 = 18.
        ([2] * 8, ["q5"], 18),
        # 8 answered summing to 4: 4 x 9 / 8 = 4.5, rounded half up to 5.
        ([1, 1, 1, 1, 0, 0, 0, 0], ["q9"], 5),
        # 8 answered summing to 12: 13.5 -> 14.
        ([3, 3, 3, 3, 0, 0, 0, 0], ["q8"], 14),
        # 7 answered summing to 10: 10 x 9 / 7 = 12.86 -> 13.
        ([3, 3, 2, 2, 0, 0, 0], ["q8", "q9"], 13),
    ],
)
def test_phq9_prorates_with_one_or_two_items_missing(
    answered: list[int], missing: list[str], expected: int
) -> None:
    present = [item for item in PHQ9_ITEMS if item not in missing]
    answers: dict[str, int | None] = dict(zip(present, answered, strict=True))
    answers.update(dict.fromkeys(missing))
    result = score("phq9", answers)
    assert result.total == expected
    assert result.prorated
    assert not result.complete
    assert result.missing == tuple(missing)


def test_phq9_with_three_missing_has_no_total() -> None:
    answers = phq9(q1=3, q2=3)
    for item in ("q3", "q4", "q5"):
        answers[item] = None
    result = score("phq9", answers)
    assert (result.total, result.band, result.prorated, result.complete) == (
        None,
        None,
        False,
        False,
    )
    assert result.missing == ("q3", "q4", "q5")


def test_item9_unanswered_is_flagged_for_review() -> None:
    result = score("phq9", phq9(q9=None))
    assert result.flags == (SUICIDE_ITEM_MISSING,)
    assert result.prorated


def test_an_empty_form_scores_nothing() -> None:
    result = score("phq9", {})
    assert result.total is None
    assert result.missing == tuple(PHQ9_ITEMS)


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_and_in_range(values: list[int]) -> None:
    result = score("phq9", dict(zip(PHQ9_ITEMS, values, strict=True)))
    assert result.total == sum(values)
    assert 0 <= result.total <= 27
    assert (SUICIDE_ITEM_POSITIVE in result.flags) == (values[8] > 0)


@given(
    st.lists(st.integers(0, 3), min_size=9, max_size=9),
    st.integers(0, 8),
)
def test_phq9_is_monotone_in_each_item(values: list[int], index: int) -> None:
    base = score("phq9", dict(zip(PHQ9_ITEMS, values, strict=True))).total
    raised = list(values)
    raised[index] = min(3, raised[index] + 1)
    higher = score("phq9", dict(zip(PHQ9_ITEMS, raised, strict=True))).total
    assert base is not None
    assert higher is not None
    assert higher >= base


@given(
    st.lists(st.integers(0, 3), min_size=9, max_size=9),
    st.sets(st.integers(0, 8), min_size=1, max_size=2),
)
def test_prorated_totals_stay_in_range(values: list[int], missing: set[int]) -> None:
    answers: dict[str, int | None] = dict(zip(PHQ9_ITEMS, values, strict=True))
    for index in missing:
        answers[PHQ9_ITEMS[index]] = None
    result = score("phq9", answers)
    assert result.total is not None
    assert 0 <= result.total <= 27
    given_values = [v for i, v in enumerate(values) if i not in missing]
    # The prorated total lies within half a point of the exact mean-based figure.
    exact = sum(given_values) * 9 / len(given_values)
    assert abs(result.total - exact) <= 0.5


def test_gad7_all_minimum_and_maximum() -> None:
    assert score("gad7", dict.fromkeys(GAD7_ITEMS, 0)).band == "Minimal"
    top = score("gad7", dict.fromkeys(GAD7_ITEMS, 3))
    assert (top.total, top.band) == (21, "Severe")


@pytest.mark.parametrize(
    ("total", "band", "positive"),
    [
        (4, "Minimal", False),
        (5, "Mild", False),
        (9, "Mild", False),
        (10, "Moderate", True),
        (14, "Moderate", True),
        (15, "Severe", True),
    ],
)
def test_gad7_bands_and_positive_screen(total: int, band: str, positive: bool) -> None:
    result = score("gad7", spread(total, GAD7_ITEMS, 3))
    assert (result.total, result.band) == (total, band)
    assert result.details == {"positive_screen": positive}
    assert (GAD7_POSITIVE_SCREEN in result.flags) == positive


def test_gad7_is_not_prorated() -> None:
    answers: dict[str, int | None] = {**dict.fromkeys(GAD7_ITEMS, 3), "q7": None}
    result = score("gad7", answers)
    assert (result.total, result.band, result.complete) == (None, None, False)
    assert result.missing == ("q7",)
    assert result.details == {}


@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_total_is_the_sum(values: list[int]) -> None:
    result = score("gad7", dict(zip(GAD7_ITEMS, values, strict=True)))
    assert result.total == sum(values)
