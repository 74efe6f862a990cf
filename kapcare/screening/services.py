"""Every write to a client's screening (habit 2: validate, then one audited transaction). After
each change the screen runs again (screen_refresh): a changed result is stored, and a clearance
given against a different result is withdrawn and the prescribers are told."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_today
from kapcare.medications.models import Medication
from kapcare.screening import questions, rules
from kapcare.screening.models import (
    MG_PER_UNIT,
    TIMES_PER_DAY,
    AntidepressantTrial,
    Augmentation,
    BloodPressureReading,
    CurrentMedication,
    Decision,
    DoseUnit,
    EctCourse,
    Episode,
    HistoryItem,
    PsychotherapyCourse,
    ScreeningAnswers,
    ScreeningDecision,
    ScreeningState,
    ScreenRun,
    TrialOutcome,
)
from kapcare.screening.selectors import Screening, screening_for

# Data-entry guards, not clinical limits: they catch a unit slip (500 typed for 50) and say so.
DOSE_SLIP_FACTOR = 3  # times the top of the drug's usual daily range
DOSE_CEILING_MG = decimal.Decimal(5000)  # when the catalogue gives no usual range
BP_SYSTOLIC_RANGE = (50, 300)
BP_DIASTOLIC_RANGE = (20, 200)
HEART_RATE_RANGE = (20, 250)
NOTE_MAX = 300  # the columns' length; longer text is refused, never cut


def can_edit_screening(user: User) -> bool:
    """Screening facts are entered by clinicians: therapist, prescriber or nurse."""
    return user.is_clinician


def can_decide(user: User) -> bool:
    return bool(user.is_prescriber)


def _require_clinician(actor: User, field: str) -> None:
    if not can_edit_screening(actor):
        raise field_error(
            field,
            "Only a therapist, prescriber or nurse can change screening records.",
            "not_clinician",
        )


def _check_dates(
    errors: dict[str, ValidationError],
    client: Client,
    start: dt.date | None,
    end: dt.date | None,
    today: dt.date,
    start_field: str = "started_on",
    end_field: str = "ended_on",
) -> None:
    if start is not None:
        if start > today:
            errors[start_field] = ValidationError("This date is in the future.", code="future")
        elif start < client.date_of_birth:
            errors[start_field] = ValidationError(
                "This date is before the client's date of birth.", code="before_birth"
            )
    if end is not None:
        if end > today:
            errors[end_field] = ValidationError("This date is in the future.", code="future")
        elif start is not None and end < start:
            errors[end_field] = ValidationError(
                "The end is before the start.", code="end_before_start"
            )


def _dose_guard(
    medication: Medication | None, daily_mg: decimal.Decimal | None, field: str
) -> ValidationError | None:
    if daily_mg is None:
        return None
    if daily_mg <= 0:
        return ValidationError("The dose must be more than 0.", code="min_value")
    usual = medication.usual_max_daily_dose_mg if medication else None
    if usual is not None and daily_mg > usual * DOSE_SLIP_FACTOR:
        return ValidationError(
            f"{daily_mg.normalize():f} mg a day is more than {DOSE_SLIP_FACTOR} times the top of "
            f"the usual range for {medication}, {usual.normalize():f} mg: check the dose and the "
            "unit.",
            code="implausible_dose",
        )
    if daily_mg > DOSE_CEILING_MG:
        return ValidationError(
            f"{daily_mg.normalize():f} mg a day is not a plausible dose: check the dose and the "
            "unit.",
            code="implausible_dose",
        )
    return None


def _drug_choice(
    errors: dict[str, ValidationError],
    medication: Medication | None,
    text: str,
    text_field: str,
) -> None:
    if medication is None and not text.strip():
        errors["medication"] = ValidationError(
            "Choose a drug from the catalogue, or type its name if it is not there.",
            code="required",
        )
    elif medication is not None and text.strip():
        errors[text_field] = ValidationError(
            "Either choose from the catalogue or type a name, not both.", code="both"
        )


def _normalise_decimals(record: models.Model) -> None:
    """Store decimals as the column will (100 -> 100.00), so the audit compares like with like."""
    for field in record._meta.concrete_fields:
        value = getattr(record, field.attname)
        if (
            isinstance(field, models.DecimalField)
            and isinstance(value, decimal.Decimal)
            and value.is_finite()
            and field.decimal_places is not None
        ):
            exponent = decimal.Decimal(1).scaleb(-field.decimal_places)
            # Too many digits: leave it, and full_clean reports it on the field.
            with contextlib.suppress(decimal.InvalidOperation):
                setattr(record, field.attname, value.quantize(exponent))


# ---------------------------------------------------------------------------------------------
# The episode


def episode_start(
    *, actor: User, client: Client, started_on: dt.date, severity: str = "", note: str = ""
) -> Episode:
    _require_clinician(actor, "started_on")
    errors: dict[str, ValidationError] = {}
    _check_dates(errors, client, started_on, None, practice_today())
    if errors:
        raise ValidationError(errors)
    episode = Episode(
        client=client,
        started_on=started_on,
        severity=severity,
        note=note.strip(),
        created_by=actor,
        updated_by=actor,
    )
    try:
        episode.full_clean()
    except ValidationError as error:
        raise ValidationError(
            {name: ValidationError(found) for name, found in error.error_dict.items()}
        ) from error
    with transaction.atomic():
        episode.save()
        audit.record(
            actor=actor,
            action="screening.episode",
            subject_type="episode",
            subject_public_id=episode.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(episode, ["started_on", "severity", "note"]),
        )
        screen_refresh(client=client, actor=actor, trigger="episode start recorded")
    return episode


# ---------------------------------------------------------------------------------------------
# Treatment history: trials, augmentations, ECT, psychotherapy


@dataclass(frozen=True)
class HistoryKind:
    code: str
    label: str
    model: type[HistoryItem]
    fields: tuple[str, ...]


HISTORY_KINDS = {
    kind.code: kind
    for kind in (
        HistoryKind(
            "trial",
            "antidepressant trial",
            AntidepressantTrial,
            (
                "medication",
                "drug_text",
                "max_daily_dose_mg",
                "started_on",
                "ended_on",
                "adherence",
                "outcome",
                "note",
            ),
        ),
        HistoryKind(
            "augmentation",
            "augmentation",
            Augmentation,
            ("medication", "agent_text", "started_on", "ended_on", "outcome", "note"),
        ),
        HistoryKind(
            "ect",
            "ECT course",
            EctCourse,
            ("sessions", "laterality", "started_on", "ended_on", "outcome", "note"),
        ),
        HistoryKind(
            "psychotherapy",
            "psychotherapy",
            PsychotherapyCourse,
            ("modality", "sessions", "started_on", "ended_on", "outcome", "note"),
        ),
    )
}


def _validate_history(kind: HistoryKind, item: HistoryItem, client: Client) -> None:
    errors: dict[str, ValidationError] = {}
    try:
        item.full_clean(exclude=["client"])
    except ValidationError as error:
        errors.update({name: ValidationError(found) for name, found in error.error_dict.items()})
    _check_dates(errors, client, item.started_on, item.ended_on, practice_today())
    outcome = getattr(item, "outcome", "")
    if outcome == TrialOutcome.ONGOING and item.ended_on is not None:
        errors["outcome"] = ValidationError(
            "An ongoing treatment has no end date: clear the end or choose how it ended.",
            code="contradiction",
        )
    if isinstance(item, AntidepressantTrial):
        _drug_choice(errors, item.medication, item.drug_text, "drug_text")
        if item.medication is not None and not item.medication.is_antidepressant:
            errors["medication"] = ValidationError(
                f"{item.medication} is not an antidepressant; record it as an augmentation.",
                code="not_antidepressant",
            )
        if "max_daily_dose_mg" not in errors and item.max_daily_dose_mg is not None:
            problem = _dose_guard(item.medication, item.max_daily_dose_mg, "max_daily_dose_mg")
            if problem:
                errors["max_daily_dose_mg"] = problem
    if isinstance(item, Augmentation):
        _drug_choice(errors, item.medication, item.agent_text, "agent_text")
    if errors:
        raise ValidationError(errors)


def history_save(
    *,
    actor: User,
    client: Client,
    kind: str,
    fields: Mapping[str, Any],
    item: HistoryItem | None = None,
) -> HistoryItem:
    """Add a history entry, or correct one (the audit keeps what it said before)."""
    _require_clinician(actor, "started_on")
    spec = HISTORY_KINDS[kind]
    creating = item is None
    target = item if item is not None else spec.model(client=client, created_by=actor)
    if target.client_id != client.pk or target.removed_at is not None:
        raise field_error("started_on", "This entry cannot be changed.", "not_editable")
    before = {} if creating else audit.snapshot(target, spec.fields)
    for name in spec.fields:
        if name in fields:
            value = fields[name]
            setattr(target, name, value.strip() if isinstance(value, str) else value)
    target.updated_by = actor
    _normalise_decimals(target)
    _validate_history(spec, target, client)
    with transaction.atomic():
        target.save()
        old, new = audit.changed(before, audit.snapshot(target, spec.fields))
        audit.record(
            actor=actor,
            action=f"screening.{kind}_{'add' if creating else 'correct'}",
            subject_type=kind,
            subject_public_id=target.public_id,
            client_public_id=client.public_id,
            before=old or None,
            after=new,
        )
        screen_refresh(
            client=client,
            actor=actor,
            trigger=f"{spec.label} {'added' if creating else 'corrected'}",
        )
    return target


def history_remove(
    *, actor: User, client: Client, kind: str, item: HistoryItem, reason: str
) -> HistoryItem:
    """Mark an entry as entered in error. It stays in the record (and the audit), unused."""
    _require_clinician(actor, "reason")
    if not reason.strip():
        raise field_error("reason", "Say why this entry is removed.", "required")
    if len(reason.strip()) > NOTE_MAX:
        raise field_error("reason", f"At most {NOTE_MAX} characters.", "max_length")
    if item.client_id != client.pk or item.removed_at is not None:
        raise field_error("reason", "This entry is already removed.", "not_editable")
    with transaction.atomic():
        item.removed_at = now()
        item.removed_by = actor
        item.removed_reason = reason.strip()
        item.updated_by = actor
        item.save(
            update_fields=["removed_at", "removed_by", "removed_reason", "updated_by", "updated_at"]
        )
        audit.record(
            actor=actor,
            action=f"screening.{kind}_remove",
            subject_type=kind,
            subject_public_id=item.public_id,
            client_public_id=client.public_id,
            after={"removed_reason": item.removed_reason},
        )
        screen_refresh(client=client, actor=actor, trigger=f"{HISTORY_KINDS[kind].label} removed")
    return item


# ---------------------------------------------------------------------------------------------
# Current medications


MEDICATION_FIELDS = (
    "medication",
    "drug_text",
    "dose_amount",
    "dose_unit",
    "frequency",
    "started_on",
    "note",
)


def medication_add(*, actor: User, client: Client, fields: Mapping[str, Any]) -> CurrentMedication:
    _require_clinician(actor, "medication")
    item = CurrentMedication(client=client, created_by=actor, updated_by=actor)
    for name in MEDICATION_FIELDS:
        if name in fields:
            value = fields[name]
            setattr(item, name, value.strip() if isinstance(value, str) else value)
    _normalise_decimals(item)
    errors: dict[str, ValidationError] = {}
    try:
        item.full_clean(exclude=["client"])
    except ValidationError as error:
        errors.update({name: ValidationError(found) for name, found in error.error_dict.items()})
    _drug_choice(errors, item.medication, item.drug_text, "drug_text")
    _check_dates(errors, client, item.started_on, None, practice_today())
    if "dose_amount" not in errors and item.dose_amount is not None:
        if item.dose_amount <= 0:
            errors["dose_amount"] = ValidationError(
                "The dose must be more than 0.", code="min_value"
            )
        else:
            per_unit = (
                MG_PER_UNIT.get(DoseUnit(item.dose_unit))
                if item.dose_unit in DoseUnit.values
                else None
            )
            times = TIMES_PER_DAY.get(item.frequency) if item.frequency else None  # type: ignore[call-overload]
            if per_unit is not None:
                problem = _dose_guard(
                    item.medication, item.dose_amount * per_unit * (times or 1), "dose_amount"
                )
                if problem:
                    errors["dose_amount"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item.save()
        audit.record(
            actor=actor,
            action="screening.medication_add",
            subject_type="current_medication",
            subject_public_id=item.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(item, MEDICATION_FIELDS),
        )
        screen_refresh(client=client, actor=actor, trigger=f"medication added: {item.drug_name}")
    return item


def medication_stop(
    *,
    actor: User,
    client: Client,
    item: CurrentMedication,
    stopped_on: dt.date,
    reason: str,
) -> CurrentMedication:
    _require_clinician(actor, "stopped_on")
    errors: dict[str, ValidationError] = {}
    if item.client_id != client.pk or item.stopped_on is not None:
        errors["stopped_on"] = ValidationError(
            "This medication is already stopped.", code="stopped"
        )
    elif stopped_on > practice_today():
        errors["stopped_on"] = ValidationError("This date is in the future.", code="future")
    elif item.started_on and stopped_on < item.started_on:
        errors["stopped_on"] = ValidationError(
            "Stopped before it started.", code="end_before_start"
        )
    if not reason.strip():
        errors["reason"] = ValidationError(
            "Say why (stopped, or entered in error).", code="required"
        )
    elif len(reason.strip()) > NOTE_MAX:
        errors["reason"] = ValidationError(f"At most {NOTE_MAX} characters.", code="max_length")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item.stopped_on = stopped_on
        item.stopped_reason = reason.strip()
        item.updated_by = actor
        item.save(update_fields=["stopped_on", "stopped_reason", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action="screening.medication_stop",
            subject_type="current_medication",
            subject_public_id=item.public_id,
            client_public_id=client.public_id,
            after={"stopped_on": stopped_on.isoformat(), "stopped_reason": item.stopped_reason},
        )
        screen_refresh(client=client, actor=actor, trigger=f"medication stopped: {item.drug_name}")
    return item


# ---------------------------------------------------------------------------------------------
# Intake blood pressure


def bp_record(
    *,
    actor: User,
    client: Client,
    systolic: int,
    diastolic: int,
    heart_rate: int | None = None,
    taken_at: dt.datetime | None = None,
    note: str = "",
) -> BloodPressureReading:
    _require_clinician(actor, "systolic")
    errors: dict[str, ValidationError] = {}
    for name, value, (low, high) in (
        ("systolic", systolic, BP_SYSTOLIC_RANGE),
        ("diastolic", diastolic, BP_DIASTOLIC_RANGE),
        ("heart_rate", heart_rate, HEART_RATE_RANGE),
    ):
        if value is not None and not low <= value <= high:
            errors[name] = ValidationError(
                f"Must be between {low} and {high} (a plausible reading).", code="out_of_range"
            )
    if not errors and diastolic >= systolic:
        errors["diastolic"] = ValidationError(
            "The diastolic pressure must be below the systolic.", code="diastolic_above_systolic"
        )
    if len(note.strip()) > NOTE_MAX:
        errors["note"] = ValidationError(f"At most {NOTE_MAX} characters.", code="max_length")
    when = taken_at or now()
    if when > now() + dt.timedelta(minutes=5):
        errors["taken_at"] = ValidationError("This time is in the future.", code="future")
    if errors:
        raise ValidationError(errors)
    reading = BloodPressureReading(
        client=client,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        taken_at=when,
        taken_by=actor,
        note=note.strip(),
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        reading.save()
        audit.record(
            actor=actor,
            action="screening.bp_record",
            subject_type="bp_reading",
            subject_public_id=reading.public_id,
            client_public_id=client.public_id,
            after=audit.snapshot(reading, ["systolic", "diastolic", "heart_rate", "taken_at"]),
        )
        screen_refresh(client=client, actor=actor, trigger="blood pressure recorded")
    return reading


# ---------------------------------------------------------------------------------------------
# Contraindication answers


def answers_save(*, actor: User, client: Client, answers: Mapping[str, object]) -> ScreeningAnswers:
    """Save the whole questionnaire at once (unanswered questions stay unanswered). Any invalid
    or contradictory answer refuses all of it."""
    _require_clinician(actor, "answers")
    clean, problems = questions.validate(answers, practice_today())
    if problems:
        raise ValidationError(
            {
                code: ValidationError(message, code="invalid_answer")
                for code, message in problems.items()
            }
        )
    row = ScreeningAnswers.objects.filter(client=client).first()
    with transaction.atomic():
        if row is None:
            row = ScreeningAnswers(client=client, answers={}, created_by=actor)
        old, new = audit.changed(row.answers, clean)
        removed = {key: row.answers[key] for key in row.answers if key not in clean}
        row.answers = clean
        row.updated_by = actor
        row.save()
        audit.record(
            actor=actor,
            action="screening.answers",
            subject_type="screening_answers",
            subject_public_id=row.public_id,
            client_public_id=client.public_id,
            before={**old, **removed} or None,
            after={**new, **dict.fromkeys(removed)},
        )
        screen_refresh(client=client, actor=actor, trigger="screening questions answered")
    return row


# ---------------------------------------------------------------------------------------------
# The screen result, its storage, and clearance


def _store_run(screening: Screening, *, actor: User | None, trigger: str) -> ScreenRun:
    result = screening.result
    run = ScreenRun.objects.create(
        client=screening.client,
        trigger=trigger[:120],
        status=result.status,
        signature=result.signature(),
        findings=[
            {
                "code": f.code,
                "class": f.klass,
                "title": f.title,
                "reason": f.reason,
                "source": f.source,
            }
            for f in result.findings
        ],
        missing=list(result.missing),
        parameter_versions=screening.parameter_versions,
        is_trd=screening.resistance.is_trd,
        failed_trials=screening.resistance.failures,
        msm_total=screening.msm.total,
        msm_band=screening.msm.band or "",
        thase_rush_stage=screening.thase_rush[0],
        trauma_focused=screening.trauma.trauma_focused,
        created_by=actor,
        updated_by=actor,
    )
    audit.record(
        actor=actor,
        action="screening.run",
        subject_type="screen_run",
        subject_public_id=run.public_id,
        client_public_id=screening.client.public_id,
        after={
            "status": run.status,
            "findings": [f["code"] for f in run.findings],
            "trigger": trigger,
        },
    )
    return run


def _describe_change(old: ScreenRun, new: ScreenRun) -> str:
    before = {(f["code"], f["reason"]) for f in old.findings}
    after = {(f["code"], f["reason"]) for f in new.findings}
    titles = {f["code"]: f["title"] for f in old.findings + new.findings}
    parts = []
    if old.status != new.status:
        parts.append(
            f"result {rules.RESULT_LABELS[old.status]} → {rules.RESULT_LABELS[new.status]}"
        )
    added = sorted({titles[code] for code, _ in after - before})
    gone = sorted({titles[code] for code, _ in before - after} - set(added))
    if added:
        parts.append("new or changed: " + "; ".join(added))
    if gone:
        parts.append("no longer found: " + "; ".join(gone))
    return (", ".join(parts) or "screen result changed")[:300]


def screen_refresh(
    *, client: Client, actor: User | None, trigger: str, screening: Screening | None = None
) -> ScreenRun:
    """Run the screen; store it if its result differs from the last stored one; withdraw a
    clearance that was given against a different result. Runs inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("screen_refresh runs inside the transaction of the change")
    screening = screening or screening_for(client)
    signature = screening.result.signature()
    latest = client.screen_runs.order_by("-ran_at", "-id").first()
    run = latest if latest and latest.signature == signature else None
    if run is None:
        run = _store_run(screening, actor=actor, trigger=trigger)
    decision = screening.decision
    if (
        decision is not None
        and decision.is_clearance
        and decision.invalidated_at is None
        and decision.screen_run.signature != signature
    ):
        decision.invalidated_at = now()
        decision.invalidated_by_run = run
        decision.invalidation_reason = _describe_change(decision.screen_run, run)
        decision.save(
            update_fields=[
                "invalidated_at",
                "invalidated_by_run",
                "invalidation_reason",
                "updated_at",
            ]
        )
        audit.record(
            actor=actor,
            action="screening.clearance_invalidated",
            subject_type="screening_decision",
            subject_public_id=decision.public_id,
            client_public_id=client.public_id,
            after={"reason": decision.invalidation_reason, "trigger": trigger},
        )
        from kapcare.screening.tasks import notify_clearance_invalidated

        decision_id = str(decision.public_id)
        transaction.on_commit(lambda: notify_clearance_invalidated.enqueue(decision_id))
    _update_state(client, run, decision)
    return run


