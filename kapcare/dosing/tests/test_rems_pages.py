"""The REMS form pages and endpoints: who may see them (outsiders and the front desk get 404 and
nothing is audited against the client), the queue with its statuses and a flat query count,
the form with every section and what is missing, the PDF, refresh and submission (CSRF
protected, errors on the page or in the API's shape, nothing saved), and the site page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.clients.models import CareTeamRole
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses.models import Appointment, Course
from kapcare.dosing import rems, services
from kapcare.dosing.models import RemsForm, RemsSiteCertification
from kapcare.dosing.tests.rems_helpers import LOT, charted_session, open_session
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

REFERENCE = "REMS-CONF-20931"


def at_ten(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=practice_zone())


@pytest.fixture
def form(practice: Practice) -> RemsForm:
    """A form of a session ten days ago: overdue."""
    session = open_session(practice, starts_at=at_ten(practice_today() - dt.timedelta(days=10)))
    return rems.rems_form_create(actor=practice.nurse, session=session)


def page_urls(form: RemsForm) -> list[str]:
    return [f"/dosing/rems/{form.public_id}/", f"/dosing/rems/{form.public_id}/pdf"]


def api_urls(form: RemsForm) -> list[str]:
    return [
        f"/api/v1/dosing/rems/forms/{form.public_id}",
        f"/api/v1/dosing/rems/forms/{form.public_id}/pdf",
    ]


def client_events(practice: Practice) -> int:
    return AuditEvent.objects.filter(client_public_id=practice.client.public_id).count()


def post_json(http: HttpClient, path: str, body: Any) -> Any:
    return http.post(path, json.dumps(body), content_type="application/json")


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


class TestWhoMaySee:
    @pytest.mark.parametrize("who", ["outsider", "outsider_prescriber", "front_desk"])
    def test_outside_the_care_team_or_not_a_clinician_404_and_nothing_recorded(
        self, practice: Practice, form: RemsForm, who: str
    ) -> None:
        http = signed_in(getattr(practice, who))
        before = (client_events(practice), RemsForm.objects.filter(submitted_on=None).count())
        for url in page_urls(form) + api_urls(form):
            assert http.get(url).status_code == 404, url
        for url in (
            f"/dosing/rems/{form.public_id}/refresh",
            f"/dosing/rems/{form.public_id}/submit",
        ):
            response = http.post(url, {"submitted_on": practice_today(), "reference": "X"})
            assert response.status_code == 404, url
        response = post_json(
            http,
            f"/api/v1/dosing/rems/forms/{form.public_id}/submit",
            {"submitted_on": practice_today().isoformat(), "reference": "X"},
        )
        assert response.status_code == 404
        after = (client_events(practice), RemsForm.objects.filter(submitted_on=None).count())
        assert after == before

    def test_the_outsiders_queue_does_not_list_the_form(
        self, practice: Practice, form: RemsForm
    ) -> None:
        response = signed_in(practice.outsider).get("/dosing/rems/")
        assert response.status_code == 200
        assert str(form.public_id) not in response.content.decode()
        assert "Quinlan" not in response.content.decode()
        listed = signed_in(practice.outsider).get("/api/v1/dosing/rems/forms")
        assert listed.json() == []

    def test_the_front_desk_has_no_queue(self, practice: Practice, form: RemsForm) -> None:
        assert signed_in(practice.front_desk).get("/dosing/rems/").status_code == 404
        assert signed_in(practice.front_desk).get("/api/v1/dosing/rems/forms").status_code == 404

    def test_the_site_page_is_for_practice_admins(self, practice: Practice) -> None:
        assert signed_in(practice.admin).get("/dosing/rems/site/").status_code == 200
        for who in ("nurse", "prescriber"):
            assert signed_in(getattr(practice, who)).get("/dosing/rems/site/").status_code == 404


class TestQueue:
    def test_overdue_first_with_its_reason_and_a_link_to_the_chart(
        self, practice: Practice, form: RemsForm
    ) -> None:
        recent = rems.rems_form_create(
            actor=practice.nurse,
            session=open_session(
                practice, starts_at=at_ten(practice_today() - dt.timedelta(days=1))
            ),
        )
        body = signed_in(practice.nurse).get("/dosing/rems/").content.decode()
        assert body.index(str(form.public_id)) < body.index(str(recent.public_id))
        assert '<span class="badge flag">Overdue</span>' in body
        assert '<span class="badge warn">Due</span>' in body
        assert "3 days ago" in body  # due 7 days after a session 10 days ago
        assert "Spravato REMS" in body
        assert f"/clients/{practice.client.public_id}/" in body
        event = AuditEvent.objects.get(action="rems_form.list")
        assert event.detail["clients"] == [str(practice.client.public_id)]

    def test_the_query_count_does_not_grow(self, practice: Practice) -> None:
        http = signed_in(practice.nurse)

        def add_forms(count: int) -> None:
            for _ in range(count):
                client = make_client()
                make_member(client=client, staff=practice.nurse, role=CareTeamRole.NURSE)
                course = Course.objects.create(
                    client=client, protocol="esketamine", started_on=practice_today()
                )
                start = at_ten(practice_today() - dt.timedelta(days=RemsForm.objects.count()))
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

        def queries(path: str) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get(path).status_code == 200
            return len(captured.captured_queries)

        add_forms(2)
        few = (queries("/dosing/rems/"), queries("/api/v1/dosing/rems/forms"))
        add_forms(4)
        assert len(http.get("/api/v1/dosing/rems/forms").json()) == 6
        assert (queries("/dosing/rems/"), queries("/api/v1/dosing/rems/forms")) == few


class TestFormPage:
    def test_every_section_what_is_missing_and_the_read_audited(
        self, practice: Practice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        form = rems.rems_form_create(
            actor=practice.nurse, session=charted_session(practice, monkeypatch)
        )
        response = signed_in(practice.nurse).get(f"/dosing/rems/{form.public_id}/")
        body = response.content.decode()
        assert response.status_code == 200
        for section in rems.form_sections(form.data):
            assert section.title in body
        assert LOT in body
        assert "152/94 mmHg" in body
        assert "Not in the record" in body
        assert "The site&#x27;s REMS certification" in body
        assert f"/dosing/rems/{form.public_id}/pdf" in body
        assert "Refresh from the session" in body
        assert "Record submission" in body
        event = AuditEvent.objects.get(action="rems_form.read")
        assert (event.subject_public_id, event.client_public_id) == (
            form.public_id,
            practice.client.public_id,
        )

    def test_a_therapist_sees_it_but_does_not_record_the_submission(
        self, practice: Practice, form: RemsForm
    ) -> None:
        body = signed_in(practice.therapist).get(f"/dosing/rems/{form.public_id}/").content
        assert b"Record submission" not in body
        assert b"A prescriber or a nurse records the submission" in body
        assert b"Refresh from the session" in body

    def test_the_pdf_is_a_download_and_audited(self, practice: Practice, form: RemsForm) -> None:
        response = signed_in(practice.prescriber).get(f"/dosing/rems/{form.public_id}/pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith('attachment; filename="rems-')
        assert "Quinlan" not in response["Content-Disposition"]
        assert response.content.startswith(b"%PDF-")
        event = AuditEvent.objects.get(action="rems_form.export")
        assert event.detail == {"format": "pdf"}
        assert event.client_public_id == practice.client.public_id

    def test_refresh(self, practice: Practice, form: RemsForm) -> None:
        rems.rems_site_certify(
            actor=practice.admin,
            number="HCS-55120",
            certified_on=practice_today(),
            site_name="Harbor Mind Clinic",
        )
        http = signed_in(practice.nurse)
        response = http.post(f"/dosing/rems/{form.public_id}/refresh")
        assert response.status_code == 302
        form.refresh_from_db()
        assert form.data["site"]["certification_number"] == "HCS-55120"
        assert AuditEvent.objects.filter(action="rems_form.refresh").count() == 1
        assert http.get(f"/dosing/rems/{form.public_id}/refresh").status_code == 405


class TestSubmitPage:
    def url(self, form: RemsForm) -> str:
        return f"/dosing/rems/{form.public_id}/submit"

    def test_recorded_then_shown(self, practice: Practice, form: RemsForm) -> None:
        http = signed_in(practice.nurse)
        response = http.post(
            self.url(form), {"submitted_on": practice_today().isoformat(), "reference": REFERENCE}
        )
        assert response.status_code == 302
        form.refresh_from_db()
        assert (form.submitted_on, form.reference) == (practice_today(), REFERENCE)
        body = http.get(f"/dosing/rems/{form.public_id}/").content.decode()
        assert REFERENCE in body
        assert "Submitted late" in body
        assert "Record submission" not in body
        assert "Refresh from the session" not in body

    def test_errors_on_the_page_and_nothing_saved(self, practice: Practice, form: RemsForm) -> None:
        http = signed_in(practice.nurse)
        before = AuditEvent.objects.exclude(action="rems_form.read").count()
        response = http.post(
            self.url(form),
            {
                "submitted_on": (practice_today() + dt.timedelta(days=2)).isoformat(),
                "reference": "R" * 81,
            },
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "This day is in the future." in body
        assert "At most 80 characters." in body
        form.refresh_from_db()
        assert form.submitted_on is None
        assert AuditEvent.objects.exclude(action="rems_form.read").count() == before

    def test_a_therapist_is_refused(self, practice: Practice, form: RemsForm) -> None:
        response = signed_in(practice.therapist).post(
            self.url(form), {"submitted_on": practice_today().isoformat(), "reference": REFERENCE}
        )
        assert response.status_code == 400
        assert "A prescriber or a nurse records the submission." in response.content.decode()
        form.refresh_from_db()
        assert form.submitted_on is None

    def test_csrf_protected(self, practice: Practice, form: RemsForm) -> None:
        http = HttpClient(enforce_csrf_checks=True)
        http.force_login(practice.nurse)
        response = http.post(
            self.url(form), {"submitted_on": practice_today().isoformat(), "reference": REFERENCE}
        )
        assert response.status_code == 403
        assert http.post(f"/dosing/rems/{form.public_id}/refresh").status_code == 403
        form.refresh_from_db()
        assert form.submitted_on is None


class TestSitePage:
    def test_a_practice_admin_records_the_certification(self, practice: Practice) -> None:
        http = signed_in(practice.admin)
        response = http.post(
            "/dosing/rems/site/",
            {
                "number": "HCS-55120",
                "certified_on": practice_today().isoformat(),
                "site_name": "Harbor Mind Clinic",
            },
        )
        assert response.status_code == 302
        assert RemsSiteCertification.objects.get().number == "HCS-55120"
        assert b"HCS-55120" in http.get("/dosing/rems/site/").content

    def test_errors_on_the_page(self, practice: Practice) -> None:
        response = signed_in(practice.admin).post(
            "/dosing/rems/site/",
            {
                "number": "HCS-1",
                "certified_on": (practice_today() + dt.timedelta(days=3)).isoformat(),
                "site_name": "Clinic",
            },
        )
        assert response.status_code == 400
        assert b"This day is in the future." in response.content
        assert not RemsSiteCertification.objects.exists()


class TestApi:
    def test_list_one_and_the_pdf(self, practice: Practice, form: RemsForm) -> None:
        http = signed_in(practice.nurse)
        [item] = http.get("/api/v1/dosing/rems/forms").json()
        assert item["id"] == str(form.public_id)
        assert item["status"]["state"] == "overdue"
        assert item["client"] == str(practice.client.public_id)
        assert "dose" in item["missing"]
        one = http.get(f"/api/v1/dosing/rems/forms/{form.public_id}").json()
        assert one["data"]["patient"]["rems_reference"] == "PT-448812"
        assert one["submitted_by"] is None
        assert AuditEvent.objects.filter(action="rems_form.read").count() == 1
        pdf = http.get(f"/api/v1/dosing/rems/forms/{form.public_id}/pdf")
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert AuditEvent.objects.filter(action="rems_form.export").count() == 1
        assert http.get("/api/v1/dosing/rems/forms?pending=true").json()[0]["id"] == item["id"]

    def test_submit(self, practice: Practice, form: RemsForm) -> None:
        http = signed_in(practice.prescriber)
        path = f"/api/v1/dosing/rems/forms/{form.public_id}/submit"
        bad = post_json(http, path, {"submitted_on": practice_today().isoformat(), "reference": ""})
        assert bad.status_code == 400
        assert errors(bad) == {("reference", "required")}
        extra = post_json(
            http,
            path,
            {"submitted_on": practice_today().isoformat(), "reference": "R1", "by": "me"},
        )
        assert extra.status_code == 422
        done = post_json(
            http, path, {"submitted_on": practice_today().isoformat(), "reference": REFERENCE}
        )
        assert done.status_code == 200
        body = done.json()
        assert (body["reference"], body["status"]["state"]) == (REFERENCE, "submitted_late")
        assert body["submitted_by"] == practice.prescriber.display_name
        again = post_json(
            http, path, {"submitted_on": practice_today().isoformat(), "reference": REFERENCE}
        )
        assert errors(again) == {("submitted_on", "already_submitted")}
        assert http.get("/api/v1/dosing/rems/forms?pending=true").json() == []

    def test_a_therapist_may_not_submit(self, practice: Practice, form: RemsForm) -> None:
        response = post_json(
            signed_in(practice.therapist),
            f"/api/v1/dosing/rems/forms/{form.public_id}/submit",
            {"submitted_on": practice_today().isoformat(), "reference": REFERENCE},
        )
        assert response.status_code == 400
        assert errors(response) == {("submitted_by", "not_credentialed")}
