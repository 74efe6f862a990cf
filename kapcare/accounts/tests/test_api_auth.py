"""Who is calling the API: a session (CSRF checked on writes) or a personal token."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from kapcare.accounts import services

ME = "/api/v1/me"


def test_a_bearer_token_identifies_the_caller(practice) -> None:
    _, raw = services.api_token_create(actor=practice.prescriber, name="script")
    response = HttpClient().get(ME, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(practice.prescriber.public_id)
    assert body["username"] == "prescriber"
    assert body["roles"] == ["prescriber"]
    assert body["prescriber_credential"] == "MD"
    assert body["licence_number"] == practice.prescriber.licence_number


def test_an_x_api_key_header_identifies_the_caller(practice) -> None:
    _, raw = services.api_token_create(actor=practice.admin, name="script")
    response = HttpClient().get(ME, headers={"X-API-Key": raw})
    assert response.status_code == 200
    assert response.json()["roles"] == ["practice_admin"]
    assert response.json()["username"] == "admin"


def test_the_session_identifies_the_caller(practice) -> None:
    client = HttpClient()
    client.force_login(practice.nurse)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["roles"] == ["nurse"]


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["errors"]
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["field"] is None
    assert error["rule"] == "unauthenticated"
    assert error["message"]


def test_no_credentials_is_401_json(db: None) -> None:
    assert_unauthenticated(HttpClient().get(ME))


def test_a_revoked_token_is_401(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    services.api_token_revoke(actor=practice.nurse, token=token)
    assert_unauthenticated(HttpClient().get(ME, headers={"Authorization": f"Bearer {raw}"}))
    assert_unauthenticated(HttpClient().get(ME, headers={"X-API-Key": raw}))


@pytest.mark.parametrize("header", ["Bearer kc_garbage", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_bad_authorization_header_is_401(practice, header: str) -> None:
    assert_unauthenticated(HttpClient().get(ME, headers={"Authorization": header}))


def test_an_inactive_users_token_is_401(practice) -> None:
    _, raw = services.api_token_create(actor=practice.outsider, name="script")
    services.staff_update(actor=practice.admin, staff=practice.outsider, is_active=False)
    assert_unauthenticated(HttpClient().get(ME, headers={"Authorization": f"Bearer {raw}"}))


def test_an_inactive_users_session_is_401(practice) -> None:
    client = HttpClient()
    client.force_login(practice.outsider)
    practice.outsider.is_active = False
    practice.outsider.save(update_fields=["is_active"])
    assert_unauthenticated(client.get(ME))


def _new_client_payload() -> dict[str, object]:
    return {
        "legal_given_names": "Robin",
        "legal_family_name": "Vale",
        "date_of_birth": "1980-05-06",
        "sex_at_birth": "female",
    }


def test_a_session_post_without_csrf_is_refused(practice) -> None:
    from kapcare.clients.models import Client

    before = Client.objects.count()
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(practice.therapist)
    response = client.post(
        "/api/v1/clients", _new_client_payload(), content_type="application/json"
    )
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["rule"] == "forbidden"
    assert "CSRF" in error["message"]
    assert Client.objects.count() == before


def test_a_session_post_with_the_csrf_token_gets_through(practice) -> None:
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(practice.therapist)
    client.get("/")  # a page sets the CSRF cookie
    response = client.post(
        "/api/v1/clients",
        {},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    # Past authentication: the endpoint answers with its own schema validation.
    assert response.status_code == 422


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_token_post_needs_no_csrf(practice, header: str) -> None:
    # A token is not a browser credential, so a script's write is not CSRF-checked: it gets past
    # authentication to the endpoint (which answers with its own validation, not 401/403).
    _, raw = services.api_token_create(actor=practice.therapist, name="script")
    value = f"Bearer {raw}" if header == "Authorization" else raw
    client = HttpClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/clients", {}, content_type="application/json", headers={header: value}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "missing"


def test_a_token_post_without_a_valid_token_is_401_not_a_csrf_failure(practice) -> None:
    client = HttpClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/clients",
        {},
        content_type="application/json",
        headers={"Authorization": "Bearer kc_not-a-token"},
    )
    assert_unauthenticated(response)
