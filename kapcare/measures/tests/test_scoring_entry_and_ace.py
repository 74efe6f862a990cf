"""Score-entry scales (MADRS, BDI-II, CADSS, MOAA/S) and the ACE count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.rules import (
    SUICIDE_ITEM_MISSING,
    SUICIDE_ITEM_POSITIVE,
    ScoringError,
    score,
)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Absent"),
        (6, "Absent"),
        (7, "Mild"),
        (19, "Mild"),
        (20, "Moderate"),
        (34, "Moderate"),
        (35, "Severe"),
        (60, "Severe"),
    ],
)
def test_madrs_bands(total: int, band: str) -> None:
    result = score("madrs", {"total": total})
    assert (result.total, result.band, result.complete) == (total, band, True)


def test_madrs_item10_is_optional_and_flags_when_above_zero() -> None:
    assert score("madrs", {"total": 30}).flags == ()  # not entered: no flag either way
    assert score("madrs", {"total": 30, "item10": 0}).flags == ()
    assert score("madrs", {"total": 30, "item10": 2}).flags == (SUICIDE_ITEM_POSITIVE,)


@pytest.mark.parametrize("total", [-1, 61])
def test_madrs_range(total: int) -> None:
    with pytest.raises(ScoringError) as raised:
        score("madrs", {"total": total})
    assert [(p.item, p.rule) for p in raised.value.problems] == [("total", "out_of_range")]


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (13, "Minimal"),
        (14, "Mild"),
        (19, "Mild"),
        (20, "Moderate"),
        (28, "Moderate"),
        (29, "Severe"),
        (63, "Severe"),
    ],
)
def test_bdi2_bands(total: int, band: str) -> None:
    assert score("bdi2", {"total": total, "item9": 0}).band == band


def test_bdi2_item9_is_required_and_flags() -> None:
    missing = score("bdi2", {"total": 20})
    assert missing.total is None
    assert missing.missing == ("item9",)
    assert missing.flags == (SUICIDE_ITEM_MISSING,)
    assert score("bdi2", {"total": 20, "item9": 1}).flags == (SUICIDE_ITEM_POSITIVE,)
    with pytest.raises(ScoringError):
        score("bdi2", {"total": 20, "item9": 4})


@pytest.mark.parametrize(("version", "maximum"), [(6, 24), (23, 92), (27, 108)])
def test_cadss_total_fits_its_version(version: int, maximum: int) -> None:
    result = score("cadss", {"version": version, "total": maximum})
    assert result.total == maximum
    assert result.details["version"] == version
    with pytest.raises(ScoringError) as raised:
        score("cadss", {"version": version, "total": maximum + 1})
    assert raised.value.problems[0].item == "total"
    assert str(maximum) in raised.value.problems[0].message


def test_cadss_needs_a_known_version() -> None:
    with pytest.raises(ScoringError) as raised:
        score("cadss", {"version": 19, "total": 4})
    assert raised.value.problems[0].item == "version"
    result = score("cadss", {"total": 4})
    assert result.total is None
    assert result.missing == ("version",)


@pytest.mark.parametrize(
    ("level", "band"),
    [
        (0, "Moderate or greater sedation"),
        (3, "Moderate or greater sedation"),
        (4, "Mild sedation"),
        (5, "Alert"),
    ],
)
def test_moaas_levels(level: int, band: str) -> None:
    assert score("moaas", {"total": level}).band == band


def test_moaas_range() -> None:
    with pytest.raises(ScoringError):
        score("moaas", {"total": 6})


ACE = [f"q{n}" for n in range(1, 11)]


@given(st.lists(st.integers(0, 1), min_size=10, max_size=10))
def test_ace_counts_yes_answers(values: list[int]) -> None:
    result = score("ace", dict(zip(ACE, values, strict=True)))
    assert result.total == sum(values)
    assert result.band is None  # no cut-point is applied to an individual
    assert result.flags == ()


def test_ace_needs_every_answer() -> None:
    answers: dict[str, int | None] = dict.fromkeys(ACE, 1)
    answers["q10"] = None
    result = score("ace", answers)
    assert (result.total, result.missing) == (None, ("q10",))


def test_ace_answers_are_yes_or_no() -> None:
    with pytest.raises(ScoringError) as raised:
        score("ace", {"q1": 2})
    assert raised.value.problems[0].rule == "out_of_range"
