"""Session note pages: a client's notes, and the note of one session (write the draft, sign it,
read it once signed, add addenda). Every page starts from the client's access check."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.time import now
from kapcare.core.views import staff_user
from kapcare.courses.models import Appointment, State
from kapcare.notes import selectors, services, templates
from kapcare.notes.forms import AddendumForm, NoteForm, initial_for
from kapcare.notes.models import SessionNote
from kapcare.outcomes.progress import client_progress


@require_GET
def note_list_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = open_chart(user, client_id, view="notes")
    reader = selectors.can_read_notes(user, client)
    context = {
        "client": client,
        "reader": reader,
        "notes": list(selectors.notes_for_client(user, client)) if reader else [],
        "waiting": list(selectors.sessions_waiting_for_a_note(user, client)) if reader else [],
    }
    return render(request, "notes/list.html", context)


def _appointment(client: Client, appointment_id: uuid.UUID) -> Appointment:
    """A session of this client that takes a note (others have no note page)."""
    return get_object_or_404(
        client.appointments.filter(kind__in=templates.NOTE_KINDS).select_related(
            "clinician", "second_clinician"
        ),
        public_id=appointment_id,
    )


def _page(
    request: HttpRequest,
    user: User,
    client: Client,
    appointment: Appointment,
    *,
    note_form: NoteForm | None = None,
    addendum_form: AddendumForm | None = None,
    status: int = 200,
) -> HttpResponse:
    note = selectors.note_for_appointment(appointment)
    reader = selectors.can_read_notes(user, client)
    template = templates.TEMPLATES[appointment.kind]
    visible = note if note is not None and reader and selectors.is_visible_to(user, note) else None
    holds_session = user.pk in (appointment.clinician_id, appointment.second_clinician_id)
    can_draft = (
        reader
        and holds_session
        and appointment.state not in (State.CANCELLED, State.NO_SHOW)
        and (note is None or (not note.is_signed and note.author_id == user.pk))
    )
    # A form posted where the page no longer shows it (a draft signed meanwhile, an addendum to
    # a draft, a person who may not write): its errors go to the top of the page.
    shows_addendum = reader and visible is not None and visible.is_signed
    stray = [
        message
        for posted, shown in ((note_form, can_draft), (addendum_form, shows_addendum))
        if posted is not None and not shown
        for messages_ in posted.errors.values()
        for message in messages_
    ]
    # The client's scores while a note is written: shown in a box, and pre-filled into the
    # template's measures section of a new draft (the writer keeps, edits or removes them).
    measures = client_progress(client, now=now()) if can_draft else None
    measures_text = measures.note_text if measures is not None else ""
    initial = initial_for(note)
    if note is None and measures_text:
        initial = templates.with_measures(appointment.kind, initial, measures_text)
    context: dict[str, Any] = {
        "measures": measures,
        "measures_text": measures_text,
        "stray_errors": stray,
        "client": client,
        "appointment": appointment,
        "template": template,
        "reader": reader,
        "note": visible,
        # Someone else's draft is named (so nobody starts a second note), never shown.
        "drafting": note.author if note is not None and visible is None and reader else None,
        "can_draft": can_draft,
        "can_sign": can_draft and appointment.state == State.HELD,
        "form": note_form
        if note_form is not None
        else (NoteForm(template, initial=initial) if can_draft else None),
        "addendum_form": addendum_form if addendum_form is not None else AddendumForm(),
        "sections": _sections(template, visible) if visible and visible.is_signed else [],
        "modalities": _modalities(visible) if visible and visible.is_signed else [],
    }
    return render(request, "notes/edit.html", context, status=status)


def _sections(template: templates.NoteTemplate, note: SessionNote) -> list[tuple[str, str]]:
    return [(s.label, note.fields[s.code]) for s in template.sections if s.code in note.fields]


def _modalities(note: SessionNote) -> list[tuple[str, str]]:
    shown = []
    for entry in note.modalities:
        label = templates.MODALITY_LABELS.get(entry["modality"], entry["modality"])
        if entry["modality"] == templates.EMDR:
            shown.append((label, f"{entry['sets']} sets. Targets: {entry['targets']}"))
        else:
            shown.append((label, entry.get("detail", "")))
    return shown


def _show_errors(
    form: forms.BaseForm,
    error: ValidationError,
    target: Callable[[str], str | None] | None = None,
) -> None:
    """A service's errors on the fields that entered them, the rest at the top of the form."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for service_field, messages_ in error.message_dict.items():
        field = target(service_field) if target else None
        if field is None and service_field in form.fields:
            field = service_field
        for message in messages_:
            form.add_error(field, message)


@require_http_methods(["GET", "POST"])
def note_edit_view(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        client = open_chart(user, client_id, view="note")
        return _page(request, user, client, _appointment(client, appointment_id))
    client = access_client(user, client_id, write=True)
    appointment = _appointment(client, appointment_id)
    action = request.POST.get("action")
    if action == "addendum":
        return _add_addendum(request, user, client, appointment)
    template = templates.TEMPLATES[appointment.kind]
    if action == "measures":
        return _add_measures(request, user, client, appointment)
    form = NoteForm(template, request.POST)
    if action not in ("save", "sign"):
        form.add_error(None, "Choose Save draft or Save and sign.")
    elif form.is_valid():
        save = services.note_save_and_sign if action == "sign" else services.note_save_draft
        try:
            save(
                actor=user,
                appointment=appointment,
                fields=form.note_fields(),
                modalities=form.modalities(),
            )
        except ValidationError as error:
            _show_errors(form, error, form.field_for)
        else:
            done = "Note signed. It is now part of the record." if action == "sign" else "Saved."
            messages.success(request, done)
            return redirect(_edit_url(client, appointment))
    return _page(request, user, client, appointment, note_form=form, status=400)


def _add_measures(
    request: HttpRequest, user: User, client: Client, appointment: Appointment
) -> HttpResponse:
    """The form as posted, with the client's scores added to the measures section; nothing is
    saved until the writer saves the draft."""
    data = request.POST.copy()
    text = client_progress(client, now=now()).note_text
    template = templates.TEMPLATES[appointment.kind]
    code = template.measures_section
    if code is not None:
        data[code] = templates.with_measures(appointment.kind, {code: data.get(code, "")}, text)[
            code
        ]
    return _page(request, user, client, appointment, note_form=NoteForm(template, data))


def _add_addendum(
    request: HttpRequest, user: User, client: Client, appointment: Appointment
) -> HttpResponse:
    form = AddendumForm(request.POST)
    note = selectors.note_for_appointment(appointment)
    if note is None or not note.is_signed:
        form.add_error(None, "Addenda are added to signed notes.")
    elif form.is_valid():
        try:
            services.note_add_addendum(actor=user, note=note, text=form.cleaned_data["text"])
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, "Addendum added.")
            return redirect(_edit_url(client, appointment) + "#addenda")
    return _page(request, user, client, appointment, addendum_form=form, status=400)


def _edit_url(client: Client, appointment: Appointment) -> str:
    return reverse("notes:edit", args=[client.public_id, appointment.public_id])
