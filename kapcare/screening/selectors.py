"""Reading a client's screening: the records, the rules' inputs built from them, and the live
screen result. A fixed number of queries, whatever the length of the history."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.timezone import localdate

from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.core.time import practice_today
from kapcare.measures.models import Administration
from kapcare.parameters.selectors import Setting, settings_for
from kapcare.safety.models import SafetyFlag, Severity
from kapcare.screening import rules
from kapcare.screening.models import (
    AntidepressantTrial,
    Augmentation,
    BloodPressureReading,
    CurrentMedication,
    EctCourse,
    Episode,
    Laterality,
    PsychotherapyCourse,
    ScreeningAnswers,
    ScreeningDecision,
    ScreeningState,
    TrialOutcome,
)
from kapcare.screening.parameters import ALL_KEYS, CLASS_KEYS

BP_READINGS_SHOWN = 5
WAITING_SHOWN = 20


def screen_parameters(settings: dict[str, Setting]) -> rules.ScreenParameters:
    value = {key: setting.value for key, setting in settings.items()}
    return rules.ScreenParameters(
        classes={key.removeprefix("class."): str(value[key]) for key in CLASS_KEYS},
        bp_hazard=(
            int(value["screen.bp_hazard_systolic"]),
            int(value["screen.bp_hazard_diastolic"]),
        ),
        bp_review=(
            int(value["screen.bp_review_systolic"]),
            int(value["screen.bp_review_diastolic"]),
        ),
        bp_review_systolic_over_65=int(value["screen.bp_review_systolic_over_65"]),
        cardiac_event_months=int(value["screen.cardiac_event_months"]),
        sud_recent_months=int(value["screen.sud_recent_months"]),
        bmi_above=decimal.Decimal(str(value["screen.bmi_above"])),
        min_age=int(value["screen.min_age"]),
        benzodiazepine_lorazepam_mg=decimal.Decimal(
            str(value["screen.benzodiazepine_lorazepam_mg"])
        ),
    )


def trd_parameters(settings: dict[str, Setting]) -> rules.TrdParameters:
    return rules.TrdParameters(
        min_trial_weeks=int(settings["trd.min_trial_weeks"].value),
        failed_trials_for_trd=int(settings["trd.failed_trials_for_trd"].value),
        partial_response_is_failure=settings["trd.partial_response_is_failure"].value == "yes",
    )


def _trial(trial: AntidepressantTrial) -> rules.Trial:
    medication = trial.medication
    drug = rules.Drug(
        key=f"catalogue:{medication.pk}" if medication else f"text:{trial.drug_text.lower()}",
        name=trial.drug_name,
        verified=medication is not None,
        is_antidepressant=bool(medication and medication.is_antidepressant),
        drug_class=medication.antidepressant_class if medication else "",
        min_daily_mg=medication.min_adequate_daily_dose_mg if medication else None,
    )
    return rules.Trial(
        ref=str(trial.public_id),
        drug=drug,
        max_daily_mg=trial.max_daily_dose_mg,
        started_on=trial.started_on,
        ended_on=trial.ended_on,
        adherence=trial.adherence,
        outcome=trial.outcome,
    )


def _treatment(item: Augmentation | EctCourse) -> rules.Treatment:
    return rules.Treatment(
        started_on=item.started_on,
        ended_on=item.ended_on,
        bilateral=isinstance(item, EctCourse) and item.laterality == Laterality.BILATERAL,
        outcome=item.outcome,
    )


@dataclass(frozen=True)
class SeveritySource:
    severity: str | None
    explanation: str


@dataclass
class Screening:
    client: Client
    today: dt.date
    settings: dict[str, Setting]
    episode: Episode | None
    trials: list[AntidepressantTrial]
    augmentations: list[Augmentation]
    ect_courses: list[EctCourse]
    psychotherapy: list[PsychotherapyCourse]
    medications: list[CurrentMedication]
    bp_readings: list[BloodPressureReading]
    answers: dict[str, str]
    resistance: rules.Resistance
    msm: rules.Msm
    msm_severity: SeveritySource
    thase_rush: tuple[int, str]
    trauma: rules.TraumaProfile
    result: rules.ScreenResult
    decisions: list[ScreeningDecision]

    @property
    def decision(self) -> ScreeningDecision | None:
        return self.decisions[0] if self.decisions else None

    @property
    def trial_assessments(self) -> dict[str, rules.TrialAssessment]:
        return {item.trial.ref: item for item in self.resistance.trials}

    @property
    def clearance_valid(self) -> bool:
        """Cleared by a prescriber, not invalidated, and the live screen still matches what they
        cleared (facts that change with time alone, such as age or recency, count too)."""
        decision = self.decision
        return bool(
            decision
            and decision.is_clearance
            and decision.invalidated_at is None
            and decision.screen_run.signature == self.result.signature()
        )

    @property
    def parameter_versions(self) -> dict[str, int]:
        return {key: setting.version for key, setting in self.settings.items()}


def _latest(client: Client, *instruments: str) -> Administration | None:
    """The client's latest scored administration of any of these instruments."""
    return (
        Administration.objects.current()
        .filter(client=client, instrument__in=instruments, total__isnull=False)
        .order_by("-completed_at", "-id")
        .first()
    )


