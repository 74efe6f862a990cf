"""A client's safety flags and risk assessments in the JSON API (same access and audit)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from kapcare.accounts.api_auth import api_caller
from kapcare.clients.access import access_client, open_chart
from kapcare.core.api_schemas import StrictSchema
from kapcare.safety.models import SafetyFlag
from kapcare.safety.services import risk_assessment_record, vitals_flag_review

router = Router(tags=["safety"])


class FlagOut(Schema):
    id: uuid.UUID
    kind: str
    rule: str
    severity: str
    reason: str
    raised_at: dt.datetime
    open: bool
    closed_at: dt.datetime | None
    source_administration: uuid.UUID | None
    source_session: uuid.UUID | None
    review_note: str


class FlagReviewIn(StrictSchema):
    # Optional here so the access check answers first; the service names a missing note.
    review_note: str = ""


class RiskAssessmentIn(StrictSchema):
    risk_level: str
    actions: str
    safety_plan: str


class RiskAssessmentOut(Schema):
    id: uuid.UUID
    risk_level: str
    assessed_at: dt.datetime
    closed_flags: list[uuid.UUID]


def flag_out(flag: SafetyFlag) -> dict[str, Any]:
    return {
        "id": flag.public_id,
        "kind": flag.kind,
        "rule": flag.rule,
        "severity": flag.severity,
        "reason": flag.reason,
        "raised_at": flag.raised_at,
        "open": flag.is_open,
        "closed_at": flag.closed_at,
        "source_administration": (
            flag.source_administration.public_id if flag.source_administration else None
        ),
        "source_session": flag.source_session.public_id if flag.source_session else None,
        "review_note": flag.review_note,
    }


@router.get(
    "/clients/{client_id}/safety-flags",
    response=list[FlagOut],
    summary="The client's safety flags, newest first (open=true for the open ones only)",
)
def list_flags(
    request: HttpRequest, client_id: uuid.UUID, open: bool = False
) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api_safety_flags")
    flags = client.safety_flags.select_related("source_administration", "source_session")
    if open:
        flags = flags.filter(closed_at__isnull=True)
    return [flag_out(flag) for flag in flags]


class RiskAssessmentRow(Schema):
    id: uuid.UUID
    risk_level: str
    assessed_at: dt.datetime
    assessed_by: str
    actions: str
    safety_plan: str


@router.get(
    "/clients/{client_id}/risk-assessments",
    response=list[RiskAssessmentRow],
    summary="The client's risk assessments, newest first",
)
def list_assessments(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api_risk_assessments")
    return [
        {
            "id": assessment.public_id,
            "risk_level": assessment.risk_level,
            "assessed_at": assessment.assessed_at,
            "assessed_by": str(assessment.assessed_by),
            "actions": assessment.actions,
            "safety_plan": assessment.safety_plan,
        }
        for assessment in client.risk_assessments.select_related("assessed_by")
    ]


@router.post(
    "/clients/{client_id}/risk-assessments",
    response={201: RiskAssessmentOut},
    summary="Record a risk assessment; it closes the client's open suicide-risk flags",
)
def record_assessment(
    request: HttpRequest, client_id: uuid.UUID, payload: RiskAssessmentIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    assessment = risk_assessment_record(actor=user, client=client, **payload.dict())
    return Status(
        201,
        {
            "id": assessment.public_id,
            "risk_level": assessment.risk_level,
            "assessed_at": assessment.assessed_at,
            "closed_flags": [flag.public_id for flag in assessment.closed_flags.all()],
        },
    )


@router.post(
    "/clients/{client_id}/safety-flags/{flag_id}/review",
    response=FlagOut,
    summary="Close a vital-signs flag with a prescriber's or nurse's review of what was done",
)
def review_flag(
    request: HttpRequest, client_id: uuid.UUID, flag_id: uuid.UUID, payload: FlagReviewIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    flag = get_object_or_404(SafetyFlag, client=client, public_id=flag_id)
    return flag_out(vitals_flag_review(actor=user, flag=flag, note=payload.review_note))
