"""The form-render net: every page that shows a form shows every field of it.

Walks the URLconf through the access matrix's table (``test_access_matrix.ACCESS``) and its
two-sided world, renders each page as a persona the table allows, and finds the forms the view
put in its context (``Form`` and ``FormSet`` instances, a formset's forms and management form
included, and a list's ``FilterSet``'s form). For each form, every field must be in the HTML as
an input, select or textarea named by the field's ``html_name``, with a ``<label for=…>`` (or,
for grouped inputs, a fieldset with a legend). Then the page's own ``<form>`` is submitted as a
person who typed nothing would submit it (its rendered controls, parsed from the HTML: hidden
ones kept, everything visible left empty), and again with nonsense typed in every text box; the
forms of the answer page are checked the same way, and every link of the GOV.UK error summary
must point at an element id that exists on that page.

Each URL name is in ``FORM_PAGES`` (its page shows a form: checked) or ``WITHOUT_FORM`` (a page
without a form, a download, a POST-only endpoint). A new view in neither fails with its name,
and so does a page whose classification no longer holds (a form appears on a page said to
have none, or a form page stops showing its form).

This catches the class of bug where a form builds fields at run time (one per partner, say)
that its layout never renders: a test that POSTs the field names directly still passes, but a
person cannot fill them in, and the error summary links to nothing.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from types import FunctionType, SimpleNamespace

import lxml.html
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.forms import BaseForm, BaseFormSet
from django.forms.boundfield import BoundField
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_filters import FilterSet
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning.tests import test_access_matrix
from commissioning.tests.test_access_matrix import (
    ACCESS,
    ANON,
    CA,
    CB,
    FO,
    OK,
    PA,
    PX,
    PY,
    RO,
    STAFF,
    Case,
    _cases,
    expected,
    project_url_names,
)
from contracts.frameworks.tests.factories import WindowFactory
from monitoring.tests.factories import quarter

pytestmark = pytest.mark.django_db

# The access matrix's fixtures (its two sides' objects, a client per persona, and whatever
# those need), shared by name.
globals().update({name: value for name, value in vars(test_access_matrix).items()
                  if isinstance(value, type(test_access_matrix.sides))})


@dataclass(frozen=True)
class FormPage:
    """A page that shows at least one form.

    ``persona`` overrides the first persona the access table lets in (anonymous first for
    public pages, then commissioner A, and so on). ``prepare`` puts side A's objects in the
    state where the form is shown and returns the page's URL (instead of the access table's),
    for forms that a page shows only in some states; ``follow`` follows redirects to the form.
    Everything ``prepare`` changes is rolled back after the page is checked."""

    persona: str | None = None
    prepare: Callable[[SimpleNamespace, object], str] | None = None
    follow: bool = False


# A commissioner who has typed their password but not yet their authenticator's code.
UNVERIFIED = "commissioner_a_before_two_factor"


def _open_quarter(view: str) -> Callable[[SimpleNamespace, object], str]:
    """The quarter after the submitted one: its return is still open to fill in."""
    def prepare(s, world) -> str:
        return reverse(view, args=[s.contract.pk, quarter(date(2025, 8, 15)).code])
    return prepare


def _open_window(s, world) -> str:
    """A window open today, so the framework takes applications."""
    today = timezone.localdate()
    WindowFactory(framework=s.framework, opens=today - timedelta(days=1),
                  closes=today + timedelta(days=30))
    return reverse("contracts:framework_apply", args=[s.framework.pk])


def _reset_link(s, world) -> str:
    """The link of a password-reset e-mail for commissioner A."""
    user = world.commissioner_a
    return reverse("password_reset_confirm", args=[
        urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)])


# Who is tried first: the people each page is for.
PREFERENCE = (ANON, CA, FO, PX, PA, RO, STAFF, CB, PY)

FORM = FormPage()

FORM_PAGES: dict[str, FormPage] = {
    # Core
    "login": FORM,
    "sso_sign_in": FORM,
    "password_reset": FORM,
    "password_reset_confirm": FormPage(prepare=_reset_link, follow=True),
    "password_change": FORM,
    "two_factor_setup": FORM,
    "two_factor_verify": FormPage(persona=UNVERIFIED),
    "invite": FORM,
    "organisation_details": FORM,
    "invitation_accept": FORM,
    # Contract register
    "contracts:list": FORM,
    "monitoring:overview": FORM,
    "monitoring:inbox": FORM,
    "contracts:create_step": FORM,
    "contracts:edit": FORM,
    "contracts:status": FORM,
    "contracts:cover": FORM,
    "contracts:extension": FORM,
    "contracts:decision": FORM,
    "contracts:variation": FORM,
    "contracts:notice": FORM,
    "contracts:payments_notice": FORM,
    "contracts:review_date": FORM,
    "contracts:shares": FORM,
    "contracts:document_upload": FORM,
    "contracts:import": FORM,
    "contracts:import_detail": FORM,
    "contracts:import_map": FORM,
    # Frameworks
    "contracts:framework_create": FORM,
    "contracts:framework_edit": FORM,
    "contracts:framework_windows": FORM,
    "contracts:framework_apply": FormPage(prepare=_open_window),
    "contracts:lot_create": FORM,
    "contracts:lot_edit": FORM,
    "contracts:call_off_create": FORM,
    "contracts:application_evaluate": FORM,
    # Funding
    "funding:agreement_create": FORM,
    "funding:agreement_edit": FORM,
    "funding:scheme_create": FORM,
    "funding:scheme_edit": FORM,
    "funding:budget_set": FORM,
    "funding:contribution_set": FORM,
    "funding:actual_record": FORM,
    "funding:instalment_add": FORM,
    "funding:contribution_reduce": FORM,
    "funding:top_slice_create": FORM,
    "funding:top_slice_draw": FORM,
    "funding:contract_funding_add": FORM,
    "funding:year_end": FORM,
    "funding:import_upload": FORM,
    "funding:import_preview": FORM,
    # Monitoring
    "monitoring:return_form": FormPage(prepare=_open_quarter("monitoring:return_form")),
    "monitoring:evidence_upload": FormPage(prepare=_open_quarter("monitoring:evidence_upload")),
    "monitoring:return_upload": FormPage(prepare=_open_quarter("monitoring:return_upload")),
    "monitoring:service_users_upload": FormPage(
        prepare=_open_quarter("monitoring:service_users_upload")),
    "monitoring:return_review": FORM,
    "monitoring:kpi_create": FORM,
    "monitoring:templates_copy": FORM,
    "monitoring:kpi_edit": FORM,
    "monitoring:target_set": FORM,
    "monitoring:assessment": FORM,
    # Reports
    "monitoring:report_list": FORM,
    # API tokens
    "api:token_create": FORM,
    "monitoring:committee_report_new": FORM,
}

PAGE, DOWNLOAD, POST_ONLY, BUTTONS = (
    "a page without a form", "a download", "POST only: its button is on another page",
    "buttons only (no fields): the POST-journey net drives them")

# Pages that show no form of their own, downloads and POST-only endpoints (the POST-journey net
# covers their buttons).
WITHOUT_FORM: dict[str, str] = {
    "dashboard": PAGE, "account": PAGE, "accessibility": PAGE, "healthcheck": DOWNLOAD,
    "password_reset_done": PAGE, "password_reset_complete": PAGE,
    "partnership_list": PAGE, "partnership_detail": PAGE, "people": PAGE,
    "object_history": PAGE,
    "switch_organisation": "radios written in the template for people with more than one "
                           "organisation, not a Form: the POST-journey net drives it",
    "two_factor_backup_codes": POST_ONLY, "two_factor_remove": BUTTONS,
    "invitation_revoke": BUTTONS, "logout": POST_ONLY,
    "sso_callback": "the page that explains a refused single sign-on",
    "contracts:create": "redirects to the first step of the journey",
    "contracts:create_check": BUTTONS,
    "contracts:detail": PAGE, "contracts:ocds": DOWNLOAD, "contracts:export": DOWNLOAD,
    "contracts:notice_ocds": DOWNLOAD,
    "contracts:psr_summary": PAGE,
    "contracts:document_download": DOWNLOAD,
    "contracts:import_problems": DOWNLOAD,
    "contracts:framework_list": PAGE, "contracts:framework_detail": PAGE,
    "contracts:lot_detail": PAGE, "contracts:lot_withdraw": BUTTONS,
    "contracts:application_list": PAGE, "contracts:application_detail": PAGE,
    "contracts:call_off_detail": PAGE,
    "funding:agreement_list": PAGE, "funding:agreement_detail": PAGE,
    "funding:scheme_detail": PAGE, "funding:months": BUTTONS,
    "funding:contract_funding_remove": POST_ONLY,
    "funding:statement": PAGE, "funding:statement_pdf": DOWNLOAD, "funding:bcf_plan": PAGE,
    "funding:bcf_plan_export": DOWNLOAD,
    "monitoring:return_list": PAGE, "monitoring:return_check": BUTTONS,
    "monitoring:return_submitted": PAGE, "monitoring:return_version": PAGE,
    "monitoring:return_template": DOWNLOAD,
    "monitoring:evidence_download": DOWNLOAD,
    "monitoring:service_users": PAGE, "monitoring:notices_due": PAGE,
    "monitoring:key_dates": PAGE,
    "contracts:cpv_search": "JSON suggestions for the CPV code autocomplete",
    "contracts:provider_names": "JSON suggestions for the provider filter's autocomplete",
    "monitoring:contract_performance": PAGE, "monitoring:assessment_start": POST_ONLY,
    "monitoring:report_detail": PAGE, "monitoring:report_download": DOWNLOAD,
    "monitoring:committee_report_detail": BUTTONS,
    "monitoring:committee_report_export": POST_ONLY,
    "monitoring:committee_export_download": DOWNLOAD,
    # The read-only API answers JSON or CSV; its token and calendar pages have buttons only.
    **{f"api:{name}-{kind}": DOWNLOAD for name in (
        "contract", "provider", "framework", "lot", "admission", "call-off", "agreement",
        "scheme", "budget", "contribution", "kpi", "return", "period") for kind in (
        "list", "detail")},
    "api:kpi-values-list": DOWNLOAD, "api:monthly-actuals-list": DOWNLOAD,
    "api:kpi-values-csv": DOWNLOAD, "api:monthly-actuals-csv": DOWNLOAD,
    "api:schema": DOWNLOAD, "api:calendar": DOWNLOAD, "api:docs": PAGE,
    "api:tokens": BUTTONS, "api:token_revoke": BUTTONS, "api:feed_create": POST_ONLY,
    "api:feed_revoke": BUTTONS, "api:organisation_access": BUTTONS,
}


# --- Finding the forms a view rendered -------------------------------------------------------

def forms_in_context(response) -> list[BaseForm]:
    """Every form the view passed to its templates: formsets give their forms and management
    form; forms kept in lists or dicts (one per row) are found too."""
    found: dict[int, BaseForm] = {}

    def add(value, depth: int = 0) -> None:
        if isinstance(value, BaseFormSet):
            add(value.management_form, depth)
            for form in value.forms:
                add(form, depth)
        elif isinstance(value, BaseForm):
            found.setdefault(id(value), value)
        elif isinstance(value, FilterSet):  # a list's filter panel, written by {% filter_fields %}
            add(value.form, depth)
        elif depth == 0 and _lazy(value):
            # Worked out when the template first reads it (a remembered list part), as the
            # template engine calls it.
            add(value(), depth)
        elif depth < 2 and isinstance(value, list | tuple):
            for item in value:
                add(item, depth + 1)
        elif depth < 2 and isinstance(value, dict):
            for item in value.values():
                add(item, depth + 1)

    for context in response.context or ():
        for layer in context.dicts if hasattr(context, "dicts") else [context]:
            if isinstance(layer, dict):
                for value in layer.values():
                    add(value)
    return list(found.values())


def _lazy(value) -> bool:
    """A value a view hands its template as a function of no arguments, to be worked out only
    if the template reads it (``contracts.views.contract_list``)."""
    if not isinstance(value, FunctionType | functools._lru_cache_wrapper):
        return False
    return not any(p.default is p.empty for p in inspect.signature(value).parameters.values())


def input_names(field: BoundField) -> list[str]:
    """The ``name`` of each control the field's widget renders (a date's day, month and year
    are three)."""
    widget = field.field.widget
    context = widget.get_context(field.html_name, field.value(),
                                 field.build_widget_attrs({}))["widget"]
    subwidgets = context.get("subwidgets")
    if subwidgets and widget.__class__.__name__ != "ChoiceWidget" and not hasattr(
            widget, "option_template_name"):
        return [sub["name"] for sub in subwidgets]
    return [field.html_name]


# --- Reading the page ------------------------------------------------------------------------

CONTROLS = "input|select|textarea"


def _controls(doc, name: str):
    return [el for el in doc.iter("input", "select", "textarea") if el.get("name") == name]


def _labelled(doc, element) -> bool:
    element_id = element.get("id")
    if element_id and doc.xpath("//label[@for=$id]", id=element_id):
        return True
    if any(ancestor.tag == "label" for ancestor in element.iterancestors()):
        return True
    for ancestor in element.iterancestors("fieldset"):
        legend = ancestor.find("legend")
        if legend is not None and legend.text_content().strip():
            return True
    return False


def field_problems(doc, form: BaseForm) -> tuple[list[str], int]:
    """What is wrong with how ``form``'s fields appear in the page; and how many were checked."""
    problems = []
    checked = 0
    for field in form:
        for name in input_names(field):
            checked += 1
            controls = _controls(doc, name)
            if not controls:
                problems.append(f"{type(form).__name__}.{field.name}: no input named {name!r}")
                continue
            if field.is_hidden:
                continue
            visible = [c for c in controls if c.get("type") != "hidden"]
            if not visible:
                problems.append(f"{type(form).__name__}.{field.name}: {name!r} is only hidden")
            elif not all(_labelled(doc, c) for c in visible):
                problems.append(f"{type(form).__name__}.{field.name}: {name!r} has no label")
    return problems, checked


