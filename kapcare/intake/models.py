"""Inquiries: people who asked about treatment, on their way to a free consultation and perhaps
to becoming a client. An inquiry is not a client record: it holds only what the person sent and
what the front desk did about it, until it is converted."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

from kapcare.clients.models import Client, ContactChannel
from kapcare.clients.validators import validate_birth_date, validate_phone
from kapcare.core.models import TrackedModel
from kapcare.core.time import now

MESSAGE_LIMIT = 1000
NOTE_LIMIT = 500


class InquiryStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Consultation booked"
    CONSULTED = "consulted", "Consultation held"
    CONVERTED = "converted", "Became a client"
    CLOSED = "closed", "Closed"


# Still being worked on, in the order the list shows them; converted and closed inquiries follow.
OPEN_STATUSES = (
    InquiryStatus.NEW,
    InquiryStatus.CONTACTED,
    InquiryStatus.BOOKED,
    InquiryStatus.CONSULTED,
)


class HeardFrom(models.TextChoices):
    SEARCH = "search", "Searching online"
    PROVIDER = "provider", "My doctor or therapist"
    FRIEND = "friend", "A friend or family member"
    SOCIAL = "social", "Social media"
    OTHER = "other", "Somewhere else"


class ConsultationOutcome(models.TextChoices):
    PROCEED = "proceed", "Suitable: go ahead to screening"
    DECIDING = "deciding", "Wants time to decide"
    NOT_SUITABLE = "not_suitable", "Not suitable for treatment here"
    NO_SHOW = "no_show", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


class CloseReason(models.TextChoices):
    DECLINED = "declined", "Decided not to go ahead"
    NOT_SUITABLE = "not_suitable", "Not suitable for treatment here"
    UNREACHABLE = "unreachable", "Could not be reached"
    REFERRED = "referred", "Referred elsewhere"
    NOT_GENUINE = "not_genuine", "Duplicate or not a real inquiry"
    OTHER = "other", "Other (say why in the note)"


class Inquiry(TrackedModel):
    given_name = models.CharField("given name", max_length=100)
    family_name = models.CharField("family name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    preferred_channel = models.CharField(
        "preferred contact method",
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.PHONE,
    )
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_birth_date])
    message = models.TextField(
        "what brings you to us", validators=[MaxLengthValidator(MESSAGE_LIMIT)]
    )
    heard_from = models.CharField(
        "how you heard of us", max_length=10, choices=HeardFrom.choices, blank=True
    )
    consented_at = models.DateTimeField(
        "agreed to be contacted at",
        help_text="When the person agreed to be contacted about their inquiry.",
    )

    status = models.CharField(
        max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.NEW, db_index=True
    )
    status_changed_at = models.DateTimeField(default=now)
    contacted_at = models.DateTimeField("last contacted at", null=True, blank=True)
    consultation_at = models.DateTimeField(null=True, blank=True)
    consultation_with = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultations",
    )
    consultation_outcome = models.CharField(
        max_length=12, choices=ConsultationOutcome.choices, blank=True
    )
    close_reason = models.CharField(max_length=12, choices=CloseReason.choices, blank=True)
    # The client record the inquiry became; one inquiry, one client.
    client = models.OneToOneField(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiry"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "inquiries"
        indexes = [models.Index(fields=["status", "-created_at"], name="inquiry_status_created")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class StepKind(models.TextChoices):
    RECEIVED = "received", "Inquiry received"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Consultation booked"
    OUTCOME = "outcome", "Consultation outcome"
    CLOSED = "closed", "Closed"
    CONVERTED = "converted", "Became a client"


class InquiryStep(TrackedModel):
    """One thing done about an inquiry, with its note: the inquiry's history."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    summary = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, validators=[MaxLengthValidator(NOTE_LIMIT)])

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"


class InquiryAttempt(models.Model):
    """One submission of the public form, for rate limiting. The caller is a keyed hash of their
    address (never the address itself); rows older than the window are deleted as new ones come."""

    caller = models.CharField(max_length=64)
    at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["caller", "at"], name="inquiry_attempt_caller_at"),
            models.Index(fields=["at"], name="inquiry_attempt_at"),
        ]

    def __str__(self) -> str:
        return f"{self.caller[:8]}… at {self.at:%Y-%m-%d %H:%M}"
