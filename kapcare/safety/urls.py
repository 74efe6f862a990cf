from django.urls import path

from kapcare.safety import views

app_name = "safety"
urlpatterns = [
    path(
        "<uuid:client_id>/risk-assessments/",
        views.risk_assessment_view,
        name="risk_assessment",
    ),
]
