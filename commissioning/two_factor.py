"""Two-factor sign-in: who must use it, setting up an authenticator app, backup codes.

TOTP (RFC 6238) through django-otp, with ten single-use backup codes. Staff and everyone with
a commissioner-side role must use it; providers may opt in, and must when a partnership they
deliver a contract for requires it.
"""

from __future__ import annotations

import secrets
from base64 import b32encode
from collections.abc import Callable
from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning.models import (
    COMMISSIONER_SIDE_ROLES,
    COMMISSIONING_KINDS,
    Membership,
    Partnership,
    User,
)

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def is_required(user: User) -> bool:
    """Must this person use a second factor to sign in?"""
    if not settings.TWO_FACTOR_ENABLED:
        return False
    if user.is_staff or user.is_superuser:
        return True
    memberships = Membership.objects.filter(user=user, is_active=True)
    if memberships.filter(
        role__in=COMMISSIONER_SIDE_ROLES, organisation__kind__in=COMMISSIONING_KINDS
    ).exists():
        return True
    provider_ids = memberships.exclude(organisation__kind__in=COMMISSIONING_KINDS).values(
        "organisation_id"
    )
    # Partnerships reach providers through their contracts (the reverse relation), so the
    # core needs no import from the contracts app.
    return Partnership.objects.filter(
        providers_require_two_factor=True, contracts__provider__in=provider_ids
    ).exists()


def has_second_factor(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_app_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one at a time), created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=18, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    return svg.replace(
        "<svg ", '<svg role="img" aria-label="QR code to add this service to your '
        'authenticator app" ', 1)


def readable_secret(device: TOTPDevice) -> str:
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def _normalise(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum()).lower()


@transaction.atomic
def confirm_app_device(*, request: HttpRequest, token: str) -> list[str] | None:
    """Check the first code from the new authenticator. On success the device is confirmed,
    any older one removed, fresh backup codes issued (returned once), and the session is
    marked as verified."""
    user = request.user
    device = pending_app_device(user)
    if not device.verify_token(_normalise(token)):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = regenerate_backup_codes(user=user)
    otp_login(request, device)
    return codes


@transaction.atomic
def regenerate_backup_codes(*, user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def verify(*, request: HttpRequest, token: str) -> bool:
    """Accept a code from the authenticator app or an unused backup code."""
    cleaned = _normalise(token)
    if not cleaned:
        return False
    # Try only the kind of device the code's shape fits (6 digits: the app; 8: a backup
    # code), so using a backup code does not count as a failed attempt on the app.
    model = TOTPDevice if len(cleaned) == 6 else StaticDevice
    for device in model.objects.filter(user=request.user, confirmed=True):
        if device.verify_token(cleaned):
            otp_login(request, device)
            return True
    return False


def remaining_backup_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


NOT_NEEDED_SESSION_KEY = "two_factor_not_needed"

# Pages a signed-in person may open before the second step. Everything else waits.
_EXEMPT_URL_NAMES = ("two_factor_setup", "two_factor_verify", "logout", "accessibility",
                     "healthcheck")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt: tuple[str, ...] | None = None

    def _exempt_paths(self) -> tuple[str, ...]:
        if self._exempt is None:
            self._exempt = (*(reverse(name) for name in _EXEMPT_URL_NAMES),
                            settings.STATIC_URL)
        return self._exempt

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.session.get(NOT_NEEDED_SESSION_KEY)
            and not request.path.startswith(self._exempt_paths())
        ):
            if has_second_factor(user):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('two_factor_verify')}?{query}")
            if is_required(user):
                return redirect(reverse("two_factor_setup"))
            # Checked once per session: a provider who has not opted in is not asked again.
            request.session[NOT_NEEDED_SESSION_KEY] = True
        return self.get_response(request)
