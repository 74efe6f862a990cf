"""The esketamine REMS Patient Monitoring Form: filled from a charted session (the label's
three blood pressures, sedation, dissociation, breathing, medicines, events, who monitored),
missing items named and never invented, the deadline across a weekend and the status as days
pass, the submission's rules, who may see a form, the audit rows, a queue whose query count does
not grow, the site's certification, and the PDF."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from kapcare.clients.models import CareTeamRole
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses.models import Appointment, Course, Room
from kapcare.dosing import rems, services
from kapcare.dosing.models import DosingSession, RemsForm, RemsSiteCertification
from kapcare.dosing.rems_pdf import rems_form_pdf
from kapcare.dosing.tests.rems_helpers import LOT, charted_session, open_session
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.personas import Practice

REFERENCE = "REMS-CONF-20931"


def counts() -> tuple[int, ...]:
    return (
        RemsForm.objects.count(),
        RemsForm.objects.filter(submitted_on__isnull=False).count(),
        RemsSiteCertification.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {f: [e.code for e in errs] for f, errs in raised.value.error_dict.items()}  # type: ignore[misc]


def certify(practice: Practice) -> RemsSiteCertification:
    return rems.rems_site_certify(
        actor=practice.admin,
        number="HCS-55120",
        certified_on=practice_today() - dt.timedelta(days=90),
        site_name="Harbor Mind Clinic",
    )


def past_friday(weeks_back: int = 2) -> dt.date:
    today = practice_today()
    return today - dt.timedelta(days=7 * weeks_back + (today.weekday() - 4) % 7)


def at_ten(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=practice_zone())


def codes(data: dict[str, Any]) -> list[str]:
    return [item["code"] for item in data["missing"]]


# ---------------------------------------------------------------------------------------------
# Filling the form


class TestFill:
    def test_a_charted_session_fills_every_section(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        certify(practice)
        session = charted_session(practice, monkeypatch)
        data = rems.rems_form_fill(session)
        assert json.loads(json.dumps(data)) == data  # JSON as stored
        assert codes(data) == []
        assert data["patient"]["rems_reference"] == "PT-448812"
        assert data["site"]["certification_number"] == "HCS-55120"
        assert data["session"]["date"] == rems.session_day(session).isoformat()

        dose = data["dose"]
        assert (dose["dose_mg"], dose["devices"], dose["lot"]) == ("56", 2, LOT)
        assert dose["given_by"] == practice.prescriber.display_name

        monitoring = data["monitoring"]
        assert (monitoring["minutes"], monitoring["minimum_minutes"]) == (125, 120)
        assert monitoring["met_minimum"] is True

        bp = data["blood_pressure"]
        assert (bp["pre_dose"]["systolic"], bp["pre_dose"]["diastolic"]) == (128, 82)
        # The 41-minute reading as corrected (215 was a slip), not the 20- or 80-minute one.
        assert (bp["post_dose"]["systolic"], bp["post_dose"]["minutes_after_dose"]) == (152, 41)
        assert (bp["discharge"]["systolic"], bp["discharge"]["minutes_after_dose"]) == (136, 122)
        assert bp["changed"] is True
        assert {alert["value"] for alert in bp["alerts"]} == {"152/94 mmHg", "144/88 mmHg"}

        sedation = data["sedation"]
        assert (sedation["lowest"], sedation["level"]) == (3, "moderate_or_greater")
        assert sedation["occurred"] is True
        assert sedation["resolved"] is True

        dissociation = data["dissociation"]
        assert (dissociation["highest"], dissociation["version"]) == (18, "cadss23")
        assert dissociation["occurred"] is True
        assert dissociation["resolved"] is True

        breathing = data["respiratory"]
        assert (breathing["occurred"], breathing["lowest_spo2"]) == (False, 93)
        assert breathing["lowest_respiratory_rate"] == 12

        medicines = data["medicines"]
        listed = {m["name"]: m["rems_relevant"] for m in medicines["current"]}
        assert listed == {"Sertraline": False, "Lorazepam": True}
        assert [m["code"] for m in medicines["taken_today"]] == ["opioid"]
        assert medicines["rems_relevant"] is True

        assert [e["effect"] for e in data["side_effects"]] == ["Nausea"]
        [event] = data["adverse_events"]
        assert (event["event"], event["severity"], event["seriousness"]) == (
            "Vasovagal episode",
            "Moderate",
            "Not serious",
        )
        assert data["monitored_by"] == {
            "monitoring_clinician": practice.nurse.display_name,
            "therapist": practice.therapist.display_name,
            "dose_given_by": practice.prescriber.display_name,
            "discharged_by": practice.nurse.display_name,
        }

    def test_a_low_oxygen_reading_is_respiratory_depression(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = charted_session(practice, monkeypatch, discharged=False)
        services.vitals_record(actor=practice.nurse, session=session, spo2=88)
        breathing = rems.rems_form_fill(session)["respiratory"]
        assert breathing["occurred"] is True
        assert breathing["lowest_spo2"] == 88
        assert [alert["code"] for alert in breathing["alerts"]] == ["spo2"]

    def test_what_the_record_lacks_is_named_and_left_empty(self, practice: Practice) -> None:
        session = open_session(practice, enrol=False)
        data = rems.rems_form_fill(session)
        assert codes(data) == [
            "rems_enrollment",
            "site_certification",
            "dose",
            "medicines_today",
            "discharge",
            "bp_pre_dose",
            "bp_post_dose",
            "bp_discharge",
            "spo2",
            "moaas",
            "cadss",
        ]
        assert data["dose"] is None
        assert data["patient"]["rems_reference"] is None
        assert data["medicines"]["taken_today"] is None
        assert data["monitoring"]["minutes"] is None
        assert data["blood_pressure"]["pre_dose"] is None
        assert data["blood_pressure"]["changed"] is None
        assert (data["sedation"]["occurred"], data["sedation"]["lowest"]) == (None, None)
        assert data["dissociation"]["occurred"] is None
        assert data["respiratory"]["occurred"] is None
        sections = {s.title: dict(s.rows) for s in rems.form_sections(data)}
        assert sections["Dose"]["Lot and expiry"] == rems.MISSING_TEXT
        assert sections["Sedation (MOAA/S)"]["Sedation occurred"] == rems.MISSING_TEXT

    def test_not_discharged_has_no_discharge_reading_or_end(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        certify(practice)
        data = rems.rems_form_fill(charted_session(practice, monkeypatch, discharged=False))
        assert codes(data) == ["discharge", "bp_discharge"]
        assert data["blood_pressure"]["discharge"] is None
        assert data["monitoring"]["ended_at"] is None
        assert data["monitored_by"]["discharged_by"] is None


class TestBpPoints:
    def reading(self, minute: int, systolic: int = 130) -> Any:
        start = dt.datetime(2026, 3, 6, 10, tzinfo=dt.UTC)
        return rems.rules.Reading(
            at=start + dt.timedelta(minutes=minute), systolic=systolic, diastolic=80
        )

    def test_one_reading_after_the_dose_is_the_discharge_one_and_the_40_minute_one(self) -> None:
        dose_at = self.reading(0).at
        points = rems.bp_points(
            [self.reading(-5), self.reading(110)],
            dose_at,
            dose_at + dt.timedelta(minutes=120),
            40,
        )
        assert points.pre_dose == self.reading(-5)
        assert points.post_dose == points.discharge == self.reading(110)

    def test_readings_after_discharge_and_without_bp_are_left_out(self) -> None:
        dose_at = self.reading(0).at
        no_bp = rems.rules.Reading(at=dose_at + dt.timedelta(minutes=40), spo2=97)
        points = rems.bp_points(
            [self.reading(-5), no_bp, self.reading(45), self.reading(90), self.reading(130)],
            dose_at,
            dose_at + dt.timedelta(minutes=120),
            40,
        )
        assert points.post_dose == self.reading(45)
        assert points.discharge == self.reading(90)

    def test_nothing_without_a_dose(self) -> None:
        points = rems.bp_points([self.reading(-5)], None, None, 40)
        assert points == rems.BpPoints(None, None, None)


# ---------------------------------------------------------------------------------------------
# Creating, refreshing, submitting


class TestCreate:
    def test_created_once_due_after_the_session_and_audited(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = charted_session(practice, monkeypatch)
        form = rems.rems_form_create(actor=practice.nurse, session=session)
        assert form.due_on == rems.session_day(session) + dt.timedelta(days=7)
        assert form.data["dose"]["lot"] == LOT
        again = rems.rems_form_create(actor=practice.nurse, session=session)
        assert again.pk == form.pk
        event = AuditEvent.objects.get(action="rems_form.create")
        assert event.subject_public_id == form.public_id
        assert event.client_public_id == practice.client.public_id
        assert event.after["due_on"] == form.due_on.isoformat()
        assert event.after["missing"] == ["site_certification"]

    def test_it_joins_the_callers_transaction(self, practice: Practice) -> None:
        session = open_session(practice)
        with transaction.atomic():
            form = rems.rems_form_create(actor=practice.nurse, session=session)
            assert RemsForm.objects.filter(pk=form.pk).exists()
            transaction.set_rollback(True)
        # The caller's transaction was rolled back, and the form and its audit row with it.
        assert not RemsForm.objects.exists()
        assert not AuditEvent.objects.filter(action="rems_form.create").exists()
        with transaction.atomic():
            rems.rems_form_create(actor=practice.nurse, session=session)
        assert RemsForm.objects.count() == 1

    def test_only_an_esketamine_session(self, practice: Practice) -> None:
        course = Course.objects.create(
            client=practice.client, protocol="iv_racemic", started_on=practice_today()
        )
        appointment = Appointment.objects.create(
            client=practice.client,
            course=course,
            kind="dosing",
            starts_at=at_ten(practice_today()),
            ends_at=at_ten(practice_today()) + dt.timedelta(hours=2),
            clinician=practice.nurse,
            room=Room.objects.create(name="Infusion bay"),
        )
        session = services.session_open(actor=practice.nurse, appointment=appointment)
        assert refused(lambda: rems.rems_form_create(actor=practice.nurse, session=session)) == {
            "session": ["not_esketamine"]
        }

    def test_only_a_clinician(self, practice: Practice) -> None:
        session = open_session(practice)
        assert refused(
            lambda: rems.rems_form_create(actor=practice.front_desk, session=session)
        ) == {"session": ["not_clinician"]}


class TestDeadline:
    def test_a_friday_session_is_due_the_next_friday_and_its_status_follows_the_days(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        friday = past_friday()
        assert friday.weekday() == 4
        session = open_session(practice, starts_at=at_ten(friday))
        form = rems.rems_form_create(actor=practice.nurse, session=session)
        assert form.due_on == friday + dt.timedelta(days=7)
        assert form.due_on.weekday() == 4  # the weekend counts: calendar days

        def status_on(day: dt.date) -> str:
            monkeypatch.setattr(rems, "practice_today", lambda: day)
            [row] = rems.rems_queue(practice.nurse)
            return row.status.state

        assert status_on(friday + dt.timedelta(days=1)) == "due"
        assert status_on(friday + dt.timedelta(days=7)) == "due"  # the last day
        assert status_on(friday + dt.timedelta(days=8)) == "overdue"
        monkeypatch.undo()
        rems.rems_form_submit(
            actor=practice.nurse,
            form=form,
            submitted_on=friday + dt.timedelta(days=9),
            reference=REFERENCE,
        )
        [row] = rems.rems_queue(practice.nurse)
        assert row.status.state == "submitted_late"
        assert "2 days after the deadline" in row.status.reason

    def test_submitted_by_the_deadline_is_on_time(self, practice: Practice) -> None:
        friday = past_friday()
        form = rems.rems_form_create(
            actor=practice.nurse, session=open_session(practice, starts_at=at_ten(friday))
        )
        done = rems.rems_form_submit(
            actor=practice.prescriber,
            form=form,
            submitted_on=friday + dt.timedelta(days=7),
            reference=REFERENCE,
        )
        assert rems.form_status(done).state == "on_time"

    def test_the_days_come_from_the_parameter(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        params, versions = rems.selectors.parameters_in_force()
        shorter = rems.rules.DosingParameters(**(params.__dict__ | {"rems_form_days": 3}))
        monkeypatch.setattr(rems.selectors, "parameters_in_force", lambda: (shorter, versions))
        friday = past_friday()
        form = rems.rems_form_create(
            actor=practice.nurse, session=open_session(practice, starts_at=at_ten(friday))
        )
        assert form.due_on == friday + dt.timedelta(days=3)


class TestSubmit:
    @pytest.fixture
    def form(self, practice: Practice) -> RemsForm:
        session = open_session(practice, starts_at=at_ten(practice_today() - dt.timedelta(days=2)))
        return rems.rems_form_create(actor=practice.nurse, session=session)

    def submit(self, practice: Practice, form: RemsForm, **changes: Any) -> RemsForm:
        fields: dict[str, Any] = {
            "actor": practice.nurse,
            "submitted_on": practice_today(),
            "reference": REFERENCE,
        }
        return rems.rems_form_submit(form=form, **(fields | changes))

    def test_a_nurse_records_it_once(self, practice: Practice, form: RemsForm) -> None:
        done = self.submit(practice, form, reference=f"  {REFERENCE} ")
        assert (done.submitted_on, done.reference, done.submitted_by) == (
            practice_today(),
            REFERENCE,
            practice.nurse,
        )
        event = AuditEvent.objects.get(action="rems_form.submit")
        assert event.after == {
            "submitted_on": practice_today().isoformat(),
            "reference": REFERENCE,
            "status": "on_time",
        }
        assert refused(lambda: self.submit(practice, done, actor=practice.prescriber)) == {
            "submitted_on": ["already_submitted"]
        }
        # A stale copy of the form is refused too.
        assert refused(lambda: self.submit(practice, form)) == {
            "submitted_on": ["already_submitted"]
        }
        assert refused(lambda: rems.rems_form_refresh(actor=practice.nurse, form=done)) == {
            "form": ["submitted"]
        }

    @pytest.mark.parametrize("who", ["therapist", "front_desk", "admin"])
    def test_only_a_prescriber_or_a_nurse(
        self, practice: Practice, form: RemsForm, who: str
    ) -> None:
        assert refused(lambda: self.submit(practice, form, actor=getattr(practice, who))) == {
            "submitted_by": ["not_credentialed"]
        }

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"reference": "  "}, "reference", "required"),
            ({"reference": "R" * 81}, "reference", "max_length"),
            ({"submitted_on": practice_today() + dt.timedelta(days=1)}, "submitted_on", "future"),
            (
                {"submitted_on": practice_today() - dt.timedelta(days=3)},
                "submitted_on",
                "before_session",
            ),
        ],
    )
    def test_bad_submissions(
        self, practice: Practice, form: RemsForm, changes: dict, field: str, rule: str
    ) -> None:
        assert refused(lambda: self.submit(practice, form, **changes)) == {field: [rule]}


class TestRefresh:
    def test_a_correction_reaches_the_form_while_unsubmitted(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = charted_session(practice, monkeypatch)
        form = rems.rems_form_create(actor=practice.nurse, session=session)
        assert "site_certification" in codes(form.data)
        certify(practice)
        refreshed = rems.rems_form_refresh(actor=practice.nurse, form=form)
        assert codes(refreshed.data) == []
        assert refreshed.data["site"]["site_name"] == "Harbor Mind Clinic"
        event = AuditEvent.objects.get(action="rems_form.refresh")
        assert (event.before, event.after) == ({"missing": ["site_certification"]}, {"missing": []})

    def test_only_a_clinician(self, practice: Practice) -> None:
        form = rems.rems_form_create(actor=practice.nurse, session=open_session(practice))
        assert refused(lambda: rems.rems_form_refresh(actor=practice.admin, form=form)) == {
            "form": ["not_clinician"]
        }


# ---------------------------------------------------------------------------------------------
# Reading: access and the queue


class TestAccess:
    def test_outsiders_get_404_and_an_empty_queue(self, practice: Practice) -> None:
        form = rems.rems_form_create(actor=practice.nurse, session=open_session(practice))
        for who in ("outsider", "outsider_prescriber", "front_desk"):
            user = getattr(practice, who)
            with pytest.raises(Http404):
                rems.rems_form_for(user, form.public_id)
            assert rems.rems_queue(user) == []
        for who in ("nurse", "prescriber", "therapist", "admin"):
            assert rems.rems_form_for(getattr(practice, who), form.public_id).pk == form.pk
            assert [row.form.pk for row in rems.rems_queue(getattr(practice, who))] == [form.pk]
        with pytest.raises(Http404):
            rems.rems_form_for(practice.nurse, "not-a-uuid")

    def test_unsubmitted_first_by_due_day(self, practice: Practice) -> None:
        days = [practice_today() - dt.timedelta(days=n) for n in (9, 5, 1)]
        forms = [
            rems.rems_form_create(
                actor=practice.nurse, session=open_session(practice, starts_at=at_ten(day))
            )
            for day in days
        ]
        rems.rems_form_submit(
            actor=practice.nurse, form=forms[0], submitted_on=days[0], reference=REFERENCE
        )
        order = [row.form.pk for row in rems.rems_queue(practice.nurse)]
        assert order == [forms[1].pk, forms[2].pk, forms[0].pk]

    def test_the_queue_query_count_does_not_grow(self, practice: Practice) -> None:
        def add_forms(count: int) -> None:
            for _ in range(count):
                client = make_client()
                make_member(client=client, staff=practice.nurse, role=CareTeamRole.NURSE)
                course = Course.objects.create(
                    client=client, protocol="esketamine", started_on=practice_today()
                )
                start = at_ten(practice_today() - dt.timedelta(days=DosingSession.objects.count()))
                appointment = Appointment.objects.create(
                    client=client,
                    course=course,
                    kind="dosing",
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=2),
                    clinician=practice.nurse,
                )
                session = services.session_open(actor=practice.nurse, appointment=appointment)
                rems.rems_form_create(actor=practice.nurse, session=session)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                shown = [
                    (row.client.display_name, row.session_date, row.status.label)
                    for row in rems.rems_queue(practice.nurse)
                ]
            assert shown
            return len(captured.captured_queries)

        add_forms(2)
        few = queries()
        add_forms(4)
        assert len(rems.rems_queue(practice.nurse)) == 6
        assert queries() == few


# ---------------------------------------------------------------------------------------------
# The site's certification


class TestSiteCertification:
    def test_a_practice_admin_records_it_and_the_new_one_replaces_the_old(
        self, practice: Practice
    ) -> None:
        first = certify(practice)
        second = rems.rems_site_certify(
            actor=practice.admin,
            number=" HCS-77001 ",
            certified_on=practice_today(),
            site_name="Harbor Mind Clinic, Suite 4",
        )
        first.refresh_from_db()
        assert (first.active, second.active, second.number) == (False, True, "HCS-77001")
        assert rems.active_certification() == second
        events = AuditEvent.objects.filter(action="rems_site.certify").order_by("id")
        assert [e.after["number"] for e in events] == ["HCS-55120", "HCS-77001"]
        assert events.last().before == {"active": ["HCS-55120"]}  # type: ignore[union-attr]

    def test_only_a_practice_admin(self, practice: Practice) -> None:
        assert refused(
            lambda: rems.rems_site_certify(
                actor=practice.nurse,
                number="HCS-1",
                certified_on=practice_today(),
                site_name="Clinic",
            )
        ) == {"number": ["not_admin"]}

    def test_bad_input(self, practice: Practice) -> None:
        assert refused(
            lambda: rems.rems_site_certify(
                actor=practice.admin,
                number=" ",
                certified_on=practice_today() + dt.timedelta(days=1),
                site_name="S" * 201,
            )
        ) == {
            "number": ["required"],
            "site_name": ["max_length"],
            "certified_on": ["future"],
        }


# ---------------------------------------------------------------------------------------------
# The PDF


class TestPdf:
    def test_the_pdf_holds_the_lot_the_reference_and_the_sections(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        certify(practice)
        form = rems.rems_form_create(
            actor=practice.nurse, session=charted_session(practice, monkeypatch)
        )
        form = rems.rems_form_submit(
            actor=practice.nurse, form=form, submitted_on=practice_today(), reference=REFERENCE
        )
        raw = rems_form_pdf(form, compress=False)
        assert raw.startswith(b"%PDF-")
        assert raw.rstrip().endswith(b"%%EOF")
        for text in (
            LOT,
            REFERENCE,
            "HCS-55120",
            "PT-448812",
            "152/94 mmHg",
            "Vasovagal episode",
            "Respiratory depression",
            "for submission to the Spravato REMS",
        ):
            assert text.encode() in raw, text
        compressed = rems_form_pdf(form)
        assert compressed.startswith(b"%PDF-")
        assert LOT.encode() not in compressed
        assert len(compressed) < len(raw)

    def test_a_form_with_missing_items_lists_them(self, practice: Practice) -> None:
        form = rems.rems_form_create(
            actor=practice.nurse, session=open_session(practice, enrol=False)
        )
        raw = rems_form_pdf(form, compress=False)
        assert b"Not in the record" in raw
        assert b"Not recorded" in raw
        assert b"Not yet submitted" in raw


class TestWithTheDischargeService:
    def test_discharging_an_esketamine_session_creates_its_form(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = charted_session(practice, monkeypatch, discharged=False)
        dose_at = session.dose.given_at
        discharged = services.discharge_record(
            actor=practice.nurse,
            session=session,
            escort_present=True,
            no_driving_counselled=True,
            dissociation_resolved=True,
            discharged_at=dose_at + dt.timedelta(minutes=125),
        )
        form = RemsForm.objects.get(session=discharged)
        assert form.due_on == rems.session_day(session) + dt.timedelta(days=7)
        assert form.data["monitoring"]["minutes"] == 125
        assert form.data["blood_pressure"]["discharge"]["systolic"] == 136
        assert form.data["dissociation"]["reason"] == (
            "A clinician recorded that dissociation has resolved."
        )
        assert AuditEvent.objects.filter(action="rems_form.create").count() == 1
