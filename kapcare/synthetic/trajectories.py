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


def _level(shape: str, baseline: float, weeks: float) -> float:
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


def course_forms(*, start: dt.datetime, end: dt.datetime, rng: random.Random) -> Iterator[Form]:
    """PHQ-9 and GAD-7 forms from `start` (screening) to `end`, about every two weeks."""
    shape = rng.choices(list(SHAPES), weights=list(SHAPES.values()))[0]
    baseline = rng.uniform(14, 24)
    when = start
    first = True
    while when <= end:
        weeks = (when - start).days / 7
        phq9_total = max(0, min(27, round(_level(shape, baseline, weeks) + rng.gauss(0, 1.5))))
        # Item 9 is occasionally positive while symptoms are severe; it carries one point.
        item9 = 1 if phq9_total >= 18 and rng.random() < 0.25 else 0
        item9 = max(item9, phq9_total - 24)  # items 1-8 hold at most 24 points
        phq9 = _answers(phq9_total - item9, [f"q{n}" for n in range(1, 9)], rng)
        phq9["q9"] = item9
        phq9_answers: dict[str, int | None] = {**phq9, "difficulty": min(3, phq9_total // 7)}
        yield Form("phq9", when, phq9_answers, rules.score("phq9", phq9_answers))
        if first or rng.random() < 0.5:
            gad7_total = max(0, min(21, round(phq9_total * 0.7 + rng.gauss(0, 2))))
            gad7: dict[str, int | None] = dict(
                _answers(gad7_total, [f"q{n}" for n in range(1, 8)], rng)
            )
            yield Form("gad7", when, gad7, rules.score("gad7", gad7))
        first = False
        when += dt.timedelta(days=rng.randint(11, 17), hours=rng.randint(-3, 3))
