"""The demo practice's dosing sessions: a signed session for every dosing appointment held, the
IV blood pressure excursion and its reviewed flag, the esketamine session's nausea and REMS
form, a clean stock reconciliation, and this morning's session still being monitored."""

from __future__ import annotations

import datetime as dt

from kapcare.core.time import now
from kapcare.courses.models import Appointment, Kind, State
from kapcare.dosing import flowsheet, rules, selectors
from kapcare.dosing.models import (
    AdverseEvent,
    DosingSession,
    RemsForm,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.safety.models import FlagKind, SafetyFlag
from kapcare.stock.models import Movement
from kapcare.stock.selectors import reconciliation
from kapcare.synthetic.demo import create_demo_practice


def test_the_demo_has_realistic_dosing_sessions(db: None) -> None:
    """One build of the demo as `./run` makes it (it takes seconds), then every check."""
    built_at = now()
    create_demo_practice(clients=40, seed=2026, now=built_at)
    _check_every_held_dose_is_charted_and_signed(built_at)
    _check_the_iv_excursion(built_at)
    _check_the_esketamine_session()
    _check_the_sublingual_dizziness()
    _check_the_stock(built_at)
    _check_this_mornings_session(built_at)


def _check_every_held_dose_is_charted_and_signed(built_at: dt.datetime) -> None:
    held = Appointment.objects.filter(kind=Kind.DOSING, state=State.HELD, starts_at__lt=built_at)
    assert held.count() >= 15
    sessions = DosingSession.objects.filter(appointment__in=held).select_related("appointment")
    assert sessions.count() == held.count()
    routes = set()
    for session in sessions:
        assert session.state == SessionState.SIGNED
        assert session.pre_check_passed
        assert session.monitor_signed_by == session.appointment.clinician
        assert session.therapist_signed_by == session.appointment.second_clinician
        assert session.discharged_at is not None
        assert all(
            check["passed"] or check["overridden_by"]
            for check in session.pre_check["checks"]
            if check["blocking"]
        )
        dose = session.dose
        routes.add(dose.route)
        assert session.appointment.starts_at < dose.given_at < session.discharged_at
        assert all(check["passed"] for check in session.discharge["checks"])
        # Every reading the flowsheet asks for was taken.
        sheet = flowsheet.flowsheet(session, built_at)
        assert sheet.dues
        assert {item.state for item in sheet.dues} == {rules.DONE}
        assert sheet.latest_moaas is not None
        assert sheet.latest_cadss is not None
        assert sheet.latest_cadss.version == "cadss23"
    assert routes == {rules.SUBLINGUAL, rules.INTRAMUSCULAR, rules.INTRAVENOUS, rules.INTRANASAL}
    # A gate that fails today (a withdrawn clearance, a screen done on paper) was overridden by
    # a prescriber, with the reason, in the pre-dose check; none was overridden silently.
    overridden = [
        check
        for session in sessions
        for check in session.pre_check["checks"]
        if check["code"] == "gates" and not check["passed"]
    ]
    assert overridden
    for check in overridden:
        assert check["overridden_by"]
        assert "paper" in check["override_reason"]


def _check_the_iv_excursion(built_at: dt.datetime) -> None:
    params, _versions = selectors.parameters_in_force()
    stop_systolic, stop_diastolic = params.bp_stop
    above = VitalsRow.objects.filter(
        session__dose__route=rules.INTRAVENOUS, systolic__gt=stop_systolic
    ) | VitalsRow.objects.filter(
        session__dose__route=rules.INTRAVENOUS, diastolic__gt=stop_diastolic
    )
    (reading,) = above
    session = reading.session
    dose = session.dose
    assert reading.taken_at - dose.given_at <= dt.timedelta(minutes=45)
    later = VitalsRow.objects.filter(session=session, taken_at__gt=reading.taken_at).order_by(
        "taken_at"
    )
    systolics = [row.systolic for row in later]
    assert systolics == sorted(systolics, reverse=True)
    assert systolics[-1] <= params.bp_hold["racemic"].systolic

    (flag,) = SafetyFlag.objects.filter(kind=FlagKind.VITAL_SIGNS)
    assert flag.source_session == session
    assert flag.rule == "bp_stop"
    assert not flag.is_open
    assert flag.closed_by is not None
    assert flag.closed_by.is_prescriber
    assert "184/102" in flag.review_note
    assert AdverseEvent.objects.filter(session=session).exists()
    # The demo still opens with the one suicide-risk flag waiting, and no vital-signs flag.
    assert list(SafetyFlag.objects.open().values_list("kind", flat=True)) == [FlagKind.SUICIDE_RISK]


def _check_the_esketamine_session() -> None:
    (session,) = DosingSession.objects.filter(dose__route=rules.INTRANASAL)
    assert session.dose.dose_mg == 56
    assert session.dose.devices == 2
    effects = SideEffectRow.objects.filter(session=session, effect="nausea")
    assert effects.exists()
    assert WorkRow.objects.filter(session=session, kind="antiemetic").exists()
    form = RemsForm.objects.get(session=session)
    assert form.submitted_on is not None
    assert form.submitted_on <= form.due_on
    assert form.reference
    assert form.data["missing"] == []
    assert form.data["side_effects"]


def _check_the_sublingual_dizziness() -> None:
    dizzy = SideEffectRow.objects.filter(
        session__dose__route=rules.SUBLINGUAL, effect="dizziness", severity="mild"
    )
    assert dizzy.count() == 1


def _check_the_stock(built_at: dt.datetime) -> None:
    since = built_at - dt.timedelta(days=365)
    report = reconciliation(since, built_at + dt.timedelta(minutes=5))
    assert report.clean, report
    assert (
        Movement.objects.filter(kind="administered").count()
        == DosingSession.objects.filter(dose__isnull=False).count()
    )
    (waste,) = Movement.objects.filter(kind="wasted")
    assert waste.witness is not None
    assert waste.witness != waste.recorded_by
    assert Movement.objects.filter(kind="received").count() == 4
    assert not Movement.objects.filter(balance_after_mg__lt=0).exists()


def _check_this_mornings_session(built_at: dt.datetime) -> None:
    (session,) = DosingSession.objects.filter(state=SessionState.DOSED)
    given = session.dose.given_at
    assert dt.timedelta(minutes=40) <= built_at - given <= dt.timedelta(minutes=50)
    assert session.discharged_at is None
    assert session.appointment.state == State.BOOKED
    sheet = flowsheet.flowsheet(session, built_at)
    states = [item.state for item in sheet.dues]
    assert states[:2] == [rules.DONE, rules.DONE]  # pre-dose and the 40-minute reading
    assert states[-1] == rules.UPCOMING  # before discharge
    assert len(sheet.vitals) >= 3
    # Its integration is booked for tomorrow.
    assert Appointment.objects.filter(
        course=session.course,
        kind=Kind.INTEGRATION,
        state=State.BOOKED,
        starts_at__gt=built_at,
        starts_at__lt=built_at + dt.timedelta(days=2),
    ).exists()
