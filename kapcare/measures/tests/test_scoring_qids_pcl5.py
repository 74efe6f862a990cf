"""QIDS-SR16's domain algorithm and PCL-5's total, clusters and provisional diagnosis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.rules import (
    PCL5_AT_OR_ABOVE_CUTPOINT,
    PCL5_PROVISIONAL_PTSD,
    SUICIDE_ITEM_POSITIVE,
    score,
    score_pcl5,
    validate,
)

QIDS = [f"q{n}" for n in range(1, 17)]
PCL5 = [f"q{n}" for n in range(1, 21)]


def published_qids_total(a: dict[str, int]) -> int:
    """The algorithm as published (Rush 2003; clinical-facts §6.1), written out independently."""
    sleep = max(a["q1"], a["q2"], a["q3"], a["q4"])
    appetite = max(a["q6"], a["q7"], a["q8"], a["q9"])
    psychomotor = max(a["q15"], a["q16"])
    return (
        sleep
        + a["q5"]
        + appetite
        + a["q10"]
        + a["q11"]
        + a["q12"]
        + a["q13"]
        + a["q14"]
        + psychomotor
    )


def test_qids_minimum_and_maximum() -> None:
    assert score("qids_sr16", dict.fromkeys(QIDS, 0)).total == 0
    top = score("qids_sr16", dict.fromkeys(QIDS, 3))
    assert (top.total, top.band) == (27, "Very severe")  # nine domains x 3, not 16 x 3


def test_qids_worked_example() -> None:
    answers = dict.fromkeys(QIDS, 0)
    answers.update(q1=1, q3=3, q5=2, q6=2, q8=1, q10=1, q12=0, q15=1, q16=2)
    result = score("qids_sr16", answers)
    # sleep 3 + mood 2 + appetite 2 + concentration 1 + psychomotor 2 = 10
    assert (result.total, result.band) == (10, "Mild")
    assert result.details["domains"] == {
        "sleep": 3,
        "mood": 2,
        "appetite_weight": 2,
        "concentration": 1,
        "self_view": 0,
        "suicidal_ideation": 0,
        "interest": 0,
        "energy": 0,
        "psychomotor": 2,
    }


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (5, "None"),
        (6, "Mild"),
        (10, "Mild"),
        (11, "Moderate"),
        (15, "Moderate"),
        (16, "Severe"),
        (20, "Severe"),
        (21, "Very severe"),
    ],
)
def test_qids_band_boundaries(total: int, band: str) -> None:
    # One item per domain carries the score (q12 kept at 0 so no flag is involved).
    domain_items = ["q1", "q5", "q6", "q10", "q11", "q13", "q14", "q15", "q12"]
    answers = dict.fromkeys(QIDS, 0)
    left = total
    for item in domain_items[:-1]:
        answers[item] = min(3, left)
        left -= answers[item]
    assert left == 0
    result = score("qids_sr16", answers)
    assert (result.total, result.band) == (total, band)


def test_qids_unused_appetite_pair_may_be_blank() -> None:
    answers: dict[str, int | None] = dict.fromkeys(QIDS, 1)
    answers.update(q7=None, q9=None)  # answered the "decreased" pair only
    result = score("qids_sr16", answers)
    assert result.complete
    assert result.total == 9


def test_qids_needs_one_appetite_answer() -> None:
    answers: dict[str, int | None] = dict.fromkeys(QIDS, 1)
    answers.update(q6=None, q7=None, q8=None, q9=None)
    result = score("qids_sr16", answers)
    assert result.total is None
    assert result.missing == ("q6", "q7", "q8", "q9")


@pytest.mark.parametrize("item", [q for q in QIDS if q not in ("q6", "q7", "q8", "q9")])
def test_qids_every_other_item_is_required(item: str) -> None:
    answers: dict[str, int | None] = dict.fromkeys(QIDS, 1)
    answers[item] = None
    result = score("qids_sr16", answers)
    assert result.total is None
    assert item in result.missing


def test_qids_item12_flag() -> None:
    answers = dict.fromkeys(QIDS, 0)
    answers["q12"] = 1
    assert score("qids_sr16", answers).flags == (SUICIDE_ITEM_POSITIVE,)


@given(st.lists(st.integers(0, 3), min_size=16, max_size=16))
def test_qids_matches_the_published_algorithm(values: list[int]) -> None:
    answers = dict(zip(QIDS, values, strict=True))
    result = score("qids_sr16", answers)
    assert result.total == published_qids_total(answers)
    assert 0 <= result.total <= 27


@given(st.lists(st.integers(0, 3), min_size=16, max_size=16), st.integers(0, 15))
def test_qids_is_monotone_in_each_item(values: list[int], index: int) -> None:
    before = score("qids_sr16", dict(zip(QIDS, values, strict=True))).total
    raised = list(values)
    raised[index] = min(3, raised[index] + 1)
    after = score("qids_sr16", dict(zip(QIDS, raised, strict=True))).total
    assert before is not None
    assert after is not None
    assert after >= before


# --- PCL-5 ----------------------------------------------------------------------------------

MINIMAL_PTSD = {"q1": 2, "q6": 2, "q8": 2, "q9": 2, "q15": 2, "q16": 2}


def pcl5(**answers: int | None) -> dict[str, int | None]:
    return {**dict.fromkeys(PCL5, 0), **answers}


def test_pcl5_minimum_and_maximum() -> None:
    low = score("pcl5", pcl5())
    assert (low.total, low.details["provisional_ptsd"], low.flags) == (0, False, ())
    high = score("pcl5", dict.fromkeys(PCL5, 4))
    assert high.total == 80
    assert set(high.flags) == {PCL5_PROVISIONAL_PTSD, PCL5_AT_OR_ABOVE_CUTPOINT}


def test_pcl5_minimal_pattern_meets_the_dsm5_rule() -> None:
    result = score("pcl5", pcl5(**MINIMAL_PTSD))
    assert result.total == 12
    assert result.details["provisional_ptsd"] is True
    assert result.flags == (PCL5_PROVISIONAL_PTSD,)  # total 12 is below the cut-point
    clusters = result.details["clusters"]
    assert {name: c["endorsed"] for name, c in clusters.items()} == {"B": 1, "C": 1, "D": 2, "E": 2}


@pytest.mark.parametrize("drop", list(MINIMAL_PTSD))
def test_pcl5_each_cluster_is_needed(drop: str) -> None:
    answers = pcl5(**MINIMAL_PTSD)
    answers[drop] = 1  # rated 1: not endorsed
    result = score("pcl5", answers)
    assert result.details["provisional_ptsd"] is False
    assert PCL5_PROVISIONAL_PTSD not in result.flags


def test_pcl5_items_rated_1_never_count_as_endorsed() -> None:
    result = score("pcl5", dict.fromkeys(PCL5, 1))
    assert result.total == 20
    assert result.details["provisional_ptsd"] is False


@pytest.mark.parametrize(("total", "at_or_above"), [(32, False), (33, True), (34, True)])
def test_pcl5_default_cutpoint_is_33(total: int, at_or_above: bool) -> None:
    answers = dict.fromkeys(PCL5, 0)
    left = total
    for item in PCL5[15:]:  # cluster E items carry the score
        answers[item] = min(4, left)
        left -= answers[item]
    for item in PCL5[:15]:
        answers[item] = min(4, left) if left else 0
        left -= answers[item]
    result = score("pcl5", answers)
    assert result.total == total
    assert result.details["at_or_above_cutpoint"] is at_or_above
    assert (PCL5_AT_OR_ABOVE_CUTPOINT in result.flags) is at_or_above


def test_pcl5_cutpoint_is_a_setting() -> None:
    instrument = INSTRUMENTS["pcl5"]
    answers = validate(
        instrument,
        dict.fromkeys(PCL5, 0)
        | {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 4, "q7": 4, "q8": 3},
    )
    assert sum(v or 0 for v in answers.values()) == 31
    assert score_pcl5(instrument, answers).details["at_or_above_cutpoint"] is False
    assert score_pcl5(instrument, answers, cutpoint=31).details["at_or_above_cutpoint"] is True


def test_pcl5_partial_form_already_meeting_the_rule_is_met() -> None:
    answers = pcl5(**MINIMAL_PTSD)
    answers["q20"] = None
    result = score("pcl5", answers)
    assert result.total is None
    assert result.details["provisional_ptsd"] is True


def test_pcl5_partial_form_that_could_still_meet_it_is_undetermined() -> None:
    answers = pcl5(**MINIMAL_PTSD)
    answers["q16"] = None  # E has one endorsed and one unanswered: could go either way
    result = score("pcl5", answers)
    assert result.details["provisional_ptsd"] is None
    assert PCL5_PROVISIONAL_PTSD not in result.flags


def test_pcl5_partial_form_that_cannot_meet_it_is_not_met() -> None:
    answers = pcl5()  # nothing endorsed in B even if...
    answers["q20"] = None  # ...an E item is unanswered
    result = score("pcl5", answers)
    assert result.details["provisional_ptsd"] is False


def test_one_failed_cluster_settles_it_however_much_else_is_unanswered() -> None:
    # B answered and not endorsed; C, D and E entirely unanswered: B can no longer be met.
    answers = {f"q{n}": 0 for n in range(1, 6)}
    result = score("pcl5", answers)
    assert result.details["provisional_ptsd"] is False
    assert result.total is None


@given(st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=20, max_size=20))
def test_a_partial_verdict_never_contradicts_any_completion(values: list[int | None]) -> None:
    """If a partial form is called met or not met, every way of filling it in agrees."""
    verdict = score("pcl5", dict(zip(PCL5, values, strict=True))).details["provisional_ptsd"]
    if verdict is None:
        return
    lowest = [0 if value is None else value for value in values]
    highest = [4 if value is None else value for value in values]
    for filled in (lowest, highest):
        full = score("pcl5", dict(zip(PCL5, filled, strict=True))).details["provisional_ptsd"]
        assert full is verdict


@given(st.lists(st.integers(0, 4), min_size=20, max_size=20))
def test_pcl5_rule_matches_its_definition(values: list[int]) -> None:
    answers = dict(zip(PCL5, values, strict=True))
    result = score("pcl5", answers)
    endorsed = [value >= 2 for value in values]
    expected = (
        sum(endorsed[0:5]) >= 1
        and sum(endorsed[5:7]) >= 1
        and sum(endorsed[7:14]) >= 2
        and sum(endorsed[14:20]) >= 2
    )
    assert result.total == sum(values)
    assert result.details["provisional_ptsd"] is expected
