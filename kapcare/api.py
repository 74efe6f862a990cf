"""The JSON API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from kapcare.accounts.api import router as accounts_router
from kapcare.accounts.api_auth import ApiTokenBearer, ApiTokenHeader, StaffSession
from kapcare.clients.api import router as clients_router
from kapcare.clients.services import PossibleDuplicate
from kapcare.core import api_errors
from kapcare.courses.api import router as courses_router
from kapcare.courses.feed_api import router as calendar_feed_router
from kapcare.dosing.api import router as dosing_router
from kapcare.dosing.rems_api import router as rems_router
from kapcare.measures.api import router as measures_router
from kapcare.measures.rules import ScoringError
from kapcare.measures.services import AnswersInvalid
from kapcare.notes.api import router as notes_router
from kapcare.safety.api import router as safety_router
from kapcare.screening.api import router as screening_router
from kapcare.stock.api import router as stock_router

api = NinjaAPI(
    title="kapcare API",
    version="1",
    description=(
        "Authenticate with the browser session (CSRF token on writes) or a personal API token "
        "sent as `Authorization: Bearer kc_…`. Errors are "
        '`{"errors": [{"field", "rule", "message"}]}`.'
    ),
    # Tokens first: the session check enforces CSRF and refuses a write outright, which would
    # stop a script holding a valid token before its token was looked at.
    auth=[ApiTokenBearer(), ApiTokenHeader(), StaffSession()],
    urls_namespace="api-v1",
    docs_url=None,
)
api.add_router("", accounts_router)
api.add_router("/clients", clients_router)
api.add_router("", measures_router)
api.add_router("", safety_router)
api.add_router("", screening_router)
api.add_router("", courses_router)
api.add_router("", calendar_feed_router)
api.add_router("", notes_router)
api.add_router("", stock_router)
api.add_router("", dosing_router)
api.add_router("", rems_router)


def _errors(request: HttpRequest, items: list[dict[str, object]], status: int) -> HttpResponse:
    return api.create_response(request, {"errors": items}, status=status)


@api.exception_handler(SchemaValidationError)
def schema_error(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    return _errors(request, api_errors.from_schema(list(exc.errors)), 422)


@api.exception_handler(AnswersInvalid)
def answers_invalid(request: HttpRequest, exc: AnswersInvalid) -> HttpResponse:
    return _errors(request, api_errors.from_django(exc), 422)


@api.exception_handler(PossibleDuplicate)
def duplicate_error(request: HttpRequest, exc: PossibleDuplicate) -> HttpResponse:
    return _errors(request, api_errors.from_django(exc), 409)


@api.exception_handler(ValidationError)
def rule_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _errors(request, api_errors.from_django(exc), 400)


@api.exception_handler(ScoringError)
def scoring_error(request: HttpRequest, exc: ScoringError) -> HttpResponse:
    items = [
        api_errors.error_item(
            f"answers.{problem.item}" if problem.item else "instrument",
            problem.rule,
            problem.message,
        )
        for problem in exc.problems
    ]
    return _errors(request, items, 422)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _errors(request, [api_errors.error_item(None, "not_found", "Not found.")], 404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = "Sign in, or send a valid API token as 'Authorization: Bearer kc_…'."
    return _errors(request, [api_errors.error_item(None, "unauthenticated", message)], 401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    rule = "csrf" if "CSRF" in str(exc) else "http_error"
    return _errors(request, [api_errors.error_item(None, rule, str(exc))], exc.status_code)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _errors(request, [api_errors.error_item(None, "forbidden", str(exc))], 403)
