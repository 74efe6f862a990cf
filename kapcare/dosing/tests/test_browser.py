"""Two whole dosing sessions in a real browser on a tablet-sized screen (1024 by 768): an IV racemic
infusion with a blood pressure past the stop rule and an early discharge a prescriber overrides,
and an esketamine nasal-spray session with a corrected reading. Both end signed by the dyad.

"Time has passed" is made honest rather than mocked: the dosing appointment began a few hours
ago, and the forms' time fields (which the bedside uses to chart something done a little
earlier) carry the times of the readings, the dose and the check.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils.timezone import localtime
from playwright.sync_api import Page, expect

from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401
from kapcare.core.time import now, practice_today, practice_zone
from kapcare.courses import services as course_services
from kapcare.courses.models import Appointment, Room
from kapcare.courses.tests.test_services import ready_for_dosing
from kapcare.dosing import services, views
from kapcare.dosing.models import DosingSession, SessionState
from kapcare.safety.models import SafetyFlag
from kapcare.stock.tests.helpers import make_location, make_lot, receive
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("KAPCARE_SCREENSHOTS", "")  # a directory: save screenshots there


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1024, "height": 768}}


@pytest.fixture(autouse=True)
def _panel_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    # The session page's panel refreshes itself (every 30 s in use). A refresh still in flight
    # when the page moves on is aborted, and htmx reports that on the console; the tests
    # navigate every second or so, so the panel waits an hour here except where a test
    # watches it refresh (and then stops it before moving on).
    monkeypatch.setattr(views, "PANEL_REFRESH_SECONDS", 3600)


def booked_dose(practice: Practice, protocol: str, hours_ago: float) -> Appointment:
    """A course ready for dosing, its drug in stock, and a dosing appointment that began
    `hours_ago` (made directly: booking refuses a time in the past, and the test needs the
    session's clock to have run)."""
    course = ready_for_dosing(practice, protocol)
    if protocol == "esketamine":
        course_services.rems_enroll(
            actor=practice.prescriber,
            client=practice.client,
            enrolled_on=practice_today(),
            reference="PT-1",
        )
        lot = make_lot("ES-1", drug="esketamine", product="Spravato 28 mg device")
    else:
        lot = make_lot("K2611A", product="Ketamine HCl 10 mg/mL", form="10 mg/mL, 20 mL vial")
    receive(practice, lot, make_location("Treatment-room safe"), 1000)
    return Appointment.objects.create(
        client=practice.client,
        course=course,
        kind="dosing",
        starts_at=now() - dt.timedelta(hours=hours_ago),
        ends_at=now() + dt.timedelta(hours=1),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name="Bay 1"),
    )


def at(start: dt.datetime, minutes_ago: int) -> str:
    """The wall-clock time, in the practice's zone, `minutes_ago` before `start`."""
    return localtime(start - dt.timedelta(minutes=minutes_ago), practice_zone()).strftime("%H:%M")


def switch(page: Page, base: str, user: object) -> None:
    page.context.clear_cookies()
    sign_in(page, base, user)  # type: ignore[arg-type]


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def chart_vitals(page: Page, time: str, bp: tuple[int, int], hr: int, spo2: int = 98) -> None:
    form = page.locator("form#vitals")
    form.get_by_label("Time").fill(time)
    form.get_by_label("Systolic").fill(str(bp[0]))
    form.get_by_label("Diastolic").fill(str(bp[1]))
    form.get_by_label("Heart rate").fill(str(hr))
    form.get_by_label("SpO2 %").fill(str(spo2))
    form.get_by_role("button", name="Chart vitals").click()
    expect(page.get_by_role("status")).to_contain_text(f"Vitals charted at {time}")


def chart_moaas(page: Page, time: str, score: int) -> None:
    form = page.locator("form#scales")
    form.get_by_label("Time").fill(time)
    form.locator(f"input[name=score][value='{score}']").check()
    form.get_by_role("button", name="Chart MOAA/S").click()
    expect(page.get_by_role("status")).to_contain_text(f"MOAA/S) {score} charted")


def chart_cadss(page: Page, time: str, score: int) -> None:
    form = page.locator("form#cadss")
    form.get_by_label("Time").fill(time)
    form.get_by_label("CADSS total").fill(str(score))
    form.get_by_role("button", name="Chart CADSS").click()
    expect(page.get_by_role("status")).to_contain_text(f"(CADSS) {score} charted")


