"""The access-control matrix: every URL of the project, every persona, one table.

The test walks the URL resolver, so a new view without an entry in ``ACCESS`` fails with its
name, and an entry for a view that no longer exists fails too. Each entry says how to build the
view's URL from the objects of one side (partnership A with provider X, or partnership B with
provider Y), the HTTP method (GET for pages; POST with an empty body for POST-only endpoints)
and what each persona gets:

- ``ok``: anything but a redirect to sign-in, a 403, a 404 or a 500 (a page, a download, a
  redirect elsewhere, a form's 400, a 405);
- ``login``: a redirect to the sign-in page;
- ``404``: the persona may not see the object or use the view. A 403 is never right: it would
  confirm that the object exists. A 500 is never right either.

Expectations are written for side A's objects. Object views ("scoped") are checked with side
B's objects too, where the personas swap places: commissioner B stands where commissioner A
stood, provider Y where provider X stood, and everyone from partnership A is the outsider.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api import tokens as api_tokens
from commissioning import history
from commissioning.models import Invitation, PartnershipMember, Role, User
from commissioning.tests import factories as f
from commissioning.tests import oidc
from contracts.frameworks.models import FrameworkParty
from contracts.frameworks.tests.factories import (
    FrameworkFactory,
    LotFactory,
    WindowFactory,
    admit,
    quick_call_off,
)
from contracts.models import ContractDocument, DocumentKind, RegisterImport
from contracts.tests.factories import (
    DecisionFactory,
    ExtensionOptionFactory,
    ServiceLineFactory,
    ShareFactory,
    contract_for,
)
from funding.models import (
    AgreementPartner,
    AllocationBasis,
    ContractFunding,
    Contribution,
    FinanceImport,
    ImportStatus,
    SchemeBudget,
    TopSlice,
)
from funding.tests.factories import AgreementFactory, SchemeFactory, source
from monitoring.models import Evidence, PerformanceAssessment
from monitoring.reports import committee as committee_reports
from monitoring.reports.models import CommitteeReportExport, MonthlyReport, ReportStatus
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db

# --- Personas --------------------------------------------------------------------------------

ANON = "anonymous"
CA = "commissioner_a"
CB = "commissioner_b"
FO = "finance_officer_a"
RO = "report_officer_a"
PX = "provider_x"
PY = "provider_y"
PA = "partnership_admin_a"
STAFF = "staff_admin"
# A commissioner of a third member of partnership A (Bexley) that signed side A's framework
# but is party to none of side A's contracts, call-offs or agreements: access follows the
# parties, not the partnership (commissioning/access.py).
NP = "partner_not_party_a"
RV = "read_only_a"  # a read-only viewer of council A: reads everything, never Part 2
PERSONAS = (ANON, CA, CB, FO, RO, PX, PY, PA, STAFF, NP, RV)
SIGNED_IN_PERSONAS = frozenset(PERSONAS) - {ANON}

# The World attribute behind each persona.
WORLD_USER = {CA: "commissioner_a", CB: "commissioner_b", FO: "finance_officer_a",
              RO: "report_officer_a", PX: "provider_x_user", PY: "provider_y_user",
              PA: "partnership_admin_a", STAFF: "staff_admin", NP: "partner_not_party_a",
              RV: "read_only_a"}

# With side B's objects, who stands where on side A: B's commissioner is the insider, provider Y
# the provider of the contract, and everyone from partnership A is an outsider, like
# commissioner B is to side A.
MIRROR = {ANON: ANON, CA: CB, CB: CA, FO: CB, RO: CB, PA: CB, PX: PY, PY: PX, STAFF: STAFF,
          NP: CB, RV: CB}

OK, LOGIN, NOT_FOUND = "ok", "login", "404"
# The API answers a request with no token or session with a JSON 401, never a sign-in page.
UNAUTHENTICATED = "401"


def allow(*personas: str, anonymous: str = LOGIN) -> dict[str, str]:
    """These personas get the view; every other signed-in persona a 404."""
    return {ANON: anonymous} | {p: OK if p in personas else NOT_FOUND for p in SIGNED_IN_PERSONAS}


# --- Profiles --------------------------------------------------------------------------------
# Who gets what, named after the rule in the code that decides it.

PUBLIC = allow(*SIGNED_IN_PERSONAS, anonymous=OK)                 # login_not_required pages
SIGNED_IN = allow(*SIGNED_IN_PERSONAS)                            # lists scoped by for_user
COMMISSIONING_SIDE = allow(CA, CB, FO, RO, PA, STAFF, NP, RV)     # is_commissioner_side/admin
PROVIDERS = allow(PX, PY)                                         # is_provider_user
CREATORS = allow(CA, CB, PA, STAFF, NP)                           # can_create_contract/agreement
PEOPLE_ADMINS = allow(PA, STAFF)                                  # can_manage_people
A_PARTNERSHIP = allow(CA, FO, RO, PA, STAFF, NP, RV)              # partnership A's members
A_SIDE = allow(CA, FO, RO, PA, STAFF, RV)                         # parties to side A's contract
                                                                  # or agreement, any role
A_FRAMEWORK = allow(CA, FO, RO, PA, STAFF, NP, RV)                # parties to the framework
A_SIDE_AND_PROVIDER_X = allow(CA, FO, RO, PA, STAFF, PX, RV)      # Contract.objects.for_user
A_EDITORS = allow(CA, PA, STAFF)                                  # can_edit_contract,
                                                                  # can_edit_agreement,
                                                                  # can_manage_kpis
A_FRAMEWORK_EDITORS = allow(CA, PA, STAFF, NP)                    # can_edit_framework
A_BUDGET_EDITORS = allow(CA, FO, STAFF)                           # can_edit_budgets,
                                                                  # can_link_contracts
A_FINANCE_OFFICER = allow(FO)                                     # can_close_months/year
REPORT_REQUESTERS = allow(CA, CB, FO, RO, PA, STAFF, NP)          # can_request_monthly_report
A_REPORT_WRITERS = allow(CA, RO, PA, STAFF)                       # can_write_committee_report
A_EXEMPT = allow(CA, RO, PA, STAFF)                               # can_open_exempt_information:
                                                                  # Part 2, never read-only
A_IMPORTER_ONLY = allow(CA)                                       # the person who uploaded it
PROVIDER_X_ONLY = allow(PX)                                       # can_submit_return
SIGNED_OUT = dict.fromkeys(PERSONAS, LOGIN)                       # sign-out


def api(profile: Mapping[str, str]) -> dict[str, str]:
    """The API's answer to the same personas: a JSON 401, not the sign-in page, for anonymous."""
    return {**profile, ANON: UNAUTHENTICATED}


