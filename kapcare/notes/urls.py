from django.urls import path

from kapcare.notes import views

app_name = "notes"
urlpatterns = [
    path("<uuid:client_id>/notes/", views.note_list_view, name="list"),
    path(
        "<uuid:client_id>/appointments/<uuid:appointment_id>/note/",
        views.note_edit_view,
        name="edit",
    ),
]
