"""Writing session notes: drafts, signing, addenda (habit 2: validate, then one audited
transaction).

Who does what, and why:
- A note is written by a clinician on the client's care team who holds the session (its
  clinician or second clinician): the note is their account of a session they were in.
- Only the author edits a draft and only the author signs it: a signature says "this is my
  account", which nobody can give for someone else. There is no co-signature.
- A draft may be written before the session (planning); signing needs the session marked held.
- A signed note never changes. Any clinician on the care team may add an addendum to it (a
  correction or a later addition, with its own author and time).

The audit log records which sections and modalities changed, never their text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now
from kapcare.courses.models import Appointment, State
from kapcare.notes import templates
from kapcare.notes.models import NoteAddendum, NoteState, SessionNote
from kapcare.notes.selectors import can_read_notes

ADDENDUM_MAX = templates.SECTION_MAX


def _refuse(problems: Sequence[templates.Problem]) -> None:
    if not problems:
        return
    errors: dict[str, list[ValidationError]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(
            ValidationError(problem.message, code=problem.rule)
        )
    raise ValidationError(errors)


def _require_writer(actor: User, client: Client) -> None:
    if not actor.is_clinician:
        raise field_error(
            "note", "Only a therapist, prescriber or nurse writes session notes.", "not_clinician"
        )
    if not can_read_notes(actor, client):
        raise field_error(
            "note",
            "Only a clinician on the client's care team writes their session notes.",
            "not_care_team",
        )


def _check_session(actor: User, appointment: Appointment) -> None:
    if appointment.kind not in templates.NOTE_KINDS:
        raise field_error(
            "appointment",
            f"A {appointment.get_kind_display().lower()} session has no session note here; "
            "notes are for preparation, integration and follow-up sessions.",
            "no_note_kind",
        )
    if actor.pk not in (appointment.clinician_id, appointment.second_clinician_id):
        raise field_error(
            "appointment",
            "The note of a session is written by a clinician who holds it.",
            "not_session_clinician",
        )
    if appointment.state in (State.CANCELLED, State.NO_SHOW):
        raise field_error(
            "appointment",
            f"This session is marked {appointment.get_state_display().lower()}; it has no note.",
            "not_held",
        )


def _audit(actor: User, note: SessionNote, action: str, after: Mapping[str, Any]) -> None:
    audit.record(
        actor=actor,
        action=action,
        subject_type="session_note",
        subject_public_id=note.public_id,
        client_public_id=note.client.public_id,
        after=after,
    )


def note_save_draft(
    *,
    actor: User,
    appointment: Appointment,
    fields: Mapping[str, Any],
    modalities: Sequence[Any] = (),
) -> SessionNote:
    """Start or change the draft note of a session. `fields` replaces every section (a section
    left out is empty), `modalities` replaces the list. A save that changes nothing writes
    nothing."""
    client = appointment.client
    _require_writer(actor, client)
    _check_session(actor, appointment)
    kind = appointment.kind
    cleaned, problems = templates.clean_fields(kind, fields)
    used, modality_problems = templates.clean_modalities(modalities)
    _refuse(problems + modality_problems)
    with transaction.atomic():
        # Lock the session, so that two first saves of its note cannot both create one.
        Appointment.objects.select_for_update().filter(pk=appointment.pk).exists()
        note = SessionNote.objects.select_for_update().filter(appointment=appointment).first()
        if note is None:
            note = SessionNote(
                client=client,
                appointment=appointment,
                kind=kind,
                author=actor,
                created_by=actor,
            )
            before_fields: Mapping[str, str] = {}
            before_modalities: Sequence[Mapping[str, Any]] = []
        else:
            if note.is_signed:
                raise field_error(
                    "note",
                    "This note is signed and cannot change; add an addendum instead.",
                    "signed",
                )
            if note.author_id != actor.pk:
                raise field_error(
                    "note", f"Only {note.author} (its author) edits this draft.", "not_author"
                )
            before_fields, before_modalities = note.fields, note.modalities
        sections = templates.changed_sections(kind, before_fields, cleaned)
        changed = templates.changed_modalities(before_modalities, used)
        if note.pk is not None and not sections and not changed:
            return note
        after: dict[str, Any] = {"sections_changed": sections, "modalities_changed": changed}
        if note.pk is None:
            after = {"appointment": str(appointment.public_id), "kind": kind, **after}
        note.fields = cleaned
        note.modalities = used
        note.updated_by = actor
        note.save()
        _audit(actor, note, "note.draft", after)
    return note


def note_sign(*, actor: User, note: SessionNote) -> SessionNote:
    """Sign a draft: its author, once the session is held and the required sections are
    written. From then on the note is part of the record for the whole care team."""
    _require_writer(actor, note.client)
    with transaction.atomic():
        # The stored note, locked: a stale copy must not be signed over a newer draft.
        locked = (
            SessionNote.objects.select_for_update()
            .select_related("appointment", "client")
            .get(pk=note.pk)
        )
        if locked.is_signed:
            raise field_error("note", "This note is already signed.", "signed")
        if locked.author_id != actor.pk:
            raise field_error(
                "note", f"Only {locked.author} (its author) signs this note.", "not_author"
            )
        if locked.appointment.state != State.HELD:
            raise field_error(
                "appointment",
                "Mark the session held before signing its note.",
                "not_held",
            )
        _refuse(templates.missing_to_sign(locked.kind, locked.fields))
        locked.state = NoteState.SIGNED
        locked.signed_by = actor
        locked.signed_at = now()
        locked.updated_by = actor
        locked.save()
        _audit(
            actor,
            locked,
            "note.sign",
            {"signed_at": locked.signed_at.isoformat(), "sections": list(locked.fields)},
        )
    return locked


def note_save_and_sign(
    *,
    actor: User,
    appointment: Appointment,
    fields: Mapping[str, Any],
    modalities: Sequence[Any] = (),
) -> SessionNote:
    """Save the draft as sent and sign it, both or neither (the page's "Save and sign")."""
    with transaction.atomic():
        note = note_save_draft(
            actor=actor, appointment=appointment, fields=fields, modalities=modalities
        )
        return note_sign(actor=actor, note=note)


def note_add_addendum(*, actor: User, note: SessionNote, text: str) -> NoteAddendum:
    """Add a dated addition or correction to a signed note."""
    _require_writer(actor, note.client)
    text = (text or "").strip()
    if not text:
        raise field_error("text", "Write the addendum.", "required")
    if len(text) > ADDENDUM_MAX:
        raise field_error("text", f"At most {ADDENDUM_MAX:,} characters.", "max_length")
    if not SessionNote.objects.filter(pk=note.pk, state=NoteState.SIGNED).exists():
        raise field_error(
            "note",
            "Addenda are added to signed notes; change the draft itself instead.",
            "not_signed",
        )
    addendum = NoteAddendum(note=note, text=text, author=actor, created_by=actor, updated_by=actor)
    with transaction.atomic():
        addendum.save()
        _audit(actor, note, "note.addendum", {"addendum": str(addendum.public_id)})
    return addendum
