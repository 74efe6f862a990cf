"""A completed questionnaire or score entry for a client: answers and the scores computed then."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.core.time import now


class Source(models.TextChoices):
    CLINIC = "clinic", "Completed in the clinic (entered by staff)"
    SCORE_ENTRY = "score_entry", "Score entered from a licensed form"
    SELF_REPORT = "self_report", "Completed by the client from a link"


class AdministrationQuerySet(models.QuerySet["Administration"]):
    def current(self) -> AdministrationQuerySet:
        """Administrations that have not been replaced by a correction."""
        return self.filter(replaced_by__isnull=True)


class Administration(TrackedModel):
    """Immutable once saved: a correction is a new administration that `replaces` this one."""

    client = models.ForeignKey(  # admin_client_instr leads with it: no index of its own
        Client, on_delete=models.PROTECT, related_name="administrations", db_index=False
    )
    instrument = models.CharField(max_length=40)
    source = models.CharField(max_length=20, choices=Source.choices)
    completed_at = models.DateTimeField(default=now)
    answers = models.JSONField(encoder=DjangoJSONEncoder)
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=60, blank=True)
    complete = models.BooleanField()
    prorated = models.BooleanField(default=False)
    missing = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    scoring_version = models.CharField(max_length=20)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    correction_reason = models.CharField(max_length=300, blank=True)
    # None when the client completed the form from a self-report link.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AdministrationQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_at", "-id"]
        indexes = [
            models.Index(
                fields=["client", "instrument", "completed_at"], name="admin_client_instr"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(replaces__isnull=True) | ~Q(correction_reason=""),
                name="correction_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} on {self.completed_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(
                "A completed administration is never changed; record a correction instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Administrations are never deleted; record a correction instead.")


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class SelfReportLink(TrackedModel):
    """A single-use, expiring link through which a client completes questionnaires.

    Only a SHA-256 of the link's secret is stored. Partial answers are kept here until the
    client submits each questionnaire; each submitted one becomes an Administration.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="self_report_links")
    instruments = models.JSONField()
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    expires_at = models.DateTimeField()
    progress = models.JSONField(default=dict, blank=True)
    completed_instruments = models.JSONField(default=list, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Self-report link ({', '.join(self.instruments)})"

    @property
    def remaining(self) -> list[str]:
        return [code for code in self.instruments if code not in self.completed_instruments]

    def state(self, at: Any = None) -> str:
        if self.completed_at is not None:
            return "completed"
        if (at or now()) >= self.expires_at:
            return "expired"
        if self.first_opened_at is not None:
            return "in_progress"
        return "sent"