def error_link_problems(doc) -> tuple[list[str], int]:
    problems = []
    links = doc.xpath('//*[contains(@class, "govuk-error-summary")]//a[starts-with(@href, "#")]')
    for link in links:
        target = link.get("href")[1:]
        if not target or not doc.xpath("//*[@id=$id]", id=target):
            problems.append(f"error summary link {link.get('href')!r} "
                            f"({link.text_content().strip()!r}) points at nothing")
    return problems, len(links)


def html_form_for(doc, form: BaseForm):
    """The page's <form> holding the first of ``form``'s fields."""
    for field in form:
        for name in input_names(field):
            for control in _controls(doc, name):
                owner = next(control.iterancestors("form"), None)
                if owner is not None:
                    return owner
    return None


NONSENSE = "not valid ✗"


def submission(html_form, *, nonsense: bool) -> tuple[str, dict[str, list[str]]]:
    """What a browser sends for this <form> when nothing is typed (``nonsense``: when every
    text box holds a nonsense word): hidden controls as rendered, visible text left empty,
    selects on the option they show, boxes unticked, and the first submit button."""
    method = (html_form.get("method") or "get").upper()
    data: dict[str, list[str]] = {}
    for control in html_form.iter("input", "select", "textarea"):
        name = control.get("name")
        if not name or control.get("disabled") is not None:
            continue
        kind = (control.get("type") or "text").lower() if control.tag == "input" else control.tag
        if kind in ("submit", "button", "image", "reset", "file", "checkbox", "radio"):
            continue
        if kind == "hidden":
            value = control.get("value") or ""
        elif kind == "select":
            options = control.xpath(".//option")
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            value = (chosen[0].get("value") if chosen[0].get("value") is not None
                     else chosen[0].text_content()) if chosen else ""
        else:
            value = NONSENSE if nonsense else ""
        data.setdefault(name, []).append(value)
    button = html_form.xpath('.//button[not(@type) or @type="submit"] | .//input[@type="submit"]')
    if button and button[0].get("name"):
        data.setdefault(button[0].get("name"), []).append(button[0].get("value") or "")
    return method, data


