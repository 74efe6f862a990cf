"""Signing in and out, lock-out after repeated failures, the idle timeout, password changes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.accounts import middleware
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.http import signed_in

LOGIN = "/accounts/login/"
NEW_PASSWORD = "violet-lantern-orchard-77"


def is_signed_in(client: HttpClient) -> bool:
    return "_auth_user_id" in client.session


def audit_rows_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_home_redirects_to_login_when_signed_out(db: None) -> None:
    response = HttpClient().get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/"


def test_the_login_page_is_open(db: None) -> None:
    response = HttpClient().get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_a_successful_login_is_audited_with_the_address(practice) -> None:
    client = HttpClient(REMOTE_ADDR="198.51.100.5")
    response = client.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_signed_in(client)
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == practice.nurse
    assert event.subject_public_id == practice.nurse.public_id
    assert event.ip == "198.51.100.5"
    assert event.channel == "web"
    assert client.get("/").status_code == 200


def test_a_failed_login_is_audited_with_the_username_only(practice) -> None:
    wrong = "wrong-password-for-the-nurse"
    client = HttpClient(REMOTE_ADDR="198.51.100.6")
    response = client.post(LOGIN, {"username": "nurse", "password": wrong})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.detail == {"username": "nurse"}
    assert event.ip == "198.51.100.6"
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    text = audit_rows_text()
    assert wrong not in text
    assert TEST_PASSWORD not in text


def test_an_unknown_username_is_audited_too(db: None) -> None:
    HttpClient().post(LOGIN, {"username": "nobody", "password": "whatever-it-is-123"})
    assert AuditEvent.objects.get(action="auth.login_failed").detail == {"username": "nobody"}


def test_repeated_failures_lock_the_account_from_that_address(practice) -> None:
    client = HttpClient(REMOTE_ADDR="198.51.100.7")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "nurse", "password": f"wrong-password-{attempt}"})
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5

    response = client.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Sign-in temporarily locked" in response.content
    assert not is_signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.login").exists()

    # Another address is not locked out of the same account (the lock is username + address).
    elsewhere = HttpClient(REMOTE_ADDR="198.51.100.8")
    response = elsewhere.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(elsewhere)


def test_fewer_failures_than_the_limit_do_not_lock(practice) -> None:
    client = HttpClient(REMOTE_ADDR="198.51.100.9")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "nurse", "password": f"wrong-password-{attempt}"})
    response = client.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_logout_by_post_is_audited(practice) -> None:
    client = HttpClient(REMOTE_ADDR="198.51.100.10")
    client.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == practice.nurse
    assert event.ip == "198.51.100.10"
    assert client.get("/").status_code == 302


def test_logout_by_get_is_refused(practice) -> None:
    client = signed_in(practice.nurse)
    assert client.get("/accounts/logout/").status_code == 405
    assert is_signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.logout").exists()


# --- idle timeout -------------------------------------------------------------------------------


def later(minutes: float) -> dt.datetime:
    return now() + dt.timedelta(minutes=minutes)


def test_idle_too_long_signs_out(practice, monkeypatch: pytest.MonkeyPatch) -> None:
    client = signed_in(practice.nurse, address="198.51.100.11")
    assert client.get("/").status_code == 200
    then = later(settings.SESSION_IDLE_MINUTES + 1)
    monkeypatch.setattr(middleware, "now", lambda: then)

    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/clients/"
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == practice.nurse
    assert event.channel == "web"
    assert event.ip == "198.51.100.11"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f"signed out after {settings.SESSION_IDLE_MINUTES} minutes" in page.content.decode()
    assert client.get("/").status_code == 302


def test_activity_within_the_limit_keeps_the_session(
    practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(practice.nurse)
    assert client.get("/").status_code == 200
    # Each request restarts the clock, so two gaps just under the limit keep the session.
    for step in (1, 2):
        then = later(step * (settings.SESSION_IDLE_MINUTES - 1))
        monkeypatch.setattr(middleware, "now", lambda then=then: then)
        assert client.get("/").status_code == 200
        assert is_signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.logout").exists()


def last_seen(client: HttpClient) -> float:
    return float(client.session[middleware.LAST_SEEN_KEY])


def test_the_idle_mark_moves_once_a_minute_not_on_every_page(
    practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(practice.nurse)
    marked = last_seen(client)  # signing in starts the idle clock
    start = dt.datetime.fromtimestamp(marked, tz=dt.UTC)

    step = middleware.LAST_SEEN_STEP_SECONDS
    soon = start + dt.timedelta(seconds=step - 1)
    monkeypatch.setattr(middleware, "now", lambda: soon)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert last_seen(client) == marked  # not written again within the minute
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and "session" in q["sql"]]

    later_on = start + dt.timedelta(seconds=step)
    monkeypatch.setattr(middleware, "now", lambda: later_on)
    assert client.get("/").status_code == 200
    assert last_seen(client) == later_on.timestamp()


def test_a_stale_idle_mark_ends_the_session_sooner_never_later(
    practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(practice.nurse)
    start = dt.datetime.fromtimestamp(last_seen(client), tz=dt.UTC)
    # Active until just under a minute after signing in (the mark stays at `start`) ...
    active = start + dt.timedelta(seconds=middleware.LAST_SEEN_STEP_SECONDS - 1)
    monkeypatch.setattr(middleware, "now", lambda: active)
    assert client.get("/").status_code == 200
    assert last_seen(client) == start.timestamp()
    # ... then idle: the limit counts from the mark, so the session ends by start + limit.
    end = start + dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES, seconds=1)
    monkeypatch.setattr(middleware, "now", lambda: end)
    assert client.get("/clients/").status_code == 302
    assert not is_signed_in(client)


def test_an_idle_api_session_is_signed_out_without_a_redirect(
    practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(practice.nurse)
    assert client.get("/api/v1/me").status_code == 200
    then = later(settings.SESSION_IDLE_MINUTES + 1)
    monkeypatch.setattr(middleware, "now", lambda: then)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert not is_signed_in(client)
    assert AuditEvent.objects.get(action="auth.logout").channel == "api"


# --- password change ----------------------------------------------------------------------------

PASSWORD_PAGE = "/accounts/password/"


def test_password_page_shows_the_form(practice) -> None:
    response = signed_in(practice.nurse).get(PASSWORD_PAGE)
    assert response.status_code == 200
    assert b'name="old_password"' in response.content


def test_wrong_current_password(practice) -> None:
    client = signed_in(practice.nurse)
    response = client.post(
        PASSWORD_PAGE,
        {
            "old_password": "not-my-password",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "old_password" in response.context["form"].errors
    assert b"Your current password was entered incorrectly." in response.content
    practice.nurse.refresh_from_db()
    assert practice.nurse.check_password(TEST_PASSWORD)
    assert not AuditEvent.objects.filter(action="staff.password_change").exists()


def test_new_passwords_that_do_not_match(practice) -> None:
    client = signed_in(practice.nurse)
    response = client.post(
        PASSWORD_PAGE,
        {
            "old_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x",
        },
    )
    assert response.status_code == 400
    assert "new_password_again" in response.context["form"].errors
    assert b"The two new passwords do not match." in response.content
    practice.nurse.refresh_from_db()
    assert practice.nurse.check_password(TEST_PASSWORD)


def test_a_weak_new_password_is_refused_on_the_field(practice) -> None:
    client = signed_in(practice.nurse)
    response = client.post(
        PASSWORD_PAGE,
        {"old_password": TEST_PASSWORD, "new_password": "short", "new_password_again": "short"},
    )
    assert response.status_code == 400
    assert "new_password" in response.context["form"].errors
    practice.nurse.refresh_from_db()
    assert practice.nurse.check_password(TEST_PASSWORD)


def test_changing_the_password_keeps_the_session(practice) -> None:
    client = signed_in(practice.nurse)
    response = client.post(
        PASSWORD_PAGE,
        {
            "old_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    practice.nurse.refresh_from_db()
    assert practice.nurse.check_password(NEW_PASSWORD)
    assert not practice.nurse.check_password(TEST_PASSWORD)
    assert client.get("/").status_code == 200
    assert is_signed_in(client)
    event = AuditEvent.objects.get(action="staff.password_change")
    assert event.actor == practice.nurse
    assert NEW_PASSWORD not in audit_rows_text()


def test_other_sessions_end_when_the_password_changes(practice) -> None:
    other_device = signed_in(practice.nurse)
    assert other_device.get("/").status_code == 200
    signed_in(practice.nurse).post(
        PASSWORD_PAGE,
        {
            "old_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert other_device.get("/").status_code == 302


def test_a_busy_session_still_ends_after_the_maximum_hours(
    practice, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.SESSION_MAX_HOURS = 1
    client = signed_in(practice.nurse)
    assert client.get("/").status_code == 200
    # Active every 10 minutes (never idle) up to 50 minutes, then past the one-hour ceiling.
    for step in range(1, 6):
        moment = later(10 * step)
        monkeypatch.setattr(middleware, "now", lambda moment=moment: moment)
        assert client.get("/").status_code == 200, f"signed out early at step {step}"
    final = later(61)
    monkeypatch.setattr(middleware, "now", lambda: final)
    response = client.get("/clients/")
    assert response.status_code == 302
    assert not is_signed_in(client)
    page = client.get(response["Location"])
    assert "signed out after 1 hours signed in" in page.content.decode()


def test_a_failed_sign_in_is_filed_under_the_account(practice) -> None:
    HttpClient().post(LOGIN, {"username": "nurse", "password": "wrong-password"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.subject_public_id == practice.nurse.public_id
    admin = signed_in(practice.admin)
    page = admin.get(f"/accounts/staff/{practice.nurse.public_id}/audit/")
    actions = [row.action for row in page.context["events"].object_list]
    assert "auth.login_failed" in actions


def test_behind_a_proxy_the_lock_is_per_forwarded_address(practice, settings) -> None:
    """Every caller arrives from the proxy's address; locking that would lock out everyone."""
    settings.PROXY_COUNT = 1
    attacker = HttpClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(LOGIN, {"username": "nurse", "password": f"wrong-{attempt}"})
    locked = attacker.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert locked.status_code == 429
    nurse = HttpClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    response = nurse.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(nurse)
