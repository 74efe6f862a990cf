"""Where each clinic's rows start in each table of a generated network.

A clinic's rows are made apart, with ids from 1 (kapcare.synthetic.network). Their final ids
follow the rows of the clinics before them, so a clinic can be given its ids only once the
clinic before it has counted its rows. `IdHandoff` passes the next free id of every table from
one clinic to the next, in clinic order: each clinic takes its first ids and leaves the ones
after its own rows for the next. The ids are therefore the same whichever process makes which
clinic, and the same as writing the clinics one after another.

With worker processes the hand-off lives in shared memory. Clinics are handed to the workers in
order, so the clinic a worker waits for has already been taken by another worker and is being
made; the wait is only for that clinic to finish counting (a clinic takes seconds to make, the
hand-off microseconds).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from multiprocessing.context import BaseContext
from typing import Any


class IdHandoff:
    def __init__(
        self,
        first: Mapping[str, int],
        clinics: int,
        context: BaseContext | None = None,
    ) -> None:
        """`first`: each table's first id for the first clinic; `context`: a multiprocessing
        context to share the hand-off with worker processes (made before they start), or None
        for clinics made in this process."""
        self.names = tuple(first)
        width = len(self.names)
        slots = [0] * ((clinics + 1) * width)
        slots[:width] = [first[name] for name in self.names]
        self._slots: Any
        self._taken: Any
        self._shared = context is not None
        if context is None:
            self._slots = slots
            self._taken = _Counter()
            self._turn: Any = threading.Condition()
        else:
            self._slots = context.Array("q", slots, lock=False)
            self._taken = context.Value("i", 0, lock=False)
            self._turn = context.Condition()

    def take(self, position: int, counts: Mapping[str, int]) -> dict[str, int]:
        """The first id in each table for the clinic at `position` (0 for the first), which
        has `counts` rows in them; waits until the clinic before it has taken its own."""
        width = len(self.names)
        start = position * width
        with self._turn:
            if self._shared:
                self._turn.wait_for(lambda: self._taken.value >= position)
            if self._taken.value != position:  # in this process, nothing else could take them
                raise RuntimeError(
                    f"clinic {position} asked for its ids, but clinic {self._taken.value} is next"
                )
            firsts = [self._slots[start + index] for index in range(width)]
            for index, name in enumerate(self.names):
                self._slots[start + width + index] = firsts[index] + counts.get(name, 0)
            self._taken.value = position + 1
            self._turn.notify_all()
        return dict(zip(self.names, firsts, strict=True))


class _Counter:
    """A plain counter with the shared value's interface."""

    def __init__(self) -> None:
        self.value = 0
