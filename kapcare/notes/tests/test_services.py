"""Writing notes: drafts, signing, addenda; who may do each; a signed note never changes (in the
service, in the model and in the database); refused writes leave nothing behind; every write is
audited without the note's text."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.courses.models import State
from kapcare.notes import services
from kapcare.notes.models import NoteAddendum, NoteState, SessionNote, SignedNoteChanged
from kapcare.notes.tests.helpers import (
    EMDR,
    INTEGRATION,
    PREPARATION,
    counts,
    refused,
    session,
    signed_note,
)
from kapcare.testing.personas import Practice


def audits(note: SessionNote, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject_public_id=note.public_id))


def no_text_in(event: AuditEvent, *texts: str) -> bool:
    stored = json.dumps([event.before, event.after, event.detail])
    return not any(text in stored for text in texts)


class TestDrafts:
    def test_the_session_clinician_starts_a_draft_and_it_is_audited_without_text(
        self, practice: Practice
    ) -> None:
        appointment = session(practice.client, practice.therapist)
        note = services.note_save_draft(
            actor=practice.therapist,
            appointment=appointment,
            fields=PREPARATION,
            modalities=[EMDR, {"modality": "breathwork", "detail": "Box breathing"}],
        )
        note.refresh_from_db()
        assert note.state == NoteState.DRAFT
        assert (note.kind, note.author, note.client) == (
            "preparation",
            practice.therapist,
            practice.client,
        )
        assert note.fields == PREPARATION
        assert [m["modality"] for m in note.modalities] == ["emdr", "breathwork"]
        [event] = audits(note, "note.draft")
        assert event.actor == practice.therapist
        assert event.client_public_id == practice.client.public_id
        assert event.after == {
            "appointment": str(appointment.public_id),
            "kind": "preparation",
            "sections_changed": ["history", "intentions", "safety_plan"],
            "modalities_changed": ["emdr", "breathwork"],
        }
        assert no_text_in(event, *PREPARATION.values(), EMDR["targets"], "Box breathing")

    def test_the_author_edits_the_draft_and_the_audit_names_the_changed_sections(
        self, practice: Practice
    ) -> None:
        appointment = session(practice.client, practice.therapist)
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        changed = PREPARATION | {"intentions": "Sleep through the night.", "expectations": "Ok"}
        again = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=changed, modalities=[EMDR]
        )
        assert again.pk == note.pk
        assert SessionNote.objects.get(pk=note.pk).fields == {
            "history": PREPARATION["history"],
            "intentions": "Sleep through the night.",
            "safety_plan": PREPARATION["safety_plan"],
            "expectations": "Ok",
        }
        latest = audits(note, "note.draft")[0]
        assert latest.after == {
            "sections_changed": ["intentions", "expectations"],
            "modalities_changed": ["emdr"],
        }

    def test_a_save_that_changes_nothing_writes_nothing(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        before = counts()
        services.note_save_draft(
            actor=practice.therapist,
            appointment=appointment,
            fields={code: f" {text} " for code, text in PREPARATION.items()},
        )
        assert counts() == before

    def test_a_future_session_can_be_drafted_for_planning(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, state=State.BOOKED, hours_from_now=48
        )
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields={"intentions": "Plan"}
        )
        assert note.state == NoteState.DRAFT

    def test_only_the_author_edits_a_draft(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, second_clinician=practice.prescriber
        )
        services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.prescriber, appointment=appointment, fields={"history": "Mine"}
            )
        )
        assert errors == {"note": ["not_author"]}
        assert SessionNote.objects.get().fields == PREPARATION

    @pytest.mark.parametrize(
        ("who", "rule"),
        [
            ("front_desk", "not_clinician"),
            ("admin", "not_clinician"),
            ("outsider", "not_care_team"),
            ("nurse", "not_session_clinician"),
        ],
    )
    def test_who_may_not_write(self, practice: Practice, who: str, rule: str) -> None:
        appointment = session(practice.client, practice.therapist)
        errors = refused(
            lambda: services.note_save_draft(
                actor=getattr(practice, who), appointment=appointment, fields=PREPARATION
            )
        )
        field = "appointment" if rule == "not_session_clinician" else "note"
        assert errors == {field: [rule]}

    def test_a_clinician_who_left_the_care_team_may_not_write(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        practice.client.care_team.filter(staff=practice.therapist).update(ended_at=now())
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.therapist, appointment=appointment, fields=PREPARATION
            )
        )
        assert errors == {"note": ["not_care_team"]}

    @pytest.mark.parametrize("kind", ["dosing", "consultation", "prescriber_visit"])
    def test_sessions_of_other_kinds_have_no_note(self, practice: Practice, kind: str) -> None:
        appointment = session(practice.client, practice.prescriber, kind=kind)
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.prescriber, appointment=appointment, fields={}
            )
        )
        assert errors == {"appointment": ["no_note_kind"]}

    @pytest.mark.parametrize("state", [State.CANCELLED, State.NO_SHOW])
    def test_a_session_that_did_not_happen_has_no_note(
        self, practice: Practice, state: str
    ) -> None:
        appointment = session(practice.client, practice.therapist, state=state)
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.therapist, appointment=appointment, fields=PREPARATION
            )
        )
        assert errors == {"appointment": ["not_held"]}

    def test_every_problem_with_the_input_is_reported_and_nothing_is_saved(
        self, practice: Practice
    ) -> None:
        appointment = session(practice.client, practice.therapist, kind="integration")
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.therapist,
                appointment=appointment,
                fields={"experience": "x" * 10_001, "intentions": "not here"},
                modalities=[{"modality": "emdr", "sets": 0, "targets": ""}, {"modality": "reiki"}],
            )
        )
        assert errors == {
            "fields.experience": ["max_length"],
            "fields.intentions": ["unknown_section"],
            "modalities.emdr.sets": ["out_of_range"],
            "modalities.emdr.targets": ["required"],
            "modalities": ["invalid_choice"],
        }

    def test_a_refused_edit_leaves_the_draft_as_it_was(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        stamp = SessionNote.objects.get(pk=note.pk).updated_at
        refused(
            lambda: services.note_save_draft(
                actor=practice.therapist,
                appointment=appointment,
                fields={"intentions": "New", "bogus": "x"},
            )
        )
        stored = SessionNote.objects.get(pk=note.pk)
        assert (stored.fields, stored.updated_at) == (PREPARATION, stamp)


class TestSigning:
    def test_the_author_signs_a_complete_note_of_a_held_session(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        signed = services.note_sign(actor=practice.therapist, note=note)
        stored = SessionNote.objects.get(pk=note.pk)
        assert stored.state == NoteState.SIGNED == signed.state
        assert stored.signed_by == practice.therapist
        assert stored.signed_at is not None
        [event] = audits(note, "note.sign")
        assert event.after == {
            "signed_at": stored.signed_at.isoformat(),
            "sections": ["history", "intentions", "safety_plan"],
        }
        assert no_text_in(event, *PREPARATION.values())

    def test_signing_needs_the_required_sections(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields={"history": "Some"}
        )
        errors = refused(lambda: services.note_sign(actor=practice.therapist, note=note))
        assert errors == {"fields.intentions": ["required"], "fields.safety_plan": ["required"]}
        assert SessionNote.objects.get(pk=note.pk).state == NoteState.DRAFT

    def test_signing_needs_the_session_marked_held(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, state=State.BOOKED, hours_from_now=-1
        )
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        errors = refused(lambda: services.note_sign(actor=practice.therapist, note=note))
        assert errors == {"appointment": ["not_held"]}

    def test_only_the_author_signs(self, practice: Practice) -> None:
        appointment = session(
            practice.client, practice.therapist, second_clinician=practice.prescriber
        )
        note = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        errors = refused(lambda: services.note_sign(actor=practice.prescriber, note=note))
        assert errors == {"note": ["not_author"]}
        errors = refused(lambda: services.note_sign(actor=practice.front_desk, note=note))
        assert errors == {"note": ["not_clinician"]}

    def test_a_note_is_signed_once(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        errors = refused(lambda: services.note_sign(actor=practice.therapist, note=note))
        assert errors == {"note": ["signed"]}

    def test_save_and_sign_is_both_or_neither(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist, kind="integration")
        errors = refused(
            lambda: services.note_save_and_sign(
                actor=practice.therapist,
                appointment=appointment,
                fields={"experience": "Warm"},
            )
        )
        assert errors == {"fields.follow_up": ["required"]}
        assert not SessionNote.objects.exists()
        note = services.note_save_and_sign(
            actor=practice.therapist, appointment=appointment, fields=INTEGRATION
        )
        assert SessionNote.objects.get(pk=note.pk).state == NoteState.SIGNED
        assert len(audits(note, "note.draft")) == len(audits(note, "note.sign")) == 1


class TestSignedNotesNeverChange:
    def test_the_service_refuses_to_edit_a_signed_note(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        errors = refused(
            lambda: services.note_save_draft(
                actor=practice.therapist,
                appointment=note.appointment,
                fields=PREPARATION | {"intentions": "Changed my mind"},
            )
        )
        assert errors == {"note": ["signed"]}
        assert SessionNote.objects.get(pk=note.pk).fields == PREPARATION

    def test_the_model_refuses_to_save_a_signed_note(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        copy = SessionNote.objects.get(pk=note.pk)
        copy.fields = {"intentions": "Rewritten"}
        with pytest.raises(SignedNoteChanged):
            copy.save()
        with pytest.raises(SignedNoteChanged):
            SessionNote.objects.get(pk=note.pk).save()  # even unchanged
        with pytest.raises(SignedNoteChanged):
            SessionNote.objects.filter(pk=note.pk).update(fields={})
        with pytest.raises(SignedNoteChanged):
            SessionNote.objects.get(pk=note.pk).delete()
        assert SessionNote.objects.get(pk=note.pk).fields == PREPARATION

    def test_a_stale_draft_copy_cannot_overwrite_the_signed_note(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        draft = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        stale = SessionNote.objects.get(pk=draft.pk)
        services.note_sign(actor=practice.therapist, note=draft)
        stale.fields = {"intentions": "Sneaky"}
        with pytest.raises(SignedNoteChanged):
            stale.save()
        assert SessionNote.objects.get(pk=draft.pk).fields == PREPARATION

    def test_the_database_refuses_to_update_a_signed_note(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        draft_appointment = session(practice.client, practice.therapist, hours_from_now=-30)
        draft = services.note_save_draft(
            actor=practice.therapist, appointment=draft_appointment, fields={"history": "a"}
        )
        sql = "UPDATE notes_sessionnote SET kind = 'integration' WHERE id = %s"
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [note.pk])
        # A draft is still written in place (the trigger looks at the stored state).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [draft.pk])
        assert SessionNote.objects.get(pk=note.pk).kind == "preparation"
        assert SessionNote.objects.get(pk=draft.pk).kind == "integration"
        if connection.vendor == "postgresql":  # SQLite keeps DELETE for the test runner
            delete = "DELETE FROM notes_sessionnote WHERE id = %s"
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(delete, [note.pk])
            assert SessionNote.objects.filter(pk=note.pk).exists()


class TestAddenda:
    def test_a_care_team_clinician_adds_an_addendum_audited_without_its_text(
        self, practice: Practice
    ) -> None:
        note = signed_note(practice.client, practice.therapist)
        addendum = services.note_add_addendum(
            actor=practice.prescriber, note=note, text="  Dose lowered after this session.  "
        )
        stored = NoteAddendum.objects.get()
        assert (stored.text, stored.author, stored.note) == (
            "Dose lowered after this session.",
            practice.prescriber,
            note,
        )
        [event] = audits(note, "note.addendum")
        assert event.after == {"addendum": str(addendum.public_id)}
        assert no_text_in(event, "Dose lowered")
        assert SessionNote.objects.get(pk=note.pk).fields == PREPARATION

    def test_addenda_only_on_signed_notes(self, practice: Practice) -> None:
        appointment = session(practice.client, practice.therapist)
        draft = services.note_save_draft(
            actor=practice.therapist, appointment=appointment, fields=PREPARATION
        )
        errors = refused(
            lambda: services.note_add_addendum(actor=practice.therapist, note=draft, text="x")
        )
        assert errors == {"note": ["not_signed"]}

    @pytest.mark.parametrize(
        ("who", "text", "expected"),
        [
            ("therapist", "   ", {"text": ["required"]}),
            ("therapist", "x" * 10_001, {"text": ["max_length"]}),
            ("front_desk", "Noted", {"note": ["not_clinician"]}),
            ("outsider", "Noted", {"note": ["not_care_team"]}),
        ],
    )
    def test_refused_addenda(self, practice: Practice, who: str, text: str, expected) -> None:
        note = signed_note(practice.client, practice.therapist)
        errors = refused(
            lambda: services.note_add_addendum(actor=getattr(practice, who), note=note, text=text)
        )
        assert errors == expected

    def test_addenda_are_append_only(self, practice: Practice) -> None:
        note = signed_note(practice.client, practice.therapist)
        addendum = services.note_add_addendum(actor=practice.therapist, note=note, text="First")
        addendum.text = "Rewritten"
        with pytest.raises(SignedNoteChanged):
            addendum.save()
        with pytest.raises(SignedNoteChanged):
            NoteAddendum.objects.filter(pk=addendum.pk).update(text="x")
        with pytest.raises(SignedNoteChanged):
            addendum.delete()
        sql = "UPDATE notes_noteaddendum SET text = 'x' WHERE id = %s"
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [addendum.pk])
        assert NoteAddendum.objects.get(pk=addendum.pk).text == "First"
