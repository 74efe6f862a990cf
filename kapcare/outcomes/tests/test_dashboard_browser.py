"""The program dashboard in a real browser: filters, the three charts drawn by Chart.js, a
figure's drill-down, and its CSV export behind the password confirmation."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401
from kapcare.outcomes.tests.test_dashboard import judged, summary
from kapcare.testing.factories import TEST_PASSWORD, make_client
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("KAPCARE_SCREENSHOTS", "")


def test_dashboard_charts_drill_down_and_csv(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
) -> None:
    others = [make_client() for _ in range(3)]
    summary(
        practice.client,
        protocol="iv_racemic",
        started_on=dt.date(2026, 2, 10),
        outcome=judged(22, 3, days_to_response=21),
        therapist=practice.therapist,
        dosing_sessions=6,
        integration_doses=6,
        integration_met=5,
        safety=[("side_effect", "nausea", "mild", 2)],
    )
    for index, client in enumerate(others):
        summary(
            client,
            protocol=["kap_sublingual", "esketamine", "kap_sublingual"][index],
            started_on=dt.date(2026, 3 + index, 5),
            outcome=judged(18, [15, 8, 4][index], days_to_response=[None, 35, 28][index]),
            dosing_sessions=4,
            adverse_events=1 if index == 1 else 0,
            safety=[("adverse_event", "non_serious", "moderate", 1)] if index == 1 else [],
        )
    base = str(live_server)
    sign_in(page, base, practice.admin)
    page.get_by_role("link", name="Outcomes").click()
    page.get_by_label("Courses started from").fill("2026-01-01")
    page.get_by_label("to", exact=True).fill("2026-06-30")
    page.get_by_role("button", name="Show").click()

    expect(page.locator('[data-figure="started"]')).to_have_text("4")
    # 3 of 4 courses responded (22→3, 18→8, 18→4); Wilson 95%: 30.1–95.4%.
    expect(page.locator('[data-figure="response"]')).to_have_text("75.0%")
    expect(page.get_by_text("30.1–95.4%")).to_be_visible()
    expect(page.locator('[data-figure="median-days"]')).to_have_text("28.0")
    for chart in ("protocols", "months", "safety"):
        canvas = page.locator(f'canvas[data-dashboard-chart="{chart}"]')
        expect(canvas).to_be_visible()
        assert page.evaluate(
            "(name) => !!Chart.getChart(document.querySelector("
            '`canvas[data-dashboard-chart="${name}"]`))',
            chart,
        ), chart
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "dashboard.png"), full_page=True)

    page.locator('[data-figure="response"] a').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Responders")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("link", name=practice.client.display_name)).to_be_visible()

    with page.expect_navigation():
        page.get_by_test_id("export-csv").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your password to export")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Confirm").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.splitlines()[0].startswith("client_id,client,")
    assert len(content.splitlines()) == 4  # the header and the three responders
    assert str(practice.client.public_id) in content
    assert console_problems == []
