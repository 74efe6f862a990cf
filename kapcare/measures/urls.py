from django.urls import path

from kapcare.measures import views

app_name = "measures"
urlpatterns = [
    path("<uuid:client_id>/measures/new/", views.record_view, name="record"),
    path("<uuid:client_id>/measures/send/", views.send_link_view, name="send_link"),
    path(
        "<uuid:client_id>/measures/<uuid:administration_id>/",
        views.administration_view,
        name="administration",
    ),
]
