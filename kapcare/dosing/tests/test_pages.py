"""The dosing-session pages through the test client: who gets in (and who gets 404), each form's
success and its refusals named at their fields, the roles each page enforces, corrections that
keep the original, a signed session that refuses every change, the audited reads, and a session
page whose query count does not grow with the flowsheet."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Appointment
from kapcare.dosing import services
from kapcare.dosing.forms import bedside_moment
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    ScaleRow,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.dosing.tests.test_discharge_and_flags import dosed, settled, vitals
from kapcare.dosing.tests.test_pre_check_and_dose import GOOD, session_for
from kapcare.safety.models import SafetyFlag
from kapcare.stock.models import Location, Lot, Movement
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

CHARTED = (VitalsRow, ScaleRow, SideEffectRow, WorkRow, AdverseEvent, Dose, Movement)


def url(name: str, session: DosingSession) -> str:
    return reverse(f"dosing:{name}", args=[session.client.public_id, session.public_id])


def counts() -> tuple[int, ...]:
    """The charted rows, the dose and its stock movement, and the audited writes (a page shown
    again after a refusal is not a read; a redirect followed to a page is)."""
    writes = AuditEvent.objects.exclude(action__endswith=".read").count()
    return (*(model.objects.count() for model in CHARTED), writes)


def booked(practice: Practice) -> Appointment:
    """A dosing appointment without its session yet (the session's fixture, one step short)."""
    session = session_for(practice, "iv_racemic")
    appointment = Appointment.objects.create(
        client=practice.client,
        course=session.course,
        kind="dosing",
        starts_at=now() + dt.timedelta(days=7),
        ends_at=now() + dt.timedelta(days=7, hours=2),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
    )
    return appointment


def errors_of(response: Any, form: str) -> dict[str, list[str]]:
    assert response.status_code == 400, response.status_code
    return dict(response.context[form].errors)


def checked(practice: Practice, protocol: str = "iv_racemic") -> DosingSession:
    return services.pre_check_record(
        actor=practice.nurse, session=session_for(practice, protocol), **GOOD
    )


def reads(session: DosingSession) -> list[dict[str, Any]]:
    return [
        event.detail or {}
        for event in AuditEvent.objects.filter(
            action="dosing_session.read", subject_public_id=session.public_id
        ).order_by("id")
    ]


# ---------------------------------------------------------------------------------------------
# Access


class TestAccess:
    @pytest.mark.parametrize("who", ["outsider", "outsider_prescriber", "front_desk", "admin"])
    def test_only_clinicians_on_the_team_see_a_session(self, practice: Practice, who: str) -> None:
        session = session_for(practice, "iv_racemic")
        http = signed_in(getattr(practice, who))
        before = AuditEvent.objects.count()
        for name in ("session", "panel", "pre_check", "dose", "discharge", "instructions"):
            assert http.get(url(name, session)).status_code == 404, name
        for name in ("vitals", "scale", "side_effect", "work", "adverse_event", "sign"):
            assert http.post(url(name, session), {"heart_rate": "80"}).status_code == 404, name
        assert AuditEvent.objects.count() == before

    def test_a_session_through_another_clients_url_is_404(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        other = practice.client.__class__.objects.exclude(pk=practice.client.pk).get()
        http = signed_in(practice.nurse)
        path = reverse("dosing:session", args=[other.public_id, session.public_id])
        assert http.get(path).status_code == 404
        assert reads(session) == []

    def test_every_look_at_a_session_is_an_audited_read(self, practice: Practice) -> None:
        session = checked(practice)
        http = signed_in(practice.therapist)
        for name in ("session", "panel", "pre_check", "dose", "discharge", "instructions"):
            assert http.get(url(name, session)).status_code == 200, name
        # The panel's refresh right after the page is covered by the page's own read.
        assert [detail["view"] for detail in reads(session)] == [
            "session",
            "pre_check",
            "dose",
            "discharge",
            "instructions",
        ]
        event = AuditEvent.objects.filter(action="dosing_session.read").last()
        assert event is not None
        assert (event.actor, event.client_public_id) == (
            practice.therapist,
            practice.client.public_id,
        )

    def test_posts_need_the_csrf_token(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        http = HttpClient(enforce_csrf_checks=True)
        http.force_login(practice.nurse)
        before = counts()
        assert http.post(url("vitals", session), {"heart_rate": "80"}).status_code == 403
        assert counts() == before


class TestOpening:
    def test_the_appointment_page_opens_the_session_then_goes_to_it(
        self, practice: Practice
    ) -> None:
        appointment = booked(practice)
        page = reverse(
            "courses:appointment", args=[practice.client.public_id, appointment.public_id]
        )
        nurse = signed_in(practice.nurse)
        assert b"Open the dosing session" in nurse.get(page).content
        assert b"Open the dosing session" not in signed_in(practice.front_desk).get(page).content
        opened = nurse.post(
            reverse("dosing:open", args=[practice.client.public_id, appointment.public_id])
        )
        created = DosingSession.objects.get(appointment=appointment)
        assert opened.status_code == 302
        assert opened["Location"] == url("session", created)
        again = nurse.post(
            reverse("dosing:open", args=[practice.client.public_id, appointment.public_id])
        )
        assert again["Location"] == url("session", created)
        assert DosingSession.objects.filter(appointment=appointment).count() == 1
        assert b"Go to the dosing session" in nurse.get(page).content

    def test_front_desk_cannot_open_one(self, practice: Practice) -> None:
        appointment = booked(practice)
        path = reverse("dosing:open", args=[practice.client.public_id, appointment.public_id])
        assert signed_in(practice.front_desk).post(path).status_code == 404
        assert not DosingSession.objects.filter(appointment=appointment).exists()

    def test_a_preparation_session_has_no_dosing_session(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        prep = Appointment.objects.create(
            client=practice.client,
            course=session.course,
            kind="preparation",
            starts_at=now(),
            ends_at=now() + dt.timedelta(hours=1),
            clinician=practice.therapist,
        )
        response = signed_in(practice.nurse).post(
            reverse("dosing:open", args=[practice.client.public_id, prep.public_id]), follow=True
        )
        assert "Only a dosing session of a course." in response.content.decode()
        assert DosingSession.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# The session page


class TestSessionPage:
    def test_the_header_and_the_pre_dose_state(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        page = signed_in(practice.nurse).get(url("session", session)).content.decode()
        for text in (
            "Jay Quinlan",
            "IV racemic ketamine 0.5 mg/kg over 40 min",
            "Intravenous infusion",
            "Bay 1",
            escape(practice.nurse.display_name),
            escape(practice.therapist.display_name),
            "Do the pre-dose check",
            "The schedule of readings starts with the dose.",
        ):
            assert text in page, text

    def test_a_stop_reading_after_the_dose_shows_the_red_panel_and_the_flag(
        self, practice: Practice
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        http = signed_in(practice.nurse)
        response = http.post(
            url("vitals", session), {"systolic": "185", "diastolic": "105", "heart_rate": "90"}
        )
        assert response.status_code == 302
        assert response["Location"] == url("session", session) + "#vitals"
        flag = SafetyFlag.objects.get(source_session=session)
        assert flag.rule == "bp_stop"
        page = http.get(url("session", session)).content.decode()
        assert 'class="alert-panel alert-stop"' in page
        assert "threshold &gt;180/100 mmHg" in page
        assert "A vital-signs safety flag is raised" in page
        assert 'data-testid="safety-flag"' in page
        panel = http.get(url("panel", session)).content.decode()
        assert "<html" not in panel
        assert 'id="live-panel"' in panel
        assert "alert-stop" in panel

    def test_the_dose_and_the_vitals_due(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        vitals(practice, session, 20, "132/84")
        page = signed_in(practice.nurse).get(url("session", session)).content.decode()
        assert "35 mg" in page
        assert "40 min at 0.88 mg/min (5.25 mL/h, 3.50 mL)" in page  # at 10 mg/mL
        assert 'data-state="done"' in page  # pre-dose, and 10 min (the reading 20 min ago)
        assert 'data-state="missed"' in page  # 20 min
        assert 'data-state="due"' in page  # 30 min: now
        assert "K2611A" in page

    def test_the_esketamine_devices_and_their_times(self, practice: Practice) -> None:
        session = dosed(practice, "esketamine", minutes_ago=30)
        dose = Dose.objects.get(session=session)
        first = dose.given_at.astimezone(practice_zone())
        second = first + dt.timedelta(minutes=5)
        page = signed_in(practice.nurse).get(url("session", session)).content.decode()
        assert f"2 devices: {first:%H:%M}, {second:%H:%M}" in page


# ---------------------------------------------------------------------------------------------
# Pre-dose check


def pre_check_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "identity_confirmed": "on",
        "escort_confirmed": "on",
        "intention": "Meet the grief with curiosity.",
        "weight_kg": "70.0",
        "minutes_since_food": "240",
        "minutes_since_liquid": "60",
        "systolic": "128",
        "diastolic": "82",
        "heart_rate": "72",
        "spo2": "98",
        "pregnancy_test": "not_applicable",
    }
    return {key: value for key, value in (data | changes).items() if value is not None}


class TestPreCheck:
    def test_the_form_takes_the_latest_weight(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        latest = practice.client.weights.order_by("-measured_on", "-id").first()
        response = signed_in(practice.nurse).get(url("pre_check", session))
        expected = latest.weight_kg if latest is not None else None
        assert response.context["form"]["weight_kg"].value() == expected

    def test_a_passing_check_links_to_the_dose(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        http = signed_in(practice.nurse)
        response = http.post(url("pre_check", session), pre_check_data(), follow=True)
        page = response.content.decode()
        assert "Pre-dose check passed" in page
        assert "Go to the dose" in page
        session.refresh_from_db()
        assert session.pre_check_passed
        assert session.weight_kg == Decimal("70.0")

    def test_a_hold_shows_a_reason_box_to_a_prescriber_only(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        high = pre_check_data(systolic="150", diastolic="95")
        signed_in(practice.nurse).post(url("pre_check", session), high)
        session.refresh_from_db()
        assert not session.pre_check_passed
        nurse_page = signed_in(practice.nurse).get(url("pre_check", session))
        assert "override_bp" not in nurse_page.context["form"].fields
        assert "Only a prescriber can override" in nurse_page.content.decode()
        prescriber = signed_in(practice.prescriber)
        form = prescriber.get(url("pre_check", session)).context["form"]
        assert "override_bp" in form.fields
        prescriber.post(
            url("pre_check", session), high | {"override_bp": "Repeat 146/92 at rest; discussed"}
        )
        session.refresh_from_db()
        assert session.pre_check_passed
        bp = next(c for c in session.pre_check["checks"] if c["code"] == "bp")
        assert bp["override_reason"] == "Repeat 146/92 at rest; discussed"
        page = prescriber.get(url("session", session)).content.decode()
        assert "Overridden by" in page
        assert "Repeat 146/92 at rest; discussed" in page

    def test_a_hard_stop_has_no_override_box(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        prescriber = signed_in(practice.prescriber)
        prescriber.post(url("pre_check", session), pre_check_data(systolic="190", diastolic="105"))
        form = prescriber.get(url("pre_check", session)).context["form"]
        assert "override_bp" in form.fields
        assert "override_bp_hazard" not in form.fields

    def test_bad_answers_are_named_at_their_fields_and_nothing_is_saved(
        self, practice: Practice
    ) -> None:
        session = session_for(practice, "iv_racemic")
        http = signed_in(practice.nurse)
        before = counts()
        response = http.post(url("pre_check", session), pre_check_data(weight_kg="5"))
        assert errors_of(response, "form") == {
            "weight_kg": ["Between 20 and 400 kg: check the weight."]
        }
        response = http.post(url("pre_check", session), pre_check_data(diastolic=None))
        assert list(errors_of(response, "form")) == ["diastolic"]
        assert counts() == before
        session.refresh_from_db()
        assert session.pre_check == {}


# ---------------------------------------------------------------------------------------------
# The dose


def dose_data(session: DosingSession, **changes: Any) -> dict[str, Any]:
    lot = Lot.objects.get(lot_number="K2611A")
    data: dict[str, Any] = {
        "location": str(Location.objects.get().public_id),
        "lot": str(lot.public_id),
        "mg_per_kg": "0.5",
        "concentration_mg_per_ml": "10",
        "infusion_minutes": "40",
        "therapist_present": str(session.appointment.second_clinician.public_id),
    }
    return {key: value for key, value in (data | changes).items() if value is not None}


class TestDose:
    def test_the_form_lists_the_lots_in_stock_and_works_out_the_dose(
        self, practice: Practice
    ) -> None:
        session = checked(practice)
        http = signed_in(practice.nurse)
        response = http.get(url("dose", session))
        form = response.context["form"]
        labels = [label for _value, label in form.fields["lot"].choices]
        assert any("K2611A" in label and "1000 mg" in label for label in labels)
        assert not any("ES1" in label for label in labels)  # esketamine: another drug
        assert form["location"].value() == Location.objects.get().public_id
        calc = http.get(url("dose", session) + "?mg_per_kg=0.5&infusion_minutes=40").content
        assert "0.5 mg/kg \u00d7 70 kg = 35 mg" in calc.decode()

    def test_an_iv_dose_from_mg_per_kg(self, practice: Practice) -> None:
        session = checked(practice)
        response = signed_in(practice.nurse).post(url("dose", session), dose_data(session))
        assert response.status_code == 302
        dose = Dose.objects.get(session=session)
        assert (dose.dose_mg, dose.mg_per_kg, dose.infusion_minutes) == (
            Decimal("35.00"),
            Decimal("0.50"),
            40,
        )
        assert Movement.objects.get(dose=dose).quantity_mg == Decimal("-35.00")

    def test_mg_that_disagrees_with_mg_per_kg_is_refused(self, practice: Practice) -> None:
        session = checked(practice)
        http = signed_in(practice.nurse)
        before = counts()
        response = http.post(url("dose", session), dose_data(session, dose_mg="40"))
        assert list(errors_of(response, "form")) == ["dose_mg"]
        assert counts() == before

    def test_above_the_maximum_is_refused_on_the_dose(self, practice: Practice) -> None:
        session = checked(practice)
        http = signed_in(practice.prescriber)
        before = counts()
        response = http.post(url("dose", session), dose_data(session, mg_per_kg="1.5"))
        errors = errors_of(response, "form")
        assert list(errors) == ["dose_mg"]
        assert "above the 1 mg/kg maximum" in errors["dose_mg"][0]
        assert counts() == before

    def test_a_therapist_cannot_give_a_dose(self, practice: Practice) -> None:
        session = checked(practice)
        http = signed_in(practice.therapist)
        page = http.get(url("dose", session)).content.decode()
        assert "A dose is given by a prescriber or a nurse" in page
        assert "Record the dose" not in page
        before = counts()
        response = http.post(url("dose", session), dose_data(session))
        assert errors_of(response, "form") == {
            "__all__": ["A dose is given by a prescriber or a nurse."]
        }
        assert "A dose is given by a prescriber or a nurse." in response.content.decode()
        assert counts() == before

    def test_not_before_the_pre_check_passes(self, practice: Practice) -> None:
        session = session_for(practice, "iv_racemic")
        http = signed_in(practice.nurse)
        assert "complete it first" in http.get(url("dose", session)).content.decode()
        response = http.post(url("dose", session), dose_data(session, mg_per_kg=None, dose_mg="35"))
        assert errors_of(response, "form") == {
            "dose_mg": ["The pre-dose check has not passed: complete it first."]
        }

    def test_a_first_esketamine_dose_other_than_the_label_needs_a_prescriber(
        self, practice: Practice
    ) -> None:
        session = services.pre_check_record(
            actor=practice.nurse,
            session=session_for(practice, "esketamine"),
            **(GOOD | {"weight_kg": None, "minutes_since_food": 180, "minutes_since_liquid": 45}),
        )
        spray = {
            "location": str(Location.objects.get().public_id),
            "lot": str(Lot.objects.get(lot_number="ES1").public_id),
            "dose_mg": "84",
            "therapist_present": str(practice.therapist.public_id),
        }
        response = signed_in(practice.nurse).post(url("dose", session), spray)
        assert "override_esketamine_first_dose" not in response.context["form"].fields
        assert list(errors_of(response, "form")) == ["dose_mg"]
        prescriber = signed_in(practice.prescriber)
        response = prescriber.post(url("dose", session), spray)
        assert "override_esketamine_first_dose" in response.context["form"].fields
        response = prescriber.post(
            url("dose", session),
            spray | {"override_esketamine_first_dose": "Tolerated 84 mg elsewhere last month"},
        )
        assert response.status_code == 302
        assert Dose.objects.get(session=session).devices == 3

    def test_the_dose_is_not_a_choice_outside_whole_devices(self, practice: Practice) -> None:
        session = services.pre_check_record(
            actor=practice.nurse,
            session=session_for(practice, "esketamine"),
            **(GOOD | {"weight_kg": None}),
        )
        response = signed_in(practice.nurse).post(
            url("dose", session),
            {
                "location": str(Location.objects.get().public_id),
                "lot": str(Lot.objects.get(lot_number="ES1").public_id),
                "dose_mg": "70",
                "therapist_present": str(practice.therapist.public_id),
            },
        )
        assert list(errors_of(response, "form")) == ["dose_mg"]


# ---------------------------------------------------------------------------------------------
# Charting


class TestCharting:
    @pytest.fixture
    def session(self, practice: Practice) -> DosingSession:
        return dosed(practice, "iv_racemic", minutes_ago=30)

    def test_vitals(self, practice: Practice, session: DosingSession) -> None:
        http = signed_in(practice.nurse)
        response = http.post(url("vitals", session), {"heart_rate": "80", "spo2": "97"})
        assert response.status_code == 302
        assert VitalsRow.objects.filter(session=session, heart_rate=80).exists()
        before = counts()
        response = http.post(url("vitals", session), {"systolic": "120"})
        assert errors_of(response, "vitals_form") == {
            "diastolic": ["Blood pressure needs both numbers."]
        }
        response = http.post(url("vitals", session), {"spo2": "101"})
        assert list(errors_of(response, "vitals_form")) == ["spo2"]
        assert counts() == before

    def test_a_time_in_the_future_is_refused_at_the_time(
        self, practice: Practice, session: DosingSession
    ) -> None:
        later = (now() + dt.timedelta(minutes=30)).astimezone(practice_zone())
        if later.date() != now().astimezone(practice_zone()).date():
            pytest.skip("half an hour from now is tomorrow")
        response = signed_in(practice.nurse).post(
            url("vitals", session), {"heart_rate": "80", "taken_at": f"{later:%H:%M}"}
        )
        assert errors_of(response, "vitals_form") == {"taken_at": ["This time is in the future."]}

    def test_scales(self, practice: Practice, session: DosingSession) -> None:
        http = signed_in(practice.nurse)
        assert http.post(url("scale", session), {"scale": "moaas", "score": "4"}).status_code == 302
        cadss = {"scale": "cadss", "score": "12", "version": "cadss23"}
        assert http.post(url("scale", session), cadss).status_code == 302
        assert sorted(ScaleRow.objects.values_list("scale", "score")) == [
            ("cadss", 12),
            ("moaas", 4),
        ]
        before = counts()
        response = http.post(url("scale", session), {"scale": "moaas", "score": "6"})
        assert list(errors_of(response, "moaas_form")) == ["score"]
        response = http.post(url("scale", session), cadss | {"score": "93"})
        assert errors_of(response, "cadss_form") == {"score": ["Between 0 and 92."]}
        response = http.post(url("scale", session), cadss | {"version": ""})
        assert list(errors_of(response, "cadss_form")) == ["version"]
        assert counts() == before

    def test_side_effects(self, practice: Practice, session: DosingSession) -> None:
        http = signed_in(practice.nurse)
        response = http.post(
            url("side_effect", session), {"effects": ["nausea", "dizziness"], "severity": "mild"}
        )
        assert response.status_code == 302
        assert sorted(SideEffectRow.objects.values_list("effect", flat=True)) == [
            "dizziness",
            "nausea",
        ]
        before = counts()
        response = http.post(
            url("side_effect", session), {"effects": ["nausea", "other"], "severity": "mild"}
        )
        assert errors_of(response, "effect_form") == {"note": ["Describe the side effect."]}
        response = http.post(url("side_effect", session), {"severity": "mild"})
        assert list(errors_of(response, "effect_form")) == ["effects"]
        assert counts() == before

    def test_work(self, practice: Practice, session: DosingSession) -> None:
        http = signed_in(practice.therapist)
        response = http.post(
            url("work", session), {"kind": "emdr", "detail": "Three sets, target: the corridor"}
        )
        assert response.status_code == 302
        assert WorkRow.objects.get().created_by == practice.therapist
        before = counts()
        response = http.post(url("work", session), {"kind": "emdr", "detail": " "})
        assert list(errors_of(response, "work_form")) == ["detail"]
        assert counts() == before

    def test_adverse_events(self, practice: Practice, session: DosingSession) -> None:
        http = signed_in(practice.nurse)
        event = {
            "event": "Vasovagal syncope",
            "severity": "moderate",
            "seriousness": "serious",
            "related": "possibly",
            "action": "Supine, legs raised; prescriber called",
        }
        assert http.post(url("adverse_event", session), event).status_code == 302
        page = http.get(url("session", session)).content.decode()
        assert 'class="adverse-event serious"' in page
        assert "follow-up due" in page
        before = counts()
        response = http.post(url("adverse_event", session), event | {"event": ""})
        assert list(errors_of(response, "ae_form")) == ["event"]
        assert counts() == before


class TestCorrections:
    def test_a_correction_keeps_the_original_struck_through(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        original = vitals(practice, session, 10, "210/90")
        http = signed_in(practice.nurse)
        page = http.get(url("session", session))
        forms = {row["line"].row.pk: row["form"] for row in page.context["rows"] if row["form"]}
        assert forms[original.pk]["systolic"].value() == 210
        response = http.post(
            url("vitals", session),
            {
                "corrects": str(original.public_id),
                "systolic": "120",
                "diastolic": "90",
                "taken_at": f"{original.taken_at.astimezone(practice_zone()):%H:%M}",
                "correction_reason": "Typed 210 for 120",
            },
        )
        assert response.status_code == 302
        fixed = VitalsRow.objects.get(corrects=original)
        assert (fixed.systolic, fixed.correction_reason) == (120, "Typed 210 for 120")
        page = http.get(url("session", session)).content.decode()
        assert "<del>BP 210/90" in page
        assert "Typed 210 for 120" in page

    def test_a_correction_needs_a_reason_and_an_entry_of_this_session(
        self, practice: Practice
    ) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        original = vitals(practice, session, 10, "210/90")
        http = signed_in(practice.nurse)
        before = counts()
        response = http.post(
            url("vitals", session),
            {"corrects": str(original.public_id), "systolic": "120", "diastolic": "90"},
        )
        assert response.status_code == 400
        rows = {row["line"].row.pk: row for row in response.context["rows"]}
        assert rows[original.pk]["open"]
        assert rows[original.pk]["form"].errors == {
            "correction_reason": ["Say why the entry is corrected."]
        }
        response = http.post(
            url("vitals", session),
            {"corrects": str(uuid.uuid4()), "heart_rate": "70", "correction_reason": "x"},
        )
        assert response.status_code == 400
        assert counts() == before

    def test_a_corrected_entry_is_not_corrected_again(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=30)
        row = services.scale_record(actor=practice.nurse, session=session, scale="moaas", score=2)
        services.scale_record(
            actor=practice.nurse,
            session=session,
            scale="moaas",
            score=4,
            corrects=row,
            correction_reason="Scored the wrong person",
        )
        page = signed_in(practice.nurse).get(url("session", session))
        by_row = {item["line"].row.pk: item for item in page.context["rows"]}
        assert by_row[row.pk]["form"] is None
        assert by_row[row.pk]["corrected_by"].row.correction_reason == "Scored the wrong person"


# ---------------------------------------------------------------------------------------------
# Discharge, sign-off and a signed session


class TestDischarge:
    def test_a_therapist_cannot_discharge(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        http = signed_in(practice.therapist)
        assert (
            "A prescriber or nurse discharges the client."
            in http.get(url("discharge", session)).content.decode()
        )
        response = http.post(
            url("discharge", session),
            {"escort_present": "on", "no_driving_counselled": "on", "dissociation": "cadss"},
        )
        assert errors_of(response, "form") == {
            "__all__": ["A prescriber or nurse discharges the client."]
        }
        session.refresh_from_db()
        assert session.state == SessionState.DOSED

    def test_too_early_then_a_prescriber_overrides(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=90)  # ended 50 minutes ago
        settled(practice, session)
        answers = {"escort_present": "on", "no_driving_counselled": "on", "dissociation": "cadss"}
        response = signed_in(practice.nurse).post(url("discharge", session), answers)
        errors = errors_of(response, "form")["__all__"]
        assert errors[0].startswith("Not ready for discharge: Minimum observation: Observed 50 min")
        prescriber = signed_in(practice.prescriber)
        form = prescriber.get(url("discharge", session)).context["form"]
        assert {"override_observation", "override_escort", "override_no_driving"} <= set(
            form.fields
        )
        response = prescriber.post(
            url("discharge", session),
            answers | {"override_observation": "Stable, at baseline; partner driving"},
        )
        assert response.status_code == 302
        session.refresh_from_db()
        assert session.state == SessionState.DISCHARGED
        observation = next(c for c in session.discharge["checks"] if c["code"] == "observation")
        assert observation["override_reason"] == "Stable, at baseline; partner driving"

    def test_the_clinicians_statement_on_dissociation(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        vitals(practice, session, 20, "136/86")
        vitals(practice, session, 5, "126/80")
        services.scale_record(actor=practice.nurse, session=session, scale="moaas", score=5)
        answers = {"escort_present": "on", "no_driving_counselled": "on"}
        response = signed_in(practice.nurse).post(
            url("discharge", session), answers | {"dissociation": "cadss"}
        )
        assert "Dissociation resolved" in errors_of(response, "form")["__all__"][0]
        response = signed_in(practice.nurse).post(
            url("discharge", session), answers | {"dissociation": "yes"}
        )
        assert response.status_code == 302

    def test_the_printable_instructions(self, practice: Practice) -> None:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        integration = Appointment.objects.create(
            client=practice.client,
            course=session.course,
            kind="integration",
            starts_at=now() + dt.timedelta(days=1),
            ends_at=now() + dt.timedelta(days=1, hours=1),
            clinician=practice.therapist,
        )
        page = signed_in(practice.nurse).get(url("instructions", session)).content.decode()
        assert (
            "Do not drive or operate machinery until the next day, after a restful sleep." in page
        )
        assert "responsible adult" in page
        local = integration.starts_at.astimezone(practice_zone())
        assert f"at {local:%H:%M}</strong> with {escape(practice.therapist.display_name)}" in page


class TestSigned:
    @pytest.fixture
    def signed(self, practice: Practice) -> DosingSession:
        session = dosed(practice, "iv_racemic", minutes_ago=200)
        settled(practice, session)
        return services.discharge_record(
            actor=practice.nurse, session=session, escort_present=True, no_driving_counselled=True
        )

    def test_the_dyad_signs_and_others_cannot(
        self, practice: Practice, signed: DosingSession
    ) -> None:
        response = signed_in(practice.prescriber).post(url("sign", signed), follow=True)
        assert "signed by its monitoring clinician and its therapist" in response.content.decode()
        nurse = signed_in(practice.nurse)
        page = nurse.get(url("session", signed)).content.decode()
        assert "Sign the session" in page
        response = nurse.post(url("sign", signed), follow=True)
        assert "closes when the other clinician signs" in response.content.decode()
        signed_in(practice.therapist).post(url("sign", signed))
        signed.refresh_from_db()
        assert signed.state == SessionState.SIGNED
        assert (signed.monitor_signed_by, signed.therapist_signed_by) == (
            practice.nurse,
            practice.therapist,
        )

    def test_a_signed_session_refuses_every_change_with_a_clear_message(
        self, practice: Practice, signed: DosingSession
    ) -> None:
        services.session_sign(actor=practice.nurse, session=signed)
        services.session_sign(actor=practice.therapist, session=signed)
        row = VitalsRow.objects.filter(session=signed).first()
        assert row is not None
        http = signed_in(practice.nurse)
        before = counts()
        for name, data in (
            ("vitals", {"heart_rate": "80"}),
            (
                "vitals",
                {"corrects": str(row.public_id), "heart_rate": "8", "correction_reason": "x"},
            ),
            ("scale", {"scale": "moaas", "score": "5"}),
            ("side_effect", {"effects": ["nausea"], "severity": "mild"}),
            ("work", {"kind": "note", "detail": "late"}),
            ("pre_check", pre_check_data()),
            ("dose", {}),
            ("discharge", {"escort_present": "on"}),
            ("sign", {}),
        ):
            response = http.post(url(name, signed), data, follow=True)
            assert "nothing more is charted on it" in response.content.decode(), name
        assert counts() == before
        page = http.get(url("session", signed)).content.decode()
        assert 'data-testid="signed"' in page
        for absent in ("Chart vitals", "Save the correction", "<summary>Correct"):
            assert absent not in page, absent
        # An adverse event found later is its own record, linked to the signed session.
        assert "Record an adverse event found after the session" in page
        late = {
            "event": "Headache the next morning",
            "severity": "mild",
            "seriousness": "not_serious",
            "related": "possibly",
        }
        response = http.post(url("adverse_event", signed), late, follow=True)
        assert response.status_code == 200
        assert AdverseEvent.objects.filter(session=signed, event=late["event"]).exists()
        signed.refresh_from_db()
        assert signed.state == SessionState.SIGNED


def test_the_panel_refresh_audits_a_read_only_every_few_minutes(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = dosed(practice, "iv_racemic", minutes_ago=30)
    http = signed_in(practice.nurse)
    http.get(url("session", session))
    reads = AuditEvent.objects.filter(action="dosing_session.read")
    assert reads.count() == 1
    for _ in range(3):
        assert http.get(url("panel", session)).status_code == 200
    assert reads.count() == 1  # the page's own read covers its refreshes
    later = now() + dt.timedelta(minutes=11)
    monkeypatch.setattr("kapcare.dosing.views.now", lambda: later)
    http.get(url("panel", session))
    assert reads.count() == 2


# ---------------------------------------------------------------------------------------------
# Queries and the bedside clock


def test_the_session_page_does_not_grow_its_queries_with_the_flowsheet(practice: Practice) -> None:
    session = dosed(practice, "iv_racemic", minutes_ago=100)  # the pre-check's reading: 1 row
    http = signed_in(practice.nurse)

    def moaas(minutes_ago: int, score: int = 4, **more: Any) -> ScaleRow:
        return services.scale_record(
            actor=practice.nurse,
            session=session,
            scale="moaas",
            score=score,
            taken_at=now() - dt.timedelta(minutes=minutes_ago),
            **more,
        )

    def rows() -> int:
        return sum(
            model.objects.filter(session=session).count()
            for model in (VitalsRow, ScaleRow, SideEffectRow, WorkRow)
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url("session", session)).status_code == 200
        return len(captured)

    first = vitals(practice, session, 90, "150/92")
    moaas(90)
    assert rows() == 3
    queries()  # anything a first page caches
    few = queries()
    vitals(practice, session, 85, "140/88")
    moaas(85, score=3, corrects=ScaleRow.objects.get(session=session), correction_reason="x")
    services.vitals_record(
        actor=practice.nurse,
        session=session,
        systolic=140,
        diastolic=88,
        corrects=first,
        correction_reason="Misread",
        taken_at=first.taken_at,
    )
    for minutes_ago in (80, 70, 60):
        vitals(practice, session, minutes_ago, "185/105")
        moaas(minutes_ago)
    vitals(practice, session, 55, "160/95")
    services.side_effect_record(
        actor=practice.nurse, session=session, effect="nausea", severity="mild"
    )
    services.work_record(actor=practice.therapist, session=session, kind="emdr", detail="3 sets")
    assert rows() == 15
    assert queries() == few


class TestBedsideClock:
    def _session(self, practice: Practice, started: dt.datetime) -> DosingSession:
        session = session_for(practice, "iv_racemic")
        Appointment.objects.filter(pk=session.appointment_id).update(starts_at=started)
        session.appointment.refresh_from_db()
        return session

    def test_a_time_after_now_is_yesterdays_when_the_session_began_yesterday(
        self, practice: Practice
    ) -> None:
        zone = practice_zone()
        moment = dt.datetime(2026, 3, 3, 0, 10, tzinfo=zone)
        session = self._session(practice, dt.datetime(2026, 3, 2, 22, 30, tzinfo=zone))
        assert bedside_moment(dt.time(23, 50), session, moment) == dt.datetime(
            2026, 3, 2, 23, 50, tzinfo=zone
        )
        assert bedside_moment(dt.time(0, 5), session, moment) == dt.datetime(
            2026, 3, 3, 0, 5, tzinfo=zone
        )

    def test_otherwise_a_later_time_stays_in_the_future(self, practice: Practice) -> None:
        zone = practice_zone()
        moment = dt.datetime(2026, 3, 3, 10, 0, tzinfo=zone)
        session = self._session(practice, dt.datetime(2026, 3, 3, 9, 30, tzinfo=zone))
        assert bedside_moment(dt.time(11, 0), session, moment) == dt.datetime(
            2026, 3, 3, 11, 0, tzinfo=zone
        )
