"""Building answer sets for scoring tests."""

from __future__ import annotations

from kapcare.measures.instruments import INSTRUMENTS


def spread(total: int, items: list[str], maximum: int) -> dict[str, int]:
    """Answers for `items` (each 0..maximum) that sum to `total`, filled from the first item."""
    assert 0 <= total <= maximum * len(items)
    answers = {}
    left = total
    for item in items:
        value = min(maximum, left)
        answers[item] = value
        left -= value
    return answers


def scored_items(code: str) -> list[str]:
    return [item.id for item in INSTRUMENTS[code].items if item.scored]
