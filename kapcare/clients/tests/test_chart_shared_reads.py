"""The chart reads the client's questionnaires, courses and doses once and hands them to each
section: every section must show what it shows when it reads for itself."""

from __future__ import annotations

import datetime as dt

import pytest

from kapcare.clients.selectors import chart
from kapcare.core.time import now
from kapcare.courses.models import Course, Phase
from kapcare.dosing.models import Dose
from kapcare.dosing.selectors import chart_dosing
from kapcare.measures.selectors import current_administrations, measure_history
from kapcare.outcomes.progress import ClientProgress, client_progress
from kapcare.outcomes.tests.helpers import (
    corrected_score,
    course,
    days_ago,
    dose,
    integration,
    score,
    start_of_day,
)
from kapcare.screening.selectors import trauma_profile
from kapcare.testing.personas import Practice

pytestmark = pytest.mark.django_db


def summary(progress: ClientProgress) -> tuple[object, ...]:
    return (
        progress.course,
        progress.since,
        progress.until,
        progress.note_text,
        [
            (item.code, [(s.at, s.total) for s in item.progress.scores])
            for item in progress.instruments
        ],
        progress.doses,
        progress.adherence,
    )


def history_of(practice: Practice) -> None:
    client = practice.client
    first = course(client, started_days_ago=300, phase=Phase.COMPLETED)
    score(client, 25, start_of_day(301))  # before any course
    score(client, 22, start_of_day(300))  # the first course's first moment
    score(client, None, days_ago(250))  # no total
    score(client, 40, days_ago(200), instrument="pcl5")
    score(client, 31, days_ago(20), instrument="pcl5")
    score(client, 3, days_ago(100), instrument="ace")
    current = course(client, started_days_ago=60)
    score(client, 19, start_of_day(60))
    score(client, 8, days_ago(5))
    score(client, 7, now() + dt.timedelta(hours=3))  # not yet: after `now`
    dose(first, practice.nurse, practice.therapist, at=days_ago(280), mg="150")
    dose(current, practice.nurse, practice.therapist, at=days_ago(30), mg="200")
    dose(current, practice.nurse, practice.therapist, at=days_ago(12), mg="250")
    dose(current, practice.nurse, practice.therapist, at=days_ago(11), with_dose=False)
    integration(current, practice.therapist, at=days_ago(29))
    corrected_score(client, 2, 12, days_ago(3))  # only the correction counts


@pytest.mark.parametrize("with_history", [True, False])
def test_each_section_shows_the_same_from_the_shared_reads(
    practice: Practice, with_history: bool
) -> None:
    if with_history:
        history_of(practice)
    client = chart(practice.client)
    moment = now()
    administrations = current_administrations(client)
    courses = list(Course.objects.filter(client=client).order_by("started_on", "id"))

    shared = client_progress(client, now=moment, courses=courses, administrations=administrations)
    own = client_progress(client, now=moment)
    assert summary(shared) == summary(own)
    if with_history:
        phq9 = shared.get("phq9")
        assert phq9 is not None
        assert [s.total for s in phq9.progress.scores] == [19, 8, 12]

    assert trauma_profile(client, administrations=administrations) == trauma_profile(client)
    if with_history:
        assert trauma_profile(client).pcl5_total == 31

    by_itself = measure_history(client)
    from_shared = measure_history(client, (), administrations)
    assert [(h.instrument.code, [r.administration.pk for r in h.rows]) for h in from_shared] == [
        (h.instrument.code, [r.administration.pk for r in h.rows]) for h in by_itself
    ]


def test_the_dose_markers_are_every_dose_oldest_first(practice: Practice) -> None:
    history_of(practice)
    markers = chart_dosing(practice.client).markers
    doses = Dose.objects.filter(session__client=practice.client).order_by("given_at", "id")
    assert markers == [(d.given_at, f"{d.dose_mg.normalize():f} mg {d.route}") for d in doses]
    assert [label for _, label in markers] == [
        "150 mg sublingual",
        "200 mg sublingual",
        "250 mg sublingual",
    ]


def test_the_active_team_is_the_current_members_of_the_whole_team(practice: Practice) -> None:
    from kapcare.clients.models import CareTeamMember
    from kapcare.testing.factories import make_member, make_staff

    left = make_member(client=practice.client, staff=make_staff(therapist=True))
    left.ended_at = now()
    left.save()
    client = chart(practice.client)
    members = CareTeamMember.objects.filter(client=practice.client).order_by("started_at", "id")
    whole, active = getattr(client, "all_team"), getattr(client, "active_team")  # noqa: B009
    assert [m.pk for m in whole] == [m.pk for m in members]
    assert [m.pk for m in active] == [m.pk for m in members.filter(ended_at__isnull=True)]
    assert left.pk in [m.pk for m in whole]
    assert left.pk not in [m.pk for m in active]
