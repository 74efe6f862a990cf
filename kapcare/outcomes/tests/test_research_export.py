"""The de-identified research export: nothing identifying gets into the ZIP, each client's dates
move together, ages over 89 are grouped, keys decide ids and shifts, only a practice admin with a
fresh password gets it, every export is audited, and the work stays flat as clients grow."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import uuid
import zipfile
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from kapcare import urls as project_urls
from kapcare.clients.models import Client
from kapcare.clients.tests.test_browser import console_problems, sign_in  # noqa: F401
from kapcare.core.models import AuditEvent
from kapcare.courses.models import Appointment, Course, Room
from kapcare.dosing.models import (
    AdverseEvent,
    Dose,
    DosingSession,
    ScaleRow,
    SideEffectRow,
    VitalsRow,
    WorkRow,
)
from kapcare.measures.models import Administration
from kapcare.outcomes import deidentify, research_export
from kapcare.outcomes.deidentify import BOOKKEEPING, Treatment
from kapcare.testing.factories import TEST_PASSWORD, make_client
from kapcare.testing.http import reauthenticated, signed_in
from kapcare.testing.personas import Practice

URL = "/reports/research-export/"
LA = zoneinfo.ZoneInfo("America/Los_Angeles")

urlpatterns = [
    *project_urls.urlpatterns,
    path("reports/research-export/", include("kapcare.outcomes.export_urls")),
]
pytestmark = pytest.mark.urls("kapcare.outcomes.tests.test_research_export")


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=LA)  # type: ignore[misc]


def wall(moment: dt.datetime) -> dt.datetime:
    """The practice's wall-clock time of a moment, to the minute, without a zone."""
    return moment.astimezone(LA).replace(tzinfo=None, second=0, microsecond=0)


@dataclass
class Person:
    """One client made for these tests, with everything that must not leak and the real dates
    that must move together."""

    client: Client
    secrets: list[str] = field(default_factory=list)
    public_ids: list[uuid.UUID] = field(default_factory=list)
    dates: dict[str, dt.date] = field(default_factory=dict)
    times: dict[str, dt.datetime] = field(default_factory=dict)


