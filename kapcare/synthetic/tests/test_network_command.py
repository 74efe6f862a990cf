"""`kapcare generate`: the same seed gives the same network, a database with clients is refused,
and the command prints what it wrote. (The network's consistency: test_network.py.)"""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, transaction

from kapcare.clients.models import Client
from kapcare.synthetic.network import NetworkNotEmpty, generate_network
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.testing.factories import make_client

NOW = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def _first_id(model: type[models.Model]) -> int:
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 0


def _fingerprint() -> str:
    """A hash over the meaningful columns of every generated table: not the database ids (foreign
    keys as offsets from their table's first id), public ids or creation times."""
    digest = hashlib.sha256()
    for table in NetworkTables():
        model = table.model
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.name not in ("id", "public_id", "created_at", "updated_at")
        ]
        bases = {
            f.attname: _first_id(f.related_model)
            for f in fields
            if isinstance(f, models.ForeignKey)
        }
        rows = []
        for values in model._default_manager.order_by("pk").values_list(
            *[f.attname for f in fields]
        ):
            row = [
                value - bases[field.attname]
                if field.attname in bases and value is not None
                else value
                for field, value in zip(fields, values, strict=True)
            ]
            rows.append(repr(row))
        digest.update(model._meta.label.encode())
        digest.update("\n".join(rows).encode())
    return digest.hexdigest()


def _generated(seed: int, processes: int) -> str:
    with transaction.atomic():
        generate_network(clients=20, seed=seed, now=NOW, processes=processes)
        found = _fingerprint()
        transaction.set_rollback(True)
    return found


def test_the_same_seed_gives_the_same_network_and_another_seed_another() -> None:
    # Made by two worker processes, or all in this one: the same network.
    first = _generated(5, processes=2)
    assert _generated(5, processes=1) == first
    assert _generated(6, processes=1) != first


def test_a_database_with_clients_is_refused() -> None:
    make_client()
    with pytest.raises(NetworkNotEmpty):
        generate_network(clients=5, seed=1, now=NOW)
    with pytest.raises(CommandError, match="empty database"):
        call_command("generate", clients=5, seed=1, stdout=StringIO())


def test_the_command_prints_the_rows_written() -> None:
    out = StringIO()
    call_command("generate", clients=8, seed=2, now="2026-11-20T12:00", verbosity=0, stdout=out)
    printed = out.getvalue()
    assert "8 clients in 2 clinics" in printed
    assert f"clients_client {8:>12,}".replace("clients_client ", "") in printed
    assert "dosing_vitalsrow" in printed
    assert "total" in printed
    assert "Elapsed:" in printed
    assert Client.objects.count() == 8


def test_the_command_refuses_bad_arguments() -> None:
    with pytest.raises(CommandError, match="--clients"):
        call_command("generate", clients=0, stdout=StringIO())
    with pytest.raises(CommandError, match="--now"):
        call_command("generate", clients=3, now="yesterday", stdout=StringIO())
