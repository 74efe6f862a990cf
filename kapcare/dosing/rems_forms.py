"""REMS form pages' forms. They check the shape of the input only; the services in
kapcare.dosing.rems hold every rule (the API shares them)."""

from __future__ import annotations

from django import forms

from kapcare.clients.forms import DateInput


class SubmissionForm(forms.Form):
    submitted_on = forms.DateField(
        label="Sent to the REMS on", widget=DateInput(), help_text="The day the form was sent."
    )
    reference = forms.CharField(
        label="REMS reference",
        max_length=200,  # the service says "at most 80" with its rule code
        help_text="The confirmation or reference number the REMS gave the submission.",
    )


class SiteCertificationForm(forms.Form):
    number = forms.CharField(label="Certification number", max_length=200)
    certified_on = forms.DateField(label="Certified on", widget=DateInput())
    site_name = forms.CharField(
        label="Healthcare setting",
        max_length=400,
        help_text="The name of the site as it is enrolled in the REMS.",
    )
