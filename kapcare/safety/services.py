"""Raising safety flags and closing them with a risk assessment (habit 2: audited writes)."""

from __future__ import annotations

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
from kapcare.safety.models import RiskAssessment, SafetyFlag
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
        for flag in SafetyFlag.objects.open().filter(client=client).select_for_update():
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