def chart_work(page: Page, time: str, kind: str, detail: str) -> None:
    form = page.locator("form#work")
    form.get_by_label("Time").fill(time)
    form.get_by_label("What", exact=True).select_option(label=kind)
    form.get_by_label("Detail").fill(detail)
    form.get_by_role("button", name="Chart it").click()
    expect(page.get_by_role("status")).to_contain_text(f"{kind} charted")


def sign(page: Page, base: str, session: DosingSession, closes: bool) -> None:
    page.goto(f"{base}/clients/{session.client.public_id}/dosing/{session.public_id}/")
    page.get_by_role("button", name="Sign the session").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Both signatures are in" if closes else "closes when the other clinician signs"
    )


def test_an_iv_infusion_with_a_stop_alert_and_an_overridden_early_discharge(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
) -> None:
    base = str(live_server)
    appointment = booked_dose(practice, "iv_racemic", hours_ago=2)
    start = now()

    # The nurse (the monitoring clinician) opens the session from the appointment.
    sign_in(page, base, practice.nurse)
    page.goto(f"{base}/clients/{practice.client.public_id}/appointments/{appointment.public_id}/")
    page.get_by_role("button", name="Open the dosing session").click()
    expect(page.get_by_test_id("session-state")).to_have_text("Pre-dose check")
    session = DosingSession.objects.get()

    # The pre-dose check, done 110 minutes ago.
    page.get_by_role("link", name="Do the pre-dose check").click()
    page.get_by_label("Identity confirmed").check()
    page.get_by_label("Escort home confirmed").check()
    page.get_by_label("Intention for the session").fill("Meet the grief with curiosity.")
    page.get_by_label("Weight today (kg)").fill("70.0")
    page.get_by_label("Minutes since food").fill("240")
    page.get_by_label("Minutes since liquids").fill("60")
    page.get_by_label("Systolic").fill("128")
    page.get_by_label("Diastolic").fill("82")
    page.get_by_label("Heart rate").fill("72")
    page.get_by_label("SpO2 %").fill("98")
    page.get_by_label("Not applicable").check()
    page.get_by_label("Time of the check").fill(at(start, 110))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_role("heading", name="Passed: the dose may be given")).to_be_visible()
    expect(page.locator('[data-check="bp"]')).to_have_attribute("data-passed", "yes")
    shoot(page, "iv-pre-check-1024x768.png")

    # The dose: 0.5 mg/kg worked out from today's weight, over the protocol's 40 minutes.
    page.get_by_role("link", name="Go to the dose").click()
    expect(page.get_by_label("Taken from")).not_to_have_value("")  # the one location in use
    page.get_by_label("Lot", exact=True).select_option(index=1)
    page.get_by_label("Dose in mg/kg").fill("0.5")
    page.get_by_label("Concentration (mg/mL)").fill("1")
    page.get_by_label("Concentration (mg/mL)").press("Tab")
    calc = page.get_by_test_id("dose-calc")
    expect(calc).to_contain_text("0.5 mg/kg \u00d7 70 kg = 35 mg")
    expect(calc).to_contain_text("0.88 mg/min")
    expect(calc).to_contain_text("52.50 mL/h")
    page.get_by_label("Given at").fill(at(start, 100))
    no_sideways_scroll(page)
    shoot(page, "iv-dose-1024x768.png")
    page.get_by_role("button", name="Record the dose").click()
    expect(page.get_by_role("status")).to_contain_text("Dose recorded: 35 mg (0.50 mg/kg)")
    expect(page.get_by_test_id("dose")).to_contain_text("40 min at 0.88 mg/min")

    # Vitals through the infusion; 185/105 is past the stop rule.
    chart_vitals(page, at(start, 90), (150, 92), 88)
    expect(page.get_by_test_id("alerts")).to_contain_text("Watch")
    chart_vitals(page, at(start, 80), (185, 105), 96)
    alerts = page.get_by_test_id("alerts")
    expect(alerts).to_have_class("alert-panel alert-stop")
    expect(alerts).to_contain_text("185/105 mmHg")
    expect(alerts).to_contain_text("threshold >180/100 mmHg")
    expect(alerts).to_contain_text("A vital-signs safety flag is raised")
    expect(page.get_by_test_id("safety-flag")).to_contain_text("Vital signs safety flag open")
    flag = SafetyFlag.objects.get(source_session=session)
    assert (flag.kind, flag.rule, flag.closed_at) == ("vital_signs", "bp_stop", None)
    no_sideways_scroll(page)
    shoot(page, "iv-stop-alert-1024x768.png")
    chart_work(page, at(start, 75), "Antiemetic given", "Ondansetron, as ordered")
    chart_vitals(page, at(start, 70), (160, 95), 90)
    chart_moaas(page, at(start, 70), 4)
    chart_vitals(page, at(start, 60), (145, 88), 84)
    chart_cadss(page, at(start, 60), 20)
    chart_vitals(page, at(start, 45), (132, 84), 80)
    chart_vitals(page, at(start, 30), (128, 80), 76)
    chart_vitals(page, at(start, 15), (126, 80), 74)
    chart_moaas(page, at(start, 20), 5)
    chart_cadss(page, at(start, 20), 2)
    expect(page.get_by_test_id("alerts")).to_have_count(0)
    expect(page.locator("tr.has-alerts")).to_have_count(4)  # 150/92, 185/105, 160/95, 145/88
    expect(page.locator(".due-done")).not_to_have_count(0)

    # Too early: an hour after the infusion ended, the nurse cannot discharge.
    page.get_by_role("link", name="Discharge", exact=True).click()
    expect(page.locator('[data-check="observation"]')).to_have_attribute("data-passed", "no")
    page.get_by_label("A responsible adult is here").check()
    page.get_by_label("Told: no driving").check()
    page.get_by_role("button", name="Discharge").click()
    refusal = page.locator(".errorlist.nonfield")
    expect(refusal).to_contain_text("Not ready for discharge")
    expect(refusal).to_contain_text("Minimum observation")
    expect(page.get_by_text("Override “Minimum observation”")).to_have_count(0)
    shoot(page, "iv-discharge-refused-1024x768.png")

    # The therapist charts the EMDR sets; a therapist does not discharge.
    switch(page, base, practice.therapist)
    page.goto(f"{base}/clients/{practice.client.public_id}/dosing/{session.public_id}/")
    chart_work(page, at(start, 50), "EMDR sets", "Three sets, target: the hospital corridor.")
    expect(page.get_by_role("link", name="Discharge", exact=True)).to_have_count(0)

    # The prescriber overrides the observation minimum with a reason.
    switch(page, base, practice.prescriber)
    page.goto(f"{base}/clients/{practice.client.public_id}/dosing/{session.public_id}/discharge/")
    page.get_by_label("A responsible adult is here").check()
    page.get_by_label("Told: no driving").check()
    page.get_by_label("Override “Minimum observation”: your reason").fill(
        "Alert and stable for 45 minutes, BP at baseline; partner driving; seen by me."
    )
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("status")).to_contain_text("Discharged")
    expect(page.get_by_test_id("discharged")).to_be_visible()
    page.get_by_role("link", name="Printable discharge instructions").click()
    expect(page.locator("main")).to_contain_text(
        "Do not drive or operate machinery until the next day"
    )
    shoot(page, "iv-instructions-1024x768.png")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    shoot(page, "iv-instructions-print.png")
    page.emulate_media(media="screen")

    # The dyad signs; the session is closed to charting.
    switch(page, base, practice.nurse)
    sign(page, base, session, closes=False)
    switch(page, base, practice.therapist)
    sign(page, base, session, closes=True)
    expect(page.get_by_test_id("session-state")).to_have_text("Signed")
    expect(page.get_by_test_id("signed")).to_be_visible()
    expect(page.get_by_role("button", name="Chart vitals")).to_have_count(0)
    expect(page.get_by_text("Correct", exact=True)).to_have_count(0)
    session.refresh_from_db()
    assert session.state == SessionState.SIGNED
    shoot(page, "iv-signed-1024x768.png")
    assert console_problems == [], console_problems


