"""The risk flow in a real browser: the flag is seen, assessed on the chart, and closed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kapcare.measures.services import administration_record
from kapcare.safety.selectors import open_flags
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinician_sees_the_flag_and_closes_it_with_an_assessment(
    page: Page, live_server: object, practice: Practice
) -> None:
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="phq9",
        answers={**{f"q{n}": 1 for n in range(1, 9)}, "q9": 1},
    )
    base = str(live_server)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(practice.therapist.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    banner = page.get_by_role("alert").filter(has_text="open safety flag")
    expect(banner).to_contain_text("Same-day review")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(banner).to_be_visible()  # on every page, not only the home page
    banner.get_by_role("link", name="Jay Quinlan").click()

    safety = page.get_by_role("region", name="Safety", exact=True)
    expect(safety).to_contain_text("Suicide item above 0")
    safety.get_by_label("Low").check()
    safety.get_by_label("Actions taken").fill("Assessed in session; no plan or intent.")
    safety.get_by_label("Safety plan").fill("Written plan reviewed; crisis line confirmed.")
    safety.get_by_role("button", name="Record risk assessment").click()

    expect(page.get_by_role("status")).to_contain_text("Risk assessment recorded")
    expect(page.locator(".safety-banner")).to_have_count(0)
    expect(page.get_by_role("region", name="Safety", exact=True)).to_contain_text(
        "Written plan reviewed"
    )
    assert not open_flags(practice.client).exists()
