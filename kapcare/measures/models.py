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

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="administrations")
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
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
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
