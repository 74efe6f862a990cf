"""Plausible PHQ-9 and GAD-7 courses for synthetic clients, scored by kapcare's own rules.

A course starts at screening with a moderate-to-severe baseline (these are clients with
treatment-resistant depression) and is measured about every two weeks. Its shape is one of:
responder (falls toward remission), partial responder, non-responder, or relapse (falls, then
rises again). Answers are spread over the items so that each form scores to the intended total.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from kapcare.measures import rules

SHAPES = {"responder": 45, "partial": 15, "non_responder": 25, "relapse": 15}


@dataclass(frozen=True)
class Form:
    instrument: str
    completed_at: dt.datetime
    answers: dict[str, int | None]
    result: rules.Score


def level(shape: str, baseline: float, weeks: float) -> float:
    """The PHQ-9 level `weeks` into a course of this shape from `baseline` (before noise)."""
    if shape == "responder":
        return 4 + (baseline - 4) * math.exp(-weeks / 3)
    if shape == "partial":
        return baseline * (0.55 + 0.45 * math.exp(-weeks / 3))
    if shape == "relapse":
        low = 5 + (baseline - 5) * math.exp(-weeks / 2.5)
        return low if weeks < 10 else min(baseline, low + (weeks - 10) * 1.5)
    return baseline + math.sin(weeks) * 1.5  # non-responder


def _answers(total: int, items: list[str], rng: random.Random, maximum: int = 3) -> dict[str, int]:
    """Random item answers (0..maximum) summing to `total`."""
    answers = dict.fromkeys(items, 0)
    for _ in range(total):
        open_items = [item for item in items if answers[item] < maximum]
        answers[rng.choice(open_items)] += 1
    return answers


PHQ9_ITEMS = [f"q{n}" for n in range(1, 9)]  # item 9 is set on its own
GAD7_ITEMS = [f"q{n}" for n in range(1, 8)]


def phq9_answers(total: int, rng: random.Random) -> dict[str, int | None]:
    """PHQ-9 answers scoring `total`. Item 9 is occasionally positive while symptoms are severe
    (total 18 or more); it carries one point."""
    item9 = 1 if total >= 18 and rng.random() < 0.25 else 0
    item9 = max(item9, total - 24)  # items 1-8 hold at most 24 points
    phq9 = _answers(total - item9, PHQ9_ITEMS, rng)
    phq9["q9"] = item9
    return {**phq9, "difficulty": min(3, total // 7)}


def gad7_total(phq9_total: int, rng: random.Random) -> int:
    """A GAD-7 total that goes with a PHQ-9 total (anxiety tracks depression, loosely)."""
    return max(0, min(21, round(phq9_total * 0.7 + rng.gauss(0, 2))))


def gad7_answers(total: int, rng: random.Random) -> dict[str, int | None]:
    return dict(_answers(total, GAD7_ITEMS, rng))


def course_forms(*, start: dt.datetime, end: dt.datetime, rng: random.Random) -> Iterator[Form]:
    """PHQ-9 and GAD-7 forms from `start` (screening) to `end`, about every two weeks."""
    shape = rng.choices(list(SHAPES), weights=list(SHAPES.values()))[0]
    baseline = rng.uniform(14, 24)
    when = start
    first = True
    while when <= end:
        weeks = (when - start).days / 7
        phq9_total = max(0, min(27, round(level(shape, baseline, weeks) + rng.gauss(0, 1.5))))
        phq9 = phq9_answers(phq9_total, rng)
        yield Form("phq9", when, phq9, rules.score("phq9", phq9))
        if first or rng.random() < 0.5:
            gad7 = gad7_answers(gad7_total(phq9_total, rng), rng)
            yield Form("gad7", when, gad7, rules.score("gad7", gad7))
        first = False
        when += dt.timedelta(days=rng.randint(11, 17), hours=rng.randint(-3, 3))
