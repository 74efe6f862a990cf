"""One reminder for a link still open after the reminder delay, with a fresh secret."""

from __future__ import annotations

import datetime as dt
import io
import re

from django.core import mail
from django.core.management import call_command
from django.test import Client as HttpClient

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.measures.models import SelfReportLink
from kapcare.measures.self_report import link_send, links_remind
from kapcare.testing.personas import Practice


def sent(practice: Practice, hours_ago: float, capture) -> str:
    mail.outbox.clear()
    with capture(execute=True):
        link_send(
            actor=practice.therapist, client=practice.client, instruments=["gad7"], channel="email"
        )
    SelfReportLink.objects.filter(reminded_at__isnull=True).update(
        created_at=now() - dt.timedelta(hours=hours_ago)
    )
    match = re.search(r"t=([\w-]+)", mail.outbox[-1].body)
    assert match is not None
    return match.group(1)


def test_a_link_open_after_a_day_is_reminded_once_with_a_new_secret(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    old = sent(practice, hours_ago=25, capture=django_capture_on_commit_callbacks)
    # The client had started: the answers so far must survive the reminder.
    browser = HttpClient()
    browser.get(f"/r/?t={old}")
    browser.post("/r/", {"q1": "2", "save": "1"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert links_remind() == 1
    assert len(mail.outbox) == 1
    assert "reminder" in mail.outbox[0].body
    new = re.search(r"t=([\w-]+)", mail.outbox[0].body)
    assert new is not None
    assert new.group(1) != old
    assert HttpClient().get(f"/r/?t={old}").status_code == 404  # the earlier secret is retired
    fresh = HttpClient()
    assert fresh.get(f"/r/?t={new.group(1)}").status_code == 302
    assert 'name="q1" value="2" checked' in fresh.get("/r/").content.decode()
    assert AuditEvent.objects.filter(action="self_report.remind").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert links_remind() == 0  # once only


def test_no_reminder_too_early_after_completion_or_after_expiry(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    sent(practice, hours_ago=2, capture=django_capture_on_commit_callbacks)
    done = sent(practice, hours_ago=30, capture=django_capture_on_commit_callbacks)
    browser = HttpClient()
    browser.get(f"/r/?t={done}")
    browser.post("/r/", {f"q{n}": "0" for n in range(1, 8)} | {"submit": "1"})
    sent(practice, hours_ago=80, capture=django_capture_on_commit_callbacks)
    SelfReportLink.objects.filter(created_at__lt=now() - dt.timedelta(hours=70)).update(
        expires_at=now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert links_remind() == 0


def test_reminders_can_be_switched_off(
    practice: Practice, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SELF_REPORT_REMINDER_HOURS = 0
    sent(practice, hours_ago=30, capture=django_capture_on_commit_callbacks)
    assert links_remind() == 0


def test_the_remind_command(practice: Practice, django_capture_on_commit_callbacks) -> None:
    sent(practice, hours_ago=26, capture=django_capture_on_commit_callbacks)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind", stdout=out)
    assert out.getvalue().strip() == "1 reminder sent."
    assert AuditEvent.objects.get(action="self_report.remind").channel == "cli"
