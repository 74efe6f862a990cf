"""Clients in the JSON API: the same access rules, services and audit as the pages."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients import services
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client, ClientStatus
from kapcare.clients.selectors import ClientFilters, active_care_team, client_list
from kapcare.core import audit
from kapcare.core.api_schemas import StrictSchema
from kapcare.core.forms import field_error

router = Router(tags=["clients"])


class CareTeamMemberOut(Schema):
    id: uuid.UUID
    staff_id: uuid.UUID
    name: str
    role: str
    started_at: dt.datetime


class ClientOut(Schema):
    id: uuid.UUID
    legal_given_names: str
    legal_family_name: str
    preferred_name: str
    pronouns: str
    date_of_birth: dt.date
    sex_at_birth: str
    gender_identity: str
    email: str
    phone: str
    address: str
    preferred_channel: str
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    primary_care_provider: str
    primary_care_contact: str
    referring_provider: str
    referring_provider_contact: str
    access_needs: str
    status: str
    care_team: list[CareTeamMemberOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientPage(Schema):
    count: int
    page: int
    pages: int
    results: list[ClientOut]


class CareTeamMemberIn(StrictSchema):
    staff_id: uuid.UUID
    role: str


class ClientIn(StrictSchema):
    legal_given_names: str
    legal_family_name: str
    preferred_name: str = ""
    pronouns: str = ""
    date_of_birth: dt.date
    sex_at_birth: str
    gender_identity: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    preferred_channel: str = "phone"
    emergency_contact_name: str = ""
    emergency_contact_relationship: str = ""
    emergency_contact_phone: str = ""
    primary_care_provider: str = ""
    primary_care_contact: str = ""
    referring_provider: str = ""
    referring_provider_contact: str = ""
    access_needs: str = ""
    care_team: list[CareTeamMemberIn] = Field(default_factory=list)
    acknowledge_duplicate: bool = False


class ClientPatch(StrictSchema):
    legal_given_names: str | None = None
    legal_family_name: str | None = None
    preferred_name: str | None = None
    pronouns: str | None = None
    date_of_birth: dt.date | None = None
    sex_at_birth: str | None = None
    gender_identity: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    preferred_channel: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_relationship: str | None = None
    emergency_contact_phone: str | None = None
    primary_care_provider: str | None = None
    primary_care_contact: str | None = None
    referring_provider: str | None = None
    referring_provider_contact: str | None = None
    access_needs: str | None = None


class ClientListQuery(Schema):
    q: str = Field("", max_length=100)
    status: str = ""
    clinician: uuid.UUID | None = None
    page: int = Field(1, ge=1)


def client_out(client: Client) -> dict[str, object]:
    """The API's view of a client; expects the active care team prefetched as active_team."""
    data: dict[str, object] = {name: getattr(client, name) for name in services.CLIENT_FIELDS}
    data.update(
        id=client.public_id,
        status=client.status,
        created_at=client.created_at,
        updated_at=client.updated_at,
        care_team=[
            {
                "id": member.public_id,
                "staff_id": member.staff.public_id,
                "name": str(member.staff),
                "role": member.role,
                "started_at": member.started_at,
            }
            for member in getattr(client, "active_team", [])
        ],
    )
    return data


def _with_team(client: Client) -> Client:
    return Client.objects.prefetch_related(active_care_team()).get(pk=client.pk)


@router.get("", response=ClientPage, summary="Clients you may see, searched and filtered")
def list_clients(request: HttpRequest, filters: Query[ClientListQuery]) -> dict[str, object]:
    user = api_caller(request)
    clinician = None
    if filters.clinician is not None:
        clinician = User.objects.filter(public_id=filters.clinician).first()
        if clinician is None:
            raise field_error("clinician", "No staff member has this id.", "unknown")
    if filters.status and filters.status not in ClientStatus.values:
        raise field_error(
            "status",
            f"Unknown status {filters.status!r}; use one of {', '.join(ClientStatus.values)}.",
            "invalid_choice",
        )
    query = ClientFilters(query=filters.q, status=filters.status, clinician=clinician)
    paginator = Paginator(client_list(user, query), settings.CLIENT_LIST_PAGE_SIZE)
    page = paginator.get_page(filters.page)
    audit.record_read(
        actor=user,
        action="client.list",
        subject_type="client",
        detail={
            "query": filters.q,
            "status": filters.status,
            "clinician": str(filters.clinician) if filters.clinician else "",
            "page": page.number,
            "shown": len(page.object_list),
        },
    )
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": [client_out(client) for client in page.object_list],
    }


def _staff_for_team(members: list[CareTeamMemberIn]) -> list[tuple[User, str]]:
    ids = {member.staff_id for member in members}
    staff = {user.public_id: user for user in User.objects.filter(public_id__in=ids)}
    team = []
    for member in members:
        user = staff.get(member.staff_id)
        if user is None or not user.is_active:
            raise field_error(
                "care_team",
                f"No active staff member has the id {member.staff_id}.",
                "unknown_staff",
            )
        team.append((user, member.role))
    return team


@router.post("", response={201: ClientOut}, summary="Create a client")
def create_client(request: HttpRequest, payload: ClientIn) -> Status[dict[str, object]]:
    user = api_caller(request)
    fields = payload.dict(exclude={"care_team", "acknowledge_duplicate"})
    client = services.client_create(
        actor=user,
        fields=fields,
        care_team=_staff_for_team(payload.care_team),
        acknowledge_duplicate=payload.acknowledge_duplicate,
    )
    return Status(201, client_out(_with_team(client)))


@router.get("/{client_id}", response=ClientOut, summary="One client's record")
def read_client(request: HttpRequest, client_id: uuid.UUID) -> dict[str, object]:
    client = open_chart(api_caller(request), client_id, view="api")
    return client_out(_with_team(client))


@router.patch("/{client_id}", response=ClientOut, summary="Change a client's details")
def update_client(
    request: HttpRequest, client_id: uuid.UUID, payload: ClientPatch
) -> dict[str, object]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    changes = payload.dict(exclude_unset=True)
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        message = "This field cannot be null; send an empty string to clear it."
        raise ValidationError({name: ValidationError(message, code="null") for name in nulls})
    services.client_update(actor=user, client=client, changes=changes)
    return client_out(_with_team(client))
