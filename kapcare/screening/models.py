"""Screening records: the current episode and its treatment history, current medications, intake
blood pressure, the contraindication answers, every screen result, and prescribers' decisions."""

from __future__ import annotations

import decimal

from django.conf import settings
from django.db import models

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.core.time import now
from kapcare.medications.models import Medication


class Adherence(models.TextChoices):
    GOOD = "good", "Good"
    PARTIAL = "partial", "Partial"
    POOR = "poor", "Poor"
    UNKNOWN = "unknown", "Not known"


class TrialOutcome(models.TextChoices):
    NON_RESPONSE = "non_response", "Non-response"
    PARTIAL = "partial_response", "Partial response"
    INTOLERANCE = "intolerance", "Stopped: intolerance"
    ONGOING = "ongoing", "Ongoing"
    RESPONSE = "response", "Response"


class Laterality(models.TextChoices):
    BILATERAL = "bilateral", "Bilateral"
    RIGHT_UNILATERAL = "right_unilateral", "Right unilateral"
    UNKNOWN = "unknown", "Not known"


MSM_SEVERITY_CHOICES = [
    ("subsyndromal", "Subsyndromal"),
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe without psychosis"),
    ("severe_psychotic", "Severe with psychosis"),
]


class Episode(TrackedModel):
    """The current depressive episode starts at the latest `started_on`."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    started_on = models.DateField("episode start")
    severity = models.CharField(
        "severity for the Maudsley staging",
        max_length=20,
        blank=True,
        choices=MSM_SEVERITY_CHOICES,
        help_text="The clinician's rating; empty: taken from the latest PHQ-9 or MADRS.",
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"episode from {self.started_on}"


class HistoryItem(TrackedModel):
    """A past or current treatment. Entries are corrected in place (audited) or removed as
    entered in error (kept, with who and why); they are never deleted."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField("start")
    ended_on = models.DateField("end", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["started_on", "id"]


class AntidepressantTrial(HistoryItem):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="antidepressant_trials"
    )
    medication = models.ForeignKey(
        Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drug_text = models.CharField(
        "drug (not in the catalogue)",
        max_length=80,
        blank=True,
        help_text="Unverified: never counted as an adequate trial.",
    )
    max_daily_dose_mg = models.DecimalField(
        "highest daily dose (mg)", max_digits=7, decimal_places=2
    )
    adherence = models.CharField(max_length=10, choices=Adherence.choices)
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)

    class Meta(HistoryItem.Meta):
        pass

    @property
    def drug_name(self) -> str:
        return self.medication.name if self.medication else self.drug_text

    def __str__(self) -> str:
        return f"{self.drug_name} {self.max_daily_dose_mg} mg/day from {self.started_on}"


class Augmentation(HistoryItem):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="augmentations")
    medication = models.ForeignKey(
        Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agent_text = models.CharField("agent (not in the catalogue)", max_length=80, blank=True)
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)

    class Meta(HistoryItem.Meta):
        pass

    @property
    def agent_name(self) -> str:
        return self.medication.name if self.medication else self.agent_text

    def __str__(self) -> str:
        return f"{self.agent_name} from {self.started_on}"


class EctCourse(HistoryItem):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ect_courses")
    sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    laterality = models.CharField(max_length=20, choices=Laterality.choices)
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)

    class Meta(HistoryItem.Meta):
        pass

    def __str__(self) -> str:
        return f"ECT from {self.started_on}"


class PsychotherapyCourse(HistoryItem):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="psychotherapy_courses"
    )
    modality = models.CharField(max_length=80, help_text="CBT, IPT, EMDR, psychodynamic...")
    sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta(HistoryItem.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.modality} from {self.started_on}"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    G = "g", "g"
    ML = "mL", "mL"
    UNITS = "units", "units"
    OTHER = "other", "other"


class Frequency(models.TextChoices):
    ONCE_DAILY = "once_daily", "Once a day"
    TWICE_DAILY = "twice_daily", "Twice a day"
    THREE_TIMES_DAILY = "three_times_daily", "Three times a day"
    FOUR_TIMES_DAILY = "four_times_daily", "Four times a day"
    AT_NIGHT = "at_night", "At night"
    WEEKLY = "weekly", "Weekly"
    AS_NEEDED = "as_needed", "As needed"
    OTHER = "other", "Other"


