"""Who may see which client (habit 3). Every client-scoped read goes through these two functions.

A staff member sees a client when they are an active member of the client's care team, or a
practice admin. Anyone else is told the client does not exist (404), never "forbidden", so a
URL does not confirm that a person is a client of the practice.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, Client
from kapcare.core import audit


def visible_clients(user: User) -> QuerySet[Client]:
    staff_id = care_team_scope(user)
    if staff_id is not None:
        return care_team_clients(staff_id)
    if user.is_authenticated and user.is_active and user.is_practice_admin:
        return Client.objects.all()
    return Client.objects.none()


def care_team_scope(user: User) -> int | None:
    """The staff id whose care teams bound what `user` sees (care_team_clients), or None when
    it is not so bounded: a practice admin sees everyone, an inactive account no one."""
    if not user.is_authenticated or not user.is_active or user.is_practice_admin:
        return None
    return int(user.pk)


def care_team_clients(staff_id: int) -> QuerySet[Client]:
    """The clients this staff member is an active care-team member of (what a staff member who
    is not a practice admin sees; by id, for prepared reads: kapcare.core.prepared)."""
    membership = CareTeamMember.objects.filter(
        client=OuterRef("pk"), staff_id=staff_id, ended_at__isnull=True
    )
    return Client.objects.filter(Exists(membership))


def access_client(user: User, public_id: uuid.UUID | str, *, write: bool = False) -> Client:
    """The client with this public id if `user` may see it (or change it, with write=True);
    otherwise Http404.

    Today every active care-team member may also change the record; `write` is asked for at each
    call site so that narrowing writes by role later changes this one function.
    """
    try:
        return visible_clients(user).get(public_id=public_id)
    except (Client.DoesNotExist, ValueError, ValidationError) as missing:
        raise Http404("No such client.") from missing


def open_chart(user: User, public_id: uuid.UUID | str, *, view: str = "chart") -> Client:
    """access_client for a read that shows the record, with the read written to the audit log."""
    client = access_client(user, public_id)
    audit.record_read(
        actor=user,
        action="client.read",
        subject_type="client",
        subject_public_id=client.public_id,
        client_public_id=client.public_id,
        detail={"view": view},
    )
    return client
