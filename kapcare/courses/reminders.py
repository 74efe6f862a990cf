"""Appointment reminders to clients, sent KAPCARE_APPOINTMENT_REMINDER_HOURS before the start.

Each reminder is claimed before it is sent: one conditional UPDATE sets `reminder_sent_at` only
if it is still empty, the appointment still booked and its start still the one that was read. The
database lets exactly one of several workers (or a worker and `kapcare remind`) win that
statement, so a reminder goes out once; the audit row is written in the same transaction and the
message leaves when it commits. Moving an appointment clears `reminder_sent_at`, so the new time
gets its own reminder.

The message says only who it is from and when: a calendar notification or an e-mail preview is
read by whoever holds the phone, so it never names the kind of session (a dosing session is
sensitive) or anything clinical.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q

from kapcare.clients.models import Client, ContactChannel
from kapcare.core import audit
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Appointment, State
from kapcare.measures.models import Channel
from kapcare.measures.sms import sms_sender


def reminder_lead() -> dt.timedelta | None:
    """How long before an appointment its reminder goes, or None when reminders are off."""
    hours = settings.APPOINTMENT_REMINDER_HOURS
    return dt.timedelta(hours=hours) if hours > 0 else None


def contact_channel(client: Client) -> str | None:
    """How kapcare writes to a client: by text message when that is their preferred channel and
    a phone number is on record, otherwise e-mail when there is an address, otherwise a text
    message when there is a phone number; None when neither is on record."""
    if client.preferred_channel == ContactChannel.SMS and client.phone:
        return Channel.SMS
    if client.email:
        return Channel.EMAIL
    if client.phone:
        return Channel.SMS
    return None


def when_text(moment: dt.datetime) -> str:
    """ "Tuesday, March 10 at 2:30 PM PDT": the practice's local time, as the client reads it."""
    local = moment.astimezone(practice_zone())
    hour = local.hour % 12 or 12
    return (
        f"{local:%A, %B} {local.day} at {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'} "
        f"{local:%Z}"
    ).strip()


def reminder_message(appointment: Appointment) -> str:
    return settings.APPOINTMENT_REMINDER.format(
        practice=settings.PRACTICE_NAME, when=when_text(appointment.starts_at)
    )


def reminders_due(at: dt.datetime) -> list[Appointment]:
    """Booked appointments starting within the lead time after `at` whose reminder has not gone,
    for clients kapcare can write to."""
    lead = reminder_lead()
    if lead is None:
        return []
    return list(
        Appointment.objects.select_related("client")
        .filter(
            state=State.BOOKED,
            reminder_sent_at__isnull=True,
            starts_at__gt=at,
            starts_at__lte=at + lead,
        )
        .filter(~Q(client__email="") | ~Q(client__phone=""))
        .order_by("starts_at", "id")
    )


def reminders_send_due(*, at: dt.datetime | None = None) -> int:
    """Send every reminder that is due at `at` (default: now); returns how many were sent."""
    moment = at or now()
    sent = 0
    for appointment in reminders_due(moment):
        channel = contact_channel(appointment.client)
        if channel is None:
            continue
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=appointment.pk,
                reminder_sent_at__isnull=True,
                state=State.BOOKED,
                starts_at=appointment.starts_at,
            ).update(reminder_sent_at=moment)
            if claimed != 1:
                continue  # another worker sent it, or the appointment moved or was cancelled
            audit.record(
                actor=None,
                action="appointment.remind",
                subject_type="appointment",
                subject_public_id=appointment.public_id,
                client_public_id=appointment.client.public_id,
                detail={"channel": channel},
            )
            _deliver_on_commit(appointment, channel, reminder_message(appointment))
        sent += 1
    return sent


def _deliver_on_commit(appointment: Appointment, channel: str, message: str) -> None:
    client = appointment.client
    email, phone, reference = client.email, client.phone, str(appointment.public_id)

    def deliver() -> None:
        if channel == Channel.EMAIL:
            send_mail(
                subject=f"{settings.PRACTICE_NAME}: appointment reminder",
                message=message,
                from_email=None,
                recipient_list=[email],
            )
        else:
            sms_sender().send(to=phone, text=message, reference=reference)

    transaction.on_commit(deliver)
