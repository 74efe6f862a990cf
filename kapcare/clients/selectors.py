"""Reads of client data for pages and the API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from kapcare.accounts.models import User, name_fields
from kapcare.clients.access import visible_clients
from kapcare.clients.models import (
    CareTeamMember,
    Client,
    ClientStatus,
    StatusChange,
    WeightMeasurement,
)
from kapcare.core.prepared import prepared
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
    it, one query each however long the history: `weight_history` (newest first),
    `status_history` (newest first), `all_team` (the whole care team, first joined first) and
    `active_team` (its current members, from the same rows)."""
    client.weight_history = _weights(client.pk)  # type: ignore[attr-defined]
    client.status_history = _status_changes(client.pk)  # type: ignore[attr-defined]
    team = _care_team(client.pk)
    # Set like a to_attr prefetch, which is what other readers of the client expect.
    setattr(client, "all_team", team)  # noqa: B010
    setattr(client, "active_team", [m for m in team if m.ended_at is None])  # noqa: B010
    return client


# The chart's reads, compiled once per process (kapcare.core.prepared): it is the most opened
# page, and each of these costs Django more to build than the database to answer.
@prepared(arguments=1)
def _weights(client_id: int) -> QuerySet[WeightMeasurement]:
    return WeightMeasurement.objects.filter(client_id=client_id)


@prepared(arguments=1)
def _status_changes(client_id: int) -> QuerySet[StatusChange]:
    return (
        StatusChange.objects.filter(client_id=client_id)
        .select_related("changed_by")
        .only("client", "to_status", "reason", "changed_at", *name_fields("changed_by"))
    )


@prepared(arguments=1)
def _care_team(client_id: int) -> QuerySet[CareTeamMember]:
    return (
        CareTeamMember.objects.filter(client_id=client_id)
        .select_related("staff")
        .only(
            "public_id",
            "client",
            "role",
            "started_at",
            "ended_at",
            *name_fields("staff"),
            "staff__public_id",
        )
    )


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
    for change in getattr(client, "status_history"):  # noqa: B009 - set by chart()
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
    for weight in getattr(client, "weight_history"):  # noqa: B009 - set by chart()
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
