"""The request context: channel and caller address reach the audit log from real requests."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from kapcare.accounts import services
from kapcare.core.models import AuditEvent
from kapcare.testing.factories import TEST_PASSWORD


def test_a_page_request_is_audited_as_web_with_the_address(practice) -> None:
    response = HttpClient(REMOTE_ADDR="198.51.100.23").post(
        "/accounts/login/", {"username": "therapist", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == practice.therapist
    assert event.channel == "web"
    assert event.ip == "198.51.100.23"
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)


def test_an_api_request_is_audited_as_api_with_the_address(practice) -> None:
    _, raw = services.api_token_create(actor=practice.therapist, name="script")
    response = HttpClient(REMOTE_ADDR="198.51.100.24").get(
        "/api/v1/clients", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="client.list")
    assert event.actor == practice.therapist
    assert event.channel == "api"
    assert event.ip == "198.51.100.24"


def test_each_request_gets_its_own_request_id(practice) -> None:
    for address in ("198.51.100.1", "198.51.100.2"):
        HttpClient(REMOTE_ADDR=address).post(
            "/accounts/login/", {"username": "nurse", "password": TEST_PASSWORD}
        )
    request_ids = set(
        AuditEvent.objects.filter(action="auth.login").values_list("request_id", flat=True)
    )
    assert len(request_ids) == 2


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [("203.0.113.9", "203.0.113.9"), ("10.0.0.1, 203.0.113.9", "203.0.113.9")],
)
def test_behind_one_proxy_the_forwarded_address_is_used(
    practice, forwarded: str, expected: str
) -> None:
    with override_settings(PROXY_COUNT=1):
        HttpClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded).post(
            "/accounts/login/", {"username": "nurse", "password": TEST_PASSWORD}
        )
    assert AuditEvent.objects.get(action="auth.login").ip == expected


def test_without_a_proxy_a_forwarded_header_is_ignored(practice) -> None:
    HttpClient(REMOTE_ADDR="198.51.100.30", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        "/accounts/login/", {"username": "nurse", "password": TEST_PASSWORD}
    )
    assert AuditEvent.objects.get(action="auth.login").ip == "198.51.100.30"
