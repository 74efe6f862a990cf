"""What may happen to an inquiry next, and the checks on what a person sends: pure rules over
plain values (no ORM, no request, no clock)."""

from __future__ import annotations

import datetime as dt

from kapcare.clients.models import ClientStatus, ContactChannel
from kapcare.intake.models import OPEN_STATUSES, ConsultationOutcome, InquiryStatus

# The statuses each action may start from.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "contact": OPEN_STATUSES,
    "book": (InquiryStatus.NEW, InquiryStatus.CONTACTED, InquiryStatus.BOOKED),
    "outcome": (InquiryStatus.BOOKED,),
    "close": OPEN_STATUSES,
    "convert": OPEN_STATUSES,
}

_DOING = {
    "contact": "marked as contacted",
    "book": "booked for a consultation",
    "outcome": "given a consultation outcome",
    "close": "closed again",
    "convert": "converted to a client",
}

# Outcomes that mean the consultation did not take place: the person can be booked again.
NOT_HELD = (ConsultationOutcome.NO_SHOW, ConsultationOutcome.CANCELLED)


def refusal(action: str, status: str) -> tuple[str, str] | None:
    """Why `action` cannot be done to an inquiry at `status`, as (rule code, message), or None."""
    if status in ALLOWED_FROM[action]:
        return None
    if status == InquiryStatus.CONVERTED:
        if action == "convert":
            return (
                "already_converted",
                "This inquiry has already been converted to a client; it cannot be converted "
                "twice. Open the client's chart instead.",
            )
        return (
            "converted",
            f"This inquiry has already become a client, so it cannot be {_DOING[action]}. "
            "Record further work on the client's chart.",
        )
    if status == InquiryStatus.CLOSED:
        return ("closed", f"This inquiry is closed, so it cannot be {_DOING[action]}.")
    if action == "book":
        return (
            "consultation_held",
            "The consultation has already been held. Convert the inquiry to a client or close it.",
        )
    return ("not_booked", "No consultation is booked for this inquiry; book one first.")


def status_after(action: str, status: str, outcome: str = "") -> str:
    """The inquiry's status once `action` is done (the action must be allowed)."""
    if action == "contact":
        return InquiryStatus.CONTACTED if status == InquiryStatus.NEW else status
    if action == "book":
        return InquiryStatus.BOOKED
    if action == "outcome":
        return InquiryStatus.CONTACTED if outcome in NOT_HELD else InquiryStatus.CONSULTED
    if action == "close":
        return InquiryStatus.CLOSED
    if action == "convert":
        return InquiryStatus.CONVERTED
    raise ValueError(f"unknown action {action!r}")


def outcome_too_early(outcome: str, consultation_at: dt.datetime, at: dt.datetime) -> bool:
    """A consultation cannot be recorded as held (or missed) before its booked time; it can be
    cancelled at any time."""
    return outcome != ConsultationOutcome.CANCELLED and at < consultation_at


def client_status_on_convert(status: str, outcome: str) -> str:
    """Where the new client starts: screening when the consultation found them suitable, the
    consultation stage while one is booked or held, otherwise still an inquiry."""
    if status == InquiryStatus.CONSULTED and outcome == ConsultationOutcome.PROCEED:
        return ClientStatus.SCREENING
    if status in (InquiryStatus.BOOKED, InquiryStatus.CONSULTED):
        return ClientStatus.CONSULTATION
    return ClientStatus.INQUIRY


CONTACT_REQUIRED = (
    "Give an email address or a phone number (or both), so the practice can reach you."
)


def contact_problems(*, email: str, phone: str, channel: str) -> dict[str, tuple[str, str]]:
    """Problems with how a person can be reached, by field: (message, rule code).

    At least one of email and phone; and the one the person prefers must be given."""
    if not email and not phone:
        return {
            "email": (CONTACT_REQUIRED, "contact_required"),
            "phone": (CONTACT_REQUIRED, "contact_required"),
        }
    if channel == ContactChannel.EMAIL and not email:
        return {
            "email": ("You chose email as the way to reach you: give your address.", "required")
        }
    if channel in (ContactChannel.PHONE, ContactChannel.SMS) and not phone:
        how = "a phone call" if channel == ContactChannel.PHONE else "a text message"
        return {
            "phone": (f"You chose {how} as the way to reach you: give your number.", "required")
        }
    return {}


def stamp_verdict(
    *, rendered_at: float, submitted_at: float, min_seconds: int, max_age: dt.timedelta
) -> str:
    """Whether a form filled between these two moments (seconds since the epoch) looks like a
    person: "ok", "too_fast" (quicker than anyone types) or "expired"."""
    elapsed = submitted_at - rendered_at
    if elapsed < min_seconds:
        return "too_fast"
    if elapsed > max_age.total_seconds():
        return "expired"
    return "ok"
