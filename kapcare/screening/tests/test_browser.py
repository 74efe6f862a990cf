"""A full screening in a real browser: a therapist enters the history, blood pressure and answers,
sees every finding with its reason and source, and a prescriber records the clearance, which a
later fact withdraws."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401
from kapcare.core.time import practice_today
from kapcare.screening.models import ScreeningDecision
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_trial(page: Page, drug: str, dose: str, start: dt.date, end: dt.date, outcome: str) -> None:
    history = page.locator("#history")
    history.get_by_text("Add an antidepressant trial").click()
    form = history.locator("form").filter(has=page.get_by_role("button", name="Add trial"))
    form.get_by_label("Antidepressant").select_option(label=drug)
    form.get_by_label("Highest daily dose (mg)").fill(dose)
    form.get_by_label("Start").fill(start.isoformat())
    form.get_by_label("End").fill(end.isoformat())
    form.get_by_label("Adherence").select_option("good")
    form.get_by_label("Outcome").select_option(outcome)
    form.get_by_role("button", name="Add trial").click()
    expect(page.get_by_role("status")).to_contain_text("Antidepressant trial added")


def test_a_therapist_screens_and_a_prescriber_clears(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
) -> None:
    base = str(live_server)
    today = practice_today()
    sign_in(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/")
    page.get_by_role("link", name="Open screening").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Screening: Jay Quinlan")
    expect(page.locator("#result")).to_contain_text("Incomplete")

    # The episode and two trials; a bad trial first shows its error on the field.
    page.get_by_text("Record the episode start").click()
    page.get_by_label("Current episode began").fill((today - dt.timedelta(days=500)).isoformat())
    page.get_by_role("button", name="Save episode start").click()
    expect(page.get_by_role("status")).to_contain_text("Episode start recorded")

    history = page.locator("#history")
    history.get_by_text("Add an antidepressant trial").click()
    form = history.locator("form").filter(has=page.get_by_role("button", name="Add trial"))
    form.get_by_label("Antidepressant").select_option(label="Sertraline (SSRI)")
    form.get_by_label("Highest daily dose (mg)").fill("150")
    form.get_by_label("Start").fill((today - dt.timedelta(days=100)).isoformat())
    form.get_by_label("End").fill((today - dt.timedelta(days=200)).isoformat())
    form.get_by_label("Adherence").select_option("good")
    form.get_by_label("Outcome").select_option("non_response")
    form.get_by_role("button", name="Add trial").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved.")
    expect(page.locator("#trial-ended_on_error")).to_have_text("The end is before the start.")
    page.goto(f"{base}/clients/{practice.client.public_id}/screening/")

    start = today - dt.timedelta(days=450)
    add_trial(
        page, "Sertraline (SSRI)", "150", start, start + dt.timedelta(weeks=10), "non_response"
    )
    expect(page.locator("[data-fact=is-trd]")).to_have_text("No")
    add_trial(
        page,
        "Venlafaxine (SNRI)",
        "225",
        start + dt.timedelta(weeks=12),
        start + dt.timedelta(weeks=24),
        "partial_response",
    )
    expect(page.locator("[data-fact=is-trd]")).to_have_text("Yes")
    expect(page.locator("[data-fact=thase-rush]")).to_contain_text("Stage 2")

    # Blood pressure above the hold level, then a medication with an interaction.
    page.get_by_text("Record a reading").click()
    page.get_by_label("Systolic (mmHg)").fill("162")
    page.get_by_label("Diastolic (mmHg)").fill("88")
    page.get_by_role("button", name="Record blood pressure").click()
    expect(page.get_by_role("status")).to_contain_text("Blood pressure 162/88 recorded")

    page.get_by_text("Add a medication").click()
    meds = page.locator("#medications")
    meds.locator("#medication-medication").select_option(label="Lorazepam")
    meds.get_by_label("Dose amount").fill("0.5")
    meds.get_by_label("Frequency").select_option("at_night")
    meds.get_by_role("button", name="Add medication").click()
    expect(page.get_by_role("status")).to_contain_text("Lorazepam added")

    # The questions: a contradiction is refused, then everything answered.
    page.get_by_role("link", name="Answer the screening questions").click()
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    for code in ("sud", "hypertension", "hepatic"):
        page.locator(f"input[name={code}][value=none]").check()
    page.locator("input[name=pregnancy][value=not_applicable]").check()
    page.locator("input[name=mania_current][value=yes]").check()
    page.get_by_label("Height (cm)").fill("172")
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text("Current mania is recorded, so this cannot be 'No'.")).to_be_visible()
    page.locator("input[name=mania_current][value=no]").check()
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_role("status")).to_contain_text("Screening questions saved")

    # Weight comes from the chart; without it the BMI is missing.
    result = page.locator("#result")
    expect(result).to_contain_text("A weight on the chart (for the BMI)")
    page.goto(f"{base}/clients/{practice.client.public_id}/")
    page.locator("#id_weight").fill("68")
    page.get_by_role("button", name="Record weight").click()
    page.goto(f"{base}/clients/{practice.client.public_id}/screening/")

    expect(result).to_contain_text("Result: Needs prescriber review")
    bp = result.locator("[data-code=bp_high]")
    expect(bp).to_contain_text("Latest reading 162/88")
    expect(bp).to_contain_text("Source: Spravato label")
    expect(result.locator("[data-code='interaction.benzodiazepine']")).to_contain_text("Lorazepam")
    expect(page.locator("#decision")).to_contain_text("A prescriber records the decision.")
    page.get_by_role("button", name="Sign out").click()

    # The prescriber reviews and clears with conditions.
    sign_in(page, base, practice.prescriber)
    page.goto(f"{base}/clients/{practice.client.public_id}/screening/")
    decision = page.locator("#decision")
    decision.get_by_label("Cleared with conditions").check()
    decision.get_by_role("textbox", name="Conditions").fill(
        "BP re-checked before each dose; hold lorazepam that night."
    )
    decision.get_by_role("textbox", name="Reasoning").fill(
        "White-coat pattern on home readings; benefit outweighs risk."
    )
    decision.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Cleared with conditions (version 1)")
    expect(page.locator(".chart-head")).to_contain_text("Cleared by")

    # A later, higher reading withdraws the clearance.
    page.get_by_text("Record a reading").click()
    page.get_by_label("Systolic (mmHg)").fill("188")
    page.get_by_label("Diastolic (mmHg)").fill("102")
    page.get_by_role("button", name="Record blood pressure").click()
    expect(page.locator(".chart-head")).to_contain_text("Clearance withdrawn")
    expect(page.locator("#decision")).to_contain_text(
        "result Needs prescriber review → Not eligible"
    )
    expect(page.locator("#result")).to_contain_text("Result: Not eligible")
    assert ScreeningDecision.objects.get().invalidated_at is not None
    assert console_problems == []
