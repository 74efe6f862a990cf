from django.urls import path

from kapcare.outcomes import dashboard_views

app_name = "outcomes_dashboard"
urlpatterns = [
    path("", dashboard_views.dashboard_view, name="dashboard"),
    path("<slug:figure>/", dashboard_views.drill_down_view, name="drill_down"),
    path("<slug:figure>/export.csv", dashboard_views.export_view, name="export"),
]
