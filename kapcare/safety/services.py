"""Raising safety flags and closing them with a risk assessment (habit 2: audited writes)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.signals import client_facts_changed
from kapcare.core.time import now
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration
from kapcare.measures.rules import FLAG_LABELS
from kapcare.safety.models import FlagKind, RiskAssessment, SafetyFlag, Severity
from kapcare.safety.rules import SEVERITY_FOR_FLAG, severity_for


def flag_raise_for_administration(
    *, actor: User | None, administration: Administration
) -> SafetyFlag | None:
    """Raise a flag when a form's answers call for one. Runs inside the form's transaction."""
    severity = severity_for(list(administration.flags))
    if severity is None:
        return None
    instrument = INSTRUMENTS[administration.instrument]
    findings = [
        FLAG_LABELS.get(flag, flag) for flag in administration.flags if flag in SEVERITY_FOR_FLAG
    ]
    flag = SafetyFlag.objects.create(
        client=administration.client,
        severity=severity,
        reason=f"{instrument.name}: {', '.join(findings)}"[:300],
        source_administration=administration,
        created_by=actor,
        updated_by=actor,
    )
    audit.record(
        actor=actor,
        action="safety_flag.raise",
        subject_type="safety_flag",
        subject_public_id=flag.public_id,
        client_public_id=administration.client.public_id,
        after={"severity": severity, "reason": flag.reason},
    )
    from kapcare.safety.tasks import notify_safety_flag

    flag_id = str(flag.public_id)
    transaction.on_commit(lambda: notify_safety_flag.enqueue(flag_id))
    client_facts_changed.send(
        sender=SafetyFlag, client=administration.client, actor=actor, reason="safety flag raised"
    )
    return flag


def can_assess_risk(user: User) -> bool:
    """A risk assessment is a clinician's: therapist, prescriber or nurse."""
    return user.is_clinician


def risk_assessment_record(
    *,
    actor: User,
    client: Client,
    risk_level: str,
    actions: str,
    safety_plan: str,
) -> RiskAssessment:
    """Record an assessment; it closes every open flag of the client (the clinician has seen
    them all on the chart where the assessment is recorded)."""
    if not can_assess_risk(actor):
        raise field_error(
            "risk_level",
            "Only a therapist, prescriber or nurse can record a risk assessment.",
            "not_clinician",
        )
    assessment = RiskAssessment(
        client=client,
        assessed_by=actor,
        risk_level=risk_level,
        actions=actions.strip(),
        safety_plan=safety_plan.strip(),
        created_by=actor,
        updated_by=actor,
    )
    assessment.full_clean()  # an unknown risk_level is refused here (invalid_choice)
    with transaction.atomic():
        assessment.save()
        audit.record(
            actor=actor,
            action="risk_assessment.record",
            subject_type="risk_assessment",
            subject_public_id=assessment.public_id,
            client_public_id=client.public_id,
            after={
                "risk_level": risk_level,
                "actions": assessment.actions,
                "safety_plan": assessment.safety_plan,
            },
        )
        # A risk assessment answers suicide risk; a vital-signs flag has its own review.
        suicide_flags = SafetyFlag.objects.open().filter(client=client, kind=FlagKind.SUICIDE_RISK)
        for flag in suicide_flags.select_for_update():
            flag.closed_at = now()
            flag.closed_by = actor
            flag.closing_assessment = assessment
            flag.updated_by = actor
            flag.save(
                update_fields=[
                    "closed_at",
                    "closed_by",
                    "closing_assessment",
                    "updated_by",
                    "updated_at",
                ]
            )
            audit.record(
                actor=actor,
                action="safety_flag.close",
                subject_type="safety_flag",
                subject_public_id=flag.public_id,
                client_public_id=client.public_id,
                after={"assessment": str(assessment.public_id)},
            )
        client_facts_changed.send(
            sender=RiskAssessment, client=client, actor=actor, reason="risk assessment recorded"
        )
    return assessment


# ---------------------------------------------------------------------------------------------
# Vital-signs flags (raised from a dosing session's flowsheet)


def flag_raise_for_vitals(
    *, actor: User, client: Client, session: Any, rule: str, reason: str
) -> SafetyFlag | None:
    """Raise a vital-signs flag for a reading past a stop rule, unless one for the same session
    and rule is still open. Runs inside the charting transaction."""
    if SafetyFlag.objects.open().filter(source_session=session, rule=rule).exists():
        return None
    flag = SafetyFlag.objects.create(
        client=client,
        kind=FlagKind.VITAL_SIGNS,
        severity=Severity.REVIEW,
        reason=f"Vital signs: {reason}"[:300],
        source_session=session,
        rule=rule,
        created_by=actor,
        updated_by=actor,
    )
    audit.record(
        actor=actor,
        action="safety_flag.raise",
        subject_type="safety_flag",
        subject_public_id=flag.public_id,
        client_public_id=client.public_id,
        after={"kind": flag.kind, "rule": rule, "reason": flag.reason},
    )
    from kapcare.safety.tasks import notify_safety_flag

    flag_id = str(flag.public_id)
    transaction.on_commit(lambda: notify_safety_flag.enqueue(flag_id))
    client_facts_changed.send(
        sender=SafetyFlag, client=client, actor=actor, reason="safety flag raised"
    )
    return flag


def can_review_vitals_flag(user: User) -> bool:
    """A vital-signs flag is reviewed by the people who act on it: a prescriber or a nurse."""
    return user.is_active and (user.is_prescriber or user.is_nurse)


def vitals_flag_review(*, actor: User, flag: SafetyFlag, note: str) -> SafetyFlag:
    """Close a vital-signs flag with what was found and done (recheck, treatment, plan)."""
    if not can_review_vitals_flag(actor):
        raise field_error(
            "review_note", "A prescriber or nurse reviews a vital-signs flag.", "not_prescriber"
        )
    if flag.kind != FlagKind.VITAL_SIGNS:
        raise field_error(
            "review_note",
            "A suicide-risk flag is closed by a risk assessment.",
            "not_vital_signs",
        )
    note = (note or "").strip()
    if not note:
        raise field_error("review_note", "Say what was found and done.", "required")
    if len(note) > 4000:
        raise field_error("review_note", "At most 4000 characters.", "max_length")
    with transaction.atomic():
        locked = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
        if not locked.is_open:
            raise field_error("review_note", "This flag is already closed.", "closed")
        locked.closed_at = now()
        locked.closed_by = actor
        locked.review_note = note
        locked.updated_by = actor
        locked.save(
            update_fields=["closed_at", "closed_by", "review_note", "updated_by", "updated_at"]
        )
        # The note is clinical text: the audit names the flag, not the words.
        audit.record(
            actor=actor,
            action="safety_flag.review",
            subject_type="safety_flag",
            subject_public_id=locked.public_id,
            client_public_id=locked.client.public_id,
            after={"kind": locked.kind, "rule": locked.rule},
        )
        client_facts_changed.send(
            sender=SafetyFlag, client=locked.client, actor=actor, reason="safety flag reviewed"
        )
    return locked
