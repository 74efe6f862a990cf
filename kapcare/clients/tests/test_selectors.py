from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.clients import services
from kapcare.clients.models import ClientStatus
from kapcare.clients.selectors import chart, chart_timeline, parse_search_date
from kapcare.core.time import practice_today
from kapcare.testing.personas import Practice


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_birth_dates_parse_in_both_accepted_formats(day: dt.date) -> None:
    assert parse_search_date(day.isoformat()) == day
    assert parse_search_date(day.strftime("%m/%d/%Y")) == day
    assert parse_search_date(f"  {day.strftime('%m-%d-%Y')} ") == day


@given(st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=30))
def test_names_are_never_taken_for_dates(text: str) -> None:
    assert parse_search_date(text) is None


@pytest.mark.parametrize("text", ["2024-02-30", "13/01/2000", "2000-1-1x", "00/00/0000", ""])
def test_impossible_dates_are_not_dates(text: str) -> None:
    assert parse_search_date(text) is None


def test_timeline_is_newest_first_and_covers_status_team_and_weight(practice: Practice) -> None:
    services.client_change_status(
        actor=practice.therapist, client=practice.client, status=ClientStatus.CONSULTATION
    )
    services.weight_record(
        actor=practice.nurse,
        client=practice.client,
        measured_on=practice_today(),
        weight_kg=80,  # type: ignore[arg-type]
    )
    entries = chart_timeline(chart(practice.client))
    kinds = {entry.kind for entry in entries}
    assert kinds == {"status", "care_team", "weight"}
    assert [entry.at for entry in entries] == sorted((e.at for e in entries), reverse=True)
    texts = [entry.text for entry in entries]
    assert "Status: Consultation" in texts
    weight = next(entry for entry in entries if entry.kind == "weight")
    assert weight.date_only
    assert weight.text == "Weight 80.0 kg"
