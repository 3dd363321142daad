"""Personal access tokens for the read-only API, and private calendar feed links.

Both are secrets a person creates for themselves on "Your account". Only a SHA-256 hash of
the secret is stored (the secret is 256 random bits, so a slow password hash adds nothing);
the secret is shown once, when it is created. Each acts for the organisation the person was
acting for when they created it, with the roles they hold there *now*: a role removed takes
the data away at once (``api.tokens``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from commissioning.models import Organisation


class Secret(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="The organisation it acts for (none: a platform administrator)")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiToken(Secret):
    """A personal access token: ``Authorization: Bearer <token>`` on ``/api/v1/``."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False,
                              help_text="The token's first characters, to recognise it")
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


class CalendarFeed(Secret):
    """A private iCalendar feed link of the key dates its owner can see."""

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({self.created_at:%Y-%m-%d})"
