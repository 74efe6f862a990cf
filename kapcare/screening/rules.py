"""Eligibility rules as pure functions over plain values (no ORM, no clock: pass `today`).

Sources: clinical-facts §1 (treatment resistance, adequacy, staging), §3 (contraindications and
cautions) and §4 (interactions). Every number arrives as a parameter (kapcare.screening.parameters)
so that the practice's signed-off values, not constants, decide.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kapcare.medications.interactions import CATEGORIES
from kapcare.screening import questions
from kapcare.screening.parameters import FINDING_RULES

ABSOLUTE, RELATIVE, PROMPT = "absolute", "relative", "prompt"
CLASS_ORDER = (ABSOLUTE, RELATIVE, PROMPT)

ELIGIBLE = "eligible"
NEEDS_REVIEW = "needs_review"
NOT_ELIGIBLE = "not_eligible"
INCOMPLETE = "incomplete"
RESULT_LABELS = {
    ELIGIBLE: "Eligible",
    NEEDS_REVIEW: "Needs prescriber review",
    NOT_ELIGIBLE: "Not eligible",
    INCOMPLETE: "Incomplete",
}

NON_RESPONSE, PARTIAL, INTOLERANCE, ONGOING, RESPONSE = (
    "non_response",
    "partial_response",
    "intolerance",
    "ongoing",
    "response",
)
POOR_ADHERENCE = "poor"


# ---------------------------------------------------------------------------------------------
# Antidepressant trials and treatment resistance (clinical-facts §1.1, §1.2)


@dataclass(frozen=True)
class Drug:
    key: str  # what makes two trials "the same drug": the catalogue id, or the free text
    name: str
    verified: bool  # from the catalogue; free-text entries are not
    is_antidepressant: bool
    drug_class: str  # ssri, snri, tca, maoi, atypical, modulator, other; "" if unknown
    min_daily_mg: decimal.Decimal | None


@dataclass(frozen=True)
class Trial:
    ref: str
    drug: Drug
    max_daily_mg: decimal.Decimal
    started_on: dt.date
    ended_on: dt.date | None
    adherence: str  # good, partial, poor, unknown
    outcome: str


@dataclass(frozen=True)
class TrdParameters:
    min_trial_weeks: int
    failed_trials_for_trd: int
    partial_response_is_failure: bool


@dataclass(frozen=True)
class TrialAssessment:
    trial: Trial
    in_episode: bool
    days_in_episode: int
    adequate: bool
    failed: bool  # an adequate trial that did not work: counts toward resistance
    reasons: tuple[str, ...]


def assess_trial(
    trial: Trial, episode_start: dt.date | None, today: dt.date, params: TrdParameters
) -> TrialAssessment:
    """Is this trial adequate, and did it fail, in the current episode?

    Adequate: a verified antidepressant, the maximum daily dose at or above the drug's minimum
    adequate dose, at least `min_trial_weeks` inside the current episode, adherence not poor.
    Failed: adequate, and ended in non-response (or partial response, when the practice counts
    it). Intolerance is recorded but never a failure (clinical-facts §1.1)."""
    reasons: list[str] = []
    end = min(trial.ended_on or today, today)
    start = max(trial.started_on, episode_start) if episode_start else trial.started_on
    in_episode = episode_start is not None and end >= episode_start
    days = max((end - start).days, 0) if in_episode else 0
    adequate = True
    if episode_start is None:
        adequate = False
        reasons.append("No current episode start is recorded.")
    elif not in_episode:
        adequate = False
        reasons.append("Ended before the current episode began.")
    if not trial.drug.verified:
        adequate = False
        reasons.append("Drug not in the catalogue (unverified): never counted as adequate.")
    elif not trial.drug.is_antidepressant:
        adequate = False
        reasons.append(f"{trial.drug.name} is not an antidepressant in the catalogue.")
    elif trial.drug.min_daily_mg is None:
        adequate = False
        reasons.append(f"No minimum adequate dose is set for {trial.drug.name} in the catalogue.")
    elif trial.max_daily_mg < trial.drug.min_daily_mg:
        adequate = False
        reasons.append(
            f"Dose {_mg(trial.max_daily_mg)} mg/day is below the minimum adequate "
            f"{_mg(trial.drug.min_daily_mg)} mg/day."
        )
    if in_episode and days < params.min_trial_weeks * 7:
        adequate = False
        reasons.append(
            f"{_weeks(days)} in the current episode; an adequate trial needs "
            f"{params.min_trial_weeks} weeks."
        )
    if trial.adherence == POOR_ADHERENCE:
        adequate = False
        reasons.append("Adherence was poor.")
    failure_outcomes = {NON_RESPONSE} | ({PARTIAL} if params.partial_response_is_failure else set())
    failed = adequate and trial.outcome in failure_outcomes
    if trial.outcome == INTOLERANCE:
        reasons.append("Stopped for intolerance: recorded, not counted as a failure.")
    elif trial.outcome == ONGOING:
        reasons.append("Ongoing: not a failure yet.")
    elif trial.outcome == RESPONSE:
        reasons.append("Responded: not a failure.")
    elif trial.outcome == PARTIAL and not params.partial_response_is_failure:
        reasons.append("Partial response: the practice counts only non-response as failure.")
    if adequate and failed:
        reasons.insert(0, "Adequate trial that failed.")
    elif adequate:
        reasons.insert(0, "Adequate trial.")
    if adequate and trial.adherence == "unknown":
        reasons.append("Adherence not confirmed.")
    return TrialAssessment(
        trial=trial,
        in_episode=in_episode,
        days_in_episode=days,
        adequate=adequate,
        failed=failed,
        reasons=tuple(reasons),
    )


def _mg(value: decimal.Decimal) -> str:
    return f"{value.normalize():f}"


def _weeks(days: int) -> str:
    weeks, rest = divmod(days, 7)
    return f"{weeks} weeks" + (f" {rest} days" if rest else "")


@dataclass(frozen=True)
class Treatment:
    """An augmentation or an ECT course: counted when it overlaps the current episode."""

    started_on: dt.date
    ended_on: dt.date | None
    bilateral: bool = False
    outcome: str = ""


def overlaps_episode(treatment: Treatment, episode_start: dt.date | None, today: dt.date) -> bool:
    if episode_start is None:
        return False
    return min(treatment.ended_on or today, today) >= episode_start


@dataclass(frozen=True)
class Resistance:
    trials: tuple[TrialAssessment, ...]
    failed_drugs: tuple[Drug, ...]  # distinct drugs with a failed adequate trial
    failures: int
    is_trd: bool
    needed: int


def resistance(
    trials: Sequence[Trial], episode_start: dt.date | None, today: dt.date, params: TrdParameters
) -> Resistance:
    """Failed adequate trials in the current episode, counted once per drug (≥2 *different*
    antidepressants, clinical-facts §1.1). Overlapping trials of different drugs each count."""
    assessed = tuple(
        assess_trial(trial, episode_start, today, params)
        for trial in sorted(trials, key=lambda t: (t.started_on, t.ref))
    )
    failed: dict[str, Drug] = {}
    for item in assessed:
        if item.failed:
            failed.setdefault(item.trial.drug.key, item.trial.drug)
    count = len(failed)
    return Resistance(
        trials=assessed,
        failed_drugs=tuple(failed.values()),
        failures=count,
        is_trd=count >= params.failed_trials_for_trd,
        needed=params.failed_trials_for_trd,
    )


# ---------------------------------------------------------------------------------------------
# Maudsley Staging Method (clinical-facts §1.4; Fekadu 2009, BMC Psychiatry 2018 table 3)

MSM_SEVERITY_POINTS = {
    "subsyndromal": 1,
    "mild": 2,
    "moderate": 3,
    "severe": 4,
    "severe_psychotic": 5,
}
MSM_SEVERITY_LABELS = {
    "subsyndromal": "Subsyndromal",
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe without psychosis",
    "severe_psychotic": "Severe with psychosis",
}
# Instrument band (as labelled in kapcare.measures.instruments) -> MSM severity.
_BAND_TO_MSM = {
    "phq9": {
        "None–minimal": "subsyndromal",
        "Mild": "mild",
        "Moderate": "moderate",
        "Severe": "severe",
    },
    "madrs": {"Absent": "subsyndromal", "Mild": "mild", "Moderate": "moderate", "Severe": "severe"},
}


def msm_severity_from_band(
    instrument: str, band: str, psychotic: bool, moderately_severe_maps_to: str
) -> str | None:
    """The MSM severity suggested by the latest PHQ-9 or MADRS band. PHQ-9 'moderately severe'
    has no MSM twin; the practice parameter decides. Psychotic features make 'severe' 5 points."""
    if instrument == "phq9" and band == "Moderately severe":
        severity: str | None = moderately_severe_maps_to
    else:
        severity = _BAND_TO_MSM.get(instrument, {}).get(band)
    if severity == "severe" and psychotic:
        return "severe_psychotic"
    return severity


def months_between(start: dt.date, end: dt.date) -> int:
    """Completed calendar months from start to end (0 if end is before start)."""
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def msm_duration_points(months: int) -> int:
    """Acute ≤12 months = 1; sub-acute 13–24 = 2; chronic >24 = 3 (BMC 2018 wording)."""
    if months <= 12:
        return 1
    if months <= 24:
        return 2
    return 3


def msm_failure_points(failures: int) -> int:
    """1–2 medications = 1; 3–4 = 2; 5–6 = 3; 7–10 = 4; >10 = 5."""
    if failures < 1:
        raise ValueError("the MSM applies from one failed trial")
    if failures <= 2:
        return 1
    if failures <= 4:
        return 2
    if failures <= 6:
        return 3
    if failures <= 10:
        return 4
    return 5


def msm_band(total: int) -> str:
    """Mild 3–6, Moderate 7–10, Severe 11–15."""
    if not 3 <= total <= 15:
        raise ValueError(f"MSM total {total} outside 3–15")
    if total <= 6:
        return "Mild"
    if total <= 10:
        return "Moderate"
    return "Severe"


@dataclass(frozen=True)
class Msm:
    total: int | None
    band: str | None
    parts: tuple[tuple[str, str, int], ...]  # (dimension, category, points)
    missing: tuple[str, ...]


def maudsley(
    *,
    episode_months: int | None,
    severity: str | None,
    failures: int,
    augmentation: bool,
    ect: bool,
) -> Msm:
    parts: list[tuple[str, str, int]] = []
    missing: list[str] = []
    if episode_months is None:
        missing.append("the start of the current episode")
    else:
        points = msm_duration_points(episode_months)
        label = {1: "Acute (≤12 months)", 2: "Sub-acute (13–24 months)", 3: "Chronic (>24 months)"}
        parts.append(("Duration", f"{label[points]}: {episode_months} months", points))
    if severity is None:
        missing.append("a severity (a PHQ-9 or MADRS score, or the clinician's rating)")
    else:
        parts.append(("Severity", MSM_SEVERITY_LABELS[severity], MSM_SEVERITY_POINTS[severity]))
    if failures < 1:
        missing.append("at least one failed adequate antidepressant trial")
    else:
        parts.append(
            ("Antidepressant failures", f"{failures} failed", msm_failure_points(failures))
        )
    parts.append(("Augmentation", "Used" if augmentation else "Not used", int(augmentation)))
    parts.append(("ECT", "Used" if ect else "Not used", int(ect)))
    if missing:
        return Msm(total=None, band=None, parts=tuple(parts), missing=tuple(missing))
    total = sum(points for _, _, points in parts)
    return Msm(total=total, band=msm_band(total), parts=tuple(parts), missing=())


# ---------------------------------------------------------------------------------------------
# Thase–Rush staging (clinical-facts §1.4)


def thase_rush(failed_classes: Sequence[str], bilateral_ect_failed: bool) -> tuple[int, str]:
    """Stage 0–V from the classes of failed adequate trials.

    kapcare's reading of the cumulative stages: each stage needs the trials of the stage below
    *plus* its own. II = failures in two different classes; III = II reached without the TCA
    trial, plus a failed TCA; IV = III reached without the MAOI trial, plus a failed MAOI;
    V = IV plus a failed course of bilateral ECT. The model ignores augmentation and leaves
    "adequate" to the adequacy rule (known limitations, clinical-facts §1.4)."""
    classes = set(failed_classes)
    if not classes:
        return 0, "No failed adequate trial"
    stage, text = 1, "Failed an adequate trial of one class"
    if len(classes) >= 2:
        stage, text = 2, "Failed adequate trials of two different classes"
    if "tca" in classes and len(classes - {"tca"}) >= 2:
        stage, text = 3, "Stage II plus a failed adequate TCA trial"
        if "maoi" in classes and len(classes - {"tca", "maoi"}) >= 2:
            stage, text = 4, "Stage III plus a failed adequate MAOI trial"
            if bilateral_ect_failed:
                stage, text = 5, "Stage IV plus a failed course of bilateral ECT"
    return stage, text


# ---------------------------------------------------------------------------------------------
# Contraindications, cautions and interactions (clinical-facts §3, §4)


@dataclass(frozen=True)
class Finding:
    code: str
    klass: str
    title: str
    reason: str
    source: str

    def signature(self) -> tuple[str, str, str]:
        return (self.code, self.klass, self.reason)


@dataclass(frozen=True)
class CurrentDrug:
    name: str
    verified: bool
    categories: tuple[str, ...]
    daily_mg: decimal.Decimal | None  # None when the total per day is unknown (as needed...)
    lorazepam_equivalent_mg: decimal.Decimal | None


@dataclass(frozen=True)
class BloodPressure:
    systolic: int
    diastolic: int
    taken_on: dt.date


@dataclass(frozen=True)
class ScreenParameters:
    classes: Mapping[str, str]  # finding code (or "interaction.<category>") -> class
    bp_hazard: tuple[int, int]
    bp_review: tuple[int, int]
    bp_review_systolic_over_65: int
    cardiac_event_months: int
    sud_recent_months: int
    bmi_above: decimal.Decimal
    min_age: int
    benzodiazepine_lorazepam_mg: decimal.Decimal


@dataclass(frozen=True)
class RuleText:
    title: str
    source: str
    effect: str = ""


RULES: dict[str, RuleText] = {
    code: RuleText(title=title, source=source) for code, (title, _, source) in FINDING_RULES.items()
} | {
    f"interaction.{category.code}": RuleText(
        title=category.label, source=category.source, effect=category.effect
    )
    for category in CATEGORIES
}


@dataclass(frozen=True)
class ScreenInputs:
    answers: questions.Answers
    age: int
    weight_kg: decimal.Decimal | None
    blood_pressure: BloodPressure | None
    medications: tuple[CurrentDrug, ...]
    resistance: Resistance | None
    open_high_risk_flag: bool = False
    latest_risk_level: str | None = None


@dataclass(frozen=True)
class ScreenResult:
    status: str
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]
    bmi: decimal.Decimal | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return RESULT_LABELS[self.status]

    def signature(self) -> str:
        """What a clearance was given against: the result and every finding with its reason."""
        payload = {
            "status": self.status,
            "findings": sorted(f.signature() for f in self.findings),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def bmi(weight_kg: decimal.Decimal, height_cm: decimal.Decimal) -> decimal.Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(decimal.Decimal("0.1"))


def screen(inputs: ScreenInputs, params: ScreenParameters, today: dt.date) -> ScreenResult:
    """Every finding with its class, reason and source, and the result they add up to.

    Not eligible: any absolute finding. Incomplete: a question unanswered or a required fact
    missing (and nothing absolute). Needs prescriber review: any relative finding. Eligible:
    none of those. Prompts never change the result; they are shown to the prescriber."""
    answers = inputs.answers
    findings: list[Finding] = []

    def add(code: str, reason: str) -> None:
        rule = RULES[code]
        findings.append(
            Finding(
                code=code,
                klass=params.classes[code],
                title=rule.title,
                reason=reason,
                source=rule.source,
            )
        )

    def yes(code: str) -> bool:
        return answers.get(code) == "yes"

    simple_yes = {
        "aneurysm_avm": "Recorded on the screening questions.",
        "intracerebral_haemorrhage": "Recorded on the screening questions.",
        "hypersensitivity": "Recorded on the screening questions.",
        "hyperthyroidism": "Recorded on the screening questions.",
        "preeclampsia": "Recorded on the screening questions.",
        "stroke_tia": "Recorded on the screening questions.",
        "raised_icp": "Recorded on the screening questions.",
        "raised_iop": "Recorded on the screening questions.",
        "breastfeeding": "Recorded on the screening questions.",
        "psychosis": "Recorded on the screening questions.",
        "psychosis_family": "Recorded on the screening questions.",
        "bipolar": "Recorded on the screening questions.",
        "mania_current": "Recorded on the screening questions.",
        "ketamine_misuse": "Recorded on the screening questions.",
        "bladder": "Recorded on the screening questions.",
        "personality_disorder": "Recorded on the screening questions.",
    }
    for code, reason in simple_yes.items():
        if yes(code):
            add(code, reason)
    if answers.get("hypertension") == "uncontrolled":
        add("hypertension_uncontrolled", "Hypertension recorded as uncontrolled.")
    if answers.get("pregnancy") in ("yes", "possible"):
        add(
            "pregnancy",
            "Recorded as pregnant."
            if answers["pregnancy"] == "yes"
            else "Recorded as possibly pregnant: confirm with a test.",
        )
    hepatic = answers.get("hepatic")
    if hepatic == "severe":
        add("hepatic_severe", "Recorded as severe (Child-Pugh C).")
    elif hepatic == "moderate":
        add("hepatic_moderate", "Recorded as moderate: plan longer monitoring.")
    sud = answers.get("sud")
    if sud == "current":
        add("sud_recent", "Recorded as current.")
    elif sud == "past" and answers.get("sud_last_use"):
        last = dt.date.fromisoformat(answers["sud_last_use"])
        months = months_between(last, today)
        if months < params.sud_recent_months:
            add(
                "sud_recent",
                f"Last use {last.isoformat()}, within {params.sud_recent_months} months.",
            )
        else:
            add("sud_past", f"In remission; last use {last.isoformat()} ({months} months ago).")
    if yes("cardiac_event") and answers.get("cardiac_event_on"):
        when = dt.date.fromisoformat(answers["cardiac_event_on"])
        months = months_between(when, today)
        if months < params.cardiac_event_months:
            add(
                "cardiac_recent",
                f"Most recent event {when.isoformat()}, within {params.cardiac_event_months} "
                "months.",
            )
        else:
            add("cardiac_past", f"Most recent event {when.isoformat()} ({months} months ago).")
    risk_reasons = []
    if yes("suicide_plan_intent"):
        risk_reasons.append("suicidal ideation with a plan or intent recorded")
    if inputs.open_high_risk_flag:
        risk_reasons.append("an open high-risk safety flag")
    if inputs.latest_risk_level == "high":
        risk_reasons.append("the latest risk assessment is high")
    if risk_reasons:
        add("suicide_risk", "; ".join(risk_reasons).capitalize() + ".")

    bp = inputs.blood_pressure
    missing = [question.text for question in questions.unanswered(answers)]
    if bp is None:
        missing.append("An intake blood pressure reading")
    else:
        reading = f"{bp.systolic}/{bp.diastolic} on {bp.taken_on.isoformat()}"
        hazard_s, hazard_d = params.bp_hazard
        review_s, review_d = params.bp_review
        if inputs.age > 65:
            review_s = params.bp_review_systolic_over_65
        if bp.systolic > hazard_s or bp.diastolic > hazard_d:
            add("bp_hazard", f"Latest reading {reading} is above {hazard_s}/{hazard_d}.")
        elif bp.systolic > review_s or bp.diastolic > review_d:
            over = " (age over 65)" if inputs.age > 65 else ""
            add("bp_high", f"Latest reading {reading} is above {review_s}/{review_d}{over}.")

    if inputs.age < params.min_age:
        add("age", f"Age {inputs.age}, below {params.min_age}.")
    body_mass = None
    height = answers.get("height_cm")
    if height and inputs.weight_kg is not None:
        body_mass = bmi(inputs.weight_kg, decimal.Decimal(height))
        if body_mass > params.bmi_above:
            add("bmi", f"BMI {body_mass} is above {params.bmi_above}.")
    elif height:
        missing.append("A weight on the chart (for the BMI)")

    resistance_result = inputs.resistance
    if resistance_result is not None and not resistance_result.is_trd:
        add(
            "not_trd",
            f"{resistance_result.failures} failed adequate antidepressant trial"
            f"{'' if resistance_result.failures == 1 else 's'} in the current episode; "
            f"{resistance_result.needed} needed.",
        )

    by_category: dict[str, list[str]] = {}
    benzodiazepine_total = decimal.Decimal(0)
    benzodiazepine_unknown: list[str] = []
    for drug in inputs.medications:
        if not drug.verified:
            add("unverified_medication", f"{drug.name}: check interactions by hand.")
            continue
        for category in drug.categories:
            by_category.setdefault(category, []).append(drug.name)
        if "benzodiazepine" in drug.categories:
            if drug.daily_mg is None or drug.lorazepam_equivalent_mg is None:
                benzodiazepine_unknown.append(drug.name)
            else:
                benzodiazepine_total += drug.daily_mg / drug.lorazepam_equivalent_mg
    for category, names in by_category.items():
        code = f"interaction.{category}"
        add(code, f"{', '.join(names)}: {RULES[code].effect}")
    if benzodiazepine_total > params.benzodiazepine_lorazepam_mg:
        add(
            "benzodiazepine_dose",
            f"{benzodiazepine_total.quantize(decimal.Decimal('0.1'))} mg lorazepam-equivalent a "
            f"day, above {params.benzodiazepine_lorazepam_mg}.",
        )
    elif benzodiazepine_unknown:
        add(
            "benzodiazepine_dose_unknown",
            f"Daily lorazepam-equivalent dose unknown for {', '.join(benzodiazepine_unknown)}: "
            f"check it against {params.benzodiazepine_lorazepam_mg} mg.",
        )

    ordered = tuple(sorted(findings, key=lambda f: (CLASS_ORDER.index(f.klass), f.code)))
    classes = {finding.klass for finding in ordered}
    if ABSOLUTE in classes:
        status = NOT_ELIGIBLE
    elif missing:
        status = INCOMPLETE
    elif RELATIVE in classes:
        status = NEEDS_REVIEW
    else:
        status = ELIGIBLE
    return ScreenResult(status=status, findings=ordered, missing=tuple(missing), bmi=body_mass)


# ---------------------------------------------------------------------------------------------
# Trauma profile (clinical-facts §6.1)


@dataclass(frozen=True)
class TraumaProfile:
    pcl5_total: int | None
    pcl5_on: dt.date | None
    pcl5_provisional_ptsd: bool | None
    ace_total: int | None
    ace_on: dt.date | None
    cutpoint: int

    @property
    def trauma_focused(self) -> bool:
        """A PCL-5 total at or above the practice's cut-point marks the plan trauma-focused.
        The ACE score is shown but drives nothing: it is not diagnostic for one person
        (Anda et al. 2020, clinical-facts §6.1)."""
        return self.pcl5_total is not None and self.pcl5_total >= self.cutpoint
