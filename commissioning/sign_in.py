"""Who is signing in, from where, and when to stop them guessing (django-axes plugs in here).

The lock-out rule, in one place:

- **An e-mail address from one network**: after ``AXES_FAILURE_LIMIT`` (5) failures that pair is
  refused for ``AXES_COOLOFF_TIME`` (30 minutes). The e-mail address is normalised (stripped,
  case-folded), so ``Cara@Example.org`` and ``cara@example.org`` share one counter, as they
  are one account. A network is the client's IPv4 address, or its IPv6 /64 (one home or
  office line holds a whole /64, so counting single IPv6 addresses would give it billions of
  counters).
- **An e-mail address from anywhere**: once failures from many networks add up to
  ``SIGN_IN_ACCOUNT_FAILURE_LIMIT`` within ``SIGN_IN_ACCOUNT_COOLOFF_MINUTES`` (each network
  counting at most ``AXES_FAILURE_LIMIT``, so one network hammering cannot reach it alone),
  the address is refused from every network *except those it has signed in from before*
  (axes' access log), until that window passes. This caps a distributed guesser (a botnet
  gets ~50 guesses a quarter of an hour, not 5 per address it owns) without letting anyone
  lock a person out of their usual office or home network.
- The refusal is the same page whether or not an account exists, and a lock-out is counted
  for unknown addresses exactly as for known ones, so neither reveals an account.

The client address is taken from ``X-Forwarded-For`` only when ``PROXY_COUNT`` says how many
proxies in front of the app append to it (``BEHIND_TLS_PROXY=true`` implies one): the entry
that many places from the right is the address the outermost trusted proxy saw, which a
client cannot forge by sending its own header (anything it sends ends up further left).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

KNOWN_NETWORK_DAYS = 90  # a successful sign-in from a network makes it "usual" this long


def normalise_email(value: object) -> str:
    """The form of an e-mail address that identifies an account: stripped and case-folded."""
    return str(value or "").strip().casefold()


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """``AXES_USERNAME_CALLABLE``: the normalised e-mail address being tried, cut to the 255
    characters axes records (a form accepts addresses up to 320)."""
    if credentials:
        raw = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        raw = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD)
    return normalise_email(raw)[:255]


def _network(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


def client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the client's network address behind ``PROXY_COUNT`` proxies.

    With no proxy, ``REMOTE_ADDR``. With N proxies, the N-th ``X-Forwarded-For`` entry from
    the right (each proxy appends the address it was connected from). A header with fewer
    entries than proxies has only trusted entries, so its first is the client; an entry that
    is not an IP address is ignored in favour of ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    count = settings.PROXY_COUNT
    candidate = remote
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if hop.strip()]
        if hops:
            candidate = hops[-count] if len(hops) >= count else hops[0]
    return _network(candidate) or _network(remote)


def _account_failures(username: str, since) -> int:
    """Failures for this e-mail address since ``since``, each network counting at most the
    per-network limit."""
    per_network = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
                   .values("ip_address").annotate(failures=Sum("failures_since_start")))
    cap = settings.AXES_FAILURE_LIMIT
    return sum(min(row["failures"] or 0, cap) for row in per_network)


def _usual_network(username: str, ip_address: str | None) -> bool:
    if not ip_address:
        return False
    since = timezone.now() - timedelta(days=KNOWN_NETWORK_DAYS)
    return AccessLog.objects.filter(username__iexact=username, ip_address=ip_address,
                                    attempt_time__gte=since).exists()


class SignInAttempts(AxesDatabaseHandler):
    """axes' database handler plus the account-wide limit described above."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = settings.AXES_FAILURE_LIMIT
        if failures >= limit:
            return failures
        username = get_client_username(request, credentials)
        if not username:
            return failures
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        since = now - timedelta(minutes=settings.SIGN_IN_ACCOUNT_COOLOFF_MINUTES)
        if (_account_failures(username, since) >= settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
                and not _usual_network(username, getattr(request, "axes_ip_address", None))):
            return limit
        return failures
