"""Fresh re-authentication before exports: the freshness rule, the decorator, the confirmation
page (its audit, its refusal of unsafe `next` addresses) and its share of the sign-in lock."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import path
from pytest_django.fixtures import Settings as SettingsWrapper

from kapcare import urls as project_urls
from kapcare.accounts import reauth
from kapcare.accounts.reauth import (
    REAUTH_SESSION_KEY,
    describe_export,
    fresh_authentication_required,
    is_fresh,
)
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.http import reauthenticated, signed_in
from kapcare.testing.personas import Practice

CONFIRM = "/accounts/confirm/"
EXPORTED: list[str] = []


@fresh_authentication_required
@describe_export("the test export")
def export_view(request: HttpRequest) -> HttpResponse:
    EXPORTED.append(request.method or "")
    return HttpResponse("exported")


urlpatterns = [*project_urls.urlpatterns, path("test-export/", export_view)]

pytestmark = pytest.mark.urls("kapcare.accounts.tests.test_reauth")


@pytest.fixture(autouse=True)
def _nothing_exported_yet() -> None:
    EXPORTED.clear()


def request_with(session_value: object, user: object) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    if session_value is not None:
        request.session[REAUTH_SESSION_KEY] = session_value
    request.user = user  # type: ignore[assignment]
    return request


def later(minutes: float) -> dt.datetime:
    return now() + dt.timedelta(minutes=minutes)


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


# --- the rule ------------------------------------------------------------------------------------


class TestIsFresh:
    def test_never_confirmed_is_not_fresh(self, practice: Practice) -> None:
        assert not is_fresh(request_with(None, practice.admin))

    def test_just_confirmed_is_fresh(self, practice: Practice) -> None:
        assert is_fresh(request_with(now().timestamp(), practice.admin))

    def test_an_iso_time_is_read_too(self, practice: Practice) -> None:
        assert is_fresh(request_with(now().isoformat(), practice.admin))
        old = (now() - dt.timedelta(minutes=settings.REAUTH_MINUTES + 1)).isoformat()
        assert not is_fresh(request_with(old, practice.admin))

    def test_fresh_up_to_the_limit_and_not_after(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        request = request_with(now().timestamp(), practice.admin)
        monkeypatch.setattr(reauth, "now", lambda: later(settings.REAUTH_MINUTES - 0.1))
        assert is_fresh(request)
        monkeypatch.setattr(reauth, "now", lambda: later(settings.REAUTH_MINUTES + 0.1))
        assert not is_fresh(request)

    def test_the_setting_decides_the_limit(
        self, practice: Practice, settings: SettingsWrapper
    ) -> None:
        settings.REAUTH_MINUTES = 30
        assert is_fresh(
            request_with((now() - dt.timedelta(minutes=20)).timestamp(), practice.admin)
        )
        settings.REAUTH_MINUTES = 10
        assert not is_fresh(
            request_with((now() - dt.timedelta(minutes=20)).timestamp(), practice.admin)
        )

    @pytest.mark.parametrize("value", ["yesterday", "2024-01-01T10:00:00", True, [1], {"at": 1}])
    def test_anything_else_is_not_fresh(self, practice: Practice, value: object) -> None:
        assert not is_fresh(request_with(value, practice.admin))

    def test_a_time_in_the_future_is_not_fresh(self, practice: Practice) -> None:
        assert not is_fresh(request_with(later(60).timestamp(), practice.admin))

    def test_nobody_signed_in_is_never_fresh(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        assert not is_fresh(request_with(now().timestamp(), AnonymousUser()))


# --- the decorator --------------------------------------------------------------------------------


class TestDecorator:
    def test_not_fresh_goes_to_the_confirmation_page_with_next(self, practice: Practice) -> None:
        response = signed_in(practice.admin).get("/test-export/?period=2024")
        assert response.status_code == 302
        assert response["Location"] == f"{CONFIRM}?next=%2Ftest-export%2F%3Fperiod%3D2024"
        assert EXPORTED == []

    def test_a_post_that_is_not_fresh_exports_nothing(self, practice: Practice) -> None:
        http = signed_in(practice.admin)
        response = http.post("/test-export/")
        assert response.status_code == 302
        assert response["Location"] == f"{CONFIRM}?next=%2Ftest-export%2F"
        assert EXPORTED == []
        page = http.get(response["Location"])
        assert "Nothing was exported" in page.content.decode()

    def test_fresh_passes_through(self, practice: Practice) -> None:
        http = reauthenticated(signed_in(practice.admin))
        assert http.get("/test-export/").content == b"exported"
        assert http.post("/test-export/").content == b"exported"
        assert EXPORTED == ["GET", "POST"]

    def test_expired_goes_back_to_the_confirmation_page(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        http = reauthenticated(signed_in(practice.admin))
        monkeypatch.setattr(reauth, "now", lambda: later(settings.REAUTH_MINUTES + 1))
        response = http.post("/test-export/")
        assert response.status_code == 302
        assert response["Location"].startswith(CONFIRM)
        assert EXPORTED == []

    def test_signed_out_goes_to_sign_in(self, db: None) -> None:
        response = HttpClient().get("/test-export/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        assert EXPORTED == []

    def test_signed_out_reaching_the_decorator_goes_to_sign_in(self, rf: RequestFactory) -> None:
        # Even without LoginRequiredMiddleware in front of it.
        from django.contrib.auth.models import AnonymousUser

        request = rf.post("/test-export/")
        request.user = AnonymousUser()
        response = export_view(request)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/test-export/"
        assert EXPORTED == []

    def test_a_fresh_confirmation_belongs_to_the_session(self, practice: Practice) -> None:
        reauthenticated(signed_in(practice.admin))
        other_session = signed_in(practice.admin)
        assert other_session.get("/test-export/").status_code == 302


# --- the confirmation page ----------------------------------------------------------------------


class TestConfirmationPage:
    def test_the_page_asks_for_the_password_and_names_the_export(self, practice: Practice) -> None:
        response = signed_in(practice.admin).get(f"{CONFIRM}?next=/test-export/")
        assert response.status_code == 200
        text = response.content.decode()
        assert "Confirm your password to export" in text
        assert "the test export" in text
        assert 'name="password"' in text
        assert 'value="/test-export/"' in text

    def test_success_marks_the_session_audits_and_returns(self, practice: Practice) -> None:
        http = signed_in(practice.admin, address="198.51.100.20")
        response = http.post(CONFIRM, {"password": TEST_PASSWORD, "next": "/test-export/?a=1"})
        assert response.status_code == 302
        assert response["Location"] == "/test-export/?a=1"
        assert REAUTH_SESSION_KEY in http.session
        event = AuditEvent.objects.get(action="account.reauthenticate")
        assert event.actor == practice.admin
        assert event.subject_public_id == practice.admin.public_id
        assert event.ip == "198.51.100.20"
        assert event.detail == {"for": "/test-export/"}
        assert TEST_PASSWORD not in audit_text()
        assert http.get("/test-export/").content == b"exported"

    def test_a_wrong_password_is_refused_on_the_field_and_audited(self, practice: Practice) -> None:
        http = signed_in(practice.admin)
        wrong = "not-the-admins-password-99"
        response = http.post(CONFIRM, {"password": wrong, "next": "/test-export/"})
        assert response.status_code == 400
        assert response.context["form"].errors["password"] == [
            "That is not your password. Try again."
        ]
        assert "That is not your password" in response.content.decode()
        assert REAUTH_SESSION_KEY not in http.session
        event = AuditEvent.objects.get(action="account.reauthenticate_failed")
        assert event.actor == practice.admin
        assert event.detail == {"for": "/test-export/", "reason": "wrong_password"}
        assert not AuditEvent.objects.filter(action="account.reauthenticate").exists()
        # Not a sign-in: no auth.login_failed is written for it.
        assert not AuditEvent.objects.filter(action="auth.login_failed").exists()
        assert wrong not in audit_text()
        assert http.get("/test-export/").status_code == 302

    def test_an_empty_password_is_refused_without_an_attempt(self, practice: Practice) -> None:
        response = signed_in(practice.admin).post(CONFIRM, {"password": ""})
        assert response.status_code == 400
        assert response.context["form"].errors["password"]
        assert not AuditEvent.objects.filter(action__startswith="account.").exists()

    @pytest.mark.parametrize(
        "unsafe", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"]
    )
    def test_an_unsafe_next_is_refused(self, practice: Practice, unsafe: str) -> None:
        http = signed_in(practice.admin)
        page = http.get(CONFIRM, {"next": unsafe})
        assert unsafe not in page.content.decode()
        response = http.post(CONFIRM, {"password": TEST_PASSWORD, "next": unsafe})
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert AuditEvent.objects.get(action="account.reauthenticate").detail is None

    def test_without_next_it_goes_home(self, practice: Practice) -> None:
        response = signed_in(practice.therapist).post(CONFIRM, {"password": TEST_PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_signed_out_visitors_are_sent_to_sign_in(self, db: None) -> None:
        http = HttpClient()
        response = http.get(CONFIRM)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        response = http.post(CONFIRM, {"password": TEST_PASSWORD})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert not AuditEvent.objects.filter(action__startswith="account.").exists()


class TestLock:
    def test_repeated_wrong_passwords_lock_confirming_and_signing_in(
        self, practice: Practice
    ) -> None:
        address = "198.51.100.30"
        http = signed_in(practice.admin, address=address)
        for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            response = http.post(CONFIRM, {"password": f"wrong-password-{attempt}"})
            assert response.status_code == 400
        last = http.post(CONFIRM, {"password": "wrong-password-last"})
        assert last.status_code == 429
        assert "Too many wrong passwords" in last.content.decode()

        # Even the right password is not checked while the lock lasts.
        response = http.post(CONFIRM, {"password": TEST_PASSWORD, "next": "/test-export/"})
        assert response.status_code == 429
        assert REAUTH_SESSION_KEY not in http.session
        assert not AuditEvent.objects.filter(action="account.reauthenticate").exists()
        failed = AuditEvent.objects.filter(action="account.reauthenticate_failed")
        assert failed.filter(detail__reason="wrong_password").count() == settings.AXES_FAILURE_LIMIT
        assert failed.filter(detail__reason="locked").count() == 1

        # The lock is the sign-in lock: the same username from the same address cannot sign in.
        login = HttpClient(REMOTE_ADDR=address).post(
            "/accounts/login/", {"username": "admin", "password": TEST_PASSWORD}
        )
        assert login.status_code == 429
        # From elsewhere it can.
        elsewhere = HttpClient(REMOTE_ADDR="198.51.100.31").post(
            "/accounts/login/", {"username": "admin", "password": TEST_PASSWORD}
        )
        assert elsewhere.status_code == 302

    def test_a_confirmation_clears_earlier_failures(self, practice: Practice) -> None:
        http = signed_in(practice.admin, address="198.51.100.32")
        for round_ in range(2):
            for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
                http.post(CONFIRM, {"password": f"wrong-{round_}-{attempt}"})
            response = http.post(CONFIRM, {"password": TEST_PASSWORD})
            assert response.status_code == 302, round_
