"""Reads of safety flags: on the chart, in every page's banner, and for the dosing gate."""

from __future__ import annotations

from django.db.models import QuerySet

from kapcare.accounts.models import User
from kapcare.clients.access import care_team_clients, care_team_scope, visible_clients
from kapcare.clients.models import Client
from kapcare.core.prepared import prepared
from kapcare.safety.models import SafetyFlag, Severity
from kapcare.safety.rules import ORDER


def open_flags(client: Client) -> QuerySet[SafetyFlag]:
    """The client's open flags with the dosing session that raised each (for its link; not the
    session's pre-dose check and discharge, which are large and not shown)."""
    return (
        SafetyFlag.objects.open()
        .filter(client=client)
        .select_related("source_session")
        .defer(
            "source_session__intention", "source_session__pre_check", "source_session__discharge"
        )
    )


def open_flags_listed(client: Client) -> list[SafetyFlag]:
    """`open_flags` as a list (what the chart shows), compiled once (kapcare.core.prepared)."""
    return _open_flags(client.pk)


@prepared(arguments=1)
def _open_flags(client_id: int) -> QuerySet[SafetyFlag]:
    return open_flags(Client(pk=client_id))


def blocks_dosing(client: Client) -> bool:
    """Any open flag blocks a dosing session until a clinician has assessed the risk
    (clinical-facts §6.1: "block the dosing session until a clinician has reviewed")."""
    return open_flags(client).exists()


BANNER_FIELDS = (
    "public_id",
    "kind",
    "severity",
    "reason",
    "raised_at",
    "client__public_id",
    "client__preferred_name",
    "client__legal_given_names",
    "client__legal_family_name",
)


def _banner(clients: QuerySet[Client]) -> QuerySet[SafetyFlag]:
    return (
        SafetyFlag.objects.open()
        .filter(client__in=clients)
        .select_related("client")
        # What the banner on every page shows: the flag and the client's name and link.
        .only(*BANNER_FIELDS)
        .order_by("-raised_at")
    )


@prepared(arguments=1)
def _care_team_banner(staff_id: int) -> QuerySet[SafetyFlag]:
    # Read on every page: compiled once (kapcare.core.prepared).
    return _banner(care_team_clients(staff_id))


def open_flags_for(user: User) -> list[SafetyFlag]:
    """Open flags on the clients this person may see, most severe and newest first."""
    staff_id = care_team_scope(user)
    if staff_id is not None:
        flags = _care_team_banner(staff_id)
    else:
        flags = list(_banner(visible_clients(user)))
    # Most severe first; the sort is stable, so each severity stays newest first.
    return sorted(flags, key=lambda flag: -ORDER.index(Severity(flag.severity)))
