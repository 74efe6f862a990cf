"""Rule parameters: parsing within their bounds, versioned sign-off by the medical director only,
the values in force, and the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.parameters import registry
from kapcare.parameters.models import ParameterVersion
from kapcare.parameters.selectors import settings_for
from kapcare.parameters.services import can_sign_off, parameter_sign_off
from kapcare.screening.parameters import ALL_KEYS, FINDING_RULES
from kapcare.testing.factories import make_staff
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

BP = "screen.bp_review_systolic"


@pytest.fixture
def director(db: None):
    return make_staff(prescriber=True, admin=True)


class TestRegistry:
    @pytest.mark.parametrize(
        ("raw", "parsed"),
        [("140", 140), (" 150 ", 150), ("110", 110), ("180", 180), ("1.5e2", 150)],
    )
    def test_whole_numbers_within_bounds(self, raw: str, parsed: int) -> None:
        assert registry.get(BP).parse(raw) == parsed

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("109", "Must be at least 110 mmHg."),
            ("181", "Must be at most 180 mmHg."),
            ("140.5", "Enter a whole number."),
            ("high", "Enter a number."),
            ("nan", "Enter a number."),
        ],
    )
    def test_bad_numbers(self, raw: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            registry.get(BP).parse(raw)

    def test_decimals_and_choices(self) -> None:
        assert registry.get("screen.bmi_above").parse("37.50") == "37.5"
        assert registry.get("class.bipolar").parse("absolute") == "absolute"
        with pytest.raises(ValueError, match=r"Choose one of: absolute, relative, prompt\."):
            registry.get("class.bipolar").parse("never")

    def test_every_default_parses_and_names_a_source(self) -> None:
        for parameter in registry.all_parameters():
            assert (
                parameter.parse(parameter.default) == parameter.default
                or parameter.kind == "decimal"
            )
            assert parameter.source
            assert parameter.evidence

    def test_every_finding_rule_has_a_class_parameter(self) -> None:
        keys = set(ALL_KEYS)
        for code in FINDING_RULES:
            assert f"class.{code}" in keys
        assert {p.key for p in registry.all_parameters()} >= keys

    def test_a_key_cannot_be_defined_twice_differently(self) -> None:
        parameter = registry.get(BP)
        registry.define(parameter)  # the same definition again is harmless
        with pytest.raises(ValueError, match="defined twice"):
            registry.define(registry.Parameter(**{**parameter.__dict__, "default": 150}))


class TestSignOff:
    def test_only_a_practice_admin_who_is_a_prescriber_signs_off(
        self, practice: Practice, director
    ) -> None:
        assert can_sign_off(director)
        for person in (practice.prescriber, practice.admin, practice.therapist):
            assert not can_sign_off(person)
            with pytest.raises(PermissionError):
                parameter_sign_off(actor=person, key=BP, value="130", source="x", reason="y")
        assert not ParameterVersion.objects.exists()

    def test_versions_count_up_and_the_latest_is_in_force(self, director) -> None:
        assert settings_for([BP])[BP].is_default
        assert settings_for([BP])[BP].value == 140
        parameter_sign_off(
            actor=director,
            key=BP,
            value="130",
            source="Clinic protocol 2026",
            reason="Older clients",
        )
        second = parameter_sign_off(
            actor=director, key=BP, value="135", source="Clinic protocol 2026b", reason="Review"
        )
        assert second.version == 2
        setting = settings_for([BP])[BP]
        assert (setting.value, setting.version, setting.source) == (135, 2, "Clinic protocol 2026b")
        assert setting.signed_off_by == str(director)
        event = AuditEvent.objects.filter(action="parameter.sign_off").first()
        assert event is not None
        assert event.after == {
            "key": BP,
            "version": 2,
            "value": 135,
            "source": "Clinic protocol 2026b",
        }

    def test_signed_off_versions_never_change(self, director) -> None:
        row = parameter_sign_off(actor=director, key=BP, value="130", source="x", reason="y")
        row.value = 120
        with pytest.raises(PermissionError):
            row.save()

    @pytest.mark.parametrize(
        ("value", "source", "reason", "errors"),
        [
            ("200", "x", "y", {"value": ["out_of_range"]}),
            ("130", " ", "y", {"source": ["required"]}),
            ("130", "x", "", {"reason": ["required"]}),
            (
                "abc",
                "",
                "",
                {"value": ["out_of_range"], "source": ["required"], "reason": ["required"]},
            ),
        ],
    )
    def test_bad_sign_offs_save_nothing(self, director, value, source, reason, errors) -> None:
        before = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as raised:
            parameter_sign_off(actor=director, key=BP, value=value, source=source, reason=reason)
        assert {k: [e.code for e in v] for k, v in raised.value.error_dict.items()} == errors
        assert not ParameterVersion.objects.exists()
        assert AuditEvent.objects.count() == before

    def test_an_unknown_key(self, director) -> None:
        with pytest.raises(ValidationError):
            parameter_sign_off(actor=director, key="no.such", value="1", source="x", reason="y")

    def test_decimal_values_round_trip(self, director) -> None:
        parameter_sign_off(
            actor=director, key="screen.bmi_above", value="40", source="x", reason="y"
        )
        assert Decimal(str(settings_for(["screen.bmi_above"])["screen.bmi_above"].value)) == 40


class TestPages:
    def test_every_staff_member_reads_the_table(self, practice: Practice) -> None:
        body = signed_in(practice.therapist).get("/parameters/").content.decode()
        assert "Adequate trial: minimum duration" in body
        assert "MGH-ATRQ" in body
        detail = signed_in(practice.therapist).get(f"/parameters/{BP}/")
        assert detail.status_code == 200
        assert b"Sign off a new value" not in detail.content

    def test_unknown_parameter_is_404(self, practice: Practice) -> None:
        assert signed_in(practice.therapist).get("/parameters/no.such/").status_code == 404

    def test_only_the_director_posts(self, practice: Practice, director) -> None:
        data = {"value": "130", "source": "Protocol", "reason": "Policy"}
        assert signed_in(practice.prescriber).post(f"/parameters/{BP}/", data).status_code == 403
        http = signed_in(director)
        assert b"Sign off a new value" in http.get(f"/parameters/{BP}/").content
        bad = http.post(f"/parameters/{BP}/", data | {"value": "300"})
        assert bad.status_code == 400
        assert b"Must be at most 180 mmHg." in bad.content
        assert http.post(f"/parameters/{BP}/", data).status_code == 302
        assert settings_for([BP])[BP].value == 130
