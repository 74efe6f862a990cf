"""A client completes a PHQ-9 from a link on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, expect

from kapcare.measures.models import Administration
from kapcare.measures.self_report import link_send
from kapcare.safety.models import SafetyFlag
from kapcare.testing.personas import Practice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_phq9_on_a_phone(browser: Browser, live_server: object, practice: Practice) -> None:
    link_send(
        actor=practice.therapist, client=practice.client, instruments=["phq9"], channel="email"
    )
    match = re.search(r"/r/\?t=([\w-]+)", mail.outbox[-1].body)
    assert match is not None
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/r/?t={match.group(1)}")
    expect(page).to_have_url(f"{live_server}/r/")  # the secret is gone from the address bar
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    page.get_by_role("link", name="Show one question at a time").click()
    # Nine scored questions, then the unscored question on how difficult the problems made life.
    for number in range(1, 11):
        question = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
        choice = {9: "Not at all", 10: "Somewhat difficult"}.get(number, "Several days")
        question.get_by_label(choice).check()
        button = "Send my answers" if number == 10 else "Next"
        page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_text("988")).to_have_count(0)
    administration = Administration.objects.get()
    assert (administration.total, administration.details) == (8, {"difficulty": 1})
    assert not SafetyFlag.objects.exists()
    # The page fits the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert problems == []
    context.close()