COMPLETE = (rules.ELIGIBLE, rules.NEEDS_REVIEW, rules.NOT_ELIGIBLE)


def _update_state(client: Client, run: ScreenRun, decision: ScreeningDecision | None) -> None:
    """Keep the prescribers' queue row: waiting when a clearance was withdrawn, or when the latest
    complete result has no decision made on or after it."""
    withdrawn = decision is not None and decision.invalidated_at is not None
    undecided = run.status in COMPLETE and (decision is None or decision.decided_at < run.ran_at)
    ScreeningState.objects.update_or_create(
        client=client,
        defaults={
            "status": run.status,
            "run_at": run.ran_at,
            "awaiting_decision": withdrawn or undecided,
            "withdrawn_reason": decision.invalidation_reason if decision and withdrawn else "",
        },
    )


def _decision_refused(
    result: rules.ScreenResult, decision: str, seen_signature: str
) -> ValidationError | None:
    if seen_signature != result.signature():
        return ValidationError(
            "The screen changed since you opened it. Review it again before deciding.",
            code="screen_changed",
        )
    if decision not in (Decision.CLEARED, Decision.CLEARED_WITH_CONDITIONS):
        return None
    if result.status == rules.NOT_ELIGIBLE:
        absolute = "; ".join(f.title for f in result.findings if f.klass == rules.ABSOLUTE)
        return ValidationError(
            f"An absolute contraindication stands ({absolute}). Correct the record if it is "
            "wrong; it cannot be cleared.",
            code="absolute_contraindication",
        )
    if result.status == rules.INCOMPLETE:
        return ValidationError(
            "The screen is incomplete: " + "; ".join(result.missing) + ".", code="incomplete"
        )
    return None


