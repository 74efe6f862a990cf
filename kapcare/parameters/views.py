"""The parameter table: every staff member can read what the rules use and where it comes from;
the medical director signs off changes."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from kapcare.core.forms import add_service_errors
from kapcare.core.views import staff_user
from kapcare.parameters import registry
from kapcare.parameters.forms import SignOffForm
from kapcare.parameters.selectors import history, settings_for
from kapcare.parameters.services import can_sign_off, parameter_sign_off


@require_GET
def parameter_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    parameters = sorted(registry.all_parameters(), key=lambda p: p.group)
    current = settings_for(p.key for p in parameters)
    groups = [
        (group, [current[p.key] for p in members])
        for group, members in groupby(parameters, key=lambda p: p.group)
    ]
    return render(
        request,
        "parameters/list.html",
        {"groups": groups, "can_sign_off": can_sign_off(user)},
    )


@require_http_methods(["GET", "POST"])
def parameter_detail_view(request: HttpRequest, key: str) -> HttpResponse:
    user = staff_user(request)
    try:
        parameter = registry.get(key)
    except KeyError as missing:
        raise Http404("No such parameter.") from missing
    allowed = can_sign_off(user)
    form = SignOffForm(request.POST or None, choices=parameter.choices)
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied
        if form.is_valid():
            try:
                row = parameter_sign_off(actor=user, key=key, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{parameter.label}: version {row.version} signed off.")
                return redirect("parameters:detail", key=key)
    setting = settings_for([key])[key]
    return render(
        request,
        "parameters/detail.html",
        {
            "setting": setting,
            "parameter": parameter,
            "history": history(key),
            "form": form,
            "can_sign_off": allowed,
        },
        status=400 if request.method == "POST" else 200,
    )
