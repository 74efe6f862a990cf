"""The progress page, the progress line in the chart's header and the treatment summary PDF:
what they show and to whom, outsiders' 404, the audit of each look and export, fresh
re-authentication before the PDF, and query counts that do not grow with the history."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.reauth import reauthenticate_url
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.outcomes.progress import MINUS, adverse_events_during, client_progress
from kapcare.outcomes.summary_pdf import summary_pdf
from kapcare.outcomes.tests.helpers import course, days_ago, dose, integration, score
from kapcare.testing.http import reauthenticated, signed_in
from kapcare.testing.personas import Practice


def progress_url(practice: Practice) -> str:
    return f"/clients/{practice.client.public_id}/progress/"


def pdf_url(practice: Practice) -> str:
    return f"/clients/{practice.client.public_id}/progress/summary.pdf"


def treated(practice: Practice) -> Course:
    """A course 60 days in: PHQ-9 18 → 11 → 7, GAD-7 twice, four doses each integrated."""
    client = practice.client
    current = course(client, started_days_ago=60)
    score(client, 18, days_ago(59))
    score(client, 11, days_ago(30))
    score(client, 7, days_ago(2))
    score(client, 14, days_ago(59), instrument="gad7")
    score(client, 6, days_ago(2), instrument="gad7")
    for days in (50, 40, 30, 20):
        dose(current, practice.nurse, practice.therapist, at=days_ago(days))
        integration(current, practice.therapist, at=days_ago(days - 1))
    return current


class TestProgressPage:
    def test_the_figures_with_their_definitions(self, practice: Practice) -> None:
        treated(practice)
        response = signed_in(practice.therapist).get(progress_url(practice))
        assert response.status_code == 200
        body = response.content.decode()
        section = body.split('data-instrument="phq9"')[1].split("</section>")[0]
        assert re.search(r'data-testid="baseline">18<', section)
        assert re.search(r'data-testid="previous">11<', section)
        assert re.search(r'data-testid="latest">7<', section)
        assert f"{MINUS}11 ({MINUS}61.1%)" in section
        assert "Response: ≥50% reduction from baseline (clinical-facts §6.2)" in section
        assert "Remission: total ≤4 (PHQ-9 &lt;5: SUSTAIN-3 definitions; clinical-facts §6.2)" in (
            section
        )
        assert "not in remission" in section
        assert "No score at or below the remission threshold yet." in section  # durability
        assert "3 months (91 days)" in section
        assert "6 months (182 days)" in section
        gad7 = body.split('data-instrument="gad7"')[1].split("</section>")[0]
        assert "Not defined for GAD-7" in gad7
        assert re.search(r'data-testid="doses-received">4<', body)
        assert re.search(r'data-testid="integration-adherence">4 / 4<', body)
        assert f'href="{pdf_url(practice)}"' in body

    def test_the_chart_data_is_the_courses_trajectory_with_the_doses(
        self, practice: Practice
    ) -> None:
        treated(practice)
        body = signed_in(practice.therapist).get(progress_url(practice)).content.decode()
        assert 'data-trajectory="phq9-progress"' in body
        data = json.loads(
            re.search(r'<script id="phq9-progress" type="application/json">(.*?)</script>', body)[1]
        )
        assert [point["total"] for point in data["points"]] == [18, 11, 7]
        assert len(data["markers"]) == 4
        assert (data["baseline"], data["remission_at"]) == (18, 4)

    def test_the_front_desk_sees_the_scores_not_the_doses(self, practice: Practice) -> None:
        treated(practice)
        body = signed_in(practice.front_desk).get(progress_url(practice)).content.decode()
        assert re.search(r'data-testid="latest">7<', body)
        assert "doses-received" not in body
        assert pdf_url(practice) not in body
        data = re.search(r'<script id="phq9-progress" type="application/json">(.*?)</script>', body)
        assert data is not None
        assert json.loads(data[1])["markers"] == []

    def test_a_client_without_a_course_or_scores(self, practice: Practice) -> None:
        body = signed_in(practice.therapist).get(progress_url(practice)).content.decode()
        assert "No treatment course yet" in body
        assert "No scores recorded yet." in body

    @pytest.mark.parametrize("who", ["outsider", "outsider_prescriber"])
    def test_outsiders_get_404_and_nothing_is_audited(self, practice: Practice, who: str) -> None:
        treated(practice)
        assert signed_in(getattr(practice, who)).get(progress_url(practice)).status_code == 404
        assert (
            signed_in(practice.therapist).get(f"/clients/{uuid.uuid4()}/progress/").status_code
            == 404
        )
        assert not AuditEvent.objects.filter(action="client.read").exists()

    def test_each_look_is_a_chart_read(self, practice: Practice) -> None:
        signed_in(practice.prescriber).get(progress_url(practice))
        event = AuditEvent.objects.get(action="client.read")
        assert event.actor == practice.prescriber
        assert event.client_public_id == practice.client.public_id
        assert event.detail == {"view": "progress"}

    def test_the_query_count_does_not_grow_with_the_history(self, practice: Practice) -> None:
        client = practice.client
        current = course(client, started_days_ago=200)
        http = signed_in(practice.therapist)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get(progress_url(practice)).status_code == 200
            return len(captured)

        for n in range(3):
            score(client, 20 - n, days_ago(190 - n), instrument=("phq9", "gad7", "qids_sr16")[n])
        dose(current, practice.nurse, practice.therapist, at=days_ago(185))
        few = queries()
        for n in range(27):
            score(
                client, 5 + n % 10, days_ago(180 - n), instrument=("phq9", "gad7", "madrs")[n % 3]
            )
        for n in range(6):
            dose(current, practice.nurse, practice.therapist, at=days_ago(150 - 10 * n))
            integration(current, practice.therapist, at=days_ago(149 - 10 * n))
        assert queries() == few


class TestChartHeader:
    def test_clinicians_see_the_progress_line_linking_to_the_page(self, practice: Practice) -> None:
        treated(practice)
        body = signed_in(practice.nurse).get(f"/clients/{practice.client.public_id}/").content
        line = re.search(
            r'<a class="small" href="([^"]+)" data-testid="progress-line"[^>]*>([^<]+)</a>',
            body.decode(),
        )
        assert line is not None
        assert line[1] == progress_url(practice)
        assert line[2] == (
            f"PHQ-9 18 → 7 ({MINUS}61.1%) · response · not in remission · 4 doses · integration 4/4"
        )

    def test_others_on_the_chart_do_not(self, practice: Practice) -> None:
        treated(practice)
        for user in (practice.front_desk, practice.admin):
            body = signed_in(user).get(f"/clients/{practice.client.public_id}/").content.decode()
            assert "progress-line" not in body

    def test_the_chart_queries_do_not_grow_with_the_course(self, practice: Practice) -> None:
        current = course(practice.client, started_days_ago=100)
        http = signed_in(practice.therapist)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get(f"/clients/{practice.client.public_id}/").status_code == 200
            return len(captured)

        score(practice.client, 20, days_ago(99))
        dose(current, practice.nurse, practice.therapist, at=days_ago(90))
        few = queries()
        for n in range(20):
            score(practice.client, 10, days_ago(80 - n))
        for n in range(4):
            dose(current, practice.nurse, practice.therapist, at=days_ago(60 - 10 * n))
            integration(current, practice.therapist, at=days_ago(59 - 10 * n))
        assert queries() == few


class TestSummaryPdf:
    def test_it_asks_for_the_password_again_first(self, practice: Practice) -> None:
        treated(practice)
        response = signed_in(practice.therapist).get(pdf_url(practice))
        assert response.status_code == 302
        assert response["Location"] == reauthenticate_url(pdf_url(practice))
        assert not AuditEvent.objects.filter(action="outcomes.summary_pdf").exists()

    def test_the_pdf_is_downloaded_and_audited(self, practice: Practice) -> None:
        current = treated(practice)
        response = reauthenticated(signed_in(practice.prescriber)).get(pdf_url(practice))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "no-store"
        disposition = response["Content-Disposition"]
        assert disposition.startswith('attachment; filename="treatment-summary-')
        assert "Quinlan" not in disposition
        assert response.content.startswith(b"%PDF")
        event = AuditEvent.objects.get(action="outcomes.summary_pdf")
        assert event.actor == practice.prescriber
        assert event.subject_type == "client"
        assert event.subject_public_id == practice.client.public_id
        assert event.client_public_id == practice.client.public_id
        assert event.detail == {"format": "pdf", "course": str(current.public_id)}

    @pytest.mark.parametrize("who", ["outsider", "outsider_prescriber", "front_desk", "admin"])
    def test_others_get_404(self, practice: Practice, who: str) -> None:
        treated(practice)
        response = reauthenticated(signed_in(getattr(practice, who))).get(pdf_url(practice))
        assert response.status_code == 404
        assert not AuditEvent.objects.filter(action="outcomes.summary_pdf").exists()

    def test_what_the_summary_says(self, practice: Practice) -> None:
        from kapcare.dosing.models import AdverseEvent

        treated(practice)
        practice.client.referring_provider = "Dr. Ada Referrer"
        practice.client.save()
        AdverseEvent.objects.create(
            client=practice.client,
            event="Vomiting",
            onset_at=days_ago(40),
            severity="moderate",
            seriousness="not_serious",
            related="related",
        )
        progress = client_progress(practice.client, now=now())
        raw = summary_pdf(progress, adverse_events_during(progress), compress=False)
        # The page text as it stands in the content streams (brackets are escaped there).
        text = raw.decode("latin-1").replace("\\(", "(").replace("\\)", ")")
        born = f"{practice.client.date_of_birth:%Y-%m-%d}"
        for expected in (
            "Treatment summary: Jamie Quinlan",
            born,
            "Dr. Ada Referrer",
            "KAP, sublingual lozenge",
            "Sublingual / lozenge",
            "Induction",
            "Doses received (4)",
            "200 mg",
            "4 of 4 doses judged were followed by a held integration session within 72 hours",
            "1 recorded during the course, 0 serious.",
            "-11 (-61.1%)",
            "=50% reduction from baseline (clinical-facts",
            "PHQ-9 total by day from the baseline",
            "remission <= 4",
        ):
            assert expected in text, expected