def decision_record(
    *,
    actor: User,
    client: Client,
    decision: str,
    note: str,
    conditions: str = "",
    seen_signature: str,
) -> ScreeningDecision:
    """A prescriber's decision on the screen as it stands. Refused if the screen changed since
    they looked (seen_signature), if it is incomplete, or if an absolute finding stands."""
    if not can_decide(actor):
        raise field_error(
            "decision", "Only a prescriber can record a screening decision.", "not_prescriber"
        )
    errors: dict[str, ValidationError] = {}
    if decision not in Decision.values:
        errors["decision"] = ValidationError("Choose a decision.", code="invalid_choice")
    if not note.strip():
        errors["note"] = ValidationError(
            "Write the reasoning behind the decision.", code="required"
        )
    if decision == Decision.CLEARED_WITH_CONDITIONS and not conditions.strip():
        errors["conditions"] = ValidationError("Write the conditions.", code="required")
    if decision != Decision.CLEARED_WITH_CONDITIONS and conditions.strip():
        errors["conditions"] = ValidationError(
            "Conditions go with 'cleared with conditions'.", code="contradiction"
        )
    with transaction.atomic():
        # One decision at a time per client (versions never collide), judged on the screen as
        # it stands under that lock.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        screening = screening_for(client)
        problem = _decision_refused(screening.result, decision, seen_signature)
        if problem is not None:
            errors["decision"] = problem
        if errors:
            raise ValidationError(errors)
        run = screen_refresh(
            client=client, actor=actor, trigger="decision recorded", screening=screening
        )
        latest = client.screening_decisions.aggregate(top=models.Max("version"))["top"] or 0
        row = ScreeningDecision.objects.create(
            client=client,
            version=latest + 1,
            screen_run=run,
            decision=decision,
            conditions=conditions.strip(),
            note=note.strip(),
            decided_by=actor,
            created_by=actor,
            updated_by=actor,
        )
        _update_state(client, run, row)
        audit.record(
            actor=actor,
            action="screening.decision",
            subject_type="screening_decision",
            subject_public_id=row.public_id,
            client_public_id=client.public_id,
            after={
                "version": row.version,
                "decision": decision,
                "conditions": row.conditions,
                "screen_status": run.status,
                "screen_run": str(run.public_id),
            },
        )
    return row


def rescreen_cleared(*, actor: User | None, trigger: str) -> int:
    """After a practice-wide change (a parameter, the catalogue): run the screen for every client
    whose clearance is in force. Returns how many clearances were withdrawn."""
    withdrawn = 0
    in_force = (
        ScreeningDecision.objects.filter(
            invalidated_at__isnull=True,
            decision__in=(Decision.CLEARED, Decision.CLEARED_WITH_CONDITIONS),
        )
        .select_related("client")
        .order_by("client_id", "-version")
    )
    seen: set[int] = set()
    for decision in in_force:
        if decision.client_id in seen:
            continue
        seen.add(decision.client_id)
        latest = decision.client.screening_decisions.order_by("-version").first()
        if latest is None or latest.pk != decision.pk:
            continue  # superseded by a later decision
        with transaction.atomic():
            screen_refresh(client=decision.client, actor=actor, trigger=trigger)
        decision.refresh_from_db(fields=["invalidated_at"])
        withdrawn += decision.invalidated_at is not None
    return withdrawn
