"""A client's screening in the JSON API: the live screen result, the treatment history, current
medications, intake blood pressure, the contraindication answers and prescribers' decisions; and
two practice-wide reads, the medication catalogue and the rule parameters in force.

Everything about a client goes through the access getter: reads that show the record through
open_chart (audited), writes through access_client(write=True) and the screening services, which
validate, audit and run the screen again. Each history kind has its own fixed routes (with its
own input schema), so every concrete URL is listed in the URL configuration and tried by the
outsider sweep.

(No `from __future__ import annotations` here: the history routes are made in a loop, and
django-ninja must see each kind's input schema as a real type, not as a name to look up.)
"""

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.api_schemas import StrictSchema
from kapcare.core.forms import field_error
from kapcare.core.time import practice_today
from kapcare.medications.models import Medication
from kapcare.parameters import registry
from kapcare.parameters.selectors import settings_for
from kapcare.screening import questions, services
from kapcare.screening.models import (
    AntidepressantTrial,
    Augmentation,
    BloodPressureReading,
    CurrentMedication,
    EctCourse,
    Episode,
    HistoryItem,
    PsychotherapyCourse,
    ScreeningAnswers,
    ScreeningDecision,
)
from kapcare.screening.selectors import screening_for

router = Router(tags=["screening"])

SCREENING = "/clients/{client_id}/screening"


# ---------------------------------------------------------------------------------------------
# The live screen


class FindingOut(Schema):
    code: str
    klass: str = Field(..., alias="class")
    title: str
    reason: str
    source: str


class TrialAssessmentOut(Schema):
    trial_id: str
    drug: str
    verified: bool
    in_episode: bool
    days_in_episode: int
    adequate: bool
    failed: bool
    reasons: list[str]


class ResistanceOut(Schema):
    failures: int
    needed: int
    is_trd: bool
    trials: list[TrialAssessmentOut]


class MsmPartOut(Schema):
    dimension: str
    category: str
    points: int


class MsmOut(Schema):
    total: int | None
    band: str | None
    parts: list[MsmPartOut]
    missing: list[str]
    severity_source: str


class ThaseRushOut(Schema):
    stage: int
    text: str


class TraumaOut(Schema):
    pcl5_total: int | None
    pcl5_on: dt.date | None
    pcl5_provisional_ptsd: bool | None
    ace_total: int | None
    ace_on: dt.date | None
    cutpoint: int
    trauma_focused: bool


class EpisodeOut(Schema):
    id: uuid.UUID
    started_on: dt.date
    severity: str
    note: str
    recorded_at: dt.datetime
    recorded_by: str


class DecisionOut(Schema):
    id: uuid.UUID
    version: int
    decision: str
    conditions: str
    note: str
    decided_by: str
    decided_at: dt.datetime
    invalidated_at: dt.datetime | None
    invalidation_reason: str
    screen_run_status: str


class ScreeningOut(Schema):
    status: str
    label: str
    signature: str
    findings: list[FindingOut]
    missing: list[str]
    bmi: decimal.Decimal | None
    episode: EpisodeOut | None
    treatment_resistance: ResistanceOut
    msm: MsmOut
    thase_rush: ThaseRushOut
    trauma: TraumaOut
    answers: dict[str, str]
    clearance_valid: bool
    decisions: list[DecisionOut]


def _staff_name(user: User | None) -> str:
    return str(user) if user is not None else ""


def episode_out(episode: Episode) -> dict[str, Any]:
    return {
        "id": episode.public_id,
        "started_on": episode.started_on,
        "severity": episode.severity,
        "note": episode.note,
        "recorded_at": episode.created_at,
        "recorded_by": _staff_name(episode.created_by),
    }


def decision_out(decision: ScreeningDecision) -> dict[str, Any]:
    return {
        "id": decision.public_id,
        "version": decision.version,
        "decision": decision.decision,
        "conditions": decision.conditions,
        "note": decision.note,
        "decided_by": _staff_name(decision.decided_by),
        "decided_at": decision.decided_at,
        "invalidated_at": decision.invalidated_at,
        "invalidation_reason": decision.invalidation_reason,
        "screen_run_status": decision.screen_run.status,
    }


