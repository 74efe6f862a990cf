"""Inquiries in the demo practice, so the front desk's list has work on it: three new ones from
the public form, one already contacted, one with its free consultation booked. Entered through
kapcare.intake.services like real ones; every name is invented, every number is 555-01xx."""

from __future__ import annotations

import datetime as dt

from kapcare.accounts.models import User
from kapcare.core.time import practice_today, practice_zone
from kapcare.intake.services import inquiry_book_consultation, inquiry_contact, inquiry_create

PEOPLE = [
    (
        "Noor",
        "Haddad",
        "noor.haddad@example.org",
        "(555) 555-0131",
        "email",
        "provider",
        "My psychiatrist suggested ketamine therapy after two antidepressants did not help.",
    ),
    (
        "Felix",
        "Marsh",
        "",
        "(555) 555-0132",
        "phone",
        "search",
        "Looking for information about costs and how many sessions are usual.",
    ),
    (
        "Ines",
        "Okonkwo",
        "ines.okonkwo@example.org",
        "",
        "email",
        "friend",
        "A friend did KAP with you. I have had depression and PTSD for years.",
    ),
    (
        "Tomas",
        "Varga",
        "tomas.varga@example.org",
        "(555) 555-0134",
        "phone",
        "social",
        "Could I keep seeing my own therapist alongside treatment?",
    ),
    (
        "Priya",
        "Raman",
        "priya.raman@example.org",
        "(555) 555-0135",
        "sms",
        "provider",
        "Referred by Dr. Lewis for treatment-resistant depression.",
    ),
]


def create_inquiry_demo(*, front_desk: User, clinician: User) -> int:
    inquiries = [
        inquiry_create(
            actor=None,
            fields={
                "given_name": given,
                "family_name": family,
                "email": email,
                "phone": phone,
                "preferred_channel": channel,
                "heard_from": heard,
                "message": message,
            },
            consent=True,
        )
        for given, family, email, phone, channel, heard, message in PEOPLE
    ]
    inquiry_contact(
        actor=front_desk, inquiry=inquiries[3], note="Left a voicemail; will try again tomorrow."
    )
    inquiry_contact(actor=front_desk, inquiry=inquiries[4], note="Spoke by phone; keen to start.")
    # Tomorrow at 10:00 in the practice zone (bookings are for times still to come, so this
    # follows the real clock, not the demo's date).
    tomorrow = dt.datetime.combine(
        practice_today() + dt.timedelta(days=1), dt.time(10), tzinfo=practice_zone()
    )
    inquiry_book_consultation(
        actor=front_desk, inquiry=inquiries[4], starts_at=tomorrow, clinician=clinician
    )
    return len(inquiries)
