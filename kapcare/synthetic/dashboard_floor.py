"""The floor for the program dashboard: every figure of `kapcare.outcomes.dashboard.dashboard` in
one hand-written SQL statement over the same per-course summary tables.

`kapcare bench dashboard` times it beside the real thing: what the database alone needs to
compute the figures is the least the dashboard can cost, so the ratio of the two says how much
the ORM, the separate queries and the Python around them add. It also checks that both give the
same figures, so the floor is a second, independent computation of the dashboard.

One statement, with common table expressions: the cohort (courses started in the period that
match the filters), its outcomes on the chosen instrument, then one row per figure group
(totals, judged outcomes with the median days to response, safety by category/kind/severity,
by protocol, by month) in a single UNION ALL with a shared column layout. PostgreSQL computes
the median with `percentile_cont`; SQLite, which has window functions but no percentiles, with
row numbers (the mean of the middle one or two values, which is what `percentile_cont(0.5)`
gives).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.db import connection

from kapcare.courses.protocols import PROTOCOLS
from kapcare.outcomes import dashboard, rules
from kapcare.outcomes.dashboard import (
    YES,
    Dashboard,
    Filters,
    Proportion,
    ProtocolRow,
    SafetyRow,
    Spread,
)
from kapcare.outcomes.models import CourseOutcome, CourseSafetyCount, CourseSummary

# Sections of the result, in the order the statement sorts them.
TOTALS, JUDGED, SAFETY, PROTOCOL, MONTH = 1, 2, 3, 4, 5

# Value columns n1..n13 (counts) and f1..f3 (floats) shared by every section.
COUNT_COLUMNS = 13
FLOAT_COLUMNS = 3

# The summed course counts, in the dashboard's order (n3..n13 of the totals section).
SUMMED = tuple(dashboard.SUMMED.values())


def _median_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return (
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_response) AS value "
            "FROM judged WHERE days_to_response IS NOT NULL"
        )
    return (
        "SELECT AVG(days_to_response) AS value FROM ("
        "SELECT days_to_response, ROW_NUMBER() OVER (ORDER BY days_to_response) AS rn, "
        "COUNT(*) OVER () AS n FROM judged WHERE days_to_response IS NOT NULL"
        ") ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2)"
    )


def _month_sql(vendor: str) -> str:
    """The month of the course's start as YYYYMM (sorts as text; no time zone involved)."""
    if vendor == "postgresql":
        return (
            "CAST(EXTRACT(YEAR FROM started_on) * 100 + EXTRACT(MONTH FROM started_on) AS integer)"
        )
    return "strftime('%%Y%%m', started_on)"


def _float(expression: str, vendor: str) -> str:
    return f"CAST({expression} AS {'double precision' if vendor == 'postgresql' else 'REAL'})"


def _select(
    section: int,
    keys: Sequence[str] = (),
    counts: Sequence[str] = (),
    floats: Sequence[str] = (),
    sort: str = "NULL",
    *,
    vendor: str,
) -> str:
    """One SELECT list in the shared layout: section, k1..k3, sort, n1..n13, f1..f3."""
    key_columns = [*keys, *(["NULL"] * (3 - len(keys)))]
    count_columns = [*counts, *(["NULL"] * (COUNT_COLUMNS - len(counts)))]
    float_columns = [*floats, *(["NULL"] * (FLOAT_COLUMNS - len(floats)))]
    # The first SELECT names the columns (and, on PostgreSQL, fixes their types).
    keys_sql = ", ".join(
        f"CAST({value} AS {'text' if vendor == 'postgresql' else 'TEXT'}) AS k{i}"
        for i, value in enumerate(key_columns, 1)
    )
    counts_sql = ", ".join(
        f"CAST({value} AS {'bigint' if vendor == 'postgresql' else 'INTEGER'}) AS n{i}"
        for i, value in enumerate(count_columns, 1)
    )
    floats_sql = ", ".join(
        _float(value, vendor) + f" AS f{i}" for i, value in enumerate(float_columns, 1)
    )
    sort_sql = f"CAST({sort} AS {'bigint' if vendor == 'postgresql' else 'INTEGER'}) AS sort"
    return f"SELECT {section} AS section, {keys_sql}, {sort_sql}, {counts_sql}, {floats_sql}"