API_SIGNED_IN = api(SIGNED_IN)


# --- The table -------------------------------------------------------------------------------

Url = Callable[[SimpleNamespace], str]


@dataclass(frozen=True)
class Case:
    url: Url
    expect: Mapping[str, str]
    method: str = "GET"
    scoped: bool = True  # built from one side's objects: checked with A's and with B's
    note: str = ""


def page(url: Url, expect: Mapping[str, str], *, note: str = "") -> Case:
    return Case(url, expect, note=note)


def post(url: Url, expect: Mapping[str, str], *, note: str = "") -> Case:
    return Case(url, expect, method="POST", note=note)


def everywhere(name: str, expect: Mapping[str, str], *args, method: str = "GET") -> Case:
    """A view that shows no particular object: checked once."""
    return Case(lambda s: reverse(name, args=args), expect, method=method, scoped=False)


def r(name: str, *args: Callable[[SimpleNamespace], object]) -> Url:
    """reverse(name) with arguments taken from a side's objects."""
    return lambda s: reverse(name, args=[a(s) for a in args])


def period(s):
    return s.period.code


HISTORY: dict[str, tuple[Callable[[SimpleNamespace], object], Mapping[str, str]]] = {
    "commissioning.partnership": (lambda s: s.partnership, A_PARTNERSHIP),
    "contracts.contract": (lambda s: s.contract, A_SIDE_AND_PROVIDER_X),
    "contracts.framework": (lambda s: s.framework, A_FRAMEWORK),
    "contracts.lot": (lambda s: s.lot, A_FRAMEWORK),
    "contracts.calloff": (lambda s: s.call_off, A_SIDE),
    "contracts.providerapplication": (lambda s: s.application,
                                      A_SIDE_AND_PROVIDER_X | {NP: OK}),
    "funding.section75agreement": (lambda s: s.agreement, A_SIDE),
    "funding.scheme": (lambda s: s.scheme, A_SIDE),
    "monitoring.kpi": (lambda s: s.kpi, A_SIDE_AND_PROVIDER_X),
    "monitoring.kpitarget": (lambda s: s.kpi_target, A_SIDE_AND_PROVIDER_X),
    "monitoring.performancereturn": (lambda s: s.performance_return, A_SIDE_AND_PROVIDER_X),
    "monitoring.performanceassessment": (lambda s: s.assessment, A_SIDE),
    # Its history shows every section's text, Part 2 included.
    "monitoring.committeereport": (lambda s: s.committee_report, A_EXEMPT),
    "monitoring.monthlyreport": (lambda s: s.monthly_report, A_PARTNERSHIP),
}


def _history_case(label: str) -> Case:
    obj, expect = HISTORY[label]
    return page(lambda s: reverse("object_history", args=[label, obj(s).pk]), expect,
                note=label)


c, ag, fw = (lambda s: s.contract.pk), (lambda s: s.agreement.pk), (lambda s: s.framework.pk)
nc = lambda s: s.notice_contract.pk  # noqa: E731 - beside its siblings above
lot, sch = (lambda s: s.lot.pk), (lambda s: s.scheme.pk)

