"""The personal API tokens page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient

from kapcare.accounts import services
from kapcare.accounts.models import ApiToken
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.testing.http import signed_in

PAGE = "/accounts/api-tokens/"


def revoke_url(token: ApiToken) -> str:
    return f"/accounts/api-tokens/{token.public_id}/revoke/"


def test_the_page_lists_only_my_tokens(practice) -> None:
    services.api_token_create(actor=practice.nurse, name="nurse script")
    services.api_token_create(actor=practice.therapist, name="therapist script")
    response = signed_in(practice.nurse).get(PAGE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "nurse script" in content
    assert "therapist script" not in content


def test_creating_a_token_shows_it_once(practice) -> None:
    client = signed_in(practice.nurse)
    response = client.post(PAGE, {"name": "nightly export", "expires_in_days": "90"})
    assert response.status_code == 200
    raw = response.context["new_token"]
    assert raw.startswith("kc_")
    assert raw in response.content.decode()
    assert services.api_token_authenticate(raw) == practice.nurse

    token = ApiToken.objects.get(user=practice.nurse)
    assert token.name == "nightly export"
    assert token.expires_at is not None
    expected = now() + dt.timedelta(days=90)
    assert abs(token.expires_at - expected) < dt.timedelta(minutes=1)
    assert AuditEvent.objects.filter(action="api_token.create").count() == 1

    again = client.get(PAGE)
    assert raw not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_a_token_that_never_expires(practice) -> None:
    signed_in(practice.nurse).post(PAGE, {"name": "forever", "expires_in_days": ""})
    assert ApiToken.objects.get(user=practice.nurse).expires_at is None


def test_a_token_needs_a_name(practice) -> None:
    response = signed_in(practice.nurse).post(PAGE, {"name": "", "expires_in_days": "30"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert response.context["new_token"] is None
    assert not ApiToken.objects.exists()


def test_the_owner_can_revoke(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    response = signed_in(practice.nurse).post(revoke_url(token))
    assert response.status_code == 302
    assert response["Location"] == PAGE
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.api_token_authenticate(raw) is None
    assert AuditEvent.objects.get(action="api_token.revoke").actor == practice.nurse


@pytest.mark.parametrize("persona", ["therapist", "outsider", "admin"])
def test_someone_else_gets_404_on_revoke(practice, persona: str) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    response = signed_in(getattr(practice, persona)).post(revoke_url(token))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert services.api_token_authenticate(raw) == practice.nurse
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()


def test_revoke_needs_a_post(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    assert signed_in(practice.nurse).get(revoke_url(token)).status_code == 405
    assert services.api_token_authenticate(raw) == practice.nurse


def test_signed_out_the_page_goes_to_login(db: None) -> None:
    response = HttpClient().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