@router.get(
    SCREENING,
    response=ScreeningOut,
    by_alias=True,
    summary="The live screen: result, findings, treatment resistance, staging, decisions",
)
def read_screening(request: HttpRequest, client_id: uuid.UUID) -> dict[str, Any]:
    client = open_chart(api_caller(request), client_id, view="api.screening")
    screening = screening_for(client)
    result = screening.result
    resistance = screening.resistance
    msm = screening.msm
    trauma = screening.trauma
    episode = screening.episode
    if episode is not None:
        # The selector reads the episode alone; its author is shown here.
        episode = Episode.objects.select_related("created_by").get(pk=episode.pk)
    return {
        "status": result.status,
        "label": result.label,
        "signature": result.signature(),
        "findings": [
            {
                "code": f.code,
                "class": f.klass,
                "title": f.title,
                "reason": f.reason,
                "source": f.source,
            }
            for f in result.findings
        ],
        "missing": list(result.missing),
        "bmi": result.bmi,
        "episode": episode_out(episode) if episode else None,
        "treatment_resistance": {
            "failures": resistance.failures,
            "needed": resistance.needed,
            "is_trd": resistance.is_trd,
            "trials": [
                {
                    "trial_id": item.trial.ref,
                    "drug": item.trial.drug.name,
                    "verified": item.trial.drug.verified,
                    "in_episode": item.in_episode,
                    "days_in_episode": item.days_in_episode,
                    "adequate": item.adequate,
                    "failed": item.failed,
                    "reasons": list(item.reasons),
                }
                for item in resistance.trials
            ],
        },
        "msm": {
            "total": msm.total,
            "band": msm.band,
            "parts": [
                {"dimension": dimension, "category": category, "points": points}
                for dimension, category, points in msm.parts
            ],
            "missing": list(msm.missing),
            "severity_source": screening.msm_severity.explanation,
        },
        "thase_rush": {"stage": screening.thase_rush[0], "text": screening.thase_rush[1]},
        "trauma": {
            "pcl5_total": trauma.pcl5_total,
            "pcl5_on": trauma.pcl5_on,
            "pcl5_provisional_ptsd": trauma.pcl5_provisional_ptsd,
            "ace_total": trauma.ace_total,
            "ace_on": trauma.ace_on,
            "cutpoint": trauma.cutpoint,
            "trauma_focused": trauma.trauma_focused,
        },
        "answers": dict(screening.answers),
        "clearance_valid": screening.clearance_valid,
        "decisions": [decision_out(decision) for decision in screening.decisions],
    }


# ---------------------------------------------------------------------------------------------
# The current episode


class EpisodeIn(StrictSchema):
    started_on: dt.date
    severity: str = Field(
        "",
        description="The clinician's Maudsley severity (subsyndromal, mild, moderate, severe, "
        "severe_psychotic); empty: taken from the latest PHQ-9 or MADRS",
    )
    note: str = ""


@router.get(
    f"{SCREENING}/episode",
    response=EpisodeOut | None,
    summary="The current depressive episode (null when none is recorded)",
)
def read_episode(request: HttpRequest, client_id: uuid.UUID) -> dict[str, Any] | None:
    client = open_chart(api_caller(request), client_id, view="api.screening.episode")
    episode = client.episodes.select_related("created_by").order_by("-started_on", "-id").first()
    return episode_out(episode) if episode else None


@router.put(
    f"{SCREENING}/episode",
    response=EpisodeOut,
    summary="Record the start of the current episode (the latest start is the current one)",
)
def start_episode(request: HttpRequest, client_id: uuid.UUID, payload: EpisodeIn) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    episode = services.episode_start(
        actor=user,
        client=client,
        started_on=payload.started_on,
        severity=payload.severity,
        note=payload.note,
    )
    return episode_out(episode)


# ---------------------------------------------------------------------------------------------
# Treatment history: one set of routes per kind


class HistoryOut(Schema):
    id: uuid.UUID
    kind: str
    started_on: dt.date
    ended_on: dt.date | None
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime


