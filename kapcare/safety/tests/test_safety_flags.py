"""Suicide-risk answers raise a flag that the team is told about and that only a recorded risk
assessment closes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.measures.services import administration_record
from kapcare.safety.models import SafetyFlag, Severity
from kapcare.safety.rules import severity_for
from kapcare.safety.selectors import blocks_dosing, open_flags, open_flags_for
from kapcare.safety.services import risk_assessment_record
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

PHQ9_ITEM9_1 = {**{f"q{n}": 0 for n in range(1, 9)}, "q9": 1}


@pytest.mark.parametrize(
    ("flags", "severity"),
    [
        ([], None),
        (["gad7_positive_screen"], None),
        (["suicide_item_positive"], Severity.REVIEW),
        (["suicide_item_missing"], Severity.REVIEW),
        (["cssrs_risk_low"], None),
        (["cssrs_risk_moderate"], Severity.MODERATE),
        (["cssrs_risk_high"], Severity.HIGH),
        (["suicide_item_positive", "cssrs_risk_high"], Severity.HIGH),
    ],
)
def test_which_answers_raise_a_flag(flags: list[str], severity: Severity | None) -> None:
    assert severity_for(flags) == severity


def test_item9_of_1_raises_a_flag_in_the_same_transaction(practice: Practice) -> None:
    administration = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9_ITEM9_1
    )
    flag = SafetyFlag.objects.get()
    assert (flag.client, flag.severity, flag.source_administration) == (
        practice.client,
        Severity.REVIEW,
        administration,
    )
    assert "Suicide item above 0" in flag.reason
    assert flag.is_open
    assert blocks_dosing(practice.client)
    assert AuditEvent.objects.filter(action="safety_flag.raise").count() == 1


def test_no_flag_for_answers_without_risk(practice: Practice) -> None:
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="phq9",
        answers={f"q{n}": 3 for n in range(1, 9)} | {"q9": 0},
    )
    assert not SafetyFlag.objects.exists()
    assert not blocks_dosing(practice.client)


@pytest.mark.django_db(transaction=True)
def test_the_worker_emails_the_clinicians_without_naming_the_client(
    practice: Practice, run_worker: Callable[..., None]
) -> None:
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="cssrs_screener",
        answers={"q1": 1, "q2": 1, "q3": 0, "q4": 1, "q5": 0, "q6": 0},
    )
    assert SafetyFlag.objects.get().severity == Severity.HIGH
    mail.outbox.clear()
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(
        [practice.therapist.email, practice.prescriber.email, practice.nurse.email]
    )
    assert practice.front_desk.email not in message.to
    body = message.subject + message.body
    assert str(practice.client.public_id) in body  # the link
    for private in (practice.client.legal_family_name, practice.client.legal_given_names, "C-SSRS"):
        assert private not in body


def test_only_a_risk_assessment_closes_the_flags(practice: Practice) -> None:
    for _ in range(2):
        administration_record(
            actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9_ITEM9_1
        )
    assert open_flags(practice.client).count() == 2
    with pytest.raises(ValidationError) as raised:
        risk_assessment_record(
            actor=practice.therapist,
            client=practice.client,
            risk_level="low",
            actions="  ",
            safety_plan="Reviewed",
        )
    assert "actions" in raised.value.error_dict
    assert open_flags(practice.client).count() == 2
    assessment = risk_assessment_record(
        actor=practice.therapist,
        client=practice.client,
        risk_level="low",
        actions="Discussed thoughts; no plan or intent. Prescriber informed.",
        safety_plan="Reviewed the written safety plan; crisis line number confirmed.",
    )
    assert not open_flags(practice.client).exists()
    assert not blocks_dosing(practice.client)
    closed = SafetyFlag.objects.all()
    assert {flag.closing_assessment for flag in closed} == {assessment}
    assert {flag.closed_by for flag in closed} == {practice.therapist}
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("safety_flag.close") == 2
    assert actions.count("risk_assessment.record") == 1


def test_front_desk_cannot_record_a_risk_assessment(practice: Practice) -> None:
    administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9_ITEM9_1
    )
    with pytest.raises(ValidationError) as raised:
        risk_assessment_record(
            actor=practice.front_desk,
            client=practice.client,
            risk_level="none",
            actions="x",
            safety_plan="x",
        )
    assert raised.value.error_dict["risk_level"][0].code == "not_clinician"
    assert open_flags(practice.client).count() == 1


def test_the_banner_shows_on_every_page_for_the_team_only(practice: Practice) -> None:
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="cssrs_screener",
        answers={"q1": 0, "q2": 0, "q6": 1, "q6_recent": 0},
    )
    for page in ("/", "/clients/", "/accounts/password/"):
        body = signed_in(practice.front_desk).get(page).content.decode()
        assert "1 open safety flag" in body, page
        assert "Moderate risk" in body
        assert "Jay Quinlan" in body
    outsider_home = signed_in(practice.outsider).get("/").content.decode()
    assert "open safety flag" not in outsider_home
    assert "Quinlan" not in outsider_home
    assert [flag.client for flag in open_flags_for(practice.admin)] == [practice.client]


def test_the_banner_costs_the_same_queries_however_many_flags(practice: Practice) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kapcare.testing.factories import make_client, make_member

    def raise_flag(client: object) -> None:
        administration_record(
            actor=practice.nurse,
            client=client,
            instrument="cssrs_screener",
            answers={"q1": 0, "q2": 0, "q6": 1, "q6_recent": 0},
        )

    def queries_for_home() -> tuple[int, str]:
        http = signed_in(practice.front_desk)
        with CaptureQueriesContext(connection) as captured:
            body = http.get("/").content.decode()
        return len(captured), body

    raise_flag(practice.client)
    one, _ = queries_for_home()
    for number in range(3):
        other = make_client(preferred_name=f"Banner{number}")
        make_member(client=other, staff=practice.front_desk, role="coordinator")
        raise_flag(other)
    four, body = queries_for_home()
    assert "4 open safety flags" in body
    assert all(f"Banner{number} " in body for number in range(3))
    assert four == one


def test_recording_an_assessment_from_the_chart(practice: Practice) -> None:
    administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9_ITEM9_1
    )
    url = f"/clients/{practice.client.public_id}/risk-assessments/"
    chart = signed_in(practice.therapist).get(f"/clients/{practice.client.public_id}/")
    assert "Record risk assessment" in chart.content.decode()
    front_desk_chart = signed_in(practice.front_desk).get(f"/clients/{practice.client.public_id}/")
    assert "A therapist, prescriber or nurse records" in front_desk_chart.content.decode()
    bad = signed_in(practice.therapist).post(url, {"risk_level": "low", "actions": ""})
    assert bad.status_code == 400
    assert open_flags(practice.client).exists()
    response = signed_in(practice.therapist).post(
        url,
        {"risk_level": "low", "actions": "Assessed in session", "safety_plan": "Plan reviewed"},
    )
    assert response.status_code == 302
    assert not open_flags(practice.client).exists()
    assert "open safety flag" not in signed_in(practice.therapist).get("/").content.decode()
    assert signed_in(practice.outsider).post(url, {}).status_code == 404


def test_flags_and_assessments_through_the_api(practice: Practice) -> None:
    import json

    administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=PHQ9_ITEM9_1
    )
    http = signed_in(practice.prescriber)
    base = f"/api/v1/clients/{practice.client.public_id}"
    flags = http.get(f"{base}/safety-flags?open=true").json()
    assert [(flag["severity"], flag["open"]) for flag in flags] == [("review", True)]
    bad = http.post(
        f"{base}/risk-assessments",
        json.dumps({"risk_level": "extreme", "actions": "x", "safety_plan": "y"}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "risk_level"
    done = http.post(
        f"{base}/risk-assessments",
        json.dumps(
            {"risk_level": "low", "actions": "Called the client", "safety_plan": "Reviewed"}
        ),
        content_type="application/json",
    )
    assert done.status_code == 201
    assert done.json()["closed_flags"] == [flags[0]["id"]]
    assert http.get(f"{base}/safety-flags?open=true").json() == []
    assert len(http.get(f"{base}/safety-flags").json()) == 1
    assert signed_in(practice.outsider).get(f"{base}/safety-flags").status_code == 404
    [assessment] = http.get(f"{base}/risk-assessments").json()
    assert (assessment["risk_level"], assessment["actions"]) == ("low", "Called the client")
