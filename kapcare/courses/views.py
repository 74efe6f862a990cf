"""Course pages: the plan of a client's course (what happened, what is scheduled, what is due or
overdue, each dose against the integration rule with proposed slots), starting a course,
consents, booking with the gates shown, one appointment (held, missed, cancelled, moved), and
the integration-at-risk queue. Every client page starts from access_client/open_chart."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.forms import add_service_errors
from kapcare.core.time import now, practice_today
from kapcare.core.views import practice_admin_required, staff_user
from kapcare.courses import plan as plans
from kapcare.courses import services
from kapcare.courses.forms import (
    AcceptSlotForm,
    BookingForm,
    ConsentForm,
    CourseStartForm,
    MarkForm,
    PhaseForm,
    RemsForm,
    RescheduleForm,
    RoomForm,
)
from kapcare.courses.models import (
    CLOSED_PHASES,
    Appointment,
    Consent,
    Course,
    Kind,
    RemsEnrollment,
    Room,
    State,
)
from kapcare.courses.protocols import SETTINGS
from kapcare.courses.rules import integration_window
from kapcare.courses.selectors import course_gates

# ---------------------------------------------------------------------------------------------
# The plan


def _open_course(client: Client) -> Course | None:
    return client.courses.exclude(phase__in=CLOSED_PHASES).first()


def _settings_rows(course: Course) -> list[dict[str, Any]]:
    protocol = course.plan
    rows = []
    for name, label, unit, _low, _high in SETTINGS:
        setting = getattr(protocol, name)
        rows.append(
            {
                "label": label,
                "value": f"{setting.value} {unit}",
                "version": setting.version,
                "source": setting.source,
            }
        )
    return rows


def _plan_context(client: Client, course: Course | None, user: User, **bound: Any) -> dict:
    moment = now()
    context: dict[str, Any] = {
        "client": client,
        "course": course,
        "courses": list(client.courses.all()),
        "consents": list(Consent.objects.filter(client=client).select_related("created_by")),
        "rems": list(RemsEnrollment.objects.filter(client=client)),
        "start_form": CourseStartForm(),
        "consent_form": ConsentForm(),
        "rems_form": RemsForm(),
        "now": moment,
    }
    if course is not None:
        plan = plans.course_plan(course, now=moment)
        context.update(
            plan=plan,
            settings_rows=_settings_rows(course),
            phase_form=PhaseForm(current=course.phase) if course.is_open else None,
            # Proposed slots only for doses still needing an integration (one query each).
            dose_rows=[
                (
                    item,
                    plans.proposed_slots(
                        item.dose, plans.integration_therapist(item.dose), plan.protocol, now=moment
                    )
                    if item.needs_booking and course.is_open
                    else [],
                )
                for item in plan.doses
            ],
            upcoming_dues=[(due, state) for due, state in plan.dues if state == "upcoming"][:6],
            done_dues=sum(1 for _due, state in plan.dues if state == "done"),
        )
    context.update(bound)
    return context


@require_GET
def plan_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """The open course's plan, or the latest course's, or the form to start one."""
    user = staff_user(request)
    client = open_chart(user, client_id, view="course")
    course = _open_course(client) or client.courses.first()
    return render(request, "courses/plan.html", _plan_context(client, course, user))


@require_GET
def course_view(request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = open_chart(user, client_id, view="course")
    course = get_object_or_404(client.courses, public_id=course_id)
    return render(request, "courses/plan.html", _plan_context(client, course, user))


def _back_to_plan(client: Client, course: Course | None = None, anchor: str = "") -> HttpResponse:
    if course is not None and not course.is_open:
        url = reverse("courses:course", args=[client.public_id, course.public_id])
    else:
        url = reverse("courses:plan", args=[client.public_id])
    return redirect(url + anchor)


def _plan_with_errors(
    request: HttpRequest, client: Client, course: Course | None, user: User, **bound: Any
) -> HttpResponse:
    return render(
        request, "courses/plan.html", _plan_context(client, course, user, **bound), status=400
    )


@require_POST
def start_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    form = CourseStartForm(request.POST)
    if form.is_valid():
        try:
            services.course_start(actor=user, client=client, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Course started: book the preparation sessions next.")
            return _back_to_plan(client)
    return _plan_with_errors(request, client, _open_course(client), user, start_form=form)


@require_POST
def phase_view(request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    course = get_object_or_404(client.courses, public_id=course_id)
    form = PhaseForm(request.POST, current=course.phase)
    if form.is_valid():
        try:
            services.course_change_phase(actor=user, course=course, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"The course is now in {course.get_phase_display()}.")
            return _back_to_plan(client, course)
    return _plan_with_errors(request, client, course, user, phase_form=form)


@require_POST
def consent_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(actor=user, client=client, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return _back_to_plan(client, anchor="#consents")
    return _plan_with_errors(request, client, _open_course(client), user, consent_form=form)


@require_POST
def rems_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    form = RemsForm(request.POST)
    if form.is_valid():
        try:
            services.rems_enroll(actor=user, client=client, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "REMS enrolment recorded.")
            return _back_to_plan(client, anchor="#consents")
    return _plan_with_errors(request, client, _open_course(client), user, rems_form=form)


# ---------------------------------------------------------------------------------------------
# Booking


def _initial(course: Course, kind: str, user: User) -> dict[str, Any]:
    minutes = plans.protocol_minutes(course, kind) or 60
    return {
        "kind": kind,
        "date": practice_today() + dt.timedelta(days=1),
        "time": dt.time(10, 0),
        "minutes": minutes,
        "clinician": user.public_id if user.is_clinician else None,
    }


@require_http_methods(["GET", "POST"])
def book_view(request: HttpRequest, client_id: uuid.UUID, course_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        client = open_chart(user, client_id, view="course.book")
    else:
        client = access_client(user, client_id, write=True)
    course = get_object_or_404(client.courses.exclude(phase__in=CLOSED_PHASES), public_id=course_id)
    kind = request.GET.get("kind") or request.POST.get("kind") or Kind.PREPARATION
    if kind not in Kind.values:
        kind = Kind.PREPARATION
    dose_at = None
    if request.method == "POST":
        probe = BookingForm(request.POST)
        probe.is_valid()
        dose_at = probe.cleaned_data.get("starts_at")
    gates = course_gates(course, dose_at=dose_at) if kind == Kind.DOSING else []
    overridable = gates if user.is_prescriber else []
    if request.method == "GET":
        form = BookingForm(initial=_initial(course, kind, user), gates=overridable)
        return _booking_page(request, client, course, form, gates, status=200)
    form = BookingForm(request.POST, gates=overridable)
    if form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                actor=user,
                client=client,
                course=course,
                kind=data["kind"],
                starts_at=data["starts_at"],
                minutes=data["minutes"],
                clinician=data["clinician"],
                second_clinician=data["second_clinician"],
                room=data["room"],
                overrides=form.overrides(),
            )
        except ValidationError as error:
            add_service_errors(form, error, rename={"course": "kind", "overrides": "kind"})
        else:
            when = localtime(appointment.starts_at)
            if appointment.kind == Kind.DOSING:
                messages.success(
                    request,
                    f"Dose booked for {when:%a %b %-d, %H:%M}. Choose an integration session "
                    "inside the window below.",
                )
                return _back_to_plan(client, course, f"#dose-{appointment.public_id}")
            messages.success(
                request, f"{appointment.get_kind_display()} booked for {when:%a %b %-d, %H:%M}."
            )
            return _back_to_plan(client, course, "#upcoming")
    return _booking_page(request, client, course, form, gates, status=400)


def _booking_page(
    request: HttpRequest,
    client: Client,
    course: Course,
    form: BookingForm,
    gates: list,
    *,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "courses/book.html",
        {
            "client": client,
            "course": course,
            "form": form,
            "gates": gates,
            "kind": form["kind"].value(),
            "kinds": Kind.choices,
        },
        status=status,
    )


@require_POST
def accept_slot_view(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    """Book the integration session at a proposed slot, with the dose's therapist."""
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    dose = get_object_or_404(
        client.appointments.select_related("course", "clinician", "second_clinician"),
        public_id=appointment_id,
        kind=Kind.DOSING,
    )
    course = dose.course
    form = AcceptSlotForm(request.POST)
    if course is None or not form.is_valid():
        messages.error(request, "Choose one of the proposed times.")
        return _back_to_plan(client)
    protocol = course.plan
    opens, closes = integration_window(dose.ends_at, protocol.integration_within_hours.value)
    starts_at = form.cleaned_data["starts_at"]
    if not opens <= starts_at <= closes:
        messages.error(request, "That time is outside the integration window of this dose.")
        return _back_to_plan(client, course)
    try:
        appointment = services.appointment_book(
            actor=user,
            client=client,
            course=course,
            kind=Kind.INTEGRATION,
            starts_at=starts_at,
            minutes=protocol.integration_minutes.value,
            clinician=plans.integration_therapist(dose),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_plan(client, course, f"#dose-{dose.public_id}")
    messages.success(
        request,
        f"Integration booked for {localtime(appointment.starts_at):%a %b %-d, %H:%M} with "
        f"{appointment.clinician}.",
    )
    return _back_to_plan(client, course, f"#dose-{dose.public_id}")


# ---------------------------------------------------------------------------------------------
# One appointment


def _appointment(client: Client, appointment_id: uuid.UUID) -> Appointment:
    return get_object_or_404(
        client.appointments.select_related("course", "clinician", "second_clinician", "room"),
        public_id=appointment_id,
    )


def _move_initial(appointment: Appointment) -> dict[str, Any]:
    start = localtime(appointment.starts_at)
    return {
        "date": start.date(),
        "time": start.time().replace(second=0, microsecond=0),
        "minutes": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
    }


@require_http_methods(["GET", "POST"])
def appointment_view(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        client = open_chart(user, client_id, view="appointment")
    else:
        client = access_client(user, client_id, write=True)
    appointment = _appointment(client, appointment_id)
    is_dose = appointment.kind == Kind.DOSING and appointment.course is not None
    mark_form = MarkForm()
    move_form = RescheduleForm(initial=_move_initial(appointment))
    action = request.POST.get("action")
    if request.method == "POST" and action == "mark":
        mark_form = MarkForm(request.POST)
        if mark_form.is_valid():
            try:
                services.appointment_mark(
                    actor=user, appointment=appointment, **mark_form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(mark_form, error)
            else:
                messages.success(request, f"Marked {appointment.get_state_display().lower()}.")
                return redirect(
                    "courses:appointment", client_id=client.public_id, appointment_id=appointment_id
                )
    elif request.method == "POST" and action == "move":
        probe = RescheduleForm(request.POST)
        probe.is_valid()
        gates = (
            course_gates(
                appointment.course,  # type: ignore[arg-type]
                dose_at=probe.cleaned_data.get("starts_at"),
                excluding=appointment,
            )
            if is_dose
            else []
        )
        move_form = RescheduleForm(request.POST, gates=gates if user.is_prescriber else [])
        if move_form.is_valid():
            data = move_form.cleaned_data
            try:
                services.appointment_reschedule(
                    actor=user,
                    appointment=appointment,
                    starts_at=data["starts_at"],
                    minutes=data["minutes"],
                    room=data["room"],
                    reason=data["reason"],
                    overrides=move_form.overrides(),
                )
            except ValidationError as error:
                add_service_errors(move_form, error, rename={"kind": "time", "overrides": "time"})
            else:
                messages.success(request, "Appointment moved.")
                return redirect(
                    "courses:appointment", client_id=client.public_id, appointment_id=appointment_id
                )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "courses/appointment.html",
        {
            "client": client,
            "appointment": appointment,
            "overrides": list(appointment.gate_overrides.select_related("overridden_by")),
            "mark_form": mark_form,
            "move_form": move_form,
            "can_change": appointment.state == State.BOOKED,
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# The integration-at-risk queue


@require_GET
def at_risk_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    rows = plans.integration_at_risk(user, now=now())
    return render(request, "courses/at_risk.html", {"rows": rows})


# ---------------------------------------------------------------------------------------------
# Rooms (practice admins)


@practice_admin_required
@require_http_methods(["GET", "POST"])
def rooms_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = RoomForm(request.POST or None, initial={"active": True})
    if request.method == "POST":
        room = None
        if request.POST.get("room"):
            room = get_object_or_404(Room, public_id=request.POST["room"])
        if form.is_valid():
            try:
                services.room_save(actor=user, room=room, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Room saved.")
                return redirect("courses:rooms")
    return render(
        request,
        "courses/rooms.html",
        {"rooms": Room.objects.all(), "form": form},
        status=400 if request.method == "POST" else 200,
    )
