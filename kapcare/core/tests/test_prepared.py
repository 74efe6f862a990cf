"""Prepared reads (kapcare.core.prepared): the same rows as the plain queryset, for any ids, in
any thread and time zone; arguments that do not reach the SQL as parameters are refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, CareTeamRole, Client
from kapcare.core.prepared import NotPreparable, PreparedRead, prepared
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.personas import Practice


def _team(client_id: int) -> QuerySet[CareTeamMember]:
    return (
        CareTeamMember.objects.filter(client_id=client_id)
        .select_related("staff", "client")
        .only("role", "client__legal_family_name", "staff__username")
        .order_by("id")
    )


def _rows(members: list[CareTeamMember]) -> list[tuple[Any, ...]]:
    return [(m.pk, m.role, m.staff.username, m.client.legal_family_name) for m in members]


def test_models_with_related_rows_equal_the_plain_queryset(practice: Practice) -> None:
    other = make_client(legal_family_name="Other")
    make_member(client=other, staff=practice.outsider, role=CareTeamRole.THERAPIST)
    read = PreparedRead[CareTeamMember](_team, 1)
    for client in (practice.client, other):
        found = read(client.pk)
        assert _rows(found) == _rows(list(_team(client.pk)))
        assert found
        assert all(m.client_id == client.pk for m in found)
    # Related rows come from the same query: reading them costs nothing more.
    with CaptureQueriesContext(connection) as queries:
        names = [m.staff.username for m in read(practice.client.pk)]
    assert len(queries) == 1
    assert sorted(names) == sorted(
        practice.client.care_team.values_list("staff__username", flat=True)
    )
    assert read(-1) == []


def test_values_flat_values_slices_and_several_arguments(practice: Practice) -> None:
    extra = make_staff(username="extra", therapist=True)
    make_member(client=practice.client, staff=extra, role=CareTeamRole.THERAPIST)

    @prepared(arguments=2)
    def roles(client_id: int, staff_id: int) -> QuerySet[Any]:
        return CareTeamMember.objects.filter(client_id=client_id, staff_id=staff_id).values_list(
            "role", "staff__username"
        )

    @prepared(arguments=1)
    def usernames(client_id: int) -> QuerySet[Any]:
        members = CareTeamMember.objects.filter(client_id=client_id).order_by("staff__username")
        return members.values_list("staff__username", flat=True)[:2]

    assert roles(practice.client.pk, extra.pk) == [(CareTeamRole.THERAPIST, "extra")]
    assert roles(practice.client.pk, practice.therapist.pk) == [
        (CareTeamRole.PRIMARY_THERAPIST, "therapist")
    ]
    assert roles(practice.client.pk, practice.outsider.pk) == []
    expected = list(
        CareTeamMember.objects.filter(client=practice.client)
        .order_by("staff__username")
        .values_list("staff__username", flat=True)[:2]
    )
    assert usernames(practice.client.pk) == expected
    assert len(expected) == 2


def test_a_read_without_arguments(practice: Practice) -> None:
    @prepared(arguments=0)
    def admins() -> QuerySet[User]:
        return User.objects.filter(is_practice_admin=True).order_by("username")

    assert [user.username for user in admins()] == ["admin"]
    make_staff(username="admin2", admin=True)
    assert [user.username for user in admins()] == ["admin", "admin2"]  # read afresh each time


def test_only_integer_ids_in_the_declared_number() -> None:
    read = PreparedRead[Client](lambda client_id: Client.objects.filter(pk=client_id), 1)
    with pytest.raises(TypeError, match="integer ids"):
        read("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="integer ids"):
        read(True)
    with pytest.raises(TypeError, match="expected 1 arguments, got 2"):
        read(1, 2)


@pytest.mark.django_db
def test_an_argument_written_into_the_sql_is_refused() -> None:
    # A slice's bound is written into the SQL text, not bound as a parameter.
    inlined = PreparedRead[Client](lambda n: Client.objects.order_by("id")[:-n], 1)
    with pytest.raises(NotPreparable, match="changes the SQL's text"):
        inlined(3)


@pytest.mark.django_db
def test_an_argument_that_does_not_reach_the_sql_is_refused() -> None:
    ignored = PreparedRead[Client](lambda client_id: Client.objects.all(), 1)
    with pytest.raises(NotPreparable, match="does not reach the SQL"):
        ignored(3)
    computed = PreparedRead[Client](lambda client_id: Client.objects.filter(pk=client_id + 1), 1)
    with pytest.raises(NotPreparable, match="no argument"):
        computed(3)
    expression = PreparedRead[Client](
        lambda client_id: Client.objects.filter(pk=F("id") - client_id), 1
    )
    assert expression(0) == list(Client.objects.all())  # still a bound parameter: allowed


@pytest.mark.django_db(transaction=True)
def test_another_thread_reads_on_its_own_connection() -> None:
    client = make_client(legal_family_name="Threaded")
    read = PreparedRead[Client](lambda client_id: Client.objects.filter(pk=client_id), 1)
    assert read(client.pk) == [client]  # compiled on this thread's connection
    found: list[Any] = []

    def other() -> None:
        try:
            found.append(read(client.pk))
        except Exception as error:  # handed to the test's thread
            found.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert found == [[client]]


@pytest.mark.django_db
def test_each_time_zone_has_its_own_compiled_form() -> None:
    read = PreparedRead[Client](lambda client_id: Client.objects.filter(pk=client_id), 1)
    read(1)
    with timezone.override("Asia/Tokyo"):
        read(1)
    read(1)
    assert len(read._compiled) == 2
