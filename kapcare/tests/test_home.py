"""The home page: what each role sees first, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamRole, ClientStatus
from kapcare.testing.factories import make_client, make_member
from kapcare.testing.personas import Practice


def home(user: User) -> tuple[int, str, dict]:
    http = HttpClient()
    http.force_login(user)
    response = http.get("/")
    return response.status_code, response.content.decode(), response.context


def test_therapist_sees_their_clients_and_counts(practice: Practice) -> None:
    discharged = make_client(legal_family_name="Gone", status=ClientStatus.DISCHARGED)
    make_member(client=discharged, staff=practice.therapist, role=CareTeamRole.THERAPIST)
    status, body, context = home(practice.therapist)
    assert status == 200
    assert "Jay Quinlan" in body
    # Discharged clients are left off "My clients" but still counted by status.
    assert "Gone" not in body
    assert context["my_client_count"] == 1
    counts = {status.value: count for status, count in context["status_counts"]}
    assert counts["inquiry"] == 1
    assert counts["discharged"] == 1
    assert "Recent activity" not in body
    assert "Front desk" not in body


def test_outsider_home_shows_nothing_of_other_teams(practice: Practice) -> None:
    _, body, context = home(practice.outsider)
    assert "Quinlan" not in body
    assert sum(count for _, count in context["status_counts"]) == 1


def test_admin_and_front_desk_panels(practice: Practice) -> None:
    _, body, context = home(practice.admin)
    assert "Recent activity" in body
    assert "Front desk" in body
    assert sum(count for _, count in context["status_counts"]) == 2  # every client
    _, body, _ = home(practice.front_desk)
    assert "Front desk" in body
    assert "Recent activity" not in body


@pytest.mark.parametrize("who", ["therapist", "admin"])
def test_home_query_count_does_not_grow(practice: Practice, who: str) -> None:
    user = getattr(practice, who)
    http = HttpClient()
    http.force_login(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/").status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for index in range(count):
            client = make_client(status=list(ClientStatus)[index % len(ClientStatus)])
            make_member(client=client, staff=practice.therapist, role=CareTeamRole.THERAPIST)

    add(9)
    few = queries()
    add(190)
    assert queries() == few


def test_questionnaires_due_and_overdue(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    import datetime as dt

    from kapcare.core.time import now
    from kapcare.measures.models import SelfReportLink
    from kapcare.measures.self_report import link_send

    with django_capture_on_commit_callbacks(execute=True):
        due = link_send(
            actor=practice.therapist, client=practice.client, instruments=["phq9"], channel="email"
        )
        late = link_send(
            actor=practice.therapist, client=practice.client, instruments=["gad7"], channel="email"
        )
    SelfReportLink.objects.filter(pk=late.pk).update(expires_at=now() - dt.timedelta(days=1))
    _, body, context = home(practice.nurse)
    rows = {row.link.pk: row.overdue for row in context["outstanding"]}
    assert rows == {due.pk: False, late.pk: True}
    assert "overdue: link expired" in body
    _, _, outsider_context = home(practice.outsider)
    assert outsider_context["outstanding"] == []
    SelfReportLink.objects.filter(pk=late.pk).update(expires_at=now() - dt.timedelta(days=15))
    _, _, context = home(practice.nurse)
    assert [row.link.pk for row in context["outstanding"]] == [due.pk]  # old ones drop off
