"""The signed-in person's own calendar feed in the JSON API: see it, make a new one (the address
is in that one response only), revoke it. Nobody else's feed is reachable here."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from kapcare.accounts.api_auth import api_caller
from kapcare.courses.calendar_feed import (
    FEED_AHEAD,
    FEED_PAST,
    active_feed,
    feed_create,
    feed_revoke,
    feed_url,
)
from kapcare.courses.models import CalendarFeed

router = Router(tags=["calendar feed"])


class FeedOut(Schema):
    id: uuid.UUID
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    past_days: int
    ahead_days: int


class FeedCreatedOut(FeedOut):
    url: str


def _out(feed: CalendarFeed) -> dict[str, object]:
    return {
        "id": feed.public_id,
        "created_at": feed.created_at,
        "last_used_at": feed.last_used_at,
        "past_days": FEED_PAST.days,
        "ahead_days": FEED_AHEAD.days,
    }


@router.get("/calendar-feed", response=FeedOut, summary="Your calendar feed (404 if none)")
def calendar_feed_get(request: HttpRequest) -> dict[str, object]:
    feed = active_feed(api_caller(request))
    if feed is None:
        raise Http404("No calendar feed.")
    return _out(feed)


@router.post(
    "/calendar-feed",
    response={201: FeedCreatedOut},
    summary="Make a new calendar feed, revoking your earlier one; the address is shown once",
)
def calendar_feed_create(request: HttpRequest) -> Status[dict[str, object]]:
    feed, raw = feed_create(actor=api_caller(request))
    return Status(201, _out(feed) | {"url": feed_url(raw)})


@router.delete("/calendar-feed", response={204: None}, summary="Revoke your calendar feed")
def calendar_feed_delete(request: HttpRequest) -> Status[None]:
    user = api_caller(request)
    feed = active_feed(user)
    if feed is None:
        raise Http404("No calendar feed.")
    feed_revoke(actor=user, feed=feed)
    return Status(204, None)
