"""A clinician's private calendar feed (iCalendar), for the calendar app on their phone.

The feed's address carries a secret (`secrets.token_urlsafe(32)`); kapcare keeps only its SHA-256
and finds the feed by that hash. Making a new feed revokes the person's earlier one, and a
revoked address stops working at once. The secret travels as a query parameter (`?t=`), which
kapcare's logs, its access log and the documented nginx log format all drop, so it is never
written to a log (a path segment would be).

A calendar app is outside the practice's control: it syncs to other companies' servers, shows
notifications on a locked screen and is shared with family. So an event says what kind of session
it is, where, and with which colleague, and nothing about the client: no name, no initials, no
id, not even a link that carries one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import icalendar
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.time import now
from kapcare.courses.models import Appointment, CalendarFeed, Kind, State

FEED_PAST = dt.timedelta(days=30)
FEED_AHEAD = dt.timedelta(days=180)
SUMMARIES = {
    Kind.CONSULTATION: "Consultation",
    Kind.PREPARATION: "Preparation session",
    Kind.PRESCRIBER_VISIT: "Prescriber visit",
    Kind.DOSING: "Dosing session",
    Kind.INTEGRATION: "Integration session",
    Kind.FOLLOW_UP: "Follow-up",
}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def feed_url(raw: str) -> str:
    """The subscription address for a feed secret."""
    path = reverse("calendar_feed:ics")
    return f"{settings.PRACTICE_URL.rstrip('/')}{path}?t={raw}"


def active_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def _revoke(actor: User, feed: CalendarFeed, moment: dt.datetime, why: str) -> None:
    feed.revoked_at = moment
    feed.updated_by = actor
    feed.save(update_fields=["revoked_at", "updated_by", "updated_at"])
    audit.record(
        actor=actor,
        action="calendar_feed.revoke",
        subject_type="calendar_feed",
        subject_public_id=feed.public_id,
        detail={"owner": str(feed.user.public_id), "reason": why},
    )


def feed_create(*, actor: User) -> tuple[CalendarFeed, str]:
    """A new feed for the actor, revoking their earlier one; the secret is returned this once
    and never stored."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        # One person's feeds change one at a time, so two requests cannot leave two in use.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        moment = now()
        for old in CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True):
            _revoke(actor, old, moment, "replaced")
        feed = CalendarFeed.objects.create(
            user=actor, token_hash=hash_token(raw), created_by=actor, updated_by=actor
        )
        audit.record(
            actor=actor,
            action="calendar_feed.create",
            subject_type="calendar_feed",
            subject_public_id=feed.public_id,
        )
    return feed, raw


def feed_revoke(*, actor: User, feed: CalendarFeed) -> CalendarFeed:
    """Stop a feed's address working. Its owner or a practice admin may."""
    if feed.user_id != actor.pk and not actor.is_practice_admin:
        raise PermissionError("Only the feed's owner or a practice admin can revoke it.")
    if feed.revoked_at is not None:
        return feed
    with transaction.atomic():
        _revoke(actor, feed, now(), "revoked")
    return feed


def feed_for_token(raw: str) -> CalendarFeed | None:
    """The feed in use for this secret (its owner still active), or None. Records when it was
    last fetched."""
    if not raw or len(raw) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is not None:
        feed.last_used_at = now()
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=feed.last_used_at)
    return feed


def feed_appointments(user: User, *, at: dt.datetime) -> list[Appointment]:
    """The person's sessions (as the clinician or the second clinician) from FEED_PAST before
    `at` to FEED_AHEAD after it, cancelled ones included so that calendar apps drop them."""
    return list(
        Appointment.objects.filter(
            Q(clinician=user) | Q(second_clinician=user),
            starts_at__gte=at - FEED_PAST,
            starts_at__lte=at + FEED_AHEAD,
        )
        .select_related("clinician", "second_clinician", "room")
        .order_by("starts_at", "id")
    )


def _event(appointment: Appointment, user: User, stamp: dt.datetime) -> icalendar.Event:
    cancelled = appointment.state == State.CANCELLED
    summary = SUMMARIES.get(Kind(appointment.kind), appointment.get_kind_display())
    others = [
        person
        for person in (appointment.clinician, appointment.second_clinician)
        if person is not None and person.pk != user.pk
    ]
    lines = [f"With {', '.join(str(person) for person in others)}" if others else ""]
    if appointment.room is not None:
        lines.append(f"Room: {appointment.room}")
    lines.append(f"Details in kapcare: {settings.PRACTICE_URL.rstrip('/')}/")
    event = icalendar.Event()
    event.add("uid", f"{appointment.public_id}@kapcare")
    event.add("dtstamp", stamp)
    event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    event.add("summary", f"Cancelled: {summary}" if cancelled else summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if appointment.room is not None:
        event.add("location", str(appointment.room))
    event.add("description", "\n".join(line for line in lines if line))
    return event


def feed_calendar(user: User, *, at: dt.datetime) -> icalendar.Calendar:
    """The person's schedule as an iCalendar document, every time in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//kapcare//calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{settings.PRACTICE_NAME}: my sessions")
    calendar.add("x-published-ttl", "PT1H")
    stamp = at.astimezone(dt.UTC)
    for appointment in feed_appointments(user, at=at):
        calendar.add_component(_event(appointment, user, stamp))
    return calendar
