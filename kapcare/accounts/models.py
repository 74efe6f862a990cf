"""Staff accounts, their roles and personal API tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from kapcare.core.time import now


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse / monitor"
    FRONT_DESK = "front_desk", "Front desk"
    PRACTICE_ADMIN = "practice_admin", "Practice admin"


class PrescriberCredential(models.TextChoices):
    MD = "MD", "MD (physician)"
    DO = "DO", "DO (osteopathic physician)"
    NP = "NP", "NP (nurse practitioner)"
    PA = "PA", "PA (physician assistant)"


# Which boolean field on User holds each role. Roles are flags rather than rows so that "is this
# person a prescriber" never costs a query and "all active therapists" is one indexed filter.
ROLE_FIELDS: dict[Role, str] = {
    Role.THERAPIST: "is_therapist",
    Role.PRESCRIBER: "is_prescriber",
    Role.NURSE: "is_nurse",
    Role.FRONT_DESK: "is_front_desk",
    Role.PRACTICE_ADMIN: "is_practice_admin",
}


# The columns `display_name` reads: a page that only names a staff member reads only these.
NAME_FIELDS = ("first_name", "last_name", "username", "professional_title")


def name_fields(relation: str) -> list[str]:
    """NAME_FIELDS through a relation, for `.only()`: the relation itself and the name."""
    return [relation, *(f"{relation}__{field}" for field in NAME_FIELDS)]


def display_name(first_name: str, last_name: str, username: str, title: str) -> str:
    """How a staff member is named on every page: full name (else username), then the title."""
    name = f"{first_name} {last_name}".strip() or username
    return f"{name}, {title}" if title else name


class User(AbstractUser):
    """A staff member. Clients are not users (the client portal uses its own links)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional_title = models.CharField(
        max_length=60, blank=True, help_text="Shown after the name, e.g. LMFT, RN, MD."
    )
    is_therapist = models.BooleanField(default=False)
    is_prescriber = models.BooleanField(default=False)
    is_nurse = models.BooleanField(default=False)
    is_front_desk = models.BooleanField(default=False)
    is_practice_admin = models.BooleanField(default=False)
    prescriber_credential = models.CharField(
        max_length=2, choices=PrescriberCredential.choices, blank=True
    )
    licence_number = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_prescriber=False)
                | (~Q(prescriber_credential="") & ~Q(licence_number="")),
                name="prescriber_has_credential_and_licence",
                violation_error_message=(
                    "A prescriber needs a credential type (MD, DO, NP or PA) and a licence number."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        # The check constraint guards the database; this names the missing field for a person.
        if self.is_prescriber:
            errors: dict[str, ValidationError] = {}
            if not self.prescriber_credential:
                errors["prescriber_credential"] = ValidationError(
                    "A prescriber needs a credential type (MD, DO, NP or PA).", code="required"
                )
            if not self.licence_number:
                errors["licence_number"] = ValidationError(
                    "A prescriber needs a licence number.", code="required"
                )
            if errors:
                raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.username, self.professional_title)

    @property
    def roles(self) -> list[Role]:
        return [role for role, field in ROLE_FIELDS.items() if getattr(self, field)]

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in self.roles]

    def has_role(self, role: Role) -> bool:
        return bool(getattr(self, ROLE_FIELDS[role]))

    @property
    def is_clinician(self) -> bool:
        """Therapist, prescriber or nurse: who records clinical facts and assessments."""
        return bool(self.is_therapist or self.is_prescriber or self.is_nurse)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now())
        )


class ApiToken(models.Model):
    """A personal token for scripts. Only a SHA-256 of the secret is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=80)
    # The first characters of the token, so a person can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now())
