"""Outcome rules as pure functions over plain data: one client's progress on one instrument, and
the small statistics a practice report is built from. No ORM, no clock: pass `now` (and the
practice `zone`, whose calendar days are the days counted).

Sources (reference/clinical-facts.md):

* Response is a reduction of at least 50% from baseline, for every instrument in §6.2
  (MADRS, PHQ-9, QIDS-SR16); the number is `kapcare.measures.rules.RESPONSE_REDUCTION`.
* Remission is at or below a threshold per instrument (§6.2: PHQ-9 "<5", i.e. ≤4; QIDS-SR16
  ≤5; MADRS ≤12, or ≤10 as a practice choice): `kapcare.measures.rules.REMISSION_DEFAULTS`, or
  the practice's rules from `practice_remission_rules`.
* Relapse and durability windows are not defined in clinical-facts. They are practice settings
  here, each with a marked default (see `ProgressSettings`).
* The integration window after a dose is the courses rule (`kapcare.courses.rules`), reused as
  it is, with the window length passed in.

Change and percent change are `kapcare.measures.rules.change` (percent rounded to 0.1 for
display); response is judged on the exact totals (`is_response`), never on the rounded percent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kapcare.courses.rules import (
    HELD_IN_WINDOW,
    MISSED,
    Session,
    days_apart,
    integration_state,
    utc,
)
from kapcare.measures.rules import (
    REMISSION_DEFAULTS,
    RESPONSE_REDUCTION,
    Change,
    RemissionRule,
    change,
    is_remission,
    is_response,
)

# ---------------------------------------------------------------------------------------------
# Settings, each with its default and where the default comes from

# ≥50% reduction from baseline (clinical-facts §6.2), as a percent: Decimal("50.0").
RESPONSE_PERCENT_DEFAULT = RESPONSE_REDUCTION * 100

# PRACTICE SETTING, not from clinical-facts (which defines no relapse): how many consecutive
# scores above the remission threshold, after a remission, make a relapse. Default 1: the first
# score above the threshold is the relapse (remission lost). A practice wanting a confirmed loss
# raises it; the relapse is then dated by the first score of the run.
RELAPSE_CONFIRMING_SCORES_DEFAULT = 1

# PRACTICE SETTINGS, not from clinical-facts: "3 months" and "6 months" of durability after a
# first remission, as whole weeks of calendar days (13 and 26 weeks).
THREE_MONTHS_DAYS = 91
SIX_MONTHS_DAYS = 182


@dataclass(frozen=True)
class ProgressSettings:
    """How progress is judged. Pass the practice's remission rules
    (`kapcare.measures.selectors.remission_rules()`) where the MADRS threshold may be 10."""

    response_percent: decimal.Decimal | int = RESPONSE_PERCENT_DEFAULT
    remission: Mapping[str, RemissionRule] = field(default_factory=lambda: dict(REMISSION_DEFAULTS))
    relapse_confirming_scores: int = RELAPSE_CONFIRMING_SCORES_DEFAULT
    durability_days: tuple[int, ...] = (THREE_MONTHS_DAYS, SIX_MONTHS_DAYS)

    def __post_init__(self) -> None:
        percent = decimal.Decimal(self.response_percent)
        if not 0 < percent <= 100:
            raise ValueError("response_percent must be more than 0 and at most 100")
        object.__setattr__(self, "response_percent", percent)
        if self.relapse_confirming_scores < 1:
            raise ValueError("relapse_confirming_scores must be at least 1")
        if not self.durability_days or any(days <= 0 for days in self.durability_days):
            raise ValueError("durability_days must be one or more whole days above 0")

    @property
    def reduction(self) -> decimal.Decimal:
        """The response reduction as a fraction (0.5 for 50%)."""
        return decimal.Decimal(self.response_percent) / 100


DEFAULT_SETTINGS = ProgressSettings()


# ---------------------------------------------------------------------------------------------
# One client's progress on one instrument


@dataclass(frozen=True)
class Score:
    """One total on one instrument at one moment (timezone-aware)."""

    at: dt.datetime
    total: int

    def __post_init__(self) -> None:
        utc(self.at)  # refuses a naive time
        if isinstance(self.total, bool) or not isinstance(self.total, int) or self.total < 0:
            raise ValueError(f"a total is a whole number of 0 or more, not {self.total!r}")


@dataclass(frozen=True)
class Durability:
    """Whether the first remission was kept through `days` after it.

    `kept` is False when a relapse is dated within `days` (day `days` included), True when no
    relapse is dated within them and a score at least `days` after the remission shows the
    follow-up reached that far, and None otherwise (`reason` says why)."""

    days: int
    kept: bool | None
    reason: str = ""

    @property
    def relapsed_within(self) -> bool | None:
        return None if self.kept is None else not self.kept


@dataclass(frozen=True)
class Progress:
    """Where a client stands on one instrument. Every None that means "cannot say" has an entry
    in `reasons` under the field's name; `notes` says how the input was tidied."""

    instrument: str
    scores: tuple[Score, ...]  # the trajectory judged: baseline first, one score per instant
    baseline: Score | None
    latest: Score | None
    change: Change | None  # latest against baseline; percent None when the baseline is 0
    response: bool | None  # latest is at least the response reduction below baseline
    remission: bool | None  # latest is at or below the remission threshold
    remission_at_most: int | None
    first_response: Score | None
    days_to_first_response: int | None  # calendar days from the baseline
    first_remission: Score | None
    days_to_first_remission: int | None  # calendar days from the baseline
    relapse: Score | None  # the first score of the run that lost the first remission
    days_to_relapse: int | None  # calendar days from the first remission
    durability: tuple[Durability, ...]
    reasons: Mapping[str, str]
    notes: tuple[str, ...] = ()

    def durability_through(self, days: int) -> Durability | None:
        """The durability entry for a window of `days` (None if that window was not asked)."""
        return next((item for item in self.durability if item.days == days), None)


