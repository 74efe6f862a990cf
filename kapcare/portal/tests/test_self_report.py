"""Self-report links: sent, opened without sign-in, saved as the client goes, used once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.measures.models import Administration, SelfReportLink, Source
from kapcare.measures.self_report import hash_token, link_send
from kapcare.safety.models import SafetyFlag
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.personas import Practice

PHQ9 = [f"q{n}" for n in range(1, 10)]


def send(practice: Practice, instruments: list[str], django_capture_on_commit_callbacks) -> str:
    """Send a link by e-mail and return the secret from the message, as the client gets it."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        link_send(
            actor=practice.therapist,
            client=practice.client,
            instruments=instruments,
            channel="email",
        )
    assert len(mail.outbox) == 1
    match = re.search(r"/r/\?t=([\w-]+)", mail.outbox[0].body)
    assert match is not None
    return match.group(1)


def open_link(raw: str) -> HttpClient:
    browser = HttpClient()
    response = browser.get(f"/r/?t={raw}")
    assert response.status_code == 302
    assert response["Location"] == "/r/"  # the secret leaves the address bar
    return browser


def test_sending_stores_only_a_hash_and_mails_the_client(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["phq9", "gad7"], django_capture_on_commit_callbacks)
    link = SelfReportLink.objects.get()
    assert link.token_hash == hash_token(raw)
    assert raw not in str(SelfReportLink.objects.values())
    assert raw not in str(AuditEvent.objects.values())
    assert mail.outbox[0].to == [practice.client.email]
    assert link.state() == "sent"
    hours = (link.expires_at - link.created_at).total_seconds() / 3600
    assert round(hours) == 72
    event = AuditEvent.objects.get(action="self_report.send")
    assert event.after is not None
    assert event.after["instruments"] == ["phq9", "gad7"]


