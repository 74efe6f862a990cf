"""Scoring, exactly as published: pure functions over answers, no database, no clock.

`score(code, answers)` validates the answers against the instrument's definition and returns a
`Score`; invalid answers raise `ScoringError` listing every problem with its item and rule. A
total is never computed from a partial form unless the instrument's missing-data rule says how
(and then the score says so). Change, response and remission are separate functions.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kapcare.measures.instruments import (
    CADSS_VERSIONS,
    CSSRS_ASKED_ONLY_IF_Q2,
    INSTRUMENTS,
    PCL5_CLUSTERS,
    PCL5_ENDORSED_AT,
    QIDS_APPETITE_ITEMS,
    Instrument,
)

SCORING_VERSION = "2026.1"

Answers = Mapping[str, int | None]


@dataclass(frozen=True)
class Problem:
    item: str | None
    rule: str
    message: str


class ScoringError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.item or '-'}: {p.message}" for p in problems))


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None
    band: str | None
    complete: bool
    missing: tuple[str, ...]
    flags: tuple[str, ...] = ()
    prorated: bool = False
    details: Mapping[str, object] = field(default_factory=dict)
    scoring_version: str = SCORING_VERSION


CSSRS_RISK_LABELS = {
    "none": "No risk identified",
    "low": "Low",
    "moderate": "Moderate",
    "high": "High",
}

# Flags other parts of kapcare act on (a safety flag, a block on dosing).
SUICIDE_ITEM_POSITIVE = "suicide_item_positive"
SUICIDE_ITEM_MISSING = "suicide_item_missing"
CSSRS_RISK_FLAGS = {
    "low": "cssrs_risk_low",
    "moderate": "cssrs_risk_moderate",
    "high": "cssrs_risk_high",
}
PCL5_PROVISIONAL_PTSD = "pcl5_provisional_ptsd"
PCL5_AT_OR_ABOVE_CUTPOINT = "pcl5_at_or_above_cutpoint"
GAD7_POSITIVE_SCREEN = "gad7_positive_screen"

# The item whose non-zero answer means suicidal thoughts, per instrument (clinical-facts §6.1).
SUICIDE_ITEMS = {"phq9": "q9", "qids_sr16": "q12", "bdi2": "item9", "madrs": "item10"}

# How each flag reads to a person.
FLAG_LABELS = {
    SUICIDE_ITEM_POSITIVE: "Suicide item above 0",
    SUICIDE_ITEM_MISSING: "Suicide item unanswered",
    CSSRS_RISK_FLAGS["low"]: "C-SSRS low risk",
    CSSRS_RISK_FLAGS["moderate"]: "C-SSRS moderate risk",
    CSSRS_RISK_FLAGS["high"]: "C-SSRS high risk",
    PCL5_PROVISIONAL_PTSD: "Provisional PTSD (DSM-5 rule)",
    PCL5_AT_OR_ABOVE_CUTPOINT: "At or above the PCL-5 cut-point",
    GAD7_POSITIVE_SCREEN: "Positive anxiety screen (10 or more)",
}

# Practice settings with their published defaults (clinical-facts §6.1, §6.2).
PCL5_DEFAULT_CUTPOINT = 33  # published provisional cut-point range 31–33
GAD7_POSITIVE_AT = 10


def validate(instrument: Instrument, answers: Answers) -> dict[str, int | None]:
    """Every answer known and in range; returns a full map with None for unanswered items."""
    problems: list[Problem] = []
    known = set(instrument.item_ids)
    for item_id in answers:
        if item_id not in known:
            problems.append(
                Problem(item_id, "unknown_item", f"{instrument.code} has no item {item_id!r}.")
            )
    cleaned: dict[str, int | None] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            cleaned[item.id] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(
                Problem(item.id, "not_integer", f"{item.id} must be a whole number, not {value!r}.")
            )
            continue
        if value not in item.values:
            allowed = sorted(item.values)
            problems.append(
                Problem(
                    item.id,
                    "out_of_range",
                    f"{item.id} must be one of {allowed[0]}–{allowed[-1]}, not {value}."
                    if allowed == list(range(allowed[0], allowed[-1] + 1))
                    else f"{item.id} must be one of {allowed}, not {value}.",
                )
            )
            continue
        cleaned[item.id] = value
    if problems:
        raise ScoringError(problems)
    return cleaned


def _round_half_up(value: decimal.Decimal) -> int:
    return int(value.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


def _suicide_flags(instrument: Instrument, answers: Mapping[str, int | None]) -> list[str]:
    """Positive when the suicide item is above 0. Unanswered is flagged too where the item is
    required (a PHQ-9 without item 9 must be reviewed); an optional entry (MADRS item 10) is not."""
    item_id = SUICIDE_ITEMS.get(instrument.code)
    if item_id is None:
        return []
    value = answers.get(item_id)
    if value is None:
        item = instrument.item(item_id)
        return [SUICIDE_ITEM_MISSING] if item is not None and item.required else []
    return [SUICIDE_ITEM_POSITIVE] if value > 0 else []


def _missing(instrument: Instrument, answers: Mapping[str, int | None]) -> tuple[str, ...]:
    return tuple(item.id for item in instrument.items if item.required and answers[item.id] is None)


def _simple_sum(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Sum of the scored items (for a score-entry scale, its one entered total); no total unless
    every required item is answered."""
    missing = _missing(instrument, answers)
    scored = [answers[item.id] for item in instrument.items if item.scored]
    total = None if missing else sum(value or 0 for value in scored)
    band = instrument.band_for(total)
    return Score(
        instrument=instrument.code,
        total=total,
        band=band.label if band else None,
        complete=not missing,
        missing=missing,
        flags=tuple(_suicide_flags(instrument, answers)),
    )


