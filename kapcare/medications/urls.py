from django.urls import path

from kapcare.medications import views

app_name = "medications"

urlpatterns = [
    path("", views.medication_list_view, name="list"),
    path("new/", views.medication_edit_view, name="create"),
    path("<uuid:medication_id>/", views.medication_edit_view, name="edit"),
]
