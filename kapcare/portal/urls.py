from django.urls import path

from kapcare.portal import views

app_name = "portal"
urlpatterns = [path("", views.self_report_view, name="self_report")]
