"""A dosing session and what is charted in it: the pre-dose check, the dose, timed vitals,
sedation and dissociation scores, side effects, interventions, the therapeutic work, discharge,
sign-off, adverse events and the esketamine REMS monitoring form.

Entries are append-only: a correction is a new row that names the row it corrects (`corrects`)
with a reason, so the original stays visible; nothing charted is edited or deleted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.courses.models import Appointment, Course

USER = settings.AUTH_USER_MODEL


class DoseRoute(models.TextChoices):
    SUBLINGUAL = "sublingual", "Sublingual / lozenge"
    ORAL = "oral", "Oral"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    INTRAVENOUS = "intravenous", "Intravenous infusion"
    INTRANASAL = "intranasal", "Intranasal esketamine"


class SessionState(models.TextChoices):
    CHECKING = "checking", "Pre-dose check"
    DOSED = "dosed", "Dosed, monitoring"
    DISCHARGED = "discharged", "Discharged"
    SIGNED = "signed", "Signed"


class DosingSession(TrackedModel):
    """The clinical record of one dosing appointment, from the pre-dose check to sign-off."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="dosing_session"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="dosing_sessions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="dosing_sessions")
    state = models.CharField(
        max_length=12, choices=SessionState.choices, default=SessionState.CHECKING
    )
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    intention = models.TextField(blank=True)
    # The pre-dose check as it was answered and judged: answers, each check's result, the
    # parameter versions used, and who completed it.
    pre_check = models.JSONField(default=dict, blank=True)
    pre_check_passed = models.BooleanField(default=False)
    pre_checked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pre_checked_at = models.DateTimeField(null=True, blank=True)
    discharge = models.JSONField(default=dict, blank=True)
    discharged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discharged_at = models.DateTimeField(null=True, blank=True)
    monitor_signed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    monitor_signed_at = models.DateTimeField(null=True, blank=True)
    therapist_signed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    therapist_signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dosing session {self.appointment}"

    @property
    def is_signed(self) -> bool:
        return self.state == SessionState.SIGNED


class Dose(TrackedModel):
    """The dose given: route, product, lot, amount (with mg/kg from the day's weight), the
    infusion's length or the esketamine devices, when and by whom, with the therapist present."""

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="dose")
    route = models.CharField(max_length=15, choices=DoseRoute.choices)
    product = models.CharField(max_length=120)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    lot = models.CharField(max_length=60)
    expires_on = models.DateField()
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    mg_per_kg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    infusion_minutes = models.PositiveIntegerField(null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    therapist_present = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.dose_mg} mg {self.get_route_display()}"


class Entry(TrackedModel):
    """A charted row: timed, attributed, append-only; a correction names what it corrects."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField()
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    correction_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["taken_at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only: add a correction")
        super().save(*args, **kwargs)


class AppendOnlyError(RuntimeError):
    """A charted row was about to be changed in place."""


class VitalsRow(Entry):
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="vitals")
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2 %", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)


class ScaleKind(models.TextChoices):
    MOAAS = "moaas", "Sedation (MOAA/S)"
    CADSS = "cadss", "Dissociation (CADSS)"


class ScaleRow(Entry):
    """A sedation (MOAA/S 0–5) or dissociation (CADSS total, with the version used) score."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="scales")
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    scale = models.CharField(max_length=8, choices=ScaleKind.choices)
    score = models.PositiveSmallIntegerField()
    version = models.CharField(max_length=40, blank=True, help_text="CADSS: the version used.")


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class SideEffect(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    DIZZINESS = "dizziness", "Dizziness"
    VERTIGO = "vertigo", "Vertigo"
    DISSOCIATION = "dissociation", "Dissociation"
    ANXIETY = "anxiety", "Anxiety"
    HEADACHE = "headache", "Headache"
    DISORIENTATION = "disorientation", "Disorientation"
    EMOTIONAL_DISTRESS = "emotional_distress", "Emotional distress"
    SEDATION = "sedation", "Sedation"
    OTHER = "other", "Other"


class SideEffectRow(Entry):
    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="side_effects"
    )
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    effect = models.CharField(max_length=20, choices=SideEffect.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    note = models.CharField(max_length=300, blank=True)


class WorkKind(models.TextChoices):
    ANTIEMETIC = "antiemetic", "Antiemetic given"
    ANTIHYPERTENSIVE = "antihypertensive", "Antihypertensive given"
    OTHER_INTERVENTION = "intervention", "Other intervention"
    EMDR = "emdr", "EMDR sets"
    SOMATIC = "somatic", "Somatic intervention"
    MUSIC = "music", "Music"
    NOTE = "note", "Therapist's note"


class WorkRow(Entry):
    """Interventions (antiemetic, antihypertensive) and therapeutic work (EMDR, somatic, music)
    with free notes."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="work")
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    kind = models.CharField(max_length=20, choices=WorkKind.choices)
    detail = models.TextField()


class Seriousness(models.TextChoices):
    NOT_SERIOUS = "not_serious", "Not serious"
    SERIOUS = "serious", "Serious"


class Relatedness(models.TextChoices):
    RELATED = "related", "Related"
    POSSIBLY = "possibly", "Possibly related"
    UNLIKELY = "unlikely", "Unlikely related"
    NOT_RELATED = "not_related", "Not related"


class AdverseEvent(TrackedModel):
    """A structured adverse-event record, linked to the session where there is one."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        DosingSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
    )
    event = models.CharField(max_length=200)
    onset_at = models.DateTimeField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    seriousness = models.CharField(max_length=12, choices=Seriousness.choices)
    action = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    related = models.CharField(max_length=12, choices=Relatedness.choices)
    followed_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-onset_at", "-id"]

    def __str__(self) -> str:
        return self.event

    @property
    def awaits_follow_up(self) -> bool:
        """A serious event is highlighted until its follow-up is recorded."""
        return self.seriousness == Seriousness.SERIOUS and self.followed_up_at is None


class RemsForm(TrackedModel):
    """The esketamine REMS Patient Monitoring Form of one session: filled from the session, due
    within 7 days, and the submission's date and reference once sent."""

    session = models.OneToOneField(
        DosingSession, on_delete=models.PROTECT, related_name="rems_form"
    )
    due_on = models.DateField()
    data = models.JSONField(default=dict)
    submitted_on = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=80, blank=True)
    submitted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"REMS monitoring form due {self.due_on}"


class RemsSiteCertification(TrackedModel):
    """The practice's certification as an esketamine REMS healthcare setting (clinical-facts
    §2a: settings that give the drug must be certified). One is active at a time; a renewal or
    a new number is a new row, and the old ones stay as history."""

    number = models.CharField("certification number", max_length=80)
    certified_on = models.DateField()
    site_name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-certified_on", "-id"]

    def __str__(self) -> str:
        return f"REMS certification {self.number}"
