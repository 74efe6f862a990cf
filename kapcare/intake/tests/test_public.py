"""The public inquiry form: no sign-in, spam kept out without third parties, callers limited by
a keyed hash of their address."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.intake import protection
from kapcare.intake.models import Inquiry, InquiryAttempt, InquiryStep
from kapcare.intake.tests.helpers import row_counts

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"


def form_data(stamp: str | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Marisol",
        "family_name": "Ekwueme",
        "preferred_name": "",
        "email": "marisol@example.org",
        "phone": "",
        "preferred_channel": "email",
        "date_of_birth": "1979-02-11",
        "message": "I have had depression for years and read about ketamine-assisted therapy.",
        "heard_from": "search",
        "consent": "on",
        "homepage": "",
        "stamp": protection.issue_stamp(now()) if stamp is None else stamp,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def public(address: str = ADDRESS, **extra: Any) -> HttpClient:
    return HttpClient(REMOTE_ADDR=address, **extra)


def send(http: HttpClient | None = None, **overrides: Any) -> Any:
    return (http or public()).post("/inquire/", form_data(**overrides))


class TestThePage:
    def test_anyone_can_open_it_and_it_carries_the_crisis_text(self) -> None:
        response = public().get("/inquire/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "988" in body
        assert "This form is not for emergencies" in body
        assert 'name="stamp"' in body
        assert protection.stamp_time(response.context["form"]["stamp"].value()) is not None
        # The trap for bots sits in the container the stylesheet hides; nothing inline.
        assert '<div class="inquiry-extra" aria-hidden="true">' in body
        assert 'name="homepage"' in body
        assert "style=" not in body
        assert "<script>" not in body
        assert "Content-Security-Policy" in response.headers
        assert 'name="viewport"' in body

    def test_the_hidden_field_is_hidden_by_the_stylesheet(self) -> None:
        from django.contrib.staticfiles import finders

        path = finders.find("kapcare/kapcare.css")
        assert path is not None
        with open(path, encoding="utf-8") as css:
            assert ".inquiry-extra {" in css.read()

    def test_a_signed_in_visitor_sees_it_too(self, practice: Any) -> None:
        http = HttpClient()
        http.force_login(practice.therapist)
        assert http.get("/inquire/").status_code == 200


class TestSending:
    def test_a_good_inquiry_is_saved_and_thanked_without_saying_anything_about_it(
        self,
    ) -> None:
        response = send()
        assert response.status_code == 302
        assert response["Location"] == "/inquire/thanks/"
        inquiry = Inquiry.objects.get()
        assert (inquiry.given_name, inquiry.email, inquiry.preferred_channel) == (
            "Marisol",
            "marisol@example.org",
            "email",
        )
        assert inquiry.date_of_birth == dt.date(1979, 2, 11)
        assert inquiry.heard_from == "search"
        assert InquiryStep.objects.count() == 1
        event = AuditEvent.objects.get()
        assert (event.action, event.actor, event.channel, event.ip) == (
            "inquiry.create",
            None,
            "web",
            None,
        )
        thanks = public().get(response["Location"])
        assert thanks.status_code == 200
        body = thanks.content.decode()
        assert "front desk will contact you" in body
        assert "988" in body
        assert str(inquiry.public_id) not in body
        assert "Marisol" not in body

    def test_what_is_needed(self) -> None:
        response = public().post("/inquire/", {"stamp": protection.issue_stamp(now())})
        assert response.status_code == 400
        errors = response.context["form"].errors
        for field in ("given_name", "family_name", "message", "consent"):
            assert field in errors, field
        for field in ("preferred_name", "date_of_birth", "heard_from"):
            assert field not in errors, field
        assert "Your inquiry was not sent" in response.content.decode()
        assert row_counts()["Inquiry"] == 0
        assert InquiryAttempt.objects.count() == 0  # corrections do not count against anyone

    def test_an_email_or_a_phone_is_needed_and_the_error_names_both(self) -> None:
        response = send(email="", phone="")
        assert response.status_code == 400
        errors = response.context["form"].errors
        message = "Give an email address or a phone number (or both)"
        assert message in errors["email"][0]
        assert message in errors["phone"][0]
        assert not Inquiry.objects.exists()

    def test_phone_only_is_enough(self) -> None:
        assert send(email="", phone="+1 555 555 0199", preferred_channel="sms").status_code == 302
        assert Inquiry.objects.get().phone == "+1 555 555 0199"

    def test_the_chosen_contact_method_must_be_given(self) -> None:
        response = send(email="", phone="555 555 0100", preferred_channel="email")
        assert response.status_code == 400
        assert "give your address" in response.context["form"].errors["email"][0]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("given_name", "x" * 101),
            ("family_name", "x" * 101),
            ("preferred_name", "x" * 101),
            ("message", "x" * 1001),
            ("email", "not-an-email"),
            ("phone", "ring me"),
            ("date_of_birth", "2999-01-01"),
            ("heard_from", "television"),
            ("preferred_channel", "fax"),
        ],
    )
    def test_bad_values_are_refused(self, field: str, value: str) -> None:
        response = send(**{field: value})
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert (Inquiry.objects.count(), AuditEvent.objects.count()) == (0, 0)

    def test_the_message_may_be_exactly_the_limit(self) -> None:
        assert send(message="y" * 1000).status_code == 302

    def test_what_was_typed_is_kept_and_so_is_the_stamp(self) -> None:
        stamp = protection.issue_stamp(now() - dt.timedelta(seconds=30))
        response = send(stamp=stamp, consent=None)
        assert response.status_code == 400
        body = response.content.decode()
        assert 'value="Marisol"' in body
        assert f'value="{stamp}"' in body


class TestSpam:
    def test_the_honeypot_saves_nothing_but_thanks_and_counts(self) -> None:
        before = row_counts()
        response = send(homepage="https://cheap-pills.example")
        assert response.status_code == 302
        assert response["Location"] == "/inquire/thanks/"
        assert row_counts() == {**before, "InquiryAttempt": 1}

    @override_settings(INQUIRY_MIN_SECONDS=5)
    def test_a_submission_quicker_than_a_person_saves_nothing(self) -> None:
        http = public()
        stamp = http.get("/inquire/").context["form"]["stamp"].value()
        before = row_counts()
        response = http.post("/inquire/", form_data(stamp=stamp))
        assert response["Location"] == "/inquire/thanks/"
        assert row_counts() == {**before, "InquiryAttempt": 1}
        # The same form sent after a person's pace is accepted.
        with mock.patch("kapcare.intake.views.now", return_value=now() + dt.timedelta(seconds=6)):
            assert http.post("/inquire/", form_data(stamp=stamp)).status_code == 302
        assert Inquiry.objects.count() == 1

    @pytest.mark.parametrize(
        "stamp",
        [
            "",
            "not-a-stamp",
            "tampered",
            "expired",
            "other-salt",
        ],
    )
    def test_a_missing_tampered_or_old_stamp_saves_nothing(self, stamp: str) -> None:
        from django.core import signing

        good = protection.issue_stamp(now() - dt.timedelta(seconds=30))
        value = {
            "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
            "expired": protection.issue_stamp(now() - dt.timedelta(hours=25)),
            "other-salt": signing.dumps(int(now().timestamp() * 1000) - 30_000),
        }.get(stamp, stamp)
        before = row_counts()
        response = send(stamp=value)
        assert response.status_code == 302
        assert response["Location"] == "/inquire/thanks/"
        assert row_counts() == {**before, "InquiryAttempt": 1}

    def test_a_stamp_that_is_not_a_time_is_refused(self) -> None:
        from django.core import signing

        for value in ("1700000000", True, 1.5, None):
            stamp = signing.dumps(value, salt=protection.STAMP_SALT)
            assert protection.stamp_time(stamp) is None


class TestRateLimit:
    @override_settings(INQUIRY_RATE_LIMIT=3)
    def test_refused_with_429_after_the_limit_real_or_spam(self) -> None:
        http = public()
        assert send(http).status_code == 302
        assert send(http, homepage="x").status_code == 302  # spam counts too
        assert send(http, email="bad").status_code == 400  # a correction does not
        assert send(http, given_name="Second").status_code == 302
        before = row_counts()
        response = send(http, given_name="Fourth")
        assert response.status_code == 429
        assert "Please try again later" in response.content.decode()
        assert "988" in response.content.decode()
        assert row_counts() == before
        assert Inquiry.objects.count() == 2
        # The form itself still opens, and another address is not affected.
        assert http.get("/inquire/").status_code == 200
        assert send(public("198.51.100.20")).status_code == 302

    @override_settings(INQUIRY_RATE_LIMIT=2)
    def test_the_limit_is_per_hour_and_old_attempts_are_pruned(self) -> None:
        http = public()
        send(http)
        send(http)
        assert send(http).status_code == 429
        in_an_hour = now() + dt.timedelta(hours=1, seconds=1)
        with mock.patch("kapcare.intake.views.now", return_value=in_an_hour):
            stamp = protection.issue_stamp(in_an_hour - dt.timedelta(seconds=10))
            assert send(http, stamp=stamp).status_code == 302
        assert InquiryAttempt.objects.count() == 1  # the two old ones were deleted

    @override_settings(INQUIRY_RATE_LIMIT=0)
    def test_zero_turns_the_limit_off(self) -> None:
        http = public()
        for _ in range(7):
            assert send(http, homepage="x").status_code == 302

    @override_settings(PROXY_COUNT=1, INQUIRY_RATE_LIMIT=1)
    def test_behind_a_proxy_the_forwarded_address_is_the_caller(self) -> None:
        proxy = "10.0.0.5"
        first = public(proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
        second = public(proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
        assert send(first).status_code == 302
        assert send(second).status_code == 302
        assert send(first).status_code == 429


class TestTheAddressIsNeverStored:
    def test_only_a_keyed_hash_of_the_address_is_kept(self) -> None:
        send()
        send(homepage="x")
        callers = set(InquiryAttempt.objects.values_list("caller", flat=True))
        assert callers == {protection.caller_key(ADDRESS)}
        (caller,) = callers
        assert ADDRESS not in caller
        assert len(caller) == 64
        assert not AuditEvent.objects.filter(ip=ADDRESS).exists()
        everything = str(
            [
                list(model.objects.values())
                for model in (Inquiry, InquiryStep, InquiryAttempt, AuditEvent)
            ]
        )
        assert ADDRESS not in everything

    def test_the_hash_is_keyed_with_the_secret_key(self) -> None:
        key = protection.caller_key(ADDRESS)
        assert protection.caller_key(ADDRESS) == key
        assert protection.caller_key("203.0.113.78") != key
        with override_settings(SECRET_KEY="another-" + "k" * 60):
            assert protection.caller_key(ADDRESS) != key
        assert protection.caller_key(None) == protection.caller_key(None)
