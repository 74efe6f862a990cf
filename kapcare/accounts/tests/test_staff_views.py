"""Staff management pages: practice admins only; creation, role changes and their audit."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from kapcare.accounts import services
from kapcare.accounts.models import User
from kapcare.core.models import AuditEvent
from kapcare.testing.http import signed_in

NON_ADMINS = [
    "therapist",
    "prescriber",
    "nurse",
    "front_desk",
    "outsider",
    "outsider_prescriber",
]


def staff_urls(practice) -> list[str]:
    staff_id = practice.nurse.public_id
    return [
        "/accounts/staff/",
        "/accounts/staff/new/",
        f"/accounts/staff/{staff_id}/",
        f"/accounts/staff/{staff_id}/audit/",
    ]


def new_staff_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": "okafor",
        "first_name": "Dana",
        "last_name": "Okafor",
        "email": "dana.okafor@example.org",
        "professional_title": "LCSW",
        "roles": ["therapist"],
        "prescriber_credential": "",
        "licence_number": "",
    }
    data.update(overrides)
    return data


def edit_data(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "professional_title": user.professional_title,
        "roles": [role.value for role in user.roles],
        "prescriber_credential": user.prescriber_credential,
        "licence_number": user.licence_number,
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("persona", NON_ADMINS)
def test_staff_pages_are_404_for_everyone_but_admins(practice, persona: str) -> None:
    client = signed_in(getattr(practice, persona))
    for url in staff_urls(practice):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", NON_ADMINS)
def test_staff_writes_are_404_for_everyone_but_admins(practice, persona: str) -> None:
    client = signed_in(getattr(practice, persona))
    users_before = User.objects.count()
    response = client.post("/accounts/staff/new/", new_staff_data(roles=["practice_admin"]))
    assert response.status_code == 404
    nurse = practice.nurse
    response = client.post(
        f"/accounts/staff/{nurse.public_id}/", edit_data(nurse, roles=["practice_admin"])
    )
    assert response.status_code == 404
    nurse.refresh_from_db()
    assert not nurse.is_practice_admin
    assert User.objects.count() == users_before
    assert not AuditEvent.objects.filter(action__startswith="staff.").exists()


def test_staff_pages_are_open_to_the_admin(practice) -> None:
    client = signed_in(practice.admin)
    for url in staff_urls(practice):
        assert client.get(url).status_code == 200, url


def test_signed_out_staff_pages_go_to_login(db: None) -> None:
    response = HttpClient().get("/accounts/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_staff_id_is_404(practice) -> None:
    client = signed_in(practice.admin)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/accounts/staff/{missing}/").status_code == 404
    assert client.get(f"/accounts/staff/{missing}/audit/").status_code == 404


def test_the_staff_list_shows_everyone(practice) -> None:
    response = signed_in(practice.admin).get("/accounts/staff/")
    content = response.content.decode()
    for user in User.objects.all():
        assert user.username in content


def test_creating_staff_shows_the_password_once(practice) -> None:
    client = signed_in(practice.admin)
    response = client.post("/accounts/staff/new/", new_staff_data())
    assert response.status_code == 200
    assert "accounts/staff_created.html" in [t.name for t in response.templates]
    password = response.context["password"]
    assert password in response.content.decode()
    created = User.objects.get(username="okafor")
    assert created.check_password(password)
    assert created.is_therapist
    assert not created.is_practice_admin
    assert created.professional_title == "LCSW"

    event = AuditEvent.objects.get(action="staff.create")
    assert event.actor == practice.admin
    assert event.subject_public_id == created.public_id
    assert event.after["username"] == "okafor"
    assert password not in str(event.after)

    # Never shown again: not on the edit page, the list or the audit page.
    for url in (
        "/accounts/staff/",
        f"/accounts/staff/{created.public_id}/",
        f"/accounts/staff/{created.public_id}/audit/",
    ):
        assert password not in client.get(url).content.decode()


def test_creating_a_prescriber_without_a_licence_shows_the_error(practice) -> None:
    client = signed_in(practice.admin)
    users_before = User.objects.count()
    response = client.post(
        "/accounts/staff/new/",
        new_staff_data(roles=["prescriber"], prescriber_credential="MD", licence_number=""),
    )
    assert response.status_code == 400
    assert "licence_number" in response.context["form"].errors
    assert "A prescriber needs a licence number." in response.content.decode()
    assert User.objects.count() == users_before
    assert not AuditEvent.objects.filter(action="staff.create").exists()


def test_creating_with_no_role_is_a_form_error(practice) -> None:
    client = signed_in(practice.admin)
    response = client.post("/accounts/staff/new/", new_staff_data(roles=[]))
    assert response.status_code == 400
    assert "roles" in response.context["form"].errors
    assert not User.objects.filter(username="okafor").exists()


def test_creating_a_duplicate_username_is_a_form_error(practice) -> None:
    client = signed_in(practice.admin)
    response = client.post("/accounts/staff/new/", new_staff_data(username="nurse"))
    assert response.status_code == 400
    assert "username" in response.context["form"].errors
    assert User.objects.filter(username="nurse").count() == 1


def test_editing_roles_is_audited_with_before_and_after(practice) -> None:
    nurse = practice.nurse
    client = signed_in(practice.admin)
    response = client.post(
        f"/accounts/staff/{nurse.public_id}/", edit_data(nurse, roles=["nurse", "front_desk"])
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/staff/"
    nurse.refresh_from_db()
    assert nurse.is_nurse
    assert nurse.is_front_desk
    event = AuditEvent.objects.get(action="staff.update")
    assert event.actor == practice.admin
    assert event.subject_public_id == nurse.public_id
    assert event.before == {"is_front_desk": False}
    assert event.after == {"is_front_desk": True}


def test_the_edit_page_shows_the_current_values(practice) -> None:
    prescriber = practice.prescriber
    response = signed_in(practice.admin).get(f"/accounts/staff/{prescriber.public_id}/")
    form = response.context["form"]
    assert form.initial["roles"] == ["prescriber"]
    assert form.initial["licence_number"] == prescriber.licence_number
    assert prescriber.licence_number in response.content.decode()


def test_an_admin_cannot_deactivate_themselves_on_the_page(practice) -> None:
    admin = practice.admin
    response = signed_in(admin).post(
        f"/accounts/staff/{admin.public_id}/", edit_data(admin, is_active=None)
    )
    assert response.status_code == 400
    assert "is_active" in response.context["form"].errors
    assert "You cannot deactivate your own account." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active
    assert not AuditEvent.objects.filter(action="staff.update").exists()


def test_adding_the_prescriber_role_without_licence_on_the_page(practice) -> None:
    therapist = practice.therapist
    response = signed_in(practice.admin).post(
        f"/accounts/staff/{therapist.public_id}/",
        edit_data(therapist, roles=["therapist", "prescriber"], prescriber_credential="DO"),
    )
    assert response.status_code == 400
    assert "licence_number" in response.context["form"].errors
    therapist.refresh_from_db()
    assert not therapist.is_prescriber
    assert therapist.prescriber_credential == ""


def test_the_staff_audit_page_lists_events_and_records_the_read(practice) -> None:
    client = signed_in(practice.admin)
    nurse = practice.nurse
    client.post(f"/accounts/staff/{nurse.public_id}/", edit_data(nurse, professional_title="NP"))
    services.staff_set_password(
        actor=nurse, staff=nurse, new_password="violet-lantern-orchard-77"
    )  # something the nurse did
    services.staff_set_password(
        actor=practice.therapist, staff=practice.therapist, new_password="quiet-harbor-maple-31"
    )  # nothing to do with the nurse
    response = client.get(f"/accounts/staff/{nurse.public_id}/audit/")
    assert response.status_code == 200
    shown = [event.action for event in response.context["events"]]
    assert sorted(shown) == ["audit.read", "staff.password_change", "staff.update"]
    read = AuditEvent.objects.get(action="audit.read")
    assert read.actor == practice.admin
    assert read.subject_public_id == nurse.public_id


def test_admin_resets_a_password_and_lifts_a_lockout(practice) -> None:
    from django.conf import settings

    from kapcare.testing.factories import TEST_PASSWORD

    url = f"/accounts/staff/{practice.nurse.public_id}/password/"
    for persona in ("therapist", "prescriber", "nurse", "front_desk", "outsider"):
        assert signed_in(getattr(practice, persona)).post(url).status_code == 404
    # The nurse locks herself out.
    locked = HttpClient(REMOTE_ADDR="198.51.100.40")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        locked.post("/accounts/login/", {"username": "nurse", "password": f"bad-{attempt}"})
    assert (
        locked.post(
            "/accounts/login/", {"username": "nurse", "password": TEST_PASSWORD}
        ).status_code
        == 429
    )

    response = signed_in(practice.admin).post(url)
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    practice.nurse.refresh_from_db()
    assert practice.nurse.check_password(password)
    event = AuditEvent.objects.get(action="staff.password_reset")
    assert (event.actor, event.subject_public_id) == (practice.admin, practice.nurse.public_id)
    assert password not in str(AuditEvent.objects.values_list("before", "after", "detail"))
    # The lockout is lifted: the new password works from the address that was locked.
    signed = locked.post("/accounts/login/", {"username": "nurse", "password": password})
    assert signed.status_code == 302


def test_reset_is_post_only(practice) -> None:
    url = f"/accounts/staff/{practice.nurse.public_id}/password/"
    assert signed_in(practice.admin).get(url).status_code == 405
