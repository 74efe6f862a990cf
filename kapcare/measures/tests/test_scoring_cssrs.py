"""C-SSRS screener: skip logic and the low / moderate / high triage, every path."""

from __future__ import annotations

import itertools

import pytest

from kapcare.measures.rules import CSSRS_RISK_FLAGS, CSSRS_RISK_LABELS, ScoringError, score


def valid_forms() -> list[dict[str, int | None]]:
    """Every complete form the skip logic allows."""
    forms = []
    for q1, q2, q6 in itertools.product((0, 1), repeat=3):
        middles = itertools.product((0, 1), repeat=3) if q2 else [(None, None, None)]
        recents = (0, 1) if q6 else (None,)
        for (q3, q4, q5), recent in itertools.product(list(middles), recents):
            forms.append(
                {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q6_recent": recent}
            )
    return forms


def published_triage(form: dict[str, int | None]) -> str:
    """clinical-facts §6.1, table 'C-SSRS Screener triage', written out as its rows read."""
    if form["q4"] == 1 or form["q5"] == 1 or (form["q6"] == 1 and form["q6_recent"] == 1):
        return "high"
    if form["q3"] == 1 or (form["q6"] == 1 and form["q6_recent"] == 0):
        return "moderate"
    if form["q1"] == 1 or form["q2"] == 1:
        return "low"
    return "none"


def test_there_are_54_valid_complete_forms() -> None:
    # q1 x q6 paths (2 x [1 + 2]) x (q2 no: 1, q2 yes: 8) = 6 x 9 = 54
    assert len(valid_forms()) == 54


@pytest.mark.parametrize(
    "form",
    valid_forms(),
    ids=lambda form: "".join("-" if value is None else str(value) for value in form.values()),
)
def test_every_path_of_the_skip_logic(form: dict[str, int | None]) -> None:
    result = score("cssrs_screener", form)
    expected = published_triage(form)
    assert result.details == {"risk": expected}
    assert result.complete
    assert result.total is None  # a risk level, not a sum
    assert result.band == CSSRS_RISK_LABELS[expected]
    assert result.flags == ((CSSRS_RISK_FLAGS[expected],) if expected != "none" else ())


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ({"q1": 0, "q2": 0, "q6": 0}, "none"),
        ({"q1": 1, "q2": 0, "q6": 0}, "low"),
        ({"q1": 0, "q2": 1, "q3": 0, "q4": 0, "q5": 0, "q6": 0}, "low"),
        ({"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 0, "q6": 0}, "moderate"),
        ({"q1": 0, "q2": 0, "q6": 1, "q6_recent": 0}, "moderate"),
        ({"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0}, "high"),
        ({"q1": 1, "q2": 1, "q3": 0, "q4": 0, "q5": 1, "q6": 0}, "high"),
        ({"q1": 0, "q2": 0, "q6": 1, "q6_recent": 1}, "high"),
    ],
)
def test_named_examples(answers: dict[str, int], risk: str) -> None:
    assert score("cssrs_screener", answers).details == {"risk": risk}


@pytest.mark.parametrize("item", ["q3", "q4", "q5"])
def test_items_3_to_5_are_refused_when_q2_is_no(item: str) -> None:
    with pytest.raises(ScoringError) as raised:
        score("cssrs_screener", {"q1": 1, "q2": 0, item: 0, "q6": 0})
    assert [(p.item, p.rule) for p in raised.value.problems] == [(item, "skip_logic")]


def test_recent_behaviour_is_refused_when_q6_is_no() -> None:
    with pytest.raises(ScoringError) as raised:
        score("cssrs_screener", {"q1": 0, "q2": 0, "q6": 0, "q6_recent": 1})
    assert [(p.item, p.rule) for p in raised.value.problems] == [("q6_recent", "skip_logic")]


def test_incomplete_forms_are_undetermined_unless_already_high() -> None:
    # q2 yes, q3 unanswered, nothing else positive: risk could be low or moderate.
    open_question = score("cssrs_screener", {"q1": 1, "q2": 1, "q4": 0, "q5": 0, "q6": 0})
    assert open_question.details == {"risk": None}
    assert open_question.missing == ("q3",)
    assert open_question.flags == ()
    # Intent already answered yes: high, whatever is still unanswered.
    known_high = score("cssrs_screener", {"q1": 1, "q2": 1, "q4": 1})
    assert known_high.details == {"risk": "high"}
    assert not known_high.complete
    assert set(known_high.missing) == {"q3", "q5", "q6"}
    # Behaviour yes with the timing unanswered: moderate or high, so undetermined.
    timing_open = score("cssrs_screener", {"q1": 0, "q2": 0, "q6": 1})
    assert timing_open.details == {"risk": None}
    assert timing_open.missing == ("q6_recent",)


def test_the_always_asked_items_are_required() -> None:
    result = score("cssrs_screener", {})
    assert set(result.missing) == {"q1", "q2", "q6"}
    assert result.details == {"risk": None}
