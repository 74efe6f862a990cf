"""Measures in a real browser: record a PHQ-9, see it on the chart, trajectory drawn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from kapcare.measures.models import Administration
from kapcare.testing.factories import TEST_PASSWORD
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_record_a_phq9_and_see_the_trajectory(
    page: Page, live_server: object, practice: Practice
) -> None:
    problems: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: problems.append(str(error)))
    base = str(live_server)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(practice.nurse.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")

    for answers in ([2, 2, 3, 2, 1, 2, 2, 1, 0], [1, 1, 1, 1, 0, 1, 1, 0, 0]):
        page.goto(f"{base}/clients/{practice.client.public_id}/")
        page.get_by_role("link", name="Record a questionnaire or score").click()
        page.get_by_role("link", name=re.compile(r"PHQ-9")).click()
        for number, value in enumerate(answers, start=1):
            group = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
            group.get_by_role("radio").nth(value).check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("recorded")

    assert list(Administration.objects.values_list("total", flat=True)) == [6, 15]
    table = page.get_by_role("table", name=re.compile("PHQ-9"))
    expect(table).to_contain_text("baseline")
    expect(table).to_contain_text("-9 (-60.0%)")
    expect(table).to_contain_text("response")
    canvas = page.locator("canvas[data-trajectory]")
    expect(canvas).to_have_count(1)
    # Chart.js attached a chart to the canvas and drew the two points.
    drawn = page.evaluate(
        "() => { const canvas = document.querySelector('canvas[data-trajectory]');"
        " const chart = window.Chart.getChart(canvas);"
        " return chart ? chart.data.datasets[0].data.length : -1; }"
    )
    assert drawn == 2
    assert problems == []
