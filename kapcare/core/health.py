"""`/healthz`: answers "ok" when the web process is up, for load balancers and uptime checks.

The view reads nothing, so a request without a session cookie (as uptime checks and load
balancers send) touches no database: it says the server answers, not that the database does.
`kapcare bench load` uses it as the ceiling a page can reach.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def healthz_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
