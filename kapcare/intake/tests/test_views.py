"""The front desk's inquiry pages: who may open them, what they show, and the actions on them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from kapcare.clients.models import Client, ClientStatus
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today, practice_zone
from kapcare.intake import services
from kapcare.intake.models import Inquiry, InquiryStatus
from kapcare.intake.tests.helpers import booked_inquiry, make_inquiry, row_counts
from kapcare.testing.factories import make_client
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def intake_routes() -> list[str]:
    """Every staff inquiry page, found from the URL configuration (new ones are covered too)."""
    return sorted(
        {route for route in _walk(get_resolver().url_patterns) if route.startswith("intake/")}
    )


def fill(route: str, inquiry_id: uuid.UUID) -> str:
    path = "/" + route.replace("<uuid:inquiry_id>", str(inquiry_id))
    assert "<" not in path, f"unfilled parameter in {route}"
    return path


def test_the_sweep_finds_every_inquiry_page() -> None:
    routes = intake_routes()
    assert "intake/" in routes
    assert "intake/<uuid:inquiry_id>/convert/" in routes
    assert len(routes) == 7


@pytest.mark.parametrize("who", ["therapist", "prescriber", "nurse", "outsider"])
def test_everyone_but_front_desk_and_admins_gets_404_everywhere(
    practice: Practice, who: str
) -> None:
    inquiry = booked_inquiry(practice.therapist, practice.front_desk)
    http = signed_in(getattr(practice, who))
    before = row_counts()
    before_inquiry = Inquiry.objects.values().get(pk=inquiry.pk)
    for route in intake_routes():
        path = fill(route, inquiry.public_id)
        for method in ("get", "post"):
            response = getattr(http, method)(path, data={})
            assert response.status_code == 404, f"{method.upper()} {path}"
            assert b"Achterberg" not in response.content
    assert row_counts() == before
    assert Inquiry.objects.values().get(pk=inquiry.pk) == before_inquiry
    # And no link to the pages on the home page or in the top bar.
    home = http.get("/").content.decode()
    assert "/intake/" not in home


@pytest.mark.parametrize("who", ["front_desk", "admin"])
def test_front_desk_and_admins_open_every_page(practice: Practice, who: str) -> None:
    inquiry = make_inquiry()
    http = signed_in(getattr(practice, who))
    for route in intake_routes():
        path = fill(route, inquiry.public_id)
        response = http.get(path)
        # The action routes take POST only; the pages answer 200.
        assert response.status_code in (200, 405), path
        if route in ("intake/", "intake/<uuid:inquiry_id>/", "intake/<uuid:inquiry_id>/convert/"):
            assert response.status_code == 200, path
    assert ">Inquiries</a>" in http.get("/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(db: None) -> None:
    from django.test import Client as HttpClient

    inquiry = make_inquiry()
    for route in intake_routes():
        response = HttpClient().get(fill(route, inquiry.public_id))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_inactive_accounts_and_visitors_cannot_work_on_inquiries(practice: Practice) -> None:
    from kapcare.intake.access import can_work_on_inquiries

    practice.front_desk.is_active = False
    assert not can_work_on_inquiries(practice.front_desk)
    assert not can_work_on_inquiries(None)


def test_an_unknown_inquiry_is_404(practice: Practice) -> None:
    http = signed_in(practice.front_desk)
    for route in intake_routes():
        if "inquiry_id" in route:
            path = fill(route, uuid.uuid4())
            statuses = {http.get(path).status_code, http.post(path).status_code}
            assert 404 in statuses, path
            assert statuses <= {404, 405}, path


class TestList:
    def test_open_inquiries_first_and_the_read_is_audited(self, practice: Practice) -> None:
        closed = services.inquiry_close(
            actor=practice.front_desk, inquiry=make_inquiry(family_name="Closed"), reason="declined"
        )
        booked = booked_inquiry(practice.therapist, practice.front_desk)
        contacted = services.inquiry_contact(
            actor=practice.front_desk, inquiry=make_inquiry(family_name="Contacted")
        )
        new = make_inquiry(family_name="Newest")
        response = signed_in(practice.front_desk).get("/intake/")
        assert response.status_code == 200
        shown = [inquiry.pk for inquiry in response.context["page"].object_list]
        assert shown == [new.pk, contacted.pk, booked.pk, closed.pk]
        body = response.content.decode()
        assert "Consultation booked" in body
        assert practice.therapist.display_name in body
        event = AuditEvent.objects.filter(action="inquiry.list").get()
        assert event.actor == practice.front_desk
        assert event.detail == {"status": "", "page": 1, "shown": 4}

    def test_status_filter(self, practice: Practice) -> None:
        services.inquiry_close(actor=practice.admin, inquiry=make_inquiry(), reason="declined")
        new = make_inquiry()
        http = signed_in(practice.admin)

        def shown(status: str) -> list[int]:
            response = http.get("/intake/", {"status": status})
            return [inquiry.pk for inquiry in response.context["page"].object_list]

        assert shown("new") == [new.pk]
        assert shown("open") == [new.pk]
        assert len(shown("closed")) == 1
        assert shown("booked") == []
        assert len(shown("no-such-status")) == 2  # an unknown filter shows everything

    def test_query_count_does_not_grow_with_data(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)

        def add(count: int) -> None:
            statuses = list(InquiryStatus)
            Inquiry.objects.bulk_create(
                Inquiry(
                    given_name=f"Person{index}",
                    family_name="Many",
                    email=f"p{index}@example.org",
                    preferred_channel="email",
                    message="Hello",
                    consented_at=now(),
                    status=statuses[index % len(statuses)],
                    consultation_at=now() + dt.timedelta(days=1),
                    consultation_with=practice.therapist,
                )
                for index in range(count)
            )

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get("/intake/").status_code == 200
            return len(captured)

        services.inquiry_convert(
            actor=practice.front_desk,
            inquiry=make_inquiry(),
            fields={"sex_at_birth": "female", "legal_given_names": "Converted"},
        )
        add(9)
        few = queries()
        add(190)
        assert queries() == few


class TestDetail:
    def test_shows_what_was_sent_and_records_the_read(self, practice: Practice) -> None:
        inquiry = make_inquiry(preferred_name="Ro")
        response = signed_in(practice.front_desk).get(f"/intake/{inquiry.public_id}/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Ro Achterberg" in body
        assert "long-standing depression" in body
        assert "Sent from the inquiry form" in body
        for heading in ("Record a contact", "Book the free consultation", "Close the inquiry"):
            assert heading in body
        assert "Consultation outcome" not in body  # nothing booked yet
        event = AuditEvent.objects.get(action="inquiry.read")
        assert (event.actor, event.subject_public_id, event.client_public_id) == (
            practice.front_desk,
            inquiry.public_id,
            None,
        )

    def test_a_converted_inquiry_links_to_its_client(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        client = services.inquiry_convert(
            actor=practice.therapist, inquiry=inquiry, fields={"sex_at_birth": "female"}
        )
        response = signed_in(practice.admin).get(f"/intake/{inquiry.public_id}/")
        body = response.content.decode()
        assert f"/clients/{client.public_id}/" in body
        assert "Convert to client" not in body
        assert "Book the free consultation" not in body
        read = AuditEvent.objects.filter(action="inquiry.read").get()
        assert read.client_public_id == client.public_id  # shows on the client's audit log
        # Front desk not on this client's team sees the name but no link to the chart.
        body = signed_in(practice.front_desk).get(f"/intake/{inquiry.public_id}/").content
        assert b"not on your care teams" in body
        assert f"/clients/{client.public_id}/".encode() not in body


class TestActions:
    def test_mark_contacted(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        http = signed_in(practice.front_desk)
        response = http.post(
            f"/intake/{inquiry.public_id}/contact/", {"contact-note": "Left a message."}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/intake/{inquiry.public_id}/"
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.CONTACTED
        page = http.get(response["Location"]).content.decode()
        assert "Contact recorded." in page
        assert "Left a message." in page

    def test_a_long_note_is_shown_on_the_form_and_saves_nothing(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        http = signed_in(practice.front_desk)
        before = row_counts()
        response = http.post(f"/intake/{inquiry.public_id}/contact/", {"contact-note": "x" * 501})
        assert response.status_code == 400
        assert "note" in response.context["contact_form"].errors
        # Only the read of the page shown again was recorded.
        assert row_counts() == {**before, "AuditEvent": before["AuditEvent"] + 1}

    def test_book_in_the_practice_time_zone(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        day = practice_today() + dt.timedelta(days=3)
        response = signed_in(practice.front_desk).post(
            f"/intake/{inquiry.public_id}/book/",
            {
                "book-consultation_date": day.isoformat(),
                "book-consultation_time": "09:30",
                "book-clinician": str(practice.prescriber.public_id),
                "book-note": "By video",
            },
        )
        assert response.status_code == 302
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.BOOKED
        assert inquiry.consultation_with == practice.prescriber
        local = timezone.localtime(inquiry.consultation_at, practice_zone())
        assert (local.date(), local.hour, local.minute) == (day, 9, 30)
        assert local.utcoffset() != dt.timedelta(0)  # America/Los_Angeles in the tests

    def test_a_past_time_is_refused_on_the_date_field(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        before = row_counts()
        response = signed_in(practice.front_desk).post(
            f"/intake/{inquiry.public_id}/book/",
            {
                "book-consultation_date": (practice_today() - dt.timedelta(days=1)).isoformat(),
                "book-consultation_time": "10:00",
                "book-clinician": str(practice.therapist.public_id),
            },
        )
        assert response.status_code == 400
        errors = response.context["book_form"].errors
        assert "has already passed" in errors["consultation_date"][0]
        assert row_counts()["Inquiry"] == before["Inquiry"]
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.NEW

    def test_only_clinicians_are_offered(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        http = signed_in(practice.front_desk)
        form = http.get(f"/intake/{inquiry.public_id}/").context["book_form"]
        offered = set(form.fields["clinician"].queryset)
        assert practice.therapist in offered
        assert practice.prescriber in offered
        assert practice.nurse not in offered
        assert practice.front_desk not in offered
        response = http.post(
            f"/intake/{inquiry.public_id}/book/",
            {
                "book-consultation_date": (practice_today() + dt.timedelta(days=2)).isoformat(),
                "book-consultation_time": "10:00",
                "book-clinician": str(practice.nurse.public_id),
            },
        )
        assert response.status_code == 400
        assert "clinician" in response.context["book_form"].errors

    def test_outcome_and_close(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        http = signed_in(practice.admin)
        too_early = http.post(
            f"/intake/{inquiry.public_id}/outcome/", {"outcome-outcome": "proceed"}
        )
        assert too_early.status_code == 400
        assert "Record how it went" in too_early.context["outcome_form"].errors["outcome"][0]
        cancelled = http.post(
            f"/intake/{inquiry.public_id}/outcome/", {"outcome-outcome": "cancelled"}
        )
        assert cancelled.status_code == 302
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.CONTACTED
        needs_note = http.post(f"/intake/{inquiry.public_id}/close/", {"close-reason": "other"})
        assert needs_note.status_code == 400
        assert "note" in needs_note.context["close_form"].errors
        closed = http.post(f"/intake/{inquiry.public_id}/close/", {"close-reason": "declined"})
        assert closed.status_code == 302
        inquiry.refresh_from_db()
        assert (inquiry.status, inquiry.close_reason) == ("closed", "declined")

    def test_an_action_the_state_does_not_allow_is_said_plainly(self, practice: Practice) -> None:
        inquiry = services.inquiry_close(
            actor=practice.front_desk, inquiry=make_inquiry(), reason="unreachable"
        )
        http = signed_in(practice.front_desk)
        before = row_counts()
        response = http.post(
            f"/intake/{inquiry.public_id}/book/",
            {
                "book-consultation_date": (practice_today() + dt.timedelta(days=2)).isoformat(),
                "book-consultation_time": "10:00",
                "book-clinician": str(practice.therapist.public_id),
            },
        )
        assert response.status_code == 302
        assert row_counts() == before
        page = http.get(response["Location"]).content.decode()
        assert "This inquiry is closed, so it cannot be booked for a consultation." in page
        assert "Book the free consultation" not in page
        # Even with a form that would not validate, the reason given is the inquiry's state.
        empty = http.post(f"/intake/{inquiry.public_id}/outcome/", {})
        assert empty.status_code == 302
        page = http.get(empty["Location"]).content.decode()
        assert "No consultation" not in page
        assert "This inquiry is closed, so it cannot be given a consultation outcome." in page
        assert row_counts()["InquiryStep"] == before["InquiryStep"]


class TestConvert:
    def test_the_form_is_filled_from_the_inquiry(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        response = signed_in(practice.front_desk).get(f"/intake/{inquiry.public_id}/convert/")
        assert response.status_code == 200
        form = response.context["form"]
        assert form["legal_given_names"].value() == "Rowan"
        assert form["legal_family_name"].value() == "Achterberg"
        assert form["email"].value() == "rowan@example.org"
        assert form["primary_therapist"].value() == practice.therapist.public_id
        assert AuditEvent.objects.filter(action="inquiry.read").count() == 1

    def test_convert_creates_the_client_and_opens_the_chart(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        http = signed_in(practice.front_desk)
        missing = http.post(
            f"/intake/{inquiry.public_id}/convert/",
            {
                "legal_given_names": "Rowan",
                "legal_family_name": "Achterberg",
                "date_of_birth": "1987-09-23",
                "preferred_channel": "email",
            },
        )
        assert missing.status_code == 400
        assert "sex_at_birth" in missing.context["form"].errors
        assert not Client.objects.filter(legal_family_name="Achterberg").exists()
        response = http.post(
            f"/intake/{inquiry.public_id}/convert/",
            {
                "legal_given_names": "Rowan",
                "legal_family_name": "Achterberg",
                "date_of_birth": "1987-09-23",
                "sex_at_birth": "female",
                "email": "rowan@example.org",
                "preferred_channel": "email",
                "primary_therapist": str(practice.therapist.public_id),
            },
        )
        client = Client.objects.get(legal_family_name="Achterberg")
        assert response.status_code == 302
        assert response["Location"] == f"/clients/{client.public_id}/"
        assert client.status == ClientStatus.CONSULTATION
        inquiry.refresh_from_db()
        assert inquiry.client == client
        assert AuditEvent.objects.filter(
            action="inquiry.convert", client_public_id=client.public_id
        ).exists()
        # A second conversion is refused with a clear message, and nothing more is created.
        before = row_counts()
        again = http.post(
            f"/intake/{inquiry.public_id}/convert/",
            {
                "legal_given_names": "Rowan",
                "legal_family_name": "Achterberg",
                "date_of_birth": "1987-09-23",
                "sex_at_birth": "female",
                "preferred_channel": "email",
                "acknowledge_duplicate": "on",
            },
        )
        assert again.status_code == 302
        assert again["Location"] == f"/intake/{inquiry.public_id}/"
        assert row_counts() == before
        page = http.get(again["Location"]).content.decode()
        assert "already been converted to a client; it cannot be converted twice" in page
        assert http.get(f"/intake/{inquiry.public_id}/convert/").status_code == 302

    def test_a_possible_duplicate_shows_as_on_the_new_client_page(self, practice: Practice) -> None:
        make_client(
            legal_given_names="Rowan",
            legal_family_name="Achterberg",
            date_of_birth=dt.date(1987, 9, 23),
        )
        inquiry = make_inquiry()
        http = signed_in(practice.front_desk)
        data = {
            "legal_given_names": "Rowan",
            "legal_family_name": "Achterberg",
            "date_of_birth": "1987-09-23",
            "sex_at_birth": "female",
            "preferred_channel": "email",
        }
        before = row_counts()
        response = http.post(f"/intake/{inquiry.public_id}/convert/", data)
        assert response.status_code == 400
        assert response.context["duplicate"] is True
        assert "Possible duplicate" in response.content.decode()
        assert "is already on record" in response.content.decode()
        assert row_counts() == before
        confirmed = http.post(
            f"/intake/{inquiry.public_id}/convert/", {**data, "acknowledge_duplicate": "on"}
        )
        assert confirmed.status_code == 302
        assert Client.objects.filter(legal_family_name="Achterberg").count() == 2


class TestHome:
    def test_front_desk_sees_the_new_inquiries(self, practice: Practice) -> None:
        make_inquiry()
        make_inquiry(family_name="Second")
        services.inquiry_contact(actor=practice.front_desk, inquiry=make_inquiry())
        response = signed_in(practice.front_desk).get("/")
        assert response.context["new_inquiries"] == 2
        body = response.content.decode()
        assert "<strong>2</strong> new inquiries" in body
        assert 'href="/intake/?status=new"' in body

    def test_clinicians_do_not(self, practice: Practice) -> None:
        make_inquiry()
        response = signed_in(practice.therapist).get("/")
        assert "new_inquiries" not in response.context
        assert "new inquir" not in response.content.decode()

    def test_home_query_count_does_not_grow_with_inquiries(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get("/").status_code == 200
            return len(captured)

        def add(count: int) -> None:
            Inquiry.objects.bulk_create(
                Inquiry(
                    given_name="A",
                    family_name=f"B{index}",
                    phone="555 555 0100",
                    message="Hi",
                    consented_at=now(),
                )
                for index in range(count)
            )

        add(10)
        few = queries()
        add(190)
        assert queries() == few
