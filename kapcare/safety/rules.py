"""Which scoring flags raise a safety flag, and how severe it is (clinical-facts §6.1)."""

from __future__ import annotations

from kapcare.measures import rules as scoring
from kapcare.safety.models import Severity

# PHQ-9 item 9, QIDS item 12, BDI-II item 9 or MADRS item 10 above 0: "requires immediate
# clinical evaluation for any positive response, regardless of total score" - a same-day review.
# C-SSRS screener moderate and high keep their own level. An unanswered suicide item is reviewed.
SEVERITY_FOR_FLAG: dict[str, Severity] = {
    scoring.SUICIDE_ITEM_POSITIVE: Severity.REVIEW,
    scoring.SUICIDE_ITEM_MISSING: Severity.REVIEW,
    scoring.CSSRS_RISK_FLAGS["moderate"]: Severity.MODERATE,
    scoring.CSSRS_RISK_FLAGS["high"]: Severity.HIGH,
}
ORDER = [Severity.REVIEW, Severity.MODERATE, Severity.HIGH]


def severity_for(flags: list[str]) -> Severity | None:
    """The most severe safety flag these scoring flags call for, or None."""
    found = [SEVERITY_FOR_FLAG[flag] for flag in flags if flag in SEVERITY_FOR_FLAG]
    return max(found, key=ORDER.index) if found else None
