"""Questionnaires in a synthetic network: scored by kapcare's own rules, with the safety flags
and risk assessments the services would write for them.

Each course follows a trajectory (kapcare.synthetic.trajectories: responder, partial responder,
non-responder, relapse after remission) from a moderate-to-severe baseline, measured in weeks
from the course's first dose. Forms are drawn from pools of answer sets per instrument and
total, each scored once with `rules.validate` and `rules.score_validated` (what `rules.score`
does): every stored total, band and flag is exactly what the rules give for its answers, and a
hundred thousand clients do not mean three million scorings.

A PHQ-9 item 9 (or MADRS item 10) above 0 raises a suicide-risk SafetyFlag, as
`administration_record` does, closed by a clinician's RiskAssessment later the same day (or left
open when that moment is still to come).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS, Kind
from kapcare.measures.models import Source
from kapcare.measures.rules import FLAG_LABELS
from kapcare.safety.models import FlagKind, RiskLevel
from kapcare.safety.rules import SEVERITY_FOR_FLAG, severity_for
from kapcare.synthetic import trajectories
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.synthetic.network_writer import JsonText, json_text

# Distinct answer sets kept per instrument and total: enough that forms look varied.
POOL_SIZE = 24

RISK_LEVELS = ((RiskLevel.LOW, 75), (RiskLevel.NONE, 10), (RiskLevel.MODERATE, 15))
ACTIONS = (
    "Spoke with the client by phone the same day; passive thoughts only, no plan or intent. "
    "Reviewed supports at home. Prescriber informed.",
    "Assessed in person before the session: fleeting thoughts during a hard week, no plan, "
    "no access to means. Partner aware. Next appointment kept.",
    "Telephone assessment: thoughts of not waking up, no intent or plan. Agreed to call the "
    "clinic or the crisis line if they got stronger. Prescriber informed.",
    "Seen at the clinic: thoughts have eased since the last session; protective factors "
    "strong (children, work). No change to the plan of care.",
)
SAFETY_PLANS = (
    "Safety plan reviewed: warning signs, coping steps, people to call, the 988 Suicide & "
    "Crisis Lifeline, and means kept away from home.",
    "Existing safety plan reviewed and updated with the new phone number of a support person.",
    "Safety plan made together and a copy given to the client; crisis numbers saved in the "
    "client's phone.",
)


@dataclass(frozen=True)
class Form:
    """A scored form, with its JSON columns written out once (forms are reused from pools)."""

    instrument: str
    answers: dict[str, int | None]
    score: rules.Score
    flag_severity: str | None
    flag_reason: str
    answers_json: JsonText
    missing_json: JsonText
    flags_json: JsonText
    details_json: JsonText


class FormPool:
    """Scored answer sets per (instrument, total), grown to POOL_SIZE, then reused."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[tuple[str, int, int], list[Form]] = {}

    def _form(self, instrument: str, answers: dict[str, int | None]) -> Form:
        definition = INSTRUMENTS[instrument]
        cleaned = rules.validate(definition, answers)
        score = rules.score_validated(definition, cleaned)
        severity = severity_for(list(score.flags))
        findings = [FLAG_LABELS.get(f, f) for f in score.flags if f in SEVERITY_FOR_FLAG]
        reason = f"{definition.name}: {', '.join(findings)}"[:300] if severity else ""
        return Form(
            instrument,
            cleaned,
            score,
            severity,
            reason,
            json_text(cleaned),
            json_text(list(score.missing)),
            json_text(list(score.flags)),
            json_text(dict(score.details)),
        )

    def _draw(self, key: tuple[str, int, int], make: Any) -> Form:
        pool = self.pools.setdefault(key, [])
        if len(pool) < POOL_SIZE:
            form = make()
            pool.append(form)
            return form
        return pool[int(self.rng.random() * POOL_SIZE)]

    def phq9(self, total: int) -> Form:
        return self._draw(
            ("phq9", total, 0),
            lambda: self._form("phq9", trajectories.phq9_answers(total, self.rng)),
        )

    def gad7(self, phq9_total: int) -> Form:
        total = trajectories.gad7_total(phq9_total, self.rng)
        return self._draw(
            ("gad7", total, 0),
            lambda: self._form("gad7", trajectories.gad7_answers(total, self.rng)),
        )

    def madrs(self, phq9_total: int) -> Form:
        """A clinician's MADRS (score entry) that goes with a PHQ-9 level (a synthetic
        relation: about 1.5 times the PHQ-9 total), with item 10 recorded."""
        total = max(0, min(60, round(phq9_total * 1.5 + self.rng.gauss(0, 3))))
        item10 = 1 if total >= 30 and self.rng.random() < 0.15 else 0
        return self._draw(
            ("madrs", total, item10),
            lambda: self._form("madrs", {"total": total, "item10": item10}),
        )


