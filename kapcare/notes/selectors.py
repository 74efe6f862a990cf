"""Reads of session notes, and who may read them.

Callers have already passed the client's access check (access_client / open_chart); these
functions narrow further. Session notes hold what a client said in therapy, so they are read by
the clinicians (therapist, prescriber, nurse) on the client's active care team: front desk and
practice admins see the chart but not the notes. A draft is its author's alone until signed.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from kapcare.accounts.models import User, name_fields
from kapcare.clients.models import Client
from kapcare.core.prepared import prepared
from kapcare.core.time import now
from kapcare.courses.models import Appointment, State
from kapcare.notes.models import NoteState, SessionNote
from kapcare.notes.templates import NOTE_KINDS


def can_read_notes(user: User, client: Client) -> bool:
    """A clinician on the client's active care team (also who may write them)."""
    if not (user.is_active and user.is_clinician):
        return False
    team = getattr(client, "active_team", None)
    if team is not None:  # the chart has read the team already (clients.selectors.chart)
        return any(member.staff_id == user.pk for member in team)
    return client.care_team.filter(staff=user, ended_at__isnull=True).exists()


def _visible(user: User) -> Q:
    return Q(state=NoteState.SIGNED) | Q(author=user)


def notes_for_client(user: User, client: Client) -> QuerySet[SessionNote]:
    """The client's signed notes and the user's own drafts, newest session first; none for a
    person who may not read notes."""
    if not can_read_notes(user, client):
        return SessionNote.objects.none()
    return (
        SessionNote.objects.filter(_visible(user), client=client)
        .select_related("appointment", "author", "signed_by")
        .annotate(addenda_count=Count("addenda"))
        .order_by("-appointment__starts_at", "-id")
    )


def note_for_appointment(appointment: Appointment) -> SessionNote | None:
    """The appointment's note in any state, with its addenda. Callers decide what to show with
    `is_visible_to` (someone else's draft is named, never shown)."""
    return (
        SessionNote.objects.filter(appointment=appointment)
        .select_related("author", "signed_by")
        .prefetch_related("addenda__author")
        .first()
    )


def is_visible_to(user: User, note: SessionNote) -> bool:
    """For a reader of the client's notes: a signed note, or their own draft."""
    return note.is_signed or note.author_id == user.pk


def sessions_waiting_for_a_note(user: User, client: Client) -> QuerySet[Appointment]:
    """The sessions this person held (or is holding) for the client that have no note yet:
    the ones they can start writing."""
    return client.appointments.filter(
        Q(clinician=user) | Q(second_clinician=user),
        kind__in=NOTE_KINDS,
        state__in=(State.BOOKED, State.HELD),
        starts_at__lte=now(),
        session_note__isnull=True,
    ).order_by("-starts_at")


CHART_NOTES = 5  # the chart lists this many


def latest_signed_notes(
    user: User, client: Client, limit: int = CHART_NOTES
) -> list[SessionNote] | None:
    """The client's latest signed notes for the chart, newest session first; None when this
    person does not read session notes (the chart then leaves the section out)."""
    if not can_read_notes(user, client):
        return None
    if limit == CHART_NOTES:
        return _latest_signed(client.pk)
    return list(_signed(client.pk)[:limit])


def _signed(client_id: int) -> QuerySet[SessionNote]:
    return (
        SessionNote.objects.filter(client_id=client_id, state=NoteState.SIGNED)
        .select_related("appointment", "author")
        # The chart lists the notes (date, kind, author, link); it does not show them.
        .only(
            "client",
            "kind",
            "appointment",
            "appointment__public_id",
            "appointment__starts_at",
            *name_fields("author"),
        )
        .order_by("-appointment__starts_at", "-id")
    )


@prepared(arguments=1)
def _latest_signed(client_id: int) -> QuerySet[SessionNote]:
    # Read on every chart: compiled once (kapcare.core.prepared).
    return _signed(client_id)[:CHART_NOTES]