def floor_sql(filters: Filters, vendor: str | None = None) -> tuple[str, list[Any]]:
    """The statement and its parameters for this cohort, for `vendor` (the connection's)."""
    vendor = vendor or connection.vendor
    summary = CourseSummary._meta.db_table
    outcome = CourseOutcome._meta.db_table
    safety = CourseSafetyCount._meta.db_table
    ops = connection.ops
    where = ["started_on >= %s", "started_on <= %s"]
    params: list[Any] = [
        ops.adapt_datefield_value(filters.start),
        ops.adapt_datefield_value(filters.end),
    ]
    if filters.protocol:
        where.append("protocol = %s")
        params.append(filters.protocol)
    if filters.route:
        where.append("route = %s")
        params.append(filters.route)
    if filters.clinician is not None:
        where.append("(therapist_id = %s OR prescriber_id = %s)")
        params += [filters.clinician, filters.clinician]
    if filters.location is not None:
        where.append("location_id = %s")
        params.append(filters.location)
    if filters.age_band:
        where.append("age_band = %s")
        params.append(filters.age_band)
    if filters.trauma_focused:
        where.append("trauma_focused = %s")
        params.append(filters.trauma_focused == YES)
    params.append(filters.instrument)

    def share(condition: str) -> str:
        return f"COUNT(*) FILTER (WHERE {condition})"

    totals = _select(
        TOTALS,
        counts=[
            "COUNT(*)",
            share("completed"),
            *(f"COALESCE(SUM({column}), 0)" for column in SUMMED),
        ],
        vendor=vendor,
    )
    judged = _select(
        JUDGED,
        counts=[
            share("responded IS NOT NULL"),
            share("responded"),
            share("remitted IS NOT NULL"),
            share("remitted"),
            share("kept_3_months IS NOT NULL"),
            share("kept_3_months"),
            share("kept_6_months IS NOT NULL"),
            share("kept_6_months"),
            share("relapsed IS NOT NULL"),
            share("relapsed"),
            "COUNT(change)",
            "COUNT(days_to_response)",
        ],
        floats=[
            f"AVG({_float('change', vendor)})",
            f"AVG({_float('change * change', vendor)})",
            "MAX(median.value)",
        ],
        vendor=vendor,
    )
    by_safety = _select(
        SAFETY,
        keys=["s.category", "s.kind", "s.severity"],
        counts=["SUM(s.count)"],
        sort="-SUM(s.count)",
        vendor=vendor,
    )
    by_protocol = _select(
        PROTOCOL,
        keys=["protocol"],
        counts=[
            "COUNT(*)",
            share("responded IS NOT NULL"),
            share("responded"),
            share("remitted IS NOT NULL"),
            share("remitted"),
        ],
        vendor=vendor,
    )
    by_month = _select(MONTH, keys=["month"], counts=["COUNT(*)"], vendor=vendor)
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    # PostgreSQL would materialize the cohort (it is read four times); reading the summary table
    # through its index each time is faster.
    inline = " NOT MATERIALIZED" if vendor == "postgresql" else ""
    sql = f"""
WITH cohort AS{inline} (
  SELECT id, protocol, started_on, completed, {", ".join(SUMMED)}
  FROM {summary} WHERE {" AND ".join(where)}
),
judged AS (
  SELECT o.responded, o.remitted, o.kept_3_months, o.kept_6_months, o.relapsed, o.change,
         o.days_to_response, c.protocol
  FROM {outcome} o JOIN cohort c ON c.id = o.summary_id
  WHERE o.instrument = %s
),
median AS ({_median_sql(vendor)}),
months AS (SELECT {_month_sql(vendor)} AS month FROM cohort)
{totals} FROM cohort
UNION ALL
{judged} FROM judged CROSS JOIN median
UNION ALL
{by_safety} FROM {safety} s JOIN cohort c ON c.id = s.summary_id
  GROUP BY s.category, s.kind, s.severity
UNION ALL
{by_protocol} FROM judged GROUP BY protocol
UNION ALL
{by_month} FROM months GROUP BY month
ORDER BY section, k1, sort, k2, k3
"""  # noqa: S608
    return sql, params


