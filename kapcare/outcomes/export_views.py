"""The de-identified research export page: practice admins only, behind a fresh password."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from kapcare.accounts.reauth import describe_export, fresh_authentication_required
from kapcare.core.views import practice_admin_required, staff_user
from kapcare.outcomes import deidentify, research_export


class ResearchExportForm(forms.Form):
    study_key = forms.CharField(
        label="Study key (optional)",
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=(
            "The same study key gives the same research ids and date shifts in every export; "
            "a different one gives unrelated ids and shifts. Leave it empty for the practice's "
            "default. Keep it to yourself: it is never stored."
        ),
    )


def _tables() -> list[dict[str, object]]:
    return [
        {
            "name": table,
            "columns": [f for f in deidentify.FIELDS if f.table == table and f.column],
            "dropped": [f for f in deidentify.FIELDS if f.table == table and not f.column],
        }
        for table in deidentify.TABLES
    ]


@require_http_methods(["GET", "POST"])
@practice_admin_required
@fresh_authentication_required
@describe_export("the de-identified research export")
def research_export_view(request: HttpRequest) -> HttpResponse:
    admin = staff_user(request)
    form = ResearchExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export = research_export.research_export(
            actor=admin, study_key=form.cleaned_data["study_key"]
        )
        response = FileResponse(
            export.file,
            as_attachment=True,
            filename=research_export.FILENAME,
            content_type="application/zip",
        )
        response["Cache-Control"] = "no-store"
        # A streamed file, not an HttpResponse: practice_admin_required is typed for the latter
        # but passes any response through.
        return response  # type: ignore[return-value]
    return render(
        request,
        "outcomes/research_export.html",
        {
            "form": form,
            "tables": _tables(),
            "treatments": deidentify.TREATMENT_MEANING,
            "max_days": settings.RESEARCH_EXPORT_MAX_SHIFT_DAYS,
            "key_from_setting": bool(settings.RESEARCH_EXPORT_KEY),
            "clients": research_export.exported_clients().count(),
            "title": "Research export",
        },
        status=400 if form.errors else 200,
    )
