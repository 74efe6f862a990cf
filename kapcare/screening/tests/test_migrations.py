"""The migration that added the prescribers' queue fills it for clients screened before it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kapcare.screening.models import ScreeningState
from kapcare.screening.tests.helpers import clear, make_eligible
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.personas import Practice

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("screening", "0001_initial")]
AFTER = [("screening", "0002_screening_state")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_states_are_filled_from_runs_and_decisions(practice: Practice) -> None:
    decided = practice.client
    make_eligible(decided, practice.therapist)
    clear(decided, practice.prescriber)
    waiting = make_client()
    make_member(client=waiting, staff=practice.therapist)
    make_eligible(waiting, practice.therapist)
    expected = {
        row.client_id: (row.status, row.awaiting_decision) for row in ScreeningState.objects.all()
    }
    assert expected == {decided.pk: ("eligible", False), waiting.pk: ("eligible", True)}

    migrate(BEFORE)  # drops the table
    migrate(AFTER)  # creates it and fills it
    filled = {
        row.client_id: (row.status, row.awaiting_decision) for row in ScreeningState.objects.all()
    }
    assert filled == expected
