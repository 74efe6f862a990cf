"""`kapcare refresh_outcomes`: recent courses by default, every course with --all."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from kapcare.core.time import now
from kapcare.courses.models import Course
from kapcare.outcomes.models import CourseSummary
from kapcare.testing.personas import Practice


def test_refreshes_courses_in_motion_and_all_with_the_flag(practice: Practice) -> None:
    today = now().date()
    open_course = Course.objects.create(
        client=practice.client, protocol="kap_sublingual", started_on=today, phase="induction"
    )
    old = Course.objects.create(
        client=practice.client,
        protocol="kap_sublingual",
        started_on=today - dt.timedelta(days=900),
        ended_on=today - dt.timedelta(days=700),
        phase="completed",
    )
    out = io.StringIO()
    call_command("refresh_outcomes", stdout=out)
    assert "Refreshed 1 course summary" in out.getvalue()
    assert set(CourseSummary.objects.values_list("course_id", flat=True)) == {open_course.id}

    call_command("refresh_outcomes", "--all", stdout=out)
    assert set(CourseSummary.objects.values_list("course_id", flat=True)) == {
        open_course.id,
        old.id,
    }
    assert CourseSummary.objects.get(course=old).completed is True
