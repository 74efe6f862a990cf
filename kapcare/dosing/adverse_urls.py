from django.urls import path

from kapcare.dosing import adverse_views

app_name = "dosing_adverse"
urlpatterns = [
    path("adverse-events/", adverse_views.adverse_events_view, name="list"),
    path(
        "clients/<uuid:client_id>/adverse-events/<uuid:event_id>/follow-up/",
        adverse_views.follow_up_view,
        name="follow_up",
    ),
]
