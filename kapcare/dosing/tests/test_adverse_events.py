"""Adverse events: structured record, serious ones highlighted until followed up, the queue and
its access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.dosing import selectors, services
from kapcare.dosing.models import AdverseEvent
from kapcare.dosing.tests.test_pre_check_and_dose import session_for
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def record(practice: Practice, seriousness: str, event: str = "Vomiting") -> AdverseEvent:
    return services.adverse_event_record(
        actor=practice.nurse,
        session=session_for(practice, "iv_racemic")
        if not AdverseEvent.objects.exists()
        else AdverseEvent.objects.first().session,  # type: ignore[union-attr]
        event=event,
        onset_at=now() - dt.timedelta(minutes=20),
        severity="moderate",
        seriousness=seriousness,
        related="related",
        action="Ondansetron 4 mg given",
    )


def test_a_serious_event_waits_for_follow_up_once(practice: Practice) -> None:
    serious = record(practice, "serious")
    mild = record(practice, "not_serious", "Headache")
    assert serious.awaits_follow_up
    assert not mild.awaits_follow_up
    assert selectors.serious_awaiting_follow_up(practice.therapist) == 1
    assert selectors.serious_awaiting_follow_up(practice.outsider) == 0
    assert selectors.serious_awaiting_follow_up(practice.front_desk) == 0
    assert [e.event for e in selectors.adverse_events_for(practice.nurse)] == [
        "Vomiting",
        "Headache",
    ]
    with pytest.raises(ValidationError) as raised:
        services.adverse_event_follow_up(actor=practice.nurse, event=serious, outcome=" ")
    assert raised.value.error_dict["outcome"][0].code == "required"  # type: ignore[attr-defined]
    done = services.adverse_event_follow_up(
        actor=practice.nurse, event=serious, outcome="Resolved by the evening call"
    )
    assert not done.awaits_follow_up
    assert selectors.serious_awaiting_follow_up(practice.therapist) == 0
    assert AuditEvent.objects.filter(action="dosing.adverse_event_follow_up").count() == 1
    with pytest.raises(ValidationError):
        services.adverse_event_follow_up(actor=practice.nurse, event=done, outcome="Again")


def test_the_queue_page_and_the_home_notice(practice: Practice) -> None:
    serious = record(practice, "serious")
    http = signed_in(practice.therapist)
    home = http.get("/").content.decode()
    assert "1 serious adverse event" in home
    page = http.get("/adverse-events/").content.decode()
    assert 'data-follow-up="waiting"' in page
    assert "Vomiting" in page
    assert (
        signed_in(practice.outsider).get("/adverse-events/").content.decode().count("Vomiting") == 0
    )
    assert signed_in(practice.front_desk).get("/adverse-events/").status_code == 404
    url = f"/clients/{practice.client.public_id}/adverse-events/{serious.public_id}/follow-up/"
    assert signed_in(practice.outsider).post(url, {"outcome": "x"}).status_code == 404
    response = http.post(url, {"outcome": "Settled; no further vomiting"})
    assert response.status_code == 302
    serious.refresh_from_db()
    assert serious.outcome == "Settled; no further vomiting"
    assert "serious adverse event" not in http.get("/").content.decode()


def test_follow_up_through_the_api(practice: Practice) -> None:
    import json

    serious = record(practice, "serious")
    base = f"/api/v1/clients/{practice.client.public_id}/adverse-events"
    http = signed_in(practice.nurse)
    [listed] = http.get(base).json()
    assert listed["followed_up_at"] is None
    url = f"{base}/{serious.public_id}/follow-up"
    empty = http.post(url, json.dumps({}), content_type="application/json")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "outcome"
    outsider = signed_in(practice.outsider_prescriber)
    assert (
        outsider.post(
            url, json.dumps({"outcome": "x"}), content_type="application/json"
        ).status_code
        == 404
    )
    done = http.post(url, json.dumps({"outcome": "Resolved"}), content_type="application/json")
    assert done.status_code == 200
    assert done.json()["followed_up_at"] is not None
    assert done.json()["outcome"] == "Resolved"
