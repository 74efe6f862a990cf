"""Rules of the de-identified research export, as pure functions and data: no ORM, no clock, no
settings (the caller passes the key, the largest shift and the practice's time zone).

* `export_key` turns the practice's secret (and an optional study key) into the export's key.
* `research_id` gives each record a pseudonym: a keyed HMAC-SHA256 of kapcare's random record id
  (a UUID that carries nothing about the person), truncated. Without the key it cannot be turned
  back into the record id, nor computed from it.
* `date_shift_days` gives each client a whole number of days, from the same key, uniform over
  -max_days..-1 and 1..max_days (never 0); every date and time of that client moves by it.
* `shift` moves a date, or a date-time on the practice's wall clock, by those days.
* `age_or_group` keeps an age under 90 and groups 90 and over as "90+" (Safe Harbor).
* `FIELDS` says, for every file and column, where it comes from, how it is treated and why, and
  also every source field that is left out. docs/research-export.md mirrors it line by line.

The standard followed is HIPAA's Safe Harbor list (45 CFR 164.514(b)(2)), with one deliberate
difference: dates are shifted per client instead of being cut to the year. See the document.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import hmac
import re
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass

# Hex characters of a research id: 64 bits, so that ids do not collide in any practice's data.
RESEARCH_ID_LENGTH = 16
# Ages above 89 are one group (45 CFR 164.514(b)(2)(i)(C)).
OLDEST_EXACT_AGE = 89
AGE_GROUP_90_PLUS = "90+"
# Joins several codes in one cell (modalities, flags).
CODE_SEPARATOR = ";"
# Date-times are written to the minute: seconds and fractions of a second are cut, so that an
# exported time is not a near-unique stamp that could be matched against the source records.
TIME_FORMAT = "%Y-%m-%dT%H:%M"

_KEY_DOMAIN = b"kapcare research export v1\x00"
_ITEM_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_VERSION = re.compile(r"^[0-9][0-9.]{0,19}$")


# --- keys, ids and shifts ------------------------------------------------------------------------


def export_key(secret: str | bytes, study_key: str = "") -> bytes:
    """The export's key: HMAC-SHA256 of the study key (may be empty) under the practice secret.

    The same secret and study key always give the same key, hence the same research ids and
    shifts; a different study key gives unrelated ones.
    """
    raw = secret.encode() if isinstance(secret, str) else secret
    if not raw:
        raise ValueError("The research export needs a secret.")
    return hmac.new(raw, _KEY_DOMAIN + study_key.strip().encode(), hashlib.sha256).digest()


def key_fingerprint(key: bytes) -> str:
    """A short name for a key (for the audit log and the export's README): two exports with
    the same fingerprint have linkable research ids. It reveals nothing about the key."""
    return hmac.new(key, b"fingerprint", hashlib.sha256).hexdigest()[:12]


def _digest(key: bytes, purpose: str, public_id: object) -> bytes:
    message = f"{purpose}\x00{str(public_id).strip().lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def research_id(key: bytes, public_id: object) -> str:
    """The pseudonym of one record (a client, a course, a session…) under `key`."""
    return _digest(key, "research-id", public_id).hex()[:RESEARCH_ID_LENGTH]


def date_shift_days(key: bytes, client_public_id: object, max_days: int) -> int:
    """The client's shift in whole days: uniform over -max_days..-1 and 1..max_days.

    The 256-bit HMAC is taken modulo 2 * max_days; the bias this leaves is below 2**-240.
    """
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    draw = int.from_bytes(_digest(key, "date-shift", client_public_id), "big") % (2 * max_days)
    return draw - max_days if draw < max_days else draw - max_days + 1


def shift_date(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def shift_datetime(moment: dt.datetime, days: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The moment on the practice's wall clock, moved by `days` calendar days, to the minute,
    without a zone: the time of day is kept, and no offset tells where the practice is."""
    if moment.tzinfo is None:
        raise ValueError("shift_datetime needs an aware date-time")
    local = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    return local + dt.timedelta(days=days)


def shift(
    value: dt.date | dt.datetime | None, days: int, zone: zoneinfo.ZoneInfo
) -> dt.date | dt.datetime | None:
    """Shift a date, or an aware date-time on the practice's wall clock (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return shift_datetime(value, days, zone)
    return shift_date(value, days)


def local_date(value: dt.date | dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    """The practice's calendar day of a date or an aware date-time."""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).date()
    return value


# --- ages ---------------------------------------------------------------------------------------


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`."""
    birthday_passed = (day.month, day.day) >= (birth.month, birth.day)
    return day.year - birth.year - (0 if birthday_passed else 1)


def age_or_group(age: int) -> int | str:
    """An age as it may be exported: the number up to 89, "90+" from 90 on."""
    if age < 0:
        raise ValueError("An age cannot be negative.")
    return AGE_GROUP_90_PLUS if age > OLDEST_EXACT_AGE else age


# --- values -------------------------------------------------------------------------------------


def code_or_blank(value: object, allowed: Collection[str]) -> str:
    """A code only if it is one of kapcare's own (a closed list); anything else is left out."""
    return value if isinstance(value, str) and value in allowed else ""


def codes(values: object, allowed: Collection[str]) -> str:
    """Several codes from a closed list, in order, joined; anything else is left out."""
    if not isinstance(values, list | tuple):
        return ""
    return CODE_SEPARATOR.join(v for v in values if isinstance(v, str) and v in allowed)


def version_or_blank(value: object) -> str:
    """A scoring version such as "2026.1"; anything else is left out."""
    return value if isinstance(value, str) and _VERSION.match(value) else ""


def numeric_answers(answers: object) -> list[tuple[str, int]]:
    """The whole-number answers of a questionnaire as (item id, value), in item order.

    Unanswered items, and any answer that is not a whole number, are left out.
    """
    if not isinstance(answers, Mapping):
        return []
    return [
        (str(item), value)
        for item, value in answers.items()
        if isinstance(item, str)
        and _ITEM_ID.match(item)
        and isinstance(value, int)
        and not isinstance(value, bool)
    ]


def cell(value: object) -> str:
    """How one value is written in a CSV file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("Only shifted (zone-less) date-times are written.")
        return value.strftime(TIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


# --- what each file holds -------------------------------------------------------------------------


class Treatment(enum.StrEnum):
    KEPT = "kept"
    CODED = "coded"
    SHIFTED = "shifted"
    GROUPED = "grouped"
    DROPPED = "dropped"


TREATMENT_MEANING = {
    Treatment.KEPT: "written as recorded (numbers, yes/no, and codes from kapcare's fixed lists)",
    Treatment.CODED: "replaced by a research id (keyed HMAC, see above)",
    Treatment.SHIFTED: "moved by the client's shift in whole days",
    Treatment.GROUPED: "written as a number up to 89, as 90+ from 90 on",
    Treatment.DROPPED: "never written",
}


@dataclass(frozen=True)
class Field:
    table: str
    column: str  # "" for a source field that is dropped
    sources: tuple[str, ...]  # "Model.field"
    treatment: Treatment
    why: str


# Fields every record has, never exported: kapcare's row number and public id (the public id of
# a record that is exported becomes its research id), and who created or changed the record
# when (staff, and times that are not shifted).
BOOKKEEPING = ("id", "public_id", "created_at", "updated_at", "created_by", "updated_by")

TABLES: tuple[str, ...] = (
    "clients",
    "courses",
    "appointments",
    "dosing_sessions",
    "doses",
    "vitals",
    "sedation_dissociation",
    "side_effects",
    "session_work",
    "adverse_events",
    "administrations",
    "answers",
)

K, C, S, G, D = (
    Treatment.KEPT,
    Treatment.CODED,
    Treatment.SHIFTED,
    Treatment.GROUPED,
    Treatment.DROPPED,
)
_FREE_TEXT = "Free text: it can name people and places."
_STAFF = "A staff member: not about the client, and it could narrow who the client is."
_CORRECTED = "Only the current version of a corrected row is exported."
_CORRECTION_REASON = "Free text (the reason for a correction)."
_NOT_IDENTIFIER = "Not one of the Safe Harbor identifiers."

FIELDS: tuple[Field, ...] = (
    # clients
    Field("clients", "client_id", ("Client.public_id",), C, "Links a client's rows across files."),
    Field(
        "clients",
        "age_at_first_course",
        ("Client.date_of_birth", "Course.started_on"),
        G,
        "Age in whole years on the day the client's first course started (real dates). Safe "
        "Harbor allows ages up to 89; 90 and over are one group.",
    ),
    Field("clients", "sex_at_birth", ("Client.sex_at_birth",), K, _NOT_IDENTIFIER),
    Field(
        "clients",
        "gender_identity",
        ("Client.gender_identity",),
        K,
        "Not one of the Safe Harbor identifiers. Free text as typed at intake: read the column "
        "before sharing the files.",
    ),
    Field("clients", "status", ("Client.status",), K, "Where the client is in the practice."),
    Field(
        "clients",
        "",
        ("Client.legal_given_names", "Client.legal_family_name", "Client.preferred_name"),
        D,
        "Names (Safe Harbor A).",
    ),
    Field(
        "clients",
        "",
        ("Client.date_of_birth",),
        D,
        "A date of birth (Safe Harbor C); used only to compute the age.",
    ),
    Field("clients", "", ("Client.pronouns",), D, "Free text."),
    Field("clients", "", ("Client.email",), D, "E-mail address (Safe Harbor F)."),
    Field("clients", "", ("Client.phone",), D, "Telephone number (Safe Harbor D)."),
    Field("clients", "", ("Client.address",), D, "Address (Safe Harbor B)."),
    Field(
        "clients",
        "",
        ("Client.preferred_channel",),
        D,
        "How the practice contacts the client: not research data.",
    ),
    Field(
        "clients",
        "",
        (
            "Client.emergency_contact_name",
            "Client.emergency_contact_relationship",
            "Client.emergency_contact_phone",
        ),
        D,
        "Another person's name and number (Safe Harbor A, D).",
    ),
    Field(
        "clients",
        "",
        (
            "Client.primary_care_provider",
            "Client.primary_care_contact",
            "Client.referring_provider",
            "Client.referring_provider_contact",
        ),
        D,
        "Names and contact details of other people and places (Safe Harbor A, B, D).",
    ),
    Field("clients", "", ("Client.access_needs",), D, _FREE_TEXT),
    Field("clients", "", ("Client.status_changed_at",), D, "Bookkeeping date: not needed."),
    # courses
    Field("courses", "course_id", ("Course.public_id",), C, "Links sessions to their course."),
    Field("courses", "client_id", ("Course.client",), C, "The client's research id."),
    Field("courses", "protocol", ("Course.protocol",), K, "kapcare's protocol code."),
    Field("courses", "phase", ("Course.phase",), K, "Preparation, induction, … discontinued."),
    Field("courses", "started_on", ("Course.started_on",), S, "A date of care (Safe Harbor C)."),
    Field("courses", "ended_on", ("Course.ended_on",), S, "A date of care (Safe Harbor C)."),
    Field(
        "courses",
        "modalities",
        ("Course.modalities",),
        K,
        "Therapeutic modalities planned, as codes separated by ';'.",
    ),
    Field(
        "courses",
        "",
        ("Course.protocol_settings",),
        D,
        "The practice's rule settings when the course started, with who signed them off: "
        "about the practice, not the client.",
    ),
    Field("courses", "", ("Course.goals",), D, _FREE_TEXT),
    Field("courses", "", ("Course.end_reason",), D, _FREE_TEXT),
    # appointments
    Field("appointments", "appointment_id", ("Appointment.public_id",), C, "Links sessions."),
    Field("appointments", "client_id", ("Appointment.client",), C, "The client's research id."),
    Field(
        "appointments",
        "course_id",
        ("Appointment.course",),
        C,
        "The course's research id; blank when none.",
    ),
    Field("appointments", "kind", ("Appointment.kind",), K, "Preparation, dosing, integration…"),
    Field("appointments", "state", ("Appointment.state",), K, "Booked, held, cancelled, no-show."),
    Field("appointments", "starts_at", ("Appointment.starts_at",), S, "A date of care."),
    Field("appointments", "ends_at", ("Appointment.ends_at",), S, "A date of care."),
    Field(
        "appointments",
        "",
        ("Appointment.clinician", "Appointment.second_clinician"),
        D,
        _STAFF,
    ),
    Field("appointments", "", ("Appointment.room",), D, "The practice's own room names."),
    Field("appointments", "", ("Appointment.state_reason",), D, _FREE_TEXT),
    Field(
        "appointments",
        "",
        ("Appointment.reminder_sent_at",),
        D,
        "When a reminder went out: bookkeeping.",
    ),
    # dosing sessions
    Field("dosing_sessions", "session_id", ("DosingSession.public_id",), C, "Links the session."),
    Field(
        "dosing_sessions",
        "appointment_id",
        ("DosingSession.appointment",),
        C,
        "The appointment's research id.",
    ),
    Field("dosing_sessions", "client_id", ("DosingSession.client",), C, "The client's id."),
    Field("dosing_sessions", "course_id", ("DosingSession.course",), C, "The course's id."),
    Field("dosing_sessions", "state", ("DosingSession.state",), K, "How far the session got."),
    Field(
        "dosing_sessions",
        "weight_kg",
        ("DosingSession.weight_kg",),
        K,
        "The day's weight. " + _NOT_IDENTIFIER,
    ),
    Field(
        "dosing_sessions",
        "pre_check_passed",
        ("DosingSession.pre_check_passed",),
        K,
        "Whether the pre-dose check passed.",
    ),
    Field(
        "dosing_sessions",
        "pre_checked_at",
        ("DosingSession.pre_checked_at",),
        S,
        "A date of care.",
    ),
    Field(
        "dosing_sessions",
        "discharged_at",
        ("DosingSession.discharged_at",),
        S,
        "A date of care.",
    ),
    Field("dosing_sessions", "", ("DosingSession.intention",), D, _FREE_TEXT),
    Field(
        "dosing_sessions",
        "",
        ("DosingSession.pre_check", "DosingSession.discharge"),
        D,
        "The check's and the discharge's answers, which include free text.",
    ),
    Field(
        "dosing_sessions",
        "",
        (
            "DosingSession.pre_checked_by",
            "DosingSession.discharged_by",
            "DosingSession.monitor_signed_by",
            "DosingSession.therapist_signed_by",
        ),
        D,
        _STAFF,
    ),
    Field(
        "dosing_sessions",
        "",
        ("DosingSession.monitor_signed_at", "DosingSession.therapist_signed_at"),
        D,
        "When the record was signed: bookkeeping.",
    ),
    # doses
    Field("doses", "session_id", ("Dose.session",), C, "The dosing session's research id."),
    Field("doses", "route", ("Dose.route",), K, "Sublingual, intramuscular, IV, intranasal…"),
    Field(
        "doses",
        "concentration_mg_per_ml",
        ("Dose.concentration_mg_per_ml",),
        K,
        "Strength of the product.",
    ),
    Field("doses", "dose_mg", ("Dose.dose_mg",), K, "The dose."),
    Field("doses", "weight_kg", ("Dose.weight_kg",), K, "The weight the dose was worked out on."),
    Field("doses", "mg_per_kg", ("Dose.mg_per_kg",), K, "The dose per kilogram."),
    Field("doses", "infusion_minutes", ("Dose.infusion_minutes",), K, "An infusion's length."),
    Field("doses", "devices", ("Dose.devices",), K, "Esketamine devices used."),
    Field("doses", "given_at", ("Dose.given_at",), S, "A date of care."),
    Field("doses", "", ("Dose.product",), D, "Free text (the product's name as entered)."),
    Field(
        "doses",
        "",
        ("Dose.lot", "Dose.expires_on"),
        D,
        "A lot number identifies a vial, not a person, but with its expiry it could be matched "
        "against the controlled-substance log: left out to be safe.",
    ),
    Field("doses", "", ("Dose.given_by", "Dose.therapist_present"), D, _STAFF),
    # vitals
    Field("vitals", "session_id", ("VitalsRow.session",), C, "The dosing session's research id."),
    Field("vitals", "taken_at", ("VitalsRow.taken_at",), S, "A date of care."),
    Field("vitals", "systolic", ("VitalsRow.systolic",), K, "mmHg."),
    Field("vitals", "diastolic", ("VitalsRow.diastolic",), K, "mmHg."),
    Field("vitals", "heart_rate", ("VitalsRow.heart_rate",), K, "Beats a minute."),
    Field("vitals", "spo2", ("VitalsRow.spo2",), K, "Oxygen saturation, %."),
    Field("vitals", "respiratory_rate", ("VitalsRow.respiratory_rate",), K, "Breaths a minute."),
    Field("vitals", "", ("VitalsRow.corrects",), D, _CORRECTED),
    Field("vitals", "", ("VitalsRow.correction_reason",), D, _CORRECTION_REASON),
    # sedation and dissociation scores
    Field(
        "sedation_dissociation",
        "session_id",
        ("ScaleRow.session",),
        C,
        "The dosing session's research id.",
    ),
    Field("sedation_dissociation", "taken_at", ("ScaleRow.taken_at",), S, "A date of care."),
    Field("sedation_dissociation", "scale", ("ScaleRow.scale",), K, "moaas or cadss."),
    Field("sedation_dissociation", "score", ("ScaleRow.score",), K, "The score."),
    Field(
        "sedation_dissociation",
        "",
        ("ScaleRow.version",),
        D,
        "Free text (the CADSS version as typed).",
    ),
    Field("sedation_dissociation", "", ("ScaleRow.corrects",), D, _CORRECTED),
    Field("sedation_dissociation", "", ("ScaleRow.correction_reason",), D, _CORRECTION_REASON),
    # side effects
    Field(
        "side_effects",
        "session_id",
        ("SideEffectRow.session",),
        C,
        "The dosing session's research id.",
    ),
    Field("side_effects", "taken_at", ("SideEffectRow.taken_at",), S, "A date of care."),
    Field("side_effects", "effect", ("SideEffectRow.effect",), K, "Nausea, dizziness, …"),
    Field("side_effects", "severity", ("SideEffectRow.severity",), K, "Mild, moderate, severe."),
    Field("side_effects", "", ("SideEffectRow.note",), D, _FREE_TEXT),
    Field("side_effects", "", ("SideEffectRow.corrects",), D, _CORRECTED),
    Field("side_effects", "", ("SideEffectRow.correction_reason",), D, _CORRECTION_REASON),
    # therapeutic work and interventions during the session
    Field(
        "session_work",
        "session_id",
        ("WorkRow.session",),
        C,
        "The dosing session's research id.",
    ),
    Field("session_work", "taken_at", ("WorkRow.taken_at",), S, "A date of care."),
    Field("session_work", "kind", ("WorkRow.kind",), K, "EMDR, somatic, music, antiemetic…"),
    Field("session_work", "", ("WorkRow.detail",), D, _FREE_TEXT),
    Field("session_work", "", ("WorkRow.corrects",), D, _CORRECTED),
    Field("session_work", "", ("WorkRow.correction_reason",), D, _CORRECTION_REASON),
    # adverse events
    Field(
        "adverse_events",
        "adverse_event_id",
        ("AdverseEvent.public_id",),
        C,
        "One row per event.",
    ),
    Field("adverse_events", "client_id", ("AdverseEvent.client",), C, "The client's id."),
    Field(
        "adverse_events",
        "session_id",
        ("AdverseEvent.session",),
        C,
        "The dosing session's research id; blank when none.",
    ),
    Field("adverse_events", "onset_at", ("AdverseEvent.onset_at",), S, "A date of care."),
    Field("adverse_events", "severity", ("AdverseEvent.severity",), K, "Mild, moderate, severe."),
    Field(
        "adverse_events",
        "seriousness",
        ("AdverseEvent.seriousness",),
        K,
        "Serious or not serious.",
    ),
    Field("adverse_events", "related", ("AdverseEvent.related",), K, "Relatedness to the dose."),
    Field(
        "adverse_events",
        "followed_up_at",
        ("AdverseEvent.followed_up_at",),
        S,
        "A date of care.",
    ),
    Field(
        "adverse_events",
        "",
        ("AdverseEvent.event", "AdverseEvent.action", "AdverseEvent.outcome"),
        D,
        _FREE_TEXT,
    ),
    # questionnaires and score entries
    Field(
        "administrations",
        "administration_id",
        ("Administration.public_id",),
        C,
        "Links the answers.",
    ),
    Field("administrations", "client_id", ("Administration.client",), C, "The client's id."),
    Field(
        "administrations",
        "instrument",
        ("Administration.instrument",),
        K,
        "kapcare's instrument code (phq9, gad7, …).",
    ),
    Field(
        "administrations",
        "source",
        ("Administration.source",),
        K,
        "In the clinic, score entry, or self-report.",
    ),
    Field(
        "administrations",
        "completed_at",
        ("Administration.completed_at",),
        S,
        "A date of care.",
    ),
    Field("administrations", "total", ("Administration.total",), K, "The total score."),
    Field(
        "administrations",
        "band",
        ("Administration.band",),
        K,
        "The severity band of the instrument's definition.",
    ),
    Field("administrations", "complete", ("Administration.complete",), K, "All items answered."),
    Field("administrations", "prorated", ("Administration.prorated",), K, "Total was prorated."),
    Field(
        "administrations",
        "flags",
        ("Administration.flags",),
        K,
        "Scoring flags (e.g. suicide item above 0), as codes separated by ';'.",
    ),
    Field(
        "administrations",
        "scoring_version",
        ("Administration.scoring_version",),
        K,
        "kapcare's scoring version.",
    ),
    Field(
        "administrations",
        "",
        ("Administration.missing", "Administration.details"),
        D,
        "Derived from the answers, which are exported.",
    ),
    Field(
        "administrations",
        "",
        ("Administration.replaces",),
        D,
        "Only the current version of a corrected form is exported.",
    ),
    Field("administrations", "", ("Administration.correction_reason",), D, _CORRECTION_REASON),
    Field("administrations", "", ("Administration.entered_by",), D, _STAFF),
    Field(
        "answers",
        "administration_id",
        ("Administration.public_id",),
        C,
        "The form the answer belongs to.",
    ),
    Field("answers", "item", ("Administration.answers",), K, "The item's id in the instrument."),
    Field(
        "answers",
        "value",
        ("Administration.answers",),
        K,
        "Whole-number answers only; unanswered items and anything else are left out.",
    ),
)


def columns(table: str) -> list[str]:
    """The columns of one file, in order."""
    return [f.column for f in FIELDS if f.table == table and f.treatment != Treatment.DROPPED]


def field_line(field: Field) -> str:
    """One line of the field table in docs/research-export.md."""
    column = f"`{field.column}`" if field.column else "—"
    sources = ", ".join(f"`{source}`" for source in field.sources)
    return f"| `{field.table}.csv` | {column} | {sources} | {field.treatment} | {field.why} |"


def fields_markdown() -> str:
    """The field table of docs/research-export.md."""
    head = ["| File | Column | From | Treatment | Why |", "| --- | --- | --- | --- | --- |"]
    return "\n".join([*head, *(field_line(field) for field in FIELDS)])


def readme(*, export_id: str, fingerprint: str, study_key_given: bool, max_days: int) -> str:
    """README.txt of the ZIP: what the files are and how they were made. No date of export and
    nothing about any client."""
    lines = [
        "De-identified research export from kapcare",
        "",
        f"Export id: {export_id}",
        f"Key fingerprint: {fingerprint} (exports with the same fingerprint share research ids "
        "and date shifts)",
        f"Study key given: {'yes' if study_key_given else 'no'}",
        "",
        "One file per table, one row per record, UTF-8 CSV with a header row.",
        "Ids are research ids: keyed hashes of kapcare's record ids that only the practice can "
        "recompute.",
        f"Every date and time of a client is moved by the same whole number of days, between "
        f"-{max_days} and {max_days}, never 0; clients have different shifts. Times are the "
        "practice's local wall-clock time, to the minute, without a time zone. Intervals within "
        "a client are kept; the true dates, and true weekdays, are not.",
        f'Ages over {OLDEST_EXACT_AGE} are written as "{AGE_GROUP_90_PLUS}". Several codes in '
        f"one cell are separated by '{CODE_SEPARATOR}'.",
        "",
        "Columns (treatment: why):",
    ]
    for table in TABLES:
        lines.append("")
        lines.append(f"{table}.csv")
        for field in FIELDS:
            if field.table == table and field.treatment != Treatment.DROPPED:
                lines.append(f"  {field.column} ({field.treatment}): {field.why}")
    lines.append("")
    lines.append(
        "Left out of every file: names, contact details, addresses, dates of birth, record "
        "numbers, staff, rooms, and all free text."
    )
    return "\n".join(lines) + "\n"