# --- The walk --------------------------------------------------------------------------------

def persona_for(name: str, case: Case) -> str | None:
    chosen = FORM_PAGES.get(name, FORM).persona
    if chosen:
        return chosen
    return next((p for p in PREFERENCE if expected(case, "A", p) == OK), None)


def pages_to_check() -> Iterator[tuple[str, str | None, Callable[[SimpleNamespace, object], str]]]:
    """(URL name, persona, URL from side A's objects and the world) for every page a GET
    shows: the access table's GET cases, or the state a form page asks for."""
    for name, entry in ACCESS.items():
        prepare = FORM_PAGES.get(name, FORM).prepare
        gets = [case for case in _cases(entry) if case.method == "GET"]
        if prepare and gets:
            yield name, persona_for(name, gets[0]), prepare
            continue
        for case in gets:
            yield name, persona_for(name, case), (lambda s, world, case=case: case.url(s))


@dataclass
class Tally:
    pages: int = 0
    forms: int = 0
    fields: int = 0
    submissions: int = 0
    error_links: int = 0


def _doc(response):
    return lxml.html.fromstring(response.content.decode("utf-8", "replace") or "<html/>")


def check_page(client: Client, url: str, tally: Tally, *,
               follow: bool = False) -> tuple[bool, list[str]]:
    """Render, check fields; submit empty and nonsense, check fields and error links.
    Returns whether the page showed a form, and what is wrong."""
    problems: list[str] = []
    response = client.get(url, follow=follow)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return False, []
    forms = forms_in_context(response)
    if not forms:
        return False, []
    url = response.request["PATH_INFO"]
    tally.pages += 1
    doc = _doc(response)
    html_forms = {}
    for form in forms:
        tally.forms += 1
        found, checked = field_problems(doc, form)
        tally.fields += checked
        problems += found
        html_form = html_form_for(doc, form)
        if html_form is not None:
            html_forms[id(html_form)] = html_form
    for html_form in html_forms.values():
        for nonsense in (False, True):
            problems += submit(client, url, html_form, tally, nonsense=nonsense)
    return True, problems