def score_phq9(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    scored = [item.id for item in instrument.items if item.scored]
    given = [answers[item_id] for item_id in scored if answers[item_id] is not None]
    missing = tuple(item_id for item_id in scored if answers[item_id] is None)
    total: int | None
    prorated = False
    if not missing:
        total = sum(value or 0 for value in given)
    elif len(missing) <= 2:
        # Mean of the answered items times the number of items, rounded half up.
        mean = decimal.Decimal(sum(value or 0 for value in given)) / len(given)
        total = _round_half_up(mean * len(scored))
        prorated = True
    else:
        total = None
    band = instrument.band_for(total)
    details: dict[str, object] = {}
    if answers["difficulty"] is not None:
        details["difficulty"] = answers["difficulty"]
    return Score(
        instrument=instrument.code,
        total=total,
        band=band.label if band else None,
        complete=not missing,
        missing=missing,
        flags=tuple(_suicide_flags(instrument, answers)),
        prorated=prorated,
        details=details,
    )


def score_gad7(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    result = _simple_sum(instrument, answers)
    if result.total is None:
        return result
    positive = result.total >= GAD7_POSITIVE_AT
    return Score(
        instrument=result.instrument,
        total=result.total,
        band=result.band,
        complete=True,
        missing=(),
        flags=(GAD7_POSITIVE_SCREEN,) if positive else (),
        details={"positive_screen": positive},
    )


QIDS_DOMAINS: dict[str, tuple[str, ...]] = {
    "sleep": ("q1", "q2", "q3", "q4"),
    "mood": ("q5",),
    "appetite_weight": QIDS_APPETITE_ITEMS,
    "concentration": ("q10",),
    "self_view": ("q11",),
    "suicidal_ideation": ("q12",),
    "interest": ("q13",),
    "energy": ("q14",),
    "psychomotor": ("q15", "q16"),
}


def score_qids_sr16(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    missing = list(_missing(instrument, answers))
    if all(answers[item_id] is None for item_id in QIDS_APPETITE_ITEMS):
        missing.extend(QIDS_APPETITE_ITEMS)
    domains = {
        name: max((answers[item_id] or 0) for item_id in items)
        for name, items in QIDS_DOMAINS.items()
    }
    total = None if missing else sum(domains.values())
    band = instrument.band_for(total)
    return Score(
        instrument=instrument.code,
        total=total,
        band=band.label if band else None,
        complete=not missing,
        missing=tuple(missing),
        flags=tuple(_suicide_flags(instrument, answers)),
        details={"domains": domains} if not missing else {},
    )


def score_pcl5(
    instrument: Instrument,
    answers: Mapping[str, int | None],
    cutpoint: int = PCL5_DEFAULT_CUTPOINT,
) -> Score:
    missing = _missing(instrument, answers)
    total = None if missing else sum(answers[item_id] or 0 for item_id in instrument.item_ids)
    clusters: dict[str, dict[str, object]] = {}
    met_all, any_impossible = True, False
    for name, (numbers, needed) in PCL5_CLUSTERS.items():
        values = [answers[f"q{number}"] for number in numbers]
        endorsed = sum(1 for value in values if value is not None and value >= PCL5_ENDORSED_AT)
        unanswered = sum(1 for value in values if value is None)
        met = endorsed >= needed
        clusters[name] = {"endorsed": endorsed, "needed": needed, "met": met}
        met_all = met_all and met
        # Even if every unanswered item here were endorsed, the cluster would fall short.
        any_impossible = any_impossible or endorsed + unanswered < needed
    # Met once every cluster is met; not met once any cluster can no longer be met; otherwise
    # the unanswered items decide, and the result is undetermined.
    provisional: bool | None = True if met_all else (False if any_impossible else None)
    flags = []
    if provisional:
        flags.append(PCL5_PROVISIONAL_PTSD)
    at_cutpoint = None if total is None else total >= cutpoint
    if at_cutpoint:
        flags.append(PCL5_AT_OR_ABOVE_CUTPOINT)
    return Score(
        instrument=instrument.code,
        total=total,
        band=None,
        complete=not missing,
        missing=missing,
        flags=tuple(flags),
        details={
            "clusters": clusters,
            "provisional_ptsd": provisional,
            "cutpoint": cutpoint,
            "at_or_above_cutpoint": at_cutpoint,
        },
    )


def score_cssrs(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    problems = []
    if answers["q2"] == 0:
        for item_id in CSSRS_ASKED_ONLY_IF_Q2:
            if answers[item_id] is not None:
                problems.append(
                    Problem(item_id, "skip_logic", f"{item_id} is asked only when q2 is yes.")
                )
    if answers["q6"] == 0 and answers["q6_recent"] is not None:
        problems.append(
            Problem("q6_recent", "skip_logic", "q6_recent is asked only when q6 is yes.")
        )
    if problems:
        raise ScoringError(problems)

    asked = ["q1", "q2", "q6"]
    if answers["q2"] == 1:
        asked += list(CSSRS_ASKED_ONLY_IF_Q2)
    if answers["q6"] == 1:
        asked.append("q6_recent")
    missing = tuple(item_id for item_id in asked if answers[item_id] is None)

    def yes(item_id: str) -> bool:
        return answers[item_id] == 1

    behaviour_recent = yes("q6") and yes("q6_recent")
    behaviour_older = yes("q6") and answers["q6_recent"] == 0
    risk: str | None
    if yes("q4") or yes("q5") or behaviour_recent:
        risk = "high"  # known to be high even if something else is unanswered
    elif missing:
        risk = None
    elif yes("q3") or behaviour_older:
        risk = "moderate"
    elif yes("q1") or yes("q2"):
        risk = "low"
    else:
        risk = "none"
    flags = (CSSRS_RISK_FLAGS[risk],) if risk in CSSRS_RISK_FLAGS else ()
    return Score(
        instrument=instrument.code,
        total=None,
        band=CSSRS_RISK_LABELS[risk] if risk else None,
        complete=not missing,
        missing=missing,
        flags=flags,
        details={"risk": risk},
    )


def score_cadss(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    version, total = answers["version"], answers["total"]
    missing = _missing(instrument, answers)
    if version is not None and total is not None and total > 4 * version:
        raise ScoringError(
            [
                Problem(
                    "total",
                    "out_of_range",
                    f"The {CADSS_VERSIONS[version]} CADSS totals 0–{4 * version}, not {total}.",
                )
            ]
        )
    return Score(
        instrument=instrument.code,
        total=None if missing else total,
        band=None,
        complete=not missing,
        missing=missing,
        details={"version": version, "version_label": CADSS_VERSIONS.get(version or 0)},
    )


SCORERS: dict[str, Callable[[Instrument, Mapping[str, int | None]], Score]] = {
    "phq9": score_phq9,
    "gad7": score_gad7,
    "qids_sr16": score_qids_sr16,
    "pcl5": score_pcl5,
    "ace": _simple_sum,
    "cssrs_screener": score_cssrs,
    "madrs": _simple_sum,
    "bdi2": _simple_sum,
    "cadss": score_cadss,
    "moaas": _simple_sum,
}


def score(code: str, answers: Answers) -> Score:
    """Score one completed (or partly completed) form."""
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise ScoringError(
            [
                Problem(
                    None,
                    "unknown_instrument",
                    f"No instrument {code!r}; known: {', '.join(sorted(INSTRUMENTS))}.",
                )
            ]
        )
    return score_validated(instrument, validate(instrument, answers))


def score_validated(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score answers that `validate` has already returned (every item present, None if blank)."""
    return SCORERS[instrument.code](instrument, answers)


# --- change, response and remission (clinical-facts §6.2) -------------------------------------

RESPONSE_REDUCTION = decimal.Decimal("0.5")  # ≥50% reduction from baseline, every instrument


@dataclass(frozen=True)
class RemissionRule:
    """Remission is at or below `at_most` (PHQ-9 "<5" is "≤4")."""

    at_most: int
    source: str


REMISSION_DEFAULTS: dict[str, RemissionRule] = {
    "phq9": RemissionRule(4, "PHQ-9 <5: SUSTAIN-3 definitions"),
    "qids_sr16": RemissionRule(5, "QIDS-SR16 ≤5: STAR*D convention (Trivedi 2006)"),
    "madrs": RemissionRule(
        12, "MADRS ≤12: esketamine TRANSFORM/SUSTAIN; ≤10 (KetECT) is a practice setting"
    ),
}


@dataclass(frozen=True)
class Change:
    absolute: int
    percent: decimal.Decimal | None  # None when the baseline is 0


def change(baseline: int, current: int) -> Change:
    """Change from baseline; negative means fewer symptoms. Percent is of the baseline."""
    percent = None
    if baseline != 0:
        percent = (decimal.Decimal(current - baseline) * 100 / baseline).quantize(
            decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP
        )
    return Change(absolute=current - baseline, percent=percent)


def is_response(
    baseline: int | None, current: int | None, reduction: decimal.Decimal = RESPONSE_REDUCTION
) -> bool | None:
    """A reduction of at least `reduction` (default 50%) from a non-zero baseline."""
    if baseline is None or current is None or baseline == 0:
        return None
    return (baseline - current) >= reduction * baseline


def practice_remission_rules(madrs_at_most: int) -> dict[str, RemissionRule]:
    """The remission definitions with the practice's MADRS threshold (10 or 12)."""
    source = "MADRS ≤10: KetECT" if madrs_at_most == 10 else REMISSION_DEFAULTS["madrs"].source
    return {**REMISSION_DEFAULTS, "madrs": RemissionRule(madrs_at_most, source)}


def is_remission(
    code: str, total: int | None, rules: Mapping[str, RemissionRule] = REMISSION_DEFAULTS
) -> bool | None:
    """Whether a total is in remission; None where the instrument has no remission definition."""
    rule = rules.get(code)
    if rule is None or total is None:
        return None
    return total <= rule.at_most
