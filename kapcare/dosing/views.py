"""The dosing-session pages, made for a tablet at the bedside: the session page (header, alerts,
the pre-dose check's result, the dose, the vitals due, quick entry, the flowsheet with its
corrections, discharge criteria and sign-off), the pre-dose check, the dose, discharge, the
printable discharge instructions, and the endpoints that chart a row.

Every page starts from the access-checked session (clinicians on the client's care team; anyone
else gets 404) and every look at one is written to the audit log. The services hold the rules;
the pages show their refusals beside the fields they name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts.models import User
from kapcare.clients.access import access_client
from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_zone
from kapcare.core.views import is_htmx, staff_user
from kapcare.courses.models import Appointment, Kind, State
from kapcare.dosing import flowsheet, rules, selectors, services
from kapcare.dosing.forms import (
    AdverseEventForm,
    CadssForm,
    DischargeForm,
    DoseForm,
    MoaasForm,
    PreCheckForm,
    ScaleForm,
    SessionForm,
    SideEffectForm,
    VitalsForm,
    WorkForm,
)
from kapcare.dosing.models import (
    DoseRoute,
    DosingSession,
    RemsForm,
    ScaleRow,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.stock import rules as stock_rules
from kapcare.stock import selectors as stock_selectors
from kapcare.stock.models import Location, Lot

SIGNED = (
    "This session is signed by its monitoring clinician and its therapist: nothing more is "
    "charted on it, and nothing on it changes."
)
# How often the alerts and vitals-due panel refreshes itself on an open session page.
PANEL_REFRESH_SECONDS = 30
# The dose checks a prescriber may override with a reason (kapcare.dosing.rules): the others
# (maximum dose, whole devices) are hard stops.
DOSE_OVERRIDES = {"esketamine_first_dose": "First esketamine dose"}


# ---------------------------------------------------------------------------------------------
# Access


def _session(
    request: HttpRequest,
    client_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    view: str = "",
    unless_read_within: dt.timedelta | None = None,
) -> tuple[User, DosingSession]:
    """The signed-in clinician and the session, through the access-checked getter; 404 when the
    session is not this client's. With `view`, the read is written to the audit log (after the
    client check, so a mismatched URL records nothing), unless this person already read the
    session within `unless_read_within`."""
    user = staff_user(request)
    session = flowsheet.session_for(user, session_id)
    if session.client.public_id != client_id:
        raise Http404("No such session.")
    if view and not (
        unless_read_within is not None and audit_read_recently(user, session, unless_read_within)
    ):
        audit.record_read(
            actor=user,
            action="dosing_session.read",
            subject_type="dosing_session",
            subject_public_id=session.public_id,
            client_public_id=session.client.public_id,
            detail={"view": view},
        )
    return user, session


RE_AUDIT_AFTER = dt.timedelta(minutes=10)


def audit_read_recently(user: User, session: DosingSession, within: dt.timedelta) -> bool:
    return AuditEvent.objects.filter(
        actor=user,
        action="dosing_session.read",
        subject_public_id=session.public_id,
        at__gte=now() - within,
    ).exists()


def _url(name: str, session: DosingSession) -> str:
    return reverse(name, args=[session.client.public_id, session.public_id])


def _back(session: DosingSession, anchor: str = "") -> HttpResponse:
    return redirect(_url("dosing:session", session) + anchor)


def _refuse_signed(request: HttpRequest, session: DosingSession) -> HttpResponse | None:
    if session.is_signed:
        messages.error(request, SIGNED)
        return _back(session)
    return None


def _show_errors(
    form: forms.BaseForm,
    error: ValidationError,
    rename: Mapping[str, str] | None = None,
    top: Collection[str] = (),
) -> None:
    """The service's errors on the form's fields; those of `top` (fields the form does not have,
    such as who may act) above the form, without a field name in front."""
    if not hasattr(error, "error_dict"):
        add_service_errors(form, error)
        return
    rest: dict[str, list[ValidationError]] = {}
    for field, errors in error.error_dict.items():
        if field in top:
            for item in errors:
                for message in item.messages:
                    form.add_error(None, message)
        else:
            rest[field] = errors
    if rest:
        add_service_errors(form, ValidationError(rest), rename)


# ---------------------------------------------------------------------------------------------
# Opening a session from its appointment


@require_POST
def open_view(
    request: HttpRequest, client_id: uuid.UUID, appointment_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    if not flowsheet.can_chart(user):
        raise Http404("Not found.")
    appointment = get_object_or_404(
        client.appointments.select_related("course"), public_id=appointment_id
    )
    try:
        session = services.session_open(actor=user, appointment=appointment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(
            "courses:appointment", client_id=client.public_id, appointment_id=appointment_id
        )
    return _back(session)


# ---------------------------------------------------------------------------------------------
# The session page


CORRECTION_FORMS: dict[str, tuple[type[SessionForm], str]] = {
    "vitals": (VitalsForm, "dosing:vitals"),
    "moaas": (MoaasForm, "dosing:scale"),
    "cadss": (CadssForm, "dosing:scale"),
    "side_effect": (SideEffectForm, "dosing:side_effect"),
    "work": (WorkForm, "dosing:work"),
}


def _correction_initial(line: flowsheet.Line) -> dict[str, Any]:
    row = line.row
    initial: dict[str, Any] = {
        "corrects": row.public_id,
        "taken_at": localtime(row.taken_at, practice_zone()).strftime("%H:%M"),
    }
    if line.kind == "vitals":
        for name in ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate"):
            initial[name] = getattr(row, name)
    elif line.kind in ("moaas", "cadss"):
        initial |= {"scale": row.scale, "score": row.score, "version": row.version}
    elif line.kind == "side_effect":
        initial |= {"effects": [row.effect], "severity": row.severity, "note": row.note}
    else:
        initial |= {"kind": row.kind, "detail": row.detail}
    return initial


def _rows(
    session: DosingSession,
    sheet: flowsheet.Flowsheet,
    correcting: uuid.UUID | None = None,
    correction_form: forms.Form | None = None,
) -> list[dict[str, Any]]:
    """The flowsheet's lines as the table shows them: each with the line that corrects it (if
    any) and, while the session is open, its correction form (the bound one that failed, open)."""
    by_row = {(type(line.row), line.row.pk): line for line in sheet.lines}
    corrected_by = {
        (type(line.row), line.corrects.pk): line for line in sheet.lines if line.corrects
    }
    rows = []
    for line in sheet.lines:
        key = (type(line.row), line.row.pk)
        form_class, action = CORRECTION_FORMS[line.kind]
        form = None
        is_open = False
        if not session.is_signed and not line.corrected:
            if correcting is not None and line.row.public_id == correcting:
                form, is_open = correction_form, True
            else:
                form = form_class(
                    initial=_correction_initial(line),
                    session=session,
                    auto_id=f"fix-{line.row.public_id}-%s",
                )
        rows.append(
            {
                "line": line,
                "corrected_by": corrected_by.get(key),
                "corrects": by_row.get((type(line.row), line.corrects.pk))
                if line.corrects
                else None,
                "form": form,
                "open": is_open,
                "action": _url(action, session),
            }
        )
    return rows


def _dose_facts(sheet: flowsheet.Flowsheet) -> dict[str, Any]:
    dose = sheet.dose
    if dose is None:
        return {}
    facts: dict[str, Any] = {"completed_at": sheet.dose_completed_at}
    if dose.devices:
        facts["device_times"] = rules.esketamine_device_times(
            dose.dose_mg, dose.given_at, sheet.params.device_interval_minutes
        )
    if dose.infusion_minutes:
        # mg/min does not depend on the concentration; mL/h and the volume need it.
        facts["infusion"] = rules.infusion(
            dose.dose_mg, dose.infusion_minutes, dose.concentration_mg_per_ml or Decimal(1)
        )
        facts["has_concentration"] = dose.concentration_mg_per_ml is not None
    return facts


def _panel_context(
    session: DosingSession, sheet: flowsheet.Flowsheet, moment: dt.datetime
) -> dict[str, Any]:
    return {
        "session": session,
        "client": session.client,
        "sheet": sheet,
        "flags": list(session.safety_flags.all()),
        "now": moment,
        "refresh": PANEL_REFRESH_SECONDS,
    }


def _page_context(user: User, session: DosingSession, **bound: Any) -> dict[str, Any]:
    moment = now()
    sheet = flowsheet.flowsheet(session, moment)
    appointment = session.appointment
    latest_cadss = sheet.latest_cadss
    fix = bound.pop("fix", None)
    rows = _rows(session, sheet, bound.pop("correcting", None), fix)
    context = _panel_context(session, sheet, moment) | {
        "appointment": appointment,
        "route": sheet.route,
        "route_label": DoseRoute(sheet.route).label,
        "dose": sheet.dose,
        "dose_facts": _dose_facts(sheet),
        "therapist_present": sheet.dose.therapist_present if sheet.dose else None,
        "pre_checks": (session.pre_check or {}).get("checks", []),
        "discharge_checks": (session.discharge or {}).get("checks")
        if session.state in (SessionState.DISCHARGED, SessionState.SIGNED)
        else sheet.discharge_checks,
        "rows": rows,
        # A failed correction of an entry the page no longer offers to correct (corrected in
        # the meantime on another tablet): its errors above the flowsheet.
        "fix_errors": [message for messages_ in fix.errors.values() for message in messages_]
        if fix is not None and not any(row["open"] for row in rows)
        else [],
        "is_open": not session.is_signed,
        "can_give": user.is_prescriber or user.is_nurse,
        "can_discharge": services.can_discharge(user),
        "can_sign": _can_sign(user, session),
        "rems_form": RemsForm.objects.filter(session=session).first()
        if sheet.route == rules.INTRANASAL
        else None,
        "vitals_form": VitalsForm(session=session),
        "moaas_form": MoaasForm(session=session),
        "cadss_form": CadssForm(
            session=session,
            initial={"version": latest_cadss.version if latest_cadss else "cadss23"},
        ),
        "effect_form": SideEffectForm(session=session),
        "work_form": WorkForm(session=session),
        "ae_form": AdverseEventForm(session=session),
    }
    context.update(bound)
    return context


def _can_sign(user: User, session: DosingSession) -> bool:
    if session.state != SessionState.DISCHARGED:
        return False
    appointment = session.appointment
    return (user.pk == appointment.clinician_id and session.monitor_signed_by_id is None) or (
        user.pk == appointment.second_clinician_id and session.therapist_signed_by_id is None
    )


def _session_page(
    request: HttpRequest, user: User, session: DosingSession, *, status: int = 200, **bound: Any
) -> HttpResponse:
    return render(
        request, "dosing/session.html", _page_context(user, session, **bound), status=status
    )


@require_GET
def session_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    user, session = _session(request, client_id, session_id, view="session")
    return _session_page(request, user, session)


@require_GET
def panel_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    """The alerts and vitals-due panel, refreshed in place every 30 seconds."""
    # The page's own read is audited; its refreshes add a read only every few minutes, so a
    # two-hour session is not hundreds of identical audit rows.
    _user, session = _session(
        request, client_id, session_id, view="panel", unless_read_within=RE_AUDIT_AFTER
    )
    moment = now()
    sheet = flowsheet.flowsheet(session, moment)
    return render(request, "dosing/session.html#panel", _panel_context(session, sheet, moment))


# ---------------------------------------------------------------------------------------------
# Charting a row (and correcting one)


def _corrected_row(model: type[Any], session: DosingSession, form: forms.Form) -> Any:
    """The row a correction names, looked up within the session (None: a new entry)."""
    public_id = form.cleaned_data.get("corrects")
    if not public_id:
        return None
    row = model.objects.filter(session=session, public_id=public_id).first()
    if row is None:
        form.add_error("correction_reason", "Not an entry of this session.")
    return row


def _chart(
    request: HttpRequest,
    client_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    make_form: Callable[[QueryDict, DosingSession], forms.Form],
    model: type[Any] | None,
    record: Callable[[User, DosingSession, dict[str, Any], Any], str],
    bound_name: str,
    rename: Mapping[str, str],
    anchor: str,
    after_signing: bool = False,
) -> HttpResponse:
    """What every charting endpoint does: validate the form, call the service, and go back to
    the session page (or show it again with the errors at their fields, status 400)."""
    user, session = _session(request, client_id, session_id)
    refused = None if after_signing else _refuse_signed(request, session)
    if refused is not None:
        return refused
    form = make_form(request.POST, session)
    if form.is_valid():
        row = _corrected_row(model, session, form) if model is not None else None
        if not form.errors:
            try:
                with transaction.atomic():
                    done = record(user, session, form.cleaned_data, row)
            except ValidationError as error:
                _show_errors(form, error, rename={"corrects": "correction_reason", **rename})
            else:
                messages.success(request, done)
                if is_htmx(request):
                    moment = now()
                    sheet = flowsheet.flowsheet(session, moment)
                    return render(
                        request,
                        "dosing/session.html#panel",
                        _panel_context(session, sheet, moment),
                    )
                return _back(session, anchor)
    correcting = form.data.get("corrects") if model is not None else None
    if correcting:
        try:
            bound = {"correcting": uuid.UUID(str(correcting)), "fix": form}
        except ValueError:
            bound = {bound_name: form}
    else:
        bound = {bound_name: form}
    return _session_page(request, user, session, status=400, **bound)


def _at(moment: dt.datetime | None) -> str:
    return f"{localtime(moment or now(), practice_zone()):%H:%M}"


@require_POST
def vitals_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    def record(user: User, session: DosingSession, data: dict[str, Any], row: Any) -> str:
        saved = services.vitals_record(
            actor=user,
            session=session,
            taken_at=data["taken_at"],
            systolic=data["systolic"],
            diastolic=data["diastolic"],
            heart_rate=data["heart_rate"],
            spo2=data["spo2"],
            respiratory_rate=data["respiratory_rate"],
            corrects=row,
            correction_reason=data["correction_reason"],
        )
        what = "Correction charted" if row is not None else "Vitals charted"
        return f"{what} at {_at(saved.taken_at)}."

    return _chart(
        request,
        client_id,
        session_id,
        make_form=lambda data, session: VitalsForm(data, session=session),
        model=VitalsRow,
        record=record,
        bound_name="vitals_form",
        rename={},
        anchor="#vitals",
    )


@require_POST
def scale_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    which = request.POST.get("scale")
    form_class: type[ScaleForm] = CadssForm if which == "cadss" else MoaasForm

    def record(user: User, session: DosingSession, data: dict[str, Any], row: Any) -> str:
        saved = services.scale_record(
            actor=user,
            session=session,
            scale=data["scale"],
            score=data["score"],
            version=data.get("version") or "",
            taken_at=data["taken_at"],
            corrects=row,
            correction_reason=data["correction_reason"],
        )
        return f"{saved.get_scale_display()} {saved.score} charted at {_at(saved.taken_at)}."

    return _chart(
        request,
        client_id,
        session_id,
        make_form=lambda data, session: form_class(data, session=session),
        model=ScaleRow,
        record=record,
        bound_name="cadss_form" if form_class is CadssForm else "moaas_form",
        rename={"scale": "score"},
        anchor="#scales",
    )


@require_POST
def side_effect_view(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    def record(user: User, session: DosingSession, data: dict[str, Any], row: Any) -> str:
        # Several ticked effects are one entry each, saved together or not at all (the caller's
        # transaction).
        for effect in data["effects"]:
            services.side_effect_record(
                actor=user,
                session=session,
                effect=effect,
                severity=data["severity"],
                note=data["note"],
                taken_at=data["taken_at"],
                corrects=row,
                correction_reason=data["correction_reason"],
            )
        count = len(data["effects"])
        return f"{count} side effect{'s' if count > 1 else ''} charted."

    return _chart(
        request,
        client_id,
        session_id,
        make_form=lambda data, session: SideEffectForm(data, session=session),
        model=SideEffectRow,
        record=record,
        bound_name="effect_form",
        rename={"effect": "effects"},
        anchor="#effects",
    )


@require_POST
def work_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    def record(user: User, session: DosingSession, data: dict[str, Any], row: Any) -> str:
        saved = services.work_record(
            actor=user,
            session=session,
            kind=data["kind"],
            detail=data["detail"],
            taken_at=data["taken_at"],
            corrects=row,
            correction_reason=data["correction_reason"],
        )
        return f"{saved.get_kind_display()} charted at {_at(saved.taken_at)}."

    return _chart(
        request,
        client_id,
        session_id,
        make_form=lambda data, session: WorkForm(data, session=session),
        model=WorkRow,
        record=record,
        bound_name="work_form",
        rename={},
        anchor="#work",
    )


@require_POST
def adverse_event_view(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    def record(user: User, session: DosingSession, data: dict[str, Any], row: Any) -> str:
        saved = services.adverse_event_record(
            actor=user,
            session=session,
            event=data["event"],
            onset_at=data["onset_at"] or now(),
            severity=data["severity"],
            seriousness=data["seriousness"],
            related=data["related"],
            action=data["action"],
            outcome=data["outcome"],
        )
        return f"Adverse event recorded: {saved.event} ({saved.get_seriousness_display().lower()})."

    return _chart(
        request,
        client_id,
        session_id,
        make_form=lambda data, session: AdverseEventForm(data, session=session),
        model=None,
        record=record,
        bound_name="ae_form",
        rename={},
        anchor="#adverse-events",
        # An event found later (the next day's call) is its own record, linked to the session;
        # recording it changes nothing charted, so a signed session still takes it.
        after_signing=True,
    )


# ---------------------------------------------------------------------------------------------
# The pre-dose check


def _pre_check_initial(session: DosingSession) -> dict[str, Any]:
    answers = dict((session.pre_check or {}).get("answers") or {})
    if answers:
        answers["intention"] = session.intention
        answers["medicines_today"] = answers.get("medicines_today") or []
        return answers
    latest = session.client.weights.order_by("-measured_on", "-id").first()
    return {
        "intention": session.intention,
        "weight_kg": latest.weight_kg if latest is not None else None,
    }


def _failed_overridable(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in checks if not c["passed"] and c["blocking"] and c["overridable"]]


@require_http_methods(["GET", "POST"])
def pre_check_view(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    get = request.method == "GET"
    user, session = _session(request, client_id, session_id, view="pre_check" if get else "")
    checks = (session.pre_check or {}).get("checks", [])
    failed = _failed_overridable(checks) if user.is_prescriber else []
    if get:
        form = PreCheckForm(initial=_pre_check_initial(session), session=session, failed=failed)
        status = 200
    else:
        refused = _refuse_signed(request, session)
        if refused is not None:
            return refused
        form = PreCheckForm(request.POST, session=session, failed=failed)
        if form.is_valid():
            data = form.cleaned_data
            try:
                checked = services.pre_check_record(
                    actor=user,
                    session=session,
                    identity_confirmed=data["identity_confirmed"],
                    escort_confirmed=data["escort_confirmed"],
                    intention=data["intention"],
                    weight_kg=data["weight_kg"],
                    minutes_since_food=data["minutes_since_food"],
                    minutes_since_liquid=data["minutes_since_liquid"],
                    systolic=data["systolic"],
                    diastolic=data["diastolic"],
                    heart_rate=data["heart_rate"],
                    spo2=data["spo2"],
                    medicines_today=data["medicines_today"],
                    pregnancy_test=data["pregnancy_test"],
                    overrides=form.overrides(),
                    checked_at=data["checked_at"],
                )
            except ValidationError as error:
                _show_errors(form, error, top=("overrides",))
            else:
                if checked.pre_check_passed:
                    messages.success(request, "Pre-dose check passed: the dose may be given.")
                else:
                    held = [
                        c["title"]
                        for c in checked.pre_check["checks"]
                        if not c["passed"] and c["blocking"] and not c["overridden_by"]
                    ]
                    messages.warning(
                        request, "Pre-dose check not passed. Holding the dose: " + "; ".join(held)
                    )
                return redirect(_url("dosing:pre_check", session))
        status = 400
    return render(
        request,
        "dosing/pre_check.html",
        {
            "session": session,
            "client": session.client,
            "route": selectors.session_route(session),
            "form": form,
            "checks": checks,
            "checking": session.state == SessionState.CHECKING and not session.is_signed,
            "has_hard_stop": any(
                not c["passed"] and c["blocking"] and not c["overridable"] for c in checks
            ),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# The dose


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def _calculation(
    route: str,
    weight: Decimal | None,
    params: rules.DosingParameters,
    *,
    mg_per_kg: Any,
    dose_mg: Any,
    minutes: Any,
    concentration: Any,
) -> dict[str, Any] | None:
    """The dose worked out from mg/kg and today's weight, with the infusion's rate: what the
    page shows while the dose is entered (None when there is nothing to show)."""
    rate, typed, length, strength = (
        _decimal(mg_per_kg),
        _decimal(dose_mg),
        _decimal(minutes),
        _decimal(concentration),
    )
    result: dict[str, Any] = {"weight": weight, "step": params.dose_step_mg}
    if rate is not None and weight is not None:
        result["mg_per_kg"] = rate
        result["computed"] = rules.dose_for(rate, weight, params.dose_step_mg)
    mg = typed if typed is not None else result.get("computed")
    if mg is None:
        return result if weight is None and rate is not None else None
    result["dose"] = mg
    if weight is not None:
        result["per_kg"] = rules.mg_per_kg(mg, weight)
    if route == rules.INTRAVENOUS and length is not None and length == length.to_integral():
        result["minutes"] = int(length)
        result["infusion"] = rules.infusion(mg, int(length), strength or Decimal(1))
        result["has_concentration"] = strength is not None
    return result


def _lot_choices(
    drug: str, location: Location | None
) -> tuple[list[tuple[str, str]], dict[str, tuple[Lot, Location]]]:
    entries = stock_selectors.balances().filter(lot__drug=drug, location__active=True)
    if location is not None:
        entries = entries.filter(location=location)
    choices, found = [], {}
    for entry in entries:
        lot = entry.lot
        # Without a location chosen, a lot at two locations is listed twice; the location
        # field decides (a valid form always has one, and then only its lots are found).
        key = str(lot.public_id)
        found[key] = (lot, entry.location)
        where = "" if location is not None else f" at {entry.location}"
        choices.append(
            (
                key,
                f"{lot.lot_number} · {lot.product} · expires {lot.expires_on:%Y-%m-%d} · "
                f"{entry.balance_after_mg.normalize():f} mg{where}",
            )
        )
    return choices, found


@require_http_methods(["GET", "POST"])
def dose_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    get = request.method == "GET"
    user, session = _session(request, client_id, session_id, view="dose" if get else "")
    route = selectors.session_route(session)
    params, _versions = selectors.parameters_in_force()
    drug = stock_rules.drug_for(route, "")
    locations = Location.objects.filter(active=True)
    in_use = list(locations)
    source = request.GET if get else request.POST
    location = next((x for x in in_use if str(x.public_id) == source.get("location")), None)
    if location is None and len(in_use) == 1:
        location = in_use[0]
    lots, found = _lot_choices(drug, location)
    therapists = User.objects.filter(is_therapist=True, is_active=True)
    overridable = [
        rules.Check(code=code, title=title, passed=False, reason="", source="")
        for code, title in DOSE_OVERRIDES.items()
        if not get and user.is_prescriber and f"override_{code}" in request.POST
    ]
    options: dict[str, Any] = {
        "session": session,
        "route": route,
        "lots": lots,
        "locations": locations,
        "therapists": therapists,
        "overridable": overridable,
    }
    status = 200
    if get:
        initial = {
            "location": location.public_id if location else None,
            "therapist_present": session.appointment.second_clinician.public_id
            if session.appointment.second_clinician
            else None,
            "infusion_minutes": params.iv_infusion_minutes,
        }
        form = DoseForm(initial=initial, **options)
    else:
        refused = _refuse_signed(request, session)
        if refused is not None:
            return refused
        form = DoseForm(request.POST, **options)
        if form.is_valid():
            response = _give(request, user, session, form, route, params, found)
            if response is not None:
                return response
        status = 400
    calc = _calculation(
        route,
        session.weight_kg,
        params,
        mg_per_kg=source.get("mg_per_kg"),
        dose_mg=source.get("dose_mg"),
        minutes=source.get("infusion_minutes") or (params.iv_infusion_minutes if get else None),
        concentration=source.get("concentration_mg_per_ml"),
    )
    url = _url("dosing:dose", session)
    form.fields["location"].widget.attrs.update(
        {
            "hx-get": url,
            "hx-trigger": "change",
            "hx-target": "#lot-box",
            "hx-select": "#lot-field",
            "hx-swap": "innerHTML",
            "hx-sync": "closest form:queue last",
        }
    )
    for name in ("mg_per_kg", "dose_mg", "infusion_minutes", "concentration_mg_per_ml"):
        if name in form.fields and route != rules.INTRANASAL:
            form.fields[name].widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change",
                    "hx-target": "#calc-box",
                    "hx-select": "#dose-calc",
                    "hx-swap": "innerHTML",
                    "hx-sync": "closest form:queue last",
                    "hx-include": "#dose-form [data-calc]",
                    "data-calc": "",
                }
            )
    return render(
        request,
        "dosing/dose.html",
        {
            "session": session,
            "client": session.client,
            "route": route,
            "route_label": DoseRoute(route).label,
            "form": form,
            "calc": calc,
            "dose": session.dose if hasattr(session, "dose") else None,
            "can_give": user.is_prescriber or user.is_nurse,
            "no_stock": not lots,
            "one_location": len(in_use) == 1,
        },
        status=status,
    )


def _give(
    request: HttpRequest,
    user: User,
    session: DosingSession,
    form: DoseForm,
    route: str,
    params: rules.DosingParameters,
    found: Mapping[str, tuple[Lot, Location]],
) -> HttpResponse | None:
    data = form.cleaned_data
    chosen = found.get(data["lot"])
    if chosen is None:
        form.add_error("lot", "This lot holds no stock at the chosen location.")
        return None
    lot, _where = chosen
    dose_mg = data.get("dose_mg")
    rate = data.get("mg_per_kg")
    if rate is not None:
        if session.weight_kg is None:
            form.add_error(
                "mg_per_kg", "No weight today: record it in the pre-dose check, or enter mg."
            )
            return None
        computed = rules.dose_for(rate, session.weight_kg, params.dose_step_mg)
        if dose_mg is None:
            dose_mg = computed
        elif dose_mg != computed:
            form.add_error(
                "dose_mg",
                f"{dose_mg.normalize():f} mg is not {rate.normalize():f} mg/kg times "
                f"{session.weight_kg} kg ({computed.normalize():f} mg): enter one of them.",
            )
            return None
    if dose_mg is None:  # the form asks for one of them
        return None
    try:
        given = services.dose_record(
            actor=user,
            session=session,
            product=lot.product,
            lot=lot.lot_number,
            expires_on=lot.expires_on,
            dose_mg=dose_mg,
            therapist_present=data["therapist_present"],
            given_at=data["given_at"],
            concentration_mg_per_ml=data.get("concentration_mg_per_ml"),
            infusion_minutes=data.get("infusion_minutes"),
            overrides=form.overrides(),
            location=data["location"],
        )
    except ValidationError as error:
        _show_errors(
            form,
            error,
            rename={
                "product": "lot",
                "expires_on": "lot",
                "dose": "lot",
                "quantity_mg": "dose_mg",
                "moved_at": "given_at",
                "overrides": "dose_mg",
            },
            top=("given_by",),
        )
        codes = {item.code for item in getattr(error, "error_dict", {}).get("dose_mg", [])}
        if user.is_prescriber:
            form.add_overrides(
                rules.Check(code=code, title=title, passed=False, reason="", source="")
                for code, title in DOSE_OVERRIDES.items()
                if code in codes and f"override_{code}" not in form.fields
            )
        return None
    shown = f"{given.dose_mg.normalize():f} mg"
    if given.mg_per_kg is not None:
        shown += f" ({given.mg_per_kg} mg/kg)"
    if given.devices:
        shown += f", {given.devices} device{'s' if given.devices > 1 else ''}"
    messages.success(request, f"Dose recorded: {shown}, given at {_at(given.given_at)}.")
    return _back(session)


# ---------------------------------------------------------------------------------------------
# Discharge, instructions, sign-off


@require_http_methods(["GET", "POST"])
def discharge_view(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    get = request.method == "GET"
    user, session = _session(request, client_id, session_id, view="discharge" if get else "")
    if not get:
        refused = _refuse_signed(request, session)
        if refused is not None:
            return refused
    probe = DischargeForm(None if get else request.POST, session=session)
    probe.is_valid()
    moment = now()
    sheet = flowsheet.flowsheet(session, moment, **probe.answers())
    failed = [check for check in sheet.discharge_checks if not check.passed]
    form = DischargeForm(
        None if get else request.POST,
        session=session,
        failed=failed if user.is_prescriber else [],
    )
    status = 200
    if not get and form.is_valid():
        try:
            services.discharge_record(
                actor=user, session=session, overrides=form.overrides(), **form.answers()
            )
        except ValidationError as error:
            _show_errors(form, error, top=("discharged_at", "overrides"))
        else:
            messages.success(
                request,
                "Discharged. Give the client the printed discharge instructions; the dyad signs "
                "the session next.",
            )
            return _back(session, "#signoff")
    if not get:
        status = 400
    return render(
        request,
        "dosing/discharge.html",
        {
            "session": session,
            "client": session.client,
            "sheet": sheet,
            "checks": sheet.discharge_checks,
            "form": form,
            "can_discharge": services.can_discharge(user),
            "is_prescriber": user.is_prescriber,
            "dosed": session.state == SessionState.DOSED,
            "stored": (session.discharge or {}).get("checks", []),
        },
        status=status,
    )


@require_GET
def instructions_view(
    request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID
) -> HttpResponse:
    _user, session = _session(request, client_id, session_id, view="instructions")
    appointment = session.appointment
    upcoming = (
        Appointment.objects.filter(
            client=session.client,
            kind=Kind.INTEGRATION,
            state=State.BOOKED,
            starts_at__gte=appointment.starts_at,
        )
        .select_related("clinician")
        .order_by("starts_at")
        .first()
    )
    return render(
        request,
        "dosing/instructions.html",
        {
            "session": session,
            "client": session.client,
            "appointment": appointment,
            "route": selectors.session_route(session),
            "integration": upcoming,
            "no_driving_source": rules.DISCHARGE_SOURCES["no_driving"],
            "escort_source": rules.DISCHARGE_SOURCES["escort"],
            "crisis_text": settings.CRISIS_TEXT,
        },
    )


@require_POST
def sign_view(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    user, session = _session(request, client_id, session_id)
    if session.is_signed:
        messages.error(request, SIGNED)
        return _back(session, "#signoff")
    try:
        signed = services.session_sign(actor=user, session=session)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if signed.is_signed:
            messages.success(request, "Signed. Both signatures are in: the session is closed.")
        else:
            messages.success(request, "Signed. The session closes when the other clinician signs.")
    return _back(session, "#signoff")
