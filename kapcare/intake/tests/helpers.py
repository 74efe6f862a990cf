"""Shared test data for the intake tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, Client, StatusChange
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.intake.models import Inquiry, InquiryAttempt, InquiryStep
from kapcare.intake.services import inquiry_book_consultation, inquiry_create


def inquiry_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "given_name": "Rowan",
        "family_name": "Achterberg",
        "preferred_name": "",
        "email": "rowan@example.org",
        "phone": "(555) 555-0150",
        "preferred_channel": "email",
        "date_of_birth": dt.date(1987, 9, 23),
        "message": "My therapist suggested ketamine-assisted therapy for long-standing depression.",
        "heard_from": "provider",
    }
    fields.update(overrides)
    return fields


def make_inquiry(**overrides: Any) -> Inquiry:
    return inquiry_create(actor=None, fields=inquiry_fields(**overrides), consent=True)


def booked_inquiry(clinician: User, actor: User, hours_ahead: int = 48) -> Inquiry:
    return inquiry_book_consultation(
        actor=actor,
        inquiry=make_inquiry(),
        starts_at=now() + dt.timedelta(hours=hours_ahead),
        clinician=clinician,
    )


def row_counts() -> dict[str, int]:
    """Every table an intake action may write to."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Inquiry,
            InquiryStep,
            InquiryAttempt,
            AuditEvent,
            Client,
            CareTeamMember,
            StatusChange,
        )
    }
