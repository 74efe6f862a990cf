"""Self-report links: send, open, save progress, submit (habit 2: audited writes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now
from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS, Kind
from kapcare.measures.models import Administration, Channel, SelfReportLink
from kapcare.measures.services import administration_record, scoring_problems
from kapcare.measures.sms import sms_sender


def sendable_instruments() -> list[str]:
    """Questionnaires a client can answer alone: their wording may be shown."""
    return [
        code
        for code, instrument in INSTRUMENTS.items()
        if instrument.kind == Kind.QUESTIONNAIRE and instrument.text_allowed
    ]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_url(raw: str) -> str:
    # The secret travels as a query parameter: access logs and kapcare's own logs drop query
    # strings, so it is never written to a log (a path segment would be).
    return f"{settings.PRACTICE_URL.rstrip('/')}/r/?t={raw}"


def link_message(raw: str) -> str:
    return settings.SELF_REPORT_MESSAGE.format(
        practice=settings.PRACTICE_NAME,
        link=link_url(raw),
        hours=settings.SELF_REPORT_LINK_HOURS,
    )


def link_send(
    *, actor: User | None, client: Client, instruments: list[str], channel: str
) -> SelfReportLink:
    """Create a link for `instruments` and send it to the client by `channel`. The actor is None
    when kapcare sends it on a course's measurement schedule (kapcare.courses.measure_sends)."""
    if not instruments:
        raise field_error("instruments", "Choose at least one questionnaire.", "required")
    allowed = sendable_instruments()
    for code in instruments:
        if code not in allowed:
            raise field_error(
                "instruments",
                f"{code} cannot be sent to a client: only {', '.join(allowed)} can (the others' "
                "wording is licensed and is not shown).",
                "not_sendable",
            )
    if channel == Channel.EMAIL and not client.email:
        raise field_error("channel", "The client has no e-mail address on record.", "no_email")
    if channel == Channel.SMS and not client.phone:
        raise field_error("channel", "The client has no phone number on record.", "no_phone")
    if channel not in Channel.values:
        raise field_error("channel", "Choose e-mail or text message.", "invalid_choice")
    raw = new_secret()
    link = SelfReportLink(
        client=client,
        instruments=list(dict.fromkeys(instruments)),
        token_hash=hash_token(raw),
        channel=channel,
        expires_at=now() + dt.timedelta(hours=settings.SELF_REPORT_LINK_HOURS),
        created_by=actor,
        updated_by=actor,
    )
    link.full_clean()
    with transaction.atomic():
        link.save()
        audit.record(
            actor=actor,
            action="self_report.send",
            subject_type="self_report_link",
            subject_public_id=link.public_id,
            client_public_id=client.public_id,
            after={
                "instruments": link.instruments,
                "channel": channel,
                "expires_at": link.expires_at,
            },
        )
        _deliver_on_commit(link, link_message(raw))
    return link


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _deliver_on_commit(link: SelfReportLink, message: str) -> None:
    """Send `message` to the link's client once the transaction commits. Sent from the caller,
    not through the task queue: a queued task would store the link's secret in the task table."""
    client = link.client
    email, phone, reference, channel = client.email, client.phone, str(link.public_id), link.channel

    def deliver() -> None:
        if channel == Channel.EMAIL:
            send_mail(
                subject=f"{settings.PRACTICE_NAME}: questionnaires to complete",
                message=message,
                from_email=None,
                recipient_list=[email],
            )
        else:
            sms_sender().send(to=phone, text=message, reference=reference)

    transaction.on_commit(deliver)


def links_due_a_reminder(at: dt.datetime) -> list[SelfReportLink]:
    hours = settings.SELF_REPORT_REMINDER_HOURS
    if hours <= 0:
        return []
    return list(
        SelfReportLink.objects.select_related("client").filter(
            completed_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=at,
            created_at__lte=at - dt.timedelta(hours=hours),
        )
    )


def links_remind(*, at: dt.datetime | None = None) -> int:
    """Remind each client whose link is still open after SELF_REPORT_REMINDER_HOURS, once.

    The reminder carries a new secret for the same link (the first one is never stored, so it
    cannot be resent); the earlier secret stops working and the answers so far are kept.
    """
    moment = at or now()
    reminded = 0
    for link in links_due_a_reminder(moment):
        raw = new_secret()
        message = settings.SELF_REPORT_REMINDER.format(
            practice=settings.PRACTICE_NAME, link=link_url(raw)
        )
        with transaction.atomic():
            link.token_hash = hash_token(raw)
            link.reminded_at = moment
            link.save(update_fields=["token_hash", "reminded_at", "updated_at"])
            audit.record(
                actor=None,
                action="self_report.remind",
                subject_type="self_report_link",
                subject_public_id=link.public_id,
                client_public_id=link.client.public_id,
                detail={"channel": link.channel},
            )
            _deliver_on_commit(link, message)
        reminded += 1
    return reminded


def link_open(raw: str) -> SelfReportLink | None:
    """The link for this secret, whatever its state, or None."""
    if not raw or len(raw) > 100:
        return None
    link = (
        SelfReportLink.objects.select_related("client").filter(token_hash=hash_token(raw)).first()
    )
    if link is not None and link.first_opened_at is None and link.state() == "sent":
        link.first_opened_at = now()
        link.save(update_fields=["first_opened_at", "updated_at"])
    return link


def link_save_progress(
    *, link: SelfReportLink, instrument: str, answers: Mapping[str, Any]
) -> None:
    """Keep the answers given so far (each one checked against its item)."""
    if instrument not in link.remaining:
        raise field_error("instrument", "This questionnaire is not open on this link.", "closed")
    definition = INSTRUMENTS[instrument]
    merged = {**link.progress.get(instrument, {}), **answers}
    try:
        rules.validate(definition, merged)
    except rules.ScoringError as error:
        raise scoring_problems(error) from None
    link.progress = {**link.progress, instrument: merged}
    link.save(update_fields=["progress", "updated_at"])


def link_submit(*, link: SelfReportLink, instrument: str) -> Administration:
    """Record the client's answers to one questionnaire; the link closes with its last one."""
    if link.state() not in ("sent", "in_progress"):
        raise field_error("link", "This link can no longer be used.", "closed")
    if instrument not in link.remaining:
        raise field_error("instrument", "This questionnaire is already submitted.", "closed")
    with transaction.atomic():
        administration = administration_record(
            actor=None,
            client=link.client,
            instrument=instrument,
            answers=link.progress.get(instrument, {}),
            self_report=True,
        )
        link.completed_instruments = [*link.completed_instruments, instrument]
        fields = ["completed_instruments", "updated_at"]
        if not link.remaining:
            link.completed_at = now()
            fields.append("completed_at")
            audit.record(
                actor=None,
                action="self_report.complete",
                subject_type="self_report_link",
                subject_public_id=link.public_id,
                client_public_id=link.client.public_id,
                detail={"instruments": link.instruments},
            )
        link.save(update_fields=fields)
    return administration
