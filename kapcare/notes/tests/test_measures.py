"""The client's scores while a note is written: the Measures box (baseline, previous, latest),
the text pre-filled into a new draft's measures section, and the button that adds it to a draft
being written without saving anything."""

from __future__ import annotations

import pytest

from kapcare.core.time import practice_zone
from kapcare.courses.models import Appointment
from kapcare.notes import services
from kapcare.notes.models import SessionNote
from kapcare.notes.templates import TEMPLATES, with_measures
from kapcare.notes.tests.helpers import INTEGRATION, session, signed_note
from kapcare.outcomes.progress import MINUS
from kapcare.outcomes.tests.helpers import course, days_ago, score
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def edit_url(practice: Practice, appointment: Appointment) -> str:
    return f"/clients/{practice.client.public_id}/appointments/{appointment.public_id}/note/"


def day(days: int) -> str:
    return f"{days_ago(days).astimezone(practice_zone()):%Y-%m-%d}"


@pytest.fixture
def scored(practice: Practice) -> str:
    """A course with PHQ-9 18 → 11 → 7; returns the PHQ-9 line a note gets."""
    course(practice.client, started_days_ago=60)
    score(practice.client, 18, days_ago(59))
    score(practice.client, 11, days_ago(30))
    score(practice.client, 7, days_ago(2))
    return (
        f"PHQ-9: baseline 18 ({day(59)}), previous 11 ({day(30)}), latest 7 ({day(2)}), "
        f"{MINUS}61.1% from baseline; response; not in remission"
    )


def field_value(body: str, name: str) -> str:
    start = body.index(f'name="{name}"')
    textarea = body[start:]
    text = textarea[textarea.index(">") + 1 : textarea.index("</textarea>")]
    return text.removeprefix("\n")  # Django's textarea starts with a newline the browser drops


class TestMeasuresBox:
    @pytest.mark.parametrize(
        ("kind", "section"), [("preparation", "history"), ("integration", "emotions")]
    )
    def test_a_new_draft_shows_the_box_and_is_pre_filled(
        self, practice: Practice, scored: str, kind: str, section: str
    ) -> None:
        appointment = session(practice.client, practice.therapist, kind=kind)
        body = signed_in(practice.therapist).get(edit_url(practice, appointment)).content.decode()
        box = body.split('data-testid="measures-box"')[1].split("</fieldset>")[0]
        assert "<legend>Measures</legend>" in box
        assert ">PHQ-9</th><td>18 " in box
        assert f'<td>11 <span class="small muted">{day(30)}</span>' in box
        assert f'<td>7 <span class="small muted">{day(2)}</span>' in box
        assert scored in box
        assert field_value(body, section) == scored
        assert f"Add to {TEMPLATES[kind].measures_label}" in box

    def test_a_saved_draft_keeps_its_own_text_and_the_box_offers_the_scores(
        self, practice: Practice, scored: str
    ) -> None:
        appointment = session(practice.client, practice.therapist, kind="integration")
        services.note_save_draft(
            actor=practice.therapist,
            appointment=appointment,
            fields={"emotions": "Lighter since Friday."},
        )
        body = signed_in(practice.therapist).get(edit_url(practice, appointment)).content.decode()
        assert field_value(body, "emotions") == "Lighter since Friday."
        assert scored in body.split('data-testid="measures-text"')[1]

    def test_the_button_adds_the_scores_to_what_is_typed_and_saves_nothing(
        self, practice: Practice, scored: str
    ) -> None:
        appointment = session(practice.client, practice.therapist, kind="integration")
        http = signed_in(practice.therapist)
        posted = {
            "action": "measures",
            "emotions": "Lighter since Friday.",
            "experience": "Warm, far away.",
        }
        response = http.post(edit_url(practice, appointment), posted)
        assert response.status_code == 200
        body = response.content.decode()
        assert field_value(body, "emotions") == f"Lighter since Friday.\n\n{scored}"
        assert field_value(body, "experience") == "Warm, far away."
        assert "Nothing was saved" not in body
        assert not SessionNote.objects.exists()
        # Asking again does not add the same lines twice.
        again = http.post(
            edit_url(practice, appointment), {**posted, "emotions": field_value(body, "emotions")}
        )
        assert field_value(again.content.decode(), "emotions").count("PHQ-9") == 1

    def test_without_scores_nothing_is_pre_filled(self, practice: Practice) -> None:
        course(practice.client, started_days_ago=10)
        appointment = session(practice.client, practice.therapist)
        body = signed_in(practice.therapist).get(edit_url(practice, appointment)).content.decode()
        assert "No scores since the course started." in body
        assert field_value(body, "history") == ""

    def test_no_box_on_a_signed_note_or_for_someone_not_writing_it(
        self, practice: Practice, scored: str
    ) -> None:
        note = signed_note(practice.client, practice.therapist, kind="integration")
        body = signed_in(practice.therapist).get(edit_url(practice, note.appointment)).content
        assert b"measures-box" not in body
        appointment = session(practice.client, practice.therapist)
        body = signed_in(practice.prescriber).get(edit_url(practice, appointment)).content
        assert b"measures-box" not in body
        assert INTEGRATION["experience"].encode() not in body


class TestWithMeasures:
    def test_an_empty_section_gets_the_block(self) -> None:
        assert with_measures("preparation", {}, "PHQ-9: 1") == {"history": "PHQ-9: 1"}

    def test_the_block_goes_after_what_is_written_once(self) -> None:
        fields = {"emotions": "Calmer.  ", "experience": "x"}
        added = with_measures("integration", fields, "PHQ-9: 1\n")
        assert added == {"emotions": "Calmer.\n\nPHQ-9: 1", "experience": "x"}
        assert with_measures("integration", added, "PHQ-9: 1") == added
        assert fields == {"emotions": "Calmer.  ", "experience": "x"}  # not changed in place

    def test_an_empty_block_changes_nothing(self) -> None:
        assert with_measures("follow_up", {"progress": "Better"}, "  ") == {"progress": "Better"}

    @pytest.mark.parametrize("kind", list(TEMPLATES))
    def test_each_kind_names_one_of_its_sections(self, kind: str) -> None:
        template = TEMPLATES[kind]
        assert template.measures_section in template.codes
        assert template.measures_label
