"""What each browser journey POSTs, recorded from the browser itself (a pytest plugin).

A journey declares the POST views it drives through their pages::

    @pytest.mark.covers("funding:agreement_create", "funding:scheme_create")
    def test_commissioner_records_an_agreement(page, live_server, world): ...

While a test that uses Playwright's ``page`` runs, every response its browser context receives
is watched. A POST counts for a view when it was a navigation of a page (a form that a person
submitted with its button, not a ``fetch`` nor a request the test made itself), its URL
resolves to the view, and the view did what was asked: it redirected (POST/redirect/GET), or
answered 200 with a page that shows no GOV.UK error summary (a page of backup codes, say). A
form sent back with errors, a refusal (4xx) or a failure (5xx) does not count. When the test
ends, every view it declared must have been POSTed that way, or the test fails. The net
(``test_post_journey_net.py``) compares the declared views with the POST views of the URLconf.

``JOURNEY_LOG=<file>`` writes what each browser test posted as JSON when the session ends.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

COVERS = "covers"
POSTED: dict[str, list[str]] = {}  # test id -> views its browser POSTed through a page


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", f"{COVERS}(*views): URL names of the POST views this browser journey "
                   "drives through their rendered pages; checked from the browser's own "
                   "requests when the test ends")


def view_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def _accepted(response) -> bool:
    """A POST the view carried out: a redirect, or a page (or download) without errors."""
    if 300 <= response.status < 400:
        return True
    if response.status != 200:
        return False
    try:
        body = response.text()
    except Exception:  # noqa: BLE001 - a download's body is not kept: nothing to refuse it
        return True
    return "govuk-error-summary" not in body


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.journey_call_failed = report.failed  # its own failure says more than ours
    return report


@pytest.fixture(autouse=True)
def _posts_through_pages(request) -> Iterator[None]:
    # Browser tests only (marked "browser"): a test may name a parameter "page" for other
    # reasons, and opening a browser context for it would break its database transaction.
    if "page" not in request.fixturenames or request.node.get_closest_marker("browser") is None:
        yield
        return
    context = request.getfixturevalue("context")
    posted: list[str] = []

    def on_response(response) -> None:
        sent = response.request
        if sent.method != "POST" or not sent.is_navigation_request():
            return
        name = view_name(sent.url)
        if name and _accepted(response):
            posted.append(name)

    context.on("response", on_response)
    yield
    context.remove_listener("response", on_response)
    POSTED[request.node.nodeid] = posted
    if getattr(request.node, "journey_call_failed", False):
        return
    missing = sorted(set(declared_views(request.node)) - set(posted))
    if missing:
        pytest.fail(f"declared @pytest.mark.covers but never POSTed through a page by the "
                    f"browser (and carried out): {', '.join(missing)} "
                    f"(carried out: {', '.join(sorted(set(posted))) or 'none'})", pytrace=False)


def declared_views(item) -> list[str]:
    return [name for mark in item.iter_markers(COVERS) for name in mark.args]


def pytest_sessionfinish(session) -> None:
    path = os.environ.get("JOURNEY_LOG")
    if path and POSTED:
        with open(path, "w") as handle:
            json.dump({test: sorted(set(views)) for test, views in POSTED.items()}, handle,
                      indent=1, sort_keys=True)


# --- The POST views of the URLconf ----------------------------------------------------------

def _patterns(resolver: URLResolver | None = None,
              namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, f"{namespace}{entry.namespace}:" if entry.namespace
                                 else namespace)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry


def declared_methods(callback) -> set[str] | None:
    """The methods a view says it accepts: a class-based view's handlers, or the list given to
    ``require_http_methods`` / ``require_POST`` / ``require_GET`` anywhere in its decorators.
    None when a function view declares nothing."""
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a REST framework viewset: its route maps methods to actions
        return {m.upper() for m in actions}
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    function = callback
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = function.__closure__[code.co_freevars.index("request_method_list")]
            return {m.upper() for m in cell.cell_contents}
        function = getattr(function, "__wrapped__", None)
    return None


def reads_post(callback) -> bool:
    """Whether a view's own code looks at POST data or compares the method (for views that
    declare no methods: these must declare them)."""
    source = inspect.getsource(inspect.unwrap(callback))
    return "POST" in source or "request.method" in source


def post_views() -> tuple[set[str], list[str]]:
    """(URL names whose view accepts POST, views that handle POST without declaring it).

    A view accepts POST when it declares it (``require_http_methods([... "POST"])``,
    ``require_POST``, a class-based view with ``post``). A function view that declares no
    methods answers a POST as it answers a GET; if its code reads POST data it must declare its
    methods, so that this list cannot miss it."""
    accepting, undeclared = set(), []
    for name, pattern in _patterns():
        if name.startswith("admin:"):
            continue
        methods = declared_methods(pattern.callback)
        if methods is None:
            if reads_post(pattern.callback):
                undeclared.append(name)
        elif "POST" in methods:
            accepting.add(name)
    return accepting, undeclared
