"""The tables `kapcare generate` writes, each with the columns the generator fills (in the order
it passes them); every other column takes its field's default (kapcare.synthetic.network_writer).

Listed parents first: the order rows are written in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamMember, Client, StatusChange, WeightMeasurement
from kapcare.courses.models import Appointment, Consent, Course, RemsEnrollment, Room
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    RemsForm,
    RemsSiteCertification,
    ScaleRow,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.measures.models import Administration
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary
from kapcare.outcomes.summaries import OUTCOME_COLUMNS, SAFETY_COLUMNS, SUMMARY_COLUMNS
from kapcare.safety.models import RiskAssessment, SafetyFlag
from kapcare.stock.models import Location, Lot, Movement
from kapcare.synthetic.network_writer import Table

TRACKED = ("created_at", "updated_at", "created_by_id", "updated_by_id")


# The tables the network's setup fills before any clinic's clients (staff, clinics, rooms, the
# site certification): a clinic's rows refer to these by their final ids.
SHARED = ("user", "location", "room", "certification")
# The course summaries: made from a clinic's other rows once they are all made.
SUMMARIES = ("course_summary", "course_outcome", "course_safety")


class NetworkTables:
    """With `local`, ids start from 1 without asking the database: a clinic's rows are made
    apart (in a worker process) and moved to their final ids once it knows them."""

    def __init__(self, *, local: bool = False) -> None:
        start = 1 if local else None

        def table(model: Any, columns: Sequence[str]) -> Table:
            return Table(model, columns, start_id=start)

        self.user = table(
            User,
            (
                "username",
                "first_name",
                "last_name",
                "email",
                "password",
                "date_joined",
                "professional_title",
                "is_therapist",
                "is_prescriber",
                "is_nurse",
                "is_front_desk",
                "is_practice_admin",
                "prescriber_credential",
                "licence_number",
            ),
        )
        self.location = table(Location, ("name", *TRACKED))
        self.room = table(Room, ("name", *TRACKED))
        self.certification = table(
            RemsSiteCertification, ("number", "certified_on", "site_name", *TRACKED)
        )
        self.client = table(
            Client,
            (
                "legal_given_names",
                "legal_family_name",
                "preferred_name",
                "pronouns",
                "date_of_birth",
                "sex_at_birth",
                "gender_identity",
                "email",
                "phone",
                "address",
                "preferred_channel",
                "emergency_contact_name",
                "emergency_contact_relationship",
                "emergency_contact_phone",
                "primary_care_provider",
                "primary_care_contact",
                "referring_provider",
                "access_needs",
                "status",
                "status_changed_at",
                "public_id",
                *TRACKED,
            ),
        )
        self.care_team = table(
            CareTeamMember, ("client_id", "staff_id", "role", "started_at", *TRACKED)
        )
        self.status_change = table(
            StatusChange,
            ("client_id", "from_status", "to_status", "reason", "changed_at", "changed_by_id"),
        )
        self.weight = table(WeightMeasurement, ("client_id", "measured_on", "weight_kg", *TRACKED))
        self.course = table(
            Course,
            (
                "client_id",
                "protocol",
                "phase",
                "started_on",
                "protocol_settings",
                "goals",
                "modalities",
                "ended_on",
                "end_reason",
                *TRACKED,
            ),
        )
        self.consent = table(Consent, ("client_id", "route", "signed_on", "form_version", *TRACKED))
        self.rems_enrollment = table(
            RemsEnrollment, ("client_id", "enrolled_on", "reference", *TRACKED)
        )
        self.appointment = table(
            Appointment,
            (
                "client_id",
                "course_id",
                "kind",
                "starts_at",
                "ends_at",
                "clinician_id",
                "second_clinician_id",
                "room_id",
                "state",
                "state_reason",
                "reminder_sent_at",
                *TRACKED,
            ),
        )
        self.session = table(
            DosingSession,
            (
                "appointment_id",
                "client_id",
                "course_id",
                "state",
                "weight_kg",
                "intention",
                "pre_check",
                "pre_check_passed",
                "pre_checked_by_id",
                "pre_checked_at",
                "discharge",
                "discharged_by_id",
                "discharged_at",
                "monitor_signed_by_id",
                "monitor_signed_at",
                "therapist_signed_by_id",
                "therapist_signed_at",
                "public_id",
                *TRACKED,
            ),
        )
        self.dose = table(
            Dose,
            (
                "session_id",
                "route",
                "product",
                "concentration_mg_per_ml",
                "lot",
                "expires_on",
                "dose_mg",
                "weight_kg",
                "mg_per_kg",
                "infusion_minutes",
                "devices",
                "given_at",
                "given_by_id",
                "therapist_present_id",
                *TRACKED,
            ),
        )
        self.vitals = table(
            VitalsRow,
            (
                "session_id",
                "taken_at",
                "systolic",
                "diastolic",
                "heart_rate",
                "spo2",
                "respiratory_rate",
                *TRACKED,
            ),
        )
        self.scale = table(
            ScaleRow, ("session_id", "taken_at", "scale", "score", "version", *TRACKED)
        )
        self.side_effect = table(
            SideEffectRow, ("session_id", "taken_at", "effect", "severity", "note", *TRACKED)
        )
        self.work = table(WorkRow, ("session_id", "taken_at", "kind", "detail", *TRACKED))
        self.adverse_event = table(
            AdverseEvent,
            (
                "client_id",
                "session_id",
                "event",
                "onset_at",
                "severity",
                "seriousness",
                "action",
                "outcome",
                "related",
                "followed_up_at",
                *TRACKED,
            ),
        )
        self.rems_form = table(
            RemsForm,
            (
                "session_id",
                "due_on",
                "data",
                "submitted_on",
                "reference",
                "submitted_by_id",
                *TRACKED,
            ),
        )
        self.administration = table(
            Administration,
            (
                "client_id",
                "instrument",
                "source",
                "completed_at",
                "answers",
                "total",
                "band",
                "complete",
                "prorated",
                "missing",
                "flags",
                "details",
                "scoring_version",
                "entered_by_id",
                *TRACKED,
            ),
        )
        self.risk_assessment = table(
            RiskAssessment,
            (
                "client_id",
                "assessed_at",
                "assessed_by_id",
                "risk_level",
                "actions",
                "safety_plan",
                *TRACKED,
            ),
        )
        self.safety_flag = table(
            SafetyFlag,
            (
                "client_id",
                "kind",
                "severity",
                "reason",
                "source_administration_id",
                "rule",
                "source_session_id",
                "raised_at",
                "closed_at",
                "closed_by_id",
                "closing_assessment_id",
                "review_note",
                *TRACKED,
            ),
        )
        self.lot = table(Lot, ("drug", "product", "form", "lot_number", "expires_on", *TRACKED))
        self.movement = table(
            Movement,
            (
                "lot_id",
                "location_id",
                "kind",
                "quantity_mg",
                "balance_after_mg",
                "moved_at",
                "recorded_by_id",
                "witness_id",
                "reason",
                "dose_id",
                *TRACKED,
            ),
        )
        # Each course's outcome summary (kapcare.synthetic.network_summaries).
        self.course_summary = table(CourseSummary, SUMMARY_COLUMNS)
        self.course_outcome = table(CourseOutcome, OUTCOME_COLUMNS)
        self.course_safety = table(CourseSafetyCount, SAFETY_COLUMNS)

    def __iter__(self) -> Iterator[Table]:
        """Every table, parents first."""
        return iter(value for value in vars(self).values() if isinstance(value, Table))

    def named(self) -> dict[str, Table]:
        """The tables by attribute name, parents first."""
        return {name: value for name, value in vars(self).items() if isinstance(value, Table)}