def person(practice: Practice, n: int, *, born: dt.date, first_course: dt.date) -> Person:
    """A client with a full record: two courses, a dosing session with a dose, vitals (one row
    corrected), scores, side effects, work, an adverse event and a corrected questionnaire.
    Every identifier and every free text is distinctive, so a leak would show."""
    secrets = {
        "given": f"Ottoline{n}x",
        "family": f"Quarrington{n}x",
        "preferred": f"Tillyprefer{n}",
        "pronouns": f"zir-zem-{n}",
        "email": f"ottoline.q{n}@hidden-mailhost.example",
        "phone": f"(541) 555-01{n:02d}",
        "phone_digits": f"54155501{n:02d}",
        "address": f"{1200 + n} Marigold Crescent",
        "zip": f"OR 9740{n}",
        "born": born.isoformat(),
        "born_us": born.strftime("%m/%d/%Y"),
        "emergency": f"Persephone{n} Vandersloot",
        "emergency_phone": f"(541) 555-02{n:02d}",
        "pcp": f"Dr Hieronymus{n} Pemberton",
        "pcp_contact": f"Pemberton Clinic {n}, fax 541-555-03{n:02d}",
        "referrer": f"Dr Evangeline{n} Fairweather",
        "access": f"Needs interpreter for Wolof (ask Mariama{n})",
        "goals": f"Reconnect with my brother Ignatius{n}",
        "end_reason": f"Moved to Bellingham{n}",
        "state_reason": f"Called from Yreka{n} hospital",
        "intention": f"Forgive Cornelius{n}",
        "check_note": f"Slept at Gwendolyn{n}'s flat",
        "discharge_note": f"Driven home by Bartholomew{n}",
        "product": f"Hornswoggle Ketamine {n}",
        "lot": f"LOT-ZQX-77{n:02d}",
        "correction": f"Typed by Octavia{n} in error",
        "side_effect_note": f"Nauseous like at Thaddeus{n}'s wedding",
        "work_detail": f"EMDR about the crash on Route{n} near Weed",
        "ae_event": f"Fainted in the car park of Safeway{n}",
        "ae_action": f"Called Mortimer{n} to collect",
        "ae_outcome": f"Recovered at Clementine{n}'s",
        "answer_text": f"My cat Ptolemy{n}",
        "details_text": f"details by Horatio{n}",
        "room": f"Juniper Room {n}",
        "gender": "genderqueer",
    }
    client = make_client(
        legal_given_names=secrets["given"],
        legal_family_name=secrets["family"],
        preferred_name=secrets["preferred"],
        pronouns=secrets["pronouns"],
        date_of_birth=born,
        sex_at_birth="intersex",
        gender_identity=secrets["gender"],
        email=secrets["email"],
        phone=secrets["phone"],
        address=f"{secrets['address']}\nEugene {secrets['zip']}",
        emergency_contact_name=secrets["emergency"],
        emergency_contact_relationship="sister",
        emergency_contact_phone=secrets["emergency_phone"],
        primary_care_provider=secrets["pcp"],
        primary_care_contact=secrets["pcp_contact"],
        referring_provider=secrets["referrer"],
        referring_provider_contact=secrets["pcp_contact"],
        access_needs=secrets["access"],
        status="active",
    )
    first = Course.objects.create(
        client=client,
        protocol="iv_racemic",
        phase="completed",
        started_on=first_course,
        ended_on=(first_end := first_course + dt.timedelta(days=40)),
        goals=secrets["goals"],
        end_reason=secrets["end_reason"],
        modalities=["emdr", "breathwork", f"Ask Ignatius{n}"],
    )
    second_start = first_course + dt.timedelta(days=60)
    second = Course.objects.create(
        client=client, protocol="kap_sublingual", phase="maintenance", started_on=second_start
    )
    # An evening dose: in UTC it is already the next day, which the shift must not care about.
    dose_at = local(first_course.year, first_course.month, first_course.day, 18, 40) + (
        dt.timedelta(days=7, seconds=37, microseconds=5)
    )
    appointment = Appointment.objects.create(
        client=client,
        course=first,
        kind="dosing",
        starts_at=dose_at - dt.timedelta(minutes=40),
        ends_at=dose_at + dt.timedelta(hours=2),
        clinician=practice.nurse,
        second_clinician=practice.therapist,
        room=Room.objects.create(name=secrets["room"]),
        state="held",
        state_reason=secrets["state_reason"],
    )
    session = DosingSession.objects.create(
        appointment=appointment,
        client=client,
        course=first,
        state="signed",
        weight_kg=decimal.Decimal("71.4"),
        intention=secrets["intention"],
        pre_check={"notes": secrets["check_note"]},
        pre_check_passed=True,
        pre_checked_by=practice.nurse,
        pre_checked_at=dose_at - dt.timedelta(minutes=20),
        discharge={"escort": secrets["discharge_note"]},
        discharged_by=practice.nurse,
        discharged_at=dose_at + dt.timedelta(hours=2, minutes=5),
    )
    dose = Dose.objects.create(
        session=session,
        route="intravenous",
        product=secrets["product"],
        concentration_mg_per_ml=decimal.Decimal("10.00"),
        lot=secrets["lot"],
        expires_on=dt.date(2031, 7, 19),
        dose_mg=decimal.Decimal("35.70"),
        weight_kg=decimal.Decimal("71.4"),
        mg_per_kg=decimal.Decimal("0.50"),
        infusion_minutes=40,
        given_at=dose_at,
        given_by=practice.prescriber,
        therapist_present=practice.therapist,
    )
    vitals_at = dose_at + dt.timedelta(minutes=15)
    wrong = VitalsRow.objects.create(
        session=session, taken_at=vitals_at, systolic=231, diastolic=88, heart_rate=80
    )
    right = VitalsRow.objects.create(
        session=session,
        taken_at=vitals_at,
        systolic=138,
        diastolic=88,
        heart_rate=80,
        spo2=97,
        respiratory_rate=14,
        corrects=wrong,
        correction_reason=secrets["correction"],
    )
    scale = ScaleRow.objects.create(
        session=session, taken_at=dose_at + dt.timedelta(minutes=30), scale="cadss", score=12
    )
    side = SideEffectRow.objects.create(
        session=session,
        taken_at=dose_at + dt.timedelta(minutes=45),
        effect="nausea",
        severity="mild",
        note=secrets["side_effect_note"],
    )
    work = WorkRow.objects.create(
        session=session,
        taken_at=dose_at + dt.timedelta(minutes=50),
        kind="emdr",
        detail=secrets["work_detail"],
    )
    adverse = AdverseEvent.objects.create(
        client=client,
        session=session,
        event=secrets["ae_event"],
        onset_at=dose_at + dt.timedelta(hours=3),
        severity="moderate",
        seriousness="not_serious",
        action=secrets["ae_action"],
        outcome=secrets["ae_outcome"],
        related="possibly",
        followed_up_at=dose_at + dt.timedelta(days=2),
    )
    form_at = local(first_course.year, first_course.month, first_course.day, 8, 5)
    replaced = Administration.objects.create(
        client=client,
        instrument="phq9",
        source="clinic",
        completed_at=form_at,
        answers={"q1": 3, "q9": 1, "note": secrets["answer_text"]},
        total=21,
        band="Severe",
        complete=True,
        scoring_version="2026.1",
        details={"by": secrets["details_text"]},
        entered_by=practice.therapist,
    )
    current = Administration.objects.create(
        client=client,
        instrument="phq9",
        source="clinic",
        completed_at=form_at,
        answers={"q1": 2, "q9": 1, "note": secrets["answer_text"]},
        total=20,
        band="Severe",
        complete=True,
        flags=["suicide_item_positive", f"note from Ptolemy{n}"],
        scoring_version="2026.1",
        replaces=replaced,
        correction_reason=secrets["correction"],
        entered_by=practice.therapist,
    )
    return Person(
        client=client,
        secrets=[value for key, value in secrets.items() if key != "gender"],
        public_ids=[
            client.public_id,
            first.public_id,
            second.public_id,
            appointment.public_id,
            session.public_id,
            dose.public_id,
            wrong.public_id,
            right.public_id,
            scale.public_id,
            side.public_id,
            work.public_id,
            adverse.public_id,
            replaced.public_id,
            current.public_id,
        ],
        dates={"first_course": first_course, "first_end": first_end, "second": second_start},
        times={
            "starts_at": appointment.starts_at,
            "ends_at": appointment.ends_at,
            "given_at": dose_at,
            "pre_checked_at": session.pre_checked_at,  # type: ignore[dict-item]
            "discharged_at": session.discharged_at,  # type: ignore[dict-item]
            "vitals": vitals_at,
            "scale": scale.taken_at,
            "side_effect": side.taken_at,
            "work": work.taken_at,
            "onset_at": adverse.onset_at,
            "followed_up_at": adverse.followed_up_at,  # type: ignore[dict-item]
            "completed_at": form_at,
        },
    )


