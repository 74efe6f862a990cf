"""The calendar feed: a page where a person makes, replaces or revokes their own feed, and the
feed itself, which calendar apps fetch without signing in (the secret in its address is the key).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.core.time import now
from kapcare.core.views import staff_user
from kapcare.courses.calendar_feed import (
    FEED_AHEAD,
    FEED_PAST,
    active_feed,
    feed_calendar,
    feed_create,
    feed_for_token,
    feed_revoke,
    feed_url,
)


@never_cache
@require_http_methods(["GET", "POST"])
def feed_page_view(request: HttpRequest) -> HttpResponse:
    """GET: the person's feed, if any. POST: a new feed (replacing the old one), whose address is
    shown on this response only."""
    user = staff_user(request)
    new_url = None
    if request.method == "POST":
        _, raw = feed_create(actor=user)
        new_url = feed_url(raw)
    return render(
        request,
        "courses/calendar_feed.html",
        {
            "feed": active_feed(user),
            "new_url": new_url,
            "webcal_url": "webcal://" + new_url.split("://", 1)[1] if new_url else None,
            "past_days": FEED_PAST.days,
            "ahead_days": FEED_AHEAD.days,
        },
    )


@require_POST
def feed_revoke_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    feed = active_feed(user)
    if feed is not None:
        feed_revoke(actor=user, feed=feed)
        messages.success(request, "Your calendar feed was revoked: its address no longer works.")
    return redirect("calendar_feed:page")


@login_not_required
@never_cache
@require_GET
def feed_ics_view(request: HttpRequest) -> HttpResponse:
    """The feed for the secret in `?t=`; 404 for an unknown or revoked one."""
    feed = feed_for_token(request.GET.get("t", ""))
    if feed is None:
        raise Http404("Not found.")
    body = feed_calendar(feed.user, at=now()).to_ical()
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kapcare.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
