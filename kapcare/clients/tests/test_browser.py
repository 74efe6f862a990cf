"""The client pages in a real browser (Chromium via Playwright) against a live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_problems(page: Page) -> list[str]:
    """Errors and CSP violations the browser reports while a test runs (should be none)."""
    problems: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" and "status of 400" not in message.text:
            problems.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def sign_in(page: Page, base: str, user: User, password: str = TEST_PASSWORD) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_wrong_then_right(
    page: Page, live_server: object, practice: Practice, console_problems: list[str]
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.therapist, password="not-the-password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    sign_in(page, base, practice.therapist)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    expect(page.get_by_role("link", name="Jay Quinlan")).to_be_visible()
    assert console_problems == []


def test_search_updates_results_as_you_type_and_opens_the_chart(
    page: Page, live_server: object, practice: Practice, console_problems: list[str]
) -> None:
    base = str(live_server)
    Client.objects.create(
        legal_given_names="Morgan",
        legal_family_name="Albright",
        date_of_birth=practice.client.date_of_birth,
        sex_at_birth="male",
    ).care_team.create(staff=practice.therapist, role="therapist")
    sign_in(page, base, practice.therapist)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    results = page.locator("#client-results")
    expect(results).to_contain_text("Albright")
    expect(results).to_contain_text("Quinlan")
    page.get_by_role("searchbox", name="Search").fill("quinl")
    # htmx swaps the results in place: no submit, no full page load.
    expect(results).not_to_contain_text("Albright")
    expect(results).to_contain_text("Quinlan")
    expect(page).to_have_url(f"{base}/clients/?q=quinl&status=&clinician=")
    page.get_by_role("link", name="Quinlan, Jamie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jay Quinlan")
    expect(page.get_by_role("heading", name="Care team")).to_be_visible()
    assert console_problems == []


def test_create_a_client(
    page: Page, live_server: object, practice: Practice, console_problems: list[str]
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.front_desk)
    page.goto(f"{base}/clients/new/")
    page.get_by_label("Legal given name(s)").fill("Ines")
    page.get_by_label("Legal family name").fill("Marchetti")
    page.get_by_label("Date of birth").fill("1979-11-02")
    page.get_by_label("Sex assigned at birth").select_option("female")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_label(re.compile(r"^Phone:?$")).fill("(555) 555-0177")
    page.get_by_label("Primary therapist").select_option(label=practice.therapist.display_name)
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("status")).to_contain_text("Ines Marchetti was added")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ines Marchetti")
    client = Client.objects.get(legal_family_name="Marchetti")
    assert set(client.care_team.values_list("staff__username", flat=True)) == {
        practice.therapist.username,
        practice.front_desk.username,
    }
    assert console_problems == []


def test_a_bad_form_shows_its_errors_and_saves_nothing(
    page: Page, live_server: object, practice: Practice, console_problems: list[str]
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/new/")
    page.get_by_label("Legal given name(s)").fill("Future")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("alert")).to_contain_text("The client was not saved")
    family = page.get_by_label("Legal family name")
    expect(family).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    expect(page.get_by_text("A date of birth cannot be in the future.")).to_be_visible()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    # What was typed is kept, so only the mistakes need fixing.
    expect(page.get_by_label("Legal given name(s)")).to_have_value("Future")
    assert not Client.objects.filter(legal_given_names="Future").exists()
    assert console_problems == []


def test_outsider_sees_not_found_for_a_chart(
    page: Page, live_server: object, practice: Practice
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.outsider)
    response = page.goto(f"{base}/clients/{practice.client.public_id}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("body")).not_to_contain_text("Quinlan")


def test_keyboard_user_can_skip_to_content(
    page: Page, live_server: object, practice: Practice
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.nurse)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_add_a_colleague_to_the_care_team_from_the_chart(
    page: Page, live_server: object, practice: Practice, console_problems: list[str]
) -> None:
    base = str(live_server)
    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/")
    page.get_by_role("link", name="Add to the care team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Care team of Jay Quinlan")
    page.get_by_label("Staff member").select_option(label=practice.outsider.display_name)
    page.get_by_label("Place on the team").select_option("therapist")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("joined the care team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jay Quinlan")
    assert practice.client.care_team.filter(staff=practice.outsider, ended_at__isnull=True).exists()
    assert console_problems == []