class TrialOut(HistoryOut):
    medication: uuid.UUID | None
    drug: str
    drug_text: str
    verified: bool
    max_daily_dose_mg: decimal.Decimal
    adherence: str
    outcome: str


class AugmentationOut(HistoryOut):
    medication: uuid.UUID | None
    agent: str
    agent_text: str
    verified: bool
    outcome: str


class EctOut(HistoryOut):
    sessions: int | None
    laterality: str
    outcome: str


class PsychotherapyOut(HistoryOut):
    modality: str
    sessions: int | None
    outcome: str


class TrialIn(StrictSchema):
    medication: uuid.UUID | None = None
    drug_text: str = ""
    max_daily_dose_mg: decimal.Decimal
    started_on: dt.date
    ended_on: dt.date | None = None
    adherence: str
    outcome: str
    note: str = ""


class TrialPatch(StrictSchema):
    medication: uuid.UUID | None = None
    drug_text: str | None = None
    max_daily_dose_mg: decimal.Decimal | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    adherence: str | None = None
    outcome: str | None = None
    note: str | None = None


class AugmentationIn(StrictSchema):
    medication: uuid.UUID | None = None
    agent_text: str = ""
    started_on: dt.date
    ended_on: dt.date | None = None
    outcome: str
    note: str = ""


class AugmentationPatch(StrictSchema):
    medication: uuid.UUID | None = None
    agent_text: str | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    outcome: str | None = None
    note: str | None = None


class EctIn(StrictSchema):
    laterality: str
    sessions: int | None = None
    started_on: dt.date
    ended_on: dt.date | None = None
    outcome: str
    note: str = ""


class EctPatch(StrictSchema):
    laterality: str | None = None
    sessions: int | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    outcome: str | None = None
    note: str | None = None


class PsychotherapyIn(StrictSchema):
    modality: str
    sessions: int | None = None
    started_on: dt.date
    ended_on: dt.date | None = None
    outcome: str = ""
    note: str = ""


class PsychotherapyPatch(StrictSchema):
    modality: str | None = None
    sessions: int | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    outcome: str | None = None
    note: str | None = None


class RemoveIn(StrictSchema):
    # Empty is refused by the service (rule required) after the access check.
    reason: str = ""


