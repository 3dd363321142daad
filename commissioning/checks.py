"""Start-up checks of settings that a bad value would otherwise break quietly later."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import Error, register

OCDS_PREFIX_FORMAT = re.compile(r"^ocds-[a-z0-9]{6}$")


@register()
def ocds_prefix_check(app_configs, **kwargs) -> list[Error]:
    """OCDS_PREFIX must be a prefix Open Contracting registers: "ocds-" and six lower-case
    letters or digits. Every published ocid starts with it, and checkers refuse any other."""
    prefix = getattr(settings, "OCDS_PREFIX", "")
    if OCDS_PREFIX_FORMAT.match(prefix):
        return []
    return [Error(
        f"OCDS_PREFIX is {prefix!r}: it must be 'ocds-' followed by six lower-case letters "
        "or digits, the prefix Open Contracting registered for the publisher "
        "(like ocds-a1b2c3).",
        hint="Set the OCDS_PREFIX environment variable to your registered prefix.",
        id="commissioning.E101",
    )]