def _latest_of(administrations: Sequence[Administration], instrument: str) -> Administration | None:
    """The same as `_latest`, from the client's current administrations already read."""
    scored = [a for a in administrations if a.instrument == instrument and a.total is not None]
    return max(scored, key=lambda a: (a.completed_at, a.id), default=None)


def trauma_profile(
    client: Client,
    cutpoint: int | None = None,
    administrations: Sequence[Administration] | None = None,
) -> rules.TraumaProfile:
    """The latest PCL-5 and ACE, and whether the PCL-5 marks the plan trauma-focused; from
    `administrations` (the client's current ones, with their details) when the caller has them."""
    if cutpoint is None:
        key = "trauma.pcl5_cutpoint"
        cutpoint = int(settings_for([key])[key].value)
    if administrations is None:
        pcl5, ace = _latest(client, "pcl5"), _latest(client, "ace")
    else:
        pcl5, ace = _latest_of(administrations, "pcl5"), _latest_of(administrations, "ace")
    return rules.TraumaProfile(
        pcl5_total=pcl5.total if pcl5 else None,
        pcl5_on=localdate(pcl5.completed_at) if pcl5 else None,
        pcl5_provisional_ptsd=pcl5.details.get("provisional_ptsd") if pcl5 else None,
        ace_total=ace.total if ace else None,
        ace_on=localdate(ace.completed_at) if ace else None,
        cutpoint=cutpoint,
    )


