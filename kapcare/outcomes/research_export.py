"""Building the de-identified research export: one CSV per table in a ZIP, for every client with
at least one treatment course. The rules (ids, shifts, ages, what each column holds) are in
kapcare.outcomes.deidentify; this module reads the records and applies them.

The work is bounded: one query for the clients and one per file, whatever the number of
clients, each read with `.values_list(...).iterator()` and written as it is read. Rows are
ordered by the client's random public id and then by time, so the order of the files says
nothing about who came to the practice first. The ZIP is built in a temporary file (in memory
while it is small) inside the transaction that records the export in the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import uuid
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, QuerySet

from kapcare.accounts.models import User
from kapcare.clients.models import Client, ClientStatus, SexAtBirth
from kapcare.core import audit
from kapcare.core.time import practice_zone
from kapcare.courses.models import Appointment, Course, Kind, Modality, Phase, State
from kapcare.courses.protocols import PROTOCOLS
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DoseRoute,
    DosingSession,
    Relatedness,
    ScaleKind,
    ScaleRow,
    Seriousness,
    SessionState,
    Severity,
    SideEffect,
    SideEffectRow,
    VitalsRow,
    WorkKind,
    WorkRow,
)
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration, Source
from kapcare.measures.rules import FLAG_LABELS
from kapcare.outcomes import deidentify as rules

FILENAME = "kapcare-research-export.zip"
# Entries of the ZIP carry this date rather than the day of the export: knowing when an export
# was made would narrow every client's shift (no real date can be later than the export).
ZIP_ENTRY_DATE = (1980, 1, 1, 0, 0, 0)
# Above this size the ZIP being built moves from memory to a temporary file.
IN_MEMORY_BYTES = 16 * 1024 * 1024

# The closed lists a kept code must come from (anything else is written blank).
SEX_AT_BIRTH = frozenset(SexAtBirth.values)
CLIENT_STATUS = frozenset(ClientStatus.values)
PROTOCOL_CODES = frozenset(protocol.code for protocol in PROTOCOLS)
PHASES = frozenset(Phase.values)
MODALITIES = frozenset(Modality.values)
APPOINTMENT_KINDS = frozenset(Kind.values)
APPOINTMENT_STATES = frozenset(State.values)
SESSION_STATES = frozenset(SessionState.values)
DOSE_ROUTES = frozenset(DoseRoute.values)
SCALES = frozenset(ScaleKind.values)
SIDE_EFFECTS = frozenset(SideEffect.values)
SEVERITIES = frozenset(Severity.values)
WORK_KINDS = frozenset(WorkKind.values)
SERIOUSNESS = frozenset(Seriousness.values)
RELATEDNESS = frozenset(Relatedness.values)
INSTRUMENT_CODES = frozenset(INSTRUMENTS)
SOURCES = frozenset(Source.values)
BANDS = frozenset(band.label for i in INSTRUMENTS.values() for band in i.bands)
FLAGS = frozenset(FLAG_LABELS)

# The models FIELDS describes, by the name it uses.
MODELS: dict[str, Any] = {
    "Client": Client,
    "Course": Course,
    "Appointment": Appointment,
    "DosingSession": DosingSession,
    "Dose": Dose,
    "VitalsRow": VitalsRow,
    "ScaleRow": ScaleRow,
    "SideEffectRow": SideEffectRow,
    "WorkRow": WorkRow,
    "AdverseEvent": AdverseEvent,
    "Administration": Administration,
}


@dataclass(frozen=True)
class Keying:
    """What the export is made with: its key, the largest shift and the practice's zone."""

    key: bytes
    max_days: int
    zone: zoneinfo.ZoneInfo
    study_key_given: bool

    @property
    def fingerprint(self) -> str:
        return rules.key_fingerprint(self.key)


def keying(study_key: str = "") -> Keying:
    """The export's keying from the settings (KAPCARE_RESEARCH_EXPORT_KEY, or the secret key
    when it is unset) and the study key an admin may give."""
    secret = settings.RESEARCH_EXPORT_KEY or settings.SECRET_KEY
    return Keying(
        key=rules.export_key(secret, study_key),
        max_days=settings.RESEARCH_EXPORT_MAX_SHIFT_DAYS,
        zone=practice_zone(),
        study_key_given=bool(study_key.strip()),
    )


def exported_clients() -> QuerySet[Client]:
    """Clients with at least one treatment course: the people the export is about."""
    return Client.objects.filter(Exists(Course.objects.filter(client=OuterRef("pk"))))


