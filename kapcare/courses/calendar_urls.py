from django.urls import path

from kapcare.courses import calendar_views as views

app_name = "calendar"
urlpatterns = [
    path("", views.schedule_view, name="home"),
    path(
        "clinician/<uuid:staff_id>/week/",
        views.clinician_calendar_view,
        {"view": "week"},
        name="clinician_week",
    ),
    path(
        "clinician/<uuid:staff_id>/day/",
        views.clinician_calendar_view,
        {"view": "day"},
        name="clinician_day",
    ),
    path("room/<uuid:room_id>/week/", views.room_calendar_view, {"view": "week"}, name="room_week"),
    path("room/<uuid:room_id>/day/", views.room_calendar_view, {"view": "day"}, name="room_day"),
]
