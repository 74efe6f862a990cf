"""The medication catalogue: the shipped defaults match the fact sheet, and admins' edits are
validated and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.medications.interactions import BY_CODE, CATEGORIES
from kapcare.medications.models import Medication
from kapcare.medications.seed import SEED, seed_catalogue
from kapcare.medications.services import medication_save
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

# clinical-facts §1.3, Ottawa/eMentalHealth initial target doses.
FACT_SHEET_MINIMUMS = {
    "Sertraline": 50,
    "Fluoxetine": 20,
    "Escitalopram": 10,
    "Citalopram": 20,
    "Paroxetine": 20,
    "Venlafaxine": 75,
    "Duloxetine": 60,
    "Bupropion": 300,
    "Mirtazapine": 30,
    "Vortioxetine": 10,
}


@pytest.mark.django_db
class TestSeed:
    def test_minimum_doses_are_the_fact_sheet_values_with_their_source(self) -> None:
        for name, dose in FACT_SHEET_MINIMUMS.items():
            drug = Medication.objects.get(name=name)
            assert drug.min_adequate_daily_dose_mg == dose
            assert "Ottawa" in drug.min_dose_source

    def test_tricyclics_are_marked_uncertain_and_undocumented_drugs_have_no_minimum(self) -> None:
        assert "uncertain" in Medication.objects.get(name="Nortriptyline").min_dose_source
        for name in ("Phenelzine", "Imipramine", "Desvenlafaxine"):
            assert Medication.objects.get(name=name).min_adequate_daily_dose_mg is None

    def test_every_antidepressant_has_a_class_and_every_category_a_drug(self) -> None:
        for drug in Medication.objects.filter(kind="antidepressant"):
            assert drug.antidepressant_class
        used = {code for drug in Medication.objects.all() for code in drug.interaction_categories}
        assert used == set(BY_CODE)
        assert all(seed.name for seed in SEED)

    def test_only_lorazepam_has_a_lorazepam_equivalent_by_default(self) -> None:
        assert list(
            Medication.objects.filter(lorazepam_equivalent_mg__isnull=False).values_list(
                "name", "lorazepam_equivalent_mg"
            )
        ) == [("Lorazepam", Decimal("1.00"))]

    def test_a_catalogue_with_entries_is_not_seeded_again(self) -> None:
        Medication.objects.filter(name="Sertraline").delete()
        assert seed_catalogue() == 0
        assert not Medication.objects.filter(name="Sertraline").exists()
        Medication.objects.all().delete()
        assert seed_catalogue() == len(SEED)


def fields(**changes: object) -> dict:
    return {
        "name": "Agomelatine",
        "other_names": "Valdoxan",
        "kind": "antidepressant",
        "antidepressant_class": "other",
        "min_adequate_daily_dose_mg": Decimal(25),
        "min_dose_source": "Practice formulary 2026",
        "usual_max_daily_dose_mg": Decimal(50),
        "interaction_categories": [],
        "lorazepam_equivalent_mg": None,
        "active": True,
    } | changes


class TestEdits:
    def test_an_admin_adds_and_changes_a_drug_with_audit(self, practice: Practice) -> None:
        drug = medication_save(actor=practice.admin, fields=fields())
        medication_save(
            actor=practice.admin,
            medication=drug,
            fields={"min_adequate_daily_dose_mg": Decimal(50)},
        )
        events = list(
            AuditEvent.objects.filter(subject_public_id=drug.public_id).order_by("at", "id")
        )
        assert [e.action for e in events] == ["medication.create", "medication.update"]
        assert events[1].before == {"min_adequate_daily_dose_mg": "25"}
        assert events[1].after == {"min_adequate_daily_dose_mg": "50"}

    def test_only_admins_edit(self, practice: Practice) -> None:
        with pytest.raises(PermissionError):
            medication_save(actor=practice.prescriber, fields=fields())

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"antidepressant_class": ""}, "antidepressant_class", "required"),
            (
                {"kind": "other", "antidepressant_class": ""},
                "min_adequate_daily_dose_mg",
                "not_antidepressant",
            ),
            ({"min_dose_source": ""}, "min_dose_source", "required"),
            ({"usual_max_daily_dose_mg": Decimal(10)}, "usual_max_daily_dose_mg", "range"),
            ({"min_adequate_daily_dose_mg": Decimal(0)}, "min_adequate_daily_dose_mg", "min_value"),
            ({"name": "sertraline"}, "name", "unique"),
            (
                {"interaction_categories": ["grapefruit"]},
                "interaction_categories",
                "invalid_choice",
            ),
        ],
    )
    def test_bad_entries_save_nothing(self, practice: Practice, changes, field, rule) -> None:
        count, events = Medication.objects.count(), AuditEvent.objects.count()
        with pytest.raises(ValidationError) as raised:
            medication_save(actor=practice.admin, fields=fields(**changes))
        assert rule in [e.code for e in raised.value.error_dict[field]]
        assert (Medication.objects.count(), AuditEvent.objects.count()) == (count, events)

    def test_pages(self, practice: Practice) -> None:
        body = signed_in(practice.nurse).get("/medications/").content.decode()
        assert "Sertraline" in body
        assert "not set" in body  # an antidepressant without a minimum dose says so
        sertraline = Medication.objects.get(name="Sertraline")
        assert (
            signed_in(practice.prescriber).get(f"/medications/{sertraline.public_id}/").status_code
            == 404
        )
        http = signed_in(practice.admin)
        data = {
            "name": "Sertraline",
            "kind": "antidepressant",
            "antidepressant_class": "ssri",
            "min_adequate_daily_dose_mg": "100",
            "min_dose_source": "Practice formulary",
            "usual_max_daily_dose_mg": "200",
            "interaction_categories": [CATEGORIES[0].code],
            "active": "on",
        }
        assert http.post(f"/medications/{sertraline.public_id}/", data).status_code == 302
        sertraline.refresh_from_db()
        assert sertraline.min_adequate_daily_dose_mg == 100
        assert sertraline.interaction_categories == [CATEGORIES[0].code]
        bad = http.post("/medications/new/", data | {"name": "SERTRALINE"})
        assert bad.status_code == 400
        assert b"The catalogue already has this drug." in bad.content
