from django.urls import path

from kapcare.courses import feed_views as views

app_name = "calendar_feed"
urlpatterns = [
    path("feed/", views.feed_page_view, name="page"),
    path("feed/revoke/", views.feed_revoke_view, name="revoke"),
    # The secret is a query parameter (?t=), never a path segment: logs drop query strings.
    path("feed.ics", views.feed_ics_view, name="ics"),
]
