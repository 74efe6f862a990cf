"""Recording questionnaires from the chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.measures.models import Administration
from kapcare.measures.services import administration_record
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def local_now() -> str:
    """What a datetime-local field shows: the practice's wall-clock time."""
    return timezone.localtime(now()).strftime("%Y-%m-%dT%H:%M")


def url(practice: Practice, instrument: str = "") -> str:
    base = f"/clients/{practice.client.public_id}/measures/new/"
    return f"{base}?instrument={instrument}" if instrument else base


def phq9_form(**answers: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"q{n}": "1" for n in range(1, 10)}
    data["q9"] = "0"
    data["completed_at"] = local_now()
    data.update(answers)
    return data


def test_the_chooser_lists_every_instrument(practice: Practice) -> None:
    response = signed_in(practice.nurse).get(url(practice))
    assert response.status_code == 200
    body = response.content.decode()
    for code in ("phq9", "gad7", "qids_sr16", "pcl5", "ace", "cssrs_screener", "madrs"):
        assert f"?instrument={code}" in body


def test_the_phq9_form_shows_the_wording_and_options(practice: Practice) -> None:
    body = signed_in(practice.nurse).get(url(practice, "phq9")).content.decode()
    assert "Thoughts that you would be better off dead" in body
    assert "More than half the days" in body


def test_licensed_wording_is_not_shown(practice: Practice) -> None:
    body = signed_in(practice.nurse).get(url(practice, "cssrs_screener")).content.decode()
    assert "Wish to be dead" in body  # the label
    assert "licensed" in body


def test_recording_from_the_form(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    response = http.post(url(practice, "phq9"), phq9_form())
    assert response.status_code == 302
    administration = Administration.objects.get()
    assert (administration.total, administration.band) == (8, "Mild")
    assert administration.entered_by == practice.nurse
    chart = http.get(response["Location"])
    body = chart.content.decode()
    assert "8 (Mild) recorded" in body
    assert "baseline" in body


def test_a_positive_item9_warns_at_once(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    response = http.post(url(practice, "phq9"), phq9_form(q9="2"), follow=True)
    assert "same-day suicide-risk assessment" in response.content.decode()
    assert Administration.objects.get().flags == ["suicide_item_positive"]


def test_bad_input_is_shown_on_the_item_and_nothing_saved(practice: Practice) -> None:
    http = signed_in(practice.nurse)
    before = AuditEvent.objects.count()
    response = http.post(url(practice, "phq9"), phq9_form(q1="7"))
    assert response.status_code == 400
    assert "q1" in response.context["form"].errors
    response = http.post(
        url(practice, "cssrs_screener"),
        {"q1": "0", "q2": "0", "q4": "1", "q6": "0", "completed_at": phq9_form()["completed_at"]},
    )
    assert response.status_code == 400
    assert "asked only when q2 is yes" in " ".join(response.context["form"].errors["q4"])
    future = timezone.localtime(now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = http.post(url(practice, "phq9"), phq9_form(completed_at=future))
    assert response.status_code == 400
    assert "completed_at" in response.context["form"].errors
    assert not Administration.objects.exists()
    assert AuditEvent.objects.count() == before


def test_score_entry_uses_a_number_box(practice: Practice) -> None:
    http = signed_in(practice.prescriber)
    page = http.get(url(practice, "madrs")).content.decode()
    assert 'type="number"' in page
    response = http.post(
        url(practice, "madrs"), {"total": "36", "completed_at": phq9_form()["completed_at"]}
    )
    assert response.status_code == 302
    assert Administration.objects.get().band == "Severe"


def test_viewing_and_correcting_a_form(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    original = administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="gad7",
        answers=dict.fromkeys([f"q{n}" for n in range(1, 8)], 3),
    )
    detail = f"/clients/{practice.client.public_id}/measures/{original.public_id}/"
    page = http.get(detail)
    assert page.status_code == 200
    assert "Correct this form" in page.content.decode()
    assert AuditEvent.objects.filter(action="client.read", detail__view="measure").exists()
    correct_url = f"{url(practice, 'gad7')}&replaces={original.public_id}"
    form = http.get(correct_url)
    assert form.context["form"].initial["q1"] == 3  # the original answers are filled in
    data = {f"q{n}": "1" for n in range(1, 8)}
    data["completed_at"] = local_now()
    missing_reason = http.post(correct_url, data)
    assert missing_reason.status_code == 400
    data["correction_reason"] = "Answers were shifted by one row"
    assert http.post(correct_url, data).status_code == 302
    assert list(Administration.objects.current().values_list("total", flat=True)) == [7]
    assert "Corrected." in http.get(detail).content.decode()
    assert http.get(f"{url(practice, 'gad7')}&replaces=not-a-uuid").status_code == 404


def test_chart_queries_stay_flat_as_measures_accumulate(practice: Practice) -> None:
    http = signed_in(practice.therapist)
    chart = f"/clients/{practice.client.public_id}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get(chart).status_code == 200
        return len(captured)

    administration_record(
        actor=practice.nurse, client=practice.client, instrument="moaas", answers={"total": 5}
    )
    few = queries()
    for days in range(30):
        for instrument, answers in (
            ("phq9", {f"q{n}": days % 4 for n in range(1, 10)}),
            ("madrs", {"total": days}),
        ):
            administration_record(
                actor=practice.nurse,
                client=practice.client,
                instrument=instrument,
                answers=answers,
                completed_at=now() - dt.timedelta(days=60 - days),
            )
    assert queries() == few
