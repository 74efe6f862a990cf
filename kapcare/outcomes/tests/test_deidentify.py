"""The pure rules of the research export: keys, research ids, date shifts, ages, values, and the
field list that docs/research-export.md mirrors."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import uuid
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.outcomes import deidentify as rules
from kapcare.outcomes.deidentify import Treatment

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
KEY = rules.export_key("a-practice-secret-that-is-long-enough-for-tests")
DOC = Path(__file__).resolve().parents[3] / "docs" / "research-export.md"

keys = st.binary(min_size=1, max_size=64)


def wall(*parts: int) -> dt.datetime:
    """A wall-clock time without a zone, as the export writes them."""
    return dt.datetime(*parts)  # noqa: DTZ001


public_ids = st.uuids()


class TestKeys:
    def test_the_same_secret_and_study_key_give_the_same_key(self) -> None:
        assert rules.export_key("secret", "study") == rules.export_key("secret", "study")
        assert rules.export_key("secret", " study ") == rules.export_key("secret", "study")
        assert rules.export_key(b"secret") == rules.export_key("secret", "")

    def test_a_different_study_key_or_secret_gives_another_key(self) -> None:
        base = rules.export_key("secret", "")
        assert rules.export_key("secret", "study") != base
        assert rules.export_key("other secret", "") != base

    def test_no_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="secret"):
            rules.export_key("", "study")

    def test_the_fingerprint_names_the_key_without_showing_it(self) -> None:
        fingerprint = rules.key_fingerprint(KEY)
        assert fingerprint == rules.key_fingerprint(KEY)
        assert len(fingerprint) == 12
        assert fingerprint not in KEY.hex()
        assert rules.key_fingerprint(rules.export_key("secret", "x")) != fingerprint


class TestResearchId:
    def test_stable_short_and_hex(self) -> None:
        public_id = uuid.UUID("6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f")
        first = rules.research_id(KEY, public_id)
        assert first == rules.research_id(KEY, str(public_id))
        assert first == rules.research_id(KEY, str(public_id).upper())
        assert len(first) == rules.RESEARCH_ID_LENGTH
        int(first, 16)

    @given(key=keys, public_id=public_ids)
    def test_nothing_of_the_record_id_shows(self, key: bytes, public_id: uuid.UUID) -> None:
        research_id = rules.research_id(key, public_id)
        assert research_id not in public_id.hex
        assert public_id.hex[:8] not in research_id

    def test_depends_on_the_key(self) -> None:
        public_id = uuid.uuid4()
        assert rules.research_id(KEY, public_id) != rules.research_id(
            rules.export_key("secret", "other study"), public_id
        )

    def test_no_collisions_among_many(self) -> None:
        ids = {rules.research_id(KEY, uuid.uuid4()) for _ in range(5000)}
        assert len(ids) == 5000


class TestDateShift:
    @given(key=keys, public_id=public_ids, max_days=st.integers(min_value=1, max_value=3650))
    def test_in_range_never_zero_and_stable(
        self, key: bytes, public_id: uuid.UUID, max_days: int
    ) -> None:
        days = rules.date_shift_days(key, public_id, max_days)
        assert -max_days <= days <= max_days
        assert days != 0
        assert days == rules.date_shift_days(key, str(public_id), max_days)

    def test_every_value_of_the_range_is_about_equally_likely(self) -> None:
        # 6 possible shifts (-3..-1, 1..3), 12 000 clients: about 2 000 each. A bias towards
        # one value of a sixth or more would fall outside these bounds.
        seen = collections.Counter(
            rules.date_shift_days(KEY, uuid.uuid4(), 3) for _ in range(12000)
        )
        assert set(seen) == {-3, -2, -1, 1, 2, 3}
        assert all(1700 < count < 2300 for count in seen.values()), seen

    def test_the_shift_and_the_id_are_independent_draws(self) -> None:
        public_id = uuid.uuid4()
        shifts = {
            rules.date_shift_days(rules.export_key("s", str(n)), public_id, 182) for n in range(50)
        }
        assert len(shifts) > 40

    @pytest.mark.parametrize("max_days", [0, -5])
    def test_a_range_under_one_day_is_refused(self, max_days: int) -> None:
        with pytest.raises(ValueError, match="max_days"):
            rules.date_shift_days(KEY, uuid.uuid4(), max_days)


class TestShift:
    def test_a_date_moves_by_whole_days(self) -> None:
        assert rules.shift(dt.date(2025, 2, 27), 3, LA) == dt.date(2025, 3, 2)
        assert rules.shift(dt.date(2025, 1, 10), -10, LA) == dt.date(2024, 12, 31)

    def test_none_stays_none(self) -> None:
        assert rules.shift(None, 5, LA) is None

    def test_a_time_keeps_its_wall_clock_time_across_a_clock_change(self) -> None:
        # 09:30 Pacific Standard Time on the Friday before the clocks go forward.
        moment = dt.datetime(2025, 3, 7, 9, 30, tzinfo=LA)
        assert rules.shift(moment, 3, LA) == wall(2025, 3, 10, 9, 30)

    def test_the_practice_day_is_the_day_that_moves(self) -> None:
        # 23:10 in Los Angeles is the next day in UTC; the shift counts from the local day.
        moment = dt.datetime(2025, 6, 3, 23, 10, tzinfo=LA).astimezone(dt.UTC)
        assert rules.shift(moment, 1, LA) == wall(2025, 6, 4, 23, 10)

    def test_seconds_are_cut(self) -> None:
        moment = dt.datetime(2025, 6, 3, 10, 5, 37, 123456, tzinfo=LA)
        shifted = rules.shift_datetime(moment, -2, LA)
        assert shifted == wall(2025, 6, 1, 10, 5)
        assert rules.cell(shifted) == "2025-06-01T10:05"

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            rules.shift_datetime(dt.datetime(2025, 6, 3, 10, 5), 1, LA)  # noqa: DTZ001

    @given(
        moment=st.datetimes(
            min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001
            max_value=dt.datetime(2040, 1, 1),  # noqa: DTZ001
            timezones=st.just(dt.UTC),
        ),
        days=st.integers(min_value=-3650, max_value=3650),
    )
    def test_every_time_moves_by_exactly_its_days_on_the_local_calendar(
        self, moment: dt.datetime, days: int
    ) -> None:
        shifted = rules.shift_datetime(moment, days, LA)
        local = moment.astimezone(LA)
        assert (shifted.date() - local.date()).days == days
        assert (shifted.hour, shifted.minute) == (local.hour, local.minute)
        assert shifted.tzinfo is None


class TestAges:
    @pytest.mark.parametrize(
        ("age", "written"), [(0, 0), (18, 18), (64, 64), (89, 89), (90, "90+"), (101, "90+")]
    )
    def test_ninety_and_over_are_one_group(self, age: int, written: int | str) -> None:
        assert rules.age_or_group(age) == written

    @given(st.integers(min_value=90, max_value=130))
    def test_no_age_over_89_is_written(self, age: int) -> None:
        assert rules.age_or_group(age) == "90+"

    def test_a_negative_age_is_refused(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            rules.age_or_group(-1)

    @pytest.mark.parametrize(
        ("born", "day", "age"),
        [
            (dt.date(1935, 6, 15), dt.date(2025, 6, 14), 89),
            (dt.date(1935, 6, 15), dt.date(2025, 6, 15), 90),
            (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20),
            (dt.date(2000, 2, 29), dt.date(2021, 3, 1), 21),
        ],
    )
    def test_age_in_whole_years(self, born: dt.date, day: dt.date, age: int) -> None:
        assert rules.age_on(born, day) == age


class TestValues:
    def test_only_codes_from_the_list_are_kept(self) -> None:
        allowed = frozenset({"emdr", "music"})
        assert rules.code_or_blank("emdr", allowed) == "emdr"
        assert rules.code_or_blank("Call Persephone", allowed) == ""
        assert rules.code_or_blank(None, allowed) == ""
        assert rules.codes(["emdr", "Persephone", "music", 3], allowed) == "emdr;music"
        assert rules.codes("emdr", allowed) == ""

    def test_only_whole_number_answers_are_kept(self) -> None:
        answers = {
            "q1": 2,
            "q2": None,
            "q3": "my sister Persephone",
            "q4": True,
            "q5": 1.5,
            "bad key with spaces": 1,
            "difficulty": 0,
        }
        assert rules.numeric_answers(answers) == [("q1", 2), ("difficulty", 0)]
        assert rules.numeric_answers(["q1", 2]) == []

    def test_a_version_must_look_like_one(self) -> None:
        assert rules.version_or_blank("2026.1") == "2026.1"
        assert rules.version_or_blank("v2 by Persephone") == ""

    def test_cells(self) -> None:
        assert rules.cell(None) == ""
        assert rules.cell(True) == "true"
        assert rules.cell(False) == "false"
        assert rules.cell(decimal.Decimal("0.50")) == "0.50"
        assert rules.cell(dt.date(2025, 1, 2)) == "2025-01-02"
        assert rules.cell(dt.datetime(2025, 1, 2, 3, 4)) == "2025-01-02T03:04"  # noqa: DTZ001
        assert rules.cell("90+") == "90+"
        with pytest.raises(ValueError, match="zone-less"):
            rules.cell(dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC))


class TestFields:
    def test_every_table_has_columns_and_every_field_a_known_table(self) -> None:
        for table in rules.TABLES:
            assert rules.columns(table), table
        assert {field.table for field in rules.FIELDS} == set(rules.TABLES)

    def test_column_names_are_unique_within_a_file(self) -> None:
        for table in rules.TABLES:
            names = rules.columns(table)
            assert len(names) == len(set(names)), table

    def test_a_dropped_field_has_no_column_and_every_other_one_has(self) -> None:
        for field in rules.FIELDS:
            assert bool(field.column) == (field.treatment != Treatment.DROPPED), field
            assert field.why.strip(), field
            assert field.sources, field

    def test_no_identifier_is_kept(self) -> None:
        kept = {
            source
            for field in rules.FIELDS
            if field.treatment in (Treatment.KEPT, Treatment.SHIFTED)
            for source in field.sources
        }
        for identifier in (
            "Client.legal_given_names",
            "Client.legal_family_name",
            "Client.preferred_name",
            "Client.date_of_birth",
            "Client.email",
            "Client.phone",
            "Client.address",
            "Client.emergency_contact_phone",
            "Client.public_id",
            "Dose.lot",
            "AdverseEvent.event",
        ):
            assert identifier not in kept, identifier
        assert "Client.date_of_birth" in {
            source
            for field in rules.FIELDS
            if field.treatment == Treatment.GROUPED
            for source in field.sources
        }

    def test_the_document_lists_every_field_as_the_code_does(self) -> None:
        document = DOC.read_text(encoding="utf-8")
        missing = [line for line in rules.fields_markdown().splitlines() if line not in document]
        assert missing == [], "docs/research-export.md differs from FIELDS:\n" + "\n".join(missing)

    def test_the_document_explains_every_treatment(self) -> None:
        document = DOC.read_text(encoding="utf-8")
        for treatment in Treatment:
            assert f"**{treatment}**" in document, treatment

    def test_the_readme_describes_every_column(self) -> None:
        text = rules.readme(export_id="x", fingerprint="f", study_key_given=False, max_days=182)
        for table in rules.TABLES:
            assert f"{table}.csv" in text
            for column in rules.columns(table):
                assert f"  {column} (" in text
