"""`/healthz` answers "ok" to anyone, reading nothing (no database) for a request without a
session cookie, as uptime checks and load balancers send it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_healthz_answers_ok_without_signing_in_or_the_database() -> None:
    with CaptureQueriesContext(connection) as queries:
        response = HttpClient().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    assert len(queries) == 0
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_healthz_only_answers_get() -> None:
    assert HttpClient().post("/healthz").status_code == 405
