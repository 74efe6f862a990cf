"""An inquiry from a phone, then the front desk books the consultation and makes them a client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from kapcare.clients.models import Client, ClientStatus
from kapcare.core.time import practice_today
from kapcare.intake.models import Inquiry, InquiryStatus
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page: Page, problems: list[str]) -> None:
    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))


def test_inquiry_to_consultation_to_client(
    browser: Browser, page: Page, live_server: object, practice: Practice
) -> None:
    base = str(live_server)
    problems: list[str] = []

    # A person asks, on a phone, without signing in.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    visitor = phone.new_page()
    watch(visitor, problems)
    visitor.goto(f"{base}/inquire/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Ask about treatment")
    expect(visitor.get_by_text(re.compile("call or text 988"))).to_be_visible()
    expect(visitor.get_by_label("Leave this field empty")).not_to_be_in_viewport()
    visitor.get_by_label("Given (first) name").fill("Rowan")
    visitor.get_by_label("Family (last) name").fill("Achterberg")
    visitor.get_by_role("textbox", name=re.compile("^Email")).fill("rowan@example.org")
    visitor.get_by_role("radio", name="Email").check()
    visitor.get_by_label("Date of birth (optional)").fill("1987-09-23")
    visitor.get_by_label("What brings you to us?").fill(
        "My therapist suggested ketamine-assisted therapy."
    )
    visitor.get_by_label("How did you hear of us? (optional)").select_option("provider")
    visitor.get_by_label(re.compile("^I agree that")).check()
    visitor.get_by_role("button", name="Send my inquiry").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(visitor.get_by_text(re.compile("front desk will contact you"))).to_be_visible()
    # The page fits the phone: no sideways scrolling.
    assert visitor.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.close()
    inquiry = Inquiry.objects.get()
    assert inquiry.status == InquiryStatus.NEW

    # The front desk finds it from the home page and books the free consultation.
    watch(page, problems)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(practice.front_desk.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=re.compile(r"1 new inquiry")).click()
    page.get_by_role("link", name="Achterberg, Rowan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rowan Achterberg")
    day = practice_today() + dt.timedelta(days=2)
    page.get_by_label(re.compile(r"^Date:?$")).fill(day.isoformat())
    page.get_by_label(re.compile(r"^Time:?$")).fill("10:30")
    page.get_by_label(re.compile(r"^With:?$")).select_option(label=practice.therapist.display_name)
    page.get_by_role("button", name="Book consultation").click()
    expect(page.get_by_role("status")).to_contain_text("Consultation booked.")
    expect(page.get_by_text("Consultation booked", exact=True).first).to_be_visible()

    # ... and makes them a client, the consultation's therapist suggested for the care team.
    page.get_by_role("link", name="Convert to client").click()
    expect(page.get_by_label("Legal given name(s)")).to_have_value("Rowan")
    expect(page.get_by_label("Date of birth")).to_have_value("1987-09-23")
    page.get_by_label("Sex assigned at birth").select_option("declined")
    page.get_by_role("button", name="Create client").click()
    expect(page.get_by_role("status")).to_contain_text("Rowan Achterberg is now a client.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rowan Achterberg")

    client = Client.objects.get(legal_family_name="Achterberg")
    assert client.status == ClientStatus.CONSULTATION
    assert set(client.care_team.values_list("staff__username", flat=True)) == {
        practice.therapist.username,
        practice.front_desk.username,
    }
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.client) == (InquiryStatus.CONVERTED, client)
    assert problems == []
