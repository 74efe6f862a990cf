"""The note pages: who sees which notes, writing, signing and addenda through the browser, errors
shown on their fields with nothing saved, audited reads, and a list whose query count does not
grow with the notes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.core.models import AuditEvent
from kapcare.courses.models import Appointment, State
from kapcare.notes import services
from kapcare.notes.models import NoteAddendum, NoteState, SessionNote
from kapcare.notes.tests.helpers import INTEGRATION, PREPARATION, counts, session, signed_note
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def list_url(practice: Practice) -> str:
    return f"/clients/{practice.client.public_id}/notes/"


def edit_url(practice: Practice, appointment: Appointment) -> str:
    return f"/clients/{practice.client.public_id}/appointments/{appointment.public_id}/note/"


def form_data(action: str, fields: dict[str, str], **extra: object) -> dict[str, object]:
    return {"action": action, **fields, **extra}


class TestList:
    def test_signed_notes_and_own_drafts_newest_session_first(self, practice: Practice) -> None:
        older = signed_note(practice.client, practice.therapist, hours_from_now=-72)
        newer = signed_note(
            practice.client, practice.therapist, kind="integration", hours_from_now=-24
        )
        own = session(practice.client, practice.prescriber, kind="follow_up", hours_from_now=-2)
        services.note_save_draft(actor=practice.prescriber, appointment=own, fields={})
        theirs = session(practice.client, practice.nurse, hours_from_now=-1)
        services.note_save_draft(actor=practice.nurse, appointment=theirs, fields=PREPARATION)

        body = signed_in(practice.prescriber).get(list_url(practice)).content.decode()
        links = [
            edit_url(practice, own),
            edit_url(practice, newer.appointment),
            edit_url(practice, older.appointment),
        ]
        positions = [body.index(link) for link in links]
        assert positions == sorted(positions)
        assert edit_url(practice, theirs) not in body
        for shown in ("Draft", "Follow-up", "Integration"):
            assert shown in body
        assert practice.therapist.display_name in body
        assert AuditEvent.objects.filter(
            action="client.read", actor=practice.prescriber, detail__view="notes"
        ).exists()

    @pytest.mark.parametrize("who", ["front_desk", "admin"])
    def test_people_who_are_not_treating_clinicians_see_no_notes(
        self, practice: Practice, who: str
    ) -> None:
        note = signed_note(practice.client, practice.therapist)
        response = signed_in(getattr(practice, who)).get(list_url(practice))
        assert response.status_code == 200
        body = response.content.decode()
        assert "read and written by the clinicians" in body
        assert edit_url(practice, note.appointment) not in body

    def test_the_clinicians_sessions_without_a_note_are_offered(self, practice: Practice) -> None:
        waiting = session(practice.client, practice.therapist, hours_from_now=-5)
        future = session(practice.client, practice.therapist, hours_from_now=30)
        someone_elses = session(practice.client, practice.nurse, hours_from_now=-4)
        dosing = session(practice.client, practice.therapist, kind="dosing", hours_from_now=-6)
        body = signed_in(practice.therapist).get(list_url(practice)).content.decode()
        assert "Your sessions without a note" in body
        assert edit_url(practice, waiting) in body
        for not_offered in (future, someone_elses, dosing):
            assert edit_url(practice, not_offered) not in body

    def test_the_query_count_does_not_grow_with_the_notes(self, practice: Practice) -> None:
        def measure() -> int:
            http = signed_in(practice.therapist)
            with CaptureQueriesContext(connection) as queries:
                assert http.get(list_url(practice)).status_code == 200
            return len(queries)

        for hours in range(2):
            note = signed_note(practice.client, practice.therapist, hours_from_now=-10 - hours)
            services.note_add_addendum(actor=practice.nurse, note=note, text="Seen.")
        few = measure()
        for hours in range(8):
            note = signed_note(practice.client, practice.therapist, hours_from_now=-20 - hours)
            services.note_add_addendum(actor=practice.nurse, note=note, text="Seen.")
        assert SessionNote.objects.count() == 10
        assert measure() == few


class TestWriting:
    def test_the_form_has_the_sections_of_the_sessions_kind(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist, kind="integration")
        body = signed_in(practice.therapist).get(edit_url(practice, appointment)).content.decode()
        for label in ("Experience (needed to sign)", "Insights", "Homework", "EMDR sets"):
            assert label in body
        assert "Intentions" not in body
        assert 'value="sign"' in body

    def test_a_session_not_yet_held_can_be_drafted_but_not_signed(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, state=State.BOOKED, hours_from_now=24
        )
        body = signed_in(practice.therapist).get(edit_url(practice, appointment)).content.decode()
        assert 'value="save"' in body
        assert 'value="sign"' not in body
        assert "once the session is marked held" in body

    def test_save_a_draft_then_sign_it(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        http = signed_in(practice.therapist)
        response = http.post(
            edit_url(practice, appointment),
            form_data(
                "save",
                PREPARATION,
                emdr_sets="8",
                emdr_targets="The accident",
                other_modalities=["breathwork"],
                detail_movement="Shaking out",
            ),
        )
        assert response.status_code == 302
        note = SessionNote.objects.get()
        assert note.state == NoteState.DRAFT
        assert note.fields == PREPARATION
        assert note.modalities == [
            {"modality": "emdr", "sets": 8, "targets": "The accident"},
            {"modality": "breathwork", "detail": ""},
            {"modality": "movement", "detail": "Shaking out"},
        ]
        # The draft comes back into the form.
        body = http.get(edit_url(practice, appointment)).content.decode()
        assert PREPARATION["intentions"] in body
        assert "The accident" in body

        response = http.post(edit_url(practice, appointment), form_data("sign", PREPARATION))
        assert response.status_code == 302
        note.refresh_from_db()
        assert note.state == NoteState.SIGNED
        assert note.modalities == []  # the form sent no modalities this time
        body = http.get(edit_url(practice, appointment)).content.decode()
        assert "Signed note" in body
        assert PREPARATION["safety_plan"] in body
        assert 'value="save"' not in body
        assert "Add addendum" in body

    def test_errors_are_shown_on_their_fields_and_nothing_is_saved(
        self, practice: Practice
    ) -> None:
        appointment = session(practice.client, practice.therapist)
        http = signed_in(practice.therapist)
        before = counts()
        response = http.post(
            edit_url(practice, appointment),
            form_data("sign", {"history": "Only history"}),
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "Nothing was saved." in body
        assert "Intentions is needed before the note can be signed." in body
        assert "Safety plan is needed before the note can be signed." in body
        assert "Only history" in body  # what was typed is kept
        assert counts() == before

    def test_a_service_error_on_a_modality_lands_on_its_field(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        response = signed_in(practice.therapist).post(
            edit_url(practice, appointment),
            form_data("save", PREPARATION, emdr_sets="4", other_modalities=["other"]),
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert body.count("This is required.") == 2  # EMDR targets, and what "other" was
        assert not SessionNote.objects.exists()

    def test_a_post_without_an_action_saves_nothing(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        response = signed_in(practice.therapist).post(edit_url(practice, appointment), PREPARATION)
        assert response.status_code == 400
        assert b"Choose Save draft or Save and sign." in response.content
        assert not SessionNote.objects.exists()

    def test_front_desk_is_refused_with_the_reason(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        response = signed_in(practice.front_desk).post(
            edit_url(practice, appointment), form_data("save", PREPARATION)
        )
        assert response.status_code == 400
        assert b"Only a therapist, prescriber or nurse writes session notes." in response.content
        assert not SessionNote.objects.exists()


class TestReading:
    def test_a_colleagues_draft_is_named_never_shown(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, second_clinician=practice.prescriber
        )
        services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        body = signed_in(practice.prescriber).get(edit_url(practice, appointment)).content.decode()
        assert f"{practice.therapist.display_name} is writing the note" in body
        assert PREPARATION["intentions"] not in body
        assert 'value="save"' not in body

    @pytest.mark.parametrize("who", ["therapist", "prescriber", "nurse"])
    def test_a_signed_note_is_read_by_the_care_teams_clinicians(
        self, practice: Practice, who: str
    ) -> None:
        note = signed_note(practice.client, practice.therapist)
        body = (
            signed_in(getattr(practice, who))
            .get(edit_url(practice, note.appointment))
            .content.decode()
        )
        assert PREPARATION["intentions"] in body
        assert AuditEvent.objects.filter(action="client.read", detail__view="note").exists()

    @pytest.mark.parametrize("who", ["front_desk", "admin"])
    def test_a_signed_note_is_not_shown_to_others_who_see_the_chart(
        self, practice: Practice, who: str
    ) -> None:
        note = signed_note(practice.client, practice.therapist)
        response = signed_in(getattr(practice, who)).get(edit_url(practice, note.appointment))
        assert response.status_code == 200
        assert PREPARATION["intentions"].encode() not in response.content

    def test_a_session_of_another_kind_or_client_has_no_note_page(self, practice: Practice) -> None:
        dosing = session(practice.client, practice.therapist, kind="dosing")
        other = make_client()
        make_member(client=other, staff=practice.therapist)
        elsewhere = session(other, practice.therapist)
        http = signed_in(practice.therapist)
        assert http.get(edit_url(practice, dosing)).status_code == 404
        assert http.get(edit_url(practice, elsewhere)).status_code == 404
        assert http.post(edit_url(practice, elsewhere), form_data("save", {})).status_code == 404

    def test_outsiders_get_404_and_learn_nothing(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        http = signed_in(practice.outsider)
        for url in (list_url(practice), edit_url(practice, note.appointment)):
            response = http.get(url)
            assert response.status_code == 404
            assert PREPARATION["intentions"].encode() not in response.content


class TestAddenda:
    def test_a_clinician_adds_an_addendum(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist, kind="integration")
        http = signed_in(practice.prescriber)
        response = http.post(
            edit_url(practice, note.appointment),
            {"action": "addendum", "text": "Next dose lowered to 150 mg."},
        )
        assert response.status_code == 302
        assert response["Location"].endswith("#addenda")
        assert NoteAddendum.objects.get().author == practice.prescriber
        body = http.get(edit_url(practice, note.appointment)).content.decode()
        assert "Next dose lowered to 150 mg." in body
        assert INTEGRATION["experience"] in body

    def test_a_refused_addendum_is_explained_and_not_added(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        response = signed_in(practice.therapist).post(
            edit_url(practice, note.appointment), {"action": "addendum", "text": "  "}
        )
        assert response.status_code == 400
        assert b"The addendum was not added." in response.content
        assert not NoteAddendum.objects.exists()

    def test_an_addendum_to_a_draft_is_refused(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        response = signed_in(practice.therapist).post(
            edit_url(practice, appointment), {"action": "addendum", "text": "More"}
        )
        assert response.status_code == 400
        assert b"Addenda are added to signed notes." in response.content
        assert not NoteAddendum.objects.exists()
