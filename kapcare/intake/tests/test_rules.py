"""The inquiry's path and the checks on what a person sends, as pure rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.clients.models import ClientStatus
from kapcare.intake import rules
from kapcare.intake.models import OPEN_STATUSES, ConsultationOutcome, InquiryStatus

ACTIONS = list(rules.ALLOWED_FROM)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", InquiryStatus.values)
def test_every_action_from_every_status_is_allowed_or_refused_with_a_reason(
    action: str, status: str
) -> None:
    refused = rules.refusal(action, status)
    if status in rules.ALLOWED_FROM[action]:
        assert refused is None
        assert rules.status_after(action, status) in InquiryStatus.values
    else:
        assert refused is not None
        code, message = refused
        assert code
        assert message.endswith(".")


def test_nothing_is_done_to_a_finished_inquiry() -> None:
    for action in ACTIONS:
        assert rules.refusal(action, InquiryStatus.CLOSED)[0] == "closed"  # type: ignore[index]
        expected = "already_converted" if action == "convert" else "converted"
        assert rules.refusal(action, InquiryStatus.CONVERTED)[0] == expected  # type: ignore[index]


def test_which_states_allow_what() -> None:
    assert rules.refusal("book", InquiryStatus.CONSULTED)[0] == "consultation_held"  # type: ignore[index]
    for status in (InquiryStatus.NEW, InquiryStatus.CONTACTED, InquiryStatus.CONSULTED):
        assert rules.refusal("outcome", status)[0] == "not_booked"  # type: ignore[index]
    for status in OPEN_STATUSES:
        assert rules.refusal("convert", status) is None
        assert rules.refusal("close", status) is None
        assert rules.refusal("contact", status) is None


def test_status_after_each_action() -> None:
    assert rules.status_after("contact", InquiryStatus.NEW) == InquiryStatus.CONTACTED
    assert rules.status_after("contact", InquiryStatus.BOOKED) == InquiryStatus.BOOKED
    assert rules.status_after("book", InquiryStatus.NEW) == InquiryStatus.BOOKED
    for held in (
        ConsultationOutcome.PROCEED,
        ConsultationOutcome.DECIDING,
        ConsultationOutcome.NOT_SUITABLE,
    ):
        assert rules.status_after("outcome", "booked", held) == InquiryStatus.CONSULTED
    for missed in (ConsultationOutcome.NO_SHOW, ConsultationOutcome.CANCELLED):
        assert rules.status_after("outcome", "booked", missed) == InquiryStatus.CONTACTED
    assert rules.status_after("close", InquiryStatus.BOOKED) == InquiryStatus.CLOSED
    assert rules.status_after("convert", InquiryStatus.NEW) == InquiryStatus.CONVERTED
    with pytest.raises(ValueError, match="unknown action"):
        rules.status_after("reopen", InquiryStatus.CLOSED)


def test_outcome_timing() -> None:
    booked = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
    before, after = booked - dt.timedelta(minutes=1), booked + dt.timedelta(minutes=1)
    assert rules.outcome_too_early(ConsultationOutcome.PROCEED, booked, before)
    assert rules.outcome_too_early(ConsultationOutcome.NO_SHOW, booked, before)
    assert not rules.outcome_too_early(ConsultationOutcome.CANCELLED, booked, before)
    assert not rules.outcome_too_early(ConsultationOutcome.PROCEED, booked, booked)
    assert not rules.outcome_too_early(ConsultationOutcome.PROCEED, booked, after)


def test_where_a_converted_client_starts() -> None:
    start = rules.client_status_on_convert
    assert start(InquiryStatus.NEW, "") == ClientStatus.INQUIRY
    assert start(InquiryStatus.CONTACTED, ConsultationOutcome.NO_SHOW) == ClientStatus.INQUIRY
    assert start(InquiryStatus.BOOKED, "") == ClientStatus.CONSULTATION
    assert start(InquiryStatus.CONSULTED, ConsultationOutcome.DECIDING) == (
        ClientStatus.CONSULTATION
    )
    assert start(InquiryStatus.CONSULTED, ConsultationOutcome.PROCEED) == ClientStatus.SCREENING


def test_contact_problems() -> None:
    neither = rules.contact_problems(email="", phone="", channel="phone")
    assert {field: code for field, (_, code) in neither.items()} == {
        "email": "contact_required",
        "phone": "contact_required",
    }
    assert "email address or a phone number" in neither["email"][0]
    assert rules.contact_problems(email="", phone="555 0100 22", channel="email") == {
        "email": ("You chose email as the way to reach you: give your address.", "required")
    }
    sms = rules.contact_problems(email="a@example.org", phone="", channel="sms")
    assert sms["phone"][1] == "required"
    assert "text message" in sms["phone"][0]
    assert rules.contact_problems(email="a@example.org", phone="", channel="email") == {}
    assert rules.contact_problems(email="", phone="555 0100 22", channel="phone") == {}


DAY = dt.timedelta(hours=24)


@given(
    rendered=st.floats(min_value=1e9, max_value=2e9),
    elapsed=st.floats(min_value=-100, max_value=200_000),
    minimum=st.integers(min_value=0, max_value=60),
)
def test_stamp_verdict(rendered: float, elapsed: float, minimum: int) -> None:
    verdict = rules.stamp_verdict(
        rendered_at=rendered, submitted_at=rendered + elapsed, min_seconds=minimum, max_age=DAY
    )
    taken = (rendered + elapsed) - rendered
    if taken < minimum:
        assert verdict == "too_fast"
    elif taken > DAY.total_seconds():
        assert verdict == "expired"
    else:
        assert verdict == "ok"


def test_stamp_verdict_edges() -> None:
    def verdict(elapsed: float) -> str:
        return rules.stamp_verdict(
            rendered_at=1000.0, submitted_at=1000.0 + elapsed, min_seconds=3, max_age=DAY
        )

    assert verdict(2.999) == "too_fast"
    assert verdict(-1) == "too_fast"  # a stamp from the future is not a person
    assert verdict(3) == "ok"
    assert verdict(DAY.total_seconds()) == "ok"
    assert verdict(DAY.total_seconds() + 1) == "expired"
