"""Reflow at 320 CSS px (WCAG 2.2 1.4.10, 1280 px at 400% zoom) over the demo, role by role.

Each demo role signs in through the real pages, then a crawler follows every link it is shown
(same site, GET, HTML pages only) at a 320 px wide viewport. On each page: the page itself
must not scroll sideways (wide tables scroll inside their own focusable region instead), and
axe, with the WCAG 2.2 target-size rule switched on, must find nothing serious or critical.

To keep the run short (CI budget), each page *shape* is visited once, by the first role that
reaches it: numbers in the path are treated as one (``/contracts/12/`` and ``/contracts/13/``
are the same template), and query strings (sorting, filters, page numbers) are not followed.
Roles go from the widest view to the narrowest, so a shape is checked with the most on it;
pages only a provider reaches are checked as the provider. Django's admin is not ours to
restyle and is left out.
"""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Browser, Page

from commissioning.demo import DEMO_PASSWORD
from commissioning.models import User
from commissioning.tests.browser import give_authenticator, sign_in_verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 320
# One demo person per role (the commissioner is also a partnership administrator).
DEMO_ROLES = {
    "commissioner and partnership admin": "josepha.reynolds@bromley.example.org",
    "contract manager": "alicia.munday@bromley.example.org",
    "finance officer": "finance.officer@bromley.example.org",
    "report officer": "report.officer@bromley.example.org",
    "read only": "viewer@bromley.example.org",
    "provider submitter": "submitter@bromleywell.example.org",
    "provider approver": "approver@bromleywell.example.org",
    "staff administrator": "admin@example.org",
}
SKIPPED_PREFIXES = ("/admin/", "/static/", "/media/", "/sign-out", "/__")
FILE_SUFFIX = re.compile(r"\.(pdf|csv|xlsx|docx|json|ics|zip|txt|xml)$", re.I)
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
SERIOUS = {"serious", "critical"}


def page_shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def links_on(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(a => a.href)"
    )


def check_page(page: Page, axe: Axe, role: str) -> list[str]:
    problems = []
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        problems.append(f"{role}: {page.url} scrolls sideways "
                        f"({scroll_width} px wide in a {inner_width} px window)")
    results = axe.run(page, options=AXE_OPTIONS)
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
            problems.append(f"{role}: {page.url}: {violation['id']} ({violation['impact']}): "
                            f"{violation['help']} at {targets}")
    return problems


def crawl(page: Page, base: str, role: str, axe: Axe,
          seen_shapes: set[str]) -> tuple[int, list[str]]:
    """Visit every page shape this person can reach by following links (less those already
    checked); return how many pages were checked and what was wrong."""
    origin = urlparse(base).netloc
    queue = [base + "/"]
    seen_shapes.discard("/")  # each role's own dashboard
    problems: list[str] = []
    visited = 0
    while queue:
        url = queue.pop(0)
        parsed = urlparse(url)
        shape = page_shape(parsed.path)
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        try:
            response = page.goto(url)
        except Exception as error:  # a file download starts instead of a page
            if "Download is starting" in str(error):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 500:
            problems.append(f"{role}: {url} answered {response.status}")
            continue
        if urlparse(page.url).netloc != origin:
            continue
        visited += 1
        problems += check_page(page, axe, role)
        for href in links_on(page):
            link, _fragment = urldefrag(urljoin(page.url, href))
            target = urlparse(link)
            if (target.netloc != origin or target.scheme not in ("http", "https")
                    or target.path.startswith(SKIPPED_PREFIXES)
                    or FILE_SUFFIX.search(target.path)):
                continue
            if page_shape(target.path) not in seen_shapes:
                queue.append(f"{target.scheme}://{target.netloc}{target.path}")
    return visited, problems


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_it_reflows_every_page_of_every_demo_role_at_320_px_with_no_serious_axe_problems(
    browser: Browser, live_server
):
    call_command("load_demo", stdout=StringIO())
    axe = Axe()
    base = live_server.url
    problems: list[str] = []
    counts = {}
    seen_shapes: set[str] = set()
    for role, email in DEMO_ROLES.items():
        user = User.objects.get(email=email)
        give_authenticator(user)
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        page = context.new_page()
        sign_in_verified(page, base, user, password=DEMO_PASSWORD)
        counts[role], found = crawl(page, base, role, axe, seen_shapes)
        context.close()
        problems += found
    print("\nPages checked at 320 px: " + ", ".join(f"{r} {n}" for r, n in counts.items()))
    assert all(counts.values()), counts
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