@pytest.mark.parametrize("code", ["qids_sr16", "cssrs_screener", "ace", "madrs"])
def test_licensed_or_score_entry_instruments_cannot_be_sent(practice: Practice, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        link_send(
            actor=practice.therapist, client=practice.client, instruments=[code], channel="email"
        )
    assert raised.value.error_dict["instruments"][0].code == "not_sendable"
    assert not SelfReportLink.objects.exists()


def test_a_client_without_email_or_phone(practice: Practice) -> None:
    Client.objects.filter(pk=practice.client.pk).update(email="", phone="")
    practice.client.refresh_from_db()
    for channel, code in (("email", "no_email"), ("sms", "no_phone")):
        with pytest.raises(ValidationError) as raised:
            link_send(
                actor=practice.therapist,
                client=practice.client,
                instruments=["phq9"],
                channel=channel,
            )
        assert raised.value.error_dict["channel"][0].code == code


def test_a_client_completes_a_bundle(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["phq9", "gad7"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    page = browser.get("/r/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Thoughts that you would be better off dead" in body
    assert practice.client.legal_family_name not in body  # the page names nobody
    answers = dict.fromkeys(PHQ9, "1") | {"q9": "0", "submit": "1"}
    assert browser.post("/r/", answers).status_code == 302
    assert "Generalized Anxiety Disorder-7" in browser.get("/r/").content.decode()
    gad7 = {f"q{n}": "2" for n in range(1, 8)} | {"submit": "1"}
    browser.post("/r/", gad7)
    done = browser.get("/r/").content.decode()
    assert "Thank you" in done
    assert "988" not in done  # no crisis answer, no crisis text
    stored = {a.instrument: a for a in Administration.objects.all()}
    assert (stored["phq9"].total, stored["gad7"].total) == (8, 14)
    assert {a.source for a in stored.values()} == {Source.SELF_REPORT}
    assert {a.entered_by for a in stored.values()} == {None}
    assert SelfReportLink.objects.get().state() == "completed"
    assert AuditEvent.objects.filter(action="measure.record", actor__isnull=True).count() == 2
    assert AuditEvent.objects.filter(action="self_report.complete").count() == 1


def test_a_used_link_shows_a_clear_page(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["gad7"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    browser.post("/r/", {f"q{n}": "0" for n in range(1, 8)} | {"submit": "1"})
    again = HttpClient().get(f"/r/?t={raw}")
    assert again.status_code == 410
    assert "already completed" in again.content.decode()
    assert Administration.objects.count() == 1


def test_an_expired_link(practice: Practice, django_capture_on_commit_callbacks) -> None:
    raw = send(practice, ["gad7"], django_capture_on_commit_callbacks)
    SelfReportLink.objects.update(expires_at=now() - dt.timedelta(minutes=1))
    response = HttpClient().get(f"/r/?t={raw}")
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_link_that_expires_while_open_accepts_nothing_more(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["gad7"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    SelfReportLink.objects.update(expires_at=now() - dt.timedelta(minutes=1))
    response = browser.post("/r/", {f"q{n}": "0" for n in range(1, 8)} | {"submit": "1"})
    assert response.status_code == 410
    assert not Administration.objects.exists()


@pytest.mark.parametrize("raw", ["", "x", "not-a-real-token-" * 3, "a" * 500])
def test_tampered_or_unknown_tokens(practice: Practice, raw: str) -> None:
    response = HttpClient().get(f"/r/?t={raw}")
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def test_no_session_no_form(db: None) -> None:
    assert HttpClient().get("/r/").status_code == 404


def test_each_link_reaches_only_its_own_client(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    other = make_client(legal_family_name="Elsewhere", email="else@example.org")
    make_member(client=other, staff=practice.therapist, role="therapist")
    raw = send(practice, ["gad7"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        link_send(actor=practice.therapist, client=other, instruments=["gad7"], channel="email")
    browser = open_link(raw)
    browser.post("/r/", {f"q{n}": "3" for n in range(1, 8)} | {"submit": "1"})
    assert Administration.objects.get().client == practice.client
    assert not other.administrations.exists()


def test_partial_answers_are_kept(practice: Practice, django_capture_on_commit_callbacks) -> None:
    raw = send(practice, ["phq9"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    browser.post("/r/", {"q1": "2", "q2": "3", "save": "1"})
    assert SelfReportLink.objects.get().progress == {"phq9": {"q1": 2, "q2": 3}}
    # Later, from the same link (a new visit), the answers are still there.
    later = open_link(raw)
    page = later.get("/r/").content.decode()
    assert 'name="q1" value="2" checked' in page
    assert SelfReportLink.objects.get().state() == "in_progress"
    assert not Administration.objects.exists()


def test_a_bad_answer_is_refused_on_its_item(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["phq9"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    response = browser.post("/r/", {"q1": "9", "save": "1"})
    assert response.status_code == 400
    assert "q1 must be one of 0–3" in response.content.decode()
    assert SelfReportLink.objects.get().progress == {}


def test_one_question_at_a_time(practice: Practice, django_capture_on_commit_callbacks) -> None:
    raw = send(practice, ["gad7"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    first = browser.get("/r/?one=1").content.decode()
    assert first.count('type="radio"') == 4  # one item, four answers
    response = browser.post("/r/", {"one": "1", "item": "0", "q1": "2", "next": "1"})
    assert response["Location"] == "/r/?one=1&item=1"
    for index in range(1, 6):
        browser.post("/r/", {"one": "1", "item": str(index), f"q{index + 1}": "1", "next": "1"})
    last = browser.get("/r/?one=1&item=6").content.decode()
    assert "Send my answers" in last
    browser.post("/r/", {"one": "1", "item": "6", "q7": "0", "submit": "1"})
    assert Administration.objects.get().total == 7


def test_a_risky_answer_shows_crisis_resources_and_raises_a_flag(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    raw = send(practice, ["phq9"], django_capture_on_commit_callbacks)
    browser = open_link(raw)
    browser.post("/r/", dict.fromkeys(PHQ9, "0") | {"q9": "1", "submit": "1"})
    done = browser.get("/r/").content.decode()
    assert "988" in done
    assert "Suicide &amp; Crisis Lifeline" in done
    flag = SafetyFlag.objects.get()
    assert flag.client == practice.client
    assert flag.is_open


def test_staff_send_from_the_chart(practice: Practice, django_capture_on_commit_callbacks) -> None:
    staff = HttpClient()
    staff.force_login(practice.therapist)
    url = f"/clients/{practice.client.public_id}/measures/send/"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, {"instruments": ["phq9", "pcl5"], "channel": "email"})
    assert response.status_code == 302
    assert SelfReportLink.objects.get().instruments == ["phq9", "pcl5"]
    chart = staff.get(f"/clients/{practice.client.public_id}/").content.decode()
    assert "Link sent by e-mail" in chart
    assert "sent, not opened" in chart
    refused = staff.post(url, {"instruments": ["qids_sr16"], "channel": "email"}, follow=True)
    assert "Not sent" in refused.content.decode()
    assert SelfReportLink.objects.count() == 1
