"""Inquiry writes: validated before anything is saved, audited in the same transaction, and moved
only along the allowed path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from kapcare.clients.models import CareTeamRole, Client, ClientStatus
from kapcare.clients.services import PossibleDuplicate
from kapcare.core.context import WorkContext, working_as
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.intake import services
from kapcare.intake.models import Inquiry, InquiryStatus, InquiryStep, StepKind
from kapcare.intake.tests.helpers import booked_inquiry, inquiry_fields, make_inquiry, row_counts
from kapcare.testing.factories import make_client, make_staff
from kapcare.testing.personas import Practice


def rules_broken(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code or "" for item in items] for field, items in error.error_dict.items()}


def refused(
    call: Callable[[], Any], expected: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """Run a service call that must fail; assert nothing at all was written."""
    before = row_counts()
    with pytest.raises(ValidationError) as caught:
        call()
    assert row_counts() == before
    broken = rules_broken(caught.value)
    if expected is not None:
        assert broken == expected
    return broken


def later(hours: float) -> Any:
    """Move the services' clock `hours` ahead."""
    moment = now() + dt.timedelta(hours=hours)
    return mock.patch("kapcare.intake.services.now", return_value=moment)


class TestCreate:
    def test_saves_the_inquiry_its_first_step_and_an_audit_without_the_message(
        self, db: None
    ) -> None:
        with working_as(WorkContext(channel="web", ip="203.0.113.7")):
            inquiry = services.inquiry_create(
                actor=None,
                fields=inquiry_fields(given_name="  Rowan ", preferred_name=" Ro "),
                consent=True,
            )
        inquiry.refresh_from_db()
        assert (inquiry.given_name, inquiry.preferred_name) == ("Rowan", "Ro")  # trimmed
        assert inquiry.status == InquiryStatus.NEW
        assert inquiry.consented_at is not None
        assert inquiry.created_by is None
        step = inquiry.steps.get()
        assert (step.kind, step.summary) == (StepKind.RECEIVED, "Sent from the inquiry form")
        event = AuditEvent.objects.get(action="inquiry.create")
        assert event.actor is None
        assert event.actor_label == "(web)"
        assert event.channel == "web"
        assert event.subject_public_id == inquiry.public_id
        assert event.client_public_id is None
        # A member of the public is not tracked by address.
        assert event.ip is None
        assert event.after is not None
        assert event.after["email"] == "rowan@example.org"
        assert event.after["date_of_birth"] == "1987-09-23"
        assert "message" not in event.after
        assert "ketamine" not in str(event.after)

    def test_entered_by_staff_keeps_the_staff_member(self, practice: Practice) -> None:
        with working_as(WorkContext(channel="web", ip="198.51.100.4")):
            inquiry = services.inquiry_create(
                actor=practice.front_desk, fields=inquiry_fields(), consent=True
            )
        assert inquiry.steps.get().summary == f"Entered by {practice.front_desk}"
        event = AuditEvent.objects.get(action="inquiry.create")
        assert (event.actor, event.ip) == (practice.front_desk, "198.51.100.4")

    def test_only_email_or_only_phone_is_enough(self, db: None) -> None:
        by_email = make_inquiry(phone="", preferred_channel="email")
        by_phone = make_inquiry(email="", preferred_channel="sms", date_of_birth=None)
        assert (by_email.phone, by_phone.email, by_phone.date_of_birth) == ("", "", None)

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"given_name": ""}, {"given_name": ["blank"]}),
            ({"family_name": "x" * 101}, {"family_name": ["max_length"]}),
            ({"email": "not-an-address"}, {"email": ["invalid"]}),
            ({"phone": "call me"}, {"phone": ["invalid_phone"]}),
            ({"date_of_birth": dt.date(2999, 1, 1)}, {"date_of_birth": ["future_date"]}),
            ({"message": ""}, {"message": ["blank"]}),
            ({"message": "x" * 1001}, {"message": ["max_length"]}),
            ({"heard_from": "radio"}, {"heard_from": ["invalid_choice"]}),
            ({"preferred_channel": "pigeon"}, {"preferred_channel": ["invalid_choice"]}),
            (
                {"email": "", "phone": ""},
                {"email": ["contact_required"], "phone": ["contact_required"]},
            ),
            ({"email": "", "preferred_channel": "email"}, {"email": ["required"]}),
            ({"phone": "", "preferred_channel": "phone"}, {"phone": ["required"]}),
        ],
    )
    def test_bad_input_saves_nothing(
        self, db: None, overrides: dict[str, Any], expected: dict[str, list[str]]
    ) -> None:
        refused(
            lambda: services.inquiry_create(
                actor=None, fields=inquiry_fields(**overrides), consent=True
            ),
            expected,
        )

    def test_consent_is_required(self, db: None) -> None:
        refused(
            lambda: services.inquiry_create(actor=None, fields=inquiry_fields(), consent=False),
            {"consent": ["required"]},
        )

    def test_unknown_fields_are_refused(self, db: None) -> None:
        refused(
            lambda: services.inquiry_create(
                actor=None, fields=inquiry_fields(status="converted"), consent=True
            ),
            {"status": ["unknown_field"]},
        )

    def test_every_problem_is_reported_at_once(self, db: None) -> None:
        broken = refused(
            lambda: services.inquiry_create(
                actor=None,
                fields=inquiry_fields(given_name="", email="", phone=""),
                consent=False,
            )
        )
        assert set(broken) == {"given_name", "email", "phone", "consent"}


