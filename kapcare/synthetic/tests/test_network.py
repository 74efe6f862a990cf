"""The synthetic network (`kapcare generate`): a small network is consistent with the rules and
the services' records, the same seed gives the same network, and it only fills an empty
database."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import models, transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, Client, StatusChange
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_zone
from kapcare.courses import parameters as course_parameters
from kapcare.courses.models import CLOSED_PHASES, Appointment, Course, Kind, State
from kapcare.courses.rules import integration_window
from kapcare.dosing import flowsheet, rems, rules, selectors
from kapcare.dosing.models import (
    Dose,
    DosingSession,
    RemsForm,
    ScaleKind,
    ScaleRow,
    SessionState,
    VitalsRow,
)
from kapcare.dosing.services import _check_json
from kapcare.measures import rules as scoring
from kapcare.measures.models import Administration
from kapcare.measures.rules import SUICIDE_ITEM_POSITIVE
from kapcare.safety.models import FlagKind, RiskAssessment, SafetyFlag
from kapcare.stock.models import Kind as MovementKind
from kapcare.stock.models import Lot, Movement
from kapcare.synthetic.network import NetworkReport, generate_network
from kapcare.synthetic.network_writer import PublicIds

NOW = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)
CLIENTS = 60


@pytest.fixture(scope="module")
def network(django_db_setup: Any, django_db_blocker: Any) -> Iterator[NetworkReport]:
    """One small network for the module's tests, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        report = generate_network(clients=CLIENTS, seed=11, now=NOW)
        yield report
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment, practice_zone())


def test_the_network_has_clinics_staff_and_clients(network: NetworkReport) -> None:
    assert network.clinics == 2
    assert Client.objects.count() == CLIENTS
    assert network.rows["clients_client"] == CLIENTS
    assert User.objects.filter(username="admin-0001", is_practice_admin=True).exists()
    assert User.objects.filter(username="therapist-0001", is_therapist=True).exists()
    assert not User.objects.filter(username__startswith="therapist-").exclude(
        username__regex=r"^therapist-[0-9]{4}$"
    )
    for prescriber in User.objects.filter(is_prescriber=True):
        assert prescriber.prescriber_credential
        assert prescriber.licence_number.startswith("SYN-")
    assert not any(user.has_usable_password() for user in User.objects.all())
    for client in Client.objects.all():
        assert client.email.endswith("@example.org")
        assert "555-01" in client.phone
    # Most clients reach treatment; a course for most of them, a second for some.
    assert Course.objects.count() > CLIENTS * 0.6
    assert DosingSession.objects.count() > Course.objects.count() * 2
    assert network.overbooked == 0
    event = AuditEvent.objects.get(action="synthetic.generate")
    assert event.detail["clients"] == CLIENTS
    assert event.detail["rows"]["dosing_vitalsrow"] == VitalsRow.objects.count()


def test_every_signed_session_has_its_dose_vitals_scales_and_stock(
    network: NetworkReport,
) -> None:
    sessions = DosingSession.objects.select_related("appointment", "course")
    assert sessions.exists()
    for session in sessions:
        assert session.state == SessionState.SIGNED
        assert session.pre_check_passed
        assert session.appointment.kind == Kind.DOSING
        assert session.appointment.state == State.HELD
        assert session.monitor_signed_by_id == session.appointment.clinician_id
        assert session.therapist_signed_by_id == session.appointment.second_clinician_id
        dose = Dose.objects.get(session=session)
        assert dose.route == session.course.plan.route
        assert dose.given_at < session.discharged_at <= session.monitor_signed_at <= NOW
        assert dose.expires_on >= _day(dose.given_at)
        vitals = VitalsRow.objects.filter(session=session)
        assert vitals.count() >= 4
        assert vitals.filter(taken_at__lt=dose.given_at).count() == 1  # the pre-dose reading
        assert set(ScaleRow.objects.filter(session=session).values_list("scale", flat=True)) == {
            ScaleKind.MOAAS,
            ScaleKind.CADSS,
        }
        movement = Movement.objects.get(dose=dose)
        assert movement.kind == MovementKind.ADMINISTERED
        assert movement.quantity_mg == -dose.dose_mg
        assert movement.lot.lot_number == dose.lot
    assert VitalsRow.objects.count() / DosingSession.objects.count() > 7


def test_stock_balances_run_per_lot_and_never_go_below_zero(network: NetworkReport) -> None:
    balances: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for movement in Movement.objects.order_by("id"):
        key = (movement.lot_id, movement.location_id)
        balances[key] += movement.quantity_mg
        assert movement.balance_after_mg == balances[key]
        assert movement.balance_after_mg >= 0
        assert movement.moved_at <= NOW
    for lot in Lot.objects.all():
        first = lot.movements.order_by("id").first()
        assert first is not None
        assert first.kind == MovementKind.RECEIVED


