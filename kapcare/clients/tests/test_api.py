"""The clients part of the JSON API (/api/v1/clients): access, search, writes, audit, errors."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.models import User
from kapcare.accounts.services import api_token_create, api_token_revoke
from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    StatusChange,
)
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.personas import Practice

API = "/api/v1"
JSON = "application/json"


class Api:
    """A django.test.Client that sends one staff member's API token with every request."""

    def __init__(self, user: User, *, enforce_csrf_checks: bool = False) -> None:
        _, raw = api_token_create(actor=user, name="tests")
        self.user = user
        self.http = HttpClient(enforce_csrf_checks=enforce_csrf_checks)
        self.headers = {"Authorization": f"Bearer {raw}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(API + path, params or {}, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.http.post(API + path, json.dumps(body), content_type=JSON, headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.http.patch(
            API + path, json.dumps(body), content_type=JSON, headers=self.headers
        )


@pytest.fixture
def api() -> Callable[[User], Api]:
    return Api


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def error_fields(response: Any) -> set[str | None]:
    body = response.json()
    assert set(body) == {"errors"}, body
    for item in body["errors"]:
        assert set(item) == {"field", "rule", "message"}
        assert item["rule"]
        assert item["message"]
    return {item["field"] for item in body["errors"]}


def new_client(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_given_names": "Robin",
        "legal_family_name": "Ashworth",
        "date_of_birth": "1984-05-06",
        "sex_at_birth": "male",
        "email": "robin.ashworth@example.org",
        "phone": "(555) 555-0142",
        "access_needs": "Prefers afternoon appointments",
    }
    body.update(overrides)
    return body


def db_state() -> tuple[int, ...]:
    return (
        Client.objects.count(),
        AuditEvent.objects.count(),
        CareTeamMember.objects.count(),
        StatusChange.objects.count(),
    )


@contextmanager
def nothing_written() -> Iterator[None]:
    before = db_state()
    yield
    assert db_state() == before, "a refused request must leave the database as it was"


# --- authentication ---------------------------------------------------------------------------


def test_no_credentials_get_401_json(practice: Practice) -> None:
    for path in ("/clients", f"/clients/{practice.client.public_id}", "/me"):
        response = HttpClient().get(API + path)
        assert response.status_code == 401
        assert response["Content-Type"].startswith(JSON)
        assert response.json()["errors"][0]["rule"] == "unauthenticated"


