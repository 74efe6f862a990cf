"""Staff account services: roles, passwords, validation, permissions and their audit."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from kapcare.accounts import services
from kapcare.accounts.models import Role, User
from kapcare.core.models import AuditEvent


def create(actor: User | None, **overrides: object) -> tuple[User, str]:
    fields: dict[str, object] = {
        "username": "rivera",
        "first_name": "Sam",
        "last_name": "Rivera",
        "email": "sam.rivera@example.org",
        "roles": [Role.THERAPIST],
    }
    fields.update(overrides)
    return services.staff_create(actor=actor, **fields)  # type: ignore[arg-type]


def counts() -> tuple[int, int]:
    return User.objects.count(), AuditEvent.objects.count()


# --- staff_create -------------------------------------------------------------------------------


def test_create_sets_the_role_flags(practice) -> None:
    user, _ = create(practice.admin, roles=[Role.NURSE, "front_desk"], professional_title="RN")
    user.refresh_from_db()
    assert user.is_nurse
    assert user.is_front_desk
    assert not user.is_therapist
    assert not user.is_prescriber
    assert not user.is_practice_admin
    assert user.roles == [Role.NURSE, Role.FRONT_DESK]


def test_create_a_prescriber_with_credential_and_licence(practice) -> None:
    user, _ = create(
        practice.admin,
        roles=[Role.PRESCRIBER],
        prescriber_credential="NP",
        licence_number="  NP-12345 ",
    )
    user.refresh_from_db()
    assert user.is_prescriber
    assert user.prescriber_credential == "NP"
    assert user.licence_number == "NP-12345"


def test_create_generates_a_password_that_passes_the_validators(practice) -> None:
    user, password = create(practice.admin)
    validate_password(password, user)  # raises if it does not pass
    user.refresh_from_db()
    assert user.check_password(password)
    assert password not in user.password


def test_generated_passwords_differ() -> None:
    assert len({services.generate_password() for _ in range(20)}) == 20


def test_create_writes_an_audit_event_with_the_roles(practice) -> None:
    user, password = create(practice.admin, roles=[Role.THERAPIST, Role.PRACTICE_ADMIN])
    event = AuditEvent.objects.get(action="staff.create")
    assert event.actor == practice.admin
    assert event.subject_public_id == user.public_id
    assert event.before is None
    assert event.after["username"] == "rivera"
    assert event.after["is_therapist"] is True
    assert event.after["is_practice_admin"] is True
    assert event.after["is_prescriber"] is False
    assert password not in json.dumps(event.after)


def test_create_from_the_command_line_has_no_actor(db: None) -> None:
    user, _ = create(None, roles=[Role.PRACTICE_ADMIN])
    assert user.is_practice_admin
    event = AuditEvent.objects.get(action="staff.create")
    assert event.actor is None


@pytest.mark.parametrize(
    ("credential", "licence", "field"),
    [("", "LIC-1", "prescriber_credential"), ("MD", "", "licence_number")],
)
def test_a_prescriber_needs_credential_and_licence(
    practice, credential: str, licence: str, field: str
) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        create(
            practice.admin,
            roles=[Role.PRESCRIBER],
            prescriber_credential=credential,
            licence_number=licence,
        )
    assert field in raised.value.message_dict
    assert counts() == before
    assert not User.objects.filter(username="rivera").exists()


def test_a_weak_password_is_refused_naming_the_password(practice) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        create(practice.admin, password="12345678")
    assert list(raised.value.message_dict) == ["password"]
    assert counts() == before


def test_a_password_like_the_username_is_refused(practice) -> None:
    with pytest.raises(ValidationError) as raised:
        create(practice.admin, username="samrivera2025", password="samrivera2025")
    assert "password" in raised.value.message_dict


def test_no_roles_is_refused(practice) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        create(practice.admin, roles=[])
    assert "roles" in raised.value.message_dict
    assert counts() == before


@pytest.mark.parametrize("persona", ["therapist", "prescriber", "nurse", "front_desk", "outsider"])
def test_only_a_practice_admin_can_create_staff(practice, persona: str) -> None:
    before = counts()
    with pytest.raises(PermissionError):
        create(getattr(practice, persona))
    assert counts() == before


def test_a_duplicate_username_is_refused(practice) -> None:
    before = counts()
    with pytest.raises(ValidationError) as raised:
        create(practice.admin, username="nurse")
    assert "username" in raised.value.message_dict
    assert counts() == before


# --- staff_update -------------------------------------------------------------------------------


def test_update_records_only_the_changed_fields(practice) -> None:
    nurse = practice.nurse
    old_email = nurse.email
    services.staff_update(
        actor=practice.admin,
        staff=nurse,
        roles=[Role.NURSE, Role.FRONT_DESK],
        email="new.address@example.org",
        first_name=nurse.first_name,  # unchanged
    )
    nurse.refresh_from_db()
    assert nurse.is_front_desk
    assert nurse.email == "new.address@example.org"
    event = AuditEvent.objects.get(action="staff.update")
    assert event.actor == practice.admin
    assert event.subject_public_id == nurse.public_id
    assert event.before == {"email": old_email, "is_front_desk": False}
    assert event.after == {"email": "new.address@example.org", "is_front_desk": True}


def test_update_with_no_change_writes_no_event(practice) -> None:
    services.staff_update(actor=practice.admin, staff=practice.nurse, roles=[Role.NURSE])
    assert not AuditEvent.objects.filter(action="staff.update").exists()


def test_only_a_practice_admin_can_update_staff(practice) -> None:
    with pytest.raises(PermissionError):
        services.staff_update(actor=practice.therapist, staff=practice.nurse, is_active=False)
    practice.nurse.refresh_from_db()
    assert practice.nurse.is_active


def test_a_field_outside_the_form_cannot_be_changed(practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.staff_update(actor=practice.admin, staff=practice.nurse, is_superuser=True)
    assert "is_superuser" in raised.value.message_dict
    practice.nurse.refresh_from_db()
    assert not practice.nurse.is_superuser


def test_an_admin_cannot_remove_their_own_admin_role(practice) -> None:
    admin = practice.admin
    with pytest.raises(ValidationError) as raised:
        services.staff_update(actor=admin, staff=admin, roles=[Role.THERAPIST])
    assert "roles" in raised.value.message_dict
    admin.refresh_from_db()
    assert admin.is_practice_admin
    assert not AuditEvent.objects.filter(action="staff.update").exists()


def test_an_admin_cannot_deactivate_themselves(practice) -> None:
    admin = practice.admin
    with pytest.raises(ValidationError) as raised:
        services.staff_update(actor=admin, staff=admin, is_active=False)
    assert "is_active" in raised.value.message_dict
    admin.refresh_from_db()
    assert admin.is_active


def test_an_admin_can_deactivate_someone_else(practice) -> None:
    services.staff_update(actor=practice.admin, staff=practice.outsider, is_active=False)
    practice.outsider.refresh_from_db()
    assert not practice.outsider.is_active
    event = AuditEvent.objects.get(action="staff.update")
    assert event.before == {"is_active": True}
    assert event.after == {"is_active": False}


def test_removing_the_prescriber_role_clears_credential_and_licence(practice) -> None:
    prescriber = practice.prescriber
    licence = prescriber.licence_number
    services.staff_update(actor=practice.admin, staff=prescriber, roles=[Role.THERAPIST])
    prescriber.refresh_from_db()
    assert not prescriber.is_prescriber
    assert prescriber.is_therapist
    assert prescriber.prescriber_credential == ""
    assert prescriber.licence_number == ""
    event = AuditEvent.objects.get(action="staff.update")
    assert event.before["licence_number"] == licence
    assert event.after["licence_number"] == ""
    assert event.before["prescriber_credential"] == "MD"


def test_adding_the_prescriber_role_without_licence_is_refused(practice) -> None:
    therapist = practice.therapist
    with pytest.raises(ValidationError) as raised:
        services.staff_update(
            actor=practice.admin,
            staff=therapist,
            roles=[Role.THERAPIST, Role.PRESCRIBER],
            prescriber_credential="MD",
        )
    assert "licence_number" in raised.value.message_dict
    therapist.refresh_from_db()
    assert not therapist.is_prescriber
    assert not AuditEvent.objects.filter(action="staff.update").exists()


# --- passwords ----------------------------------------------------------------------------------


def test_set_password_is_audited_without_the_password(practice) -> None:
    nurse = practice.nurse
    new_password = "violet-lantern-orchard-77"
    services.staff_set_password(actor=nurse, staff=nurse, new_password=new_password)
    nurse.refresh_from_db()
    assert nurse.check_password(new_password)
    event = AuditEvent.objects.get(action="staff.password_change")
    assert event.actor == nurse
    assert event.subject_public_id == nurse.public_id
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    flattened = json.dumps(row, default=str)
    assert new_password not in flattened
    assert nurse.password not in flattened  # not even the hash


def test_an_admin_reset_is_recorded_as_a_reset(practice) -> None:
    services.staff_set_password(
        actor=practice.admin, staff=practice.nurse, new_password="violet-lantern-orchard-77"
    )
    event = AuditEvent.objects.get(action="staff.password_reset")
    assert event.actor == practice.admin
    assert event.subject_public_id == practice.nurse.public_id


def test_set_password_refuses_a_weak_password(practice) -> None:
    nurse = practice.nurse
    old_hash = nurse.password
    with pytest.raises(ValidationError) as raised:
        services.staff_set_password(actor=nurse, staff=nurse, new_password="password")
    assert "new_password" in raised.value.message_dict
    nurse.refresh_from_db()
    assert nurse.password == old_hash
    assert not AuditEvent.objects.exists()


def test_argon2_is_the_production_hasher() -> None:
    import kapcare.settings

    assert (
        kapcare.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_a_password_set_with_argon2_verifies(practice) -> None:
    import kapcare.settings

    with override_settings(PASSWORD_HASHERS=kapcare.settings.PASSWORD_HASHERS):
        nurse = practice.nurse
        services.staff_set_password(
            actor=nurse, staff=nurse, new_password="violet-lantern-orchard-77"
        )
        nurse.refresh_from_db()
        assert nurse.password.startswith("argon2$")
        assert identify_hasher(nurse.password).algorithm == "argon2"
        assert nurse.check_password("violet-lantern-orchard-77")
        assert not nurse.check_password("violet-lantern-orchard-78")
        encoded = make_password("another-long-passphrase")
        assert check_password("another-long-passphrase", encoded)
