"""Sign-in, password, personal API tokens, and staff management for practice admins."""

from __future__ import annotations

import datetime as dt
import uuid

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts import services
from kapcare.accounts.forms import ApiTokenForm, LoginForm, PasswordChangeForm, StaffForm
from kapcare.accounts.models import ApiToken, User
from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.core.views import practice_admin_required, staff_user


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_set_password(
                actor=user, staff=user, new_password=form.cleaned_data["new_password"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password was changed.")
            return redirect("home")
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires_at = now() + dt.timedelta(days=int(days)) if days else None
        try:
            _, new_token = services.api_token_create(
                actor=user, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=user)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token},
        status=400 if form.errors else 200,
    )


@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    token = get_object_or_404(ApiToken, public_id=token_id, user=user)
    services.api_token_revoke(actor=user, token=token)
    messages.success(request, f"Token “{token.name}” was revoked.")
    return redirect("accounts:api_tokens")


@require_GET
@practice_admin_required
def staff_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/staff_list.html", {"staff": User.objects.all()})


def _staff_form_data(form: StaffForm) -> dict[str, object]:
    data = dict(form.cleaned_data)
    data.pop("roles")
    return data


@require_http_methods(["GET", "POST"])
@practice_admin_required
def staff_create_view(request: HttpRequest) -> HttpResponse:
    admin = staff_user(request)
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _staff_form_data(form)
        data.pop("is_active")
        try:
            staff, password = services.staff_create(
                actor=admin,
                roles=form.cleaned_data["roles"],
                **data,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(
                request, "accounts/staff_created.html", {"staff": staff, "password": password}
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/staff_form.html", {"form": form, "creating": True}, status=status
    )


@require_http_methods(["GET", "POST"])
@practice_admin_required
def staff_edit_view(request: HttpRequest, staff_id: uuid.UUID) -> HttpResponse:
    admin = staff_user(request)
    staff = get_object_or_404(User, public_id=staff_id)
    initial = {
        "username": staff.username,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "email": staff.email,
        "professional_title": staff.professional_title,
        "roles": [role.value for role in staff.roles],
        "prescriber_credential": staff.prescriber_credential,
        "licence_number": staff.licence_number,
        "is_active": staff.is_active,
    }
    form = StaffForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(
                actor=admin,
                staff=staff,
                roles=form.cleaned_data["roles"],
                **_staff_form_data(form),  # type: ignore[arg-type]
            )
        except ValidationError as error:
            staff.refresh_from_db()
            add_service_errors(form, error)
        else:
            messages.success(request, f"{staff} was saved.")
            return redirect("accounts:staff_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "creating": False, "staff": staff},
        status=status,
    )


@require_GET
@practice_admin_required
def staff_audit_view(request: HttpRequest, staff_id: uuid.UUID) -> HttpResponse:
    admin = staff_user(request)
    staff = get_object_or_404(User, public_id=staff_id)
    # Recorded before the page is counted: the page is fetched lazily, so a read recorded after
    # the count would take a place on the page and push the oldest event off it.
    audit.record_read(
        actor=admin, action="audit.read", subject_type="staff", subject_public_id=staff.public_id
    )
    events = Paginator(
        AuditEvent.objects.filter(
            Q(actor=staff) | Q(subject_public_id=staff.public_id)
        ).select_related("actor"),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/staff_audit.html",
        {"staff": staff, "events": events, "title": f"Audit log: {staff}"},
    )


@require_POST
@practice_admin_required
def staff_password_reset_view(request: HttpRequest, staff_id: uuid.UUID) -> HttpResponse:
    """Give a staff member a new generated password (shown once) and lift any sign-in lockout."""
    admin = staff_user(request)
    staff = get_object_or_404(User, public_id=staff_id)
    password = services.generate_password()
    services.staff_set_password(actor=admin, staff=staff, new_password=password)
    axes_reset(username=staff.username)
    return render(
        request,
        "accounts/staff_created.html",
        {"staff": staff, "password": password, "reset": True},
    )