def test_at_most_one_open_course_per_client_and_phases_agree(network: NetworkReport) -> None:
    open_by_client: dict[int, int] = defaultdict(int)
    for course in Course.objects.all():
        assert course.protocol_settings == course_parameters.snapshot(course.protocol)
        if course.is_open:
            open_by_client[course.client_id] += 1
            assert course.ended_on is None
        else:
            assert course.phase in CLOSED_PHASES
            assert course.started_on <= course.ended_on < _day(NOW)
        doses = DosingSession.objects.filter(course=course).count()
        if course.phase in ("induction", "maintenance"):
            assert doses >= 1
        if course.phase == "preparation":
            assert doses == 0
    assert max(open_by_client.values(), default=0) <= 1


def test_integration_follows_most_doses_within_the_window(network: NetworkReport) -> None:
    doses = Appointment.objects.filter(kind=Kind.DOSING, state=State.HELD)
    met = 0
    for dose in doses:
        opens, closes = integration_window(dose.ends_at, 72)
        held = Appointment.objects.filter(
            course=dose.course_id,
            kind=Kind.INTEGRATION,
            state__in=(State.HELD, State.BOOKED),
            starts_at__gte=opens,
            starts_at__lte=closes,
        )
        met += held.exists()
    assert met / doses.count() > 0.75
    for integration in Appointment.objects.filter(kind=Kind.INTEGRATION):
        first_dose = (
            Appointment.objects.filter(course=integration.course_id, kind=Kind.DOSING)
            .order_by("starts_at")
            .first()
        )
        assert first_dose is not None
        assert integration.starts_at > first_dose.ends_at


def test_clinicians_on_appointments_are_on_the_care_team(network: NetworkReport) -> None:
    teams: dict[int, set[int]] = defaultdict(set)
    for member in CareTeamMember.objects.filter(ended_at__isnull=True):
        teams[member.client_id].add(member.staff_id)
    for appointment in Appointment.objects.all():
        assert appointment.clinician_id in teams[appointment.client_id]
        if appointment.second_clinician_id:
            assert appointment.second_clinician_id in teams[appointment.client_id]
        if appointment.kind == Kind.DOSING:
            assert appointment.room_id is not None
        if appointment.state == State.BOOKED:
            assert appointment.starts_at > NOW
        else:
            assert appointment.ends_at < NOW


def test_nobody_is_booked_twice_at_once(network: NetworkReport) -> None:
    busy: dict[Any, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for a in Appointment.objects.all():
        for who in (a.clinician_id, a.second_clinician_id, ("room", a.room_id)):
            if who is not None and who != ("room", None):
                busy[who].append((a.starts_at, a.ends_at))
    for intervals in busy.values():
        intervals.sort()
        for (_, first_end), (second_start, _) in itertools.pairwise(intervals):
            assert second_start >= first_end


def test_rems_forms_only_and_always_for_esketamine(network: NetworkReport) -> None:
    for session in DosingSession.objects.select_related("course", "appointment"):
        esketamine = session.course.plan.route == rules.INTRANASAL
        assert RemsForm.objects.filter(session=session).exists() == esketamine
    forms = RemsForm.objects.select_related("session__appointment")
    for form in forms:
        day = _day(form.session.appointment.starts_at)
        assert form.due_on == rules.rems_deadline(day, 7)
        if form.submitted_on is not None:
            assert day <= form.submitted_on < _day(NOW)
            assert form.reference
        # Filled exactly as the REMS service fills it from the charted session.
        assert form.data == rems.rems_form_fill(form.session)


def test_pre_dose_and_discharge_checks_are_the_rules_judgement(network: NetworkReport) -> None:
    params, versions = selectors.parameters_in_force()
    for session in DosingSession.objects.select_related("client", "course", "appointment"):
        day = _day(session.appointment.starts_at)
        age = session.client.age_on(day)
        answers = session.pre_check["answers"]
        phq9 = (
            Administration.objects.filter(
                client=session.client,
                instrument="phq9",
                completed_at__date__gte=day - dt.timedelta(days=1),
                completed_at__lte=session.pre_checked_at,
            )
            .order_by("-completed_at")
            .first()
        )
        item9 = None
        if phq9 is not None and _day(phq9.completed_at) == day:
            item9 = SUICIDE_ITEM_POSITIVE in phq9.flags
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=practice_zone())
        reviewed = RiskAssessment.objects.filter(
            client=session.client,
            assessed_at__gte=midnight,
            assessed_at__lte=session.pre_checked_at,
        )
        inputs = rules.PreDoseInputs(
            route=session.course.plan.route,
            age=age,
            identity_confirmed=True,
            gates_open=True,
            gates_reason="",
            weight_kg_today=Decimal(answers["weight_kg"]) if answers["weight_kg"] else None,
            minutes_since_food=answers["minutes_since_food"],
            minutes_since_liquid=answers["minutes_since_liquid"],
            systolic=answers["systolic"],
            diastolic=answers["diastolic"],
            heart_rate=answers["heart_rate"],
            spo2=answers["spo2"],
            medicines_today=tuple(answers["medicines_today"]),
            pregnancy_test=answers["pregnancy_test"],
            phq9_item9_positive=item9,
            cssrs_positive=None,
            suicide_reviewed_today=bool(item9) and reviewed.exists(),
            escort_confirmed=True,
            intention_recorded=True,
        )
        expected = [_check_json(c) for c in rules.pre_dose_checks(inputs, params)]
        assert session.pre_check["checks"] == expected
        assert session.pre_check["parameter_versions"] == versions

        sheet = flowsheet.flowsheet(session, session.discharged_at)
        discharge = flowsheet.discharge_inputs(
            sheet,
            session.discharged_at,
            escort_present=True,
            no_driving_counselled=True,
            dissociation_resolved=None,
        )
        checks = rules.discharge_checks(
            rules.DischargeInputs(**{**discharge.__dict__, "age": age}), params
        )
        assert session.discharge["checks"] == [_check_json(c) for c in checks]
        assert rules.may_discharge(checks)


