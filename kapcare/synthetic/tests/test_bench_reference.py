"""Every `kapcare bench` run prints the machine's speed before and after its measurements."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from kapcare.core.time import now
from kapcare.synthetic import benchmarks
from kapcare.synthetic.demo import create_demo_practice

pytestmark = pytest.mark.django_db


def test_the_reference_workload_is_timed_each_run() -> None:
    lines: list[str] = []
    timing = benchmarks.reference_workload(lines.append, "before", runs=3)
    assert len(timing.times) == 3
    assert all(t > 0 for t in timing.times)
    (line,) = lines
    match = re.fullmatch(
        r"reference workload \(before\): ([\d.]+) ms min, ([\d.]+) ms median of 3 .*", line
    )
    assert match is not None
    assert float(match[1]) == pytest.approx(min(timing.times), abs=0.05)
    assert float(match[1]) <= float(match[2])


def test_bench_prints_the_reference_before_and_after(db: None) -> None:
    create_demo_practice(clients=2, seed=3, now=now())
    out = StringIO()
    call_command("bench", "chart", repeat=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reference workload (before): ")
    assert lines[-1].startswith("reference workload (after): ")
    assert any(line.startswith("chart, most history") for line in lines)