TIMES_PER_DAY = {
    Frequency.ONCE_DAILY: 1,
    Frequency.TWICE_DAILY: 2,
    Frequency.THREE_TIMES_DAILY: 3,
    Frequency.FOUR_TIMES_DAILY: 4,
    Frequency.AT_NIGHT: 1,
}
MG_PER_UNIT = {
    DoseUnit.MG: decimal.Decimal(1),
    DoseUnit.MCG: decimal.Decimal("0.001"),
    DoseUnit.G: decimal.Decimal(1000),
}


class CurrentMedication(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="current_medications")
    medication = models.ForeignKey(
        Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drug_text = models.CharField("drug (not in the catalogue)", max_length=80, blank=True)
    dose_amount = models.DecimalField(max_digits=9, decimal_places=3)
    dose_unit = models.CharField(max_length=10, choices=DoseUnit.choices, default=DoseUnit.MG)
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def drug_name(self) -> str:
        return self.medication.name if self.medication else self.drug_text

    @property
    def daily_mg(self) -> decimal.Decimal | None:
        """The total a day in mg, when the unit and frequency allow it (not for 'as needed')."""
        times = TIMES_PER_DAY.get(Frequency(self.frequency))
        per_unit = MG_PER_UNIT.get(DoseUnit(self.dose_unit))
        if times is None or per_unit is None:
            return None
        return self.dose_amount * per_unit * times

    @property
    def dose_display(self) -> str:
        return f"{self.dose_amount.normalize():f} {self.dose_unit}"

    def __str__(self) -> str:
        return f"{self.drug_name} {self.dose_display} {self.get_frequency_display()}"


class BloodPressureReading(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="bp_readings")
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    taken_at = models.DateTimeField(default=now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


class ScreeningAnswers(TrackedModel):
    client = models.OneToOneField(
        Client, on_delete=models.PROTECT, related_name="screening_answers"
    )
    answers = models.JSONField(default=dict)


class ScreenRun(TrackedModel):
    """One result of the screen, stored whenever it changes (and when a decision is made), with
    the parameter versions it used, so that any decision can be traced to what it saw."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="screen_runs")
    ran_at = models.DateTimeField(default=now)
    trigger = models.CharField(max_length=120)
    status = models.CharField(max_length=20)
    signature = models.CharField(max_length=32)
    findings = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    parameter_versions = models.JSONField(default=dict)
    is_trd = models.BooleanField(default=False)
    failed_trials = models.PositiveSmallIntegerField(default=0)
    msm_total = models.PositiveSmallIntegerField(null=True, blank=True)
    msm_band = models.CharField(max_length=20, blank=True)
    thase_rush_stage = models.PositiveSmallIntegerField(default=0)
    trauma_focused = models.BooleanField(default=False)

    class Meta:
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["client", "-ran_at"], name="screen_run_client_at")]

    def __str__(self) -> str:
        return f"{self.status} at {self.ran_at:%Y-%m-%d %H:%M}"

    @property
    def status_label(self) -> str:
        from kapcare.screening.rules import RESULT_LABELS

        return RESULT_LABELS.get(self.status, self.status)


class Decision(models.TextChoices):
    CLEARED = "cleared", "Cleared"
    CLEARED_WITH_CONDITIONS = "cleared_with_conditions", "Cleared with conditions"
    NOT_CLEARED = "not_cleared", "Not cleared"


class ScreeningDecision(TrackedModel):
    """A prescriber's signed decision on one screen result. A later decision supersedes it; a
    changed screen result invalidates it (kept, with when and why)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="screening_decisions")
    version = models.PositiveIntegerField()
    screen_run = models.ForeignKey(ScreenRun, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=30, choices=Decision.choices)
    conditions = models.TextField(blank=True)
    note = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=now)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidated_by_run = models.ForeignKey(
        ScreenRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invalidation_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["client", "version"], name="screening_decision_version")
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.get_decision_display()}"

    @property
    def is_clearance(self) -> bool:
        return self.decision in (Decision.CLEARED, Decision.CLEARED_WITH_CONDITIONS)


class ScreeningState(models.Model):
    """Per client, what the prescribers' queue needs, kept by the screening services so that the
    home page reads one indexed row per waiting client instead of every client's history."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="screening_state")
    status = models.CharField(max_length=20)
    run_at = models.DateTimeField()
    awaiting_decision = models.BooleanField(default=False)
    withdrawn_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["-run_at"],
                name="screening_state_waiting",
                condition=models.Q(awaiting_decision=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}{' (waiting)' if self.awaiting_decision else ''}"
