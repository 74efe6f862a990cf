from django.urls import path

from kapcare.courses import views

app_name = "courses"

urlpatterns = [
    path("clients/<uuid:client_id>/course/", views.plan_view, name="plan"),
    path("clients/<uuid:client_id>/course/start/", views.start_view, name="start"),
    path("clients/<uuid:client_id>/consents/", views.consent_view, name="consent"),
    path("clients/<uuid:client_id>/rems-enrolments/", views.rems_view, name="rems"),
    path("clients/<uuid:client_id>/courses/<uuid:course_id>/", views.course_view, name="course"),
    path(
        "clients/<uuid:client_id>/courses/<uuid:course_id>/phase/",
        views.phase_view,
        name="phase",
    ),
    path("clients/<uuid:client_id>/courses/<uuid:course_id>/book/", views.book_view, name="book"),
    path(
        "clients/<uuid:client_id>/appointments/<uuid:appointment_id>/",
        views.appointment_view,
        name="appointment",
    ),
    path(
        "clients/<uuid:client_id>/appointments/<uuid:appointment_id>/integration/",
        views.accept_slot_view,
        name="accept_slot",
    ),
    path("integration-at-risk/", views.at_risk_view, name="at_risk"),
    path("rooms/", views.rooms_view, name="rooms"),
]
