"""The medication catalogue: antidepressants with their minimum adequate dose, and the other
drugs that matter alongside ketamine, with their interaction categories. Editable by practice
admins; the defaults come from kapcare.medications.seed (clinical-facts §1.3 and §4)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from kapcare.core.models import TrackedModel


class Kind(models.TextChoices):
    ANTIDEPRESSANT = "antidepressant", "Antidepressant"
    AUGMENTING = "augmenting", "Augmenting agent"
    OTHER = "other", "Other"


class AntidepressantClass(models.TextChoices):
    SSRI = "ssri", "SSRI"
    SNRI = "snri", "SNRI"
    TCA = "tca", "Tricyclic (TCA)"
    MAOI = "maoi", "MAO inhibitor"
    ATYPICAL = "atypical", "Atypical"
    MODULATOR = "modulator", "Serotonin modulator"
    OTHER = "other", "Other"


class Medication(TrackedModel):
    name = models.CharField(max_length=80, help_text="Generic name.")
    other_names = models.CharField(
        max_length=300, blank=True, help_text="Brand and other names, comma-separated."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    antidepressant_class = models.CharField(
        max_length=20, choices=AntidepressantClass.choices, blank=True
    )
    min_adequate_daily_dose_mg = models.DecimalField(
        "minimum adequate daily dose (mg)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="A trial below this dose is not adequate. Empty: no trial can count as adequate.",
    )
    min_dose_source = models.CharField(max_length=300, blank=True)
    usual_max_daily_dose_mg = models.DecimalField(
        "top of the usual daily range (mg)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Used only to catch data-entry slips (a dose far above it is refused).",
    )
    interaction_categories = models.JSONField(default=list, blank=True)
    lorazepam_equivalent_mg = models.DecimalField(
        "mg equal to 1 mg lorazepam",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Benzodiazepines only; empty means the daily lorazepam equivalent is unknown.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="medication_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_antidepressant(self) -> bool:
        return self.kind == Kind.ANTIDEPRESSANT
