"""One course's figures from plain facts, as pure functions: what a per-course summary holds.

No ORM and no clock: the loader (`kapcare.outcomes.summaries`) gathers the facts and passes
`now`. Progress is `kapcare.outcomes.rules.progress`, integration adherence is
`rules.integration_adherence` and the measurement schedule is `kapcare.courses.schedule`, so the
dashboard, the progress page and the course plan judge a course the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kapcare.courses import schedule
from kapcare.outcomes import rules

HELD, NO_SHOW = "held", "no_show"
DOSING, INTEGRATION = "dosing", "integration"
BP_STOP_RULE = "bp_stop"  # the vital-signs flag raised by a BP reading above the stop level


@dataclass(frozen=True)
class Visit:
    kind: str
    state: str
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class SafetyEvent:
    category: str  # "adverse_event" or "side_effect"
    kind: str  # seriousness, or the side effect
    severity: str


@dataclass(frozen=True)
class RemsFacts:
    due_on: dt.date
    submitted_on: dt.date | None


@dataclass(frozen=True)
class CourseFacts:
    """What the summary of one course is computed from."""

    started_at: dt.datetime  # the course's start, as the measurement schedule anchors it
    birth_date: dt.date
    visits: Sequence[Visit] = ()
    doses_given: int = 0  # dosing sessions with a dose recorded
    scores: Mapping[str, Sequence[rules.Score]] = field(default_factory=dict)  # course window
    completions: Mapping[str, Sequence[dt.datetime]] = field(default_factory=dict)
    schedule_events: schedule.CourseEvents | None = None
    measure_rules: Sequence[schedule.MeasureRule] = ()
    integration_hours: int = 72
    bp_excursion_sessions: int = 0
    rems_forms: Sequence[RemsFacts] = ()
    safety: Sequence[SafetyEvent] = ()


@dataclass(frozen=True)
class Outcome:
    instrument: str
    scores: int
    baseline: int
    latest: int
    change: int | None
    responded: bool | None
    remitted: bool | None
    days_to_response: int | None
    days_to_remission: int | None
    relapsed: bool | None
    kept_3_months: bool | None
    kept_6_months: bool | None


@dataclass(frozen=True)
class Figures:
    age_band: str
    dosing_sessions: int
    integration_doses: int
    integration_met: int
    measures_expected: int
    measures_done: int
    appointments_attended: int
    appointments_no_show: int
    bp_excursion_sessions: int
    rems_forms_due: int
    rems_forms_on_time: int
    adverse_events: int
    outcomes: tuple[Outcome, ...]
    safety: tuple[tuple[str, str, str, int], ...]  # (category, kind, severity, count)


AGE_BANDS = ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def age_on(birth_date: dt.date, day: dt.date) -> int:
    passed = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if passed else 1)


def age_band(age: int | None) -> str:
    """The reporting band of an age in whole years (kapcare.outcomes.models.AgeBand)."""
    if age is None or age < 18:
        return "unknown"  # kapcare treats adults; a younger age is a data problem to look at
    for below, band in AGE_BANDS:
        if age < below:
            return band
    return "65+"


def outcome(
    instrument: str,
    scores: Sequence[rules.Score],
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
    settings: rules.ProgressSettings,
) -> Outcome | None:
    """The course's progress on one instrument; None without any score."""
    judged = rules.progress(scores, instrument=instrument, now=now, zone=zone, settings=settings)
    if judged.baseline is None or judged.latest is None:
        return None
    kept = {item.days: item.kept for item in judged.durability}
    three, six = (*settings.durability_days, 0, 0)[:2]
    return Outcome(
        instrument=instrument,
        scores=len(judged.scores),
        baseline=judged.baseline.total,
        latest=judged.latest.total,
        change=judged.change.absolute if judged.change else None,
        responded=judged.response,
        remitted=judged.remission if len(judged.scores) > 1 else None,
        days_to_response=judged.days_to_first_response,
        days_to_remission=judged.days_to_first_remission,
        relapsed=(None if judged.first_remission is None else judged.relapse is not None),
        kept_3_months=kept.get(three),
        kept_6_months=kept.get(six),
    )


def figures(
    facts: CourseFacts,
    *,
    now: dt.datetime,
    zone: dt.tzinfo,
    settings: rules.ProgressSettings = rules.DEFAULT_SETTINGS,
) -> Figures:
    """Everything the summary of one course holds, as of `now`."""
    start_day = facts.started_at.astimezone(zone).date()
    doses = sorted(v.ends_at for v in facts.visits if v.kind == DOSING and v.state == HELD)
    held_integrations = [
        v.starts_at for v in facts.visits if v.kind == INTEGRATION and v.state == HELD
    ]
    adherence = rules.integration_adherence(
        doses, held_integrations, facts.integration_hours, now=now
    )

    expected = done = 0
    if facts.schedule_events is not None and facts.measure_rules:
        dues = schedule.due_list(facts.schedule_events, facts.measure_rules)
        for _, state in schedule.assess(dues, facts.completions, now):
            if state == schedule.DONE:
                done += 1
                expected += 1
            elif state == schedule.OVERDUE:
                expected += 1

    today = now.astimezone(zone).date()
    rems_due = [form for form in facts.rems_forms if form.submitted_on or form.due_on < today]
    on_time = [f for f in rems_due if f.submitted_on is not None and f.submitted_on <= f.due_on]

    counted = Counter((e.category, e.kind, e.severity) for e in facts.safety)
    outcomes = tuple(
        found
        for instrument in sorted(facts.scores)
        if (
            found := outcome(
                instrument, facts.scores[instrument], now=now, zone=zone, settings=settings
            )
        )
        is not None
    )
    return Figures(
        age_band=age_band(age_on(facts.birth_date, start_day)),
        dosing_sessions=facts.doses_given,
        integration_doses=adherence.evaluated,
        integration_met=adherence.met,
        measures_expected=expected,
        measures_done=done,
        appointments_attended=sum(1 for v in facts.visits if v.state == HELD),
        appointments_no_show=sum(1 for v in facts.visits if v.state == NO_SHOW),
        bp_excursion_sessions=facts.bp_excursion_sessions,
        rems_forms_due=len(rems_due),
        rems_forms_on_time=len(on_time),
        adverse_events=sum(1 for e in facts.safety if e.category == "adverse_event"),
        outcomes=outcomes,
        safety=tuple(sorted((*key, count) for key, count in counted.items())),
    )
