from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from kapcare.accounts.models import PrescriberCredential, Role, User


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password, not only digits.",
    )
    new_password_again = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        self.user = user
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean_old_password(self) -> str:
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise forms.ValidationError("Your current password was entered incorrectly.")
        return str(old)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two new passwords do not match.")
        return data


EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="What the token is for, e.g. 'nightly export script'."
    )
    expires_in_days = forms.ChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, required=False, initial="90"
    )


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    professional_title = forms.CharField(
        max_length=60, required=False, help_text="Shown after the name, e.g. LMFT, RN."
    )
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    prescriber_credential = forms.ChoiceField(
        choices=[("", "—"), *PrescriberCredential.choices],
        required=False,
        help_text="Needed for prescribers.",
    )
    licence_number = forms.CharField(
        max_length=40, required=False, help_text="Needed for prescribers."
    )
    is_active = forms.BooleanField(
        label="Account active",
        required=False,
        initial=True,
        help_text="An inactive account cannot sign in or use API tokens.",
    )
