"""The session's flowsheet as the bedside page and the API show it: every charted row in time
order with its corrections, the vitals due times with their state, the alerts each reading
raised, the latest sedation and dissociation scores, and the discharge criteria as they stand.

Everything clinical is judged by the pure rules (kapcare.dosing.rules) with the parameters in
force; this module only gathers the rows (a fixed number of queries, whatever the session holds)
and hands them over.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.core import audit
from kapcare.dosing import rules, selectors
from kapcare.dosing.models import (
    Dose,
    DosingSession,
    ScaleKind,
    ScaleRow,
    SessionState,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)

# ---------------------------------------------------------------------------------------------
# Access


def can_chart(user: User) -> bool:
    """Sessions hold therapy content (the therapeutic work): clinicians read and chart them."""
    return user.is_active and user.is_clinician


def session_for(
    user: User, public_id: uuid.UUID | str, *, audit_read: bool = False
) -> DosingSession:
    """The session with this public id if `user` is a clinician on the client's care team;
    otherwise Http404. With `audit_read`, the read is written to the audit log."""
    if not can_chart(user):
        raise Http404("No such session.")
    session = (
        DosingSession.objects.filter(public_id=public_id, client__in=visible_clients(user))
        .select_related(
            "client",
            "course",
            "appointment",
            "appointment__clinician",
            "appointment__second_clinician",
            "appointment__room",
            "pre_checked_by",
            "discharged_by",
            "monitor_signed_by",
            "therapist_signed_by",
        )
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    if audit_read:
        audit.record_read(
            actor=user,
            action="dosing_session.read",
            subject_type="dosing_session",
            subject_public_id=session.public_id,
            client_public_id=session.client.public_id,
        )
    return session


# ---------------------------------------------------------------------------------------------
# The flowsheet


@dataclass(frozen=True)
class Line:
    """One charted row as shown: what kind, when, by whom, what, and its correction state."""

    kind: str  # vitals, moaas, cadss, side_effect, work
    row: Any
    at: dt.datetime
    by: str
    text: str
    corrected: bool  # a later row corrects this one: shown struck through, kept
    corrects: Any  # the row this one corrects, if any
    alerts: tuple[rules.Alert, ...] = ()


@dataclass
class Flowsheet:
    session: DosingSession
    route: str
    dose: Dose | None
    params: rules.DosingParameters
    versions: dict[str, int]  # each parameter's version (stored with what it judged)
    lines: list[Line]
    dues: list[rules.VitalsStatus]
    alerts: list[rules.Alert]  # the latest reading's alerts (what is true now)
    baseline: rules.Reading | None
    latest_moaas: ScaleRow | None
    latest_cadss: ScaleRow | None
    dose_completed_at: dt.datetime | None
    discharge_checks: list[rules.Check] = field(default_factory=list)
    adverse_events: list[Any] = field(default_factory=list)
    vitals: list[VitalsRow] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return sum(1 for item in self.dues if item.state == rules.MISSED)

    @property
    def due_now(self) -> list[rules.VitalsStatus]:
        return [item for item in self.dues if item.state == rules.DUE]

    @property
    def stops(self) -> list[rules.Alert]:
        return [alert for alert in self.alerts if alert.severity == rules.STOP]


def current_rows(rows: list[Any]) -> list[Any]:
    """The rows no later row corrects (what the chart now says)."""
    corrected = {row.corrects_id for row in rows if row.corrects_id}
    return [row for row in rows if row.pk not in corrected]


def reading(row: VitalsRow) -> rules.Reading:
    return rules.Reading(
        at=row.taken_at,
        systolic=row.systolic,
        diastolic=row.diastolic,
        heart_rate=row.heart_rate,
        spo2=row.spo2,
        respiratory_rate=row.respiratory_rate,
    )


def _vitals_text(row: VitalsRow) -> str:
    parts = []
    if row.systolic is not None and row.diastolic is not None:
        parts.append(f"BP {row.systolic}/{row.diastolic}")
    if row.heart_rate is not None:
        parts.append(f"HR {row.heart_rate}")
    if row.spo2 is not None:
        parts.append(f"SpO2 {row.spo2}%")
    if row.respiratory_rate is not None:
        parts.append(f"RR {row.respiratory_rate}")
    return " · ".join(parts)


def dose_completed_at(dose: Dose, params: rules.DosingParameters) -> dt.datetime:
    """When the dose ended: the infusion's end, the last esketamine device, else when given."""
    if dose.route == rules.INTRAVENOUS and dose.infusion_minutes:
        return dose.given_at + dt.timedelta(minutes=dose.infusion_minutes)
    if dose.route == rules.INTRANASAL and dose.devices:
        return dose.given_at + dt.timedelta(
            minutes=params.device_interval_minutes * (dose.devices - 1)
        )
    return dose.given_at