def test_bad_or_revoked_token_gets_401(practice: Practice) -> None:
    token, raw = api_token_create(actor=practice.therapist, name="old")
    api_token_revoke(actor=practice.therapist, token=token)
    for value in (f"Bearer {raw}", "Bearer kc_not-a-real-token", "Bearer "):
        response = HttpClient().get(API + "/clients", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json()["errors"][0]["rule"] == "unauthenticated"


def test_token_works_as_bearer_and_as_x_api_key(practice: Practice) -> None:
    _, raw = api_token_create(actor=practice.therapist, name="script")
    for headers in ({"Authorization": f"Bearer {raw}"}, {"X-API-Key": raw}):
        response = HttpClient().get(API + "/me", headers=headers)
        assert response.status_code == 200
        assert response.json()["username"] == "therapist"


def test_session_can_read(practice: Practice) -> None:
    http = HttpClient()
    http.force_login(practice.therapist)
    response = http.get(API + "/clients")
    assert response.status_code == 200
    assert ids(response) == {str(practice.client.public_id)}
    assert http.get(API + f"/clients/{practice.client.public_id}").status_code == 200


def test_session_write_without_csrf_token_is_refused(practice: Practice) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(practice.therapist)
    with nothing_written():
        response = http.post(API + "/clients", json.dumps(new_client()), content_type=JSON)
        patched = http.patch(
            API + f"/clients/{practice.client.public_id}",
            json.dumps({"preferred_name": "J"}),
            content_type=JSON,
        )
    assert response.status_code == 403
    assert response["Content-Type"].startswith(JSON)
    assert "CSRF" in response.content.decode()  # today {"detail": "CSRF check Failed"}
    assert patched.status_code == 403
    practice.client.refresh_from_db()
    assert practice.client.preferred_name == "Jay"


def test_csrf_refusal_uses_the_errors_shape(practice: Practice) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(practice.therapist)
    response = http.post(API + "/clients", json.dumps(new_client()), content_type=JSON)
    assert response.status_code == 403
    assert response.json()["errors"][0]["rule"] == "forbidden"


def test_session_write_with_csrf_token_is_accepted(practice: Practice) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(practice.therapist)
    secret = "a" * 32
    http.cookies[settings.CSRF_COOKIE_NAME] = secret
    response = http.post(
        API + "/clients",
        json.dumps(new_client()),
        content_type=JSON,
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="client.create")
    assert event.actor == practice.therapist
    assert event.channel == "api"


def test_token_write_needs_no_csrf(practice: Practice) -> None:
    script = Api(practice.therapist, enforce_csrf_checks=True)
    response = script.post("/clients", new_client())
    assert response.status_code == 201, response.content


def test_openapi_schema_is_public_json(db: None) -> None:
    response = HttpClient().get(API + "/openapi.json")
    assert response.status_code == 200  # the schema holds no data, so no sign-in is needed
    assert response["Content-Type"].startswith(JSON)
    paths = response.json()["paths"]
    assert {"/api/v1/clients", "/api/v1/me", "/api/v1/clients/{client_id}"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/clients"])
    assert {"get", "patch"} <= set(paths["/api/v1/clients/{client_id}"])


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_clients(practice: Practice, api: Callable[..., Api]) -> None:
    unassigned = make_client(legal_given_names="Nobody's", legal_family_name="Client")
    jamie = str(practice.client.public_id)
    other = str(Client.objects.get(legal_given_names="Other").public_id)

    for user in (practice.therapist, practice.prescriber, practice.nurse, practice.front_desk):
        response = api(user).get("/clients")
        assert response.status_code == 200
        assert ids(response) == {jamie}, user.username

    for user in (practice.outsider, practice.outsider_prescriber):
        assert ids(api(user).get("/clients")) == {other}, user.username

    response = api(practice.admin).get("/clients")
    assert ids(response) == {jamie, other, str(unassigned.public_id)}
    assert response.json()["count"] == 3


def test_list_result_carries_the_record_and_care_team(
    practice: Practice, api: Callable[..., Api]
) -> None:
    response = api(practice.therapist).get("/clients")
    (row,) = response.json()["results"]
    assert row["legal_given_names"] == "Jamie"
    assert row["legal_family_name"] == "Quinlan"
    assert row["preferred_name"] == "Jay"
    assert row["date_of_birth"] == practice.client.date_of_birth.isoformat()
    assert row["status"] == "inquiry"
    team = {(member["staff_id"], member["role"]) for member in row["care_team"]}
    assert team == {
        (str(practice.therapist.public_id), "primary_therapist"),
        (str(practice.prescriber.public_id), "prescriber"),
        (str(practice.nurse.public_id), "nurse"),
        (str(practice.front_desk.public_id), "coordinator"),
    }


def test_list_does_not_show_ended_care_team_places(
    practice: Practice, api: Callable[..., Api]
) -> None:
    CareTeamMember.objects.filter(client=practice.client, staff=practice.nurse).update(
        ended_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert ids(api(practice.nurse).get("/clients")) == set()
    (row,) = api(practice.therapist).get("/clients").json()["results"]
    assert "nurse" not in {member["role"] for member in row["care_team"]}


def test_list_is_audited(practice: Practice, api: Callable[..., Api]) -> None:
    api(practice.therapist).get("/clients", {"q": "Quin", "status": "inquiry"})
    event = AuditEvent.objects.get(action="client.list")
    assert event.actor == practice.therapist
    assert event.channel == "api"
    assert event.detail == {
        "query": "Quin",
        "status": "inquiry",
        "clinician": "",
        "page": 1,
        "shown": 1,
    }
    api(practice.admin).get("/clients", {"clinician": str(practice.therapist.public_id)})
    by_clinician = AuditEvent.objects.filter(action="client.list").latest("id")
    assert by_clinician.detail is not None
    assert by_clinician.detail["clinician"] == str(practice.therapist.public_id)


@pytest.fixture
def second_client(practice: Practice) -> Client:
    """Another of the therapist's clients, born on a day no factory client is born on."""
    client = make_client(
        legal_given_names="Morgan",
        legal_family_name="Ellery",
        date_of_birth=dt.date(1949, 12, 31),
        status=ClientStatus.ACTIVE,
    )
    make_member(client=client, staff=practice.therapist, role=CareTeamRole.PRIMARY_THERAPIST)
    return client


@pytest.mark.parametrize("q", ["Quinlan", "quinlan", "QUIN", "Jamie", "Jay", "jamie quinlan"])
def test_search_by_name(
    practice: Practice, second_client: Client, api: Callable[..., Api], q: str
) -> None:
    assert ids(api(practice.therapist).get("/clients", {"q": q})) == {
        str(practice.client.public_id)
    }


def test_search_with_no_match_is_empty(
    practice: Practice, second_client: Client, api: Callable[..., Api]
) -> None:
    response = api(practice.therapist).get("/clients", {"q": "Zzyzx"})
    assert response.json() == {"count": 0, "page": 1, "pages": 1, "results": []}


def test_search_does_not_reach_clients_outside_the_team(
    practice: Practice, api: Callable[..., Api]
) -> None:
    assert ids(api(practice.outsider).get("/clients", {"q": "Quinlan"})) == set()


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%m/%d/%Y"])
def test_search_by_date_of_birth(
    practice: Practice, second_client: Client, api: Callable[..., Api], fmt: str
) -> None:
    therapist = api(practice.therapist)
    jamie = practice.client.date_of_birth.strftime(fmt)
    assert ids(therapist.get("/clients", {"q": jamie})) == {str(practice.client.public_id)}
    morgan = second_client.date_of_birth.strftime(fmt)
    assert ids(therapist.get("/clients", {"q": morgan})) == {str(second_client.public_id)}


def test_search_text_over_100_characters_is_422(
    practice: Practice, api: Callable[..., Api]
) -> None:
    response = api(practice.therapist).get("/clients", {"q": "x" * 101})
    assert response.status_code == 422
    assert any(field and field.endswith("q") for field in error_fields(response))


def test_status_filter(practice: Practice, second_client: Client, api: Callable[..., Api]) -> None:
    therapist = api(practice.therapist)
    assert ids(therapist.get("/clients", {"status": "active"})) == {str(second_client.public_id)}
    assert ids(therapist.get("/clients", {"status": "inquiry"})) == {str(practice.client.public_id)}
    assert ids(therapist.get("/clients", {"status": "discharged"})) == set()


def test_clinician_filter(
    practice: Practice, second_client: Client, api: Callable[..., Api]
) -> None:
    admin = api(practice.admin)
    other = Client.objects.get(legal_given_names="Other")
    assert ids(admin.get("/clients", {"clinician": str(practice.outsider.public_id)})) == {
        str(other.public_id)
    }
    assert ids(admin.get("/clients", {"clinician": str(practice.nurse.public_id)})) == {
        str(practice.client.public_id)
    }
    assert ids(admin.get("/clients", {"clinician": str(practice.therapist.public_id)})) == {
        str(practice.client.public_id),
        str(second_client.public_id),
    }
    # The filter narrows what the caller may see; it never widens it.
    therapist = api(practice.therapist)
    assert ids(therapist.get("/clients", {"clinician": str(practice.outsider.public_id)})) == set()


def test_unknown_clinician_is_400(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).get("/clients", {"clinician": str(uuid.uuid4())})
    assert response.status_code == 400
    assert error_fields(response) == {"clinician"}


def test_malformed_clinician_is_422(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).get("/clients", {"clinician": "not-a-uuid"})
    assert response.status_code == 422
    assert error_fields(response) == {"query.clinician"}


def test_pagination(practice: Practice, api: Callable[..., Api]) -> None:
    assert settings.CLIENT_LIST_PAGE_SIZE == 25
    for index in range(30):
        client = make_client(legal_family_name=f"Paged{index:02d}")
        make_member(client=client, staff=practice.therapist, role=CareTeamRole.PRIMARY_THERAPIST)
    therapist = api(practice.therapist)

    first = therapist.get("/clients").json()
    assert (first["count"], first["page"], first["pages"]) == (31, 1, 2)
    assert len(first["results"]) == 25

    second = therapist.get("/clients", {"page": 2}).json()
    assert (second["count"], second["page"], second["pages"]) == (31, 2, 2)
    assert len(second["results"]) == 6

    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 31
    assert set(seen) == {
        str(c.public_id) for c in Client.objects.exclude(legal_given_names="Other")
    }

    # Past the end: the last page, as Django's Paginator.get_page gives.
    beyond = therapist.get("/clients", {"page": 99}).json()
    assert beyond["page"] == 2
    assert len(beyond["results"]) == 6

    zero = therapist.get("/clients", {"page": 0})
    assert zero.status_code == 422
    assert error_fields(zero) == {"query.page"}


def test_list_query_count_stays_flat(practice: Practice, api: Callable[..., Api]) -> None:
    therapist = api(practice.therapist)
    therapist.get("/clients")  # the token's first use records last_used_at; leave that out

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert therapist.get("/clients").status_code == 200
        return len(captured)

    small = queries()
    for index in range(10):
        client = make_client(legal_family_name=f"More{index}")
        make_member(client=client, staff=practice.therapist, role=CareTeamRole.PRIMARY_THERAPIST)
        make_member(client=client, staff=make_staff(nurse=True), role=CareTeamRole.NURSE)
    assert queries() == small


# --- read -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["therapist", "prescriber", "nurse", "front_desk", "admin"])
def test_read_by_care_team_and_admin(practice: Practice, api: Callable[..., Api], who: str) -> None:
    user = getattr(practice, who)
    response = api(user).get(f"/clients/{practice.client.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(practice.client.public_id)
    assert body["legal_family_name"] == "Quinlan"
    assert len(body["care_team"]) == 4

    event = AuditEvent.objects.get(action="client.read")
    assert event.actor == user
    assert event.client_public_id == practice.client.public_id
    assert event.subject_public_id == practice.client.public_id
    assert event.channel == "api"
    assert event.detail == {"view": "api"}


def test_each_read_is_audited(practice: Practice, api: Callable[..., Api]) -> None:
    therapist = api(practice.therapist)
    for _ in range(3):
        assert therapist.get(f"/clients/{practice.client.public_id}").status_code == 200
    assert AuditEvent.objects.filter(action="client.read").count() == 3


@pytest.mark.parametrize("who", ["outsider", "outsider_prescriber"])
def test_read_by_outsider_is_404_and_not_audited_as_a_read(
    practice: Practice, api: Callable[..., Api], who: str
) -> None:
    response = api(getattr(practice, who)).get(f"/clients/{practice.client.public_id}")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": None, "rule": "not_found", "message": "Not found."}]
    }
    assert not AuditEvent.objects.filter(action="client.read").exists()


def test_read_of_unknown_id_is_404(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).get(f"/clients/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["rule"] == "not_found"
    assert not AuditEvent.objects.filter(action="client.read").exists()


def test_outsider_and_unknown_id_answers_are_the_same(
    practice: Practice, api: Callable[..., Api]
) -> None:
    outsider = api(practice.outsider)
    hidden = outsider.get(f"/clients/{practice.client.public_id}")
    missing = outsider.get(f"/clients/{uuid.uuid4()}")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


def test_read_of_malformed_id_is_422_json(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).get("/clients/not-a-uuid")
    assert response.status_code == 422
    assert response["Content-Type"].startswith(JSON)
    assert error_fields(response) == {"path.client_id"}
    assert not AuditEvent.objects.filter(action="client.read").exists()


# --- create -----------------------------------------------------------------------------------


def test_create_returns_the_record_and_joins_the_creator(
    practice: Practice, api: Callable[..., Api]
) -> None:
    response = api(practice.therapist).post("/clients", new_client(legal_given_names=" Robin "))
    assert response.status_code == 201, response.content
    body = response.json()
    client = Client.objects.get(public_id=body["id"])
    assert client.legal_given_names == "Robin"  # stripped
    assert body["legal_given_names"] == "Robin"
    assert body["date_of_birth"] == "1984-05-06"
    assert body["sex_at_birth"] == "male"
    assert body["status"] == "inquiry"
    assert body["preferred_channel"] == "phone"
    assert client.created_by == practice.therapist
    assert [(m["staff_id"], m["role"]) for m in body["care_team"]] == [
        (str(practice.therapist.public_id), "primary_therapist")
    ]
    member = CareTeamMember.objects.get(client=client)
    assert (member.staff, member.role) == (practice.therapist, CareTeamRole.PRIMARY_THERAPIST)
    (change,) = StatusChange.objects.filter(client=client)
    assert change.to_status == ClientStatus.INQUIRY
    # The creator can read what they made.
    assert api(practice.therapist).get(f"/clients/{client.public_id}").status_code == 200


def test_create_audits_the_client_and_its_care_team(
    practice: Practice, api: Callable[..., Api]
) -> None:
    body = api(practice.therapist).post("/clients", new_client()).json()
    client_id = uuid.UUID(body["id"])
    created = AuditEvent.objects.get(action="client.create")
    assert created.client_public_id == client_id
    assert created.channel == "api"
    assert created.actor == practice.therapist
    assert created.after is not None
    assert created.after["legal_family_name"] == "Ashworth"
    assert created.after["date_of_birth"] == "1984-05-06"
    assert created.after["status"] == "inquiry"
    assert created.detail is None
    added = AuditEvent.objects.get(action="care_team.add")
    assert added.client_public_id == client_id
    assert added.channel == "api"
    assert added.after is not None
    assert added.after["staff"] == str(practice.therapist.public_id)
    assert added.after["role"] == "primary_therapist"


def test_create_applies_the_care_team_given(practice: Practice, api: Callable[..., Api]) -> None:
    other_therapist = make_staff(therapist=True)
    team = [
        {"staff_id": str(other_therapist.public_id), "role": "primary_therapist"},
        {"staff_id": str(practice.prescriber.public_id), "role": "prescriber"},
        {"staff_id": str(practice.nurse.public_id), "role": "nurse"},
        {"staff_id": str(practice.front_desk.public_id), "role": "coordinator"},
    ]
    response = api(practice.therapist).post("/clients", new_client(care_team=team))
    assert response.status_code == 201, response.content
    client = Client.objects.get(public_id=response.json()["id"])
    members = {(m.staff, m.role) for m in CareTeamMember.objects.filter(client=client)}
    assert members == {
        (other_therapist, "primary_therapist"),
        (practice.prescriber, "prescriber"),
        (practice.nurse, "nurse"),
        (practice.front_desk, "coordinator"),
        # The primary place is taken, so the creating therapist joins as a therapist.
        (practice.therapist, "therapist"),
    }
    assert {(m["staff_id"], m["role"]) for m in response.json()["care_team"]} == {
        (str(staff.public_id), role) for staff, role in members
    }
    added = AuditEvent.objects.filter(action="care_team.add", client_public_id=client.public_id)
    assert added.count() == 5
    assert set(added.values_list("channel", flat=True)) == {"api"}


def test_create_by_a_listed_creator_does_not_add_them_twice(
    practice: Practice, api: Callable[..., Api]
) -> None:
    team = [{"staff_id": str(practice.therapist.public_id), "role": "therapist"}]
    response = api(practice.therapist).post("/clients", new_client(care_team=team))
    assert response.status_code == 201
    assert [m["role"] for m in response.json()["care_team"]] == ["therapist"]


def test_create_by_admin_does_not_join_the_team(
    practice: Practice, api: Callable[..., Api]
) -> None:
    response = api(practice.admin).post("/clients", new_client())
    assert response.status_code == 201
    assert response.json()["care_team"] == []


BAD_INPUT: list[tuple[str, Callable[[Practice], dict[str, Any]], int, str]] = [
    (
        "future birth date",
        lambda p: {"date_of_birth": (practice_today() + dt.timedelta(days=1)).isoformat()},
        400,
        "date_of_birth",
    ),
    ("birth date before 1900", lambda p: {"date_of_birth": "1899-12-31"}, 400, "date_of_birth"),
    ("malformed email", lambda p: {"email": "robin-at-example"}, 400, "email"),
    ("date of birth a number", lambda p: {"date_of_birth": 12345}, 422, "date_of_birth"),
    ("date of birth not a date", lambda p: {"date_of_birth": "06/05/84"}, 422, "date_of_birth"),
    ("given names a number", lambda p: {"legal_given_names": 5}, 422, "legal_given_names"),
    ("care team not a list", lambda p: {"care_team": "therapist"}, 422, "care_team"),
    ("access needs too long", lambda p: {"access_needs": "x" * 3000}, 400, "access_needs"),
    ("family name too long", lambda p: {"legal_family_name": "x" * 200}, 400, "legal_family_name"),
    ("blank family name", lambda p: {"legal_family_name": "   "}, 400, "legal_family_name"),
    ("invalid sex at birth", lambda p: {"sex_at_birth": "robot"}, 400, "sex_at_birth"),
    ("invalid channel", lambda p: {"preferred_channel": "fax"}, 400, "preferred_channel"),
    ("invalid phone", lambda p: {"phone": "call me maybe"}, 400, "phone"),
    (
        "invalid emergency phone",
        lambda p: {"emergency_contact_phone": "12"},
        400,
        "emergency_contact_phone",
    ),
    (
        "unknown care-team member",
        lambda p: {"care_team": [{"staff_id": str(uuid.uuid4()), "role": "nurse"}]},
        400,
        "care_team",
    ),
    (
        "nurse as prescriber",
        lambda p: {"care_team": [{"staff_id": str(p.nurse.public_id), "role": "prescriber"}]},
        400,
        "care_team",
    ),
    (
        "front desk as primary therapist",
        lambda p: {
            "care_team": [{"staff_id": str(p.front_desk.public_id), "role": "primary_therapist"}]
        },
        400,
        "care_team",
    ),
    (
        "two primary therapists",
        lambda p: {
            "care_team": [
                {"staff_id": str(p.outsider.public_id), "role": "primary_therapist"},
                {"staff_id": str(p.therapist.public_id), "role": "primary_therapist"},
            ]
        },
        400,
        "care_team",
    ),
    (
        "one person twice",
        lambda p: {
            "care_team": [
                {"staff_id": str(p.nurse.public_id), "role": "nurse"},
                {"staff_id": str(p.nurse.public_id), "role": "nurse"},
            ]
        },
        400,
        "care_team",
    ),
    (
        "malformed staff id",
        lambda p: {"care_team": [{"staff_id": "nurse", "role": "nurse"}]},
        422,
        "care_team.0.staff_id",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [pytest.param(o, s, f, id=name) for name, o, s, f in BAD_INPUT],
)
def test_create_refuses_bad_input_and_writes_nothing(
    practice: Practice,
    api: Callable[..., Api],
    overrides: Callable[[Practice], dict[str, Any]],
    status: int,
    field: str,
) -> None:
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.post("/clients", new_client(**overrides(practice)))
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON)
    assert field in error_fields(response)


@pytest.mark.parametrize(
    "missing", ["legal_given_names", "legal_family_name", "date_of_birth", "sex_at_birth"]
)
def test_create_missing_required_field_is_422_naming_it(
    practice: Practice, api: Callable[..., Api], missing: str
) -> None:
    body = new_client()
    body.pop(missing)
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.post("/clients", body)
    assert response.status_code == 422
    assert error_fields(response) == {missing}
    assert response.json()["errors"][0]["rule"] == "missing"


def test_create_rules_errors_name_every_broken_field(
    practice: Practice, api: Callable[..., Api]
) -> None:
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.post(
            "/clients", new_client(email="nope", phone="x", sex_at_birth="robot")
        )
    assert response.status_code == 400
    assert {"email", "phone", "sex_at_birth"} <= error_fields(response)


def test_create_future_birth_date_message(practice: Practice, api: Callable[..., Api]) -> None:
    tomorrow = (practice_today() + dt.timedelta(days=1)).isoformat()
    response = api(practice.therapist).post("/clients", new_client(date_of_birth=tomorrow))
    (error,) = response.json()["errors"]
    assert error == {
        "field": "date_of_birth",
        "rule": "future_date",
        "message": "A date of birth cannot be in the future.",
    }


def test_create_with_an_inactive_team_member_is_400(
    practice: Practice, api: Callable[..., Api]
) -> None:
    User.objects.filter(pk=practice.nurse.pk).update(is_active=False)
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.post(
            "/clients",
            new_client(care_team=[{"staff_id": str(practice.nurse.public_id), "role": "nurse"}]),
        )
    assert response.status_code == 400
    assert error_fields(response) == {"care_team"}


@pytest.mark.parametrize(
    ("given", "family"),
    [("Other", "Person"), ("OTHER", "person"), ("  other ", " PERSON")],
)
def test_duplicate_of_a_client_outside_the_team_is_409(
    practice: Practice, api: Callable[..., Api], given: str, family: str
) -> None:
    existing = Client.objects.get(legal_given_names="Other")
    therapist = api(practice.therapist)  # not on Other Person's care team
    body = new_client(
        legal_given_names=given,
        legal_family_name=family,
        date_of_birth=existing.date_of_birth.isoformat(),
    )
    with nothing_written():
        response = therapist.post("/clients", body)
    assert response.status_code == 409
    assert error_fields(response) == {"acknowledge_duplicate"}


def test_same_name_other_birth_date_is_not_a_duplicate(
    practice: Practice, api: Callable[..., Api]
) -> None:
    other_day = practice.client.date_of_birth - dt.timedelta(days=1)
    response = api(practice.therapist).post(
        "/clients",
        new_client(
            legal_given_names="Jamie",
            legal_family_name="Quinlan",
            date_of_birth=other_day.isoformat(),
        ),
    )
    assert response.status_code == 201


def test_acknowledged_duplicate_is_created_and_audited(
    practice: Practice, api: Callable[..., Api]
) -> None:
    body = new_client(
        legal_given_names="jamie",
        legal_family_name="QUINLAN",
        date_of_birth=practice.client.date_of_birth.isoformat(),
        acknowledge_duplicate=True,
    )
    response = api(practice.therapist).post("/clients", body)
    assert response.status_code == 201, response.content
    new_id = uuid.UUID(response.json()["id"])
    assert new_id != practice.client.public_id
    assert Client.objects.filter(legal_family_name__iexact="quinlan").count() == 2
    event = AuditEvent.objects.get(action="client.create")
    assert event.client_public_id == new_id
    assert event.detail == {"duplicate_acknowledged": True}


def test_service_rule_codes_reach_the_api(practice: Practice, api: Callable[..., Api]) -> None:
    therapist = api(practice.therapist)
    duplicate = therapist.post(
        "/clients",
        new_client(
            legal_given_names="Jamie",
            legal_family_name="Quinlan",
            date_of_birth=practice.client.date_of_birth.isoformat(),
        ),
    )
    assert [e["rule"] for e in duplicate.json()["errors"]] == ["possible_duplicate"]
    wrong_role = therapist.post(
        "/clients",
        new_client(care_team=[{"staff_id": str(practice.nurse.public_id), "role": "prescriber"}]),
    )
    assert [e["rule"] for e in wrong_role.json()["errors"]] == ["wrong_role"]


@pytest.mark.parametrize("case", ["unknown_clinician", "unknown_staff", "null"])
def test_api_rule_codes_reach_the_caller(
    practice: Practice, api: Callable[..., Api], case: str
) -> None:
    admin = api(practice.admin)
    if case == "unknown_clinician":
        response = admin.get("/clients", {"clinician": str(uuid.uuid4())})
    elif case == "unknown_staff":
        response = admin.post(
            "/clients", new_client(care_team=[{"staff_id": str(uuid.uuid4()), "role": "nurse"}])
        )
    else:
        response = admin.patch(f"/clients/{practice.client.public_id}", {"phone": None})
    assert response.status_code == 400
    expected = {"unknown_clinician": "unknown", "unknown_staff": "unknown_staff", "null": "null"}
    assert [e["rule"] for e in response.json()["errors"]] == [expected[case]]


# --- update -----------------------------------------------------------------------------------


def test_patch_changes_fields_and_audits_only_the_changes(
    practice: Practice, api: Callable[..., Api]
) -> None:
    client = practice.client
    old_phone = client.phone
    response = api(practice.prescriber).patch(
        f"/clients/{client.public_id}",
        {"preferred_name": " J.Q. ", "phone": "+1 (555) 555-0199", "legal_family_name": "Quinlan"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preferred_name"] == "J.Q."
    assert body["phone"] == "+1 (555) 555-0199"
    assert body["legal_family_name"] == "Quinlan"
    client.refresh_from_db()
    assert (client.preferred_name, client.phone) == ("J.Q.", "+1 (555) 555-0199")
    assert client.updated_by == practice.prescriber

    event = AuditEvent.objects.get(action="client.update")
    assert event.actor == practice.prescriber
    assert event.channel == "api"
    assert event.client_public_id == client.public_id
    assert event.before == {"preferred_name": "Jay", "phone": old_phone}
    assert event.after == {"preferred_name": "J.Q.", "phone": "+1 (555) 555-0199"}


def test_patch_can_clear_a_field_with_an_empty_string(
    practice: Practice, api: Callable[..., Api]
) -> None:
    response = api(practice.therapist).patch(
        f"/clients/{practice.client.public_id}", {"preferred_name": ""}
    )
    assert response.status_code == 200
    practice.client.refresh_from_db()
    assert practice.client.preferred_name == ""
    assert AuditEvent.objects.get(action="client.update").after == {"preferred_name": ""}


def test_patch_without_a_change_writes_no_audit(
    practice: Practice, api: Callable[..., Api]
) -> None:
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.patch(
            f"/clients/{practice.client.public_id}", {"preferred_name": "Jay"}
        )
    assert response.status_code == 200


def test_patch_by_admin(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).patch(
        f"/clients/{practice.client.public_id}", {"access_needs": "Needs a ground-floor room"}
    )
    assert response.status_code == 200
    practice.client.refresh_from_db()
    assert practice.client.access_needs == "Needs a ground-floor room"


@pytest.mark.parametrize("who", ["outsider", "outsider_prescriber"])
def test_patch_by_outsider_is_404_and_changes_nothing(
    practice: Practice, api: Callable[..., Api], who: str
) -> None:
    caller = api(getattr(practice, who))
    with nothing_written():
        response = caller.patch(
            f"/clients/{practice.client.public_id}", {"preferred_name": "Hacked"}
        )
    assert response.status_code == 404
    assert response.json()["errors"][0]["rule"] == "not_found"
    practice.client.refresh_from_db()
    assert practice.client.preferred_name == "Jay"


def test_patch_unknown_id_is_404(practice: Practice, api: Callable[..., Api]) -> None:
    response = api(practice.admin).patch(f"/clients/{uuid.uuid4()}", {"preferred_name": "X"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"preferred_name": None}, 400, {"preferred_name"}),
        ({"legal_family_name": None, "email": None}, 400, {"legal_family_name", "email"}),
        ({"date_of_birth": None}, 400, {"date_of_birth"}),
        ({"phone": "not a phone"}, 400, {"phone"}),
        ({"phone": "12-34"}, 400, {"phone"}),
        ({"email": "jamie@"}, 400, {"email"}),
        ({"legal_family_name": ""}, 400, {"legal_family_name"}),
        ({"sex_at_birth": "robot"}, 400, {"sex_at_birth"}),
        ({"access_needs": "x" * 2001}, 400, {"access_needs"}),
        ({"date_of_birth": "2999-01-01"}, 400, {"date_of_birth"}),
        ({"date_of_birth": "yesterday"}, 422, {"date_of_birth"}),
        ({"preferred_name": 7}, 422, {"preferred_name"}),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(
    practice: Practice,
    api: Callable[..., Api],
    body: dict[str, Any],
    status: int,
    fields: set[str],
) -> None:
    client = practice.client
    before = Client.objects.filter(pk=client.pk).values().get()
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.patch(f"/clients/{client.public_id}", {"preferred_name": "X", **body})
    assert response.status_code == status, response.content
    assert fields <= error_fields(response)
    assert Client.objects.filter(pk=client.pk).values().get() == before


def test_patch_cannot_change_status(practice: Practice, api: Callable[..., Api]) -> None:
    """Status has its own rules (a discharge needs a reason): PATCH refuses the field by name
    instead of ignoring it, and changes nothing else in the same request."""
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.patch(
            f"/clients/{practice.client.public_id}",
            {"status": "discharged", "preferred_name": "J"},
        )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "status", "rule": "extra_forbidden", "message": "Extra inputs are not permitted"}
    ]
    practice.client.refresh_from_db()
    assert practice.client.status == ClientStatus.INQUIRY
    assert practice.client.preferred_name != "J"


def test_create_refuses_unknown_fields(practice: Practice, api: Callable[..., Api]) -> None:
    therapist = api(practice.therapist)
    with nothing_written():
        response = therapist.post(
            "/clients",
            {
                "legal_given_names": "Ana",
                "legal_family_name": "Sousa",
                "date_of_birth": "1990-01-01",
                "sex_at_birth": "female",
                "nickname": "Annie",
            },
        )
    assert response.status_code == 422
    assert error_fields(response) == {"nickname"}
