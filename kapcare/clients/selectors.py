"""Reads of client data for pages and the API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from kapcare.accounts.models import User, name_fields
from kapcare.clients.access import visible_clients
from kapcare.clients.models import CareTeamMember, Client, ClientStatus, StatusChange
from kapcare.core.time import practice_zone

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def parse_search_date(text: str) -> dt.date | None:
    """A date of birth typed into the search box (2001-04-30 or 04/30/2001), or None."""
    cleaned = text.strip()
    if not re.fullmatch(r"[0-9/\-]{8,10}", cleaned):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class ClientFilters:
    query: str = ""
    status: str = ""
    clinician: User | None = None


def active_care_team() -> Prefetch:
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.filter(ended_at__isnull=True).select_related("staff"),
        to_attr="active_team",
    )


def client_list(user: User, filters: ClientFilters) -> QuerySet[Client]:
    """Clients the user may see, narrowed by search text, status and clinician."""
    clients = visible_clients(user)
    query = filters.query.strip()
    if query:
        born = parse_search_date(query)
        if born is not None:
            clients = clients.filter(date_of_birth=born)
        else:
            for word in query.split()[:4]:
                clients = clients.filter(
                    Q(legal_given_names__icontains=word)
                    | Q(legal_family_name__icontains=word)
                    | Q(preferred_name__icontains=word)
                )
    if filters.status in ClientStatus.values:
        clients = clients.filter(status=filters.status)
    if filters.clinician is not None:
        clients = clients.filter(
            Exists(
                CareTeamMember.objects.filter(
                    client=OuterRef("pk"), staff=filters.clinician, ended_at__isnull=True
                )
            )
        )
    return clients.prefetch_related(active_care_team())


def possible_duplicates(
    *, legal_given_names: str, legal_family_name: str, date_of_birth: dt.date
) -> QuerySet[Client]:
    """Existing clients with the same legal name and date of birth, across the whole practice:
    a duplicate must be caught even when its record belongs to another care team."""
    return Client.objects.filter(
        legal_given_names__iexact=legal_given_names.strip(),
        legal_family_name__iexact=legal_family_name.strip(),
        date_of_birth=date_of_birth,
    )


def chart(client: Client) -> Client:
    """`client` (as the access check read it) with everything the chart page shows loaded onto
    it: its weights, status changes and whole care team, one query each however long the
    history. `active_team` is the care team's current members, from the same rows."""
    prefetch_related_objects(
        [client],
        "weights",
        Prefetch(
            "status_changes",
            queryset=StatusChange.objects.select_related("changed_by").only(
                "client", "to_status", "reason", "changed_at", *name_fields("changed_by")
            ),
        ),
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.select_related("staff").only(
                "public_id",
                "client",
                "role",
                "started_at",
                "ended_at",
                *name_fields("staff"),
                "staff__public_id",
            ),
            to_attr="all_team",
        ),
    )
    team: list[CareTeamMember] = getattr(client, "all_team")  # noqa: B009 - set by the prefetch
    # Set like a to_attr prefetch, which is what other readers of the client expect.
    setattr(client, "active_team", [m for m in team if m.ended_at is None])  # noqa: B010
    return client


def assignable_staff(role_field: str) -> QuerySet[User]:
    return User.objects.filter(is_active=True, **{role_field: True}).order_by(
        "last_name", "first_name"
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    text: str
    by: str
    date_only: bool = False


def chart_timeline(client: Client, more: Iterable[TimelineEntry] = ()) -> list[TimelineEntry]:
    """What has happened to the client, newest first, from data `chart()` already loaded, with
    `more` from the apps that build on clients (dosing sessions).
    """
    entries: list[TimelineEntry] = []
    for change in client.status_changes.all():
        label = ClientStatus(change.to_status).label
        text = f"Status: {label}" + (f" ({change.reason})" if change.reason else "")
        entries.append(TimelineEntry(change.changed_at, "status", text, _name(change.changed_by)))
    for member in getattr(client, "all_team", []):
        role = member.get_role_display()
        entries.append(
            TimelineEntry(member.started_at, "care_team", f"{member.staff} joined as {role}", "")
        )
        if member.ended_at is not None:
            entries.append(
                TimelineEntry(member.ended_at, "care_team", f"{member.staff} left the team", "")
            )
    for weight in client.weights.all():
        # A weight has a date but no time: it sorts at the end of its day and shows as a date.
        when = dt.datetime.combine(weight.measured_on, dt.time(23, 59), tzinfo=practice_zone())
        entries.append(
            TimelineEntry(when, "weight", f"Weight {weight.weight_kg} kg", "", date_only=True)
        )
    entries.extend(more)
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def _name(user: User | None) -> str:
    return str(user) if user is not None else ""