@dataclass
class Span:
    """The earliest and latest real day the exported rows cover (for the audit log only)."""

    zone: zoneinfo.ZoneInfo
    first: dt.date | None = None
    last: dt.date | None = None

    def see(self, *values: dt.date | dt.datetime | None) -> None:
        for value in values:
            if value is None:
                continue
            day = rules.local_date(value, self.zone)
            self.first = day if self.first is None or day < self.first else self.first
            self.last = day if self.last is None or day > self.last else self.last


@dataclass
class Builder:
    """Turns rows read from the database into rows of the files."""

    keying: Keying
    span: Span
    # client pk -> (research id, shift in days), filled by the clients file, which comes first.
    people: dict[int, tuple[str, int]] = field(default_factory=dict)

    def rid(self, public_id: uuid.UUID | None) -> str:
        return "" if public_id is None else rules.research_id(self.keying.key, public_id)

    def person(self, client_pk: int) -> tuple[str, int] | None:
        """The client's research id and shift; None for a client who is not in the clients
        file (one whose first course was saved while the export was being read)."""
        return self.people.get(client_pk)

    def moved(self, value: dt.date | dt.datetime | None, days: int) -> object:
        self.span.see(value)
        return rules.shift(value, days, self.keying.zone)

    # --- one generator per file ---------------------------------------------------------------

    def clients(self) -> Iterator[dict[str, object]]:
        rows = (
            exported_clients()
            .annotate(first_course=Min("courses__started_on"))
            .order_by("public_id")
            .values_list(
                "pk",
                "public_id",
                "date_of_birth",
                "sex_at_birth",
                "gender_identity",
                "status",
                "first_course",
            )
        )
        for pk, public_id, born, sex, gender, status, first_course in rows.iterator():
            research_id = self.rid(public_id)
            days = rules.date_shift_days(self.keying.key, public_id, self.keying.max_days)
            self.people[pk] = (research_id, days)
            yield {
                "client_id": research_id,
                "age_at_first_course": rules.age_or_group(rules.age_on(born, first_course)),
                "sex_at_birth": rules.code_or_blank(sex, SEX_AT_BIRTH),
                "gender_identity": " ".join(gender.split()),
                "status": rules.code_or_blank(status, CLIENT_STATUS),
            }

    def courses(self) -> Iterator[dict[str, object]]:
        rows = (
            Course.objects.filter(client__in=exported_clients())
            .order_by("client__public_id", "started_on", "pk")
            .values_list(
                "client_id",
                "public_id",
                "protocol",
                "phase",
                "started_on",
                "ended_on",
                "modalities",
            )
        )
        for client, public_id, protocol, phase, started, ended, modalities in rows.iterator():
            if (person := self.person(client)) is None:
                continue
            research_id, days = person
            yield {
                "course_id": self.rid(public_id),
                "client_id": research_id,
                "protocol": rules.code_or_blank(protocol, PROTOCOL_CODES),
                "phase": rules.code_or_blank(phase, PHASES),
                "started_on": self.moved(started, days),
                "ended_on": self.moved(ended, days),
                "modalities": rules.codes(modalities, MODALITIES),
            }

    def appointments(self) -> Iterator[dict[str, object]]:
        rows = (
            Appointment.objects.filter(client__in=exported_clients())
            .order_by("client__public_id", "starts_at", "pk")
            .values_list(
                "client_id",
                "public_id",
                "course__public_id",
                "kind",
                "state",
                "starts_at",
                "ends_at",
            )
        )
        for client, public_id, course, kind, state, starts, ends in rows.iterator():
            if (person := self.person(client)) is None:
                continue
            research_id, days = person
            yield {
                "appointment_id": self.rid(public_id),
                "client_id": research_id,
                "course_id": self.rid(course),
                "kind": rules.code_or_blank(kind, APPOINTMENT_KINDS),
                "state": rules.code_or_blank(state, APPOINTMENT_STATES),
                "starts_at": self.moved(starts, days),
                "ends_at": self.moved(ends, days),
            }

    def dosing_sessions(self) -> Iterator[dict[str, object]]:
        rows = (
            DosingSession.objects.filter(client__in=exported_clients())
            .order_by("client__public_id", "appointment__starts_at", "pk")
            .values_list(
                "client_id",
                "public_id",
                "appointment__public_id",
                "course__public_id",
                "state",
                "weight_kg",
                "pre_check_passed",
                "pre_checked_at",
                "discharged_at",
            )
        )
        for (
            client,
            public_id,
            appointment,
            course,
            state,
            weight,
            passed,
            checked,
            discharged,
        ) in rows.iterator():
            if (person := self.person(client)) is None:
                continue
            research_id, days = person
            yield {
                "session_id": self.rid(public_id),
                "appointment_id": self.rid(appointment),
                "client_id": research_id,
                "course_id": self.rid(course),
                "state": rules.code_or_blank(state, SESSION_STATES),
                "weight_kg": weight,
                "pre_check_passed": passed,
                "pre_checked_at": self.moved(checked, days),
                "discharged_at": self.moved(discharged, days),
            }

    def doses(self) -> Iterator[dict[str, object]]:
        rows = (
            Dose.objects.filter(session__client__in=exported_clients())
            .order_by("session__client__public_id", "given_at", "pk")
            .values_list(
                "session__client_id",
                "session__public_id",
                "route",
                "concentration_mg_per_ml",
                "dose_mg",
                "weight_kg",
                "mg_per_kg",
                "infusion_minutes",
                "devices",
                "given_at",
            )
        )
        for (
            client,
            session,
            route,
            concentration,
            dose_mg,
            weight,
            mg_per_kg,
            minutes,
            devices,
            given,
        ) in rows.iterator():
            if (person := self.person(client)) is None:
                continue
            _, days = person
            yield {
                "session_id": self.rid(session),
                "route": rules.code_or_blank(route, DOSE_ROUTES),
                "concentration_mg_per_ml": concentration,
                "dose_mg": dose_mg,
                "weight_kg": weight,
                "mg_per_kg": mg_per_kg,
                "infusion_minutes": minutes,
                "devices": devices,
                "given_at": self.moved(given, days),
            }

    def _entries(self, model: Any, *values: str) -> Iterator[tuple[Any, ...]]:
        """Current (uncorrected) charted rows of a dosing session, with client and session."""
        rows = (
            model.objects.filter(session__client__in=exported_clients(), corrected_by__isnull=True)
            .order_by("session__client__public_id", "taken_at", "pk")
            .values_list("session__client_id", "session__public_id", "taken_at", *values)
        )
        yield from rows.iterator()

    def vitals(self) -> Iterator[dict[str, object]]:
        names = ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")
        for client, session, taken, *values in self._entries(VitalsRow, *names):
            if (person := self.person(client)) is None:
                continue
            _, days = person
            yield {
                "session_id": self.rid(session),
                "taken_at": self.moved(taken, days),
                **dict(zip(names, values, strict=True)),
            }

    def sedation_dissociation(self) -> Iterator[dict[str, object]]:
        for client, session, taken, scale, score in self._entries(ScaleRow, "scale", "score"):
            if (person := self.person(client)) is None:
                continue
            _, days = person
            yield {
                "session_id": self.rid(session),
                "taken_at": self.moved(taken, days),
                "scale": rules.code_or_blank(scale, SCALES),
                "score": score,
            }

    def side_effects(self) -> Iterator[dict[str, object]]:
        rows = self._entries(SideEffectRow, "effect", "severity")
        for client, session, taken, effect, severity in rows:
            if (person := self.person(client)) is None:
                continue
            _, days = person
            yield {
                "session_id": self.rid(session),
                "taken_at": self.moved(taken, days),
                "effect": rules.code_or_blank(effect, SIDE_EFFECTS),
                "severity": rules.code_or_blank(severity, SEVERITIES),
            }

    def session_work(self) -> Iterator[dict[str, object]]:
        for client, session, taken, kind in self._entries(WorkRow, "kind"):
            if (person := self.person(client)) is None:
                continue
            _, days = person
            yield {
                "session_id": self.rid(session),
                "taken_at": self.moved(taken, days),
                "kind": rules.code_or_blank(kind, WORK_KINDS),
            }

    def adverse_events(self) -> Iterator[dict[str, object]]:
        rows = (
            AdverseEvent.objects.filter(client__in=exported_clients())
            .order_by("client__public_id", "onset_at", "pk")
            .values_list(
                "client_id",
                "public_id",
                "session__public_id",
                "onset_at",
                "severity",
                "seriousness",
                "related",
                "followed_up_at",
            )
        )
        for (
            client,
            public_id,
            session,
            onset,
            severity,
            seriousness,
            related,
            followed_up,
        ) in rows.iterator():
            if (person := self.person(client)) is None:
                continue
            research_id, days = person
            yield {
                "adverse_event_id": self.rid(public_id),
                "client_id": research_id,
                "session_id": self.rid(session),
                "onset_at": self.moved(onset, days),
                "severity": rules.code_or_blank(severity, SEVERITIES),
                "seriousness": rules.code_or_blank(seriousness, SERIOUSNESS),
                "related": rules.code_or_blank(related, RELATEDNESS),
                "followed_up_at": self.moved(followed_up, days),
            }

    def _administrations(self) -> QuerySet[Administration, tuple[Any, ...]]:
        return (
            Administration.objects.current()
            .filter(client__in=exported_clients())
            .order_by("client__public_id", "completed_at", "pk")
            .values_list(
                "client_id",
                "public_id",
                "instrument",
                "source",
                "completed_at",
                "total",
                "band",
                "complete",
                "prorated",
                "flags",
                "scoring_version",
            )
        )

    def administrations(self) -> Iterator[dict[str, object]]:
        for (
            client,
            public_id,
            instrument,
            source,
            completed,
            total,
            band,
            complete,
            prorated,
            flags,
            version,
        ) in self._administrations().iterator():
            if (person := self.person(client)) is None:
                continue
            research_id, days = person
            yield {
                "administration_id": self.rid(public_id),
                "client_id": research_id,
                "instrument": rules.code_or_blank(instrument, INSTRUMENT_CODES),
                "source": rules.code_or_blank(source, SOURCES),
                "completed_at": self.moved(completed, days),
                "total": total if isinstance(total, int) else None,
                "band": rules.code_or_blank(band, BANDS),
                "complete": complete,
                "prorated": prorated,
                "flags": rules.codes(flags, FLAGS),
                "scoring_version": rules.version_or_blank(version),
            }

    def answers(self) -> Iterator[dict[str, object]]:
        rows = (
            Administration.objects.current()
            .filter(client__in=exported_clients())
            .order_by("client__public_id", "completed_at", "pk")
            .values_list("client_id", "public_id", "answers")
        )
        for client, public_id, answers in rows.iterator():
            if self.person(client) is None:
                continue
            administration = self.rid(public_id)
            for item, value in rules.numeric_answers(answers):
                yield {"administration_id": administration, "item": item, "value": value}

    def table(self, name: str) -> Callable[[], Iterator[dict[str, object]]]:
        method: Callable[[], Iterator[dict[str, object]]] = getattr(self, name)
        return method


