"""The screening pages: who sees and changes what, errors shown on the fields, audited reads, and
query counts that do not grow with the history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.medications.models import Medication
from kapcare.screening import services
from kapcare.screening.models import AntidepressantTrial, BloodPressureReading, CurrentMedication
from kapcare.screening.selectors import screening_for
from kapcare.screening.tests.helpers import CLEAN_ANSWERS, clear, make_eligible, trial_fields
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def page(practice: Practice) -> str:
    return f"/clients/{practice.client.public_id}/screening/"


def test_the_team_reads_the_page_and_the_read_is_audited(practice: Practice) -> None:
    make_eligible(practice.client, practice.therapist)
    for person in (practice.therapist, practice.prescriber, practice.nurse, practice.admin):
        response = signed_in(person).get(page(practice))
        assert response.status_code == 200
        assert b"Result: Eligible" in response.content
    reads = AuditEvent.objects.filter(action="client.read", detail__view="screening")
    assert reads.count() == 4


def test_only_prescribers_get_the_decision_form(practice: Practice) -> None:
    make_eligible(practice.client, practice.therapist)
    assert b"Record decision" in signed_in(practice.prescriber).get(page(practice)).content
    body = signed_in(practice.therapist).get(page(practice)).content
    assert b"Record decision" not in body
    assert b"A prescriber records the decision." in body


def test_front_desk_sees_no_entry_forms_and_is_refused_on_post(practice: Practice) -> None:
    body = signed_in(practice.front_desk).get(page(practice)).content
    assert b"Add an antidepressant trial" not in body
    response = signed_in(practice.front_desk).post(
        page(practice) + "blood-pressure/", {"systolic": "120", "diastolic": "80"}
    )
    assert response.status_code == 400
    assert (
        b"Only a therapist, prescriber or nurse can change screening records." in response.content
    )
    assert not BloodPressureReading.objects.exists()


def test_a_bad_trial_is_shown_on_its_field_and_nothing_is_saved(practice: Practice) -> None:
    today = practice_today()
    http = signed_in(practice.therapist)
    before = AuditEvent.objects.count()
    response = http.post(
        page(practice) + "trials/",
        {
            "medication": Medication.objects.get(name="Sertraline").public_id,
            "max_daily_dose_mg": "1500",
            "started_on": today.isoformat(),
            "ended_on": (today - dt.timedelta(days=1)).isoformat(),
            "adherence": "good",
            "outcome": "non_response",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The end is before the start." in body
    assert "more than 3 times the top of the usual range for Sertraline" in body
    assert not AntidepressantTrial.objects.exists()
    assert AuditEvent.objects.count() == before


def test_adding_correcting_and_removing_a_trial_through_the_pages(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    start = practice_today() - dt.timedelta(days=120)
    response = http.post(
        page(practice) + "trials/",
        {
            "medication": Medication.objects.get(name="Escitalopram").public_id,
            "max_daily_dose_mg": "10",
            "started_on": start.isoformat(),
            "ended_on": (start + dt.timedelta(weeks=8)).isoformat(),
            "adherence": "good",
            "outcome": "partial_response",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/screening/#history")
    trial = AntidepressantTrial.objects.get()
    edit = f"{page(practice)}trials/{trial.public_id}/"
    assert http.get(edit).status_code == 200
    fields = {
        "medication": trial.medication.public_id,  # type: ignore[union-attr]
        "max_daily_dose_mg": "20",
        "started_on": start.isoformat(),
        "ended_on": (start + dt.timedelta(weeks=8)).isoformat(),
        "adherence": "good",
        "outcome": "partial_response",
    }
    assert http.post(edit, fields).status_code == 302
    trial.refresh_from_db()
    assert trial.max_daily_dose_mg == Decimal(20)
    assert http.post(edit + "remove/", {"reason": ""}).status_code == 400
    assert http.post(edit + "remove/", {"reason": "Duplicate entry"}).status_code == 302
    trial.refresh_from_db()
    assert trial.removed_reason == "Duplicate entry"
    assert http.get(edit).status_code == 404


def test_a_trial_of_another_client_is_not_found_through_this_client(practice: Practice) -> None:
    other = make_client()
    make_member(client=other, staff=practice.therapist)
    trial = services.history_save(
        actor=practice.therapist,
        client=other,
        kind="trial",
        fields=trial_fields("Sertraline", "100", practice_today() - dt.timedelta(days=100), 8),
    )
    http = signed_in(practice.therapist)
    assert http.get(f"{page(practice)}trials/{trial.public_id}/").status_code == 404
    assert (
        http.post(f"{page(practice)}trials/{trial.public_id}/remove/", {"reason": "x"}).status_code
        == 404
    )


def test_questions_page_saves_and_refuses_contradictions(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    url = page(practice) + "questions/"
    assert http.get(url).status_code == 200
    response = http.post(url, CLEAN_ANSWERS | {"mania_current": "yes"})
    assert response.status_code == 400
    assert b"Current mania is recorded, so this cannot be" in response.content
    assert not hasattr(practice.client, "screening_answers")
    assert http.post(url, CLEAN_ANSWERS).status_code == 302
    practice.client.refresh_from_db()
    assert practice.client.screening_answers.answers == CLEAN_ANSWERS


def test_medication_add_and_stop_pages(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    response = http.post(
        page(practice) + "medications/",
        {
            "medication": Medication.objects.get(name="Naltrexone").public_id,
            "dose_amount": "50",
            "dose_unit": "mg",
            "frequency": "once_daily",
        },
    )
    assert response.status_code == 302
    item = CurrentMedication.objects.get()
    stop = f"{page(practice)}medications/{item.public_id}/stop/"
    response = http.post(stop, {"stopped_on": "2999-01-01", "reason": "x"})
    assert response.status_code == 400
    assert b"This date is in the future." in response.content
    assert (
        http.post(
            stop, {"stopped_on": practice_today().isoformat(), "reason": "Stopped by GP"}
        ).status_code
        == 302
    )


def test_the_decision_page_flow(practice: Practice) -> None:
    make_eligible(practice.client, practice.therapist)
    http = signed_in(practice.prescriber)
    signature = screening_for(practice.client).result.signature()
    response = http.post(
        page(practice) + "decision/",
        {"decision": "cleared", "note": "", "seen_signature": signature},
    )
    assert response.status_code == 400
    response = http.post(
        page(practice) + "decision/",
        {"decision": "cleared", "note": "Fit for SL KAP.", "seen_signature": "stale"},
    )
    assert response.status_code == 400
    assert b"The screen changed since you opened it." in response.content
    response = http.post(
        page(practice) + "decision/",
        {"decision": "cleared", "note": "Fit for SL KAP.", "seen_signature": signature},
    )
    assert response.status_code == 302
    assert screening_for(practice.client).clearance_valid


def _history(client, actor, n: int) -> None:
    start = practice_today() - dt.timedelta(days=20 * n + 100)
    for i in range(n):
        services.history_save(
            actor=actor,
            client=client,
            kind="trial",
            fields=trial_fields(
                "Sertraline" if i % 2 else "Fluoxetine", "60", start + dt.timedelta(days=20 * i), 2
            ),
        )
        services.medication_add(
            actor=actor,
            client=client,
            fields={
                "medication": Medication.objects.get(name="Lorazepam"),
                "drug_text": "",
                "dose_amount": Decimal(1),
                "dose_unit": "mg",
                "frequency": "as_needed",
                "note": "",
            },
        )
        services.bp_record(actor=actor, client=client, systolic=120 + i, diastolic=80)


@pytest.mark.parametrize("path", ["", "questions/"])
def test_screening_pages_do_not_grow_queries_with_history(practice: Practice, path: str) -> None:
    make_eligible(practice.client, practice.therapist)
    http = signed_in(practice.prescriber)
    _history(practice.client, practice.therapist, 2)
    clear(practice.client, practice.prescriber)
    with CaptureQueriesContext(connection) as few:
        assert http.get(page(practice) + path).status_code == 200
    _history(practice.client, practice.therapist, 25)
    clear(practice.client, practice.prescriber)
    with CaptureQueriesContext(connection) as many:
        assert http.get(page(practice) + path).status_code == 200
    assert len(many) == len(few)


def test_home_lists_decisions_waiting_for_prescribers_with_flat_queries(practice: Practice) -> None:
    make_eligible(practice.client, practice.therapist)
    http = signed_in(practice.prescriber)
    body = http.get("/").content.decode()
    assert "Screening decisions waiting" in body
    assert "New result, no decision yet" in body
    clear(practice.client, practice.prescriber)
    assert "No screening is waiting" in http.get("/").content.decode()
    services.bp_record(actor=practice.nurse, client=practice.client, systolic=190, diastolic=100)
    body = http.get("/").content.decode()
    assert "Clearance withdrawn:" in body
    assert (
        "Screening decisions waiting" not in signed_in(practice.therapist).get("/").content.decode()
    )
    with CaptureQueriesContext(connection) as few:
        http.get("/")
    for _ in range(8):
        client = make_client()
        make_member(client=client, staff=practice.prescriber)
        make_eligible(client, practice.therapist)
    with CaptureQueriesContext(connection) as many:
        body = http.get("/").content.decode()
    assert body.count("New result, no decision yet") == 8
    assert len(many) == len(few)