def screening_for(client: Client, today: dt.date | None = None) -> Screening:
    today = today or practice_today()
    settings = settings_for(ALL_KEYS)
    episode = client.episodes.order_by("-started_on", "-id").first()
    trials = list(
        client.antidepressant_trials.filter(removed_at__isnull=True).select_related("medication")
    )
    augmentations = list(
        client.augmentations.filter(removed_at__isnull=True).select_related("medication")
    )
    ect_courses = list(client.ect_courses.filter(removed_at__isnull=True))
    psychotherapy = list(client.psychotherapy_courses.filter(removed_at__isnull=True))
    medications = list(
        client.current_medications.filter(stopped_on__isnull=True).select_related("medication")
    )
    bp_readings = list(client.bp_readings.select_related("taken_by")[:BP_READINGS_SHOWN])
    answers_row = ScreeningAnswers.objects.filter(client=client).first()
    answers: dict[str, str] = dict(answers_row.answers) if answers_row else {}
    episode_start = episode.started_on if episode else None

    resistance = rules.resistance(
        [_trial(trial) for trial in trials], episode_start, today, trd_parameters(settings)
    )
    treatments: list[Augmentation | EctCourse] = [*augmentations, *ect_courses]
    in_episode = [
        item
        for item in treatments
        if rules.overlaps_episode(_treatment(item), episode_start, today)
    ]
    used_augmentation = any(isinstance(item, Augmentation) for item in in_episode)
    used_ect = any(isinstance(item, EctCourse) for item in in_episode)
    bilateral_failed = any(
        isinstance(item, EctCourse)
        and item.laterality == Laterality.BILATERAL
        and item.outcome in (TrialOutcome.NON_RESPONSE, TrialOutcome.PARTIAL)
        for item in in_episode
    )
    if episode is not None and episode.severity:
        severity = SeveritySource(
            episode.severity,
            f"The clinician's rating on the episode: {episode.get_severity_display()}.",
        )
    else:
        severity = _msm_severity(
            client, answers, str(settings["msm.moderately_severe_maps_to"].value)
        )
    msm = rules.maudsley(
        episode_months=rules.months_between(episode_start, today) if episode_start else None,
        severity=severity.severity,
        failures=resistance.failures,
        augmentation=used_augmentation,
        ect=used_ect,
    )
    thase_rush = rules.thase_rush(
        [drug.drug_class for drug in resistance.failed_drugs], bilateral_failed
    )
    trauma = trauma_profile(client, int(settings["trauma.pcl5_cutpoint"].value))
    latest_weight = client.weights.order_by("-measured_on", "-id").first()
    latest_bp = bp_readings[0] if bp_readings else None
    open_high = SafetyFlag.objects.open().filter(client=client, severity=Severity.HIGH).exists()
    latest_risk = client.risk_assessments.order_by("-assessed_at", "-id").first()
    inputs = rules.ScreenInputs(
        answers=answers,
        age=client.age_on(today),
        weight_kg=latest_weight.weight_kg if latest_weight else None,
        blood_pressure=rules.BloodPressure(
            systolic=latest_bp.systolic,
            diastolic=latest_bp.diastolic,
            taken_on=localdate(latest_bp.taken_at),
        )
        if latest_bp
        else None,
        medications=tuple(
            rules.CurrentDrug(
                name=item.drug_name,
                verified=item.medication is not None,
                categories=tuple(item.medication.interaction_categories) if item.medication else (),
                daily_mg=item.daily_mg,
                lorazepam_equivalent_mg=item.medication.lorazepam_equivalent_mg
                if item.medication
                else None,
            )
            for item in medications
        ),
        resistance=resistance,
        open_high_risk_flag=open_high,
        latest_risk_level=latest_risk.risk_level if latest_risk else None,
    )
    result = rules.screen(inputs, screen_parameters(settings), today)
    decisions = list(
        client.screening_decisions.select_related("screen_run", "decided_by").order_by("-version")
    )
    return Screening(
        client=client,
        today=today,
        settings=settings,
        episode=episode,
        trials=trials,
        augmentations=augmentations,
        ect_courses=ect_courses,
        psychotherapy=psychotherapy,
        medications=medications,
        bp_readings=bp_readings,
        answers=answers,
        resistance=resistance,
        msm=msm,
        msm_severity=severity,
        thase_rush=thase_rush,
        trauma=trauma,
        result=result,
        decisions=decisions,
    )


def _msm_severity(
    client: Client, answers: dict[str, str], moderately_severe: str
) -> SeveritySource:
    latest = _latest(client, "phq9", "madrs")
    if latest is None:
        return SeveritySource(None, "No PHQ-9 or MADRS score yet.")
    psychotic = answers.get("psychotic_features_current") == "yes"
    severity = rules.msm_severity_from_band(
        latest.instrument, latest.band, psychotic, moderately_severe
    )
    name = "PHQ-9" if latest.instrument == "phq9" else "MADRS"
    when = localdate(latest.completed_at)
    explanation = f"From the latest {name}: {latest.total} ({latest.band}) on {when:%Y-%m-%d}"
    if psychotic and severity == "severe_psychotic":
        explanation += ", with psychotic features"
    return SeveritySource(severity, explanation + ".")


@dataclass(frozen=True)
class Waiting:
    client: Client
    status: str
    status_label: str
    withdrawn_reason: str  # "" when the screen simply has no decision for its latest result


def decisions_waiting(user: Any) -> list[Waiting]:
    """For a prescriber: clients they may see whose clearance was withdrawn, or whose latest
    complete screen result has no decision yet (kept in ScreeningState by the services). One
    query, whatever the number of clients."""
    states = (
        ScreeningState.objects.filter(awaiting_decision=True, client__in=visible_clients(user))
        .select_related("client")
        .order_by("-run_at")[:WAITING_SHOWN]
    )
    return [
        Waiting(
            client=state.client,
            status=state.status,
            status_label=rules.RESULT_LABELS.get(state.status, ""),
            withdrawn_reason=state.withdrawn_reason,
        )
        for state in states
    ]
