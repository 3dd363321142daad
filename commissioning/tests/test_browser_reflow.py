"""Reflow at 320 CSS px (WCAG 2.2 1.4.10, 1280 px at 400% zoom) over every page of every
demo role, with axe.

The demo is loaded (``load_demo``), and one side of the access matrix's objects
(``test_access_matrix.build_side``: an import, notices, a framework application, an assessment,
reports, an invitation...) is added to the demo's Bromley partnership, so that every URL pattern
of the access matrix has something to point at. Then each demo role signs in through the real
pages in Debian's Chromium at a 320 px wide viewport and:

- crawls every page it can reach by following links from its dashboard and the navigation (same
  site, GET, ``<a href>`` only, so nothing that changes state; downloads are recognised by their
  Content-Type or because Chromium starts a download, and skipped);
- then opens every GET URL of the access matrix (built from the side's objects) and checks the
  ones it may see, following their links too;
- on each page with a form that posts (the form-render net's ``FORM_PAGES``, less those where
  sending nothing would do something, ``NOT_SUBMITTED``), clears what can be typed and sends the
  form once, and checks the page that shows the errors;
- the first time it meets a page with a GET form (the register's, the inbox's and the
  overview's filters and search, the reports' filter, a chooser), checks the pages only that
  form shows, built from what it shows: a word of the list's first rows typed into the search
  box and sent with the form's button; one filter chosen, then every filter (the most
  selected-filter tags); a search that finds nothing; page 2 of those results where there is
  one (the paged lists have pages of 5 rows here, so the demo's have a page 2);
- the first time it meets a page with pickers (GOV.UK's accessible autocomplete: the CPV code,
  the provider filter), types the start of a word into each and checks the page with the
  suggestions shown.

Every page is measured as it loads, and again with every closed ``<details>`` opened and every
collapsed section (a hidden filter panel, the service navigation's menu at this width) shown:
content that is only there once opened must reflow too.

Pages are told apart by (role, path with numbers replaced by N, names of the query's
parameters): ``/contracts/12/`` and ``/contracts/13/`` are one page per role, so are the
register sorted one way or another, but its second page, a statement for another year or a
performance page showing one KPI's chart are pages of their own. The same page is checked again
for each role, because what a role is shown differs. On each page: the page itself must not
scroll sideways (``document.documentElement.scrollWidth <= 320``; wide tables scroll inside
their own focusable region instead), and axe, with the WCAG 2.2 target-size rule switched on
(24 by 24 px targets, such as the links in tables), must find nothing serious or critical.
Every problem of every role is collected and reported together as (role, URL, problem).
Django's admin is not ours to restyle and is left out.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from io import StringIO
from types import SimpleNamespace
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, Error, Page

from commissioning.demo import DEMO_PASSWORD
from commissioning.models import Organisation, Partnership, User
from commissioning.tests.browser import give_authenticator, sign_in_verified
from commissioning.tests.test_access_matrix import ACCESS, _cases, build_side
from commissioning.tests.test_form_render_net import DOWNLOAD, FORM_PAGES, WITHOUT_FORM
from contracts import views as contracts_views
from monitoring import views as monitoring_views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 320
# Every role the demo has a person for (commissioning/demo.py), commissioners of both kinds of
# commissioning organisation among them.
DEMO_ROLES = {
    "platform administrator": "admin@example.org",
    "commissioner and partnership administrator (council)":
        "josepha.reynolds@bromley.example.org",
    "commissioner (council)": "richard.ellis@merton.example.org",
    "commissioner (ICB)": "paul.feven@selondon-icb.example.org",
    "contract manager": "alicia.munday@bromley.example.org",
    "finance officer": "finance.officer@bromley.example.org",
    "report officer": "report.officer@bromley.example.org",
    "read only": "viewer@bromley.example.org",
    "provider submitter": "submitter@bromleywell.example.org",
    "provider approver": "approver@bromleywell.example.org",
}
SKIPPED_PREFIXES = ("/admin/", "/static/", "/media/", "/sign-out", "/__")
FILE_SUFFIX = re.compile(r"\.(pdf|csv|xlsx|docx|json|ics|zip|txt|xml)$", re.I)
HTML = "text/html"
# Form pages where sending the form with nothing typed would act rather than complain: its
# choices come pre-selected (closing a year, importing the previewed rows, asking for a report),
# or it is the register's filter form (GET).
NOT_SUBMITTED = {
    "contracts:list": "a filter form (GET)",
    "contracts:import_detail": "imports the rows previewed",
    "contracts:import_map": "maps the columns as shown",
    "funding:year_end": "closes the financial year",
    "funding:import_preview": "imports the ledger previewed",
    "monitoring:report_list": "asks for a monthly report (a PDF is generated)",
    "login": "signed in already", "sso_sign_in": "signed in already",
    "password_reset": "signed in already", "password_reset_confirm": "signed in already",
    "invitation_accept": "signed in already", "two_factor_verify": "verified already",
    # Nothing on these must be filled in: sent as shown, they save.
    "contracts:cover": "every field optional", "organisation_details": "every field optional",
    "monitoring:assessment": "saves the draft",
}
SUBMITTED = set(FORM_PAGES) - set(NOT_SUBMITTED)
# axe's own run, with the WCAG 2.2 target-size rule on, answering only what is serious or
# critical.
AXE_RUN = """async () => {
  const results = await axe.run(document, {
    resultTypes: ["violations"], rules: {"target-size": {enabled: true}}});
  return results.violations
    .filter(v => ["serious", "critical"].includes(v.impact))
    .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
              v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""
# Before a page is measured a second time: every closed <details> opened, every collapsed
# section's button (``aria-expanded="false"``: the filter panel's hide/show button, the service
# navigation's menu at this width) pressed, and a filter panel hidden some other way shown.
# Answers how many things in the main content, and in the header, were opened.
OPEN_COLLAPSED = """() => {
  const opened = {main: 0, header: 0};
  const count = element => { opened[element.closest("main") ? "main" : "header"] += 1; };
  for (const details of document.querySelectorAll("details:not([open])")) {
    details.open = true; count(details);
  }
  for (const button of document.querySelectorAll(
      "button[type=button][aria-expanded=false][aria-controls]")) {
    if (button.getClientRects().length) { button.click(); count(button); }
  }
  for (const panel of document.querySelectorAll(".app-filter-panel[hidden]")) {
    panel.hidden = false; count(panel);
  }
  return opened;
}"""
# The GET forms of a page's main content (filters, searches, choosers), and what each shows:
# its fields' names, current values and, for a select, its options' values.
GET_FORMS = "main form:not([method=post i])"
FORM_FIELDS = """form => Array.from(form.elements)
  .filter(e => e.name && !e.disabled && !["submit", "button", "reset", "file"].includes(e.type)
               && (!["checkbox", "radio"].includes(e.type) || e.checked))
  .map(e => ({name: e.name, value: e.value, type: e.type, select: e.tagName === "SELECT",
              shown: e.type !== "hidden" && (e.getClientRects().length > 0
                                             || e.hasAttribute("data-app-autocomplete")),
              options: e.tagName === "SELECT" ? Array.from(e.options).map(o => o.value) : []}))"""
# Words of a list's first rows (a contract's title, a provider's name): a search for one of
# them finds something.
PAGE_WORDS = """() => Array.from(document.querySelectorAll(
    "main table tbody tr, main .govuk-summary-card__title, main .govuk-summary-list__value"))
  .slice(0, 5).map(e => e.textContent).join(" ")"""
# A picker's suggestions (GOV.UK accessible-autocomplete, commissioning/widgets.py): its box.
PICKERS = "main .autocomplete__wrapper > input.autocomplete__input"
# What is typed into a picker with no option on the page to take a word from: the CPV
# vocabulary and provider names both hold it.
PICKER_FALLBACK = "health"
NO_MATCH = "zzqxv"  # found in nothing: the list's empty result
TEXT_BOXES = ("main form[method=post] input:not([type]), main form[method=post] "
              "input:is([type=text],[type=email],[type=tel],[type=url],[type=number],"
              "[type=password],[type=search],[type=date]), main form[method=post] textarea")


def page_key(url: str) -> str:
    """What tells pages apart for one role: the path with numbers as N, and the names (not the
    values) of the query's parameters: ``/contracts/12/`` and ``/contracts/13/`` are one page,
    the register sorted by title or by value one page, its page 2 another."""
    parsed = urlparse(url)
    names = sorted({name for name, _value in parse_qsl(parsed.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parsed.path) + ("?" + "&".join(names) if names else "")


def url_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


@dataclass
class Visit:
    """One role's walk: what it has checked and what it found."""

    role: str
    base: str
    seen: set[str] = field(default_factory=set)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    checked: int = 0
    error_pages: int = 0
    not_refused: list[str] = field(default_factory=list)
    axe_seconds: float = 0.0
    opened: int = 0
    searched: set[str] = field(default_factory=set)
    suggested: set[str] = field(default_factory=set)
    suggestions: int = 0
    second_pages: int = 0
    # Time spent on searches, filters, pickers' suggestions and opened sections.
    extra_seconds: float = 0.0
    searching: bool = False
    results: int = 0
    header_checked: bool = False

    def problem(self, url: str, what: str) -> None:
        self.problems.append((self.role, url.removeprefix(self.base), what))

    def check(self, page: Page) -> None:
        """No sideways scroll at 320 px, and nothing serious for axe (which the context put in
        every page it loads); then again with every closed section opened (``OPEN_COLLAPSED``)
        when there was one. The header's menu, the same on every page, is checked by axe once
        per role; its width on every page."""
        self.checked += 1
        started = time.monotonic()
        shown = self.measure(page, page.url)
        opened = page.evaluate(OPEN_COLLAPSED)
        if opened["main"] or opened["header"]:
            with_axe = bool(opened["main"]) or not self.header_checked
            self.header_checked = self.header_checked or bool(opened["header"])
            self.opened += with_axe
            reopened = time.monotonic()
            self.measure(page, page.url, " (with every section opened)", with_axe=with_axe,
                         known=shown)
            if not self.searching:  # else counted with the search
                self.extra_seconds += time.monotonic() - reopened
        self.axe_seconds += time.monotonic() - started

    def measure(self, page: Page, url: str, state: str = "", with_axe: bool = True,
                known: frozenset[str] = frozenset()) -> frozenset[str]:
        """The page's width and axe's findings as it is now; problems in ``known`` (what the
        page showed before its sections were opened) are not reported again."""
        found = []
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            found.append("scrolls sideways")
            if "scrolls sideways" not in known:
                self.problem(url, f"scrolls sideways{state}: {width} px wide at {WIDTH} px")
        for violation in page.evaluate(AXE_RUN) if with_axe else []:
            found.append(violation)
            if violation not in known:
                self.problem(url, violation + state)
        return frozenset(found)

    def open(self, page: Page, url: str) -> bool:
        """Open ``url`` if its page has not been checked for this role; True when a page this
        role may see is now shown (checked by the caller)."""
        key = page_key(url)
        if key in self.seen:
            return False
        self.seen.add(key)
        if not self.load(page, url):
            return False
        # A redirect (the journey's first step, say): the page landed on, once.
        landed_key = page_key(page.url)
        if landed_key != key:
            if landed_key in self.seen:
                return False
            self.seen.add(landed_key)
        return True

    def load(self, page: Page, url: str) -> bool:
        """Open ``url``; True when a page of this site this role may see is shown."""
        try:
            response = page.goto(url)
        except Error as error:  # a file download starts instead of a page
            if "Download is starting" in str(error):
                return False
            raise
        return self.shown(page, url, response)

    def shown(self, page: Page, url: str, response) -> bool:
        if response is None:
            return False
        if response.status >= 500:
            self.problem(url, f"answered {response.status}")
            return False
        if response.status == 404 or HTML not in response.headers.get("content-type", ""):
            return False  # not for this role; or a download (CSV, PDF, JSON...)
        return urlparse(page.url).netloc == urlparse(self.base).netloc

    def submit_empty(self, page: Page) -> None:
        """On a form page: clear every text box of the page's posting form, send it once, and
        check the page with the errors."""
        if url_name(urlparse(page.url).path) not in SUBMITTED:
            return
        boxes = page.locator(TEXT_BOXES)
        if not boxes.count():
            return
        form_url = page.url
        form = boxes.first.locator("xpath=ancestor::form[1]")
        for index in range(boxes.count()):
            box = boxes.nth(index)
            if box.is_visible() and box.is_editable():
                box.fill("")
        button = form.locator("button:not([type=button]), input[type=submit]").first
        with page.expect_navigation():
            button.click()
        if not page.locator(".govuk-error-summary").count():
            self.not_refused.append(form_url.removeprefix(self.base))
            return
        self.error_pages += 1
        self.check(page)

    def search(self, page: Page, form_url: str) -> None:
        """On a page with GET forms (a list's filters or search, a chooser), the first time this
        role meets that page (its path, numbers as N; ``walk``): the pages only a search or a filter
        shows. For each form, from what it shows: a word of the list's first rows typed into its
        search box and the form sent with its button, as a person would; one filter chosen
        (the first shown select's first other option); every shown select given a choice (the
        most selected-filter tags); a search that finds nothing; and page 2 of the results where
        they have a next page. The last three are the form's own address with its own field
        names and option values."""
        if page.url != form_url and not self.load(page, form_url):
            return
        words = [word for word in re.findall(r"[A-Za-z]{4,}", page.evaluate(PAGE_WORDS))
                 if word.lower() not in {"with", "from", "this", "that", "view", "change"}]
        forms = []
        for index in range(page.locator(GET_FORMS).count()):
            form = page.locator(GET_FORMS).nth(index)
            action = form.evaluate("form => form.action") or form_url
            forms.append((action, form.evaluate(FORM_FIELDS)))
        for index, (action, fields) in enumerate(forms):
            urls = []
            box = next((f for f in fields if f["shown"] and f["type"] == "search"), None)
            if box and words:
                if page.url != form_url and not self.load(page, form_url):
                    return
                field_box = page.locator(GET_FORMS).nth(index).locator(
                    f"input[name='{box['name']}']").first
                field_box.fill(words[0])
                button = page.locator(GET_FORMS).nth(index).locator(
                    "button:not([type=button]), input[type=submit]").first
                with page.expect_navigation() as navigation:
                    button.click()
                if self.shown(page, page.url, navigation.value):
                    self.result(page)
            selects = [f for f in fields if f["shown"] and f["select"]
                       and [o for o in f["options"] if o and o != f["value"]]]
            filters = [f for f in selects if f["name"] != "sort"]
            if filters:
                first = filters[0]
                urls.append(form_query(action, fields, {first["name"]: next(
                    o for o in first["options"] if o and o != first["value"])}))
            if len(filters) > 1:
                urls.append(form_query(action, fields, {f["name"]: [
                    o for o in f["options"] if o and o != f["value"]][-1] for f in filters}))
            text = box or next((f for f in fields if f["shown"] and f["type"] == "text"), None)
            if text:
                urls.append(form_query(action, fields, {text["name"]: NO_MATCH}))
            for url in urls:
                if self.load(page, url):
                    self.result(page)

    def result(self, page: Page) -> None:
        """A page a form's search or filter led to, and its page 2 when it has one."""
        self.results += 1
        self.check(page)
        following = page.locator("main a[rel=next]")
        if following.count() and self.load(page, following.first.evaluate("a => a.href")):
            self.results += 1
            self.second_pages += 1
            self.check(page)

    def suggest(self, page: Page) -> None:
        """The first time this role meets a page (its path, numbers as N) with pickers: in each,
        the start of a word typed as a person would (a select's first option's, else one of the
        list's first rows, else ``PICKER_FALLBACK``), and the page measured with the
        suggestions (or "No results found") shown; then the box cleared."""
        pickers = page.locator(PICKERS)
        path = re.sub(r"\d+", "N", urlparse(page.url).path)
        if path in self.suggested or not (
                pickers.count() or page.locator("main [data-app-autocomplete]").count()):
            return
        self.suggested.add(path)
        try:  # the library is fetched once the page has loaded
            pickers.first.wait_for(state="attached", timeout=10_000)
        except Error:
            self.problem(page.url, "its pickers were not made autocompletes")
            return
        words = re.findall(r"[A-Za-z]{4,}", page.evaluate(PAGE_WORDS))
        for index in range(pickers.count()):
            picker = pickers.nth(index)
            if not picker.is_visible() or not picker.is_editable():
                continue
            options = picker.evaluate("""box => {
              const select = box.closest(".autocomplete__wrapper").parentElement
                .querySelector("select");
              return select ? Array.from(select.options).map(o => o.text).join(" ") : ""}""")
            term = (re.findall(r"[A-Za-z]{4,}", options) or words or [PICKER_FALLBACK])[0]
            picker.fill("")
            picker.press_sequentially(term[:5].lower(), delay=10)
            menu = page.locator(".autocomplete__menu--visible").first
            try:
                menu.wait_for(state="visible", timeout=10_000)
            except Error:
                self.problem(page.url, f"picker {index + 1}: no suggestions shown for {term!r}")
                continue
            self.suggestions += 1
            self.measure(page, page.url, f" (picker {index + 1} suggesting for {term[:5]!r})")
            picker.press("Escape")
            picker.fill("")

    def links(self, page: Page) -> list[str]:
        origin = urlparse(self.base).netloc
        found = []
        for href in page.eval_on_selector_all("a[href]:not([download])",
                                              "links => links.map(a => a.href)"):
            link, _fragment = urldefrag(urljoin(page.url, href))
            target = urlparse(link)
            if (target.netloc != origin or target.scheme not in ("http", "https")
                    or target.path.startswith(SKIPPED_PREFIXES)
                    or FILE_SUFFIX.search(target.path)
                    or page_key(link) in self.seen):
                continue
            found.append(link)
        return found

    def walk(self, page: Page, start: list[str]) -> None:
        """Check every page reachable from ``start`` by following links."""
        queue = list(start)
        while queue:
            url = queue.pop(0)
            if not self.open(page, url):
                continue
            self.check(page)
            queue += self.links(page)
            started = time.monotonic()
            self.suggest(page)
            self.extra_seconds += time.monotonic() - started
            form_url = page.url
            path = re.sub(r"\d+", "N", urlparse(form_url).path)
            searchable = path not in self.searched and page.locator(GET_FORMS).count()
            self.submit_empty(page)
            if searchable:
                self.searched.add(path)
                started, self.searching = time.monotonic(), True
                self.search(page, form_url)
                self.extra_seconds += time.monotonic() - started
                self.searching = False


def form_query(action: str, fields: list[dict], changes: dict[str, str]) -> str:
    """The address a GET form sends: its fields as shown, ``changes`` made."""
    pairs = [(f["name"], changes.get(f["name"], f["value"])) for f in fields]
    return urldefrag(action)[0].split("?")[0] + "?" + urlencode(pairs)


def matrix_side() -> SimpleNamespace:
    """The access matrix's objects of one side, in the demo's Bromley partnership: Bromley
    Council holds, leads and shares with the ICB; Bromley Well provides."""
    def organisation(short_name: str) -> Organisation:
        return Organisation.objects.get(short_name=short_name)

    council, icb = organisation("Bromley Council"), organisation("NHS South East London ICB")
    provider = organisation("Bromley Well")
    commissioner = User.objects.get(email=DEMO_ROLES[
        "commissioner and partnership administrator (council)"])
    partnership = Partnership.objects.get(short_name="Bromley Joint Commissioning")
    # As conftest's ``world`` names partnership A's parties (the factories' defaults).
    world = SimpleNamespace(partnership_a=partnership, council_a=council, icb_a=icb,
                            provider_x=provider)
    return build_side(
        world, name="MATRIX", partnership=partnership, council=council, icb=icb,
        provider=provider, commissioner=commissioner,
        provider_user=User.objects.get(email=DEMO_ROLES["provider submitter"]),
        inviter=commissioner)


def matrix_urls(side: SimpleNamespace, base: str) -> list[str]:
    """Every GET URL of the access matrix, from the side's objects, less the views the
    form-render net knows to be downloads (the API's JSON, exports)."""
    return [base + case.url(side) for name, entry in ACCESS.items() for case in _cases(entry)
            if case.method == "GET" and WITHOUT_FORM.get(name) != DOWNLOAD]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _short_pages(monkeypatch):
    """Pages of 5 rows in the paged lists (the register, the review inbox, the performance
    overview), so that the demo's lists, and the results of their searches and filters, have a
    page 2 to check."""
    monkeypatch.setattr(monitoring_views, "LIST_PAGE_SIZE", 5)
    monkeypatch.setattr(contracts_views, "PAGE_SIZE", 5)


def test_it_reflows_every_page_of_every_demo_role_at_320_px_with_no_serious_axe_problems(
    browser: Browser, live_server
):
    call_command("load_demo", stdout=StringIO())
    side = matrix_side()
    base = live_server.url
    axe_script = Axe().axe_script
    problems: list[tuple[str, str, str]] = []
    print(f"\nPages checked at {WIDTH} px:")
    for role, email in DEMO_ROLES.items():
        started = time.monotonic()
        user = User.objects.get(email=email)
        give_authenticator(user)
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        # axe is put in every page as it loads: sending its 570 kB through the driver for
        # each page checked costs more than the check.
        context.add_init_script(axe_script)
        page = context.new_page()
        sign_in_verified(page, base, user, password=DEMO_PASSWORD)
        visit = Visit(role, base)
        visit.walk(page, [base + "/"])
        crawled = visit.checked
        visit.walk(page, matrix_urls(side, base))
        context.close()
        problems += visit.problems
        print(f"  {role}: {visit.checked} pages ({crawled} by following links, "
              f"{visit.error_pages} with form errors, {visit.results} found by "
              f"{len(visit.searched)} pages' GET forms, {visit.second_pages} of "
              f"them a page 2; {visit.opened} checked "
              f"again with their sections opened; {visit.suggestions} pickers' suggestions) "
              f"in {time.monotonic() - started:.0f} s "
              f"({visit.axe_seconds:.0f} s checking, {visit.extra_seconds:.0f} s on searches, "
              f"filters, suggestions and opened sections)"
              + (f"; sent without errors: {', '.join(visit.not_refused)}"
                 if visit.not_refused else ""), flush=True)
        assert crawled > 1, f"{role} reached no page from the dashboard"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(
        f"{role} | {url} | {what}" for role, url, what in problems)
