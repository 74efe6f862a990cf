"""Sessions and notes for the notes tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment, Course, State
from kapcare.notes import services
from kapcare.notes.models import NoteAddendum, SessionNote

PREPARATION = {
    "history": "Two failed SSRIs; a car accident in 2019.",
    "intentions": "To feel something again with my children.",
    "safety_plan": "Sister as support person; crisis line; ride home arranged.",
}
INTEGRATION = {
    "experience": "Felt far away, then warm; saw the old house.",
    "follow_up": "Second dose as planned on Friday.",
}
EMDR = {"modality": "emdr", "sets": 12, "targets": "The accident: the sound of the brakes."}


def course_of(client: Client, actor: User) -> Course:
    course = Course.objects.filter(client=client, ended_on__isnull=True).first()
    return course or Course.objects.create(
        client=client,
        protocol="kap_sublingual",
        started_on=practice_today(),
        created_by=actor,
        updated_by=actor,
    )


def session(
    client: Client,
    clinician: User,
    *,
    kind: str = "preparation",
    state: str = State.HELD,
    hours_from_now: float = -3,
    second_clinician: User | None = None,
) -> Appointment:
    """A session of the client, by default held three hours ago."""
    starts_at = now() + dt.timedelta(hours=hours_from_now)
    return Appointment.objects.create(
        client=client,
        course=course_of(client, clinician),
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=50),
        clinician=clinician,
        second_clinician=second_clinician,
        state=state,
        created_by=clinician,
        updated_by=clinician,
    )


def signed_note(client: Client, author: User, **session_options: Any) -> SessionNote:
    appointment = session(client, author, **session_options)
    fields = PREPARATION if appointment.kind == "preparation" else INTEGRATION
    note = services.note_save_draft(actor=author, appointment=appointment, fields=fields)
    return services.note_sign(actor=author, note=note)


def counts() -> tuple[int, int, int]:
    return SessionNote.objects.count(), NoteAddendum.objects.count(), AuditEvent.objects.count()


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    """The service's errors as field -> rules, after checking that nothing was written."""
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {
        field: [error.code or "" for error in errors]
        for field, errors in raised.value.error_dict.items()
    }