# The fields that can be None for want of data, each with an entry in `Progress.reasons` then.
REASON_FIELDS = (
    "baseline",
    "latest",
    "change",
    "percent_change",
    "response",
    "remission",
    "first_response",
    "first_remission",
    "relapse",
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _one_per_instant(scores: Iterable[Score], zone: dt.tzinfo, notes: list[str]) -> list[Score]:
    """Sorted by time; where several scores share an instant, the higher total is kept (the
    cautious reading: a tie never makes a response or a remission) and a note says so."""
    by_instant: dict[dt.datetime, list[Score]] = {}
    for item in scores:
        by_instant.setdefault(utc(item.at), []).append(item)
    kept = []
    for instant in sorted(by_instant):
        group = by_instant[instant]
        chosen = max(group, key=lambda item: item.total)
        if len({item.total for item in group}) > 1:
            local = instant.astimezone(zone)
            notes.append(
                f"{len(group)} scores at {local:%Y-%m-%d %H:%M}: the higher total, "
                f"{chosen.total}, is used."
            )
        kept.append(chosen)
    return kept


def _empty(
    instrument: str, rule: RemissionRule | None, settings: ProgressSettings, notes: list[str]
) -> Progress:
    why = "No scores."
    reasons = dict.fromkeys(REASON_FIELDS, why)
    return Progress(
        instrument=instrument,
        scores=(),
        baseline=None,
        latest=None,
        change=None,
        response=None,
        remission=None,
        remission_at_most=rule.at_most if rule else None,
        first_response=None,
        days_to_first_response=None,
        first_remission=None,
        days_to_first_remission=None,
        relapse=None,
        days_to_relapse=None,
        durability=tuple(Durability(days, None, why) for days in settings.durability_days),
        reasons=reasons,
        notes=tuple(notes),
    )


def progress(
    scores: Sequence[Score],
    baseline: Score | None = None,
    *,
    instrument: str,
    now: dt.datetime,
    zone: dt.tzinfo,
    settings: ProgressSettings = DEFAULT_SETTINGS,
) -> Progress:
    """One client's progress on `instrument` as of `now`, counting days in `zone`.

    The baseline is the first score unless one is given (then scores before it are left out).
    Scores dated after `now` are left out, so a past `now` gives progress as it stood then.
    Input order does not matter. Days are calendar days in the practice zone (the way a clinic
    counts them), so a daylight-saving change never moves a score to another day.
    """
    now = utc(now)
    notes: list[str] = []
    rule = settings.remission.get(instrument)

    usable = [item for item in scores if utc(item.at) <= now]
    if len(usable) < len(scores):
        notes.append(f"{_plural(len(scores) - len(usable), 'score')} dated after now left out.")
    if baseline is not None:
        start = utc(baseline.at)
        if start > now:
            raise ValueError("the baseline is dated after now")
        before = [item for item in usable if utc(item.at) < start]
        if before:
            notes.append(f"{_plural(len(before), 'score')} before the baseline left out.")
        clash = [item for item in usable if utc(item.at) == start and item.total != baseline.total]
        if clash:
            notes.append("A score at the baseline's time differs from it: the baseline is used.")
        usable = [baseline, *(item for item in usable if utc(item.at) > start)]

    trajectory = _one_per_instant(usable, zone, notes)
    if not trajectory:
        return _empty(instrument, rule, settings, notes)

    reasons: dict[str, str] = {}
    base, latest = trajectory[0], trajectory[-1]
    later = trajectory[1:]

    def days_from(start: Score, item: Score) -> int:
        return days_apart(start.at, item.at, zone)

    # Change and response: the latest against the baseline.
    movement: Change | None = None
    response: bool | None = None
    if not later:
        reasons["change"] = "Only the baseline so far: no later score to compare."
        reasons["response"] = reasons["change"]
    else:
        movement = change(base.total, latest.total)
        response = is_response(base.total, latest.total, settings.reduction)
    if base.total == 0:
        reasons["percent_change"] = "The baseline is 0: a percent change from 0 is undefined."
        reasons["response"] = (
            f"The baseline is 0: a {settings.response_percent}% reduction from 0 cannot be judged."
        )

    first_response = next(
        (item for item in later if is_response(base.total, item.total, settings.reduction)),
        None,
    )
    if first_response is None:
        reasons["first_response"] = reasons.get("response", "No score has met response yet.")

    # Remission: the latest at or below the threshold; the first remission, and what followed.
    remission = is_remission(instrument, latest.total, settings.remission)
    first_remission: Score | None = None
    relapse: Score | None = None
    durability: tuple[Durability, ...]
    if rule is None:
        why = f"No remission definition for {instrument}."
        reasons.update(remission=why, first_remission=why, relapse=why)
        durability = tuple(Durability(days, None, why) for days in settings.durability_days)
    else:
        index = next((i for i, item in enumerate(trajectory) if item.total <= rule.at_most), None)
        if index is None:
            why = "No score at or below the remission threshold yet."
            reasons.update(first_remission=why, relapse="No remission to lose yet.")
            durability = tuple(Durability(days, None, why) for days in settings.durability_days)
        else:
            first_remission = trajectory[index]
            if index == 0:
                notes.append("The baseline is already at or below the remission threshold.")
            after = trajectory[index + 1 :]
            relapse, pending = _relapse(after, rule, settings.relapse_confirming_scores)
            if relapse is None:
                reasons["relapse"] = (
                    _pending_reason(first_remission, pending, settings, zone)
                    if pending is not None
                    else "Remission not lost since the first remission."
                )
            durability = tuple(
                _durability(days, first_remission, after, relapse, pending, settings, now, zone)
                for days in settings.durability_days
            )

    return Progress(
        instrument=instrument,
        scores=tuple(trajectory),
        baseline=base,
        latest=latest,
        change=movement,
        response=response,
        remission=remission,
        remission_at_most=rule.at_most if rule else None,
        first_response=first_response,
        days_to_first_response=days_from(base, first_response) if first_response else None,
        first_remission=first_remission,
        days_to_first_remission=days_from(base, first_remission) if first_remission else None,
        relapse=relapse,
        days_to_relapse=(
            days_from(first_remission, relapse) if first_remission and relapse else None
        ),
        durability=durability,
        reasons=reasons,
        notes=tuple(notes),
    )


def _relapse(
    after: Sequence[Score], rule: RemissionRule, needed: int
) -> tuple[Score | None, Score | None]:
    """(relapse, pending): the first run of `needed` consecutive scores above the threshold
    gives the relapse, dated by its first score; a shorter run still open at the end is pending."""
    run: list[Score] = []
    for item in after:
        if item.total > rule.at_most:
            run.append(item)
            if len(run) >= needed:
                return run[0], None
        else:
            run = []
    return None, run[0] if run else None


def _pending_reason(
    remission: Score, pending: Score, settings: ProgressSettings, zone: dt.tzinfo
) -> str:
    day = days_apart(remission.at, pending.at, zone)
    return (
        f"A score above the remission threshold on day {day} after remission awaits "
        f"confirmation ({settings.relapse_confirming_scores} in a row make a relapse)."
    )


def _durability(
    days: int,
    remission: Score,
    after: Sequence[Score],
    relapse: Score | None,
    pending: Score | None,
    settings: ProgressSettings,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> Durability:
    def day(item: Score) -> int:
        return days_apart(remission.at, item.at, zone)

    if relapse is not None and day(relapse) <= days:
        return Durability(days, False, f"Relapse on day {day(relapse)} after remission.")
    if pending is not None and day(pending) <= days:
        return Durability(days, None, _pending_reason(remission, pending, settings, zone))
    if any(day(item) >= days for item in after):
        return Durability(days, True)
    elapsed = days_apart(remission.at, now, zone)
    if elapsed < days:
        return Durability(
            days, None, f"Only {_plural(elapsed, 'day')} since remission; {days} needed."
        )
    last = day(after[-1]) if after else 0
    return Durability(
        days,
        None,
        f"No score {days} or more days after remission (the last is on day {last}).",
    )


# ---------------------------------------------------------------------------------------------
# Practice-scale statistics


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion `successes`/`n` (Wilson 1927; Newcombe 1998,
    method 3), as (low, high) within [0, 1]. None when `n` is 0: there is no proportion."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n, and n at least 0")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    if n == 0:
        return None
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    p = successes / n
    scale = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / scale
    low = 0.0 if successes == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if successes == n else min(1.0, max(p, centre + half))
    return low, high


def median(values: Iterable[float]) -> float | None:
    """The median, or None for no values (a report shows "no data", not 0)."""
    items = list(values)
    if not items:
        return None
    return float(statistics.median(items))


def rate_per_100(events: int, sessions: int) -> float | None:
    """Events per 100 sessions (an adverse-event rate); None when there were no sessions."""
    if events < 0 or sessions < 0:
        raise ValueError("events and sessions are counts of 0 or more")
    if sessions == 0:
        return None
    return events * 100 / sessions


@dataclass(frozen=True)
class Adherence:
    """Doses followed by a held integration session inside the window."""

    doses: int
    met: int
    pending: int  # window still open and nothing held yet: counted neither way
    window_hours: int

    @property
    def evaluated(self) -> int:
        return self.doses - self.pending

    @property
    def rate(self) -> float | None:
        """met / evaluated; None when no dose can be judged yet."""
        return self.met / self.evaluated if self.evaluated else None


def integration_adherence(
    doses: Sequence[dt.datetime],
    integrations_held: Sequence[dt.datetime],
    window_hours: int,
    *,
    now: dt.datetime | None = None,
) -> Adherence:
    """How many doses (their end times) had at least one held integration session inside the
    integration window, judged by `kapcare.courses.rules.integration_state` so the report and the
    course page agree: the window runs from the dose's end to `window_hours` of elapsed time
    later, both ends included. One session may count for two doses whose windows overlap.

    Without `now` every window is taken as closed (a report over a finished period). With
    `now`, a dose whose window is still open with nothing held yet is pending, not missed."""
    sessions = [Session(starts_at=moment, state="held") for moment in integrations_held]
    met = pending = 0
    for dose in doses:
        # Whether a held session lies inside the window does not depend on `now`.
        state = integration_state(
            dose, sessions, hours=window_hours, now=dose if now is None else now
        )
        if state == HELD_IN_WINDOW:
            met += 1
        elif now is not None and state != MISSED:
            pending += 1
    return Adherence(doses=len(doses), met=met, pending=pending, window_hours=window_hours)
