"""Safety flags (a reason to look now) and the risk assessments that close them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.core.time import now


class Severity(models.TextChoices):
    # Order matters: later is more severe.
    REVIEW = "review", "Same-day review"
    MODERATE = "moderate", "Moderate risk"
    HIGH = "high", "High risk"


class FlagKind(models.TextChoices):
    SUICIDE_RISK = "suicide_risk", "Suicide risk"
    VITAL_SIGNS = "vital_signs", "Vital signs"


class RiskLevel(models.TextChoices):
    NONE = "none", "No current risk identified"
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class RiskAssessment(TrackedModel):
    """A clinician's structured suicide-risk assessment: what they found and what was done."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="risk_assessments")
    assessed_at = models.DateTimeField(default=now)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    actions = models.TextField(help_text="What was done: who was told, what was arranged.")
    safety_plan = models.TextField(help_text="The safety plan reviewed or made with the client.")

    class Meta:
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_risk_level_display()} risk, {self.assessed_at:%Y-%m-%d}"


class SafetyFlagQuerySet(models.QuerySet["SafetyFlag"]):
    def open(self) -> SafetyFlagQuerySet:
        return self.filter(closed_at__isnull=True)


class SafetyFlag(TrackedModel):
    """A reason to look now. A suicide-risk flag is raised by an answer and closed by a risk
    assessment; a vital-signs flag is raised by a reading past a stop rule in a dosing session
    and closed by a prescriber's or nurse's review saying what was done.

    An open flag is what later blocks a dosing session (kapcare.safety.selectors.blocks_dosing).
    """

    client = models.ForeignKey(  # flag_client_open leads with it: no index of its own
        Client, on_delete=models.PROTECT, related_name="safety_flags", db_index=False
    )
    kind = models.CharField(max_length=14, choices=FlagKind.choices, default=FlagKind.SUICIDE_RISK)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    reason = models.CharField(max_length=300)
    source_administration = models.ForeignKey(
        "measures.Administration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_flags",
    )
    # A vital-signs flag's session and rule (the reading that raised it is named in the reason);
    # one open flag per session and rule, however many readings stay past it.
    rule = models.CharField(max_length=40, blank=True)
    source_session = models.ForeignKey(
        "dosing.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_flags",
    )
    raised_at = models.DateTimeField(default=now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_assessment = models.ForeignKey(
        RiskAssessment, null=True, blank=True, on_delete=models.PROTECT, related_name="closed_flags"
    )
    review_note = models.TextField(
        blank=True, help_text="A vital-signs flag's review: what was found and done."
    )

    objects = SafetyFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["client", "closed_at"], name="flag_client_open"),
            # The banner on every page reads the open flags of the whole practice (admins):
            # a small index of the open ones, not a scan of years of closed flags.
            models.Index(
                fields=["-raised_at"], condition=Q(closed_at__isnull=True), name="flag_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
