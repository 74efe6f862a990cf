"""Screening in the JSON API: the live screen, history, medications, blood pressure, answers,
decisions, the catalogue and the parameters; access, audit and the errors shape."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localdate

from kapcare.accounts.services import api_token_create
from kapcare.clients.models import Client
from kapcare.clients.services import weight_record
from kapcare.core.models import AuditEvent
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.services import administration_record
from kapcare.medications.models import Medication
from kapcare.screening import questions, services
from kapcare.screening.models import (
    AntidepressantTrial,
    Augmentation,
    BloodPressureReading,
    CurrentMedication,
    EctCourse,
    Episode,
    PsychotherapyCourse,
    ScreeningAnswers,
    ScreeningDecision,
    ScreenRun,
)
from kapcare.screening.selectors import screening_for
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

MODELS = (
    Episode,
    AntidepressantTrial,
    Augmentation,
    EctCourse,
    PsychotherapyCourse,
    CurrentMedication,
    BloodPressureReading,
    ScreeningAnswers,
    ScreenRun,
    ScreeningDecision,
    AuditEvent,
)


def base(client: Client) -> str:
    return f"/api/v1/clients/{client.public_id}/screening"


def send(http: HttpClient, method: str, path: str, body: Any = None) -> Any:
    return getattr(http, method)(
        path, json.dumps(body if body is not None else {}), content_type="application/json"
    )


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


def medication(name: str) -> Medication:
    return Medication.objects.get(name=name)


def trial_body(**changes: Any) -> dict[str, Any]:
    return {
        "medication": str(medication("Sertraline").public_id),
        "max_daily_dose_mg": "100",
        "started_on": "2025-02-01",
        "ended_on": "2025-05-01",
        "adherence": "good",
        "outcome": "non_response",
        "note": "",
    } | changes


def add_trial(practice: Practice, drug: str = "Sertraline", dose: int = 100, month: int = 2) -> Any:
    """A failed adequate trial of three months, from the first of `month` 2025."""
    return services.history_save(
        actor=practice.prescriber,
        client=practice.client,
        kind="trial",
        fields={
            "medication": medication(drug),
            "max_daily_dose_mg": decimal.Decimal(dose),
            "started_on": dt.date(2025, month, 1),
            "ended_on": dt.date(2025, month + 3, 1),
            "adherence": "good",
            "outcome": "non_response",
        },
    )


def negative_answers() -> dict[str, str]:
    """Every question that is asked answered with its 'nothing found' answer."""
    answers = {}
    for question in questions.QUESTIONS:
        if question.asked_if is not None:
            continue
        if question.kind == "number":
            answers[question.code] = "170"
        else:
            values = dict(question.choices)
            answers[question.code] = "no" if "no" in values else "none"
    return answers


def complete_screen(practice: Practice) -> None:
    """A screen with nothing missing: episode, two failed trials, answers, weight, BP."""
    actor, client = practice.prescriber, practice.client
    services.episode_start(actor=actor, client=client, started_on=dt.date(2025, 1, 1))
    add_trial(practice, "Sertraline", 100)
    add_trial(practice, "Bupropion", 300, month=6)
    services.answers_save(actor=actor, client=client, answers=negative_answers())
    weight_record(
        actor=actor, client=client, measured_on=dt.date(2026, 1, 5), weight_kg=decimal.Decimal(70)
    )
    services.bp_record(actor=actor, client=client, systolic=120, diastolic=80)


def reads(client: Client) -> list[dict[str, Any]]:
    return [
        event.detail
        for event in AuditEvent.objects.filter(
            action="client.read", client_public_id=client.public_id
        ).order_by("id")
    ]


# ---------------------------------------------------------------------------------------------
# The live screen


def test_the_screen_shows_result_findings_resistance_staging_and_is_audited(
    practice: Practice,
) -> None:
    client = practice.client
    services.episode_start(actor=practice.prescriber, client=client, started_on=dt.date(2025, 1, 1))
    sertraline = add_trial(practice, "Sertraline", 100)
    add_trial(practice, "Bupropion", 300, month=6)
    services.bp_record(actor=practice.nurse, client=client, systolic=160, diastolic=85)
    services.medication_add(
        actor=practice.nurse,
        client=client,
        fields={
            "medication": medication("Lorazepam"),
            "dose_amount": decimal.Decimal(1),
            "dose_unit": "mg",
            "frequency": "twice_daily",
        },
    )
    response = signed_in(practice.therapist).get(base(client))
    assert response.status_code == 200
    body = response.json()
    live = screening_for(client)
    assert body["status"] == live.result.status == "incomplete"
    assert body["label"] == "Incomplete"
    assert body["signature"] == live.result.signature()
    findings = {finding["code"]: finding for finding in body["findings"]}
    assert findings["bp_high"]["class"] == "relative"
    assert findings["bp_high"]["reason"].startswith("Latest reading 160/85")
    assert findings["bp_high"]["title"]
    assert findings["bp_high"]["source"]
    assert "interaction.benzodiazepine" in findings
    assert "An intake blood pressure reading" not in body["missing"]
    assert body["missing"]  # no answers yet
    resistance = body["treatment_resistance"]
    assert (resistance["failures"], resistance["needed"], resistance["is_trd"]) == (2, 2, True)
    first = resistance["trials"][0]
    assert first["trial_id"] == str(sertraline.public_id)
    assert (first["drug"], first["adequate"], first["failed"]) == ("Sertraline", True, True)
    assert first["reasons"][0] == "Adequate trial that failed."
    assert body["msm"]["total"] is None
    assert "a severity" in body["msm"]["missing"][0]
    assert body["msm"]["parts"][0]["dimension"] == "Duration"
    assert body["thase_rush"] == {
        "stage": 2,
        "text": "Failed adequate trials of two different classes",
    }
    assert body["trauma"] == {
        "pcl5_total": None,
        "pcl5_on": None,
        "pcl5_provisional_ptsd": None,
        "ace_total": None,
        "ace_on": None,
        "cutpoint": live.trauma.cutpoint,
        "trauma_focused": False,
    }
    assert body["episode"]["started_on"] == "2025-01-01"
    assert body["answers"] == {}
    assert body["clearance_valid"] is False
    assert body["decisions"] == []
    event = AuditEvent.objects.filter(action="client.read").latest("id")
    assert event.actor == practice.therapist
    assert event.channel == "api"
    assert event.detail == {"view": "api.screening"}
    assert event.client_public_id == client.public_id


def test_the_screen_shows_the_trauma_profile(practice: Practice) -> None:
    pcl5 = administration_record(
        actor=practice.therapist,
        client=practice.client,
        instrument="pcl5",
        answers=dict.fromkeys(INSTRUMENTS["pcl5"].item_ids, 2),
    )
    trauma = signed_in(practice.therapist).get(base(practice.client)).json()["trauma"]
    assert trauma["pcl5_total"] == pcl5.total == 40
    assert trauma["pcl5_on"] == localdate(pcl5.completed_at).isoformat()
    assert trauma["pcl5_provisional_ptsd"] is True
    assert trauma["cutpoint"] <= 40
    assert trauma["trauma_focused"] is True


def test_the_openapi_document_describes_the_screening_api(practice: Practice) -> None:
    document = signed_in(practice.nurse).get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for kind in ("trial", "augmentation", "ect", "psychotherapy"):
        collection = f"/api/v1/clients/{{client_id}}/screening/history/{kind}"
        assert set(paths[collection]) == {"get", "post"}
        assert set(paths[collection + "/{item_id}"]) == {"get", "patch"}
        assert set(paths[collection + "/{item_id}/remove"]) == {"post"}
    assert set(paths["/api/v1/clients/{client_id}/screening/answers"]) == {"get", "put"}
    assert "class" in document["components"]["schemas"]["FindingOut"]["properties"]


def test_the_screen_reads_a_fixed_number_of_queries(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    sertraline = medication("Sertraline")

    def add_rows(count: int) -> None:
        AntidepressantTrial.objects.bulk_create(
            AntidepressantTrial(
                client=practice.client,
                medication=sertraline,
                max_daily_dose_mg=100,
                started_on=dt.date(2025, 1, 1),
                adherence="good",
                outcome="response",
            )
            for _ in range(count)
        )
        CurrentMedication.objects.bulk_create(
            CurrentMedication(
                client=practice.client,
                medication=sertraline,
                dose_amount=50,
                frequency="once_daily",
            )
            for _ in range(count)
        )

    add_rows(10)
    with CaptureQueriesContext(connection) as few:
        assert http.get(base(practice.client)).status_code == 200
    add_rows(190)
    with CaptureQueriesContext(connection) as many:
        assert http.get(base(practice.client)).status_code == 200
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------
# The episode


def test_episode_is_read_and_recorded(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    path = f"{base(practice.client)}/episode"
    assert http.get(path).json() is None
    response = send(http, "put", path, {"started_on": "2025-03-01", "note": "after a move"})
    assert response.status_code == 200
    assert response.json()["started_on"] == "2025-03-01"
    assert response.json()["recorded_by"] == str(practice.nurse)
    current = http.get(path).json()
    assert current["id"] == response.json()["id"]
    assert current["note"] == "after a move"
    event = AuditEvent.objects.get(action="screening.episode")
    assert (event.actor, event.channel) == (practice.nurse, "api")


def test_the_clinician_rates_the_episode_severity(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    path = f"{base(practice.client)}/episode"
    response = send(http, "put", path, {"started_on": "2025-03-01", "severity": "severe"})
    assert response.json()["severity"] == "severe"
    assert screening_for(practice.client).msm_severity.severity == "severe"
    bad = send(http, "put", path, {"started_on": "2025-03-01", "severity": "extreme"})
    assert bad.status_code == 400
    assert errors(bad) == {("severity", "invalid_choice")}


def test_an_episode_in_the_future_is_refused_and_nothing_saved(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    before = counts()
    response = send(http, "put", f"{base(practice.client)}/episode", {"started_on": "2999-01-01"})
    assert response.status_code == 400
    assert errors(response) == {("started_on", "future")}
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Treatment history


def test_a_trial_is_added_listed_read_corrected_and_removed(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    path = f"{base(practice.client)}/history/trial"
    response = send(http, "post", path, trial_body())
    assert response.status_code == 201
    trial = response.json()
    assert trial["kind"] == "trial"
    assert trial["drug"] == "Sertraline"
    assert trial["medication"] == str(medication("Sertraline").public_id)
    assert trial["verified"] is True
    assert decimal.Decimal(trial["max_daily_dose_mg"]) == 100
    assert AuditEvent.objects.get(action="screening.trial_add").channel == "api"

    listed = http.get(path).json()
    assert [row["id"] for row in listed] == [trial["id"]]
    item_path = f"{path}/{trial['id']}"
    assert http.get(item_path).json()["outcome"] == "non_response"

    corrected = send(http, "patch", item_path, {"ended_on": None, "outcome": "ongoing"})
    assert corrected.status_code == 200
    assert corrected.json()["ended_on"] is None
    assert corrected.json()["outcome"] == "ongoing"
    event = AuditEvent.objects.get(action="screening.trial_correct")
    assert event.before == {"ended_on": "2025-05-01", "outcome": "non_response"}

    removed = send(http, "post", f"{item_path}/remove", {"reason": "duplicate entry"})
    assert removed.status_code == 200
    assert http.get(path).json() == []
    assert http.get(item_path).status_code == 404
    again = send(http, "post", f"{item_path}/remove", {"reason": "again"})
    assert again.status_code == 404
    row = AntidepressantTrial.objects.get(public_id=trial["id"])
    assert row.removed_reason == "duplicate entry"
    assert row.removed_by == practice.prescriber


def test_a_trial_of_a_drug_not_in_the_catalogue(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    body = trial_body(medication=None, drug_text="Tianeptine")
    response = send(http, "post", f"{base(practice.client)}/history/trial", body)
    assert response.status_code == 201
    assert response.json()["drug"] == "Tianeptine"
    assert response.json()["verified"] is False
    assessment = http.get(base(practice.client)).json()["treatment_resistance"]["trials"][0]
    assert assessment["adequate"] is False
    assert any("unverified" in reason for reason in assessment["reasons"])


@pytest.mark.parametrize(
    ("kind", "body", "shown"),
    [
        (
            "augmentation",
            {"agent_text": "Lithium", "started_on": "2025-06-01", "outcome": "non_response"},
            {"agent": "Lithium", "verified": False},
        ),
        (
            "ect",
            {
                "laterality": "bilateral",
                "sessions": 12,
                "started_on": "2025-07-01",
                "ended_on": "2025-08-15",
                "outcome": "partial_response",
            },
            {"laterality": "bilateral", "sessions": 12},
        ),
        (
            "psychotherapy",
            {"modality": "CBT", "sessions": 16, "started_on": "2024-01-10", "outcome": "helped"},
            {"modality": "CBT", "outcome": "helped"},
        ),
    ],
)
def test_other_history_kinds(
    practice: Practice, kind: str, body: dict[str, Any], shown: dict[str, Any]
) -> None:
    http = signed_in(practice.therapist)
    path = f"{base(practice.client)}/history/{kind}"
    response = send(http, "post", path, body)
    assert response.status_code == 201, response.json()
    assert shown.items() <= response.json().items()
    assert [row["id"] for row in http.get(path).json()] == [response.json()["id"]]
    patched = send(http, "patch", f"{path}/{response.json()['id']}", {"note": "checked"})
    assert patched.json()["note"] == "checked"
    assert AuditEvent.objects.filter(action=f"screening.{kind}_correct").count() == 1


def test_an_augmentation_from_the_catalogue(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    aripiprazole = medication("Aripiprazole")
    body = {
        "medication": str(aripiprazole.public_id),
        "started_on": "2025-06-01",
        "outcome": "ongoing",
    }
    response = send(http, "post", f"{base(practice.client)}/history/augmentation", body)
    assert response.status_code == 201
    assert response.json()["agent"] == "Aripiprazole"
    assert response.json()["medication"] == str(aripiprazole.public_id)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ended_on": "2025-01-01"}, {("ended_on", "end_before_start")}),
        ({"started_on": "2999-01-01", "ended_on": None}, {("started_on", "future")}),
        ({"max_daily_dose_mg": "5000"}, {("max_daily_dose_mg", "implausible_dose")}),
        ({"outcome": "ongoing"}, {("outcome", "contradiction")}),
        ({"outcome": "cured"}, {("outcome", "invalid_choice")}),
        ({"medication": None}, {("medication", "required")}),
        ({"drug_text": "Zoloft"}, {("drug_text", "both")}),
        ({"medication": str(uuid.uuid4())}, {("medication", "unknown")}),
    ],
)
def test_a_bad_trial_is_refused_and_nothing_saved(
    practice: Practice, changes: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    http = signed_in(practice.prescriber)
    before = counts()
    response = send(http, "post", f"{base(practice.client)}/history/trial", trial_body(**changes))
    assert response.status_code == 400
    assert errors(response) == expected
    assert counts() == before


def test_a_trial_of_a_drug_that_is_not_an_antidepressant_is_refused(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    before = counts()
    body = trial_body(medication=str(medication("Lorazepam").public_id))
    response = send(http, "post", f"{base(practice.client)}/history/trial", body)
    assert response.status_code == 400
    assert ("medication", "not_antidepressant") in errors(response)
    assert counts() == before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"adherence": None}, ("adherence", "missing")),
        ({"started_on": "01/02/2025"}, ("started_on", "date_from_datetime_parsing")),
        ({"status": "active"}, ("status", "extra_forbidden")),
    ],
)
def test_a_malformed_trial_is_422_and_nothing_saved(
    practice: Practice, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    http = signed_in(practice.prescriber)
    before = counts()
    # None here means "left out".
    body = {k: v for k, v in trial_body(**changes).items() if v is not None}
    response = send(http, "post", f"{base(practice.client)}/history/trial", body)
    assert response.status_code == 422
    assert expected in errors(response)
    assert counts() == before


def test_bad_corrections_and_removals_are_refused_and_nothing_saved(practice: Practice) -> None:
    trial = add_trial(practice)
    http = signed_in(practice.prescriber)
    item_path = f"{base(practice.client)}/history/trial/{trial.public_id}"
    before = counts()
    response = send(http, "patch", item_path, {"started_on": None, "adherence": None})
    assert response.status_code == 400
    assert errors(response) == {("adherence", "null"), ("started_on", "null")}
    response = send(http, "patch", item_path, {"ended_on": "2024-01-01"})
    assert errors(response) == {("ended_on", "end_before_start")}
    response = send(http, "post", f"{item_path}/remove", {"reason": "  "})
    assert response.status_code == 400
    assert errors(response) == {("reason", "required")}
    assert counts() == before
    trial.refresh_from_db()
    assert (trial.ended_on, trial.removed_at) == (dt.date(2025, 5, 1), None)


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("psychotherapy", {"modality": " ", "started_on": "2024-01-10"}, ("modality", "blank")),
        (
            "ect",
            {"laterality": "left", "started_on": "2024-01-10", "outcome": "response"},
            ("laterality", "invalid_choice"),
        ),
        (
            "augmentation",
            {"agent_text": "L" * 81, "started_on": "2024-01-10", "outcome": "response"},
            ("agent_text", "max_length"),
        ),
    ],
)
def test_record_rules_of_other_kinds(
    practice: Practice, kind: str, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    http = signed_in(practice.nurse)
    before = counts()
    response = send(http, "post", f"{base(practice.client)}/history/{kind}", body)
    assert response.status_code == 400
    assert errors(response) == {expected}
    assert counts() == before


def test_an_unknown_kind_is_404(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    assert http.get(f"{base(practice.client)}/history/lithium").status_code == 404
    assert send(http, "post", f"{base(practice.client)}/history/lithium").status_code == 404


def test_an_entry_is_found_only_through_its_own_client_and_kind(practice: Practice) -> None:
    trial = add_trial(practice)
    other = Client.objects.exclude(pk=practice.client.pk).get()
    http = signed_in(practice.admin)  # sees both clients
    before = counts()
    assert http.get(f"{base(other)}/history/trial/{trial.public_id}").status_code == 404
    response = send(http, "patch", f"{base(other)}/history/trial/{trial.public_id}", {"note": "x"})
    assert response.status_code == 404
    path = f"{base(practice.client)}/history/augmentation/{trial.public_id}/remove"
    assert send(http, "post", path, {"reason": "wrong kind"}).status_code == 404
    assert counts() == {**before, "AuditEvent": before["AuditEvent"] + 1}  # the one read


# ---------------------------------------------------------------------------------------------
# Current medications


def test_current_medications_are_added_listed_and_stopped(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    path = f"{base(practice.client)}/medications"
    body = {
        "medication": str(medication("Lorazepam").public_id),
        "dose_amount": "1",
        "frequency": "twice_daily",
        "started_on": "2025-01-01",
    }
    response = send(http, "post", path, body)
    assert response.status_code == 201
    item = response.json()
    assert (item["drug"], item["dose_unit"], decimal.Decimal(item["daily_mg"])) == (
        "Lorazepam",
        "mg",
        2,
    )
    assert [row["id"] for row in http.get(path).json()] == [item["id"]]
    stopped = send(http, "post", f"{path}/{item['id']}/stop", {"reason": "tapered off"})
    assert stopped.status_code == 200
    assert stopped.json()["stopped_on"] is not None
    assert stopped.json()["stopped_reason"] == "tapered off"
    assert http.get(path).json() == []
    assert [row["id"] for row in http.get(f"{path}?include_stopped=true").json()] == [item["id"]]
    assert AuditEvent.objects.filter(action="screening.medication_stop").count() == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"medication": "LORAZEPAM", "dose_amount": "1", "frequency": "once_daily"},
            {("medication", "uuid_parsing")},
        ),
        ({"drug_text": "Kratom", "dose_amount": "0", "frequency": "once_daily"}, None),
        ({"dose_amount": "1", "frequency": "once_daily"}, {("medication", "required")}),
        ({"drug_text": "X", "dose_amount": "1", "frequency": "hourly"}, None),
    ],
)
def test_bad_current_medications_are_refused_and_nothing_saved(
    practice: Practice, body: dict[str, Any], expected: set[tuple[str, str]] | None
) -> None:
    http = signed_in(practice.nurse)
    before = counts()
    response = send(http, "post", f"{base(practice.client)}/medications", body)
    assert response.status_code in (400, 422)
    if expected is None:
        expected = (
            {("dose_amount", "min_value")}
            if body["dose_amount"] == "0"
            else {("frequency", "invalid_choice")}
        )
    assert errors(response) == expected
    assert counts() == before


def test_stopping_needs_a_reason_and_only_once(practice: Practice) -> None:
    item = services.medication_add(
        actor=practice.nurse,
        client=practice.client,
        fields={"drug_text": "Kratom", "dose_amount": decimal.Decimal(2), "frequency": "as_needed"},
    )
    http = signed_in(practice.nurse)
    path = f"{base(practice.client)}/medications/{item.public_id}/stop"
    before = counts()
    assert errors(send(http, "post", path, {})) == {("reason", "required")}
    assert errors(send(http, "post", path, {"stopped_on": "2999-01-01", "reason": "x"})) == {
        ("stopped_on", "future")
    }
    assert counts() == before
    assert send(http, "post", path, {"reason": "stopped"}).status_code == 200
    assert errors(send(http, "post", path, {"reason": "again"})) == {("stopped_on", "stopped")}


# ---------------------------------------------------------------------------------------------
# Blood pressure


def test_blood_pressure_is_recorded_and_listed(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    path = f"{base(practice.client)}/blood-pressure"
    taken = "2026-01-05T09:30:00-05:00"
    body = {"systolic": 128, "diastolic": 82, "heart_rate": 70, "taken_at": taken}
    response = send(http, "post", path, body)
    assert response.status_code == 201
    assert response.json()["taken_by"] == str(practice.nurse)
    send(http, "post", path, {"systolic": 118, "diastolic": 76})
    listed = http.get(path).json()
    assert [(row["systolic"], row["diastolic"]) for row in listed] == [(118, 76), (128, 82)]
    assert AuditEvent.objects.filter(action="screening.bp_record", channel="api").count() == 2


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"systolic": 80, "diastolic": 90}, 400, {("diastolic", "diastolic_above_systolic")}),
        ({"systolic": 400, "diastolic": 90}, 400, {("systolic", "out_of_range")}),
        (
            {"systolic": 120, "diastolic": 80, "taken_at": "2026-01-05T09:30:00"},
            422,
            {("taken_at", "timezone_aware")},
        ),
        ({"systolic": "high", "diastolic": 80}, 422, {("systolic", "int_parsing")}),
    ],
)
def test_bad_blood_pressure_is_refused_and_nothing_saved(
    practice: Practice, body: dict[str, Any], status: int, expected: set[tuple[str, str]]
) -> None:
    http = signed_in(practice.nurse)
    before = counts()
    response = send(http, "post", f"{base(practice.client)}/blood-pressure", body)
    assert response.status_code == status
    assert errors(response) == expected
    assert counts() == before


def test_front_desk_cannot_change_screening_records(practice: Practice) -> None:
    http = signed_in(practice.front_desk)
    before = counts()
    response = send(
        http, "post", f"{base(practice.client)}/blood-pressure", {"systolic": 120, "diastolic": 80}
    )
    assert response.status_code == 400
    assert errors(response) == {("systolic", "not_clinician")}
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Contraindication answers


def test_answers_are_read_and_saved_whole(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    path = f"{base(practice.client)}/answers"
    empty = http.get(path).json()
    assert empty["answers"] == {}
    assert "psychosis" in empty["unanswered"]
    by_code = {question["code"]: question for question in empty["questions"]}
    assert by_code["sud"]["choices"] == ["none", "past", "current"]
    assert by_code["sud_last_use"]["asked_if"] == {"question": "sud", "answers": ["past"]}
    assert by_code["height_cm"]["unit"] == "cm"

    response = send(http, "put", path, {"answers": {"psychosis": "no", "sud": "past"}})
    assert response.status_code == 200
    assert response.json()["answers"] == {"psychosis": "no", "sud": "past"}
    assert "sud_last_use" in response.json()["unanswered"]
    response = send(http, "put", path, {"answers": {"psychosis": "no", "sud": None}})
    assert response.json()["answers"] == {"psychosis": "no"}
    assert http.get(base(practice.client)).json()["answers"] == {"psychosis": "no"}
    assert AuditEvent.objects.filter(action="screening.answers").count() == 2


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"psychosis": "maybe"}, {("answers.psychosis", "invalid_answer")}),
        ({"colour": "blue"}, {("answers.colour", "invalid_answer")}),
        ({"mania_current": "yes", "bipolar": "no"}, {("answers.bipolar", "invalid_answer")}),
        (
            {"sud": "none", "sud_last_use": "2020-01-01"},
            {("answers.sud_last_use", "invalid_answer")},
        ),
    ],
)
def test_bad_answers_are_refused_and_nothing_saved(
    practice: Practice, answers: dict[str, str], expected: set[tuple[str, str]]
) -> None:
    http = signed_in(practice.therapist)
    before = counts()
    response = send(http, "put", f"{base(practice.client)}/answers", {"answers": answers})
    assert response.status_code == 400
    assert errors(response) == expected
    assert counts() == before


def test_answers_must_be_text(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    before = counts()
    response = send(
        http, "put", f"{base(practice.client)}/answers", {"answers": {"height_cm": 170}}
    )
    assert response.status_code == 422
    assert errors(response) == {("answers.height_cm", "string_type")}
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Decisions


def test_a_prescriber_clears_the_screen_as_seen(practice: Practice) -> None:
    complete_screen(practice)
    http = signed_in(practice.prescriber)
    screen = http.get(base(practice.client)).json()
    assert screen["status"] in ("eligible", "needs_review"), screen["findings"]
    body = {
        "decision": "cleared_with_conditions",
        "conditions": "BP re-checked before each dose",
        "note": "Reviewed history and answers.",
        "seen_signature": screen["signature"],
    }
    response = send(http, "post", f"{base(practice.client)}/decisions", body)
    assert response.status_code == 201
    decision = response.json()
    assert decision["version"] == 1
    assert decision["decided_by"] == str(practice.prescriber)
    assert decision["screen_run_status"] == screen["status"]
    assert decision["invalidated_at"] is None
    assert [row["id"] for row in http.get(f"{base(practice.client)}/decisions").json()] == [
        decision["id"]
    ]
    after = http.get(base(practice.client)).json()
    assert after["clearance_valid"] is True
    assert after["decisions"][0]["conditions"] == "BP re-checked before each dose"
    event = AuditEvent.objects.get(action="screening.decision")
    assert (event.actor, event.channel) == (practice.prescriber, "api")

    # A new high reading changes the screen: the clearance is withdrawn, and the list says why.
    send(
        http, "post", f"{base(practice.client)}/blood-pressure", {"systolic": 190, "diastolic": 95}
    )
    withdrawn = http.get(f"{base(practice.client)}/decisions").json()[0]
    assert withdrawn["invalidated_at"] is not None
    assert withdrawn["invalidation_reason"]
    assert http.get(base(practice.client)).json()["clearance_valid"] is False


def test_a_non_prescriber_cannot_decide(practice: Practice) -> None:
    complete_screen(practice)
    http = signed_in(practice.therapist)
    signature = http.get(base(practice.client)).json()["signature"]
    before = counts()
    body = {"decision": "cleared", "note": "Looks fine.", "seen_signature": signature}
    response = send(http, "post", f"{base(practice.client)}/decisions", body)
    assert response.status_code == 400
    assert errors(response) == {("decision", "not_prescriber")}
    assert counts() == before


def test_a_decision_on_a_screen_that_changed_is_refused(practice: Practice) -> None:
    complete_screen(practice)
    http = signed_in(practice.prescriber)
    seen = http.get(base(practice.client)).json()["signature"]
    services.answers_save(
        actor=practice.nurse,
        client=practice.client,
        answers=negative_answers() | {"bladder": "yes"},
    )
    before = counts()
    body = {"decision": "cleared", "note": "Looks fine.", "seen_signature": seen}
    response = send(http, "post", f"{base(practice.client)}/decisions", body)
    assert response.status_code == 400
    assert errors(response) == {("decision", "screen_changed")}
    assert counts() == before


def test_a_decision_without_its_reasoning_is_refused(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    signature = http.get(base(practice.client)).json()["signature"]
    before = counts()
    body = {"decision": "not_cleared", "note": " ", "seen_signature": signature}
    response = send(http, "post", f"{base(practice.client)}/decisions", body)
    assert response.status_code == 400
    assert errors(response) == {("note", "required")}
    missing = send(http, "post", f"{base(practice.client)}/decisions", {"decision": "cleared"})
    assert missing.status_code == 422
    assert {("note", "missing"), ("seen_signature", "missing")} <= errors(missing)
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Reads, access and authentication


@pytest.mark.parametrize(
    ("path", "view"),
    [
        ("", "api.screening"),
        ("/episode", "api.screening.episode"),
        ("/history/trial", "api.screening.trial"),
        ("/history/augmentation", "api.screening.augmentation"),
        ("/history/ect", "api.screening.ect"),
        ("/history/psychotherapy", "api.screening.psychotherapy"),
        ("/medications", "api.screening.medications"),
        ("/blood-pressure", "api.screening.blood_pressure"),
        ("/answers", "api.screening.answers"),
        ("/decisions", "api.screening.decisions"),
    ],
)
def test_every_read_is_audited(practice: Practice, path: str, view: str) -> None:
    http = signed_in(practice.nurse)
    assert http.get(base(practice.client) + path).status_code == 200
    assert reads(practice.client) == [{"view": view}]


def test_reading_one_entry_is_audited(practice: Practice) -> None:
    trial = add_trial(practice)
    http = signed_in(practice.nurse)
    assert http.get(f"{base(practice.client)}/history/trial/{trial.public_id}").status_code == 200
    assert reads(practice.client) == [{"view": "api.screening.trial"}]


@pytest.mark.parametrize(
    "path", ["/history/trial", "/medications", "/blood-pressure", "/decisions"]
)
def test_lists_read_a_fixed_number_of_queries(practice: Practice, path: str) -> None:
    http = signed_in(practice.admin)
    client, sertraline = practice.client, medication("Sertraline")
    run = ScreenRun.objects.create(client=client, trigger="test", status="eligible", signature="x")
    version = 0

    def add_rows(count: int) -> None:
        nonlocal version
        AntidepressantTrial.objects.bulk_create(
            AntidepressantTrial(
                client=client,
                medication=sertraline,
                max_daily_dose_mg=100,
                started_on=dt.date(2025, 1, 1),
                adherence="good",
                outcome="response",
            )
            for _ in range(count)
        )
        CurrentMedication.objects.bulk_create(
            CurrentMedication(
                client=client, medication=sertraline, dose_amount=50, frequency="once_daily"
            )
            for _ in range(count)
        )
        BloodPressureReading.objects.bulk_create(
            BloodPressureReading(client=client, systolic=120, diastolic=80, taken_by=practice.nurse)
            for _ in range(count)
        )
        ScreeningDecision.objects.bulk_create(
            ScreeningDecision(
                client=client,
                version=version + n + 1,
                screen_run=run,
                decision="not_cleared",
                note="n",
                decided_by=practice.prescriber,
            )
            for n in range(count)
        )
        version += count

    add_rows(10)
    with CaptureQueriesContext(connection) as few:
        assert len(http.get(base(client) + path).json()) == 10
    add_rows(190)
    with CaptureQueriesContext(connection) as many:
        assert len(http.get(base(client) + path).json()) == 200
    assert len(many) == len(few)


def test_outsiders_get_404_and_change_nothing(practice: Practice) -> None:
    trial = add_trial(practice)
    http = signed_in(practice.outsider_prescriber)
    before = counts()
    root = base(practice.client)
    assert http.get(root).status_code == 404
    assert send(http, "post", f"{root}/history/trial", trial_body()).status_code == 404
    assert send(http, "put", f"{root}/episode", {"started_on": "2025-01-01"}).status_code == 404
    assert send(http, "put", f"{root}/answers", {"answers": {"psychosis": "no"}}).status_code == 404
    response = send(http, "post", f"{root}/history/trial/{trial.public_id}/remove", {"reason": "x"})
    assert response.status_code == 404
    assert errors(response) == {(None, "not_found")}
    body = {"decision": "not_cleared", "note": "n", "seen_signature": "x"}
    assert send(http, "post", f"{root}/decisions", body).status_code == 404
    assert counts() == before
    ghost = send(http, "post", f"{base(Client(public_id=uuid.uuid4()))}/decisions", body)
    assert ghost.json() == send(http, "post", f"{root}/decisions", body).json()


def test_a_token_works_without_a_session_or_csrf(practice: Practice) -> None:
    _, raw = api_token_create(actor=practice.nurse, name="intake script")
    http = HttpClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert http.get(base(practice.client)).status_code == 200
    response = send(
        http, "post", f"{base(practice.client)}/blood-pressure", {"systolic": 120, "diastolic": 80}
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="screening.bp_record")
    assert (event.actor, event.channel) == (practice.nurse, "api")
    key = HttpClient(HTTP_X_API_KEY=raw)
    assert key.get(f"{base(practice.client)}/answers").status_code == 200


def test_a_browser_session_write_needs_the_csrf_header(practice: Practice) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(practice.nurse)
    before = counts()
    response = send(
        http, "post", f"{base(practice.client)}/blood-pressure", {"systolic": 120, "diastolic": 80}
    )
    assert response.status_code == 403
    assert counts() == before


def test_signed_out_is_401(practice: Practice) -> None:
    http = HttpClient()
    for path in (base(practice.client), "/api/v1/medications", "/api/v1/parameters"):
        assert http.get(path).status_code == 401


# ---------------------------------------------------------------------------------------------
# The catalogue and the parameters


def test_the_catalogue_is_listed_for_any_staff(practice: Practice) -> None:
    rows = signed_in(practice.front_desk).get("/api/v1/medications").json()
    by_name = {row["name"]: row for row in rows}
    sertraline = by_name["Sertraline"]
    assert sertraline["id"] == str(medication("Sertraline").public_id)
    assert sertraline["kind"] == "antidepressant"
    assert sertraline["antidepressant_class"] == "ssri"
    assert decimal.Decimal(sertraline["min_adequate_daily_dose_mg"]) == 50
    assert sertraline["min_dose_source"]
    assert "benzodiazepine" in by_name["Lorazepam"]["interaction_categories"]
    Medication.objects.filter(name="Sertraline").update(active=False)
    http = signed_in(practice.front_desk)
    assert "Sertraline" not in {row["name"] for row in http.get("/api/v1/medications").json()}
    everything = http.get("/api/v1/medications?include_inactive=true").json()
    assert {"name": "Sertraline", "active": False}.items() <= {
        row["name"]: row for row in everything
    }["Sertraline"].items()
    assert not AuditEvent.objects.filter(action="client.read").exists()


def test_the_parameters_in_force_are_listed(practice: Practice) -> None:
    rows = signed_in(practice.therapist).get("/api/v1/parameters").json()
    by_key = {row["key"]: row for row in rows}
    weeks = by_key["trd.min_trial_weeks"]
    assert (weeks["value"], weeks["version"], weeks["is_default"]) == (6, 0, True)
    assert weeks["unit"] == "weeks"
    assert weeks["display"] == "6 weeks"
    assert weeks["source"].startswith("MGH-ATRQ")
    assert weeks["signed_off_by"] == ""
    assert by_key["class.bp_high"]["value"] == "relative"
    assert by_key["trd.partial_response_is_failure"]["kind"] == "choice"