@pytest.fixture
def people(practice: Practice) -> list[Person]:
    # Staff with names that would show if staff were exported.
    for n, staff in enumerate([practice.therapist, practice.nurse, practice.prescriber]):
        staff.first_name, staff.last_name = f"Staffname{n}q", f"Throckmorton{n}q"
        staff.save()
    return [
        # 89 when the first course starts (the second starts after the 90th birthday).
        person(practice, 1, born=dt.date(1935, 6, 15), first_course=dt.date(2025, 6, 14)),
        # 90 on the day.
        person(practice, 2, born=dt.date(1934, 11, 2), first_course=dt.date(2024, 11, 2)),
        # 101.
        person(practice, 3, born=dt.date(1923, 1, 20), first_course=dt.date(2024, 3, 8)),
        person(practice, 4, born=dt.date(1968, 9, 30), first_course=dt.date(2025, 1, 27)),
    ]


@dataclass
class Unzipped:
    raw: bytes
    files: dict[str, str]

    def rows(self, table: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.files[f"{table}.csv"])))

    def header(self, table: str) -> list[str]:
        return next(csv.reader(io.StringIO(self.files[f"{table}.csv"])))

    @property
    def text(self) -> str:
        return "\n".join(self.files.values())


def unzip(raw: bytes) -> Unzipped:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    return Unzipped(raw=raw, files=files)


