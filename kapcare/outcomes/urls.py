from django.urls import path

from kapcare.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("<uuid:client_id>/progress/", views.progress_view, name="progress"),
    path("<uuid:client_id>/progress/summary.pdf", views.summary_pdf_view, name="summary_pdf"),
]