def test_an_esketamine_session_with_a_corrected_reading(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = str(live_server)
    appointment = booked_dose(practice, "esketamine", hours_ago=2.5)
    start = now()

    sign_in(page, base, practice.nurse)
    page.goto(f"{base}/clients/{practice.client.public_id}/appointments/{appointment.public_id}/")
    page.get_by_role("button", name="Open the dosing session").click()
    session = DosingSession.objects.get()

    # The pre-dose check with the fasting answers (the label's 2 h food, 30 min liquids).
    page.get_by_role("link", name="Do the pre-dose check").click()
    page.get_by_label("Identity confirmed").check()
    page.get_by_label("Escort home confirmed").check()
    page.get_by_label("Intention for the session").fill("Stay with the body.")
    page.get_by_label("Minutes since food").fill("180")
    page.get_by_label("Minutes since liquids").fill("45")
    page.get_by_label("Systolic").fill("126")
    page.get_by_label("Diastolic").fill("80")
    page.get_by_label("Heart rate").fill("70")
    page.get_by_label("SpO2 %").fill("98")
    page.get_by_label("Negative", exact=True).check()
    page.get_by_label("Time of the check").fill(at(start, 130))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator('[data-check="fasting_food"]')).to_have_attribute("data-passed", "yes")
    expect(page.locator('[data-check="fasting_liquid"]')).to_have_attribute("data-passed", "yes")
    page.get_by_role("link", name="Go to the dose").click()

    # 56 mg: two devices, five minutes apart.
    page.get_by_label("Lot", exact=True).select_option(index=1)
    page.get_by_label("56 mg: 2 devices").check()
    page.get_by_label("Given at").fill(at(start, 125))
    page.get_by_role("button", name="Record the dose").click()
    expect(page.get_by_role("status")).to_contain_text("Dose recorded: 56 mg")
    expect(page.get_by_role("status")).to_contain_text("2 devices")
    expect(page.get_by_test_id("dose")).to_contain_text(
        f"2 devices: {at(start, 125)}, {at(start, 120)}"
    )

    # The 40-minute blood pressure, charted on the other tablet, reaches this page's panel by
    # itself (the refresh made quick for the test, then stopped before the page moves on).
    monkeypatch.setattr(views, "PANEL_REFRESH_SECONDS", 1)
    page.reload()
    forty = page.locator(".due").filter(has_text="40 min after dosing")
    expect(forty).not_to_have_attribute("data-state", "done")
    services.vitals_record(
        actor=practice.nurse,
        session=session,
        taken_at=start - dt.timedelta(minutes=85),
        systolic=138,
        diastolic=86,
        heart_rate=76,
        spo2=98,
    )
    expect(forty).to_have_attribute("data-state", "done")
    monkeypatch.setattr(views, "PANEL_REFRESH_SECONDS", 3600)
    expect(page.locator("#live-panel")).to_have_attribute("hx-trigger", "every 3600s")
    page.reload()

    # Nausea, a corrected reading, and the readings before discharge.
    form = page.locator("form#effects")
    form.get_by_label("Time").fill(at(start, 100))
    form.get_by_label("Nausea").check()
    form.get_by_label("Mild").check()
    form.get_by_role("button", name="Chart side effects").click()
    expect(page.get_by_role("status")).to_contain_text("1 side effect charted")
    chart_vitals(page, at(start, 60), (143, 84), 78)
    # A slip of the keyboard: the monitor said 134. The correction keeps the original.
    row = page.locator("tr[data-kind='vitals']").filter(has_text="BP 143/84")
    row.get_by_text("Correct", exact=True).click()
    row.get_by_label("Systolic").fill("134")
    row.get_by_label("Why it is corrected").fill("Typed 143 for 134")
    row.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("Correction charted")
    original = page.locator("tr.is-corrected")
    expect(original.locator("del")).to_have_text("BP 143/84 · HR 78 · SpO2 98%")
    expect(original).to_contain_text("Typed 143 for 134")
    expect(page.locator("tr[data-kind='vitals']").filter(has_text="BP 134/84")).to_contain_text(
        "Correction of the"
    )
    chart_moaas(page, at(start, 10), 5)
    chart_cadss(page, at(start, 10), 1)
    chart_vitals(page, at(start, 3), (124, 78), 72)
    no_sideways_scroll(page)
    shoot(page, "esketamine-1024x768.png")
    page.set_viewport_size({"width": 768, "height": 1024})
    no_sideways_scroll(page)
    shoot(page, "esketamine-768x1024.png")
    page.set_viewport_size({"width": 1024, "height": 768})

    # Two hours after the last device, every criterion passes.
    page.get_by_role("link", name="Discharge", exact=True).click()
    page.get_by_label("A responsible adult is here").check()
    page.get_by_label("Told: no driving").check()
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("status")).to_contain_text("Discharged")
    expect(page.get_by_role("link", name="REMS monitoring form")).to_be_visible()

    sign(page, base, session, closes=False)
    switch(page, base, practice.therapist)
    sign(page, base, session, closes=True)
    expect(page.get_by_test_id("session-state")).to_have_text("Signed")
    expect(page.locator("form#vitals")).to_have_count(0)
    assert console_problems == [], console_problems