def export(practice: Practice, study_key: str = "") -> Unzipped:
    made = research_export.research_export(actor=practice.admin, study_key=study_key)
    return unzip(made.file.read())


def rid(public_id: uuid.UUID, study_key: str = "") -> str:
    return deidentify.research_id(research_export.keying(study_key).key, public_id)


def shift_of(files: Unzipped, who: Person, study_key: str = "") -> int:
    """The one shift, in days, that every exported date of `who` shows; fails if they differ."""
    client = rid(who.client.public_id, study_key)
    (course,) = [
        row
        for row in files.rows("courses")
        if row["client_id"] == client and row["protocol"] == "iv_racemic"
    ]
    (second,) = [
        row
        for row in files.rows("courses")
        if row["client_id"] == client and row["protocol"] == "kap_sublingual"
    ]
    (appointment,) = [r for r in files.rows("appointments") if r["client_id"] == client]
    (session,) = [r for r in files.rows("dosing_sessions") if r["client_id"] == client]
    session_id = session["session_id"]

    def one(table: str) -> dict[str, str]:
        (row,) = [r for r in files.rows(table) if r["session_id"] == session_id]
        return row

    (adverse,) = [r for r in files.rows("adverse_events") if r["client_id"] == client]
    (form,) = [r for r in files.rows("administrations") if r["client_id"] == client]
    exported_dates = {
        "first_course": course["started_on"],
        "first_end": course["ended_on"],
        "second": second["started_on"],
    }
    exported_times = {
        "starts_at": appointment["starts_at"],
        "ends_at": appointment["ends_at"],
        "given_at": one("doses")["given_at"],
        "pre_checked_at": session["pre_checked_at"],
        "discharged_at": session["discharged_at"],
        "vitals": one("vitals")["taken_at"],
        "scale": one("sedation_dissociation")["taken_at"],
        "side_effect": one("side_effects")["taken_at"],
        "work": one("session_work")["taken_at"],
        "onset_at": adverse["onset_at"],
        "followed_up_at": adverse["followed_up_at"],
        "completed_at": form["completed_at"],
    }
    shifts = {
        name: (dt.date.fromisoformat(value) - who.dates[name]).days
        for name, value in exported_dates.items()
    }
    for name, value in exported_times.items():
        moved = dt.datetime.fromisoformat(value) - wall(who.times[name])
        assert moved == dt.timedelta(days=moved.days), (name, value)  # the time of day is kept
        shifts[name] = moved.days
    assert len(set(shifts.values())) == 1, shifts
    return next(iter(shifts.values()))


# --- no identifier survives -------------------------------------------------------------------


