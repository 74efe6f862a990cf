"""Reads of safety flags: on the chart, in every page's banner, and for the dosing gate."""

from __future__ import annotations

from django.db.models import QuerySet

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.safety.models import SafetyFlag, Severity
from kapcare.safety.rules import ORDER


def open_flags(client: Client) -> QuerySet[SafetyFlag]:
    return SafetyFlag.objects.open().filter(client=client).select_related("source_session")


def blocks_dosing(client: Client) -> bool:
    """Any open flag blocks a dosing session until a clinician has assessed the risk
    (clinical-facts §6.1: "block the dosing session until a clinician has reviewed")."""
    return open_flags(client).exists()


def open_flags_for(user: User) -> list[SafetyFlag]:
    """Open flags on the clients this person may see, most severe and newest first."""
    flags = (
        SafetyFlag.objects.open()
        .filter(client__in=visible_clients(user))
        .select_related("client")
        .order_by("-raised_at")
    )
    # Most severe first; the sort is stable, so each severity stays newest first.
    return sorted(flags, key=lambda flag: -ORDER.index(Severity(flag.severity)))
