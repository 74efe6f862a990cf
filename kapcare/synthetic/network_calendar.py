"""Clinic calendars for `kapcare generate`: appointments placed without double-booking.

Each clinic keeps, per person and per room, which half-hours of each working day are taken (a
bit mask per day). Placing an appointment looks for the first day, from the one asked for, on
which every person it needs (and, for a dosing session, one of the rooms) is free for its whole
length, so the generated diaries look like a real clinic's: nobody is in two places at once.

The clinic is open Monday to Saturday, 08:00 to 18:00 in the practice's zone (a synthetic
choice). Times are computed from each day's UTC offset at noon: daylight-saving changes happen
at night, outside opening hours.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

SLOT_MINUTES = 30
OPENS = 8 * 60  # minutes after midnight
SLOTS = 20  # 08:00 to 18:00
SUNDAY = 6

EARLY, LATE, ANY = "early", "late", "any"
SLOT_TIMES = tuple(dt.timedelta(minutes=OPENS + n * SLOT_MINUTES) for n in range(SLOTS))


class Clock:
    """Wall-clock times of the practice's days as aware UTC datetimes."""

    def __init__(self, zone: dt.tzinfo) -> None:
        self.zone = zone
        self._days: dict[int, dt.datetime] = {}

    def midnight(self, day: dt.date) -> dt.datetime:
        """The day's local midnight, as UTC (valid for times between 03:00 and 23:00)."""
        ordinal = day.toordinal()
        found = self._days.get(ordinal)
        if found is None:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=self.zone)
            offset = noon.utcoffset() or dt.timedelta()
            found = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - offset
            self._days[ordinal] = found
        return found

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        """`minute` minutes after the local midnight of `day`."""
        return self.midnight(day) + dt.timedelta(minutes=minute)

    def slot(self, day: dt.date, slot: int) -> dt.datetime:
        return self.midnight(day) + SLOT_TIMES[slot]

    def local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()


@dataclass(frozen=True)
class Placed:
    day: dt.date
    slot: int
    room: int | None
    overbooked: bool = False


def working_day(day: dt.date) -> dt.date:
    """`day`, or the next day the clinic is open."""
    return day + dt.timedelta(days=1) if day.weekday() == SUNDAY else day


class Calendar:
    """Who and which room is busy when, in one clinic."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.busy: dict[tuple[int, int], int] = {}
        self.overbooked = 0
        self._orders: dict[tuple[int, str, int], list[int]] = {}

    def _mask(self, people: Sequence[int], ordinal: int) -> int:
        busy = self.busy
        mask = 0
        for person in people:
            mask |= busy.get((person, ordinal), 0)
        return mask

    def _order(self, last: int, prefer: str) -> list[int]:
        """The slots to try, in order: from the morning, from midday, or from a random one."""
        start = int(self.rng.random() * (last + 1)) if prefer == ANY else 0
        key = (last, prefer, start)
        found = self._orders.get(key)
        if found is None:
            if prefer == EARLY:
                found = list(range(last + 1))
            elif prefer == LATE:
                middle = min(last, SLOTS // 2)
                found = [*range(middle, last + 1), *range(middle - 1, -1, -1)]
            else:
                found = [*range(start, last + 1), *range(start)]
            self._orders[key] = found
        return found

    def place(
        self,
        day: dt.date,
        minutes: int,
        people: Sequence[int],
        *,
        rooms: Sequence[int] = (),
        prefer: str = ANY,
        search_days: int = 10,
    ) -> Placed:
        """The first free time from `day` on (at most `search_days` open days later) for
        `minutes` with all of `people` and, if `rooms` are given, one of them; marked busy.
        When nothing is free that long, the first slot of `day` is taken anyway (counted in
        `overbooked`)."""
        length = -(-minutes // SLOT_MINUTES)
        length = min(length, SLOTS)
        need = (1 << length) - 1
        last = SLOTS - length
        order = self._order(last, prefer)
        busy = self.busy
        current = working_day(day)
        for _ in range(search_days + 1):
            ordinal = current.toordinal()
            taken = self._mask(people, ordinal)
            for slot in order:
                block = need << slot
                if taken & block:
                    continue
                room = None
                if rooms:
                    room = next((r for r in rooms if not busy.get((-r, ordinal), 0) & block), None)
                    if room is None:
                        continue
                self._take(people, room, ordinal, block)
                return Placed(current, slot, room)
            current = working_day(current + dt.timedelta(days=1))
        day = working_day(day)
        room = rooms[0] if rooms else None
        self.overbooked += 1
        self._take(people, room, day.toordinal(), need)
        return Placed(day, 0, room, overbooked=True)

    def _take(self, people: Sequence[int], room: int | None, ordinal: int, block: int) -> None:
        busy = self.busy
        for person in people:
            key = (person, ordinal)
            busy[key] = busy.get(key, 0) | block
        if room is not None:
            key = (-room, ordinal)
            busy[key] = busy.get(key, 0) | block
