"""Who is calling the API: a personal access token (``Authorization: Bearer jc_…``), or the
signed-in session of the service's own pages (so the documentation page and a browser can
read it). Whether a token may act is decided by ``api.tokens.check_secret``."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from commissioning import access

from .models import ApiToken
from .tokens import SecretRefused, check_secret


class TokenRefused(exceptions.APIException):
    """A refused token, with the status ``check_secret`` chose (401 or 403)."""

    def __init__(self, refused: SecretRefused):
        super().__init__(refused.message, refused.code)
        self.status_code = refused.status


class PersonalAccessTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'.", "token_malformed")
        try:
            token = check_secret(ApiToken, parts[1])
        except SecretRefused as refused:
            if refused.status == 401:
                raise exceptions.AuthenticationFailed(refused.message, refused.code) from None
            raise TokenRefused(refused) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes a missing or refused token a 401 with WWW-Authenticate, not a 403.
        return 'Bearer realm="api"'


class SignedInSessionAuthentication(SessionAuthentication):
    """The service's own session, acting for the organisation chosen in it (set by
    ``CurrentOrganisationMiddleware``), when that organisation allows API access."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        organisation = access.current_organisation(result[0])
        if organisation is not None and not organisation.api_access_enabled:
            raise TokenRefused(SecretRefused(f"{organisation.name} has turned API access off.",
                                             status=403, code="api_access_off"))
        return result

    def enforce_csrf(self, request) -> None:
        # The API never writes: every method but GET, HEAD and OPTIONS is refused with a 405
        # (``ReadOnlyForSignedIn``), so there is no change for a forged request to make, and
        # the answer stays the documented 405 rather than a CSRF 403.
        return None
