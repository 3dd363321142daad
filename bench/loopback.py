"""The load test's one safety rule: it only ever targets a loopback address."""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import urlsplit


def require_loopback(url: str) -> None:
    """Exit (status 2) unless ``url`` is http(s) to a literal loopback address."""
    parts = urlsplit(url or "")
    try:
        loopback = parts.scheme in ("http", "https") and \
            ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        sys.stderr.write(f"Refusing to load-test {url!r}: only a loopback address such as "
                         "http://127.0.0.1:8001 may be targeted.\n")
        raise SystemExit(2)
