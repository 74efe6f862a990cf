"""The page a client opens from a self-report link: no sign-in, no JavaScript needed.

The link's secret arrives once as ?t=…; the page then keeps only the link's id in the (anonymous)
session and redirects, so the secret leaves the address bar at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import SelfReportLink
from kapcare.measures.self_report import link_open, link_save_progress, link_submit

SESSION_LINK = "kapcare_self_report_link"
SESSION_CRISIS = "kapcare_self_report_crisis"
CRISIS_FLAGS = {
    rules.SUICIDE_ITEM_POSITIVE,
    rules.CSSRS_RISK_FLAGS["moderate"],
    rules.CSSRS_RISK_FLAGS["high"],
}


def _unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    status = 404 if reason == "unknown" else 410
    return render(request, "portal/unavailable.html", {"reason": reason}, status=status)


def _answers_from(instrument: Instrument, data: Any) -> dict[str, int]:
    answers = {}
    for item in instrument.items:
        value = data.get(item.id, "")
        if value != "":
            try:
                answers[item.id] = int(value)
            except ValueError:
                answers[item.id] = value  # refused by the rules with the item named
    return answers


@login_not_required
@require_http_methods(["GET", "POST"])
def self_report_view(request: HttpRequest) -> HttpResponse:
    base = reverse("portal:self_report")
    raw = request.GET.get("t")
    if raw is not None:
        opened = link_open(raw)
        if opened is None:
            return _unavailable(request, "unknown")
        if opened.state() in ("expired", "completed"):
            return _unavailable(request, opened.state())
        request.session[SESSION_LINK] = str(opened.public_id)
        request.session[SESSION_CRISIS] = False
        return redirect(base)

    link_id = request.session.get(SESSION_LINK)
    link = (
        SelfReportLink.objects.select_related("client").filter(public_id=link_id).first()
        if link_id
        else None
    )
    if link is None:
        return _unavailable(request, "unknown")
    state = link.state()
    if state == "completed":
        return render(
            request,
            "portal/done.html",
            {
                "crisis": request.session.get(SESSION_CRISIS, False),
                "crisis_text": settings.CRISIS_TEXT,
            },
        )
    if state == "expired":
        return _unavailable(request, "expired")

    instrument = INSTRUMENTS[link.remaining[0]]
    one_at_a_time = request.GET.get("one") == "1" or request.POST.get("one") == "1"
    items = list(instrument.items)
    saved: dict[str, int] = dict(link.progress.get(instrument.code, {}))
    errors: dict[str, list[str]] = {}
    index = 0
    if one_at_a_time:
        try:
            index = max(
                0, min(len(items) - 1, int(request.GET.get("item", request.POST.get("item", 0))))
            )
        except ValueError:
            index = 0

    if request.method == "POST":
        answers = _answers_from(instrument, request.POST)
        try:
            link_save_progress(link=link, instrument=instrument.code, answers=answers)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[field.removeprefix("answers.")] = messages
            saved.update({k: v for k, v in answers.items() if isinstance(v, int)})
        else:
            saved = dict(link.progress.get(instrument.code, {}))
            if "submit" in request.POST:
                administration = link_submit(link=link, instrument=instrument.code)
                if CRISIS_FLAGS & set(administration.flags):
                    request.session[SESSION_CRISIS] = True
                return redirect(f"{base}?one=1" if one_at_a_time else base)
            if one_at_a_time:
                step = -1 if "back" in request.POST else 1
                return redirect(f"{base}?one=1&item={max(0, index + step)}")
            return redirect(base)

    shown = [items[index]] if one_at_a_time else items
    position = list(link.instruments).index(instrument.code) + 1
    return render(
        request,
        "portal/form.html",
        {
            "instrument": instrument,
            "items": [(item, saved.get(item.id), errors.get(item.id)) for item in shown],
            "one_at_a_time": one_at_a_time,
            "index": index,
            "last": index == len(items) - 1,
            "count": len(items),
            "answered": sum(1 for item in items if item.id in saved),
            "position": position,
            "total": len(link.instruments),
            "expires_at": link.expires_at,
        },
        status=400 if errors else 200,
    )
