"""Who reads which notes: drafts only their author, signed notes the care team's clinicians; and
the chart's section of latest signed notes."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from kapcare.core.time import now
from kapcare.notes import services
from kapcare.notes.selectors import (
    can_read_notes,
    latest_signed_notes,
    note_for_appointment,
    notes_for_client,
)
from kapcare.notes.tests.helpers import PREPARATION, session, signed_note
from kapcare.testing.personas import Practice


@pytest.mark.parametrize(
    ("who", "reads"),
    [
        ("therapist", True),
        ("prescriber", True),
        ("nurse", True),
        ("front_desk", False),
        ("admin", False),
        ("outsider", False),
        ("outsider_prescriber", False),
    ],
)
def test_who_reads_notes(practice: Practice, who: str, reads: bool) -> None:
    assert can_read_notes(getattr(practice, who), practice.client) is reads


def test_a_clinician_who_left_the_team_no_longer_reads(practice: Practice) -> None:
    practice.client.care_team.filter(staff=practice.nurse).update(ended_at=now())
    assert not can_read_notes(practice.nurse, practice.client)


def test_drafts_only_to_their_author_signed_to_the_team(practice: Practice) -> None:
    signed = signed_note(practice.client, practice.therapist, hours_from_now=-50)
    appointment = session(practice.client, practice.therapist)
    draft = services.note_save_draft(
        actor=practice.therapist, appointment=appointment, fields=PREPARATION
    )
    assert list(notes_for_client(practice.therapist, practice.client)) == [draft, signed]
    for colleague in (practice.prescriber, practice.nurse):
        assert list(notes_for_client(colleague, practice.client)) == [signed]
    for other in (practice.front_desk, practice.admin, practice.outsider):
        assert list(notes_for_client(other, practice.client)) == []
    found = note_for_appointment(appointment)
    assert found == draft


def test_latest_signed_notes_for_the_chart(practice: Practice) -> None:
    notes = [
        signed_note(practice.client, practice.therapist, hours_from_now=-100 + hour)
        for hour in range(7)
    ]
    appointment = session(practice.client, practice.therapist)
    services.note_save_draft(actor=practice.therapist, appointment=appointment, fields={})
    latest = latest_signed_notes(practice.prescriber, practice.client)
    assert latest == list(reversed(notes))[:5]
    assert latest_signed_notes(practice.prescriber, practice.client, limit=2) == latest[:2]
    assert latest_signed_notes(practice.front_desk, practice.client) is None


def test_the_chart_section_lists_them_or_is_left_out(practice: Practice) -> None:
    note = signed_note(practice.client, practice.therapist)
    shown = render_to_string(
        "notes/_chart_section.html",
        {
            "client": practice.client,
            "session_notes": latest_signed_notes(practice.therapist, practice.client),
        },
    )
    assert "Session notes" in shown
    assert f"/appointments/{note.appointment.public_id}/note/" in shown
    assert f"/clients/{practice.client.public_id}/notes/" in shown
    empty = render_to_string(
        "notes/_chart_section.html", {"client": practice.client, "session_notes": []}
    )
    assert "No signed notes yet." in empty
    hidden = render_to_string(
        "notes/_chart_section.html",
        {
            "client": practice.client,
            "session_notes": latest_signed_notes(practice.front_desk, practice.client),
        },
    )
    assert hidden.strip() == ""
