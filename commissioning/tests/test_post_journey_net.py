"""The POST-journey net: every view that accepts POST is driven by a browser journey.

The POST views come from the URLconf (``journeys.post_views``: the methods each view declares).
Each browser journey declares the views it drives with ``@pytest.mark.covers(...)``, and the
plugin in ``journeys.py`` fails it if its browser did not POST each of them through a page
(a navigation from a submitted form, answered with a page or a redirect). This test reads the
declarations of every test module and fails with the name of each POST view no journey covers,
so a new POST view without a browser journey fails the suite.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from django.conf import settings

from commissioning.tests.journeys import COVERS, post_views

APPS = ("commissioning", "contracts", "funding", "monitoring", "api")


def declared_covers() -> dict[str, list[str]]:
    """URL name -> the browser tests (module::function) that declare they cover it."""
    covered: dict[str, list[str]] = {}
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((root / app).rglob("tests/test_*.py")):
            module_name = ".".join(path.relative_to(root).with_suffix("").parts)
            module = importlib.import_module(module_name)
            for name, function in vars(module).items():
                if not (name.startswith("test_") and inspect.isfunction(function)):
                    continue
                for mark in getattr(function, "pytestmark", []):
                    if mark.name != COVERS:
                        continue
                    # "page", or "browser" for a journey in a context of its own (with
                    # JavaScript turned off, say).
                    assert {"page", "browser"} & set(inspect.signature(function).parameters), (
                        f"{module_name}::{name} declares {COVERS} but drives no browser")
                    for view in mark.args:
                        covered.setdefault(view, []).append(f"{module_name}::{name}")
    return covered


def test_every_post_view_is_driven_by_a_browser_journey():
    accepting, undeclared = post_views()
    assert not undeclared, (
        "views that read POST data without declaring their methods (use "
        f"require_http_methods): {undeclared}")
    covered = declared_covers()
    missing = sorted(accepting - set(covered))
    unknown = sorted(set(covered) - accepting)
    assert not unknown, f"covers() names views that do not accept POST: {unknown}"
    print(f"\nPOST-journey net: {len(accepting)} POST views, "
          f"{len(accepting) - len(missing)} covered by browser journeys")
    assert not missing, "\n".join(f"POST view with no browser journey: {n}" for n in missing)
