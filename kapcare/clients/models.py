"""The client record: identity, contacts, care team, weight history and status."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from kapcare.clients.validators import validate_birth_date, validate_not_future, validate_phone
from kapcare.core.models import TrackedModel
from kapcare.core.time import now, practice_today


class ClientStatus(models.TextChoices):
    INQUIRY = "inquiry", "Inquiry"
    CONSULTATION = "consultation", "Consultation"
    SCREENING = "screening", "Screening"
    ACTIVE = "active", "Active treatment"
    MAINTENANCE = "maintenance", "Maintenance"
    DISCHARGED = "discharged", "Discharged"


class SexAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not recorded"
    DECLINED = "declined", "Declined to answer"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


LONG_TEXT_LIMIT = 2000


class Client(TrackedModel):
    legal_given_names = models.CharField("legal given name(s)", max_length=100)
    legal_family_name = models.CharField("legal family name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(validators=[validate_birth_date])
    sex_at_birth = models.CharField(
        "sex assigned at birth", max_length=10, choices=SexAtBirth.choices
    )
    gender_identity = models.CharField(max_length=60, blank=True)

    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    address = models.TextField(blank=True, validators=[MaxLengthValidator(500)])
    preferred_channel = models.CharField(
        "preferred contact channel",
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.PHONE,
    )

    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(
        max_length=30, blank=True, validators=[validate_phone]
    )

    primary_care_provider = models.CharField(max_length=200, blank=True)
    primary_care_contact = models.CharField(max_length=200, blank=True)
    referring_provider = models.CharField(max_length=200, blank=True)
    referring_provider_contact = models.CharField(max_length=200, blank=True)

    access_needs = models.TextField(
        "access needs",
        blank=True,
        validators=[MaxLengthValidator(LONG_TEXT_LIMIT)],
        help_text="Interpreter, mobility, sensory or other needs the team should plan for.",
    )

    status = models.CharField(
        max_length=14, choices=ClientStatus.choices, default=ClientStatus.INQUIRY, db_index=True
    )
    status_changed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["legal_family_name", "legal_given_names", "id"]
        indexes = [
            models.Index(fields=["legal_family_name", "legal_given_names"], name="client_name"),
            models.Index(fields=["date_of_birth"], name="client_dob"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.legal_given_names
        return f"{given} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_given_names} {self.legal_family_name}"

    def age_on(self, day: dt.date) -> int:
        birthday_passed = (day.month, day.day) >= (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - (0 if birthday_passed else 1)

    @property
    def age(self) -> int:
        return self.age_on(practice_today())


class CareTeamRole(models.TextChoices):
    PRIMARY_THERAPIST = "primary_therapist", "Primary therapist"
    THERAPIST = "therapist", "Therapist"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse / monitor"
    COORDINATOR = "coordinator", "Care coordinator"


class CareTeamMember(TrackedModel):
    """A staff member's place on one client's care team. Ending it keeps the row (history)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="care_team")
    staff = models.ForeignKey(  # careteam_staff_client leads with it: no index of its own
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="care_team_memberships",
        db_index=False,
    )
    role = models.CharField(max_length=20, choices=CareTeamRole.choices)
    started_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "staff"],
                condition=Q(ended_at__isnull=True),
                name="one_active_membership_per_staff",
                violation_error_message="This person is already on the care team.",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(ended_at__isnull=True, role="primary_therapist"),
                name="one_active_primary_therapist",
                violation_error_message="The client already has a primary therapist.",
            ),
        ]
        indexes = [models.Index(fields=["staff", "client"], name="careteam_staff_client")]

    def __str__(self) -> str:
        return f"{self.staff} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class WeightMeasurement(TrackedModel):
    """Body weight on a date; mg/kg dosing later reads the latest entry."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="weights")
    measured_on = models.DateField(validators=[validate_not_future])
    # Bounds are data-entry plausibility for adults (catching lb typed as kg and slips of the
    # keyboard), not clinical thresholds.
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(25), MaxValueValidator(350)],
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-measured_on", "-id"]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on}"


class StatusChange(models.Model):
    """The client's path through the practice: each change of status with who and why."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=14, choices=ClientStatus.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=ClientStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"
