"""Quick random draws for the synthetic network: millions of them, so each costs a single call to
`random()` of the seeded generator (Python's `randint` and weighted `choices` cost several)."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer from `low` to `high`, both included."""
    return low + int(rng.random() * (high - low + 1))


def one[T](rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


class Weighted[T]:
    """A choice among options by weight: `Weighted(((option, weight), ...))(rng)`."""

    __slots__ = ("bounds", "options", "total")

    def __init__(self, options: Sequence[tuple[T, float]]) -> None:
        self.options = [option for option, _ in options]
        self.bounds = list(accumulate(weight for _, weight in options))
        self.total = self.bounds[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.options[bisect_right(self.bounds, rng.random() * self.total)]