def _dose_minutes(dose: Dose, params: rules.DosingParameters) -> int:
    return int((dose_completed_at(dose, params) - dose.given_at).total_seconds() // 60)


def pre_dose_baseline(vitals: list[VitalsRow], dose: Dose | None) -> rules.Reading | None:
    """The last blood pressure reading before the dose: the rise is counted from it."""
    before = [
        row
        for row in vitals
        if row.systolic is not None and (dose is None or row.taken_at <= dose.given_at)
    ]
    return reading(before[-1]) if before else None


def flowsheet(
    session: DosingSession,
    now: dt.datetime,
    *,
    escort_present: bool = False,
    no_driving_counselled: bool = False,
    dissociation_resolved: bool | None = None,
) -> Flowsheet:
    """The session as it stands at `now` (a fixed number of queries)."""
    params, versions = selectors.parameters_in_force()
    route = selectors.session_route(session)
    dose = Dose.objects.filter(session=session).select_related("given_by").first()
    all_vitals = list(VitalsRow.objects.filter(session=session).select_related("created_by"))
    all_scales = list(ScaleRow.objects.filter(session=session).select_related("created_by"))
    all_effects = list(SideEffectRow.objects.filter(session=session).select_related("created_by"))
    all_work = list(WorkRow.objects.filter(session=session).select_related("created_by"))
    vitals = current_rows(all_vitals)
    scales = current_rows(all_scales)
    baseline = pre_dose_baseline(vitals, dose)
    age = session.client.age
    lines: list[Line] = []

    def add(kind: str, rows: list[Any], text: Any, alerts: Any = None) -> None:
        corrected = {row.corrects_id for row in rows if row.corrects_id}
        pks = {row.pk: row for row in rows}
        for row in rows:
            lines.append(
                Line(
                    kind=kind if kind != "scale" else row.scale,
                    row=row,
                    at=row.taken_at,
                    by=row.created_by.display_name if row.created_by else "",
                    text=text(row),
                    corrected=row.pk in corrected,
                    corrects=pks.get(row.corrects_id),
                    alerts=tuple(alerts(row)) if alerts and row.pk not in corrected else (),
                )
            )

    def vitals_alerts(row: VitalsRow) -> list[rules.Alert]:
        return rules.vitals_alerts(reading(row), baseline, params, age, route=route)

    add("vitals", all_vitals, _vitals_text, vitals_alerts)
    add("scale", all_scales, _scale_text)
    add(
        "side_effect",
        all_effects,
        lambda row: (
            f"{row.get_effect_display()} ({row.get_severity_display().lower()})"
            + (f": {row.note}" if row.note else "")
        ),
    )
    add("work", all_work, lambda row: f"{row.get_kind_display()}: {row.detail}")
    lines.sort(key=lambda line: (line.at, line.row.pk))

    dues: list[rules.VitalsStatus] = []
    completed: dt.datetime | None = None
    if dose is not None:
        completed = dose_completed_at(dose, params)
        due = rules.vitals_due(
            route, dose.given_at, _dose_minutes(dose, params), session.discharged_at, params
        )
        at = session.discharged_at if session.discharged_at else now
        dues = rules.vitals_status(due, [row.taken_at for row in vitals], at, params.grace_minutes)
    latest_vitals = vitals[-1] if vitals else None
    alerts = vitals_alerts(latest_vitals) if latest_vitals is not None else []
    since = dose.given_at if dose is not None else None
    after = [row for row in scales if since is None or row.taken_at >= since]
    moaas = [row for row in after if row.scale == ScaleKind.MOAAS]
    cadss = [row for row in after if row.scale == ScaleKind.CADSS]
    sheet = Flowsheet(
        session=session,
        route=route,
        dose=dose,
        params=params,
        versions=versions,
        lines=lines,
        dues=dues,
        alerts=alerts,
        baseline=baseline,
        latest_moaas=moaas[-1] if moaas else None,
        latest_cadss=cadss[-1] if cadss else None,
        dose_completed_at=completed,
        adverse_events=list(session.adverse_events.all()),
        vitals=vitals,
    )
    if completed is not None and session.state == SessionState.DOSED and now >= completed:
        sheet.discharge_checks = rules.discharge_checks(
            discharge_inputs(
                sheet,
                now,
                escort_present=escort_present,
                no_driving_counselled=no_driving_counselled,
                dissociation_resolved=dissociation_resolved,
            ),
            params,
        )
    return sheet


def _scale_text(row: ScaleRow) -> str:
    if row.scale == ScaleKind.MOAAS:
        level = rules.moaas_level(row.score)
        return f"MOAA/S {row.score} ({level.label.lower()})"
    return f"CADSS {row.score} ({row.version})"


def discharge_inputs(
    sheet: Flowsheet,
    now: dt.datetime,
    *,
    escort_present: bool,
    no_driving_counselled: bool,
    dissociation_resolved: bool | None,
) -> rules.DischargeInputs:
    assert sheet.dose_completed_at is not None  # noqa: S101 - only called once dosed
    cadss = sheet.latest_cadss
    return rules.DischargeInputs(
        route=sheet.route,
        age=sheet.session.client.age,
        dose_completed_at=sheet.dose_completed_at,
        now=now,
        readings=tuple(reading(row) for row in sheet.vitals),
        baseline=sheet.baseline,
        latest_moaas=sheet.latest_moaas.score if sheet.latest_moaas else None,
        latest_cadss=cadss.score if cadss else None,
        cadss_version=cadss.version if cadss else "cadss23",
        clinician_dissociation_resolved=dissociation_resolved,
        escort_present=escort_present,
        no_driving_counselled=no_driving_counselled,
    )