def test_scores_are_the_rules_scores_and_suicide_answers_raise_flags(
    network: NetworkReport,
) -> None:
    administrations = Administration.objects.all()
    assert {"phq9", "gad7"} <= set(administrations.values_list("instrument", flat=True))
    flagged = 0
    for administration in administrations:
        score = scoring.score(administration.instrument, administration.answers)
        assert administration.total == score.total
        assert administration.band == (score.band or "")
        assert administration.flags == list(score.flags)
        assert administration.completed_at <= NOW
        flags = SafetyFlag.objects.filter(source_administration=administration)
        if SUICIDE_ITEM_POSITIVE in administration.flags:
            flagged += 1
            flag = flags.get()
            assert flag.kind == FlagKind.SUICIDE_RISK
            if flag.closed_at is not None:
                assert flag.closing_assessment is not None
                assert flag.closed_at == flag.closing_assessment.assessed_at
                assert (
                    _day(flag.closed_at) == _day(flag.raised_at) or flag.closed_at > flag.raised_at
                )
        else:
            assert not flags.exists()
    assert flagged > 0


def test_blood_pressure_past_the_stop_level_raises_a_reviewed_flag(
    network: NetworkReport,
) -> None:
    params, _ = selectors.parameters_in_force()
    stop_systolic, stop_diastolic = params.bp_stop
    for session in DosingSession.objects.all():
        past = VitalsRow.objects.filter(session=session).filter(
            models.Q(systolic__gt=stop_systolic) | models.Q(diastolic__gt=stop_diastolic)
        )
        flags = SafetyFlag.objects.filter(source_session=session)
        if past.exists():
            flag = flags.get()
            assert flag.kind == FlagKind.VITAL_SIGNS
            assert flag.rule == "bp_stop"
            assert flag.raised_at == past.order_by("taken_at").first().taken_at
            assert flag.closed_at is not None
            assert flag.review_note
        else:
            assert not flags.exists()


def test_status_histories_end_at_the_client_status(network: NetworkReport) -> None:
    for client in Client.objects.all():
        changes = list(StatusChange.objects.filter(client=client).order_by("changed_at", "id"))
        assert changes[0].from_status == ""
        assert changes[-1].to_status == client.status
        assert changes[-1].changed_at == client.status_changed_at
        has_open = Course.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES)
        if has_open.exists():
            assert client.status in ("active", "maintenance")


def test_public_ids_are_version_4_uuids_the_same_for_a_seed() -> None:
    """Drawn a block at a time: across a block's end every id is still a version-4 UUID (RFC
    9562 variant), none repeats, and the same seed draws the same ones."""
    drawn = PublicIds("11:public-ids")
    ids = [drawn.next() for _ in range(2500)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert len(value) == 16
        made = uuid.UUID(bytes=value)
        assert (made.version, made.variant) == (4, uuid.RFC_4122)
    again = PublicIds("11:public-ids")
    assert [again.next() for _ in range(2500)] == ids
    other = PublicIds("12:public-ids")
    assert other.next() != ids[0]
