import os
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import OuterRef, Subquery
from simple_history.admin import SimpleHistoryAdmin

from commissioning.models import (
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    Membership,
    Organisation,
    Partnership,
    PartnershipMember,
    SignInEvent,
    SignInMethod,
    User,
)


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "kind", "ods_code", "is_sme", "is_vcse", "is_active"]
    list_filter = ["kind", "is_active", "is_vcse", "is_sme"]
    search_fields = ["name", "short_name", "ods_code", "registration_number"]


class PartnershipMemberInline(admin.TabularInline):
    model = PartnershipMember
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(Partnership)
class PartnershipAdmin(SimpleHistoryAdmin):
    list_display = ["name", "board_name", "is_active"]
    search_fields = ["name", "board_name"]
    inlines = [PartnershipMemberInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


class ExternalIdentityInline(admin.TabularInline):
    model = ExternalIdentity
    extra = 0
    fields = ["provider", "subject", "linked_at", "last_sign_in_at"]
    readonly_fields = fields
    can_delete = True  # unlinking lets the person link again on their next sign-in

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AdminUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_sign_in",
                    "last_sign_in_method"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline, ExternalIdentityInline]

    def get_queryset(self, request):
        # When and how each person last signed in, from the sign-in log: two subqueries,
        # not one query per row.
        last = SignInEvent.objects.filter(user=OuterRef("pk"), succeeded=True).order_by("-at")
        return super().get_queryset(request).annotate(
            last_sign_in_at=Subquery(last.values("at")[:1]),
            last_sign_in_method_code=Subquery(last.values("method")[:1]),
            last_sign_in_provider=Subquery(last.values("provider__name")[:1]),
        )

    @admin.display(description="last sign-in", ordering="last_sign_in_at")
    def last_sign_in(self, user):
        return user.last_sign_in_at

    @admin.display(description="how")
    def last_sign_in_method(self, user) -> str:
        if not user.last_sign_in_method_code:
            return ""
        label = SignInMethod(user.last_sign_in_method_code).label
        if user.last_sign_in_provider:
            return f"{label} ({user.last_sign_in_provider})"
        return label
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name", "job_title", "phone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__email", "user__full_name", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(Invitation)
class InvitationAdmin(SimpleHistoryAdmin):
    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["token_hash", "accepted_at", "user"]


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(
        max_length=300, assume_scheme="https",
        help_text=IdentityProvider._meta.get_field("issuer").help_text)

    class Meta:
        model = IdentityProvider
        fields = ["organisation", "name", "issuer", "client_id", "client_secret_env",
                  "allowed_domains", "scopes", "mfa_acr_values", "requires_sso", "is_enabled"]

    def clean_issuer(self) -> str:
        issuer = self.cleaned_data["issuer"]
        parts = urlsplit(issuer)
        # Plain HTTP only to a provider on this machine (the test provider); anything else
        # would send codes and tokens in the clear.
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
            raise forms.ValidationError("Enter the issuer's https:// address")
        return issuer


@admin.register(IdentityProvider)
class IdentityProviderAdmin(SimpleHistoryAdmin):
    """Single sign-on per organisation, set by a platform administrator. The client secret
    lives in the environment variable the row names, never in the database."""

    form = IdentityProviderForm
    list_display = ["organisation", "name", "issuer", "requires_sso", "is_enabled",
                    "secret_present"]
    list_filter = ["requires_sso", "is_enabled"]
    search_fields = ["organisation__name", "name", "issuer", "allowed_domains"]
    autocomplete_fields = ["organisation"]

    @admin.display(boolean=True, description="secret set on this server")
    def secret_present(self, provider: IdentityProvider) -> bool:
        return bool(os.environ.get(provider.client_secret_env))


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """The sign-in log: read only."""

    list_display = ["at", "email", "method", "provider", "succeeded", "outcome", "ip_address"]
    list_filter = ["method", "succeeded", "provider"]
    search_fields = ["email", "outcome"]
    date_hierarchy = "at"
    list_select_related = ["provider"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
