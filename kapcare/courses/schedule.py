"""Measurement schedules anchored to a course's events, as pure functions.

A rule says what to measure relative to an event: at course start, within 24 h before each dose,
24 h and 72 h after each dose, weekly during induction, 1, 3 and 6 months after the last dose.
`due_list` turns a course's events and its rules into the items due, each with the window in
which a completed questionnaire counts; `assess` marks each item done, due, overdue or upcoming.
All times are aware datetimes and all arithmetic is in UTC, in elapsed hours, so a window keeps its
length across a daylight-saving change (pages show it in the practice's zone).
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kapcare.courses.rules import utc


class Anchor(enum.StrEnum):
    COURSE_START = "course_start"
    BEFORE_EACH_DOSE = "before_each_dose"
    AFTER_EACH_DOSE = "after_each_dose"
    WEEKLY_DURING_INDUCTION = "weekly_during_induction"
    AFTER_LAST_DOSE = "after_last_dose"


@dataclass(frozen=True)
class MeasureRule:
    instruments: tuple[str, ...]
    anchor: Anchor
    # Hours from the anchor event to the opening of the window (negative: before the event).
    offsets_hours: tuple[int, ...] = (0,)
    window_hours: int = 24


@dataclass(frozen=True)
class CourseEvents:
    started_at: dt.datetime
    doses: tuple[dt.datetime, ...] = ()
    induction_ends_at: dt.datetime | None = None
    last_dose_at: dt.datetime | None = None  # set once the dosing series has ended


@dataclass(frozen=True)
class Due:
    instrument: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    anchor: Anchor
    anchor_at: dt.datetime


def _in_utc(events: CourseEvents) -> CourseEvents:
    """The events in UTC, so that adding hours is elapsed time (see kapcare.courses.rules.utc)."""
    return CourseEvents(
        started_at=utc(events.started_at),
        doses=tuple(utc(dose) for dose in events.doses),
        induction_ends_at=utc(events.induction_ends_at) if events.induction_ends_at else None,
        last_dose_at=utc(events.last_dose_at) if events.last_dose_at else None,
    )


def _anchors(rule: MeasureRule, events: CourseEvents) -> list[dt.datetime]:
    if rule.anchor == Anchor.COURSE_START:
        return [events.started_at]
    if rule.anchor in (Anchor.BEFORE_EACH_DOSE, Anchor.AFTER_EACH_DOSE):
        return list(events.doses)
    if rule.anchor == Anchor.AFTER_LAST_DOSE:
        return [events.last_dose_at] if events.last_dose_at else []
    # Weekly during induction: every 7 days after the first dose, while induction lasts.
    if not events.doses:
        return []
    first = min(events.doses)
    end = events.induction_ends_at or max(events.doses)
    anchors, week = [], 1
    while first + dt.timedelta(days=7 * week) <= end:
        anchors.append(first + dt.timedelta(days=7 * week))
        week += 1
    return anchors


def due_list(events: CourseEvents, rules: Sequence[MeasureRule]) -> list[Due]:
    """Every item the rules call for, in order of opening, each (instrument, opening) once. In
    UTC."""
    events = _in_utc(events)
    seen: dict[tuple[str, dt.datetime], Due] = {}
    for rule in rules:
        if rule.window_hours <= 0:
            raise ValueError("a measurement window must last more than 0 hours")
        for anchor_at in _anchors(rule, events):
            for offset in rule.offsets_hours:
                opens = anchor_at + dt.timedelta(hours=offset)
                for instrument in rule.instruments:
                    key = (instrument, opens)
                    seen.setdefault(
                        key,
                        Due(
                            instrument=instrument,
                            opens_at=opens,
                            closes_at=opens + dt.timedelta(hours=rule.window_hours),
                            anchor=rule.anchor,
                            anchor_at=anchor_at,
                        ),
                    )
    return sorted(seen.values(), key=lambda due: (due.opens_at, due.instrument))


DONE, DUE, OVERDUE, UPCOMING = "done", "due", "overdue", "upcoming"


def assess(
    dues: Sequence[Due], completed: Mapping[str, Sequence[dt.datetime]], now: dt.datetime
) -> list[tuple[Due, str]]:
    """Each item with its state: done (a questionnaire of that instrument was completed inside its
    window), due (window open now), overdue (window closed without one), upcoming."""
    now = utc(now)
    # Each instrument's completions in UTC and in order once: an item then looks up the first
    # completion at or after its opening (a course has hundreds of items and of completions).
    moments = {
        instrument: sorted(utc(moment) for moment in times)
        for instrument, times in completed.items()
    }
    states = []
    for due in dues:
        times = moments.get(due.instrument, [])
        first = bisect_left(times, due.opens_at)  # due_list's windows are in UTC
        if first < len(times) and times[first] <= due.closes_at:
            state = DONE
        elif now > due.closes_at:
            state = OVERDUE
        elif now >= due.opens_at:
            state = DUE
        else:
            state = UPCOMING
        states.append((due, state))
    return states
