"""The catalogue kapcare ships with (clinical-facts §1.3 and §4). Every number here is a default
the practice may change on the catalogue page, and says where it comes from.

Minimum adequate daily dose: the "initial target (minimum therapeutic) dose" of the Ottawa /
eMentalHealth table, as the fact sheet recommends. The MGH-ATRQ per-drug table could not be
obtained (it is licensed), so kapcare does not claim ATRQ-conformant adequacy. Where the table has
no figure (the tricyclics), the lower end of UpToDate's usual range is used and marked uncertain.
Antidepressants the fact sheet gives no dose for ship with no minimum: no trial of them counts as
adequate until the practice enters one with its source.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from typing import Any

OTTAWA = "Ottawa/eMentalHealth initial target dose (clinical-facts §1.3)"
UPTODATE_LOWER = (
    "Lower end of UpToDate usual range; uncertain, TCA adequacy is often judged by plasma level "
    "(clinical-facts §1.3)"
)


@dataclass(frozen=True)
class Seed:
    name: str
    kind: str
    antidepressant_class: str = ""
    min_dose: str | None = None
    min_dose_source: str = ""
    usual_max: str | None = None
    categories: tuple[str, ...] = ()
    other_names: str = ""
    lorazepam_equivalent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _ad(
    name: str,
    klass: str,
    min_dose: str | None,
    usual_max: str | None,
    source: str = OTTAWA,
    categories: tuple[str, ...] = (),
    other_names: str = "",
) -> Seed:
    return Seed(
        name=name,
        kind="antidepressant",
        antidepressant_class=klass,
        min_dose=min_dose,
        min_dose_source=source if min_dose else "",
        usual_max=usual_max,
        categories=categories,
        other_names=other_names,
    )


def _other(
    name: str, *categories: str, kind: str = "other", other_names: str = "", lorazepam: str = ""
) -> Seed:
    return Seed(
        name=name,
        kind=kind,
        categories=categories,
        other_names=other_names,
        lorazepam_equivalent=lorazepam or None,
    )


SEED: tuple[Seed, ...] = (
    # Antidepressants with a minimum dose in clinical-facts §1.3; the usual maximum is the top of
    # the widest usual range given there.
    _ad("Sertraline", "ssri", "50", "200", other_names="Zoloft"),
    _ad("Fluoxetine", "ssri", "20", "60", other_names="Prozac"),
    _ad("Escitalopram", "ssri", "10", "20", other_names="Lexapro, Cipralex"),
    _ad("Citalopram", "ssri", "20", "40", other_names="Celexa"),
    _ad("Paroxetine", "ssri", "20", "50", other_names="Paxil"),
    _ad("Venlafaxine", "snri", "75", "375", other_names="Effexor"),
    _ad("Duloxetine", "snri", "60", "120", other_names="Cymbalta"),
    _ad("Bupropion", "atypical", "300", "450", other_names="Wellbutrin"),
    _ad("Mirtazapine", "atypical", "30", "45", other_names="Remeron"),
    _ad("Vortioxetine", "modulator", "10", "20", other_names="Trintellix, Brintellix"),
    _ad("Nortriptyline", "tca", "50", "150", source=UPTODATE_LOWER, other_names="Pamelor"),
    _ad("Amitriptyline", "tca", "150", "300", source=UPTODATE_LOWER, other_names="Elavil"),
    # Antidepressants without a dose in the fact sheet: the practice enters one with its source.
    _ad("Desvenlafaxine", "snri", None, None, other_names="Pristiq"),
    _ad("Levomilnacipran", "snri", None, None, other_names="Fetzima"),
    _ad("Fluvoxamine", "ssri", None, None, other_names="Luvox"),
    _ad("Imipramine", "tca", None, None, other_names="Tofranil"),
    _ad("Clomipramine", "tca", None, None, other_names="Anafranil"),
    _ad("Desipramine", "tca", None, None, other_names="Norpramin"),
    _ad("Phenelzine", "maoi", None, None, categories=("maoi",), other_names="Nardil"),
    _ad("Tranylcypromine", "maoi", None, None, categories=("maoi",), other_names="Parnate"),
    _ad("Isocarboxazid", "maoi", None, None, categories=("maoi",), other_names="Marplan"),
    _ad("Selegiline (transdermal)", "maoi", None, None, categories=("maoi",), other_names="Emsam"),
    _ad("Trazodone", "modulator", None, None, other_names="Desyrel"),
    _ad("Vilazodone", "modulator", None, None, other_names="Viibryd"),
    # Augmenting agents (counted for the Maudsley staging, not as antidepressant trials).
    _other("Lithium", kind="augmenting"),
    _other("Aripiprazole", kind="augmenting", other_names="Abilify"),
    _other("Brexpiprazole", kind="augmenting", other_names="Rexulti"),
    _other("Quetiapine", kind="augmenting", other_names="Seroquel"),
    _other("Olanzapine/fluoxetine", kind="augmenting", other_names="Symbyax"),
    _other("Liothyronine (T3)", "thyroid_hormone", kind="augmenting", other_names="Cytomel"),
    # Other drugs with interaction categories (clinical-facts §4).
    _other("Lorazepam", "benzodiazepine", other_names="Ativan", lorazepam="1"),
    _other("Alprazolam", "benzodiazepine", other_names="Xanax"),
    _other("Clonazepam", "benzodiazepine", other_names="Klonopin, Rivotril"),
    _other("Diazepam", "benzodiazepine", other_names="Valium"),
    _other("Temazepam", "benzodiazepine", other_names="Restoril"),
    _other("Zolpidem", "benzodiazepine", other_names="Ambien"),
    _other("Eszopiclone", "benzodiazepine", other_names="Lunesta"),
    _other("Zopiclone", "benzodiazepine", other_names="Imovane"),
    _other("Oxycodone", "opioid", other_names="OxyContin, Percocet"),
    _other("Hydrocodone", "opioid", other_names="Vicodin, Norco"),
    _other("Morphine", "opioid"),
    _other("Codeine", "opioid"),
    _other("Tramadol", "opioid", other_names="Ultram"),
    _other("Methadone", "opioid"),
    _other("Buprenorphine", "opioid", other_names="Suboxone, Subutex"),
    _other("Fentanyl", "opioid"),
    _other("Diphenhydramine", "cns_depressant", other_names="Benadryl"),
    _other("Doxylamine", "cns_depressant", other_names="Unisom"),
    _other("Hydroxyzine", "cns_depressant", other_names="Vistaril, Atarax"),
    _other("Promethazine", "cns_depressant", other_names="Phenergan"),
    _other("Chlorpromazine", "cns_depressant", other_names="Thorazine"),
    _other("Amphetamine/dextroamphetamine", "psychostimulant", other_names="Adderall"),
    _other("Lisdexamfetamine", "psychostimulant", other_names="Vyvanse"),
    _other("Methylphenidate", "psychostimulant", other_names="Ritalin, Concerta"),
    _other("Dexmethylphenidate", "psychostimulant", other_names="Focalin"),
    _other("Modafinil", "psychostimulant", other_names="Provigil"),
    _other("Armodafinil", "psychostimulant", other_names="Nuvigil"),
    _other("Lamotrigine", "lamotrigine", other_names="Lamictal"),
    _other("Naltrexone", "naltrexone", other_names="Revia, Vivitrol"),
    _other("Theophylline", "theophylline"),
    _other("Aminophylline", "theophylline"),
    _other("Pseudoephedrine", "sympathomimetic", other_names="Sudafed"),
    _other("Phenylephrine", "sympathomimetic"),
    _other("Ephedrine", "sympathomimetic"),
    _other("Levothyroxine", "thyroid_hormone", other_names="Synthroid"),
    _other("Clarithromycin", "cyp3a4_inhibitor", other_names="Biaxin"),
    _other("Ketoconazole", "cyp3a4_inhibitor"),
    _other("Itraconazole", "cyp3a4_inhibitor", other_names="Sporanox"),
    _other("Ritonavir", "cyp3a4_inhibitor", other_names="Norvir, Paxlovid"),
    _other("Rifampicin", "cyp3a4_inducer", other_names="Rifampin, Rifadin"),
    _other("Carbamazepine", "cyp3a4_inducer", other_names="Tegretol"),
    _other("Phenytoin", "cyp3a4_inducer", other_names="Dilantin"),
    _other("St John's wort", "cyp3a4_inducer", other_names="Hypericum"),
    _other("Memantine", "memantine", other_names="Namenda"),
    _other("Amlodipine", "antihypertensive", other_names="Norvasc"),
    _other("Lisinopril", "antihypertensive", other_names="Zestril"),
    _other("Losartan", "antihypertensive", other_names="Cozaar"),
    _other("Metoprolol", "antihypertensive", other_names="Lopressor, Toprol"),
    _other("Hydrochlorothiazide", "antihypertensive"),
)


def _decimal(value: str | None) -> decimal.Decimal | None:
    return None if value is None else decimal.Decimal(value)


def seed_catalogue() -> int:
    """Fill an empty catalogue with the defaults; a catalogue with any entry is left alone, so a
    drug a practice removed does not come back."""
    from kapcare.medications.models import Medication

    if Medication.objects.exists():
        return 0
    Medication.objects.bulk_create(
        Medication(
            name=seed.name,
            other_names=seed.other_names,
            kind=seed.kind,
            antidepressant_class=seed.antidepressant_class,
            min_adequate_daily_dose_mg=_decimal(seed.min_dose),
            min_dose_source=seed.min_dose_source,
            usual_max_daily_dose_mg=_decimal(seed.usual_max),
            interaction_categories=list(seed.categories),
            lorazepam_equivalent_mg=_decimal(seed.lorazepam_equivalent),
        )
        for seed in SEED
    )
    return len(SEED)


def seed_catalogue_after_migrate(**kwargs: Any) -> None:
    seed_catalogue()
