"""Interaction categories for drugs a client takes alongside ketamine (clinical-facts §4).

A catalogue entry lists the categories it belongs to; the screen (kapcare.screening.rules) turns
each category found on the current medication list into a finding. The finding's class (absolute,
relative, prompt) is a signed-off parameter (kapcare.screening.parameters); the effect text and
the source here are what the prescriber sees.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InteractionCategory:
    code: str
    label: str
    effect: str
    source: str
    default_class: str  # "absolute" | "relative" | "prompt"


CATEGORIES: tuple[InteractionCategory, ...] = (
    InteractionCategory(
        "benzodiazepine",
        "Benzodiazepines and z-drugs",
        "More sedation and respiratory depression, slower recovery; higher doses may blunt the "
        "antidepressant effect (evidence mixed; many protocols hold the dose before a session).",
        "Spravato label §7; ketamine SmPC; Andrashko 2020; Feeney 2023 (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "opioid",
        "Opioids",
        "More sedation and respiratory depression; prolonged recovery.",
        "Spravato label §7; ketamine SmPC (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "cns_depressant",
        "Other CNS depressants (sedative-hypnotics, sedating antihistamines, phenothiazines)",
        "More sedation and respiratory depression; closely monitor for sedation.",
        "Spravato label §7; ketamine SmPC (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "psychostimulant",
        "Psychostimulants",
        "Blood pressure rises further; closely monitor blood pressure.",
        "Spravato label (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "maoi",
        "MAO inhibitors",
        "Blood pressure rises further (a case reached 200/99 at 2 h); closely monitor blood "
        "pressure.",
        "Spravato label; J&J medical information on MAOIs (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "lamotrigine",
        "Lamotrigine",
        "Reduces dissociative and perceptual effects; any effect on antidepressant response is "
        "unknown.",
        "Anand 2000 (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "naltrexone",
        "Naltrexone",
        "Possible attenuation of the antidepressant effect (one small crossover study; contested).",
        "Williams 2018, Am J Psychiatry (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "theophylline",
        "Theophylline / aminophylline",
        "Lowers the seizure threshold; unpredictable extensor-type seizures reported.",
        "Ketamine SmPCs (MIMS Ketamax, Swiss) (clinical-facts §4)",
        "relative",
    ),
    InteractionCategory(
        "sympathomimetic",
        "Sympathomimetics and vasopressin",
        "Potentiate ketamine's sympathomimetic effects: hypertension, tachycardia.",
        "Ketamine SmPCs (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "thyroid_hormone",
        "Thyroid hormones",
        "Potentiate ketamine's sympathomimetic effects: hypertension, tachycardia.",
        "Ketamine SmPCs (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "cyp3a4_inhibitor",
        "CYP3A4 inhibitors",
        "Raise ketamine exposure; the dose may need adjusting.",
        "Ketamine SmPCs (rxreasoner, MIMS) (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "cyp3a4_inducer",
        "CYP3A4 inducers",
        "Lower ketamine exposure; the dose may need adjusting.",
        "Ketamine SmPCs (rxreasoner, MIMS) (clinical-facts §4)",
        "prompt",
    ),
    InteractionCategory(
        "memantine",
        "Memantine",
        "Higher risk of CNS toxicity; the manufacturer advises avoiding the combination.",
        "pharmamedix (secondary source) (clinical-facts §4)",
        "relative",
    ),
    InteractionCategory(
        "antihypertensive",
        "Antihypertensives",
        "Risk of hypotension (anaesthetic context); in esketamine trials usual antihypertensives "
        "were continued, morning dose before dosing.",
        "MIMS; J&J medical information (clinical-facts §4)",
        "prompt",
    ),
)

BY_CODE = {category.code: category for category in CATEGORIES}
CHOICES = tuple((category.code, category.label) for category in CATEGORIES)
