"""The staff drop-downs: one query for the whole list, each labelled as `User.display_name`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.models import User
from kapcare.clients.forms import CareTeamAddForm
from kapcare.testing.factories import make_staff

pytestmark = pytest.mark.django_db


def test_the_staff_list_labels_everyone_as_display_name_in_one_query() -> None:
    staff = [
        make_staff(first_name="Ana", last_name="Ruiz", professional_title="LMFT"),
        make_staff(first_name="", last_name="", username="locum-7", professional_title=""),
        make_staff(first_name="O'Neil", last_name="<Lee>", professional_title="MD"),
    ]
    with CaptureQueriesContext(connection) as queries:
        html = str(CareTeamAddForm()["staff"])
    assert len(queries.captured_queries) == 1
    for person in User.objects.filter(is_active=True):
        label = person.display_name.replace("&", "&amp;").replace("<", "&lt;")
        label = label.replace(">", "&gt;").replace("'", "&#x27;")
        assert f'<option value="{person.public_id}">{label}</option>' in html
    assert "Ana Ruiz, LMFT" in html
    assert ">locum-7</option>" in html
    assert "O&#x27;Neil &lt;Lee&gt;, MD" in html
    assert staff[0].display_name == "Ana Ruiz, LMFT"


def test_a_posted_member_is_selected_and_valid() -> None:
    person = make_staff(first_name="Ana", last_name="Ruiz")
    form = CareTeamAddForm({"staff": str(person.public_id), "role": "therapist"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["staff"] == person
    assert f'<option value="{person.public_id}" selected>' in str(form["staff"])


def test_an_inactive_member_is_neither_listed_nor_accepted() -> None:
    person = make_staff(first_name="Gone", last_name="Away", is_active=False)
    form = CareTeamAddForm({"staff": str(person.public_id), "role": "therapist"})
    assert str(person.public_id) not in str(form["staff"])
    assert not form.is_valid()
    assert "staff" in form.errors
