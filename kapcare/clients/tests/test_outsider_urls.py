"""Every client-scoped URL, found from the URL configuration itself, denies an outsider with 404.

New pages are covered automatically: any route with a `client_id` parameter is tried.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment, Course
from kapcare.dosing.models import AdverseEvent, DosingSession
from kapcare.measures.services import administration_record
from kapcare.medications.models import Medication
from kapcare.notes.models import SessionNote
from kapcare.safety.models import SafetyFlag
from kapcare.screening.services import history_save
from kapcare.testing.personas import Practice


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def client_scoped_routes() -> list[str]:
    routes = []
    for route, _pattern in _walk(get_resolver().url_patterns):
        if "client_id" in route:
            routes.append(route)
    return sorted(set(routes))


# Route parameters: Django's <uuid:name> or <name>, ninja's {name}.
PLACEHOLDER = re.compile(r"<(?:\w+:)?(?P<page>\w+)>|\{(?P<api>\w+)\}")


def fill(route: str, client: Client, related: dict[str, uuid.UUID]) -> str:
    """The route with the client's id and, for every other id it takes, a record of that client.

    A new route with another id fails here until `related_ids` below provides one, so no
    client-scoped page escapes the sweep.
    """
    path = "/" + route.lstrip("^").rstrip("$")
    ids = {"client_id": client.public_id, **related}
    for match in list(PLACEHOLDER.finditer(path)):
        name = match.group("page") or match.group("api")
        assert name in ids, f"{route}: add a {name} of the client to related_ids()"
        path = path.replace(match.group(0), str(ids[name]))
    assert "<" not in path, f"unfilled parameter in {route}"
    assert "{" not in path, f"unfilled parameter in {route}"
    return path


def related_ids(client: Client, actor: User) -> dict[str, uuid.UUID]:
    """One record of each kind that hangs off a client, for routes that name one."""
    member = client.care_team.filter(ended_at__isnull=True).first()
    assert member is not None
    administration = administration_record(
        actor=actor, client=client, instrument="moaas", answers={"total": 5}
    )
    trial = history_save(
        actor=actor,
        client=client,
        kind="trial",
        fields={
            "medication": Medication.objects.get(name="Sertraline"),
            "max_daily_dose_mg": decimal.Decimal(100),
            "started_on": dt.date(2025, 2, 1),
            "ended_on": dt.date(2025, 5, 1),
            "adherence": "good",
            "outcome": "non_response",
        },
    )
    # An open course and a booked session of the client (made directly: the sweep needs rows,
    # not the rules for making them).
    course = Course.objects.create(
        client=client,
        protocol="kap_sublingual",
        started_on=practice_today(),
        created_by=actor,
        updated_by=actor,
    )
    appointment = Appointment.objects.create(
        client=client,
        course=course,
        kind="preparation",
        starts_at=now() + dt.timedelta(days=1),
        ends_at=now() + dt.timedelta(days=1, hours=1),
        clinician=actor,
        created_by=actor,
        updated_by=actor,
    )
    # A note of that session (a draft: the note routes take any note of the client).
    note = SessionNote.objects.create(
        client=client, appointment=appointment, kind="preparation", author=actor, created_by=actor
    )
    flag = SafetyFlag.objects.create(
        client=client, kind="vital_signs", severity="review", reason="Vital signs: BP 190/110"
    )
    dosing_appointment = Appointment.objects.create(
        client=client,
        course=course,
        kind="dosing",
        starts_at=now() + dt.timedelta(days=2),
        ends_at=now() + dt.timedelta(days=2, hours=3),
        clinician=actor,
        created_by=actor,
        updated_by=actor,
    )
    session = DosingSession.objects.create(
        appointment=dosing_appointment, client=client, course=course, created_by=actor
    )
    adverse_event = AdverseEvent.objects.create(
        client=client,
        session=session,
        event="Vomiting",
        onset_at=now(),
        severity="moderate",
        seriousness="serious",
        related="related",
    )
    return {
        "event_id": adverse_event.public_id,
        "flag_id": flag.public_id,
        "session_id": session.public_id,
        "member_id": member.public_id,
        "administration_id": administration.public_id,
        "course_id": course.public_id,
        "appointment_id": appointment.public_id,
        "note_id": note.public_id,
        # Screening history entries and current medications: a real entry of the client (each
        # history kind has its own fixed routes, so every kind's URLs are tried).
        "item_id": trial.public_id,
    }


def test_the_sweep_finds_the_client_pages_and_api() -> None:
    routes = client_scoped_routes()
    # A guard that the sweep itself works: these must be among what it tries.
    for expected in ("clients/<uuid:client_id>/", "clients/<uuid:client_id>/edit/"):
        assert expected in routes
    assert any(route.startswith("api/v1/") for route in routes)
    assert len(routes) >= 8


@pytest.mark.parametrize("who", ["outsider", "outsider_prescriber"])
def test_every_client_url_is_404_for_staff_outside_the_care_team(
    practice: Practice, who: str
) -> None:
    related = related_ids(practice.client, practice.nurse)
    http = HttpClient()
    http.force_login(getattr(practice, who))
    before_client = Client.objects.values().get(pk=practice.client.pk)
    before_events = set(
        AuditEvent.objects.filter(client_public_id=practice.client.public_id).values_list(
            "id", flat=True
        )
    )
    ghost = Client(public_id=uuid.uuid4())
    for route in client_scoped_routes():
        path = fill(route, practice.client, related)
        ghost_path = fill(route, ghost, related)
        statuses = {}
        for method in ("get", "post", "patch", "put"):
            response = getattr(http, method)(path, data={}, content_type="application/json")
            # What an outsider learns must be exactly what they would learn about a client who
            # does not exist: the same status and the same body (a 422 for a malformed payload
            # is checked before access, and is the same for both).
            ghost_response = getattr(http, method)(
                ghost_path, data={}, content_type="application/json"
            )
            assert response.status_code == ghost_response.status_code, f"{method} {path}"
            if response["Content-Type"].startswith("application/json"):
                assert response.json() == ghost_response.json(), f"{method} {path}"
            else:  # pages carry a fresh CSRF token each time; they must not name the client
                assert practice.client.legal_family_name.encode() not in response.content
            assert response.status_code in (404, 405, 422), f"{method.upper()} {path}"
            statuses[method] = response.status_code
        assert 404 in statuses.values(), f"{path}: no method reached the access check"
    # Nothing changed and nothing was recorded against the client.
    assert Client.objects.values().get(pk=practice.client.pk) == before_client
    assert practice.client.care_team.filter(ended_at__isnull=True).count() == 4
    after_events = set(
        AuditEvent.objects.filter(client_public_id=practice.client.public_id).values_list(
            "id", flat=True
        )
    )
    assert after_events == before_events


def test_every_client_url_is_404_for_a_client_that_does_not_exist(practice: Practice) -> None:
    http = HttpClient()
    http.force_login(practice.admin)
    ghost = Client(public_id=uuid.uuid4())
    related = {
        "member_id": uuid.uuid4(),
        "administration_id": uuid.uuid4(),
        "item_id": uuid.uuid4(),
        "course_id": uuid.uuid4(),
        "appointment_id": uuid.uuid4(),
        "note_id": uuid.uuid4(),
        "flag_id": uuid.uuid4(),
        "session_id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
    }
    for route in client_scoped_routes():
        path = fill(route, ghost, related)
        response = http.get(path)
        assert response.status_code in (404, 405), f"GET {path}"


def test_care_team_member_of_another_client_is_404(practice: Practice) -> None:
    """A member id from one client's team cannot be used through another client's URL."""
    other = Client.objects.exclude(pk=practice.client.pk).get()
    foreign_member = other.care_team.first()
    assert foreign_member is not None
    http = HttpClient()
    http.force_login(practice.admin)
    path = f"/clients/{practice.client.public_id}/care-team/{foreign_member.public_id}/end/"
    assert http.post(path).status_code == 404
    foreign_member.refresh_from_db()
    assert foreign_member.ended_at is None


def test_signed_out_visitors_are_sent_to_sign_in(practice: Practice) -> None:
    http = HttpClient()
    related = related_ids(practice.client, practice.nurse)
    for route in client_scoped_routes():
        path = fill(route, practice.client, related)
        if route.startswith("api/"):
            # Some API routes take only a write (POST .../remove); the API answers a method a
            # route does not take with 405 before looking at who is calling, which says nothing
            # about the client. Every method a route does take must ask for sign-in.
            statuses = {
                method: getattr(http, method)(
                    path, data={}, content_type="application/json"
                ).status_code
                for method in ("get", "post", "patch", "put")
            }
            assert set(statuses.values()) <= {401, 405}, f"{path}: {statuses}"
            assert 401 in statuses.values(), path
        else:
            response = http.get(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith("/accounts/login/")
