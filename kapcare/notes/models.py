"""Session notes for preparation, integration and follow-up sessions, and their addenda.

A note is a draft while its author writes it, then signed: from then on it never changes
(habit 12), and corrections or later additions are addenda. The application refuses to save a
signed note or to change an addendum, and database triggers (migration 0002) refuse it too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.courses.models import Appointment


class NoteKind(models.TextChoices):
    # The same values as the appointment kinds they document.
    PREPARATION = "preparation", "Preparation"
    INTEGRATION = "integration", "Integration"
    FOLLOW_UP = "follow_up", "Follow-up"


class NoteState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class SignedNoteChanged(PermissionError):
    """Raised when code tries to change a signed note or an addendum."""


class SessionNoteQuerySet(models.QuerySet["SessionNote"]):
    # Bulk writes would bypass the per-row check in save(); notes change one at a time through
    # the services, and nothing clinical is hard-deleted.
    def update(self, **kwargs: Any) -> int:
        raise SignedNoteChanged("Session notes change only through their services.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SignedNoteChanged("Session notes are never deleted.")


class SessionNote(TrackedModel):
    """The note of one session: structured sections (`fields`, section code → text, see
    kapcare.notes.templates) and the modalities used. One note per appointment, shared by the
    care team once signed."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="session_notes")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="session_note"
    )
    kind = models.CharField(max_length=20, choices=NoteKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(default=dict, blank=True)
    modalities = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=NoteState.choices, default=NoteState.DRAFT)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    objects = SessionNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(state="draft", signed_at__isnull=True, signed_by__isnull=True)
                    | Q(state="signed", signed_at__isnull=False, signed_by__isnull=False)
                ),
                name="note_signed_has_signer_and_time",
            )
        ]
        indexes = [models.Index(fields=["client", "state"], name="note_client_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note, {self.get_state_display().lower()}"

    @property
    def is_signed(self) -> bool:
        return self.state == NoteState.SIGNED

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Look at the stored row, not at this object: the object may already say "signed" (the
        # signing save itself), and a stale copy must not overwrite a note signed meanwhile.
        if self.pk is not None and not self._state.adding:
            stored = SessionNote.objects.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored == NoteState.SIGNED:
                raise SignedNoteChanged("A signed note cannot change; add an addendum.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SignedNoteChanged("Session notes are never deleted.")


class NoteAddendumQuerySet(models.QuerySet["NoteAddendum"]):
    def update(self, **kwargs: Any) -> int:
        raise SignedNoteChanged("Addenda are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SignedNoteChanged("Addenda are never deleted.")


class NoteAddendum(TrackedModel):
    """A dated addition to a signed note, by any clinician of the care team: append-only."""

    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = NoteAddendumQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"addendum of {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SignedNoteChanged("Addenda are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SignedNoteChanged("Addenda are never deleted.")