ACCESS: dict[str, Case | tuple[Case, ...]] = {
    # --- Core: sign-in, account, people, history ----------------------------------------------
    "dashboard": everywhere("dashboard", SIGNED_IN),
    "login": everywhere("login", PUBLIC),
    "sso_sign_in": everywhere("sso_sign_in", PUBLIC),
    # With no sign-in started in this browser: a 400 page saying so, for everybody.
    "sso_callback": everywhere("sso_callback", PUBLIC),
    "password_reset": everywhere("password_reset", PUBLIC),
    "password_reset_done": everywhere("password_reset_done", PUBLIC),
    "password_reset_confirm": everywhere("password_reset_confirm", PUBLIC, "MQ", "set-password"),
    "password_reset_complete": everywhere("password_reset_complete", PUBLIC),
    "account": everywhere("account", SIGNED_IN),
    "two_factor_setup": everywhere("two_factor_setup", SIGNED_IN),
    "two_factor_verify": everywhere("two_factor_verify", SIGNED_IN),
    "two_factor_backup_codes": everywhere("two_factor_backup_codes", SIGNED_IN, method="POST"),
    # Required for staff and the commissioning side, so only providers may turn it off.
    # Its "Are you sure" page (GET) answers the same people as the POST.
    "two_factor_remove": (
        everywhere("two_factor_remove", PROVIDERS),
        everywhere("two_factor_remove", PROVIDERS, method="POST"),
    ),
    "password_change": everywhere("password_change", SIGNED_IN),
    "invitation_accept": (
        page(lambda s: reverse("invitation_accept", args=["not-a-real-token"]), PUBLIC),
        page(lambda s: reverse("invitation_accept", args=[s.invitation_token]), PUBLIC,
             note="a live invitation"),
    ),
    "switch_organisation": everywhere("switch_organisation", SIGNED_IN),
    "partnership_list": everywhere("partnership_list", SIGNED_IN),
    "partnership_detail": page(r("partnership_detail", lambda s: s.partnership.pk),
                               A_PARTNERSHIP),
    # Whoever manages the organisation's people keeps its identifiers and contact point.
    "organisation_details": (
        page(r("organisation_details", lambda s: s.contract.holder_id), PEOPLE_ADMINS),
        post(r("organisation_details", lambda s: s.contract.holder_id), PEOPLE_ADMINS,
             note="saving the organisation's details"),
    ),
    "people": everywhere("people", SIGNED_IN),
    "invite": everywhere("invite", PEOPLE_ADMINS),
    "invitation_revoke": (
        page(r("invitation_revoke", lambda s: s.invitation.pk), PEOPLE_ADMINS,
             note="its confirmation page"),
        post(r("invitation_revoke", lambda s: s.invitation.pk), PEOPLE_ADMINS),
    ),
    "object_history": tuple(_history_case(label) for label in HISTORY),
    "accessibility": everywhere("accessibility", PUBLIC),
    "healthcheck": everywhere("healthcheck", PUBLIC),
    # Run last (see ``_checks``). Signing out, or being signed out already, ends at sign-in.
    "logout": everywhere("logout", SIGNED_OUT, method="POST"),
    # --- Contract register ---------------------------------------------------------------------
    "contracts:list": everywhere("contracts:list", SIGNED_IN),
    # Autocomplete suggestions: CPV is public vocabulary; provider names are scoped by for_user.
    "contracts:cpv_search": everywhere("contracts:cpv_search", SIGNED_IN),
    "contracts:provider_names": everywhere("contracts:provider_names", SIGNED_IN),
    "contracts:create": everywhere("contracts:create", CREATORS),
    "contracts:create_step": everywhere("contracts:create_step", CREATORS, "details"),
    "contracts:create_check": everywhere("contracts:create_check", CREATORS),
    "contracts:export": tuple(everywhere("contracts:export", SIGNED_IN, fmt)
                              for fmt in ("csv", "xlsx", "json")),
    "contracts:import": everywhere("contracts:import", CREATORS),
    "contracts:import_detail": page(r("contracts:import_detail", lambda s: s.register_import.pk),
                                    A_IMPORTER_ONLY),
    "contracts:import_map": page(r("contracts:import_map", lambda s: s.register_import.pk),
                                 A_IMPORTER_ONLY),
    "contracts:import_problems": page(
        r("contracts:import_problems", lambda s: s.register_import.pk), A_IMPORTER_ONLY,
        note="the rows with problems, in the file's own layout"),
    "contracts:detail": page(r("contracts:detail", c), A_SIDE_AND_PROVIDER_X),
    "contracts:ocds": page(r("contracts:ocds", c), A_SIDE_AND_PROVIDER_X),
    # A contract's notices are its commissioners' work: its provider does not see them.
    "contracts:notice": (
        page(r("contracts:notice", nc, lambda s: "uk7", lambda s: "award"), A_SIDE),
        post(r("contracts:notice", nc, lambda s: "uk7", lambda s: "award"), A_EDITORS,
             note="recording the notice's publication"),
    ),
    # An organisation's payments compliance notice: whoever sees a contract that makes it due.
    "contracts:payments_notice": (
        page(r("contracts:payments_notice", lambda s: s.notice_contract.holder_id,
               lambda s: "2026-03-31"), A_SIDE),
        post(r("contracts:payments_notice", lambda s: s.notice_contract.holder_id,
               lambda s: "2026-03-31"), A_EDITORS, note="recording the notice's publication"),
    ),
    "contracts:psr_summary": page(
        r("contracts:psr_summary", lambda s: s.contract.holder_id, lambda s: "2025-26"),
        A_PARTNERSHIP),
    "contracts:notice_ocds": page(
        r("contracts:notice_ocds", nc, lambda s: "uk7", lambda s: "award"), A_SIDE),
    "contracts:edit": page(r("contracts:edit", c), A_EDITORS),
    "contracts:status": page(r("contracts:status", c), A_EDITORS),
    "contracts:cover": page(r("contracts:cover", c), A_EDITORS),
    "contracts:extension": page(r("contracts:extension", c), A_EDITORS),
    "contracts:decision": page(r("contracts:decision", c), A_EDITORS),
    "contracts:variation": page(r("contracts:variation", c), A_EDITORS),
    "contracts:review_date": page(r("contracts:review_date", c), A_EDITORS),
    "contracts:shares": page(r("contracts:shares", c), A_EDITORS),
    "contracts:document_upload": page(r("contracts:document_upload", c), A_EDITORS),
    "contracts:document_download": (
        page(r("contracts:document_download", c, lambda s: s.signed_contract.pk),
             A_SIDE_AND_PROVIDER_X, note="signed contract: its provider may fetch it"),
        page(r("contracts:document_download", c, lambda s: s.committee_paper.pk), A_SIDE,
             note="committee paper: the commissioning side only"),
        page(lambda s: reverse("contracts:document_download",
                               args=[s.other_contract.pk, s.signed_contract.pk]),
             allow(), note="a document asked for under another contract"),
    ),
    # --- Frameworks ----------------------------------------------------------------------------
    "contracts:framework_list": everywhere("contracts:framework_list", SIGNED_IN),
    "contracts:framework_create": everywhere("contracts:framework_create", CREATORS),
    # Every party of the framework sees it, with one summary row per call-off...
    "contracts:framework_detail": page(r("contracts:framework_detail", fw), A_FRAMEWORK),
    "contracts:framework_edit": page(r("contracts:framework_edit", fw), A_FRAMEWORK_EDITORS),
    "contracts:lot_create": page(r("contracts:lot_create", fw), A_FRAMEWORK_EDITORS),
    "contracts:lot_detail": page(r("contracts:lot_detail", fw, lot), A_FRAMEWORK),
    "contracts:lot_edit": page(r("contracts:lot_edit", fw, lot), A_FRAMEWORK_EDITORS),
    "contracts:lot_withdraw": page(r("contracts:lot_withdraw", fw, lot), A_FRAMEWORK_EDITORS),
    "contracts:call_off_create": page(r("contracts:call_off_create", fw, lot),
                                      A_FRAMEWORK_EDITORS),
    "contracts:framework_windows": (
        page(r("contracts:framework_windows", fw), A_FRAMEWORK),
        post(r("contracts:framework_windows", fw), A_FRAMEWORK_EDITORS,
             note="adding a window"),
    ),
    # The framework's window is closed: a provider reaches it only through its application.
    "contracts:framework_apply": page(r("contracts:framework_apply", fw), PROVIDER_X_ONLY),
    "contracts:application_list": page(r("contracts:application_list", fw), A_FRAMEWORK),
    "contracts:application_detail": page(
        r("contracts:application_detail", lambda s: s.application.pk),
        A_SIDE_AND_PROVIDER_X | {NP: OK}),
    "contracts:application_evaluate": page(
        r("contracts:application_evaluate", lambda s: s.application.pk), A_FRAMEWORK_EDITORS),
    # ...but only the call-off's own parties open it.
    "contracts:call_off_detail": page(r("contracts:call_off_detail", lambda s: s.call_off.pk),
                                      A_SIDE),
    # --- Funding -------------------------------------------------------------------------------
    "funding:agreement_list": everywhere("funding:agreement_list", SIGNED_IN),
    "funding:agreement_create": everywhere("funding:agreement_create", CREATORS),
    "funding:agreement_detail": page(r("funding:agreement_detail", ag), A_SIDE),
    "funding:agreement_edit": page(r("funding:agreement_edit", ag), A_EDITORS),
    "funding:scheme_create": page(r("funding:scheme_create", ag), A_EDITORS),
    "funding:scheme_detail": page(r("funding:scheme_detail", ag, sch), A_SIDE),
    "funding:scheme_edit": page(r("funding:scheme_edit", ag, sch), A_EDITORS),
    "funding:budget_set": page(r("funding:budget_set", ag, sch), A_BUDGET_EDITORS),
    "funding:contribution_set": page(r("funding:contribution_set", ag, sch), A_BUDGET_EDITORS),
    "funding:actual_record": page(r("funding:actual_record", ag, sch), A_BUDGET_EDITORS),
    "funding:contract_funding_remove": post(
        r("funding:contract_funding_remove", ag, sch, lambda s: s.allocation.pk),
        A_BUDGET_EDITORS),
    "funding:instalment_add": page(
        r("funding:instalment_add", ag, lambda s: s.contribution.pk), A_BUDGET_EDITORS),
    "funding:contribution_reduce": page(
        r("funding:contribution_reduce", ag, lambda s: s.contribution.pk), A_BUDGET_EDITORS),
    "funding:top_slice_create": page(r("funding:top_slice_create", ag), A_BUDGET_EDITORS),
    "funding:top_slice_draw": page(
        r("funding:top_slice_draw", ag, lambda s: s.top_slice.pk), A_BUDGET_EDITORS),
    "funding:contract_funding_add": page(r("funding:contract_funding_add", ag),
                                         A_BUDGET_EDITORS),
    "funding:months": page(r("funding:months", ag), A_FINANCE_OFFICER),
    "funding:year_end": page(r("funding:year_end", ag, lambda s: 2025), A_FINANCE_OFFICER),
    "funding:import_upload": page(r("funding:import_upload", ag), A_BUDGET_EDITORS),
    "funding:import_preview": page(
        r("funding:import_preview", ag, lambda s: s.finance_import.pk), A_BUDGET_EDITORS),
    "funding:statement": page(r("funding:statement", ag, lambda s: 2025), A_SIDE),
    "funding:statement_pdf": page(r("funding:statement_pdf", ag, lambda s: 2025), A_SIDE),
    "funding:bcf_plan": page(r("funding:bcf_plan", ag, lambda s: 2025), A_SIDE),
    "funding:bcf_plan_export": tuple(
        page(r("funding:bcf_plan_export", ag, lambda s: 2025, lambda s, f=fmt: f), A_SIDE,
             note=fmt) for fmt in ("csv", "xlsx")),
    # --- The read-only API (signed-in session here; tokens in api/tests) and calendar feeds --
    **{f"api:{name}-list": everywhere(f"api:{name}-list", API_SIGNED_IN) for name in (
        "contract", "provider", "framework", "lot", "admission", "call-off", "agreement",
        "scheme", "budget", "contribution", "kpi", "return", "period", "kpi-values",
        "monthly-actuals")},
    "api:kpi-values-csv": everywhere("api:kpi-values-csv", API_SIGNED_IN),
    "api:monthly-actuals-csv": everywhere("api:monthly-actuals-csv", API_SIGNED_IN),
    "api:schema": everywhere("api:schema", API_SIGNED_IN),
    "api:contract-detail": page(r("api:contract-detail", c), api(A_SIDE_AND_PROVIDER_X)),
    "api:provider-detail": page(r("api:provider-detail", lambda s: s.application.provider_id),
                                api(A_SIDE_AND_PROVIDER_X | {NP: OK}),
                                note="contracts' and framework applications' providers"),
    "api:framework-detail": page(r("api:framework-detail", fw), api(A_FRAMEWORK)),
    "api:lot-detail": page(r("api:lot-detail", lot), api(A_FRAMEWORK)),
    "api:admission-detail": page(r("api:admission-detail", lambda s: s.application.pk),
                                 api(A_SIDE_AND_PROVIDER_X | {NP: OK})),
    "api:call-off-detail": page(r("api:call-off-detail", lambda s: s.call_off.pk),
                                api(A_SIDE)),
    "api:agreement-detail": page(r("api:agreement-detail", ag), api(A_SIDE)),
    "api:scheme-detail": page(r("api:scheme-detail", sch), api(A_SIDE)),
    "api:budget-detail": page(r("api:budget-detail", lambda s: s.scheme.budgets.get().pk),
                              api(A_SIDE)),
    "api:contribution-detail": page(r("api:contribution-detail", lambda s: s.contribution.pk),
                                    api(A_SIDE)),
    "api:kpi-detail": page(r("api:kpi-detail", lambda s: s.kpi.pk),
                           api(A_SIDE_AND_PROVIDER_X)),
    "api:return-detail": page(r("api:return-detail", lambda s: s.performance_return.pk),
                              api(A_SIDE_AND_PROVIDER_X)),
    "api:period-detail": page(r("api:period-detail", lambda s: s.period.pk), API_SIGNED_IN),
    "api:docs": everywhere("api:docs", SIGNED_IN),
    # The secret in the address is the credential: a wrong one is a 404 for everybody.
    "api:calendar": everywhere("api:calendar", allow(anonymous=NOT_FOUND), "jcal_not-issued"),
    "api:tokens": everywhere("api:tokens", SIGNED_IN),
    "api:token_create": everywhere("api:token_create", SIGNED_IN),
    # Only its owner opens a token (side B's belongs to commissioner B).
    "api:token_revoke": page(r("api:token_revoke", lambda s: s.api_token.pk), allow(CA)),
    "api:feed_create": everywhere("api:feed_create", SIGNED_IN, method="POST"),
    "api:feed_revoke": everywhere("api:feed_revoke", SIGNED_IN),
    # Those who manage the people of the organisation they act for (staff here act for none).
    "api:organisation_access": everywhere("api:organisation_access", allow(PA)),
    # --- Monitoring: the provider portal -------------------------------------------------------
    "monitoring:return_list": everywhere("monitoring:return_list", PROVIDERS),
    "monitoring:return_form": page(r("monitoring:return_form", c, period), PROVIDER_X_ONLY),
    "monitoring:return_check": page(r("monitoring:return_check", c, period), PROVIDER_X_ONLY),
    "monitoring:return_submitted": page(r("monitoring:return_submitted", c, period),
                                        PROVIDER_X_ONLY),
    "monitoring:evidence_upload": page(r("monitoring:evidence_upload", c, period),
                                       PROVIDER_X_ONLY),
    "monitoring:return_template": tuple(
        page(r("monitoring:return_template", c, period, lambda s, f=fmt: f), PROVIDER_X_ONLY,
             note=fmt) for fmt in ("csv", "xlsx")),
    "monitoring:return_upload": page(r("monitoring:return_upload", c, period), PROVIDER_X_ONLY),
    "monitoring:service_users_upload": page(r("monitoring:service_users_upload", c, period),
                                            PROVIDER_X_ONLY),
    "monitoring:evidence_download": page(
        r("monitoring:evidence_download", lambda s: s.evidence.pk), A_SIDE_AND_PROVIDER_X),
    # --- Monitoring: commissioners -------------------------------------------------------------
    "monitoring:overview": everywhere("monitoring:overview", COMMISSIONING_SIDE),
    "monitoring:inbox": everywhere("monitoring:inbox", COMMISSIONING_SIDE),
    "monitoring:notices_due": everywhere("monitoring:notices_due", COMMISSIONING_SIDE),
    "monitoring:key_dates": everywhere("monitoring:key_dates", COMMISSIONING_SIDE),
    "monitoring:service_users": everywhere("monitoring:service_users", COMMISSIONING_SIDE),
    "monitoring:return_review": (
        page(r("monitoring:return_review", lambda s: s.performance_return.pk), A_SIDE),
        post(r("monitoring:return_review", lambda s: s.performance_return.pk), A_EDITORS,
             note="accepting or querying"),
    ),
    "monitoring:return_version": page(
        r("monitoring:return_version", lambda s: s.performance_return.pk, lambda s: 1),
        A_SIDE_AND_PROVIDER_X),
    "monitoring:contract_performance": page(r("monitoring:contract_performance", c), A_SIDE),
    "monitoring:kpi_create": page(r("monitoring:kpi_create", c), A_EDITORS),
    "monitoring:templates_copy": page(r("monitoring:templates_copy", c), A_EDITORS),
    "monitoring:kpi_edit": page(r("monitoring:kpi_edit", lambda s: s.kpi.pk), A_EDITORS),
    "monitoring:target_set": page(r("monitoring:target_set", lambda s: s.kpi.pk), A_EDITORS),
    "monitoring:assessment_start": post(r("monitoring:assessment_start", c), A_EDITORS),
    "monitoring:assessment": (
        page(r("monitoring:assessment", lambda s: s.assessment.pk), A_SIDE),
        post(r("monitoring:assessment", lambda s: s.assessment.pk), A_EDITORS,
             note="saving the draft"),
    ),
    # --- Reports -------------------------------------------------------------------------------
    "monitoring:report_list": (
        everywhere("monitoring:report_list", SIGNED_IN),
        everywhere("monitoring:report_list", REPORT_REQUESTERS, method="POST"),
    ),
    "monitoring:report_detail": page(r("monitoring:report_detail",
                                       lambda s: s.monthly_report.pk), A_PARTNERSHIP),
    "monitoring:report_download": (
        page(r("monitoring:report_download", lambda s: s.monthly_report.pk), A_PARTNERSHIP),
        page(r("monitoring:report_download", lambda s: s.report_file_gone.pk), allow(),
             note="its file is missing from storage: a 404, never a 500"),
    ),
    "monitoring:committee_report_new": page(
        lambda s: reverse("monitoring:committee_report_new") + f"?contract={s.contract.pk}",
        A_REPORT_WRITERS),
    "monitoring:committee_report_detail": page(
        r("monitoring:committee_report_detail", lambda s: s.committee_report.pk), A_SIDE),
    "monitoring:committee_report_export": post(
        r("monitoring:committee_report_export", lambda s: s.committee_report.pk),
        A_REPORT_WRITERS),
    "monitoring:committee_export_download": (
        page(r("monitoring:committee_export_download", lambda s: s.part1.pk), A_SIDE,
             note="Part 1"),
        page(r("monitoring:committee_export_download", lambda s: s.part2.pk), A_EXEMPT,
             note="Part 2 (exempt): the roles that may open exempt information"),
        page(r("monitoring:committee_export_download", lambda s: s.export_file_gone.pk),
             allow(), note="its file is missing from storage: a 404, never a 500"),
    ),
}


