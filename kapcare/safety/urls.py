from django.urls import path

from kapcare.safety import views

app_name = "safety"
urlpatterns = [
    path(
        "<uuid:client_id>/risk-assessments/",
        views.risk_assessment_view,
        name="risk_assessment",
    ),
    path(
        "<uuid:client_id>/safety-flags/<uuid:flag_id>/review/",
        views.vitals_flag_review_view,
        name="vitals_review",
    ),
]
