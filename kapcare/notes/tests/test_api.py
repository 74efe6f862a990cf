"""Session notes in the JSON API: drafts, signing, addenda, who sees what, errors in the API's
shape with nothing saved, and audited reads."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client as HttpClient

from kapcare.core.models import AuditEvent
from kapcare.courses.models import Appointment
from kapcare.notes.models import NoteAddendum, NoteState, SessionNote
from kapcare.notes.tests.helpers import EMDR, PREPARATION, counts, session, signed_note
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def notes_url(practice: Practice, note_id: object = None, suffix: str = "") -> str:
    base = f"/api/v1/clients/{practice.client.public_id}/notes"
    return f"{base}/{note_id}{suffix}" if note_id else base


def draft_url(practice: Practice, appointment: Appointment) -> str:
    return f"/api/v1/clients/{practice.client.public_id}/appointments/{appointment.public_id}/note"


def send(http: HttpClient, method: str, path: str, body: Any = None) -> Any:
    if method == "get":
        return http.get(path)
    return getattr(http, method)(
        path, json.dumps(body if body is not None else {}), content_type="application/json"
    )


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


def test_write_a_draft_sign_it_and_add_an_addendum(practice: Practice) -> None:
    appointment = session(practice.client, practice.therapist)
    http = signed_in(practice.therapist)
    response = send(
        http, "put", draft_url(practice, appointment), {"fields": PREPARATION, "modalities": [EMDR]}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    note = SessionNote.objects.get()
    assert body["id"] == str(note.public_id)
    assert body["appointment_id"] == str(appointment.public_id)
    assert (body["kind"], body["state"], body["author"]) == (
        "preparation",
        "draft",
        practice.therapist.display_name,
    )
    assert body["fields"] == PREPARATION
    assert body["modalities"] == [EMDR]
    assert body["signed_at"] is None
    assert body["addenda"] == []

    response = send(http, "post", notes_url(practice, note.public_id, "/sign"))
    assert response.status_code == 200
    assert response.json()["state"] == "signed"
    assert response.json()["signed_by"] == practice.therapist.display_name

    response = send(
        signed_in(practice.prescriber),
        "post",
        notes_url(practice, note.public_id, "/addenda"),
        {"text": "Seen before the first dose."},
    )
    assert response.status_code == 201
    assert response.json()["author"] == practice.prescriber.display_name
    read = signed_in(practice.nurse).get(notes_url(practice, note.public_id)).json()
    assert [a["text"] for a in read["addenda"]] == ["Seen before the first dose."]
    assert {e.action for e in AuditEvent.objects.filter(subject_public_id=note.public_id)} == {
        "note.draft",
        "note.sign",
        "note.addendum",
    }


def test_drafts_are_their_authors_and_signed_notes_the_care_teams(practice: Practice) -> None:
    appointment = session(practice.client, practice.therapist)
    send(signed_in(practice.therapist), "put", draft_url(practice, appointment), {})
    note = SessionNote.objects.get()
    prescriber = signed_in(practice.prescriber)
    assert prescriber.get(notes_url(practice)).json() == []
    assert prescriber.get(notes_url(practice, note.public_id)).status_code == 404
    # The author sees it; then signs it and everyone on the team does.
    assert len(signed_in(practice.therapist).get(notes_url(practice)).json()) == 1
    send(
        signed_in(practice.therapist),
        "put",
        draft_url(practice, appointment),
        {"fields": PREPARATION},
    )
    assert (
        send(
            signed_in(practice.therapist), "post", notes_url(practice, note.public_id, "/sign")
        ).status_code
        == 200
    )
    listed = prescriber.get(notes_url(practice)).json()
    assert [n["id"] for n in listed] == [str(note.public_id)]
    assert listed[0]["fields"] == PREPARATION
    assert AuditEvent.objects.filter(
        action="client.read", actor=practice.prescriber, detail__view="api.notes"
    ).exists()


@pytest.mark.parametrize("who", ["front_desk", "admin"])
def test_people_who_are_not_treating_clinicians_are_refused_reads(
    practice: Practice, who: str
) -> None:
    note = signed_note(practice.client, practice.therapist)
    http = signed_in(getattr(practice, who))
    reads_before = AuditEvent.objects.filter(action="client.read").count()
    for path in (notes_url(practice), notes_url(practice, note.public_id)):
        response = http.get(path)
        assert response.status_code == 403
        assert errors(response) == {(None, "forbidden")}
        assert "clinicians" in response.json()["errors"][0]["message"]
    # Nothing was shown, so no read of the chart is recorded.
    assert AuditEvent.objects.filter(action="client.read").count() == reads_before


def test_outsiders_get_404_for_every_note_endpoint(practice: Practice) -> None:
    note = signed_note(practice.client, practice.therapist)
    http = signed_in(practice.outsider)
    before = counts()
    calls = [
        ("get", notes_url(practice), None),
        ("get", notes_url(practice, note.public_id), None),
        ("put", draft_url(practice, note.appointment), {"fields": {"intentions": "x"}}),
        ("post", notes_url(practice, note.public_id, "/sign"), None),
        ("post", notes_url(practice, note.public_id, "/addenda"), {"text": "x"}),
    ]
    for method, path, body in calls:
        response = send(http, method, path, body)
        assert response.status_code == 404, path
        assert errors(response) == {(None, "not_found")}
    assert counts() == before


def test_a_note_or_session_of_another_client_is_404(practice: Practice) -> None:
    other = make_client()
    make_member(client=other, staff=practice.therapist)
    foreign = signed_note(other, practice.therapist)
    http = signed_in(practice.therapist)
    assert http.get(notes_url(practice, foreign.public_id)).status_code == 404
    assert send(http, "put", draft_url(practice, foreign.appointment), {}).status_code == 404
    assert http.get(notes_url(practice, uuid.uuid4())).status_code == 404


def test_bad_input_names_the_field_and_rule_and_saves_nothing(practice: Practice) -> None:
    appointment = session(practice.client, practice.therapist, kind="integration")
    http = signed_in(practice.therapist)
    before = counts()
    response = send(
        http,
        "put",
        draft_url(practice, appointment),
        {
            "fields": {"experience": "x" * 10_001, "mood": "low"},
            "modalities": [{"modality": "emdr", "sets": 0, "targets": "t"}, {"modality": "reiki"}],
        },
    )
    assert response.status_code == 400
    assert errors(response) == {
        ("fields.experience", "max_length"),
        ("fields.mood", "unknown_section"),
        ("modalities.emdr.sets", "out_of_range"),
        ("modalities", "invalid_choice"),
    }
    response = send(
        http,
        "put",
        draft_url(practice, appointment),
        {"modalities": [{"modality": "music", "tempo": "slow"}]},
    )
    assert response.status_code == 422
    assert errors(response) == {("modalities.0.tempo", "extra_forbidden")}
    response = send(http, "put", draft_url(practice, appointment), {"fields": {"experience": 3}})
    assert response.status_code == 422
    assert counts() == before


def test_signing_rules_in_the_api(practice: Practice) -> None:
    appointment = session(practice.client, practice.therapist, second_clinician=practice.nurse)
    therapist = signed_in(practice.therapist)
    send(therapist, "put", draft_url(practice, appointment), {"fields": {"history": "h"}})
    note = SessionNote.objects.get()
    response = send(therapist, "post", notes_url(practice, note.public_id, "/sign"))
    assert response.status_code == 400
    assert errors(response) == {
        ("fields.intentions", "required"),
        ("fields.safety_plan", "required"),
    }
    assert SessionNote.objects.get().state == NoteState.DRAFT
    # A colleague holding the session cannot see, so cannot sign, the draft.
    response = send(signed_in(practice.nurse), "post", notes_url(practice, note.public_id, "/sign"))
    assert response.status_code == 404

    send(therapist, "put", draft_url(practice, appointment), {"fields": PREPARATION})
    assert send(therapist, "post", notes_url(practice, note.public_id, "/sign")).status_code == 200
    response = send(therapist, "post", notes_url(practice, note.public_id, "/sign"))
    assert errors(response) == {("note", "signed")}
    response = send(
        therapist, "put", draft_url(practice, appointment), {"fields": {"history": "x"}}
    )
    assert response.status_code == 400
    assert errors(response) == {("note", "signed")}
    assert SessionNote.objects.get().fields == PREPARATION


def test_addendum_rules_in_the_api(practice: Practice) -> None:
    note = signed_note(practice.client, practice.therapist)
    http = signed_in(practice.therapist)
    response = send(http, "post", notes_url(practice, note.public_id, "/addenda"), {})
    assert response.status_code == 400
    assert errors(response) == {("text", "required")}
    response = send(
        signed_in(practice.front_desk),
        "post",
        notes_url(practice, note.public_id, "/addenda"),
        {"text": "x"},
    )
    assert response.status_code == 404  # front desk does not see the notes
    assert not NoteAddendum.objects.exists()


def test_the_openapi_document_describes_the_notes_api(practice: Practice) -> None:
    paths = signed_in(practice.nurse).get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/clients/{client_id}/notes"]) == {"get"}
    assert set(paths["/api/v1/clients/{client_id}/notes/{note_id}"]) == {"get"}
    assert set(paths["/api/v1/clients/{client_id}/appointments/{appointment_id}/note"]) == {"put"}
    assert set(paths["/api/v1/clients/{client_id}/notes/{note_id}/sign"]) == {"post"}
    assert set(paths["/api/v1/clients/{client_id}/notes/{note_id}/addenda"]) == {"post"}
