"""The GOV.UK base for every form in the service, and the core app's own forms."""

from __future__ import annotations

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation

from commissioning import sign_in_log, sso
from commissioning.models import (
    COMMISSIONER_SIDE_ROLES,
    PROVIDER_ROLES,
    Organisation,
    Role,
    SignInMethod,
    User,
)
from commissioning.widgets import autocomplete_select


class GovUKFormMixin:
    """Gives a form the crispy-forms-gds helper; the template renders <form> and buttons.

    Number-like inputs use ``inputmode="numeric"`` on a text input, as GOV.UK recommends.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of records by id. An id that cannot be a key (not a whole number, or
    too large for the database) is an invalid choice, never sent to the database (SQLite
    raises OverflowError for an integer over 64 bits)."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk)
            if not (text.isascii() and text.isdigit()) or len(text) > 19 \
                    or int(text) > 2 ** 63 - 1:
                raise forms.ValidationError(self.error_messages["invalid_choice"],
                                            code="invalid_choice", params={"value": text})
        return super()._check_values(value)


class GovUKForm(GovUKFormMixin, forms.Form):
    pass


class GovUKModelForm(GovUKFormMixin, forms.ModelForm):
    pass


class SignInForm(GovUKFormMixin, auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": "Enter your email address", "invalid": "Enter an email "
                        "address in the correct format, like name@example.org"},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password"},
    )
    error_messages = {
        "invalid_login": "Enter a correct email address and password. If you have forgotten your "
        "password, reset it.",
        "inactive": "This account is not active. Contact your administrator.",
        "sso_required": "Your organisation signs you in through its own account, not a "
        "password. Choose 'Sign in with your organisation's account'.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if sso.password_sign_in_refused(user):
            sign_in_log.record(self.request, method=SignInMethod.PASSWORD, succeeded=False,
                               outcome="organisation account required", email=user.email,
                               user=user)
            raise forms.ValidationError(self.error_messages["sso_required"],
                                        code="sso_required")


class OrganisationSignInForm(GovUKForm):
    """The first step of single sign-on: the address tells which organisation's account
    service to send the person to."""

    email = forms.EmailField(
        label="Email address", max_length=320,
        help_text="Your work email address, for example name@council.gov.uk or name@nhs.net",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": "Enter your email address", "invalid": "Enter an email "
                        "address in the correct format, like name@example.org"},
    )


class PasswordResetRequestForm(GovUKFormMixin, auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": "Enter your email address",
                        "invalid": "Enter an email address in the correct format, "
                        "like name@example.org"},
    )

    def get_users(self, email):
        # Custom user model: match the e-mail case-insensitively, active users only.
        return User.objects.filter(email__iexact=email, is_active=True)


class NewPasswordForm(GovUKFormMixin, auth_forms.SetPasswordForm):
    """Set a password (reset link or invitation)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "Use at least 12 characters. Avoid common passwords and anything like your name "
            "or email address."
        )
        self.fields["new_password2"].label = "Confirm new password"
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].error_messages["required"] = "Confirm your new password"


class ChangePasswordForm(GovUKFormMixin, auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["old_password"].error_messages["required"] = "Enter your current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = "Use at least 12 characters."
        self.fields["new_password2"].label = "Confirm new password"


class InvitationForm(GovUKForm):
    full_name = forms.CharField(
        label="Full name", max_length=150,
        error_messages={"required": "Enter the person's full name"},
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={"required": "Enter the person's email address",
                        "invalid": "Enter an email address in the correct format, "
                        "like name@example.org"},
    )
    organisation = forms.ModelChoiceField(
        label="Organisation", queryset=Organisation.objects.none(),
        widget=autocomplete_select(),
        error_messages={"required": "Select the organisation",
                        "invalid_choice": "Select an organisation from the list"},
    )
    role = forms.ChoiceField(
        label="Role", choices=Role.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select a role",
                        "invalid_choice": "Select a role from the list"},
    )

    def __init__(self, *args, organisations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        # Offer only the roles that fit the organisations offered (a provider's approver sees
        # the provider roles; a partnership administrator the commissioner-side ones).
        sides = {o.is_commissioner for o in organisations}
        if len(sides) == 1:
            fitting = COMMISSIONER_SIDE_ROLES if sides.pop() else PROVIDER_ROLES
            self.fields["role"].choices = [c for c in Role.choices if c[0] in fitting]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        role = cleaned.get("role")
        if organisation and role and \
                organisation.is_commissioner == (role in PROVIDER_ROLES):
            side = "a provider" if organisation.is_commissioner else "a commissioning"
            self.add_error(
                "role",
                f"Select a role that fits {organisation.display_name}: "
                f"{organisation.display_name} is not {side} organisation",
            )
        return cleaned


class AcceptInvitationForm(GovUKForm):
    new_password1 = forms.CharField(
        label="Create a password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Use at least 12 characters. Avoid common passwords.",
        error_messages={"required": "Enter a password"},
    )
    new_password2 = forms.CharField(
        label="Confirm password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Confirm your password"},
    )

    def __init__(self, *args, email: str, full_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._probe_user = User(email=email, full_name=full_name)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The passwords do not match")
        elif first:
            try:
                password_validation.validate_password(first, self._probe_user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class TwoFactorCodeForm(GovUKForm):
    otp_token = forms.CharField(
        label="Security code",
        max_length=20,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false",
            "autocapitalize": "off", "class": "govuk-input--width-10",
        }),
        error_messages={"required": "Enter the security code"},
    )

    def __init__(self, *args, label: str = "Security code", hint: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].label = label
        self.fields["otp_token"].help_text = hint


class OrganisationDetailsForm(GovUKModelForm):
    """An organisation's identifiers, address and contact point. Formats are checked by the
    model (``commissioning.identifiers``), so the admin and this page agree."""

    class Meta:
        model = Organisation
        fields = ["ppon", "registration_scheme", "registration_number", "ods_code",
                  "local_authority_code", "street_address", "locality", "postal_code",
                  "contact_name", "contact_email", "contact_telephone"]
        labels = {"ppon": "PPON (optional)",
                  "registration_scheme": "Registered with (optional)",
                  "registration_number": "Registration number (optional)",
                  "ods_code": "ODS code (optional)",
                  "local_authority_code": "Local authority code (optional)",
                  "street_address": "Street address (optional)",
                  "locality": "Town or city (optional)", "postal_code": "Postcode (optional)",
                  "contact_name": "Contact name (optional)",
                  "contact_email": "Contact email address (optional)",
                  "contact_telephone": "Contact telephone (optional)"}
        error_messages = {"contact_email": {
            "invalid": "Enter an email address in the correct format, like name@example.org"}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registration_scheme"].choices = [
            ("", "Not registered"), *list(self.fields["registration_scheme"].choices)[1:]]