def submit(client: Client, url: str, html_form, tally: Tally, *, nonsense: bool) -> list[str]:
    method, data = submission(html_form, nonsense=nonsense)
    action = html_form.get("action") or url
    tried = "a nonsense" if nonsense else "an empty"
    with transaction.atomic():
        try:
            answer = client.post(action, data) if method == "POST" else client.get(action, data)
        except Exception as error:  # noqa: BLE001 - a view that raises is a 500 to the user
            answer = None
            failure = f"{type(error).__name__}: {error}"
        transaction.set_rollback(True)
    tally.submissions += 1
    if answer is None or answer.status_code >= 500:
        status = failure if answer is None else answer.status_code
        return [f"{tried} {method} to {action}: {status}"]
    if answer.status_code not in (200, 400) or "html" not in answer.get("Content-Type", ""):
        return []  # accepted (a redirect, a download): nothing to show
    problems = []
    answer_doc = _doc(answer)
    for form in forms_in_context(answer):
        found, checked = field_problems(answer_doc, form)
        tally.fields += checked
        problems += [f"after {tried} submission: {p}" for p in found]
    found, links = error_link_problems(answer_doc)
    tally.error_links += links
    return problems + [f"after {tried} submission: {p}" for p in found]


@pytest.fixture
def client_as(world, sign_in):
    """client_as(persona) -> a client signed in as that persona (one per persona)."""
    clients: dict[str, Client] = {}

    def make(persona: str) -> Client:
        if persona not in clients:
            if persona == UNVERIFIED:
                TOTPDevice.objects.create(user=world.commissioner_a, name="App", confirmed=True)
                clients[persona] = Client()
                clients[persona].force_login(
                    world.commissioner_a, backend="django.contrib.auth.backends.ModelBackend")
            else:
                clients[persona] = sign_in(persona)
        return clients[persona]
    return make


