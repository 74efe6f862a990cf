from django.urls import include, path

from kapcare.api import api
from kapcare.core.health import healthz_view
from kapcare.intake.views import inquire_thanks_view, inquire_view
from kapcare.views import home_view

urlpatterns = [
    path("", home_view, name="home"),
    path("healthz", healthz_view, name="healthz"),
    path("accounts/", include("kapcare.accounts.urls")),
    path("clients/", include("kapcare.clients.urls")),
    path("clients/", include("kapcare.measures.urls")),
    path("clients/", include("kapcare.safety.urls")),
    path("api/v1/", api.urls),
    path("r/", include("kapcare.portal.urls")),
    path("parameters/", include("kapcare.parameters.urls")),
    path("medications/", include("kapcare.medications.urls")),
    path("clients/", include("kapcare.screening.urls")),
    path("clients/", include("kapcare.notes.urls")),
    path("clients/", include("kapcare.outcomes.urls")),
    path("inquire/", inquire_view, name="inquire"),
    path("inquire/thanks/", inquire_thanks_view, name="inquire_thanks"),
    path("intake/", include("kapcare.intake.urls")),
    path("schedule/", include("kapcare.courses.calendar_urls")),
    path("calendar/", include("kapcare.courses.feed_urls")),
    path("stock/", include("kapcare.stock.urls")),
    path("dosing/rems/", include("kapcare.dosing.rems_urls")),
    path("reports/program/", include("kapcare.outcomes.dashboard_urls")),
    path("reports/research-export/", include("kapcare.outcomes.export_urls")),
    path("", include("kapcare.dosing.adverse_urls")),
    path("", include("kapcare.dosing.urls")),
    path("", include("kapcare.courses.urls")),
]
