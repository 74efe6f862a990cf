from django.contrib.auth.views import LogoutView
from django.urls import path

from kapcare.accounts import reauth, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("confirm/", reauth.reauthenticate_view, name="reauthenticate"),
    path("api-tokens/", views.api_tokens_view, name="api_tokens"),
    path(
        "api-tokens/<uuid:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"
    ),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<uuid:staff_id>/", views.staff_edit_view, name="staff_edit"),
    path("staff/<uuid:staff_id>/audit/", views.staff_audit_view, name="staff_audit"),
    path(
        "staff/<uuid:staff_id>/password/",
        views.staff_password_reset_view,
        name="staff_password_reset",
    ),
]