class TestNothingIdentifying:
    def test_no_identifier_or_free_text_appears_anywhere_in_the_zip(
        self, practice: Practice, people: list[Person]
    ) -> None:
        files = export(practice)
        text = files.text.casefold()
        staff = [
            value
            for user in (practice.therapist, practice.nurse, practice.prescriber, practice.admin)
            for value in (user.first_name, user.last_name, user.username + "@")
        ]
        for who in people:
            for secret in [*who.secrets, *staff]:
                assert secret.encode() not in files.raw, secret
                assert secret.casefold() not in text, secret
            for public_id in who.public_ids:
                for form in (str(public_id), public_id.hex):
                    assert form.encode() not in files.raw
                    assert form not in text
            # Every date and time of the client moved by one shift that is never 0, so none of
            # theirs is exported as it was. (Searching the whole text for a real date would
            # trip over another client's shifted date landing on it.)
            assert shift_of(files, who) != 0
        # The persona client without a course is not in the export at all.
        assert "quinlan" not in text
        assert "jamie" not in text

    def test_only_clients_with_a_course_are_exported(
        self, practice: Practice, people: list[Person]
    ) -> None:
        make_client(legal_given_names="Nocourse", legal_family_name="Person")
        files = export(practice)
        exported = {row["client_id"] for row in files.rows("clients")}
        assert exported == {rid(who.client.public_id) for who in people}

    def test_kept_values_are_there(self, practice: Practice, people: list[Person]) -> None:
        files = export(practice)
        client = rid(people[3].client.public_id)
        (row,) = [r for r in files.rows("clients") if r["client_id"] == client]
        assert row == {
            "client_id": client,
            "age_at_first_course": "56",
            "sex_at_birth": "intersex",
            "gender_identity": "genderqueer",
            "status": "active",
        }
        (course,) = [
            r
            for r in files.rows("courses")
            if r["client_id"] == client and r["protocol"] == "iv_racemic"
        ]
        assert course["modalities"] == "emdr;breathwork"
        assert course["phase"] == "completed"
        (dose,) = [
            r
            for r in files.rows("doses")
            if r["session_id"] == rid(people[3].public_ids[4])  # the dosing session
        ]
        assert (dose["route"], dose["dose_mg"], dose["mg_per_kg"]) == (
            "intravenous",
            "35.70",
            "0.50",
        )
        assert dose["given_at"].endswith("T18:40")  # seconds are cut

    def test_corrected_rows_are_exported_as_their_correction_only(
        self, practice: Practice, people: list[Person]
    ) -> None:
        files = export(practice)
        vitals = files.rows("vitals")
        assert len(vitals) == len(people)
        assert {row["systolic"] for row in vitals} == {"138"}
        forms = files.rows("administrations")
        assert len(forms) == len(people)
        assert {(row["total"], row["flags"]) for row in forms} == {("20", "suicide_item_positive")}
        answers = files.rows("answers")
        assert sorted((row["item"], row["value"]) for row in answers) == sorted(
            [("q1", "2"), ("q9", "1")] * len(people)
        )

    def test_headers_are_the_columns_of_fields(
        self, practice: Practice, people: list[Person]
    ) -> None:
        files = export(practice)
        assert set(files.files) == {f"{table}.csv" for table in deidentify.TABLES} | {"README.txt"}
        for table in deidentify.TABLES:
            assert files.header(table) == deidentify.columns(table)

    def test_the_zip_does_not_say_when_it_was_made(
        self, practice: Practice, people: list[Person]
    ) -> None:
        made = research_export.research_export(actor=practice.admin)
        with zipfile.ZipFile(made.file) as archive:
            assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}

    def test_every_field_of_the_source_records_is_accounted_for(self) -> None:
        described = {source for f in deidentify.FIELDS for source in f.sources}
        for name, model in research_export.MODELS.items():
            fields = {f.name for f in model._meta.concrete_fields} - set(BOOKKEEPING)
            missing = {f"{name}.{field}" for field in fields} - described
            assert not missing, f"say in deidentify.FIELDS how these are exported: {missing}"
        for source in described:
            model_name, field_name = source.split(".")
            model = research_export.MODELS[model_name]
            assert field_name in {f.name for f in model._meta.concrete_fields}, source
            assert field_name not in BOOKKEEPING or field_name == "public_id", source


# --- dates and ages ---------------------------------------------------------------------------


