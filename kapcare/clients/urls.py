from django.urls import path

from kapcare.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list_view, name="list"),
    path("new/", views.client_create_view, name="create"),
    path("<uuid:client_id>/", views.client_chart_view, name="chart"),
    path("<uuid:client_id>/edit/", views.client_edit_view, name="edit"),
    path("<uuid:client_id>/care-team/", views.care_team_add_view, name="care_team_add"),
    path(
        "<uuid:client_id>/care-team/<uuid:member_id>/end/",
        views.care_team_end_view,
        name="care_team_end",
    ),
    path("<uuid:client_id>/weights/", views.weight_add_view, name="weight_add"),
    path("<uuid:client_id>/status/", views.status_change_view, name="status_change"),
    path("<uuid:client_id>/audit/", views.client_audit_view, name="audit"),
]
