"""Requests are counted per token (per user for the session), in the shared cache (Redis in
production), at ``settings.API_RATE``. A throttled request is a 429 with Retry-After. When the
cache does not answer, requests are served uncounted (and the outage logged), as pages are
(commissioning.datacache): an outage of the counter never becomes a 500."""

from __future__ import annotations

import logging

from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # the shared cache did not answer: serve, uncounted
            logger.warning("API throttle: the cache did not answer; request not counted",
                           exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"t{request.auth.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"u{request.user.pk}"}
        return None  # refused before it gets here
