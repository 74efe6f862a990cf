"""A course in a real browser: plan it, book preparation sessions, try a dose too early and read
why not, then book a dose and accept a proposed integration slot."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401
from kapcare.core.time import practice_today
from kapcare.courses.models import Appointment, Course, Kind, Room
from kapcare.courses.tests.test_services import make_ready
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_a_course_book_preparation_and_a_dose_with_its_integration(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
) -> None:
    Room.objects.create(name="Garden room")
    base = str(live_server)
    tomorrow = (practice_today() + dt.timedelta(days=1)).isoformat()
    in_three_days = (practice_today() + dt.timedelta(days=3)).isoformat()

    # Plan the course from the chart.
    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/")
    page.get_by_role("link", name="Plan a course").click()
    start = page.locator("#start")
    start.get_by_label("Protocol").select_option(label="KAP, sublingual lozenge (psycholytic)")
    start.get_by_label("Goals and intentions").fill("Feel present with my children again.")
    start.get_by_label("EMDR").check()
    start.get_by_role("button", name="Start the course").click()
    expect(page.get_by_role("status")).to_contain_text("Course started")
    expect(page.get_by_test_id("phase")).to_have_text("Preparation")
    expect(page.locator('[data-gate="preparation"]')).to_contain_text("0 of 5")

    # Two preparation sessions.
    for hour in ("10:00", "14:00"):
        page.get_by_role("link", name="Book a preparation session").click()
        page.get_by_label("Date").fill(tomorrow)
        page.get_by_label("Time").fill(hour)
        page.get_by_role("button", name="Book").click()
        expect(page.get_by_role("status")).to_contain_text("Preparation booked")
    expect(page.locator("#upcoming tr[data-kind='preparation']")).to_have_count(2)

    # A dose now is too early: every reason is shown, nothing is booked.
    page.get_by_role("link", name="Book a dose").click()
    expect(page.locator('[data-gate="preparation"]')).to_contain_text("0 of 5 preparation")
    page.get_by_label("Date").fill(in_three_days)
    page.get_by_label("Time").fill("09:00")
    page.locator("#book-clinician").select_option(label=str(practice.prescriber))
    page.get_by_label("Second clinician").select_option(label=str(practice.therapist))
    page.get_by_label("Room").select_option(label="Garden room")
    page.get_by_role("button", name="Book").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not booked.")
    expect(alert).to_contain_text("Preparation sessions: 0 of 5 preparation sessions held.")
    expect(alert).to_contain_text("Baseline measures: Missing: PHQ-9, GAD-7.")
    assert not Appointment.objects.filter(kind=Kind.DOSING).exists()

    # The course becomes ready (screen cleared, consent, baseline, preparation held); the
    # prescriber books the dose and takes one of the proposed integration times.
    make_ready(practice, Course.objects.get())
    page.get_by_role("button", name="Sign out").click()
    page.context.clear_cookies()
    sign_in(page, base, practice.prescriber)
    page.goto(f"{base}/clients/{practice.client.public_id}/course/")
    page.get_by_role("link", name="Book a dose").click()
    expect(page.locator('[data-gate="preparation"]')).to_have_attribute("data-passed", "yes")
    page.get_by_label("Date").fill(in_three_days)
    page.get_by_label("Time").fill("09:00")
    page.locator("#book-clinician").select_option(label=str(practice.prescriber))
    page.get_by_label("Second clinician").select_option(label=str(practice.therapist))
    page.get_by_label("Room").select_option(label="Garden room")
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_role("status")).to_contain_text("Dose booked")
    dose = page.locator(".dose-row").first
    expect(dose).to_have_attribute("data-state", "at_risk")
    first_slot = dose.locator("button[data-slot]").first
    first_slot.click()
    expect(page.get_by_role("status")).to_contain_text("Integration booked")
    expect(page.locator(".dose-row").first).to_have_attribute("data-state", "booked")
    integration = Appointment.objects.get(kind=Kind.INTEGRATION)
    assert integration.clinician == practice.therapist
    assert console_problems == []


def test_an_integration_note_is_signed_then_only_takes_addenda_and_the_week_shows_it(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
) -> None:
    from kapcare.core.time import now, practice_zone

    base = str(live_server)
    course = make_ready(
        practice,
        Course.objects.create(
            client=practice.client, protocol="kap_sublingual", started_on=practice_today()
        ),
    )
    held = Appointment.objects.create(
        client=practice.client,
        course=course,
        kind=Kind.INTEGRATION,
        starts_at=now() - dt.timedelta(hours=2),
        ends_at=now() - dt.timedelta(hours=1),
        clinician=practice.therapist,
        state="held",
    )
    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/appointments/{held.public_id}/")
    page.get_by_role("link", name="Session note").click()
    page.get_by_label("Experience").fill("Felt held; saw her grandmother's kitchen.")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    page.get_by_label("Follow-up").fill("Next integration on Thursday.")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_role("heading", name="Signed note")).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    page.get_by_label("Addendum").fill("Client called: slept well for the first time in weeks.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.locator("#addenda ~ ul, .timeline").first).to_contain_text("slept well")

    # The therapist's week shows the session on its day (the week of the session, which an hour
    # after midnight on a Monday is last week).
    page.get_by_role("link", name="Schedule").click()
    day = held.starts_at.astimezone(practice_zone()).date().isoformat()
    page.goto(f"{base}/schedule/clinician/{practice.therapist.public_id}/week/?date={day}")
    expect(page.locator("main")).to_contain_text("Integration")
    expect(page.locator("main")).to_contain_text(practice.client.display_name)
    assert console_problems == []