class TestShiftsAndAges:
    def test_every_date_of_a_client_moves_by_the_same_days(
        self, practice: Practice, people: list[Person], settings: SettingsWrapper
    ) -> None:
        files = export(practice)
        shifts = [shift_of(files, who) for who in people]
        for days in shifts:
            assert days != 0
            assert days >= -settings.RESEARCH_EXPORT_MAX_SHIFT_DAYS
            assert days <= settings.RESEARCH_EXPORT_MAX_SHIFT_DAYS
        # Four clients, 364 possible shifts each: the same shift for all would be a bug.
        assert len(set(shifts)) > 1

    def test_the_same_key_gives_the_same_ids_and_shifts(
        self, practice: Practice, people: list[Person]
    ) -> None:
        first, again = export(practice, "study-alpha"), export(practice, "study-alpha")
        for table in deidentify.TABLES:
            assert first.files[f"{table}.csv"] == again.files[f"{table}.csv"], table
        assert [shift_of(first, who, "study-alpha") for who in people] == [
            shift_of(again, who, "study-alpha") for who in people
        ]

    def test_another_study_key_gives_other_ids_and_shifts(
        self, practice: Practice, people: list[Person]
    ) -> None:
        alpha, beta = export(practice, "study-alpha"), export(practice, "study-beta")
        alpha_ids = {row["client_id"] for row in alpha.rows("clients")}
        beta_ids = {row["client_id"] for row in beta.rows("clients")}
        assert alpha_ids.isdisjoint(beta_ids)
        assert [shift_of(alpha, who, "study-alpha") for who in people] != [
            shift_of(beta, who, "study-beta") for who in people
        ]

    def test_the_practice_key_setting_decides_too(
        self, practice: Practice, people: list[Person], settings: SettingsWrapper
    ) -> None:
        before = {row["client_id"] for row in export(practice).rows("clients")}
        settings.RESEARCH_EXPORT_KEY = "k" * 40
        after = export(practice)
        assert before.isdisjoint({row["client_id"] for row in after.rows("clients")})
        for who in people:
            shift_of(after, who)  # still one shift per client

    def test_the_shift_stays_within_the_setting(
        self, practice: Practice, people: list[Person], settings: SettingsWrapper
    ) -> None:
        settings.RESEARCH_EXPORT_MAX_SHIFT_DAYS = 2
        files = export(practice)
        assert {shift_of(files, who) for who in people} <= {-2, -1, 1, 2}

    def test_ages_over_89_are_grouped(self, practice: Practice, people: list[Person]) -> None:
        files = export(practice)
        ages = {row["client_id"]: row["age_at_first_course"] for row in files.rows("clients")}
        assert [ages[rid(who.client.public_id)] for who in people] == ["89", "90+", "90+", "56"]
        # Whole-word: a hexadecimal research id may contain the digits by chance.
        assert not re.search(r"\b1935\b", files.files["clients.csv"])