def _cases(entry: Case | tuple[Case, ...]) -> tuple[Case, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


def _checks() -> list[tuple[str, Case, str]]:
    """(URL name, case, side) in the order they run: reads first, then POSTs, sign-out last."""
    checks = [(name, case, side) for name, entry in ACCESS.items() for case in _cases(entry)
              for side in (("A", "B") if case.scoped else ("A",))]
    return sorted(checks, key=lambda check: (check[0] == "logout", check[1].method == "POST"))


def expected(case: Case, side: str, persona: str) -> str:
    return case.expect[persona if side == "A" else MIRROR[persona]]


# --- The URL names the project has -----------------------------------------------------------

def _url_names(resolver: URLResolver | None = None, namespace: str = "") -> Iterable[str]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _url_names(entry, f"{namespace}{entry.namespace}:" if entry.namespace
                                  else namespace)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else \
                f"{namespace}<unnamed {entry.pattern}>"


def project_url_names() -> set[str]:
    """Every URL name but the Django admin's (checked by its own test below)."""
    return {name for name in _url_names() if not name.startswith("admin:")}


def test_every_view_has_an_access_entry():
    missing = sorted(project_url_names() - set(ACCESS))
    assert not missing, "\n".join(f"new view without an access entry: {n}" for n in missing)


def test_every_access_entry_is_a_view_that_exists():
    stale = sorted(set(ACCESS) - project_url_names())
    assert not stale, "\n".join(f"access entry for a view that no longer exists: {n}"
                                for n in stale)


def test_every_history_label_has_a_case():
    registered = set(history._REGISTRY)
    assert registered == set(HISTORY), (
        f"history labels without an access case: {sorted(registered - set(HISTORY))}; "
        f"cases for labels no longer registered: {sorted(set(HISTORY) - registered)}")


def test_every_case_names_every_persona():
    for name, entry in ACCESS.items():
        for case in _cases(entry):
            assert set(case.expect) == set(PERSONAS), name
            assert set(case.expect.values()) <= {OK, LOGIN, NOT_FOUND, UNAUTHENTICATED}, name


# --- The objects of each side ----------------------------------------------------------------

PDF = b"%PDF-1.4\n% test file\n"


def _file(name: str) -> ContentFile:
    return ContentFile(PDF, name=name)


def build_side(world, *, name, partnership, council, icb, provider, commissioner,
               provider_user, inviter) -> SimpleNamespace:
    """One partnership's objects of every kind a URL can point at, with files on disk.

    ``markers`` are words only this side's objects carry: no page may show them to a persona
    from the other side."""
    side = {"partnership": partnership, "holder": council, "lead_commissioner": council,
            "provider": provider}
    s = SimpleNamespace(partnership=partnership, markers=(
        f"{name}-CON-0001", f"{name} carers support", f"{name} pooled fund",
        f"{name} prevention framework"))
    # Contracts and their documents
    s.contract = contract_for(world, reference=s.markers[0], title=s.markers[1], **side)
    s.other_contract = contract_for(world, **side)
    # A Procurement Act contract owes a contract details notice (contracts.notices).
    # Over £5m: its holder owes six-monthly payments compliance notices too.
    s.notice_contract = contract_for(world, procurement_regime="pa_2023",
                                     procurement_route="pa_open",
                                     annual_value=Decimal("6000000"), **side)
    ServiceLineFactory(contract=s.contract)
    ShareFactory(contract=s.contract, organisation=council, share_percent=Decimal("60"))
    ShareFactory(contract=s.contract, organisation=icb, share_percent=Decimal("40"))
    DecisionFactory(contract=s.contract)
    ExtensionOptionFactory(contract=s.contract, sequence=1)
    s.signed_contract, s.committee_paper = (
        ContractDocument.objects.create(
            contract=s.contract, kind=kind, file=_file("document.pdf"),
            original_name="document.pdf", size=len(PDF), content_type="application/pdf",
            uploaded_by=commissioner)
        for kind in (DocumentKind.SIGNED_CONTRACT, DocumentKind.COMMITTEE_REPORT))
    s.register_import = RegisterImport.objects.create(
        partnership=partnership, created_by=commissioner,
        file=ContentFile(b"Reference,Title\r\nR1,A service\r\n", name="register.csv"),
        original_name="register.csv", file_kind="csv", headers=["Reference", "Title"],
        preview=[{"row": 2, "reference": "R1", "errors": [
            {"column": "Title", "message": "Enter the contract title"}]}])
    # Frameworks: a live framework whose only window closed in 2021
    s.framework = FrameworkFactory(partnership=partnership, title=s.markers[3])
    FrameworkParty.objects.create(framework=s.framework, organisation=council, is_lead=True)
    FrameworkParty.objects.create(framework=s.framework, organisation=icb)
    s.lot = LotFactory(framework=s.framework, number=1)
    WindowFactory(framework=s.framework)
    s.application = admit(provider, s.lot)
    world_side = SimpleNamespace(council_a=council, icb_a=icb, partnership_a=partnership,
                                 provider_x=provider)
    s.call_off = quick_call_off(world_side, s.lot, provider)
    # Funding: a Section 75 agreement for 2025/26 to 2027/28
    s.agreement = AgreementFactory(partnership=partnership, host_partner=council,
                                   title=s.markers[2],
                                   start_date=date(2025, 4, 1), end_date=date(2028, 3, 31))
    for organisation in (council, icb):
        AgreementPartner.objects.create(agreement=s.agreement, organisation=organisation,
                                        risk_share_percent=Decimal("50"))
    s.scheme = SchemeFactory(agreement=s.agreement, lead_partner=council)
    SchemeBudget.objects.create(scheme=s.scheme, year=2025, amount=Decimal("100000"))
    s.contribution = Contribution.objects.create(scheme=s.scheme, partner=council, year=2025,
                                                 source=source(), amount=Decimal("50000"))
    s.top_slice = TopSlice.objects.create(agreement=s.agreement, scheme=s.scheme, year=2025,
                                          name="Innovation fund", percent=Decimal("15"))
    s.allocation = ContractFunding.objects.create(
        contract=s.contract, scheme=s.scheme, source=source(), basis=AllocationBasis.AMOUNT,
        amount=Decimal("10000"))
    s.finance_import = FinanceImport.objects.create(
        agreement=s.agreement, original_name="ledger.csv", status=ImportStatus.READY,
        uploaded_by=commissioner)
    # Monitoring: a KPI, a submitted return with evidence, a draft assessment
    s.kpi = kpi_with_target(s.contract)
    s.kpi_target = s.kpi.targets.get()
    s.period = quarter()
    s.performance_return = fill_and_submit(s.contract, s.period, provider_user,
                                           today=date(2025, 7, 10))
    s.evidence = Evidence.objects.create(
        performance_return=s.performance_return, kpi=s.kpi, file=_file("evidence.pdf"),
        original_name="evidence.pdf", size=len(PDF), content_type="application/pdf",
        uploaded_by=provider_user)
    s.assessment = PerformanceAssessment.objects.create(
        contract=s.contract, financial_year="2024/25", created_by=commissioner)
    # Reports: a finished monthly report, a committee report with both exports
    s.monthly_report = MonthlyReport.objects.create(
        partnership=partnership, month=date(2025, 7, 1), status=ReportStatus.DONE,
        file=_file("report.pdf"), page_count=1, size_bytes=len(PDF))
    s.report_file_gone = MonthlyReport.objects.create(
        partnership=partnership, month=date(2025, 8, 1), status=ReportStatus.DONE,
        file=_file("gone.pdf"), page_count=1, size_bytes=len(PDF))
    s.report_file_gone.file.storage.delete(s.report_file_gone.file.name)
    s.committee_report = committee_reports.committee_report_create(
        partnership=partnership, report_type="performance", contract=s.contract,
        created_by=commissioner, meta=committee_reports.Meta(
            title="Performance update", decision_maker="pds", meeting_name="PDS Committee",
            meeting_date=date(2026, 7, 4), is_key_decision=False, is_urgent=False,
            contact_name="Officer", contact_phone="", contact_email="", chief_officer="Director",
            ward="Borough-wide"))
    s.part1, s.part2 = (
        CommitteeReportExport.objects.create(
            report=s.committee_report, version=1, part=part, file=_file(f"{part}.pdf"),
            page_count=1, size_bytes=len(PDF), exported_by=commissioner)
        for part in ("part1", "part2"))
    s.export_file_gone = CommitteeReportExport.objects.create(
        report=s.committee_report, version=1, part="part1", file=_file("gone.pdf"),
        page_count=1, size_bytes=len(PDF), exported_by=commissioner)
    s.export_file_gone.file.storage.delete(s.export_file_gone.file.name)
    # An API token of the side's commissioner (api:token_revoke)
    s.api_token = api_tokens.token_create(user=commissioner, name="Power BI", days=90).token
    # People: a pending invitation to the council
    s.invitation_token, token_hash = Invitation.new_token()
    s.invitation = Invitation.objects.create(
        email=f"new.person@{council.pk}.example.org", full_name="New Person",
        organisation=council, role=Role.COMMISSIONER, token_hash=token_hash,
        invited_by=inviter, expires_at=timezone.now() + timedelta(days=7))
    return s


@pytest.fixture
def partner_not_party(world):
    """A third member of partnership A (Bexley) and its commissioner, who becomes a party to
    side A's framework only (``sides``): the ``NP`` persona."""
    bexley = f.CouncilFactory(name="London Borough of Bexley", short_name="Bexley Council")
    PartnershipMember.objects.create(partnership=world.partnership_a, organisation=bexley)
    world.partner_not_party_a = f.user_with_role(
        bexley, Role.COMMISSIONER, email="commissioner.c@example.org", full_name="Cleo Bexley")
    return bexley


@pytest.fixture
def sides(world, settings, tmp_path, partner_not_party) -> dict[str, SimpleNamespace]:
    settings.MEDIA_ROOT = tmp_path
    built = {
        "A": build_side(world, name="ALPHA", partnership=world.partnership_a,
                        council=world.council_a, icb=world.icb_a, provider=world.provider_x,
                        commissioner=world.commissioner_a, provider_user=world.provider_x_user,
                        inviter=world.partnership_admin_a),
        "B": build_side(world, name="BRAVO", partnership=world.partnership_b,
                        council=world.council_b, icb=world.icb_b, provider=world.provider_y,
                        commissioner=world.commissioner_b, provider_user=world.provider_y_user,
                        inviter=world.staff_admin),
    }
    # Bexley signed side A's framework, so it sees the framework and a summary row of the
    # call-off, but it holds, leads and shares none of side A's contracts or agreements.
    FrameworkParty.objects.create(framework=built["A"].framework, organisation=partner_not_party)
    return built


# --- Running the matrix ----------------------------------------------------------------------

CHECKED: Counter[str] = Counter()


@dataclass
class Outcome:
    kind: str  # ok, login, 404, 403, 500, 2fa
    detail: str = ""
    body: str = ""  # pages and generated exports; not stored files


def outcome(client: Client, method: str, url: str) -> Outcome:
    try:
        response = client.get(url) if method == "GET" else client.post(url, {})
        # Reading a download to the end closes its file the way the test client expects
        # (calling close() ourselves would fire request_finished and drop the connection).
        body = b"".join(response.streaming_content) if response.streaming else response.content
    except Exception as error:  # noqa: BLE001 - a view that raises is a 500 to the user
        return Outcome("500", f"{type(error).__name__}: {error}")
    status, location = response.status_code, response.get("Location", "")
    detail = f"{status} {location}".strip()
    if status == 401:
        return Outcome(UNAUTHENTICATED, detail)
    if status in (403, 404) or status >= 500:
        return Outcome(str(status) if status != 404 else NOT_FOUND, detail)
    if status in (301, 302) and location.startswith(reverse("login")):
        return Outcome(LOGIN, detail)
    if status in (301, 302) and location.startswith("/two-factor/"):
        return Outcome("2fa", detail)  # the personas are fully signed in: never expected
    if isinstance(response, FileResponse):
        body = b""  # a stored file, not a page
    return Outcome(OK, detail, body.decode("utf-8", "replace"))


@pytest.fixture
def sign_in(world, client_for, partner_not_party):
    def make(persona: str) -> Client:
        if persona == ANON:
            return Client()
        return client_for(getattr(world, WORLD_USER[persona]))
    return make


# The sides whose objects a persona may never see, not even named in a list or an export.
FOREIGN = {ANON: ("A", "B"), CA: ("B",), FO: ("B",), RO: ("B",), PA: ("B",), PX: ("B",),
           CB: ("A",), PY: ("A",), STAFF: (), NP: ("B",), RV: ("B",)}
# A partner that is not party to side A's contract and agreement never sees their words either
# (their reference, title and the agreement's title; the framework's title it may see).
NOT_PARTY_TO_A = {NP: 3}
# ...and the sides whose contract they see, so the search for foreign words is shown to work.
OWN = {ANON: (), CA: ("A",), FO: ("A",), RO: ("A",), PA: ("A",), PX: ("A",), CB: ("B",),
       PY: ("B",), STAFF: ("A", "B"), NP: (), RV: ("A",)}


# The same table holds for people signed in through their organisation's account (single
# sign-on on the real test provider, commissioning/tests/oidc.py): commissioner A through
# Bromley's provider, commissioner B through Merton's. Their sessions are verified by the
# provider's multi-factor sign-in, not by the service's own authenticator.
SSO_LOGINS = {CA: ("alice", "council-a", "council-a.test"), CB: ("cara", "icb-b", "icb-b.test")}


@pytest.fixture
def sign_in_through_provider(world):
    signed_in: dict[str, Client] = {}

    def make(persona: str) -> Client:
        if persona not in signed_in:
            login, client_id, domain = SSO_LOGINS[persona]
            user = getattr(world, WORLD_USER[persona])
            oidc.link_provider(user.memberships.get().organisation, client_id=client_id,
                               domains=domain)
            User.objects.filter(pk=user.pk).update(email=oidc.EMAILS[login])
            client = Client()
            response = oidc.sign_in_through_provider(client, login)
            assert response.status_code == 302 and response["Location"] == "/", response
            signed_in[persona] = client
            return client
        # Another browser tab's worth: a new session holding what the sign-in put in the
        # first (each POST gets its own, as for the other personas).
        first = signed_in[persona].session
        session = SessionStore()
        session.update(dict(first.items()))
        session.create()
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        return client
    return make


@pytest.mark.parametrize("persona", sorted(SSO_LOGINS))
def test_people_signed_in_through_their_organisation_get_what_the_table_says(
        persona, sides, sign_in_through_provider):
    test_each_persona_gets_exactly_what_the_table_says(persona, sides,
                                                       sign_in_through_provider)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_exactly_what_the_table_says(persona, sides, sign_in):
    """Every view: the status the table declares, and never a word of the other side's."""
    client = sign_in(persona)
    foreign = [m for side in FOREIGN[persona] for m in sides[side].markers]
    foreign += sides["A"].markers[:NOT_PARTY_TO_A.get(persona, 0)]
    wrong: list[str] = []
    seen = ""
    for name, case, side in _checks():
        # A POST changes things (and sign-out ends the session): each gets a fresh client.
        this_client = sign_in(persona) if case.method == "POST" else client
        url = case.url(sides[side])
        got = outcome(this_client, case.method, url)
        want = expected(case, side, persona)
        CHECKED[persona] += 1
        if got.kind != want:
            note = f" ({case.note})" if case.note else ""
            wrong.append(f"{name}{note} {case.method} {url} [side {side}]: expected {want}, "
                         f"got {got.kind} ({got.detail})")
        seen += got.body
        leaked = [m for m in foreign if m in got.body]
        if leaked:
            wrong.append(f"{name} {case.method} {url} [side {side}] shows {leaked}")
    for side in OWN[persona]:
        assert sides[side].markers[0] in seen, f"{persona} never saw side {side}'s contract"
    assert not wrong, f"{persona}: {len(wrong)} views differ from the table:\n" + \
        "\n".join(wrong)


@pytest.mark.parametrize("persona", PERSONAS)
def test_media_files_are_never_served(persona, sides, sign_in):
    """Uploaded files are reached only through permission-checked download views."""
    client = sign_in(persona)
    stored = [sides["A"].signed_contract.file.name, sides["A"].evidence.file.name,
              sides["A"].monthly_report.file.name, sides["B"].part2.file.name,
              "anything.pdf", "../settings.py"]
    for name in stored:
        got = outcome(client, "GET", f"/media/{name}")
        assert got.kind == NOT_FOUND, f"/media/{name} for {persona}: {got.detail}"


def test_the_admin_is_for_staff_only(world, client_for):
    models = list(admin.site._registry)
    changelists = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
                   for m in models]
    # Anonymous: the admin's own sign-in for its index, the service's (LoginRequiredMiddleware)
    # for everything else; signed in without staff status: the admin's sign-in.
    sign_in_pages = (reverse("admin:login"), reverse("login"))
    for user in (None, world.commissioner_a, world.partnership_admin_a, world.provider_x_user):
        client = Client() if user is None else client_for(user)
        for url in (reverse("admin:index"), *changelists):
            response = client.get(url)
            assert response.status_code == 302, (user, url, response.status_code)
            assert response["Location"].startswith(
                sign_in_pages if user is None else sign_in_pages[0]), (user, url)
    staff = client_for(world.staff_admin)
    assert staff.get(reverse("admin:index")).status_code == 200
    for url in changelists:
        assert staff.get(url).status_code == 200, url


def matrix_size() -> tuple[int, int, int]:
    """(URL names, cases with their sides, checks = cases × personas)."""
    cases = len(_checks())
    return len(ACCESS), cases, cases * len(PERSONAS)


def test_zz_report_the_size_of_the_matrix(capsys):
    names, cases, checks = matrix_size()
    assert names == len(project_url_names())
    with capsys.disabled():
        print(f"\naccess matrix: {names} views, {cases} cases (views × objects of each side × "
              f"method) × {len(PERSONAS)} personas = {checks} checks"
              + (f"; {sum(CHECKED.values())} run in this session" if CHECKED else ""))

