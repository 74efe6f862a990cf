from django.urls import path

from kapcare.parameters import views

app_name = "parameters"

urlpatterns = [
    path("", views.parameter_list_view, name="list"),
    path("<str:key>/", views.parameter_detail_view, name="detail"),
]