class TestContact:
    def test_marks_a_new_inquiry_contacted_with_the_note(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        services.inquiry_contact(
            actor=practice.front_desk, inquiry=inquiry, note="  Left a voicemail. "
        )
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.CONTACTED
        assert inquiry.contacted_at is not None
        assert inquiry.updated_by == practice.front_desk
        step = inquiry.steps.last()
        assert step is not None
        assert (step.kind, step.note, step.created_by) == (
            StepKind.CONTACTED,
            "Left a voicemail.",
            practice.front_desk,
        )
        event = AuditEvent.objects.get(action="inquiry.contact")
        assert event.actor == practice.front_desk
        assert event.before is not None
        assert event.after is not None
        assert (event.before["status"], event.after["status"]) == ("new", "contacted")
        assert "voicemail" not in str(event.after)

    def test_a_second_contact_keeps_the_status_and_is_recorded(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        services.inquiry_contact(actor=practice.front_desk, inquiry=inquiry)
        services.inquiry_contact(actor=practice.admin, inquiry=inquiry, note="Spoke at last.")
        assert inquiry.status == InquiryStatus.CONTACTED
        assert inquiry.steps.filter(kind=StepKind.CONTACTED).count() == 2
        assert AuditEvent.objects.filter(action="inquiry.contact").count() == 2

    def test_a_booked_inquiry_can_be_contacted_and_stays_booked(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        services.inquiry_contact(actor=practice.front_desk, inquiry=inquiry, note="Reminder")
        assert inquiry.status == InquiryStatus.BOOKED

    def test_a_long_note_saves_nothing(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        refused(
            lambda: services.inquiry_contact(
                actor=practice.front_desk, inquiry=inquiry, note="x" * 501
            ),
            {"note": ["max_length"]},
        )
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.NEW


class TestBook:
    def test_books_the_consultation(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        starts = now() + dt.timedelta(days=2)
        services.inquiry_book_consultation(
            actor=practice.front_desk,
            inquiry=inquiry,
            starts_at=starts,
            clinician=practice.therapist,
            note="Video call",
        )
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.BOOKED
        assert (inquiry.consultation_at, inquiry.consultation_with) == (starts, practice.therapist)
        step = inquiry.steps.last()
        assert step is not None
        assert step.kind == StepKind.BOOKED
        assert step.summary.startswith("Consultation booked for ")
        assert str(practice.therapist) in step.summary
        event = AuditEvent.objects.get(action="inquiry.book_consultation")
        assert event.after is not None
        assert event.after["consultation_with"] == str(practice.therapist.public_id)
        assert event.after["consultation_at"] == starts.isoformat()
        assert event.after["status"] == "booked"

    def test_a_prescriber_can_hold_it_and_it_can_be_moved(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        moved_to = now() + dt.timedelta(days=5)
        services.inquiry_book_consultation(
            actor=practice.admin,
            inquiry=inquiry,
            starts_at=moved_to,
            clinician=practice.prescriber,
        )
        inquiry.refresh_from_db()
        assert (inquiry.consultation_at, inquiry.consultation_with) == (
            moved_to,
            practice.prescriber,
        )
        assert inquiry.steps.last().summary.startswith("Consultation moved to ")  # type: ignore[union-attr]
        event = AuditEvent.objects.filter(action="inquiry.book_consultation").first()
        assert event is not None
        assert event.before is not None
        assert event.before["consultation_with"] == str(practice.therapist.public_id)
        assert "status" not in event.before  # only what changed

    def test_a_time_that_has_passed_is_refused_naming_the_field(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        with pytest.raises(ValidationError) as caught:
            services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=inquiry,
                starts_at=now() - dt.timedelta(minutes=5),
                clinician=practice.therapist,
            )
        assert rules_broken(caught.value) == {"consultation_at": ["past"]}
        assert "already passed" in caught.value.message_dict["consultation_at"][0]
        refused(
            lambda: services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=inquiry,
                starts_at=now(),
                clinician=practice.therapist,
            ),
            {"consultation_at": ["past"]},
        )

    def test_a_time_without_a_zone_is_refused(self, practice: Practice) -> None:
        fresh = make_inquiry()
        refused(
            lambda: services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=fresh,
                starts_at=dt.datetime(2999, 1, 1, 10, 0),  # noqa: DTZ001 (the point of the test)
                clinician=practice.therapist,
            ),
            {"consultation_at": ["naive"]},
        )

    @pytest.mark.parametrize("who", ["nurse", "front_desk", "admin"])
    def test_only_a_therapist_or_prescriber_holds_a_consultation(
        self, practice: Practice, who: str
    ) -> None:
        fresh = make_inquiry()
        refused(
            lambda: services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=fresh,
                starts_at=now() + dt.timedelta(days=1),
                clinician=getattr(practice, who),
            ),
            {"clinician": ["wrong_role"]},
        )

    def test_an_inactive_clinician_is_refused(self, practice: Practice) -> None:
        gone = make_staff(therapist=True, is_active=False)
        fresh = make_inquiry()
        refused(
            lambda: services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=fresh,
                starts_at=now() - dt.timedelta(days=1),
                clinician=gone,
            ),
            {"consultation_at": ["past"], "clinician": ["inactive"]},
        )

    def test_cannot_book_on_a_closed_converted_or_consulted_inquiry(
        self, practice: Practice
    ) -> None:
        def book(inquiry: Inquiry) -> Callable[[], Any]:
            return lambda: services.inquiry_book_consultation(
                actor=practice.front_desk,
                inquiry=inquiry,
                starts_at=now() + dt.timedelta(days=1),
                clinician=practice.therapist,
            )

        closed = services.inquiry_close(
            actor=practice.front_desk, inquiry=make_inquiry(), reason="declined"
        )
        assert refused(book(closed)) == {"status": ["closed"]}
        converted = make_inquiry()
        services.inquiry_convert(
            actor=practice.front_desk, inquiry=converted, fields={"sex_at_birth": "female"}
        )
        assert refused(book(converted)) == {"status": ["converted"]}
        consulted = booked_inquiry(practice.therapist, practice.front_desk, hours_ahead=1)
        with later(2):
            services.inquiry_record_outcome(
                actor=practice.front_desk, inquiry=consulted, outcome="deciding"
            )
        assert refused(book(consulted)) == {"status": ["consultation_held"]}


class TestOutcome:
    def test_a_held_consultation(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk, hours_ahead=1)
        with later(2):
            services.inquiry_record_outcome(
                actor=practice.front_desk,
                inquiry=inquiry,
                outcome="proceed",
                note="Good fit; screening next.",
            )
        inquiry.refresh_from_db()
        assert (inquiry.status, inquiry.consultation_outcome) == ("consulted", "proceed")
        step = inquiry.steps.last()
        assert step is not None
        assert step.summary == "Consultation: Suitable: go ahead to screening"
        event = AuditEvent.objects.get(action="inquiry.record_outcome")
        assert event.after == {"status": "consulted", "consultation_outcome": "proceed"}

    def test_a_missed_consultation_can_be_booked_again(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk, hours_ahead=1)
        with later(2):
            services.inquiry_record_outcome(
                actor=practice.front_desk, inquiry=inquiry, outcome="no_show"
            )
        assert inquiry.status == InquiryStatus.CONTACTED
        services.inquiry_book_consultation(
            actor=practice.front_desk,
            inquiry=inquiry,
            starts_at=now() + dt.timedelta(days=3),
            clinician=practice.prescriber,
        )
        assert (inquiry.status, inquiry.consultation_outcome) == ("booked", "")

    def test_cancelling_before_the_time_is_fine_but_holding_is_not(
        self, practice: Practice
    ) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        for outcome in ("proceed", "no_show", "not_suitable"):
            broken = refused(
                lambda outcome=outcome: services.inquiry_record_outcome(  # type: ignore[misc]
                    actor=practice.front_desk, inquiry=inquiry, outcome=outcome
                )
            )
            assert broken == {"outcome": ["not_yet"]}
        services.inquiry_record_outcome(
            actor=practice.front_desk, inquiry=inquiry, outcome="cancelled"
        )
        assert inquiry.status == InquiryStatus.CONTACTED

    def test_bad_outcome_and_no_booking(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        refused(
            lambda: services.inquiry_record_outcome(
                actor=practice.front_desk, inquiry=inquiry, outcome="great"
            ),
            {"outcome": ["invalid_choice"]},
        )
        fresh = make_inquiry()
        refused(
            lambda: services.inquiry_record_outcome(
                actor=practice.front_desk, inquiry=fresh, outcome="cancelled"
            ),
            {"status": ["not_booked"]},
        )


class TestClose:
    def test_closes_with_a_reason(self, practice: Practice) -> None:
        inquiry = booked_inquiry(practice.therapist, practice.front_desk)
        services.inquiry_close(
            actor=practice.admin, inquiry=inquiry, reason="referred", note="Closer to home."
        )
        inquiry.refresh_from_db()
        assert (inquiry.status, inquiry.close_reason) == ("closed", "referred")
        event = AuditEvent.objects.get(action="inquiry.close")
        assert event.after == {"status": "closed", "close_reason": "referred"}

    def test_other_needs_a_note_and_unknown_reasons_are_refused(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        refused(
            lambda: services.inquiry_close(
                actor=practice.front_desk, inquiry=inquiry, reason="other", note="  "
            ),
            {"note": ["required"]},
        )
        refused(
            lambda: services.inquiry_close(
                actor=practice.front_desk, inquiry=inquiry, reason="bored"
            ),
            {"reason": ["invalid_choice"]},
        )
        services.inquiry_close(
            actor=practice.front_desk, inquiry=inquiry, reason="other", note="Moved abroad."
        )
        assert inquiry.status == InquiryStatus.CLOSED

    def test_a_closed_inquiry_stays_closed(self, practice: Practice) -> None:
        inquiry = services.inquiry_close(
            actor=practice.front_desk, inquiry=make_inquiry(), reason="unreachable"
        )
        for call in (
            lambda: services.inquiry_close(
                actor=practice.front_desk, inquiry=inquiry, reason="declined"
            ),
            lambda: services.inquiry_contact(actor=practice.front_desk, inquiry=inquiry),
            lambda: services.inquiry_convert(
                actor=practice.front_desk, inquiry=inquiry, fields={"sex_at_birth": "male"}
            ),
        ):
            assert refused(call) == {"status": ["closed"]}


class TestConvert:
    def test_creates_the_client_from_the_inquiry_and_links_them(self, practice: Practice) -> None:
        inquiry = make_inquiry(preferred_name="Ro", preferred_channel="sms")
        client = services.inquiry_convert(
            actor=practice.front_desk,
            inquiry=inquiry,
            fields={"sex_at_birth": "intersex"},
            care_team=[(practice.therapist, CareTeamRole.PRIMARY_THERAPIST)],
        )
        client.refresh_from_db()
        inquiry.refresh_from_db()
        assert (client.legal_given_names, client.legal_family_name, client.preferred_name) == (
            "Rowan",
            "Achterberg",
            "Ro",
        )
        assert (client.email, client.phone, client.preferred_channel) == (
            "rowan@example.org",
            "(555) 555-0150",
            "sms",
        )
        assert client.date_of_birth == dt.date(1987, 9, 23)
        assert client.status == ClientStatus.INQUIRY
        assert (inquiry.status, inquiry.client) == (InquiryStatus.CONVERTED, client)
        assert {(m.staff, m.role) for m in client.care_team.all()} == {
            (practice.therapist, CareTeamRole.PRIMARY_THERAPIST),
            (practice.front_desk, CareTeamRole.COORDINATOR),
        }
        actions = list(
            AuditEvent.objects.filter(client_public_id=client.public_id)
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == ["client.create", "care_team.add", "care_team.add", "inquiry.convert"]
        event = AuditEvent.objects.get(action="inquiry.convert")
        assert event.subject_public_id == inquiry.public_id
        assert event.after == {"status": "converted", "client": str(client.public_id)}
        step = inquiry.steps.last()
        assert step is not None
        assert step.kind == StepKind.CONVERTED

    def test_the_front_desk_corrects_the_name_on_conversion(self, practice: Practice) -> None:
        inquiry = make_inquiry(given_name="Ro")
        client = services.inquiry_convert(
            actor=practice.admin,
            inquiry=inquiry,
            fields={"legal_given_names": "Rowan Elisabeth", "sex_at_birth": "female"},
        )
        assert client.legal_given_names == "Rowan Elisabeth"
        assert not client.care_team.exists()  # a practice admin does not join

    def test_a_client_starts_where_the_inquiry_had_reached(self, practice: Practice) -> None:
        booked = booked_inquiry(practice.therapist, practice.front_desk)
        client = services.inquiry_convert(
            actor=practice.front_desk, inquiry=booked, fields={"sex_at_birth": "male"}
        )
        assert client.status == ClientStatus.CONSULTATION
        assert AuditEvent.objects.filter(
            action="client.status_change", client_public_id=client.public_id
        ).exists()
        suitable = booked_inquiry(practice.therapist, practice.front_desk, hours_ahead=1)
        with later(2):
            services.inquiry_record_outcome(
                actor=practice.front_desk, inquiry=suitable, outcome="proceed"
            )
        screening = services.inquiry_convert(
            actor=practice.front_desk,
            inquiry=suitable,
            fields={"sex_at_birth": "male", "legal_given_names": "Other"},
        )
        assert screening.status == ClientStatus.SCREENING
        assert screening.status_changes.first().reason == "Converted from an inquiry"  # type: ignore[union-attr]

    def test_missing_client_details_save_nothing(self, practice: Practice) -> None:
        inquiry = make_inquiry(date_of_birth=None)
        broken = refused(
            lambda: services.inquiry_convert(actor=practice.front_desk, inquiry=inquiry)
        )
        assert set(broken) == {"date_of_birth", "sex_at_birth"}
        inquiry.refresh_from_db()
        assert (inquiry.status, inquiry.client) == (InquiryStatus.NEW, None)

    def test_unknown_client_fields_are_refused(self, practice: Practice) -> None:
        fresh = make_inquiry()
        refused(
            lambda: services.inquiry_convert(
                actor=practice.front_desk,
                inquiry=fresh,
                fields={"sex_at_birth": "female", "status": "active"},
            ),
            {"status": ["unknown_field"]},
        )

    def test_a_possible_duplicate_is_refused_until_confirmed(self, practice: Practice) -> None:
        make_client(
            legal_given_names="Rowan",
            legal_family_name="Achterberg",
            date_of_birth=dt.date(1987, 9, 23),
        )
        inquiry = make_inquiry()
        before = row_counts()
        with pytest.raises(PossibleDuplicate) as caught:
            services.inquiry_convert(
                actor=practice.front_desk, inquiry=inquiry, fields={"sex_at_birth": "female"}
            )
        assert row_counts() == before
        assert rules_broken(caught.value) == {"acknowledge_duplicate": ["possible_duplicate"]}
        client = services.inquiry_convert(
            actor=practice.front_desk,
            inquiry=inquiry,
            fields={"sex_at_birth": "female"},
            acknowledge_duplicate=True,
        )
        assert Client.objects.filter(legal_family_name="Achterberg").count() == 2
        created = AuditEvent.objects.get(action="client.create", client_public_id=client.public_id)
        assert created.detail == {"duplicate_acknowledged": True}

    def test_an_inquiry_is_converted_once(self, practice: Practice) -> None:
        inquiry = make_inquiry()
        stale_copy = Inquiry.objects.get(pk=inquiry.pk)
        services.inquiry_convert(
            actor=practice.front_desk, inquiry=inquiry, fields={"sex_at_birth": "female"}
        )
        again = {"sex_at_birth": "female", "legal_given_names": "Someone else"}
        broken = refused(
            lambda: services.inquiry_convert(
                actor=practice.front_desk, inquiry=inquiry, fields=again
            )
        )
        assert broken == {"status": ["already_converted"]}
        # A copy read before the conversion (a second tab) is refused the same way.
        assert refused(
            lambda: services.inquiry_convert(actor=practice.admin, inquiry=stale_copy, fields=again)
        ) == {"status": ["already_converted"]}
        assert Client.objects.filter(inquiry__isnull=False).count() == 1


def test_a_change_made_meanwhile_is_not_overwritten(practice: Practice) -> None:
    inquiry = make_inquiry()
    other_tab = Inquiry.objects.get(pk=inquiry.pk)
    services.inquiry_contact(actor=practice.front_desk, inquiry=inquiry)
    assert refused(lambda: services.inquiry_contact(actor=practice.admin, inquiry=other_tab)) == {
        "status": ["changed"]
    }


def test_history_reads_in_order(practice: Practice) -> None:
    inquiry = make_inquiry()
    services.inquiry_contact(actor=practice.front_desk, inquiry=inquiry)
    services.inquiry_book_consultation(
        actor=practice.front_desk,
        inquiry=inquiry,
        starts_at=now() + dt.timedelta(days=1),
        clinician=practice.therapist,
    )
    services.inquiry_close(actor=practice.front_desk, inquiry=inquiry, reason="declined")
    assert list(InquiryStep.objects.values_list("kind", flat=True)) == [
        "received",
        "contacted",
        "booked",
        "closed",
    ]
