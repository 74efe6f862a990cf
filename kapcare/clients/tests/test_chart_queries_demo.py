"""The chart reads a fixed number of queries whatever the client's history: every client of the
demo practice (scenarios with screening, courses, doses, notes, risk assessments, flags,
questionnaires; partner clinics' clients with two years of courses) costs the same, for a
clinician on their care team. A field read lazily by any section would show here as a client
costing more."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.clients.models import CareTeamMember, Client
from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.synthetic.demo import create_demo_practice
from kapcare.testing.http import signed_in

pytestmark = pytest.mark.django_db


def test_every_demo_clients_chart_costs_the_same_queries() -> None:
    # The demo's scenarios, plus partner clinics' clients with two years of courses.
    create_demo_practice(clients=6, seed=5, now=now(), history=30)
    counts: dict[bool, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for client in Client.objects.all():
        members = CareTeamMember.objects.filter(client=client, ended_at__isnull=True)
        clinician = next(
            (
                m.staff
                for m in members.select_related("staff").order_by("id")
                if m.staff.is_clinician
            ),
            None,
        )
        if clinician is None:
            continue
        http = signed_in(clinician)
        url = f"/clients/{client.public_id}/"
        assert http.get(url).status_code == 200  # the session's first page
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url).status_code == 200
        has_course = Course.objects.filter(client=client).exists()
        counts[has_course][len(captured)].append(client.display_name)
    # Clients with a course read one more thing (the course's sessions for the progress line).
    assert set(counts) == {True, False}
    for has_course, by_count in counts.items():
        assert len(by_count) == 1, (has_course, dict(by_count))
    assert all(len(names) >= 2 for by_count in counts.values() for names in by_count.values())
    assert sum(len(names) for by_count in counts.values() for names in by_count.values()) >= 20
