"""The demo practice's courses: a client in each phase, integrations at risk and missed, and a
dose held back by a withdrawn clearance."""

from __future__ import annotations

from collections import Counter

from kapcare.core.time import now
from kapcare.courses import rules
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.courses.plan import course_plan, integration_at_risk
from kapcare.courses.selectors import course_gates
from kapcare.synthetic.demo import create_demo_practice


def test_the_demo_has_a_course_in_every_phase_and_integrations_at_risk(db: None) -> None:
    create_demo_practice(clients=40, seed=2026, now=now())
    phases = Counter(Course.objects.values_list("phase", flat=True))
    assert set(phases) == {"preparation", "induction", "maintenance", "completed", "discontinued"}
    assert phases["induction"] == 2

    states = Counter(
        item.state
        for course in Course.objects.all()
        for item in course_plan(course, now=now()).doses
    )
    # Yesterday's dose without an integration, and the next dose booked without one yet.
    assert states[rules.AT_RISK] == 2
    # The maintenance booster, and this morning's dose (kapcare.synthetic.demo_dosing), each
    # with its integration booked.
    assert states[rules.BOOKED_IN_WINDOW] == 2
    assert states[rules.MISSED] == 1
    assert states[rules.HELD_IN_WINDOW] >= 10

    at_risk = next(
        course
        for course in Course.objects.filter(phase="induction")
        if course_plan(course, now=now()).at_risk
    )
    therapist = at_risk.client.care_team.get(role="primary_therapist").staff
    assert {row.item.state for row in integration_at_risk(therapist, now=now())} >= {"at_risk"}

    held_back = Course.objects.get(protocol="iv_racemic")
    screening = next(g for g in course_gates(held_back) if g.code == "screening")
    assert not screening.passed
    assert screening.reason.startswith("Clearance withdrawn")

    preparation = Course.objects.get(phase="preparation")
    prep_gate = next(g for g in course_gates(preparation) if g.code == "preparation")
    assert prep_gate.reason == "2 of 5 preparation sessions held."
    assert (
        Appointment.objects.filter(
            course=preparation, kind=Kind.PREPARATION, state=State.BOOKED
        ).count()
        == 3
    )
    discontinued = Course.objects.get(phase="discontinued")
    assert discontinued.end_reason.startswith("Blood pressure")