@dataclass(frozen=True)
class ResearchExport:
    """A finished export: the ZIP (positioned at its start) and what went into it."""

    file: IO[bytes]
    export_id: uuid.UUID
    rows: dict[str, int]
    clients: int


def _write_zip(out: IO[bytes], builder: Builder, export_id: uuid.UUID) -> dict[str, int]:
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in rules.TABLES:
            entry = zipfile.ZipInfo(f"{table}.csv", date_time=ZIP_ENTRY_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with (
                archive.open(entry, "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                names = rules.columns(table)
                writer = csv.DictWriter(text, fieldnames=names)
                writer.writeheader()
                count = 0
                for row in builder.table(table)():
                    if list(row) != names:
                        raise ValueError(f"{table}: the row's columns differ from FIELDS")
                    writer.writerow({name: rules.cell(value) for name, value in row.items()})
                    count += 1
            counts[table] = count
        readme = zipfile.ZipInfo("README.txt", date_time=ZIP_ENTRY_DATE)
        readme.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(
            readme,
            rules.readme(
                export_id=str(export_id),
                fingerprint=builder.keying.fingerprint,
                study_key_given=builder.keying.study_key_given,
                max_days=builder.keying.max_days,
            ),
        )
    return counts


def research_export(*, actor: User, study_key: str = "") -> ResearchExport:
    """Build the export for a practice admin and record it in the audit log, in one
    transaction: if the export fails, nothing is recorded, and no export goes unrecorded."""
    if not (actor.is_active and actor.is_practice_admin):
        raise PermissionError("Only a practice admin can make the research export.")
    keys = keying(study_key)
    export_id = uuid.uuid4()
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 (returned open)
    try:
        with transaction.atomic():
            builder = Builder(keying=keys, span=Span(zone=keys.zone))
            rows = _write_zip(out, builder, export_id)
            audit.record_read(
                actor=actor,
                action="outcomes.research_export",
                subject_type="research_export",
                subject_public_id=export_id,
                detail={
                    "rows": rows,
                    "clients": len(builder.people),
                    "from": builder.span.first,
                    "to": builder.span.last,
                    "max_shift_days": keys.max_days,
                    "study_key_given": keys.study_key_given,
                    "key_fingerprint": keys.fingerprint,
                },
            )
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return ResearchExport(file=out, export_id=export_id, rows=rows, clients=len(builder.people))
