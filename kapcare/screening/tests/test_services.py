"""Screening writes: validation by field and rule with nothing half-saved, audit, the stored
screen results, prescriber decisions, and clearances withdrawn by later facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kapcare.clients.services import weight_record
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.measures.services import administration_record
from kapcare.medications.models import Medication
from kapcare.parameters.services import parameter_sign_off
from kapcare.safety.services import risk_assessment_record
from kapcare.screening import services
from kapcare.screening.models import (
    AntidepressantTrial,
    CurrentMedication,
    ScreeningDecision,
    ScreenRun,
)
from kapcare.screening.selectors import screening_for
from kapcare.screening.tests.helpers import CLEAN_ANSWERS, clear, make_eligible, trial_fields
from kapcare.testing.factories import make_staff
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


def counts() -> tuple[int, ...]:
    return (
        AntidepressantTrial.objects.count(),
        CurrentMedication.objects.count(),
        ScreeningDecision.objects.count(),
        ScreenRun.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call: Callable[[], object]) -> dict[str, list[str]]:
    """Run a service that must refuse; return {field: [rule codes]} and check nothing was saved."""
    before = counts()
    with pytest.raises(ValidationError) as raised:
        call()
    assert counts() == before
    return {
        field: [error.code for error in errors]  # type: ignore[misc]
        for field, errors in raised.value.error_dict.items()
    }


TODAY = practice_today


class TestHistory:
    def add(self, practice: Practice, **changes: object) -> Callable[[], object]:
        fields = trial_fields("Sertraline", "100", TODAY() - dt.timedelta(days=200), 8) | changes
        return lambda: services.history_save(
            actor=practice.therapist, client=practice.client, kind="trial", fields=fields
        )

    def test_a_trial_is_saved_audited_and_screened(self, practice: Practice) -> None:
        trial = self.add(practice)()
        event = AuditEvent.objects.get(action="screening.trial_add")
        assert event.subject_public_id == trial.public_id
        assert event.after["max_daily_dose_mg"] == "100.00"
        assert ScreenRun.objects.filter(client=practice.client).count() == 1

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"ended_on": TODAY() - dt.timedelta(days=300)}, "ended_on", "end_before_start"),
            (
                {
                    "started_on": TODAY() + dt.timedelta(days=1),
                    "ended_on": None,
                    "outcome": "ongoing",
                },
                "started_on",
                "future",
            ),
            ({"ended_on": TODAY() + dt.timedelta(days=3)}, "ended_on", "future"),
            ({"started_on": dt.date(1900, 1, 1)}, "started_on", "before_birth"),
            ({"medication": None}, "medication", "required"),
            ({"drug_text": "Sertraline generic"}, "drug_text", "both"),
            ({"max_daily_dose_mg": Decimal(700)}, "max_daily_dose_mg", "implausible_dose"),
            ({"max_daily_dose_mg": Decimal(0)}, "max_daily_dose_mg", "min_value"),
            ({"outcome": "ongoing"}, "outcome", "contradiction"),
            ({"adherence": "sometimes"}, "adherence", "invalid_choice"),
        ],
    )
    def test_bad_trials_are_refused_by_field_and_rule(
        self, practice: Practice, changes, field, rule
    ) -> None:
        errors = refused(self.add(practice, **changes))
        assert rule in errors[field]

    def test_a_non_antidepressant_is_refused_as_a_trial(self, practice: Practice) -> None:
        errors = refused(self.add(practice, medication=Medication.objects.get(name="Lithium")))
        assert errors == {"medication": ["not_antidepressant"]}

    def test_free_text_drugs_are_saved_but_never_adequate(self, practice: Practice) -> None:
        trial = self.add(practice, medication=None, drug_text="Agomelatine")()
        services.episode_start(
            actor=practice.therapist,
            client=practice.client,
            started_on=TODAY() - dt.timedelta(days=365),
        )
        assessment = screening_for(practice.client).trial_assessments[str(trial.public_id)]
        assert not assessment.adequate
        assert any("unverified" in reason for reason in assessment.reasons)

    def test_a_free_text_dose_above_the_ceiling_is_refused(self, practice: Practice) -> None:
        errors = refused(
            self.add(practice, medication=None, drug_text="X", max_daily_dose_mg=Decimal(6000))
        )
        assert errors == {"max_daily_dose_mg": ["implausible_dose"]}

    def test_front_desk_cannot_enter_clinical_history(self, practice: Practice) -> None:
        fields = trial_fields("Sertraline", "100", TODAY() - dt.timedelta(days=200), 8)
        errors = refused(
            lambda: services.history_save(
                actor=practice.front_desk, client=practice.client, kind="trial", fields=fields
            )
        )
        assert errors == {"started_on": ["not_clinician"]}

    def test_a_correction_is_audited_with_before_and_after(self, practice: Practice) -> None:
        trial = self.add(practice)()
        services.history_save(
            actor=practice.prescriber,
            client=practice.client,
            kind="trial",
            fields={"max_daily_dose_mg": Decimal(150)},
            item=trial,
        )
        event = AuditEvent.objects.get(action="screening.trial_correct")
        assert event.before == {"max_daily_dose_mg": "100.00"}
        assert event.after == {"max_daily_dose_mg": "150.00"}

    def test_removed_entries_stop_counting_and_cannot_be_edited(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        assert screening_for(practice.client).resistance.is_trd
        trial = AntidepressantTrial.objects.filter(client=practice.client).first()
        assert trial is not None
        services.history_remove(
            actor=practice.therapist,
            client=practice.client,
            kind="trial",
            item=trial,
            reason="Wrong client",
        )
        screening = screening_for(practice.client)
        assert not screening.resistance.is_trd
        assert trial not in screening.trials
        assert refused(
            lambda: services.history_save(
                actor=practice.therapist,
                client=practice.client,
                kind="trial",
                fields={},
                item=trial,
            )
        ) == {"started_on": ["not_editable"]}
        assert refused(
            lambda: services.history_remove(
                actor=practice.therapist,
                client=practice.client,
                kind="trial",
                item=trial,
                reason="x",
            )
        ) == {"reason": ["not_editable"]}

    def test_removal_needs_a_reason(self, practice: Practice) -> None:
        trial = self.add(practice)()
        assert refused(
            lambda: services.history_remove(
                actor=practice.therapist,
                client=practice.client,
                kind="trial",
                item=trial,
                reason=" ",
            )
        ) == {"reason": ["required"]}

    @pytest.mark.parametrize(
        ("kind", "fields"),
        [
            (
                "augmentation",
                {"medication": None, "agent_text": "Pramipexole", "outcome": "partial_response"},
            ),
            ("ect", {"laterality": "bilateral", "sessions": 12, "outcome": "non_response"}),
            ("psychotherapy", {"modality": "CBT", "sessions": 16, "outcome": "Some benefit"}),
        ],
    )
    def test_other_history(self, practice: Practice, kind: str, fields: dict) -> None:
        start = TODAY() - dt.timedelta(days=100)
        item = services.history_save(
            actor=practice.therapist,
            client=practice.client,
            kind=kind,
            fields=fields
            | {"started_on": start, "ended_on": start + dt.timedelta(days=30), "note": ""},
        )
        assert AuditEvent.objects.filter(
            action=f"screening.{kind}_add", subject_public_id=item.public_id
        ).exists()

    def test_augmentation_and_ect_in_the_episode_add_to_the_msm(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        administration_record(
            actor=practice.therapist,
            client=practice.client,
            instrument="phq9",
            answers={f"q{n}": 2 for n in range(1, 10)} | {"q9": 0},
        )
        before = screening_for(practice.client).msm
        start = TODAY() - dt.timedelta(days=60)
        for kind, fields in (
            (
                "augmentation",
                {
                    "medication": Medication.objects.get(name="Aripiprazole"),
                    "agent_text": "",
                    "outcome": "non_response",
                },
            ),
            ("ect", {"laterality": "bilateral", "outcome": "non_response"}),
        ):
            services.history_save(
                actor=practice.therapist,
                client=practice.client,
                kind=kind,
                fields=fields | {"started_on": start, "ended_on": start + dt.timedelta(days=20)},
            )
        after = screening_for(practice.client).msm
        assert before.total is not None
        assert after.total == before.total + 2


class TestMedicationsAndBloodPressure:
    def fields(self, **changes: object) -> dict:
        return {
            "medication": Medication.objects.get(name="Lorazepam"),
            "drug_text": "",
            "dose_amount": Decimal(1),
            "dose_unit": "mg",
            "frequency": "twice_daily",
            "started_on": None,
            "note": "",
        } | changes

    def test_add_and_stop(self, practice: Practice) -> None:
        item = services.medication_add(
            actor=practice.nurse, client=practice.client, fields=self.fields()
        )
        assert item.daily_mg == Decimal(2)
        assert "interaction.benzodiazepine" in {
            f.code for f in screening_for(practice.client).result.findings
        }
        services.medication_stop(
            actor=practice.nurse,
            client=practice.client,
            item=item,
            stopped_on=TODAY(),
            reason="Tapered off",
        )
        assert "interaction.benzodiazepine" not in {
            f.code for f in screening_for(practice.client).result.findings
        }
        assert AuditEvent.objects.filter(action="screening.medication_stop").count() == 1

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"medication": None}, "medication", "required"),
            ({"dose_amount": Decimal(0)}, "dose_amount", "min_value"),
            (
                {"medication": "Sertraline", "dose_amount": Decimal(5000)},
                "dose_amount",
                "implausible_dose",
            ),
            ({"frequency": "hourly"}, "frequency", "invalid_choice"),
            ({"started_on": dt.date(2999, 1, 1)}, "started_on", "future"),
        ],
    )
    def test_bad_medications_are_refused(self, practice: Practice, changes, field, rule) -> None:
        if isinstance(changes.get("medication"), str):
            changes["medication"] = Medication.objects.get(name=changes["medication"])
        errors = refused(
            lambda: services.medication_add(
                actor=practice.nurse, client=practice.client, fields=self.fields(**changes)
            )
        )
        assert rule in errors[field]

    def test_stopping_twice_or_in_the_future_is_refused(self, practice: Practice) -> None:
        item = services.medication_add(
            actor=practice.nurse, client=practice.client, fields=self.fields()
        )
        assert refused(
            lambda: services.medication_stop(
                actor=practice.nurse,
                client=practice.client,
                item=item,
                stopped_on=TODAY() + dt.timedelta(days=1),
                reason="x",
            )
        ) == {"stopped_on": ["future"]}
        services.medication_stop(
            actor=practice.nurse, client=practice.client, item=item, stopped_on=TODAY(), reason="x"
        )
        assert refused(
            lambda: services.medication_stop(
                actor=practice.nurse,
                client=practice.client,
                item=item,
                stopped_on=TODAY(),
                reason="x",
            )
        ) == {"stopped_on": ["stopped"]}

    @pytest.mark.parametrize(
        ("systolic", "diastolic", "heart_rate", "field", "rule"),
        [
            (40, 30, None, "systolic", "out_of_range"),
            (120, 10, None, "diastolic", "out_of_range"),
            (120, 80, 300, "heart_rate", "out_of_range"),
            (90, 95, None, "diastolic", "diastolic_above_systolic"),
        ],
    )
    def test_implausible_blood_pressure_is_refused(
        self, practice: Practice, systolic, diastolic, heart_rate, field, rule
    ) -> None:
        errors = refused(
            lambda: services.bp_record(
                actor=practice.nurse,
                client=practice.client,
                systolic=systolic,
                diastolic=diastolic,
                heart_rate=heart_rate,
            )
        )
        assert errors[field] == [rule]


class TestAnswers:
    def test_contradictory_answers_save_nothing(self, practice: Practice) -> None:
        errors = refused(
            lambda: services.answers_save(
                actor=practice.therapist,
                client=practice.client,
                answers=CLEAN_ANSWERS | {"mania_current": "yes"},
            )
        )
        assert errors == {"bipolar": ["invalid_answer"]}
        assert (
            not hasattr(practice.client, "screening_answers")
            or not practice.client.screening_answers.answers
        )

    def test_changes_are_audited_key_by_key(self, practice: Practice) -> None:
        services.answers_save(
            actor=practice.therapist, client=practice.client, answers=CLEAN_ANSWERS
        )
        services.answers_save(
            actor=practice.therapist,
            client=practice.client,
            answers=CLEAN_ANSWERS | {"bipolar": "yes", "height_cm": ""},
        )
        event = AuditEvent.objects.filter(action="screening.answers").first()
        assert event is not None
        assert event.before == {"bipolar": "no", "height_cm": "175"}
        assert event.after == {"bipolar": "yes", "height_cm": None}


class TestDecisions:
    def test_only_a_prescriber_decides(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        for person in (practice.therapist, practice.nurse, practice.front_desk, practice.admin):
            errors = refused(
                lambda person=person: services.decision_record(
                    actor=person,
                    client=practice.client,
                    decision="cleared",
                    note="ok",
                    seen_signature=screening_for(practice.client).result.signature(),
                )
            )
            assert errors == {"decision": ["not_prescriber"]}

    def test_a_clearance_is_versioned_and_audited(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        first = clear(practice.client, practice.prescriber)
        second = clear(practice.client, practice.prescriber, "cleared_with_conditions")
        assert (first.version, second.version) == (1, 2)
        assert second.screen_run.status == "eligible"
        assert screening_for(practice.client).clearance_valid
        event = AuditEvent.objects.filter(action="screening.decision").first()
        assert event is not None
        assert event.after["decision"] == "cleared_with_conditions"
        assert event.actor == practice.prescriber

    @pytest.mark.parametrize(
        ("decision", "note", "conditions", "field", "rule"),
        [
            ("maybe", "x", "", "decision", "invalid_choice"),
            ("cleared", " ", "", "note", "required"),
            ("cleared_with_conditions", "x", "", "conditions", "required"),
            ("cleared", "x", "Only with escort", "conditions", "contradiction"),
        ],
    )
    def test_bad_decisions(
        self, practice: Practice, decision, note, conditions, field, rule
    ) -> None:
        make_eligible(practice.client, practice.therapist)
        errors = refused(
            lambda: services.decision_record(
                actor=practice.prescriber,
                client=practice.client,
                decision=decision,
                note=note,
                conditions=conditions,
                seen_signature=screening_for(practice.client).result.signature(),
            )
        )
        assert errors[field] == [rule]

    def test_a_screen_that_changed_since_it_was_seen_is_refused(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        seen = screening_for(practice.client).result.signature()
        services.bp_record(actor=practice.nurse, client=practice.client, systolic=160, diastolic=80)
        errors = refused(
            lambda: services.decision_record(
                actor=practice.prescriber,
                client=practice.client,
                decision="cleared",
                note="x",
                seen_signature=seen,
            )
        )
        assert errors == {"decision": ["screen_changed"]}

    def test_absolute_findings_and_incomplete_screens_cannot_be_cleared_but_can_be_declined(
        self, practice: Practice
    ) -> None:
        services.bp_record(actor=practice.nurse, client=practice.client, systolic=120, diastolic=80)
        signature = screening_for(practice.client).result.signature()
        errors = refused(
            lambda: services.decision_record(
                actor=practice.prescriber,
                client=practice.client,
                decision="cleared",
                note="x",
                seen_signature=signature,
            )
        )
        assert errors == {"decision": ["incomplete"]}
        services.answers_save(
            actor=practice.therapist, client=practice.client, answers={"aneurysm_avm": "yes"}
        )
        signature = screening_for(practice.client).result.signature()
        errors = refused(
            lambda: services.decision_record(
                actor=practice.prescriber,
                client=practice.client,
                decision="cleared_with_conditions",
                note="x",
                conditions="y",
                seen_signature=signature,
            )
        )
        assert errors == {"decision": ["absolute_contraindication"]}
        declined = services.decision_record(
            actor=practice.prescriber,
            client=practice.client,
            decision="not_cleared",
            note="Aneurysm: refer.",
            seen_signature=signature,
        )
        assert declined.screen_run.status == "not_eligible"

    def test_needs_review_can_be_cleared_by_the_prescriber(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        services.answers_save(
            actor=practice.therapist,
            client=practice.client,
            answers=CLEAN_ANSWERS | {"bipolar": "yes"},
        )
        assert screening_for(practice.client).result.status == "needs_review"
        assert clear(practice.client, practice.prescriber).screen_run.status == "needs_review"


class TestInvalidation:
    def cleared(self, practice: Practice) -> ScreeningDecision:
        make_eligible(practice.client, practice.therapist)
        return clear(practice.client, practice.prescriber)

    def assert_withdrawn(
        self, practice: Practice, decision: ScreeningDecision, mention: str
    ) -> None:
        decision.refresh_from_db()
        assert decision.invalidated_at is not None
        assert mention in decision.invalidation_reason
        assert not screening_for(practice.client).clearance_valid
        event = AuditEvent.objects.get(action="screening.clearance_invalidated")
        assert event.subject_public_id == decision.public_id

    def test_a_new_interacting_medication_withdraws_the_clearance(self, practice: Practice) -> None:
        decision = self.cleared(practice)
        services.medication_add(
            actor=practice.nurse,
            client=practice.client,
            fields={
                "medication": Medication.objects.get(name="Phenelzine"),
                "drug_text": "",
                "dose_amount": Decimal(15),
                "dose_unit": "mg",
                "frequency": "three_times_daily",
                "note": "",
            },
        )
        self.assert_withdrawn(practice, decision, "MAO inhibitors")

    def test_a_high_blood_pressure_reading_withdraws_the_clearance(
        self, practice: Practice
    ) -> None:
        decision = self.cleared(practice)
        services.bp_record(
            actor=practice.nurse, client=practice.client, systolic=186, diastolic=104
        )
        self.assert_withdrawn(practice, decision, "result Eligible → Not eligible")

    def test_a_new_diagnosis_withdraws_the_clearance(self, practice: Practice) -> None:
        decision = self.cleared(practice)
        services.answers_save(
            actor=practice.therapist,
            client=practice.client,
            answers=CLEAN_ANSWERS | {"bipolar": "yes"},
        )
        self.assert_withdrawn(practice, decision, "Bipolar disorder")

    def test_a_weight_that_moves_the_bmi_over_the_level_withdraws_it(
        self, practice: Practice
    ) -> None:
        decision = self.cleared(practice)
        weight_record(
            actor=practice.nurse,
            client=practice.client,
            measured_on=TODAY(),
            weight_kg=Decimal(120),
        )
        self.assert_withdrawn(practice, decision, "BMI above the review level")

    def test_a_high_risk_safety_flag_withdraws_it(self, practice: Practice) -> None:
        decision = self.cleared(practice)
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="cssrs_screener",
            answers={"q1": 1, "q2": 1, "q3": 0, "q4": 1, "q5": 0, "q6": 0},
        )
        self.assert_withdrawn(practice, decision, "High suicide risk")
        risk_assessment_record(
            actor=practice.therapist,
            client=practice.client,
            risk_level="low",
            actions="Safety plan",
            safety_plan="Reviewed",
        )
        # The flag is closed: the finding goes, but the withdrawn clearance stays withdrawn.
        assert "suicide_risk" not in {
            f.code for f in screening_for(practice.client).result.findings
        }
        decision.refresh_from_db()
        assert decision.invalidated_at is not None

    def test_a_change_that_moves_no_finding_keeps_the_clearance(self, practice: Practice) -> None:
        decision = self.cleared(practice)
        services.history_save(
            actor=practice.therapist,
            client=practice.client,
            kind="psychotherapy",
            fields={
                "modality": "IPT",
                "started_on": TODAY() - dt.timedelta(days=90),
                "ended_on": None,
                "outcome": "",
                "note": "",
            },
        )
        services.bp_record(actor=practice.nurse, client=practice.client, systolic=125, diastolic=80)
        decision.refresh_from_db()
        assert decision.invalidated_at is None
        assert screening_for(practice.client).clearance_valid

    def test_a_declined_decision_is_not_withdrawn(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        declined = clear(practice.client, practice.prescriber, "not_cleared")
        services.answers_save(
            actor=practice.therapist,
            client=practice.client,
            answers=CLEAN_ANSWERS | {"bipolar": "yes"},
        )
        declined.refresh_from_db()
        assert declined.invalidated_at is None

    def test_a_signed_off_parameter_rescreens_cleared_clients(self, practice: Practice) -> None:
        decision = self.cleared(practice)
        director = make_staff(prescriber=True, admin=True)
        for key in ("screen.bp_review_systolic", "screen.bp_review_systolic_over_65"):
            parameter_sign_off(
                actor=director,
                key=key,
                value="120",
                source="Clinic protocol v3",
                reason="Stricter hold",
            )
        # The sign-off queues the rescreen for the worker; run it here.
        assert services.rescreen_cleared(actor=None, trigger="parameter") == 1
        self.assert_withdrawn(practice, decision, "Blood pressure above the hold level")

    def test_time_alone_can_make_a_clearance_stale(self, practice: Practice) -> None:
        make_eligible(practice.client, practice.therapist)
        services.answers_save(
            actor=practice.therapist,
            client=practice.client,
            answers=CLEAN_ANSWERS
            | {"sud": "past", "sud_last_use": (TODAY() - dt.timedelta(days=40)).isoformat()},
        )
        clear(practice.client, practice.prescriber)
        assert screening_for(practice.client).clearance_valid
        later = screening_for(practice.client, today=TODAY() + dt.timedelta(days=90))
        assert not later.clearance_valid


@pytest.mark.django_db(transaction=True)
def test_the_worker_tells_the_prescribers_without_naming_the_client(
    practice: Practice, run_worker: Callable[..., None]
) -> None:
    make_eligible(practice.client, practice.therapist)
    clear(practice.client, practice.prescriber)
    mail.outbox.clear()
    services.bp_record(actor=practice.nurse, client=practice.client, systolic=190, diastolic=100)
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [practice.prescriber.email]
    body = message.subject + message.body
    link = f"/clients/{practice.client.public_id}/screening/"
    assert link in body
    # The link's random id may itself contain "190"; look for the reading everywhere else.
    rest = body.replace(link, " ")
    for private in (practice.client.legal_family_name, practice.client.legal_given_names, "190"):
        assert private not in rest


class TestTraumaProfile:
    def pcl5(self, practice: Practice, total: int) -> None:
        """Items 1-8 at 4 (32 points), the rest of the total on item 9."""
        answers = {f"q{n}": 0 for n in range(1, 21)} | {f"q{n}": 4 for n in range(1, 9)}
        answers["q9"] = total - 32
        administration_record(
            actor=practice.therapist, client=practice.client, instrument="pcl5", answers=answers
        )

    def test_pcl5_at_the_cutpoint_marks_the_plan_trauma_focused(self, practice: Practice) -> None:
        assert not screening_for(practice.client).trauma.trauma_focused
        self.pcl5(practice, 32)
        trauma = screening_for(practice.client).trauma
        assert (trauma.pcl5_total, trauma.trauma_focused) == (32, False)
        self.pcl5(practice, 33)
        trauma = screening_for(practice.client).trauma
        assert (trauma.pcl5_total, trauma.trauma_focused) == (33, True)
        assert trauma.pcl5_provisional_ptsd is False  # cluster D has one endorsed item of two

    def test_the_cutpoint_is_a_parameter_and_ace_drives_nothing(self, practice: Practice) -> None:
        self.pcl5(practice, 32)
        administration_record(
            actor=practice.therapist,
            client=practice.client,
            instrument="ace",
            answers={f"q{n}": 1 for n in range(1, 11)},
        )
        director = make_staff(prescriber=True, admin=True)
        parameter_sign_off(
            actor=director,
            key="trauma.pcl5_cutpoint",
            value="31",
            source="Blevins 2015",
            reason="Screening sensitivity",
        )
        trauma = screening_for(practice.client).trauma
        assert trauma.ace_total == 10
        assert trauma.cutpoint == 31
        assert trauma.trauma_focused
        http_body = (
            signed_in(practice.therapist)
            .get(f"/clients/{practice.client.public_id}/")
            .content.decode()
        )
        assert "Trauma-focused" in http_body


@pytest.mark.django_db(transaction=True)
def test_a_parameter_sign_off_rescreens_through_the_real_worker(
    practice: Practice, run_worker: Callable[..., None]
) -> None:
    make_eligible(practice.client, practice.therapist)
    decision = clear(practice.client, practice.prescriber)
    director = make_staff(prescriber=True, admin=True)
    mail.outbox.clear()
    parameter_sign_off(
        actor=director,
        key="class.interaction.antihypertensive",
        value="relative",
        source="Clinic",
        reason="Policy",
    )
    decision.refresh_from_db()
    assert decision.invalidated_at is None  # nothing on this client's list is an antihypertensive
    for key in ("screen.bp_review_systolic", "screen.bp_review_systolic_over_65"):
        parameter_sign_off(
            actor=director, key=key, value="115", source="Clinic protocol", reason="Stricter"
        )
    run_worker(tasks=3)  # three rescreens; the withdrawal queues the e-mail
    decision.refresh_from_db()
    assert decision.invalidated_at is not None
    event = AuditEvent.objects.get(action="screening.clearance_invalidated")
    assert event.channel == "worker"
    run_worker(tasks=1)
    assert len(mail.outbox) == 1
