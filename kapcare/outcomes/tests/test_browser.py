"""The progress page in a real browser: from the chart's header line to the page, the trajectory
drawn by Chart.js, and the treatment summary PDF downloaded after confirming the password."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401 (fixture)
from kapcare.core.models import AuditEvent
from kapcare.outcomes.tests.helpers import course, days_ago, dose, integration, score
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_progress_page_draws_the_chart_and_downloads_the_summary(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811 (the fixture imported above)
) -> None:
    base = str(live_server)
    current = course(practice.client, started_days_ago=60)
    for days, total in ((59, 18), (30, 11), (2, 7)):
        score(practice.client, total, days_ago(days))
    for days in (50, 40):
        dose(current, practice.nurse, practice.therapist, at=days_ago(days))
        integration(current, practice.therapist, at=days_ago(days - 1))

    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/")
    line = page.get_by_test_id("progress-line")
    expect(line).to_contain_text("PHQ-9 18 → 7")
    expect(line).to_contain_text("2 doses · integration 2/2")
    line.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Progress: Jay Quinlan")
    phq9 = page.locator('section[data-instrument="phq9"]')
    expect(phq9.get_by_test_id("baseline")).to_have_text("18")
    expect(phq9.get_by_test_id("previous")).to_have_text("11")
    expect(phq9.get_by_test_id("latest")).to_have_text("7")
    expect(phq9).to_contain_text("Response: ≥50% reduction from baseline (clinical-facts §6.2)")
    canvas = phq9.locator("canvas[data-trajectory]")
    expect(canvas).to_have_count(1)
    # Chart.js attached a chart to the canvas and drew the three scores.
    drawn = page.evaluate(
        "() => { const canvas = document.querySelector('canvas[data-trajectory]');"
        " const chart = window.Chart.getChart(canvas);"
        " return chart ? chart.data.datasets[0].data.length : -1; }"
    )
    assert drawn == 3

    page.get_by_test_id("summary-pdf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your password to export")
    expect(page.get_by_text("You are about to download the treatment summary")).to_be_visible()
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Confirm").click()
    download = download_info.value
    assert download.suggested_filename.startswith("treatment-summary-")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
    assert AuditEvent.objects.filter(
        action="outcomes.summary_pdf", actor=practice.therapist
    ).exists()
    assert console_problems == []
