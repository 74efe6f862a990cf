from django.urls import path

from kapcare.outcomes import export_views

app_name = "outcomes_research_export"
urlpatterns = [
    path("", export_views.research_export_view, name="export"),
]
