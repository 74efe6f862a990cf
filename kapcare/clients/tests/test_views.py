"""Client pages: list, search, chart, create, edit and the chart's small forms."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.clients.models import CareTeamRole, Client, ClientStatus, WeightMeasurement
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def create_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "legal_given_names": "Noor",
        "legal_family_name": "Haddad",
        "date_of_birth": "1990-03-14",
        "sex_at_birth": "female",
        "preferred_channel": "sms",
        "phone": "(555) 555-0111",
    }
    data.update(overrides)
    return data


def names(response: Any) -> list[str]:
    return [client.legal_family_name for client in response.context["page"].object_list]


class TestList:
    def test_shows_only_the_users_clients(self, practice: Practice) -> None:
        response = signed_in(practice.nurse).get("/clients/")
        assert response.status_code == 200
        assert names(response) == ["Quinlan"]
        assert "Person" not in response.content.decode()

    def test_search_by_name_preferred_name_and_birth_date(self, practice: Practice) -> None:
        make_member(client=make_client(legal_family_name="Quintero"), staff=practice.therapist)
        http = signed_in(practice.therapist)
        assert names(http.get("/clients/", {"q": "quin"})) == ["Quinlan", "Quintero"]
        assert names(http.get("/clients/", {"q": "jay"})) == ["Quinlan"]  # preferred name
        assert names(http.get("/clients/", {"q": "jamie quin"})) == ["Quinlan"]
        born = practice.client.date_of_birth
        assert names(http.get("/clients/", {"q": born.isoformat()})) == ["Quinlan"]
        assert names(http.get("/clients/", {"q": born.strftime("%m/%d/%Y")})) == ["Quinlan"]
        assert names(http.get("/clients/", {"q": "nobody-like-this"})) == []

    def test_search_never_reaches_beyond_the_care_team(self, practice: Practice) -> None:
        response = signed_in(practice.outsider).get("/clients/", {"q": "Quinlan"})
        assert names(response) == []

    def test_filters_by_status_and_clinician(self, practice: Practice) -> None:
        active = make_client(legal_family_name="Active", status=ClientStatus.ACTIVE)
        make_member(client=active, staff=practice.outsider, role=CareTeamRole.PRIMARY_THERAPIST)
        http = signed_in(practice.admin)
        assert names(http.get("/clients/", {"status": "active"})) == ["Active"]
        by_therapist = http.get("/clients/", {"clinician": str(practice.therapist.public_id)})
        assert names(by_therapist) == ["Quinlan"]
        by_outsider = http.get("/clients/", {"clinician": str(practice.outsider.public_id)})
        assert sorted(names(by_outsider)) == ["Active", "Person"]

    def test_an_invalid_filter_does_not_drop_the_others(self, practice: Practice) -> None:
        http = signed_in(practice.admin)
        response = http.get("/clients/", {"q": "quinlan", "status": "no-such-status"})
        assert names(response) == ["Quinlan"]

    def test_front_desk_can_filter_by_themselves(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)
        response = http.get("/clients/", {"clinician": str(practice.front_desk.public_id)})
        assert names(response) == ["Quinlan"]
        assert response.context["form"].is_valid()

    def test_pagination(self, practice: Practice) -> None:
        for index in range(30):
            make_member(
                client=make_client(legal_family_name=f"Z{index:02d}"), staff=practice.therapist
            )
        http = signed_in(practice.therapist)
        first = http.get("/clients/")
        assert len(names(first)) == 25
        assert first.context["page"].paginator.count == 31
        second = http.get("/clients/", {"page": 2})
        assert len(names(second)) == 6
        assert set(names(first)).isdisjoint(names(second))

    def test_htmx_request_gets_only_the_results(self, practice: Practice) -> None:
        response = signed_in(practice.therapist).get(
            "/clients/", {"q": "quin"}, headers={"HX-Request": "true"}
        )
        body = response.content.decode()
        assert "Quinlan" in body
        assert "<html" not in body
        assert 'id="result-count"' in body

    def test_list_read_is_audited_with_the_search(self, practice: Practice) -> None:
        signed_in(practice.therapist).get("/clients/", {"q": "quin"})
        event = AuditEvent.objects.get(action="client.list")
        assert event.actor == practice.therapist
        assert event.detail is not None
        assert event.detail["query"] == "quin"
        assert event.detail["shown"] == 1

    @pytest.mark.parametrize("who", ["therapist", "admin"])
    def test_query_count_does_not_grow_with_clients(self, practice: Practice, who: str) -> None:
        user = getattr(practice, who)

        def queries_for_list() -> int:
            http = signed_in(user)
            with CaptureQueriesContext(connection) as captured:
                response = http.get("/clients/")
            assert response.status_code == 200
            return len(captured)

        def add_clients(count: int) -> None:
            prescriber = make_staff(prescriber=True)
            for _ in range(count):
                client = make_client()
                make_member(client=client, staff=practice.therapist, role="primary_therapist")
                make_member(client=client, staff=prescriber, role=CareTeamRole.PRESCRIBER)

        add_clients(9)  # 10 on the list with Jamie
        at_ten = queries_for_list()
        add_clients(190)  # 200
        assert queries_for_list() == at_ten


class TestChart:
    def test_chart_shows_the_record_and_audits_the_read(self, practice: Practice) -> None:
        response = signed_in(practice.nurse).get(f"/clients/{practice.client.public_id}/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Jay Quinlan" in body
        assert practice.therapist.display_name in body
        event = AuditEvent.objects.get(action="client.read")
        assert (event.actor, event.client_public_id) == (practice.nurse, practice.client.public_id)
        assert event.channel == "web"
        assert event.ip == "127.0.0.1"

    def test_chart_query_count_is_flat(self, practice: Practice) -> None:
        http = signed_in(practice.therapist)
        url = f"/clients/{practice.client.public_id}/"

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert http.get(url).status_code == 200
            return len(captured)

        few = queries()
        for day in range(20):
            WeightMeasurement.objects.create(
                client=practice.client,
                measured_on=practice_today() - dt.timedelta(days=day),
                weight_kg=70,
            )
        for _ in range(5):
            make_member(client=practice.client, staff=make_staff(therapist=True))
        assert queries() == few

    def test_admin_only_audit_page(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/audit/"
        assert signed_in(practice.therapist).get(url).status_code == 404
        admin = signed_in(practice.admin)
        admin.get(f"/clients/{practice.client.public_id}/")
        response = admin.get(url)
        assert response.status_code == 200
        assert AuditEvent.objects.filter(action="audit.read").count() == 1
        # The page lists every event for the client, its own viewing included.
        shown = [event.action for event in response.context["events"].object_list]
        assert shown[:2] == ["audit.read", "client.read"]
        assert (
            len(shown)
            == AuditEvent.objects.filter(client_public_id=practice.client.public_id).count()
        )

    def test_edit_page_is_a_chart_read(self, practice: Practice) -> None:
        signed_in(practice.nurse).get(f"/clients/{practice.client.public_id}/edit/")
        event = AuditEvent.objects.get(action="client.read")
        assert event.detail == {"view": "edit"}
        assert event.actor == practice.nurse


class TestCreate:
    def test_create_redirects_to_the_chart(self, practice: Practice) -> None:
        response = signed_in(practice.front_desk).post(
            "/clients/new/",
            create_form(
                primary_therapist=str(practice.therapist.public_id),
                prescriber=str(practice.prescriber.public_id),
            ),
        )
        client = Client.objects.get(legal_family_name="Haddad")
        assert response.status_code == 302
        assert response["Location"] == f"/clients/{client.public_id}/"
        roles = dict(client.care_team.values_list("staff__username", "role"))
        assert roles == {
            "therapist": "primary_therapist",
            "prescriber": "prescriber",
            "frontdesk": "coordinator",
        }

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("date_of_birth", "2999-01-01", "cannot be in the future"),
            ("email", "not-an-email", "valid email"),
            ("phone", "phone me", "phone number"),
            ("legal_family_name", "", "required"),
            ("access_needs", "x" * 2001, "at most 2000"),
            ("primary_therapist", "00000000-0000-0000-0000-000000000000", "valid choice"),
        ],
    )
    def test_bad_input_is_shown_on_the_field_and_nothing_saved(
        self, practice: Practice, field: str, value: str, message: str
    ) -> None:
        http = signed_in(practice.therapist)
        before = (Client.objects.count(), AuditEvent.objects.count())
        response = http.post("/clients/new/", create_form(**{field: value}))
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert field in errors
        assert message in " ".join(errors[field])
        assert (Client.objects.count(), AuditEvent.objects.count()) == before

    def test_all_field_errors_show_on_the_first_submit(self, practice: Practice) -> None:
        response = signed_in(practice.therapist).post(
            "/clients/new/",
            create_form(legal_family_name="", date_of_birth="2999-01-01", email="x@"),
        )
        assert set(response.context["form"].errors) >= {
            "legal_family_name",
            "date_of_birth",
            "email",
        }

    def test_a_nurse_cannot_be_named_prescriber(self, practice: Practice) -> None:
        response = signed_in(practice.therapist).post(
            "/clients/new/", create_form(prescriber=str(practice.nurse.public_id))
        )
        assert response.status_code == 400
        assert not Client.objects.filter(legal_family_name="Haddad").exists()

    def test_duplicate_warning_then_confirmation(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)
        duplicate = create_form(
            legal_given_names="Jamie",
            legal_family_name="Quinlan",
            date_of_birth=practice.client.date_of_birth.isoformat(),
        )
        response = http.post("/clients/new/", duplicate)
        assert response.status_code == 400
        assert response.context["duplicate"] is True
        assert "already on record" in response.content.decode()
        assert Client.objects.filter(legal_family_name="Quinlan").count() == 1
        response = http.post("/clients/new/", {**duplicate, "acknowledge_duplicate": "on"})
        assert response.status_code == 302
        assert Client.objects.filter(legal_family_name="Quinlan").count() == 2


class TestEditAndChartForms:
    def test_edit_saves_and_audits(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/edit/"
        http = signed_in(practice.therapist)
        page = http.get(url)
        assert page.status_code == 200
        data = {
            name: ("" if value is None else value)
            for name, value in page.context["form"].initial.items()
        }
        data.update(pronouns="they/them", date_of_birth=practice.client.date_of_birth.isoformat())
        response = http.post(url, data)
        assert response.status_code == 302
        practice.client.refresh_from_db()
        assert practice.client.pronouns == "they/them"
        event = AuditEvent.objects.get(action="client.update")
        assert event.after == {"pronouns": "they/them"}

    def test_edit_error_keeps_the_record(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/edit/"
        http = signed_in(practice.therapist)
        data = {
            k: ("" if v is None else v) for k, v in http.get(url).context["form"].initial.items()
        }
        data.update(date_of_birth="2999-12-31", pronouns="xe/xem")
        response = http.post(url, data)
        assert response.status_code == 400
        assert "date_of_birth" in response.context["form"].errors
        practice.client.refresh_from_db()
        assert practice.client.pronouns == ""

    def test_weight_in_pounds_is_stored_in_kilograms(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/weights/"
        response = signed_in(practice.nurse).post(
            url, {"measured_on": practice_today().isoformat(), "weight": "154", "unit": "lb"}
        )
        assert response.status_code == 302
        assert str(WeightMeasurement.objects.get().weight_kg) == "69.9"

    def test_implausible_weight_is_refused_on_the_field(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/weights/"
        response = signed_in(practice.nurse).post(
            url, {"measured_on": practice_today().isoformat(), "weight": "700", "unit": "kg"}
        )
        assert response.status_code == 400
        assert "weight" in response.context["weight_form"].errors
        assert not WeightMeasurement.objects.exists()

    def test_discharge_without_reason_is_refused(self, practice: Practice) -> None:
        url = f"/clients/{practice.client.public_id}/status/"
        http = signed_in(practice.therapist)
        response = http.post(url, {"status": "discharged", "reason": ""})
        assert response.status_code == 400
        assert "reason" in response.context["status_form"].errors
        response = http.post(url, {"status": "discharged", "reason": "Moved away"})
        assert response.status_code == 302
        practice.client.refresh_from_db()
        assert practice.client.status == ClientStatus.DISCHARGED

    def test_care_team_add_and_remove(self, practice: Practice) -> None:
        colleague = make_staff(therapist=True)
        http = signed_in(practice.therapist)
        base = f"/clients/{practice.client.public_id}/care-team/"
        response = http.post(base, {"staff": str(colleague.public_id), "role": "therapist"})
        assert response.status_code == 302
        member = practice.client.care_team.get(staff=colleague)
        response = http.post(f"{base}{member.public_id}/end/")
        assert response.status_code == 302
        member.refresh_from_db()
        assert member.ended_at is not None
        # Removing yourself takes you back to the list, as you can no longer see the chart.
        own = practice.client.care_team.get(staff=practice.therapist)
        response = http.post(f"{base}{own.public_id}/end/")
        assert response["Location"] == "/clients/"
        assert http.get(f"/clients/{practice.client.public_id}/").status_code == 404

    def test_care_team_wrong_role_shows_error(self, practice: Practice) -> None:
        response = signed_in(practice.therapist).post(
            f"/clients/{practice.client.public_id}/care-team/",
            {"staff": str(practice.outsider.public_id), "role": "prescriber"},
        )
        assert response.status_code == 400
        assert "prescriber role" in " ".join(response.context["care_team_form"].errors["staff"])
        assert b"No one was added" in response.content
        assert not practice.client.care_team.filter(staff=practice.outsider).exists()

    def test_the_care_team_page_lists_the_team_and_everyone_who_can_join(
        self, practice: Practice
    ) -> None:
        colleague = make_staff(therapist=True, first_name="Noor", last_name="Haddad")
        http = signed_in(practice.therapist)
        chart_page = http.get(f"/clients/{practice.client.public_id}/").content.decode()
        # The chart links to the page rather than carrying the practice's whole staff list.
        assert 'name="staff"' not in chart_page
        assert f'href="/clients/{practice.client.public_id}/care-team/"' in chart_page
        response = http.get(f"/clients/{practice.client.public_id}/care-team/")
        assert response.status_code == 200
        page = response.content.decode()
        assert practice.therapist.display_name in page
        assert f'<option value="{colleague.public_id}">{colleague.display_name}</option>' in page
        assert colleague.display_name.startswith("Noor Haddad")
        reads = AuditEvent.objects.filter(action="client.read", actor=practice.therapist)
        read = reads.order_by("id").last()
        assert read is not None
        assert read.detail == {"view": "care_team"}
        assert (
            signed_in(practice.outsider)
            .get(f"/clients/{practice.client.public_id}/care-team/")
            .status_code
            == 404
        )
