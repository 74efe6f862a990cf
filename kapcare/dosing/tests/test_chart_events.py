"""A dosing session shows on the chart's timeline, as a marker on the measure charts and on
the course plan; the timeline and markers are for clinicians only."""

from __future__ import annotations

import datetime as dt
import json

from django.test import Client as HttpClient

from kapcare.core.time import now
from kapcare.dosing.tests.test_discharge_and_flags import dosed, vitals
from kapcare.measures.services import administration_record
from kapcare.testing.personas import Practice


def page(practice: Practice, who: str, path: str) -> str:
    http = HttpClient()
    http.force_login(getattr(practice, who))
    response = http.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_dose_is_on_the_timeline_the_charts_and_the_plan(practice: Practice) -> None:
    session = dosed(practice, "iv_racemic", minutes_ago=30)
    vitals(practice, session, 20, "186/104")
    # A PHQ-9 a week before, so the dose falls inside the chart's span.
    administration_record(
        actor=practice.therapist,
        client=practice.client,
        instrument="phq9",
        answers={f"q{i}": 2 for i in range(1, 10)} | {"q9": 0},
        completed_at=now() - dt.timedelta(days=7),
    )
    chart = page(practice, "nurse", f"/clients/{practice.client.public_id}/")
    assert "Dose 35 mg intravenous infusion (0.5 mg/kg) · dosed, monitoring" in chart
    assert "1 vital-signs flag" in chart
    start = chart.index('id="phq9-trajectory"')
    data = json.loads(chart[chart.index(">", start) + 1 : chart.index("</script>", start)])
    assert [marker["label"] for marker in data["markers"]] == ["35 mg intravenous"]
    assert "Dashed lines: the 1 dose given" in chart
    plan = page(practice, "therapist", f"/clients/{practice.client.public_id}/course/")
    assert "Dosing session: Dosed, monitoring · 35 mg intravenous infusion (0.5 mg/kg)" in plan
    assert f"/dosing/{session.public_id}/" in plan


def test_front_desk_sees_no_dose_on_the_chart(practice: Practice) -> None:
    dosed(practice, "iv_racemic", minutes_ago=30)
    chart = page(practice, "front_desk", f"/clients/{practice.client.public_id}/")
    assert "intravenous infusion" not in chart
    assert '"markers": []' in chart or "Dashed lines" not in chart
