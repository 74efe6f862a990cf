"""Lots, locations, doses and stock for the stock tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.courses.models import Appointment, Course, State
from kapcare.dosing.models import Dose, DosingSession
from kapcare.stock import services
from kapcare.stock.models import Location, Lot, Movement
from kapcare.testing.personas import Practice

TODAY = practice_today


def make_location(name: str = "Main safe", *, active: bool = True) -> Location:
    return Location.objects.create(name=name, active=active)


def make_lot(
    number: str = "KT-2301",
    *,
    drug: str = "ketamine",
    product: str = "Ketamine HCl injection",
    form: str = "100 mg/mL, 10 mL vial",
    expires_on: dt.date | None = None,
) -> Lot:
    return Lot.objects.create(
        drug=drug,
        product=product,
        form=form,
        lot_number=number,
        expires_on=expires_on or practice_today() + dt.timedelta(days=365),
    )


def receive(practice: Practice, lot: Lot, location: Location, mg: Decimal | int | str) -> Movement:
    return services.movement_record(
        actor=practice.prescriber,
        lot=lot,
        location=location,
        kind="received",
        quantity_mg=mg,
    )


def course_of(client: Client, actor: User) -> Course:
    course = Course.objects.filter(client=client, ended_on__isnull=True).first()
    return course or Course.objects.create(
        client=client,
        protocol="kap_sublingual",
        started_on=practice_today(),
        created_by=actor,
        updated_by=actor,
    )


def make_dose(
    practice: Practice,
    *,
    lot: str = "KT-2301",
    mg: Decimal | int | str = 50,
    given_at: dt.datetime | None = None,
    route: str = "intramuscular",
    product: str = "Ketamine HCl injection",
    client: Client | None = None,
) -> Dose:
    """A dose written straight to the tables (the dosing services are tested elsewhere), with
    its dosing session and appointment, given an hour ago unless told."""
    client = client or practice.client
    given = given_at or now() - dt.timedelta(hours=1)
    appointment = Appointment.objects.create(
        client=client,
        course=course_of(client, practice.prescriber),
        kind="dosing",
        starts_at=given - dt.timedelta(minutes=30),
        ends_at=given + dt.timedelta(hours=2),
        clinician=practice.prescriber,
        second_clinician=practice.therapist,
        state=State.HELD,
        created_by=practice.prescriber,
        updated_by=practice.prescriber,
    )
    session = DosingSession.objects.create(
        appointment=appointment,
        client=client,
        course=appointment.course,
        state="dosed",
        created_by=practice.prescriber,
        updated_by=practice.prescriber,
    )
    return Dose.objects.create(
        session=session,
        route=route,
        product=product,
        lot=lot,
        expires_on=practice_today() + dt.timedelta(days=365),
        dose_mg=Decimal(str(mg)),
        given_at=given,
        given_by=practice.prescriber,
        therapist_present=practice.therapist,
        created_by=practice.prescriber,
        updated_by=practice.prescriber,
    )


def counts() -> tuple[int, int, int, int]:
    return (
        Movement.objects.count(),
        Lot.objects.count(),
        Location.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    """The service's errors as field -> rules, after checking that nothing was written."""
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {
        field: [error.code or "" for error in errors]
        for field, errors in raised.value.error_dict.items()
    }


def mg(value: Decimal | int | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