def test_every_view_is_in_one_table():
    names = project_url_names()
    missing = sorted(names - set(FORM_PAGES) - set(WITHOUT_FORM))
    both = sorted(set(FORM_PAGES) & set(WITHOUT_FORM))
    stale = sorted((set(FORM_PAGES) | set(WITHOUT_FORM)) - names)
    assert not missing, "\n".join(
        f"new view in neither FORM_PAGES nor WITHOUT_FORM: {n}" for n in missing)
    assert not both, f"in both tables: {both}"
    assert not stale, f"entries for views that no longer exist: {stale}"


TALLY = Tally()


def test_every_page_with_a_form_shows_every_field_and_links_every_error(sides, world,
                                                                       client_as):
    problems: list[str] = []
    shows_form: dict[str, bool] = {}
    for name, persona, url_for in pages_to_check():
        if persona is None:
            continue
        client = client_as(persona)  # outside the savepoint: its session must last
        with transaction.atomic():
            url = url_for(sides["A"], world)
            has_form, found = check_page(client, url, TALLY,
                                         follow=FORM_PAGES.get(name, FORM).follow)
            transaction.set_rollback(True)
        shows_form[name] = shows_form.get(name, False) or has_form
        problems += [f"{name} ({url}, as {persona}): {p}" for p in found]
    for name, has_form in sorted(shows_form.items()):
        if has_form and name in WITHOUT_FORM:
            problems.append(f"{name}: its page shows a form: move it to FORM_PAGES")
        if not has_form and name in FORM_PAGES:
            problems.append(f"{name}: its page showed no form (give its entry a persona or a "
                            f"prepare that shows it, or move it to WITHOUT_FORM)")
    unchecked = sorted(set(FORM_PAGES) - set(shows_form))
    problems += [f"{name}: no GET case in the access table to render" for name in unchecked]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_zz_report_what_the_form_net_checked(capsys):
    with capsys.disabled():
        print(f"\nform-render net: {len(FORM_PAGES)} form pages in the table; "
              f"{TALLY.pages} pages rendered with {TALLY.forms} forms and {TALLY.fields} "
              f"fields checked, {TALLY.submissions} submissions, {TALLY.error_links} "
              f"error-summary links followed")