def floor_rows(filters: Filters) -> list[tuple[Any, ...]]:
    """Run the statement (one query) and return its rows."""
    sql, params = floor_sql(filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def floor_dashboard(filters: Filters, rows: Sequence[tuple[Any, ...]] | None = None) -> Dashboard:
    """The statement's figures as a `Dashboard`, for comparing with the real one. Rates and
    intervals are arithmetic on the counts, as in the dashboard (`kapcare.outcomes.rules`)."""
    if rows is None:
        rows = floor_rows(filters)
    sections: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        sections.setdefault(int(row[0]), []).append(row)
    (totals,) = sections[TOTALS]
    (judged,) = sections[JUDGED]
    t = [int(value or 0) for value in totals[5 : 5 + COUNT_COLUMNS]]
    started, completed, sessions, integration_doses, integration_met = t[:5]
    expected, done, attended, no_show, bp, rems_due, rems_on_time, adverse = t[5:13]
    j = [int(value or 0) for value in judged[5 : 5 + COUNT_COLUMNS]]
    change_mean, change_square, median = judged[5 + COUNT_COLUMNS : 5 + COUNT_COLUMNS + 3]
    protocols = {
        row[1]: row for row in sections.get(PROTOCOL, [])
    }  # ordered below as the dashboard orders them
    return Dashboard(
        filters=filters,
        courses_started=started,
        courses_completed=completed,
        response=Proportion(j[1], j[0]),
        remission=Proportion(j[3], j[2]),
        median_days_to_response=None if median is None else float(median),
        responders_with_days=j[11],
        kept_3_months=Proportion(j[5], j[4]),
        kept_6_months=Proportion(j[7], j[6]),
        relapse=Proportion(j[9], j[8]),
        change=_spread(
            j[10],
            None if change_mean is None else float(change_mean),
            None if change_square is None else float(change_square),
        ),
        measurement=Proportion(done, expected),
        integration=Proportion(integration_met, integration_doses),
        dosing_sessions=sessions,
        adverse_events=adverse,
        adverse_per_100=rules.rate_per_100(adverse, sessions),
        bp_excursions=bp,
        bp_per_100=rules.rate_per_100(bp, sessions),
        rems=Proportion(rems_on_time, rems_due),
        no_show=Proportion(no_show, attended + no_show),
        safety=tuple(
            SafetyRow(
                row[1], row[2], row[3], int(row[5]), rules.rate_per_100(int(row[5]), sessions)
            )
            for row in sections.get(SAFETY, [])
        ),
        by_protocol=tuple(
            ProtocolRow(
                protocol.code,
                int(found[5]),
                Proportion(int(found[7]), int(found[6])),
                Proportion(int(found[9]), int(found[8])),
            )
            for protocol in PROTOCOLS
            if (found := protocols.get(protocol.code)) is not None
        ),
        by_month=tuple(
            (dt.date(int(row[1][:4]), int(row[1][4:6]), 1), int(row[5]))
            for row in sections.get(MONTH, [])
        ),
    )


def _spread(n: int, mean: float | None, mean_square: float | None) -> Spread:
    """Mean and sample standard deviation from the mean and the mean of squares."""
    if n == 0 or mean is None or mean_square is None:
        return Spread(n, None, None)
    if n == 1:
        return Spread(n, mean, None)
    variance = max(0.0, (mean_square - mean * mean) * n / (n - 1))
    return Spread(n, mean, math.sqrt(variance))


def differences(real: Any, floor: Any, path: str = "dashboard") -> list[str]:
    """Where two dashboards (or parts of them) differ, one line each; [] when they agree.
    Floats agree when equal to 1 part in 10⁹ (the databases may sum in another order)."""
    if isinstance(real, float) and isinstance(floor, float):
        if math.isclose(real, floor, rel_tol=1e-9, abs_tol=1e-9):
            return []
        return [f"{path}: {real!r} != {floor!r}"]
    if type(real) is not type(floor):
        return [f"{path}: {real!r} != {floor!r}"]
    if isinstance(real, tuple):
        if len(real) != len(floor):
            return [f"{path}: {len(real)} rows != {len(floor)} rows ({real!r} != {floor!r})"]
        return [
            line
            for i, (a, b) in enumerate(zip(real, floor, strict=True))
            for line in differences(a, b, f"{path}[{i}]")
        ]
    fields = getattr(real, "__dataclass_fields__", None)
    if fields is not None:
        return [
            line
            for name in fields
            if name != "as_of"  # when the summaries were computed, not a figure
            for line in differences(getattr(real, name), getattr(floor, name), f"{path}.{name}")
        ]
    return [] if real == floor else [f"{path}: {real!r} != {floor!r}"]