@dataclass
class Trajectory:
    """One course's PHQ-9 course over time (kapcare.synthetic.trajectories shapes)."""

    shape: str
    baseline: float

    @classmethod
    def draw(cls, rng: random.Random) -> Trajectory:
        shapes = trajectories.SHAPES
        shape = rng.choices(list(shapes), weights=list(shapes.values()))[0]
        return cls(shape, rng.uniform(14, 24))

    def phq9_total(self, weeks: float, rng: random.Random) -> int:
        level = trajectories.level(self.shape, self.baseline, max(0.0, weeks))
        return max(0, min(27, round(level + rng.gauss(0, 1.5))))


@dataclass(frozen=True)
class Reviewer:
    """Who assesses a suicide-risk answer for a client, and how long after it."""

    staff: int
    after_minutes: int


class Measures:
    """Writes administrations (and their safety flags) into the network's tables."""

    def __init__(self, tables: NetworkTables, rng: random.Random, now: dt.datetime) -> None:
        self.tables = tables
        self.rng = rng
        self.now = now
        self.pool = FormPool(rng)
        self.flags = 0

    def record(
        self,
        *,
        client: int,
        form: Form,
        at: dt.datetime,
        entered_by: int | None,
        reviewer: Reviewer,
    ) -> bool:
        """Store one completed form (None `entered_by`: the client, from a self-report link).
        Returns whether it raised a suicide-risk flag that was closed by an assessment."""
        score = form.score
        if entered_by is None:
            source = Source.SELF_REPORT
        elif INSTRUMENTS[form.instrument].kind == Kind.SCORE_ENTRY:
            source = Source.SCORE_ENTRY
        else:
            source = Source.CLINIC
        administration = self.tables.administration.add(
            client,
            form.instrument,
            source,
            at,
            form.answers_json,
            score.total,
            score.band or "",
            score.complete,
            score.prorated,
            form.missing_json,
            form.flags_json,
            form.details_json,
            score.scoring_version,
            entered_by,
            at,
            at,
            entered_by,
            entered_by,
        )
        if form.flag_severity is None:
            return False
        return self._flag(client, form, administration, at, reviewer, entered_by)

    def _flag(
        self,
        client: int,
        form: Form,
        administration: int,
        at: dt.datetime,
        reviewer: Reviewer,
        entered_by: int | None,
    ) -> bool:
        """The suicide-risk flag of a form, closed by a same-day risk assessment when that
        assessment is not still to come."""
        self.flags += 1
        assessed = at + dt.timedelta(minutes=reviewer.after_minutes)
        assessment = None
        closed_at = None
        closed_by = None
        if assessed <= self.now:
            rng = self.rng
            level = rng.choices([r for r, _ in RISK_LEVELS], weights=[w for _, w in RISK_LEVELS])[0]
            assessment = self.tables.risk_assessment.add(
                client,
                assessed,
                reviewer.staff,
                level,
                rng.choice(ACTIONS),
                rng.choice(SAFETY_PLANS),
                assessed,
                assessed,
                reviewer.staff,
                reviewer.staff,
            )
            closed_at, closed_by = assessed, reviewer.staff
        # Raised by whoever recorded the form (None for a self-report), as the service does.
        self.tables.safety_flag.add(
            client,
            FlagKind.SUICIDE_RISK,
            form.flag_severity,
            form.flag_reason,
            administration,
            "",
            None,
            at,
            closed_at,
            closed_by,
            assessment,
            "",
            at,
            closed_at or at,
            entered_by,
            closed_by if closed_by is not None else entered_by,
        )
        return assessment is not None