def _common(item: HistoryItem, kind: str) -> dict[str, Any]:
    return {
        "id": item.public_id,
        "kind": kind,
        "started_on": item.started_on,
        "ended_on": item.ended_on,
        "note": item.note,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def trial_out(item: HistoryItem) -> dict[str, Any]:
    item = cast(AntidepressantTrial, item)
    return {
        **_common(item, "trial"),
        "medication": item.medication.public_id if item.medication else None,
        "drug": item.drug_name,
        "drug_text": item.drug_text,
        "verified": item.medication is not None,
        "max_daily_dose_mg": item.max_daily_dose_mg,
        "adherence": item.adherence,
        "outcome": item.outcome,
    }


def augmentation_out(item: HistoryItem) -> dict[str, Any]:
    item = cast(Augmentation, item)
    return {
        **_common(item, "augmentation"),
        "medication": item.medication.public_id if item.medication else None,
        "agent": item.agent_name,
        "agent_text": item.agent_text,
        "verified": item.medication is not None,
        "outcome": item.outcome,
    }


def ect_out(item: HistoryItem) -> dict[str, Any]:
    item = cast(EctCourse, item)
    return {
        **_common(item, "ect"),
        "sessions": item.sessions,
        "laterality": item.laterality,
        "outcome": item.outcome,
    }


def psychotherapy_out(item: HistoryItem) -> dict[str, Any]:
    item = cast(PsychotherapyCourse, item)
    return {
        **_common(item, "psychotherapy"),
        "modality": item.modality,
        "sessions": item.sessions,
        "outcome": item.outcome,
    }


class HistoryRoutes:
    """How one history kind is read and written through the API."""

    def __init__(
        self,
        kind: str,
        schema_in: type[StrictSchema],
        schema_patch: type[StrictSchema],
        schema_out: type[Schema],
        out: Callable[[HistoryItem], dict[str, Any]],
        nullable: frozenset[str],
    ) -> None:
        self.kind = kind
        self.schema_in = schema_in
        self.schema_patch = schema_patch
        self.schema_out = schema_out
        self.out = out
        self.nullable = nullable  # fields a correction may set to null (clear)
        self.model = services.HISTORY_KINDS[kind].model
        self.has_medication = "medication" in services.HISTORY_KINDS[kind].fields

    def entries(self, client: Client) -> QuerySet[HistoryItem]:
        """The client's entries of this kind that are not removed (looked up through the client)."""
        entries = self.model._default_manager.filter(client=client, removed_at__isnull=True)
        related = ["medication"] if self.has_medication else []
        return entries.select_related(*related) if related else entries


HISTORY_ROUTES = (
    HistoryRoutes(
        "trial", TrialIn, TrialPatch, TrialOut, trial_out, frozenset({"medication", "ended_on"})
    ),
    HistoryRoutes(
        "augmentation",
        AugmentationIn,
        AugmentationPatch,
        AugmentationOut,
        augmentation_out,
        frozenset({"medication", "ended_on"}),
    ),
    HistoryRoutes("ect", EctIn, EctPatch, EctOut, ect_out, frozenset({"sessions", "ended_on"})),
    HistoryRoutes(
        "psychotherapy",
        PsychotherapyIn,
        PsychotherapyPatch,
        PsychotherapyOut,
        psychotherapy_out,
        frozenset({"sessions", "ended_on"}),
    ),
)


def _refuse_nulls(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    nulls = sorted(name for name, value in changes.items() if value is None and name not in allowed)
    if nulls:
        message = "This field cannot be null; send an empty string to clear a text."
        raise ValidationError({name: ValidationError(message, code="null") for name in nulls})


def _catalogue_medication(
    public_id: uuid.UUID | None, current: Medication | None = None
) -> Medication | None:
    """The catalogue entry a request names: an active one, or the one the entry already has."""
    if public_id is None:
        return None
    if current is not None and current.public_id == public_id:
        return current
    medication = Medication.objects.filter(public_id=public_id, active=True).first()
    if medication is None:
        raise field_error(
            "medication", "No active medication in the catalogue has this id.", "unknown"
        )
    return medication


def _history_item(spec: HistoryRoutes, client: Client, item_id: uuid.UUID) -> HistoryItem:
    try:
        return spec.entries(client).get(public_id=item_id)
    except spec.model.DoesNotExist as missing:
        raise Http404("No such entry for this client.") from missing


def _register_history(spec: HistoryRoutes) -> None:
    kind = spec.kind
    label = services.HISTORY_KINDS[kind].label
    collection = f"{SCREENING}/history/{kind}"
    item_path = f"{collection}/{{item_id}}"

    @router.get(
        collection,
        response=list[spec.schema_out],  # type: ignore[name-defined]
        operation_id=f"screening_{kind}_list",
        summary=f"The client's {label} entries (removed ones left out)",
    )
    def list_items(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
        client = open_chart(api_caller(request), client_id, view=f"api.screening.{kind}")
        return [spec.out(item) for item in spec.entries(client)]

    @router.post(
        collection,
        response={201: spec.schema_out},
        operation_id=f"screening_{kind}_add",
        summary=f"Add a {label}",
    )
    def add_item(
        request: HttpRequest,
        client_id: uuid.UUID,
        payload: spec.schema_in,  # type: ignore[name-defined]
    ) -> Status[dict[str, Any]]:
        user = api_caller(request)
        client = access_client(user, client_id, write=True)
        fields = payload.dict()
        if spec.has_medication:
            fields["medication"] = _catalogue_medication(fields["medication"])
        item = services.history_save(actor=user, client=client, kind=kind, fields=fields)
        return Status(201, spec.out(item))

    @router.get(
        item_path,
        response=spec.schema_out,
        operation_id=f"screening_{kind}_read",
        summary=f"One {label}",
    )
    def read_item(request: HttpRequest, client_id: uuid.UUID, item_id: uuid.UUID) -> dict[str, Any]:
        client = open_chart(api_caller(request), client_id, view=f"api.screening.{kind}")
        return spec.out(_history_item(spec, client, item_id))

    @router.patch(
        item_path,
        response=spec.schema_out,
        operation_id=f"screening_{kind}_correct",
        summary=f"Correct a {label} (send only the fields that change)",
    )
    def correct_item(
        request: HttpRequest,
        client_id: uuid.UUID,
        item_id: uuid.UUID,
        payload: spec.schema_patch,  # type: ignore[name-defined]
    ) -> dict[str, Any]:
        user = api_caller(request)
        client = access_client(user, client_id, write=True)
        item = _history_item(spec, client, item_id)
        changes = payload.dict(exclude_unset=True)
        _refuse_nulls(changes, spec.nullable)
        if "medication" in changes:
            changes["medication"] = _catalogue_medication(
                changes["medication"], getattr(item, "medication", None)
            )
        saved = services.history_save(
            actor=user, client=client, kind=kind, fields=changes, item=item
        )
        return spec.out(saved)

    @router.post(
        f"{item_path}/remove",
        response=spec.schema_out,
        operation_id=f"screening_{kind}_remove",
        summary=f"Remove a {label} as entered in error (it is kept, unused)",
    )
    def remove_item(
        request: HttpRequest, client_id: uuid.UUID, item_id: uuid.UUID, payload: RemoveIn
    ) -> dict[str, Any]:
        user = api_caller(request)
        client = access_client(user, client_id, write=True)
        item = _history_item(spec, client, item_id)
        removed = services.history_remove(
            actor=user, client=client, kind=kind, item=item, reason=payload.reason
        )
        return spec.out(removed)


for _spec in HISTORY_ROUTES:
    _register_history(_spec)


# ---------------------------------------------------------------------------------------------
# Current medications


class CurrentMedicationIn(StrictSchema):
    medication: uuid.UUID | None = None
    drug_text: str = ""
    dose_amount: decimal.Decimal
    dose_unit: str = "mg"
    frequency: str
    started_on: dt.date | None = None
    note: str = ""


class StopIn(StrictSchema):
    stopped_on: dt.date | None = None  # today (in the practice's time zone) when left out
    reason: str = ""  # empty is refused by the service (rule required)


class CurrentMedicationOut(Schema):
    id: uuid.UUID
    medication: uuid.UUID | None
    drug: str
    drug_text: str
    verified: bool
    dose_amount: decimal.Decimal
    dose_unit: str
    frequency: str
    daily_mg: decimal.Decimal | None
    started_on: dt.date | None
    stopped_on: dt.date | None
    stopped_reason: str
    note: str


def current_medication_out(item: CurrentMedication) -> dict[str, Any]:
    return {
        "id": item.public_id,
        "medication": item.medication.public_id if item.medication else None,
        "drug": item.drug_name,
        "drug_text": item.drug_text,
        "verified": item.medication is not None,
        "dose_amount": item.dose_amount,
        "dose_unit": item.dose_unit,
        "frequency": item.frequency,
        "daily_mg": item.daily_mg,
        "started_on": item.started_on,
        "stopped_on": item.stopped_on,
        "stopped_reason": item.stopped_reason,
        "note": item.note,
    }


@router.get(
    f"{SCREENING}/medications",
    response=list[CurrentMedicationOut],
    summary="The client's current medications (include_stopped=true adds the stopped ones)",
)
def list_medications(
    request: HttpRequest, client_id: uuid.UUID, include_stopped: bool = False
) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.screening.medications")
    items = client.current_medications.select_related("medication")
    if not include_stopped:
        items = items.filter(stopped_on__isnull=True)
    return [current_medication_out(item) for item in items]


@router.post(
    f"{SCREENING}/medications",
    response={201: CurrentMedicationOut},
    summary="Add a current medication",
)
def add_medication(
    request: HttpRequest, client_id: uuid.UUID, payload: CurrentMedicationIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    fields = payload.dict()
    fields["medication"] = _catalogue_medication(fields["medication"])
    item = services.medication_add(actor=user, client=client, fields=fields)
    return Status(201, current_medication_out(item))


@router.post(
    f"{SCREENING}/medications/{{item_id}}/stop",
    response=CurrentMedicationOut,
    summary="Stop a current medication (or mark it entered in error), with the reason",
)
def stop_medication(
    request: HttpRequest, client_id: uuid.UUID, item_id: uuid.UUID, payload: StopIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    item = client.current_medications.select_related("medication").filter(public_id=item_id).first()
    if item is None:
        raise Http404("No such medication for this client.")
    stopped = services.medication_stop(
        actor=user,
        client=client,
        item=item,
        stopped_on=payload.stopped_on or practice_today(),
        reason=payload.reason,
    )
    return current_medication_out(stopped)


# ---------------------------------------------------------------------------------------------
# Intake blood pressure


class BloodPressureIn(StrictSchema):
    systolic: int
    diastolic: int
    heart_rate: int | None = None
    taken_at: AwareDatetime | None = None  # now when left out; a time zone is required
    note: str = Field("", max_length=300)


class BloodPressureOut(Schema):
    id: uuid.UUID
    systolic: int
    diastolic: int
    heart_rate: int | None
    taken_at: dt.datetime
    taken_by: str
    note: str


def bp_out(reading: BloodPressureReading) -> dict[str, Any]:
    return {
        "id": reading.public_id,
        "systolic": reading.systolic,
        "diastolic": reading.diastolic,
        "heart_rate": reading.heart_rate,
        "taken_at": reading.taken_at,
        "taken_by": _staff_name(reading.taken_by),
        "note": reading.note,
    }


@router.get(
    f"{SCREENING}/blood-pressure",
    response=list[BloodPressureOut],
    summary="The client's blood pressure readings, newest first",
)
def list_bp(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.screening.blood_pressure")
    return [bp_out(reading) for reading in client.bp_readings.select_related("taken_by")]


@router.post(
    f"{SCREENING}/blood-pressure",
    response={201: BloodPressureOut},
    summary="Record a blood pressure reading",
)
def record_bp(
    request: HttpRequest, client_id: uuid.UUID, payload: BloodPressureIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    reading = services.bp_record(actor=user, client=client, **payload.dict())
    return Status(201, bp_out(reading))


# ---------------------------------------------------------------------------------------------
# Contraindication answers


class QuestionOut(Schema):
    code: str
    text: str
    kind: str
    choices: list[str]
    asked_if: dict[str, Any] | None
    unit: str
    minimum: decimal.Decimal | None
    maximum: decimal.Decimal | None
    group: str
    help: str


class AnswersOut(Schema):
    answers: dict[str, str]
    unanswered: list[str]
    questions: list[QuestionOut]


class AnswersIn(StrictSchema):
    # Question code -> answer. A question left out, null or "" is unanswered.
    answers: dict[str, str | None]


CHOOSE = ("yes_no", "choice")


def answers_out(answers: Mapping[str, str]) -> dict[str, Any]:
    return {
        "answers": dict(answers),
        "unanswered": [question.code for question in questions.unanswered(answers)],
        "questions": [
            {
                "code": q.code,
                "text": q.text,
                "kind": q.kind,
                "choices": [value for value, _ in q.choices]
                if q.kind in ("yes_no", "choice")
                else [],
                "asked_if": {"question": q.asked_if[0], "answers": list(q.asked_if[1])}
                if q.asked_if
                else None,
                "unit": q.unit,
                "minimum": q.minimum,
                "maximum": q.maximum,
                "group": q.group,
                "help": q.help,
            }
            for q in questions.QUESTIONS
        ],
    }


@router.get(
    f"{SCREENING}/answers",
    response=AnswersOut,
    summary="The contraindication answers, what is still unanswered, and the questions",
)
def read_answers(request: HttpRequest, client_id: uuid.UUID) -> dict[str, Any]:
    client = open_chart(api_caller(request), client_id, view="api.screening.answers")
    row = ScreeningAnswers.objects.filter(client=client).first()
    return answers_out(row.answers if row else {})


@router.put(
    f"{SCREENING}/answers",
    response=AnswersOut,
    summary="Save the whole questionnaire (questions left out become unanswered)",
)
def save_answers(request: HttpRequest, client_id: uuid.UUID, payload: AnswersIn) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    try:
        row = services.answers_save(actor=user, client=client, answers=payload.answers)
    except ValidationError as error:
        # The service names the question; the API names where it was sent, as /score does.
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                name if name == "answers" else f"answers.{name}": items
                for name, items in error.error_dict.items()
            }
        ) from None
    return answers_out(row.answers)


# ---------------------------------------------------------------------------------------------
# Prescribers' decisions


class DecisionIn(StrictSchema):
    decision: str
    note: str
    conditions: str = ""
    seen_signature: str


@router.get(
    f"{SCREENING}/decisions",
    response=list[DecisionOut],
    summary="The prescribers' decisions, newest version first",
)
def list_decisions(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api.screening.decisions")
    decisions = client.screening_decisions.select_related("screen_run", "decided_by").order_by(
        "-version"
    )
    return [decision_out(decision) for decision in decisions]


@router.post(
    f"{SCREENING}/decisions",
    response={201: DecisionOut},
    summary="Record a prescriber's decision on the screen as last seen (seen_signature)",
)
def record_decision(
    request: HttpRequest, client_id: uuid.UUID, payload: DecisionIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    decision = services.decision_record(actor=user, client=client, **payload.dict())
    decision = ScreeningDecision.objects.select_related("screen_run", "decided_by").get(
        pk=decision.pk
    )
    return Status(201, decision_out(decision))


# ---------------------------------------------------------------------------------------------
# Practice-wide: the medication catalogue and the parameters in force (no client data)


class MedicationOut(Schema):
    id: uuid.UUID
    name: str
    other_names: str
    kind: str
    antidepressant_class: str
    min_adequate_daily_dose_mg: decimal.Decimal | None
    min_dose_source: str
    usual_max_daily_dose_mg: decimal.Decimal | None
    interaction_categories: list[str]
    lorazepam_equivalent_mg: decimal.Decimal | None
    active: bool


@router.get(
    "/medications",
    response=list[MedicationOut],
    summary="The medication catalogue (include_inactive=true adds retired entries)",
)
def list_catalogue(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    api_caller(request)
    medications = Medication.objects.order_by("name")
    if not include_inactive:
        medications = medications.filter(active=True)
    return [
        {
            "id": medication.public_id,
            "name": medication.name,
            "other_names": medication.other_names,
            "kind": medication.kind,
            "antidepressant_class": medication.antidepressant_class,
            "min_adequate_daily_dose_mg": medication.min_adequate_daily_dose_mg,
            "min_dose_source": medication.min_dose_source,
            "usual_max_daily_dose_mg": medication.usual_max_daily_dose_mg,
            "interaction_categories": list(medication.interaction_categories),
            "lorazepam_equivalent_mg": medication.lorazepam_equivalent_mg,
            "active": medication.active,
        }
        for medication in medications
    ]


class ParameterOut(Schema):
    key: str
    label: str
    group: str
    kind: str
    value: int | str
    display: str
    unit: str
    version: int
    is_default: bool
    source: str
    evidence: str
    signed_off_by: str
    signed_off_at: dt.datetime | None


@router.get(
    "/parameters",
    response=list[ParameterOut],
    summary="Every rule parameter with the value in force, its version and source",
)
def list_parameters(request: HttpRequest) -> list[dict[str, Any]]:
    api_caller(request)
    parameters = sorted(registry.all_parameters(), key=lambda p: p.group)
    current = settings_for(p.key for p in parameters)
    return [
        {
            "key": setting.key,
            "label": setting.parameter.label,
            "group": setting.parameter.group,
            "kind": setting.parameter.kind,
            "value": setting.value,
            "display": setting.display,
            "unit": setting.parameter.unit,
            "version": setting.version,
            "is_default": setting.is_default,
            "source": setting.source,
            "evidence": setting.parameter.evidence,
            "signed_off_by": setting.signed_off_by,
            "signed_off_at": setting.signed_off_at,
        }
        for setting in (current[p.key] for p in parameters)
    ]
