"""Measurement schedules anchored to course events: the due list and its states."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.courses.protocols import COMMON_MEASURES
from kapcare.courses.rules import utc
from kapcare.courses.schedule import (
    DONE,
    DUE,
    OVERDUE,
    UPCOMING,
    Anchor,
    CourseEvents,
    Due,
    MeasureRule,
    assess,
    due_list,
)

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LA)


def hours(moment: dt.datetime, n: float) -> dt.datetime:
    return utc(moment) + dt.timedelta(hours=n)


DOSES = (
    dt.datetime(2026, 3, 5, 10, 0, tzinfo=LA),
    dt.datetime(2026, 3, 9, 10, 0, tzinfo=LA),  # the day after the spring-forward change
    dt.datetime(2026, 3, 12, 10, 0, tzinfo=LA),
)


def test_the_common_schedule_for_three_doses() -> None:
    events = CourseEvents(started_at=START, doses=DOSES)
    items = due_list(events, COMMON_MEASURES)
    summary = [
        (d.instrument, d.anchor.value, d.opens_at.astimezone(LA).strftime("%m-%d %H:%M"))
        for d in items
    ]
    assert summary == [
        ("gad7", "course_start", "03-02 09:00"),
        ("phq9", "course_start", "03-02 09:00"),
        ("phq9", "before_each_dose", "03-04 10:00"),
        ("phq9", "after_each_dose", "03-06 10:00"),
        ("phq9", "before_each_dose", "03-08 10:00"),  # clocks changed at 02:00 that day
        ("phq9", "after_each_dose", "03-08 11:00"),  # 72 elapsed hours after 10:00 PST
        ("phq9", "after_each_dose", "03-10 10:00"),
        ("phq9", "before_each_dose", "03-11 10:00"),
        ("phq9", "after_each_dose", "03-12 10:00"),
        ("phq9", "after_each_dose", "03-13 10:00"),
        ("phq9", "after_each_dose", "03-15 10:00"),
    ]
    for item in items:
        assert item.closes_at > item.opens_at


def test_after_the_last_dose_at_1_3_and_6_months() -> None:
    events = CourseEvents(started_at=START, doses=DOSES, last_dose_at=DOSES[-1])
    follow_up = [d for d in due_list(events, COMMON_MEASURES) if d.anchor == Anchor.AFTER_LAST_DOSE]
    days = sorted({(d.opens_at - utc(DOSES[-1])).days for d in follow_up})
    assert days == [30, 91, 182]
    assert {d.instrument for d in follow_up} == {"phq9", "gad7"}
    assert all(d.closes_at - d.opens_at == dt.timedelta(days=7) for d in follow_up)


def test_weekly_during_induction() -> None:
    rule = MeasureRule(("phq9",), Anchor.WEEKLY_DURING_INDUCTION)
    doses = tuple(START + dt.timedelta(days=3 * i) for i in range(1, 9))
    events = CourseEvents(started_at=START, doses=doses, induction_ends_at=doses[-1])
    items = due_list(events, [rule])
    assert [(d.opens_at - utc(doses[0])).days for d in items] == [7, 14]
    assert due_list(CourseEvents(started_at=START), [rule]) == []


def test_the_same_instrument_at_the_same_moment_is_listed_once() -> None:
    # Doses 48 h apart: 24 h after the first is 24 h before the second.
    doses = (START + dt.timedelta(days=1), START + dt.timedelta(days=3))
    items = due_list(CourseEvents(started_at=START, doses=doses), COMMON_MEASURES)
    keys = [(d.instrument, d.opens_at) for d in items]
    assert len(keys) == len(set(keys))


def test_naive_times_and_empty_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_list(CourseEvents(started_at=START.replace(tzinfo=None)), COMMON_MEASURES)
    with pytest.raises(ValueError, match="more than 0"):
        due_list(
            CourseEvents(started_at=START),
            [MeasureRule(("phq9",), Anchor.COURSE_START, window_hours=0)],
        )


def test_states() -> None:
    events = CourseEvents(started_at=START, doses=DOSES[:1])
    items = due_list(events, COMMON_MEASURES)
    completed = {"phq9": [hours(START, 5)], "gad7": []}
    now = hours(DOSES[0], 30)  # the 24 h after-dose window is open
    states = {
        (d.instrument, d.anchor.value, d.opens_at): state
        for d, state in assess(items, completed, now)
    }
    assert states[("phq9", "course_start", utc(START))] == DONE
    assert states[("gad7", "course_start", utc(START))] == OVERDUE
    assert states[("phq9", "before_each_dose", hours(DOSES[0], -24))] == OVERDUE
    assert states[("phq9", "after_each_dose", hours(DOSES[0], 24))] == DUE
    assert states[("phq9", "after_each_dose", hours(DOSES[0], 72))] == UPCOMING


def test_a_completion_at_the_edge_of_the_window_counts() -> None:
    items = due_list(CourseEvents(started_at=START, doses=DOSES[:1]), COMMON_MEASURES)
    before = next(d for d in items if d.anchor == Anchor.BEFORE_EACH_DOSE)
    done = assess([before], {"phq9": [before.closes_at]}, hours(DOSES[0], 1))
    late = assess(
        [before], {"phq9": [before.closes_at + dt.timedelta(seconds=1)]}, hours(DOSES[0], 1)
    )
    assert (done[0][1], late[0][1]) == (DONE, OVERDUE)


moments = st.integers(0, 24 * 120).map(lambda h: hours(START, h))


@given(st.lists(moments, max_size=12), st.booleans())
def test_any_course_gives_an_ordered_list_without_duplicates(
    doses: list[dt.datetime], ended: bool
) -> None:
    ordered = tuple(sorted(doses))
    events = CourseEvents(
        started_at=START,
        doses=ordered,
        induction_ends_at=ordered[-1] if ordered else None,
        last_dose_at=ordered[-1] if ordered and ended else None,
    )
    rules = (*COMMON_MEASURES, MeasureRule(("phq9",), Anchor.WEEKLY_DURING_INDUCTION))
    items = due_list(events, rules)
    assert items == sorted(items, key=lambda d: (d.opens_at, d.instrument))
    keys = [(d.instrument, d.opens_at) for d in items]
    assert len(keys) == len(set(keys))
    # Each dose brings its before- and after-dose items (unless shared with another dose).
    distinct = len(set(ordered))
    assert sum(1 for d in items if d.anchor == Anchor.BEFORE_EACH_DOSE) <= distinct
    assert all(d.opens_at.tzinfo == dt.UTC for d in items)


def naive_states(
    dues: list[Due], completed: dict[str, list[dt.datetime]], now: dt.datetime
) -> list[str]:
    """The rule as written, item by item against every completion (the reference for assess)."""
    states = []
    for due in dues:
        times = [utc(moment) for moment in completed.get(due.instrument, ())]
        if any(due.opens_at <= moment <= due.closes_at for moment in times):
            states.append(DONE)
        elif utc(now) > due.closes_at:
            states.append(OVERDUE)
        elif utc(now) >= due.opens_at:
            states.append(DUE)
        else:
            states.append(UPCOMING)
    return states


PROPERTY_RULES = (
    MeasureRule(("phq9", "gad7"), Anchor.COURSE_START, offsets_hours=(0,), window_hours=72),
    MeasureRule(("phq9",), Anchor.BEFORE_EACH_DOSE, offsets_hours=(-24,), window_hours=24),
    MeasureRule(("phq9",), Anchor.AFTER_EACH_DOSE, offsets_hours=(24, 72, 120), window_hours=24),
)


@given(
    doses=st.lists(st.integers(0, 60 * 24), max_size=6),
    done=st.lists(
        st.tuples(st.sampled_from(["phq9", "gad7"]), st.integers(-24, 70 * 24)), max_size=12
    ),
    now_hours=st.integers(0, 80 * 24),
    new_york=st.booleans(),
)
def test_assess_is_the_rule_as_written(
    doses: list[int], done: list[tuple[str, int]], now_hours: int, new_york: bool
) -> None:
    """assess (which sorts each instrument's completions once and looks each window up) judges
    every item as the rule reads, with completions in any order and zone, on window ends and
    across a daylight-saving change (March in New York)."""
    zone = zoneinfo.ZoneInfo("America/New_York") if new_york else LA
    start = dt.datetime(2026, 2, 20, 9, tzinfo=zone)
    events = CourseEvents(
        started_at=start,
        doses=tuple(sorted(start + dt.timedelta(hours=h) for h in doses)),
    )
    completions: dict[str, list[dt.datetime]] = {}
    for instrument, hours_after in done:
        moment = start + dt.timedelta(hours=hours_after)
        completions.setdefault(instrument, []).append(
            moment.astimezone(dt.UTC) if hours_after % 2 else moment
        )
    now = start + dt.timedelta(hours=now_hours)
    dues = due_list(events, PROPERTY_RULES)
    assert [state for _, state in assess(dues, completions, now)] == naive_states(
        dues, completions, now
    )
