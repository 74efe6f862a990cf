"""Instrument definitions and stateless scoring over the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from kapcare.core.models import AuditEvent
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def post_score(http: HttpClient, body: dict[str, Any]) -> Any:
    return http.post("/api/v1/score", json.dumps(body), content_type="application/json")


def test_the_library_is_listed(practice: Practice) -> None:
    response = signed_in(practice.nurse).get("/api/v1/instruments")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == set(INSTRUMENTS)
    assert rows["phq9"] == {
        "code": "phq9",
        "name": INSTRUMENTS["phq9"].name,
        "kind": "questionnaire",
        "items": 10,
        "total_range": [0, 27],
        "text_allowed": True,
    }
    assert rows["cssrs_screener"]["total_range"] is None
    assert rows["qids_sr16"]["text_allowed"] is False


def test_a_definition_carries_text_only_where_allowed(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    phq9 = http.get("/api/v1/instruments/phq9").json()
    assert [item["id"] for item in phq9["items"]] == list(INSTRUMENTS["phq9"].item_ids)
    assert phq9["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert phq9["loinc_total"] == "44261-6"
    cssrs = http.get("/api/v1/instruments/cssrs_screener").json()
    assert all("text" not in item for item in cssrs["items"])
    assert "stem" not in cssrs
    assert "Research Foundation for Mental Hygiene" in cssrs["licence"]


def test_unknown_instrument_definition_is_404(practice: Practice) -> None:
    response = signed_in(practice.therapist).get("/api/v1/instruments/phq10")
    assert response.status_code == 404
    assert response.json()["errors"][0]["rule"] == "not_found"


def test_scoring_returns_the_score_and_stores_nothing(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    before = AuditEvent.objects.count()
    answers = {f"q{n}": 1 for n in range(1, 10)}
    response = post_score(http, {"instrument": "phq9", "answers": answers})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "phq9",
        "total": 9,
        "band": "Mild",
        "complete": True,
        "prorated": False,
        "missing": [],
        "flags": ["suicide_item_positive"],
        "details": {},
        "scoring_version": "2026.1",
    }
    assert AuditEvent.objects.count() == before


def test_cssrs_and_pcl5_details(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    cssrs = post_score(
        http,
        {"instrument": "cssrs_screener", "answers": {"q1": 1, "q2": 0, "q6": 1, "q6_recent": 1}},
    ).json()
    assert (cssrs["band"], cssrs["details"], cssrs["flags"]) == (
        "High",
        {"risk": "high"},
        ["cssrs_risk_high"],
    )
    pcl5 = post_score(http, {"instrument": "pcl5", "answers": {f"q{n}": 2 for n in range(1, 21)}})
    assert pcl5.json()["details"]["provisional_ptsd"] is True


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"instrument": "phq10", "answers": {}}, [("instrument", "unknown_instrument")]),
        ({"instrument": "phq9", "answers": {"q1": 4}}, [("answers.q1", "out_of_range")]),
        ({"instrument": "phq9", "answers": {"q1": "2"}}, [("answers.q1", "not_integer")]),
        ({"instrument": "phq9", "answers": {"q1": True}}, [("answers.q1", "not_integer")]),
        ({"instrument": "phq9", "answers": {"q1": 1.5}}, [("answers.q1", "not_integer")]),
        ({"instrument": "phq9", "answers": {"q10": 1}}, [("answers.q10", "unknown_item")]),
        (
            {"instrument": "cssrs_screener", "answers": {"q1": 0, "q2": 0, "q3": 1, "q6": 0}},
            [("answers.q3", "skip_logic")],
        ),
    ],
)
def test_scoring_errors_are_422_with_the_item_and_rule(
    practice: Practice, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = post_score(signed_in(practice.nurse), body)
    assert response.status_code == 422
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == expected


def test_a_malformed_body_is_422_naming_the_field(practice: Practice) -> None:
    response = post_score(signed_in(practice.nurse), {"answers": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "instrument"


def test_signed_out_callers_cannot_score(db: None) -> None:
    response = post_score(HttpClient(), {"instrument": "phq9", "answers": {}})
    assert response.status_code == 401
    assert HttpClient().get("/api/v1/instruments").status_code == 401


# --- a client's administrations -------------------------------------------------------------


def admin_url(practice: Practice) -> str:
    return f"/api/v1/clients/{practice.client.public_id}/administrations"


def post_json(http: HttpClient, url: str, body: dict[str, Any]) -> Any:
    return http.post(url, json.dumps(body), content_type="application/json")


def test_recording_and_listing_administrations(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    answers = {f"q{n}": 2 for n in range(1, 8)}
    created = post_json(http, admin_url(practice), {"instrument": "gad7", "answers": answers})
    assert created.status_code == 201
    body = created.json()
    assert (body["total"], body["band"], body["source"], body["corrected"]) == (
        14,
        "Moderate",
        "clinic",
        False,
    )
    assert AuditEvent.objects.filter(action="measure.record", channel="api").count() == 1
    correction = post_json(
        http,
        admin_url(practice),
        {
            "instrument": "gad7",
            "answers": {f"q{n}": 1 for n in range(1, 8)},
            "replaces": body["id"],
            "correction_reason": "entered from the wrong sheet",
        },
    )
    assert correction.status_code == 201
    listing = http.get(admin_url(practice)).json()
    assert [(row["total"], row["corrected"]) for row in listing] == [(7, False), (14, True)]
    assert listing[0]["replaces"] == body["id"]
    assert AuditEvent.objects.filter(action="client.read", detail__view="api_measures").exists()


def test_answers_that_cannot_be_scored_are_422_and_nothing_is_saved(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    before = AuditEvent.objects.count()
    response = post_json(http, admin_url(practice), {"instrument": "phq9", "answers": {"q9": 9}})
    assert response.status_code == 422
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("answers.q9", "out_of_range")
    ]
    unknown = post_json(http, admin_url(practice), {"instrument": "nope", "answers": {}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["rule"] == "unknown_instrument"
    assert AuditEvent.objects.count() == before


def test_outsiders_cannot_see_or_record(practice: Practice) -> None:
    http = signed_in(practice.outsider)
    assert http.get(admin_url(practice)).status_code == 404
    response = post_json(
        http, admin_url(practice), {"instrument": "moaas", "answers": {"total": 5}}
    )
    assert response.status_code == 404
    assert not practice.client.administrations.exists()


def test_a_correction_must_name_an_administration_of_this_client(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    response = post_json(
        http,
        admin_url(practice),
        {
            "instrument": "moaas",
            "answers": {"total": 5},
            "replaces": "00000000-0000-0000-0000-000000000000",
            "correction_reason": "x",
        },
    )
    assert response.status_code == 404


def test_sending_a_link_through_the_api(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    from kapcare.measures.models import SelfReportLink

    http = signed_in(practice.therapist)
    url = f"/api/v1/clients/{practice.client.public_id}/self-report-links"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(http, url, {"instruments": ["phq9", "gad7"], "channel": "email"})
    assert response.status_code == 201
    body = response.json()
    assert (body["instruments"], body["channel"], body["state"]) == (
        ["phq9", "gad7"],
        "email",
        "sent",
    )
    assert "t=" not in response.content.decode()  # the secret goes to the client only
    assert len(mail.outbox) == 1
    refused = post_json(http, url, {"instruments": ["cssrs_screener"], "channel": "email"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {
        "field": "instruments",
        "rule": "not_sendable",
        "message": refused.json()["errors"][0]["message"],
    }
    assert SelfReportLink.objects.count() == 1
    outsider = post_json(
        signed_in(practice.outsider), url, {"instruments": ["phq9"], "channel": "email"}
    )
    assert outsider.status_code == 404
    listing = http.get(url).json()
    assert [(row["state"], row["instruments"]) for row in listing] == [("sent", ["phq9", "gad7"])]
    assert signed_in(practice.outsider).get(url).status_code == 404
