from django.urls import include, path

from kapcare.api import api
from kapcare.views import home_view

urlpatterns = [
    path("", home_view, name="home"),
    path("accounts/", include("kapcare.accounts.urls")),
    path("clients/", include("kapcare.clients.urls")),
    path("clients/", include("kapcare.measures.urls")),
    path("clients/", include("kapcare.safety.urls")),
    path("api/v1/", api.urls),
    path("r/", include("kapcare.portal.urls")),
]
