"""Treatment courses and the appointments that carry them, with the consents and enrolments the
gates before a dose look at."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kapcare.clients.models import Client
from kapcare.core.models import TrackedModel
from kapcare.courses.protocols import PROTOCOLS, Protocol


class Route(models.TextChoices):
    SUBLINGUAL = "sublingual", "Sublingual / lozenge"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRANASAL = "intranasal", "Intranasal (esketamine)"


class Phase(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    INDUCTION = "induction", "Induction"
    MAINTENANCE = "maintenance", "Maintenance"
    COMPLETED = "completed", "Completed"
    DISCONTINUED = "discontinued", "Discontinued"


CLOSED_PHASES = (Phase.COMPLETED, Phase.DISCONTINUED)


class Modality(models.TextChoices):
    EMDR = "emdr", "EMDR"
    BREATHWORK = "breathwork", "Somatic: breathwork"
    BODY_AWARENESS = "body_awareness", "Somatic: body awareness"
    MOVEMENT = "movement", "Somatic: movement"
    MUSIC = "music", "Music"
    OTHER = "other", "Other"


class Course(TrackedModel):
    """One client's treatment episode under one protocol, from preparation to its end."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="courses")
    protocol = models.CharField(max_length=30, choices=[(p.code, p.name) for p in PROTOCOLS])
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.PREPARATION)
    started_on = models.DateField()
    # The protocol's settings in force when the course started ({setting: {value, version,
    # source}}): a later sign-off applies to later courses, not to this one's plan.
    protocol_settings = models.JSONField(default=dict, blank=True)
    goals = models.TextField("goals and intentions", blank=True)
    modalities = models.JSONField(default=list, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=~Q(phase__in=["completed", "discontinued"]),
                name="one_open_course_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} from {self.started_on}"

    @property
    def is_open(self) -> bool:
        return self.phase not in CLOSED_PHASES

    @property
    def plan(self) -> Protocol:
        """The protocol as this course follows it (its pinned settings)."""
        from kapcare.courses.parameters import pinned

        return pinned(self.protocol, self.protocol_settings)


class Consent(TrackedModel):
    """Informed consent for a route, signed on a date, on a named version of the practice's form."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    route = models.CharField(max_length=20, choices=Route.choices)
    signed_on = models.DateField()
    form_version = models.CharField(max_length=80)
    withdrawn_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_route_display()} consent {self.signed_on}"


class RemsEnrollment(TrackedModel):
    """Esketamine REMS: the patient's enrolment before treatment (clinical-facts §2a)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="rems_enrollments")
    enrolled_on = models.DateField()
    reference = models.CharField(max_length=80)

    class Meta:
        ordering = ["-enrolled_on", "-id"]

    def __str__(self) -> str:
        return f"REMS enrolment {self.reference}"


class Room(TrackedModel):
    name = models.CharField(max_length=80, unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Kind(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    PREPARATION = "preparation", "Preparation"
    PRESCRIBER_VISIT = "prescriber_visit", "Prescriber visit"
    DOSING = "dosing", "Dosing"
    INTEGRATION = "integration", "Integration"
    FOLLOW_UP = "follow_up", "Follow-up"


class State(models.TextChoices):
    BOOKED = "booked", "Booked"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "Did not attend"


class Appointment(TrackedModel):
    """A session with one or two clinicians (a dosing session has both: the monitoring clinician
    and the therapist), in a room where it needs one, in the practice's time."""

    # The Meta indexes lead with the client, the clinicians and the room: no index of their own.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    second_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BOOKED)
    state_reason = models.CharField(max_length=300, blank=True)
    # Set in the same statement that claims the reminder, so that two workers never both send
    # it; cleared when the appointment moves, so the new time gets its own reminder.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinician", "starts_at"], name="appointment_clinician"),
            models.Index(fields=["second_clinician", "starts_at"], name="appointment_second"),
            models.Index(fields=["room", "starts_at"], name="appointment_room"),
            models.Index(fields=["client", "starts_at"], name="appointment_client"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class GateOverride(TrackedModel):
    """A prescriber's decision to book a dose although a gate failed: who, which gate, why."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="gate_overrides"
    )
    gate = models.CharField(max_length=20)
    gate_reason = models.CharField(max_length=300, help_text="Why the gate failed, as shown.")
    reason = models.TextField()
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"override of {self.gate}"


class CalendarFeed(TrackedModel):
    """A clinician's private calendar subscription: the address carries a secret whose hash is
    kept here; revoking it (or making a new one) stops the old address at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"


class MeasureSend(TrackedModel):
    """The questionnaires a course's measurement schedule sent for one opening time: at most one
    row per (course, opening), which is what makes sending exactly once with several workers."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="measure_sends")
    opens_at = models.DateTimeField()
    instruments = models.JSONField(default=list)
    link = models.ForeignKey(
        "measures.SelfReportLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["opens_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "opens_at"], name="one_send_per_opening")
        ]

    def __str__(self) -> str:
        return f"measures sent for {self.opens_at:%Y-%m-%d %H:%M}"
