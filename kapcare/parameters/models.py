"""Signed-off versions of clinical rule parameters. Rows are never changed: a new value is a new
version, so every screen result can name the exact versions it used."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from kapcare.core.models import TrackedModel
from kapcare.core.time import now


class ParameterVersion(TrackedModel):
    key = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    value = models.JSONField()
    source = models.CharField(
        max_length=500, help_text="Where the value comes from: label, guideline, protocol, policy."
    )
    reason = models.TextField(help_text="Why the practice chose this value.")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="parameter_key_version")
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("A signed-off parameter version is never changed.")
        super().save(*args, **kwargs)
