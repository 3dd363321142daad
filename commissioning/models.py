"""Organisations, partnerships, people and their roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_otp.models import Device, DeviceManager
from simple_history.models import HistoricalRecords

from commissioning import identifiers


class OrganisationKind(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    NHS_COMMISSIONER = "nhs_commissioner", "NHS commissioner (ICB, formerly CCG)"
    NHS_TRUST = "nhs_trust", "NHS trust"
    VCSE = "vcse", "Voluntary, community or social enterprise"
    INDEPENDENT_PROVIDER = "independent_provider", "Independent provider"
    OTHER_PUBLIC_BODY = "other_public_body", "Other public body"


COMMISSIONING_KINDS = (OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.NHS_COMMISSIONER)


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner"
    CONTRACT_MANAGER = "contract_manager", "Contract manager"
    FINANCE_OFFICER = "finance_officer", "Finance officer"
    REPORT_OFFICER = "report_officer", "Report officer"
    PROVIDER_SUBMITTER = "provider_submitter", "Provider submitter"
    PROVIDER_APPROVER = "provider_approver", "Provider approver"
    READ_ONLY = "read_only", "Read only"
    PARTNERSHIP_ADMIN = "partnership_admin", "Partnership administrator"


COMMISSIONER_SIDE_ROLES = frozenset(
    {
        Role.COMMISSIONER,
        Role.CONTRACT_MANAGER,
        Role.FINANCE_OFFICER,
        Role.REPORT_OFFICER,
        Role.READ_ONLY,
        Role.PARTNERSHIP_ADMIN,
    }
)
PROVIDER_ROLES = frozenset({Role.PROVIDER_SUBMITTER, Role.PROVIDER_APPROVER})


class OrganisationQuerySet(models.QuerySet):
    def commissioners(self) -> OrganisationQuerySet:
        return self.filter(kind__in=COMMISSIONING_KINDS)

    def providers(self) -> OrganisationQuerySet:
        return self.exclude(kind__in=COMMISSIONING_KINDS)


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60, blank=True)
    kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    ods_code = models.CharField(
        "ODS code", max_length=10, blank=True, help_text="NHS Organisation Data Service code"
    )
    registration_number = models.CharField(
        "Companies House or charity number", max_length=20, blank=True
    )
    is_sme = models.BooleanField("SME", default=False)
    is_vcse = models.BooleanField("VCSE", default=False)
    is_active = models.BooleanField("active", default=True)
    # Off: the organisation's people's API tokens and calendar feeds are refused (api app).
    api_access_enabled = models.BooleanField(
        "API access", default=True,
        help_text="Let this organisation's people read its data through the API and "
                  "calendar feeds")
    # Identifiers, address and contact point: what Find a Tender and OCDS parties carry
    # (formats in commissioning.identifiers).
    ppon = models.CharField(
        "PPON", max_length=14, blank=True, validators=[identifiers.validate_ppon],
        help_text="Public Procurement Organisation Number from the Central Digital Platform, "
                  "like PABC-1234-DEFG")
    registration_scheme = models.CharField(
        "registered with", max_length=10, blank=True,
        choices=identifiers.RegistrationScheme.choices)
    local_authority_code = models.CharField(
        "local authority code", max_length=4, blank=True,
        validators=[identifiers.validate_local_authority_code],
        help_text="The council's code in the register of English local authorities, like CAM")
    street_address = models.CharField(max_length=200, blank=True)
    locality = models.CharField("town or city", max_length=100, blank=True)
    postal_code = models.CharField("postcode", max_length=10, blank=True)
    contact_name = models.CharField("contact name", max_length=120, blank=True)
    contact_email = models.EmailField("contact email address", blank=True)
    contact_telephone = models.CharField("contact telephone", max_length=30, blank=True)

    objects = OrganisationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"], condition=~Q(ods_code=""), name="organisation_unique_ods"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def is_commissioner(self) -> bool:
        return self.kind in COMMISSIONING_KINDS

    def clean(self) -> None:
        """Identifiers are stored in one form, and a registration number must match the
        register it is said to be from."""
        super().clean()
        self.ppon = identifiers.normalise(self.ppon)
        self.local_authority_code = identifiers.normalise(self.local_authority_code)
        self.postal_code = " ".join(self.postal_code.upper().split())
        if self.registration_number and self.registration_scheme:
            try:
                self.registration_number = identifiers.check(
                    self.registration_scheme, self.registration_number)
            except ValidationError as error:
                raise ValidationError({"registration_number": error.messages}) from None
        elif self.registration_number and not self.registration_scheme:
            raise ValidationError({"registration_scheme": "Select which register the number "
                                   "is from"})

    @property
    def identifiers(self) -> list[tuple[str, str]]:
        """(scheme, id) pairs, PPON first (``commissioning.identifiers.identifiers``)."""
        return identifiers.identifiers(
            ppon=self.ppon, registration_scheme=self.registration_scheme,
            registration_number=self.registration_number, ods_code=self.ods_code,
            local_authority_code=self.local_authority_code)


class Partnership(models.Model):
    """A joint commissioning partnership of two or more organisations."""

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60, blank=True)
    board_name = models.CharField(
        max_length=200, blank=True, help_text="e.g. Integrated Commissioning Board"
    )
    organisations = models.ManyToManyField(
        Organisation, through="PartnershipMember", related_name="partnerships"
    )
    is_active = models.BooleanField("active", default=True)
    providers_require_two_factor = models.BooleanField(
        "providers must use two-factor sign-in",
        default=False,
        help_text="Staff of the providers of this partnership's contracts must set up a "
        "second factor. Commissioners always must.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def get_absolute_url(self) -> str:
        return reverse("partnership_detail", args=[self.pk])


class PartnershipMember(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partnership_memberships"
    )
    joined_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "organisation"], name="partnership_member_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.partnership}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("Users must have an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_staff = models.BooleanField(
        "staff", default=False, help_text="Can sign in to the administration site."
    )
    is_active = models.BooleanField("active", default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Membership(models.Model):
    """A user's role in an organisation. A user may hold several roles and organisations."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]
        indexes = [models.Index(fields=["organisation", "role"])]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.organisation}"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """A one-time link an administrator sends so a new user can set a password.

    Only a hash of the token is stored: a database leak does not reveal live links.
    """

    email = models.EmailField("e-mail address")
    full_name = models.CharField(max_length=150)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
    )

    objects = InvitationQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, _hash_token(token)

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_token(token)

    @staticmethod
    def default_expiry():
        return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "Accepted"
        if self.revoked_at:
            return "Revoked"
        if self.is_expired:
            return "Expired"
        return "Pending"


class OutboundEmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundEmail(models.Model):
    """An e-mail the service must send. Written in the same transaction as the change that
    caused it, so a message is never lost: if the broker is down when the change is saved,
    the row waits and a scheduled job hands it to a worker when the broker is back."""

    subject = models.CharField(max_length=250)
    body = models.TextField()
    to = models.JSONField()
    status = models.CharField(
        max_length=10, choices=OutboundEmailStatus.choices, default=OutboundEmailStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When a worker last took it to send")
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.to)}"


# --- Single sign-on (OpenID Connect; the rules live in commissioning/sso.py) ----------------

class IdentityProvider(models.Model):
    """An organisation's OpenID Connect provider (its Microsoft Entra ID tenant, NHSmail).

    Set by a platform administrator. The client secret is never stored here: the row names the
    environment variable that holds it, so a database copy reveals no credential.
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE,
                                        related_name="identity_provider")
    name = models.CharField(
        max_length=100, help_text="Shown to people, e.g. 'Barnet Council Microsoft account'")
    issuer = models.URLField(
        max_length=300,
        help_text="The issuer exactly as the provider's discovery document states it, e.g. "
        "https://login.microsoftonline.com/<tenant id>/v2.0")
    client_id = models.CharField(max_length=200)
    client_secret_env = models.CharField(
        "client secret environment variable", max_length=100,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9_]*$",
                                   "Use capital letters, digits and underscores, like "
                                   "SSO_BARNET_CLIENT_SECRET")],
        help_text="The name of the environment variable that holds the client secret")
    allowed_domains = models.TextField(
        help_text="E-mail domains whose people sign in here, one a line (e.g. barnet.gov.uk)")
    scopes = models.CharField(max_length=200, default="openid email profile")
    mfa_acr_values = models.CharField(
        "acr values that mean multi-factor", max_length=300, blank=True,
        help_text="Space-separated. An ID token whose amr contains 'mfa' always counts.")
    requires_sso = models.BooleanField(
        "require single sign-on", default=False,
        help_text="People of this organisation cannot sign in with a password (platform "
        "administrators can, as a break-glass route)")
    is_enabled = models.BooleanField("enabled", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    @property
    def domains(self) -> list[str]:
        return [line.strip().lstrip("@").casefold()
                for line in self.allowed_domains.replace(",", "\n").splitlines()
                if line.strip()]


class ExternalIdentity(models.Model):
    """A person's account at an organisation's provider, linked on first sign-in by verified
    e-mail and afterwards matched by the provider's stable subject identifier (``sub``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE,
                                 related_name="identities")
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"],
                                    name="external_identity_unique_subject"),
            models.UniqueConstraint(fields=["provider", "user"],
                                    name="external_identity_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.provider.name}"


class SignInMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    SSO = "sso", "Organisation account"


class SignInEvent(models.Model):
    """The sign-in log: every sign-in and every refused one, by either route."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    email = models.CharField("e-mail address", max_length=255, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="sign_in_events")
    method = models.CharField(max_length=10, choices=SignInMethod.choices)
    provider = models.ForeignKey(IdentityProvider, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="sign_in_events")
    succeeded = models.BooleanField()
    outcome = models.CharField(max_length=60, help_text="'signed in' or why it was refused")
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.email} {self.get_method_display()} {self.outcome}"


class _ProviderDeviceManager(DeviceManager):
    def devices_for_user(self, user, confirmed=None):
        # Not a second factor the person can use here: the product's own verification page
        # and "has a second factor" look only at their authenticator app and backup codes.
        return self.none()


class ProviderMultiFactor(Device):
    """Marks a session as two-factor verified because the person's organisation's provider
    said, in a checked ID token, that it performed multi-factor authentication
    (django-otp counts a session as verified when it names a confirmed device)."""

    objects = _ProviderDeviceManager()

    def verify_token(self, token) -> bool:
        return False


class DataVersion(models.Model):
    """One row: a counter PostgreSQL moves on when a transaction that changed the service's
    data commits (triggers installed by ``commissioning.datacache``), and a random epoch
    chosen when the row is made. Together they name the state of the data that remembered
    pages (``datacache.remember``) were worked out from."""

    epoch = models.CharField(max_length=32)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "data version"

    def __str__(self) -> str:
        return f"{self.epoch}.{self.version}"