# --- who may export, and the audit ----------------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize(
        "who", ["therapist", "prescriber", "nurse", "front_desk", "outsider", "outsider_prescriber"]
    )
    def test_anyone_but_an_admin_gets_not_found(
        self, practice: Practice, people: list[Person], who: str
    ) -> None:
        http = reauthenticated(signed_in(getattr(practice, who)))
        assert http.get(URL).status_code == 404
        assert http.post(URL).status_code == 404
        assert not AuditEvent.objects.filter(action="outcomes.research_export").exists()

    def test_an_admin_without_a_fresh_password_is_asked_for_it(
        self, practice: Practice, people: list[Person]
    ) -> None:
        http = signed_in(practice.admin)
        for response in (http.get(URL), http.post(URL)):
            assert response.status_code == 302
            assert response["Location"] == "/accounts/confirm/?next=%2Freports%2Fresearch-export%2F"
        page = http.get("/accounts/confirm/?next=/reports/research-export/")
        assert "the de-identified research export" in page.content.decode()
        assert not AuditEvent.objects.filter(action="outcomes.research_export").exists()

    def test_signed_out_visitors_are_sent_to_sign_in(self, db: None) -> None:
        response = HttpClient().post(URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_the_page_explains_the_export(self, practice: Practice, people: list[Person]) -> None:
        response = reauthenticated(signed_in(practice.admin)).get(URL)
        assert response.status_code == 200
        text = response.content.decode()
        assert "not Safe Harbor" in text
        assert "4 clients" in text
        for table in deidentify.TABLES:
            assert f"{table}.csv" in text
            for column in deidentify.columns(table):
                assert f"<code>{column}</code>" in text
        assert not AuditEvent.objects.filter(action="outcomes.research_export").exists()

    def test_an_admin_with_a_fresh_password_downloads_the_zip(
        self, practice: Practice, people: list[Person]
    ) -> None:
        http = reauthenticated(signed_in(practice.admin, address="198.51.100.40"))
        response = http.post(URL, {"study_key": "study-alpha"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == (
            'attachment; filename="kapcare-research-export.zip"'
        )
        assert response["Cache-Control"] == "no-store"
        files = unzip(b"".join(response.streaming_content))  # type: ignore[arg-type]
        assert len(files.rows("clients")) == len(people)
        assert {row["client_id"] for row in files.rows("clients")} == {
            rid(who.client.public_id, "study-alpha") for who in people
        }

    def test_the_download_is_audited_with_counts_and_no_client(
        self, practice: Practice, people: list[Person]
    ) -> None:
        http = reauthenticated(signed_in(practice.admin, address="198.51.100.41"))
        response = http.post(URL, {"study_key": "study-alpha"})
        files = unzip(b"".join(response.streaming_content))  # type: ignore[arg-type]
        event = AuditEvent.objects.get(action="outcomes.research_export")
        assert event.actor == practice.admin
        assert event.ip == "198.51.100.41"
        assert event.client_public_id is None
        assert event.subject_type == "research_export"
        assert str(event.subject_public_id) in files.files["README.txt"]
        detail = event.detail
        assert detail["rows"] == {table: len(files.rows(table)) for table in deidentify.TABLES}
        assert detail["rows"]["clients"] == detail["clients"] == len(people)
        first_real = min(who.dates["first_course"] for who in people)
        assert detail["from"] == first_real.isoformat()
        assert (
            detail["to"]
            == max(
                max(who.dates["second"], *(wall(t).date() for t in who.times.values()))
                for who in people
            ).isoformat()
        )
        assert detail["study_key_given"] is True
        assert detail["key_fingerprint"] == research_export.keying("study-alpha").fingerprint
        assert detail["max_shift_days"] == 182
        logged = json.dumps(
            list(AuditEvent.objects.filter(action="outcomes.research_export").values()),
            default=str,
        )
        assert "study-alpha" not in logged
        for who in people:
            for public_id in who.public_ids:
                assert str(public_id) not in logged
            assert rid(who.client.public_id, "study-alpha") not in logged

    def test_a_failed_export_records_nothing(
        self, practice: Practice, people: list[Person], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(self: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(research_export.Builder, "answers", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            research_export.research_export(actor=practice.admin)
        assert not AuditEvent.objects.filter(action="outcomes.research_export").exists()

    def test_the_service_refuses_anyone_but_an_admin(self, practice: Practice) -> None:
        with pytest.raises(PermissionError):
            research_export.research_export(actor=practice.prescriber)


class TestBoundedWork:
    def test_the_number_of_queries_does_not_grow_with_clients(self, practice: Practice) -> None:
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                research_export.research_export(actor=practice.admin)
            return len(captured.captured_queries)

        person(practice, 1, born=dt.date(1970, 1, 1), first_course=dt.date(2025, 2, 3))
        one = queries()
        for n in range(2, 6):
            person(practice, n, born=dt.date(1970, 1, n), first_course=dt.date(2025, 2, n))
        assert queries() == one
        # One for the clients, one per other file, and the audit event.
        assert one <= len(deidentify.TABLES) + 4


def test_treatments_in_fields_are_only_the_documented_ones() -> None:
    assert {f.treatment for f in deidentify.FIELDS} == set(Treatment)


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_confirm_the_password_then_download(
    page: Page,
    live_server: object,
    practice: Practice,
    console_problems: list[str],  # noqa: F811 (the fixture)
) -> None:
    base = str(live_server)
    who = person(practice, 1, born=dt.date(1970, 5, 6), first_course=dt.date(2025, 2, 3))
    sign_in(page, base, practice.admin)
    page.goto(f"{base}{URL}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your password to export")
    expect(page.get_by_text("the de-identified research export")).to_be_visible()
    page.get_by_label("Your password").fill("not-the-password-at-all")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That is not your password")).to_be_visible()
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("De-identified research export")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the ZIP").click()
    download = download_info.value
    assert download.suggested_filename == "kapcare-research-export.zip"
    files = unzip(Path(download.path()).read_bytes())
    assert [row["client_id"] for row in files.rows("clients")] == [rid(who.client.public_id)]
    assert who.secrets[0] not in files.text
    assert console_problems == []
