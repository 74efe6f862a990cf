"""The base every kapcare record builds on, and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from kapcare.core.time import now


class TrackedModel(models.Model):
    """A record with a public UUID (the only id in URLs) and who created and last changed it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Not indexed: nothing looks rows up by who wrote them (the audit log answers "what did
    # this person do"), and an index per column on every tracked table would be kept up on
    # every write of the busiest tables (vitals, scales, questionnaires) for nothing. Staff
    # accounts are deactivated, never deleted, so the PROTECT check never needs them either.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )

    class Meta:
        abstract = True


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are immutable.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One thing someone did or saw: written in the same transaction as the change it records.

    Rows are append-only: the model refuses updates and deletes. Subjects are referenced by
    public id rather than foreign key so that the log outlives any record and never blocks one.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(default=now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    # The actor's username at the time, kept even if the account is later renamed.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=40)
    subject_public_id = models.UUIDField(null=True, db_index=True)
    client_public_id = models.UUIDField(null=True, db_index=True)
    channel = models.CharField(max_length=10)
    ip = models.GenericIPAddressField(null=True)
    request_id = models.CharField(max_length=32)
    before = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    detail = models.JSONField(null=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client_public_id", "-at"], name="audit_client_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are never deleted.")
