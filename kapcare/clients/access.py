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
    if not user.is_authenticated or not user.is_active:
        return Client.objects.none()
    if user.is_practice_admin:
        return Client.objects.all()
    membership = CareTeamMember.objects.filter(
        client=OuterRef("pk"), staff=user, ended_at__isnull=True
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
