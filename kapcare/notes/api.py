"""Session notes in the JSON API: the same access rules, services and audit as the pages.

Reads go through the client's access check, then the notes check (clinicians on the care team;
anyone else on the team gets 403), then open_chart (an audited read). A note is found only
through its client and only when the caller may see it (signed, or their own draft): any other
id is 404. Writes go through access_client(write=True) and the services, which hold every rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.api_schemas import StrictSchema
from kapcare.notes import selectors, services
from kapcare.notes.models import NoteAddendum, SessionNote

router = Router(tags=["notes"])

NOT_A_READER = (
    "Session notes are read by the clinicians (therapist, prescriber, nurse) on the client's "
    "care team."
)


class AddendumOut(Schema):
    id: uuid.UUID
    text: str
    author: str
    author_id: uuid.UUID
    created_at: dt.datetime


class NoteOut(Schema):
    id: uuid.UUID
    appointment_id: uuid.UUID
    kind: str
    session_starts_at: dt.datetime
    state: str
    author: str
    author_id: uuid.UUID
    fields: dict[str, str]
    modalities: list[dict[str, Any]]
    signed_by: str | None
    signed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    addenda: list[AddendumOut]


class ModalityIn(StrictSchema):
    modality: str
    sets: int | None = None
    targets: str | None = None
    detail: str | None = None


class NoteIn(StrictSchema):
    # Both optional: an empty draft is a valid start, and a body that is only `{}` reaches the
    # access check (an outsider gets the same 404 as for a client that does not exist).
    fields: dict[str, str] = Field(default_factory=dict)
    modalities: list[ModalityIn] = Field(default_factory=list)


class AddendumIn(StrictSchema):
    text: str = ""


def addendum_out(addendum: NoteAddendum) -> dict[str, Any]:
    return {
        "id": addendum.public_id,
        "text": addendum.text,
        "author": str(addendum.author),
        "author_id": addendum.author.public_id,
        "created_at": addendum.created_at,
    }


def note_out(note: SessionNote) -> dict[str, Any]:
    return {
        "id": note.public_id,
        "appointment_id": note.appointment.public_id,
        "kind": note.kind,
        "session_starts_at": note.appointment.starts_at,
        "state": note.state,
        "author": str(note.author),
        "author_id": note.author.public_id,
        "fields": note.fields,
        "modalities": note.modalities,
        "signed_by": str(note.signed_by) if note.signed_by else None,
        "signed_at": note.signed_at,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "addenda": [addendum_out(addendum) for addendum in note.addenda.all()],
    }


def _notes(user: User, client: Client) -> Any:
    return selectors.notes_for_client(user, client).prefetch_related("addenda__author")


def _reader_client(user: User, client_id: uuid.UUID, view: str) -> Client:
    client = access_client(user, client_id)
    if not selectors.can_read_notes(user, client):
        raise PermissionDenied(NOT_A_READER)
    return open_chart(user, client_id, view=view)


def _note(user: User, client: Client, note_id: uuid.UUID) -> SessionNote:
    return get_object_or_404(_notes(user, client), public_id=note_id)


@router.get(
    "/clients/{client_id}/notes",
    response=list[NoteOut],
    summary="The client's signed session notes and your own drafts, newest session first",
)
def list_notes(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    user = api_caller(request)
    client = _reader_client(user, client_id, "api.notes")
    return [note_out(note) for note in _notes(user, client)]


@router.get(
    "/clients/{client_id}/notes/{note_id}",
    response=NoteOut,
    summary="One session note with its addenda",
)
def read_note(request: HttpRequest, client_id: uuid.UUID, note_id: uuid.UUID) -> dict[str, Any]:
    user = api_caller(request)
    client = _reader_client(user, client_id, "api.note")
    return note_out(_note(user, client, note_id))


@router.put(
    "/clients/{client_id}/appointments/{appointment_id}/note",
    response=NoteOut,
    summary="Write the draft note of a session (every section and modality as sent)",
)
def save_draft(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID, payload: NoteIn
) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    appointment = get_object_or_404(client.appointments, public_id=appointment_id)
    note = services.note_save_draft(
        actor=user,
        appointment=appointment,
        fields=payload.fields,
        modalities=[entry.model_dump(exclude_none=True) for entry in payload.modalities],
    )
    return note_out(_note(user, client, note.public_id))


@router.post(
    "/clients/{client_id}/notes/{note_id}/sign",
    response=NoteOut,
    summary="Sign your draft: from then on it is shared with the care team and never changes",
)
def sign_note(request: HttpRequest, client_id: uuid.UUID, note_id: uuid.UUID) -> dict[str, Any]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    note = services.note_sign(actor=user, note=_note(user, client, note_id))
    return note_out(_note(user, client, note.public_id))


@router.post(
    "/clients/{client_id}/notes/{note_id}/addenda",
    response={201: AddendumOut},
    summary="Add an addendum to a signed note",
)
def add_addendum(
    request: HttpRequest, client_id: uuid.UUID, note_id: uuid.UUID, payload: AddendumIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    addendum = services.note_add_addendum(
        actor=user, note=_note(user, client, note_id), text=payload.text
    )
    return Status(201, addendum_out(addendum))
