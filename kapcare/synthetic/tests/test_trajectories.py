"""Synthetic score histories: scored by the real rules, shaped like real courses."""

from __future__ import annotations

import datetime as dt
import random

from kapcare.clients.models import Client, ClientStatus
from kapcare.core.time import now
from kapcare.measures import rules
from kapcare.measures.models import Administration
from kapcare.measures.selectors import measure_history
from kapcare.synthetic import trajectories
from kapcare.synthetic.generator import PracticeStaff, generate_clients
from kapcare.testing.factories import make_staff


def test_every_form_scores_to_what_is_stored() -> None:
    rng = random.Random(3)
    start = now() - dt.timedelta(days=200)
    for _ in range(50):
        for form in trajectories.course_forms(start=start, end=now(), rng=rng):
            again = rules.score(form.instrument, form.answers)
            assert again == form.result
            assert form.result.complete
            assert start <= form.completed_at <= now() + dt.timedelta(hours=3)


def test_all_shapes_occur_and_look_like_their_names() -> None:
    rng = random.Random(11)
    start = now() - dt.timedelta(days=180)
    endings: list[tuple[int, int]] = []
    for _ in range(300):
        phq9 = [
            f.result.total
            for f in trajectories.course_forms(start=start, end=now(), rng=rng)
            if f.instrument == "phq9"
        ]
        assert all(total is not None for total in phq9)
        endings.append((phq9[0] or 0, phq9[-1] or 0))
    remitted = sum(1 for first, last in endings if last < 5)
    responded = sum(1 for first, last in endings if last <= first / 2)
    unchanged = sum(1 for first, last in endings if last > first * 0.75)
    # Roughly: responders (45%) reach remission; non-responders and relapses (40%) stay high.
    assert 0.25 < remitted / 300 < 0.6
    assert responded > remitted
    assert 0.2 < unchanged / 300 < 0.6
    assert all(10 <= first <= 27 for first, _ in endings)  # TRD baselines: moderate or worse


def test_generated_practice_has_histories_only_from_screening(db: None) -> None:
    staff = PracticeStaff(
        therapists=[make_staff(therapist=True)],
        prescribers=[make_staff(prescriber=True)],
        nurses=[make_staff(nurse=True)],
        front_desk=[make_staff(front_desk=True)],
    )
    counts = generate_clients(staff=staff, count=40, seed=5, now=now())
    assert counts.administrations == Administration.objects.count() > 0
    for client in Client.objects.all():
        has_history = client.administrations.exists()
        reached_screening = client.status_changes.filter(to_status=ClientStatus.SCREENING).exists()
        assert has_history == reached_screening, client.status
        if has_history:
            histories = {h.instrument.code: h for h in measure_history(client)}
            assert "phq9" in histories
            first = client.administrations.order_by("completed_at").first()
            screening = client.status_changes.get(to_status=ClientStatus.SCREENING)
            assert first is not None
            assert first.completed_at == screening.changed_at
