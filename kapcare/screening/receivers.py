"""Screening listens for changes made elsewhere that can move a screen result."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from kapcare.core.signals import client_facts_changed, practice_rules_changed


@receiver(client_facts_changed)
def rescreen_client(sender: Any, *, client: Any, actor: Any, reason: str, **kwargs: Any) -> None:
    from kapcare.screening.services import screen_refresh

    # Clients not yet being screened have nothing to re-run.
    if client.screen_runs.exists():
        screen_refresh(client=client, actor=actor, trigger=reason)


@receiver(practice_rules_changed)
def rescreen_practice(sender: Any, *, actor: Any, reason: str, **kwargs: Any) -> None:
    from kapcare.screening.parameters import ALL_KEYS
    from kapcare.screening.tasks import rescreen_cleared_clients

    # A parameter the screen does not use (a protocol's session length, say) moves no screen.
    if kwargs.get("key") is not None and kwargs["key"] not in ALL_KEYS:
        return

    transaction.on_commit(lambda: rescreen_cleared_clients.enqueue(reason[:120]))
