"""Templates decide nothing about who may see what: every page gets the answer from
commissioning/access.py (``can_see_funding``, ``shows_own_returns``, ``can_open_admin``...)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROLE_CHECK = re.compile(
    r"{%-?\s*(?:el)?if\b[^%]*\b(?:is_provider|is_commissioner|perms|is_staff|is_superuser|"
    r"has_role|roles?)\b[^%]*%}")


def test_it_finds_no_role_or_permission_check_in_any_template():
    found = []
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                found += [f"{path.relative_to(directory)}:{number}: {m.group(0)}"
                          for m in ROLE_CHECK.finditer(line)]
    assert not found, "\n".join(found)
