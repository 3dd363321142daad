"""Reads for frameworks: the list, the framework "at a glance" page, lots, applications and
call-offs, each through the visibility rule (``Framework.objects.for_user``) or, for
providers, through their own applications only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from commissioning import access
from commissioning.models import Organisation
from contracts.frameworks.models import (
    ApplicationDecision,
    CallOff,
    Framework,
    FrameworkParty,
    FrameworkStatus,
    Lot,
    MiniCompetitionInvitation,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.frameworks.services import accepts_new_providers, closed_message
from contracts.models import CommissioningShare, whole_life_value

ZERO = Decimal("0")


def framework_list(*, user) -> QuerySet[Framework]:
    """Visible frameworks with their counts and the annual value called off, in one query."""
    called_off = (
        CallOff.objects.filter(lot__framework=OuterRef("pk")).order_by()
        .values("lot__framework").annotate(total=Sum("contract__annual_value")).values("total")
    )
    admitted = (
        ProviderApplication.objects.filter(lot__framework=OuterRef("pk"),
                                           decision=ApplicationDecision.ADMITTED)
        .order_by().values("lot__framework")
        .annotate(count=Count("provider", distinct=True)).values("count")
    )
    lots = (Lot.objects.filter(framework=OuterRef("pk")).order_by().values("framework")
            .annotate(count=Count("pk")).values("count"))
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        Framework.objects.for_user(user).select_related("partnership")
        .annotate(
            lot_count=Coalesce(Subquery(lots), 0),
            admitted_count=Coalesce(Subquery(admitted), 0),
            called_off_annual=Coalesce(Subquery(called_off, output_field=money),
                                       Value(ZERO, output_field=money)),
        )
        .order_by("reference", "pk")
    )


def get_framework_for_user(user, pk: int) -> Framework:
    """The framework if the user may see it, else 404."""
    return get_object_or_404(Framework.objects.for_user(user).select_related("partnership"),
                             pk=pk)


def get_lot_for_user(user, framework_pk: int, lot_pk: int) -> Lot:
    return get_object_or_404(
        Lot.objects.select_related("framework__partnership").filter(
            framework__in=Framework.objects.for_user(user)),
        pk=lot_pk, framework_id=framework_pk,
    )


def get_call_off_for_user(user, pk: int) -> CallOff:
    return get_object_or_404(
        CallOff.objects.for_user(user).select_related(
            "lot__framework__partnership", "contract__provider", "contract__lead_commissioner",
            "created_by",
        ).prefetch_related(
            Prefetch("contract__shares",
                     queryset=CommissioningShare.objects.select_related("organisation")),
            Prefetch("invitations",
                     queryset=MiniCompetitionInvitation.objects.select_related("provider")),
        ),
        pk=pk,
    )


# --- Windows ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WindowState:
    current: ProcurementWindow | None
    upcoming: ProcurementWindow | None
    closed_message: str


def window_state(windows: list[ProcurementWindow], today: date) -> WindowState:
    current = next((w for w in windows if w.is_open_on(today)), None)
    upcoming = min((w for w in windows if w.opens > today), key=lambda w: w.opens, default=None)
    return WindowState(current, upcoming, "" if current else closed_message(windows, today))


# --- The framework at a glance ---------------------------------------------------------------

CELL_TEXT = {
    ApplicationDecision.ADMITTED: "Admitted",
    ApplicationDecision.PENDING: "Applied",
    ApplicationDecision.REJECTED: "Rejected",
}
# A provider's cell shows its best standing in the lot: admitted, else applied, else rejected.
_RANK = {ApplicationDecision.ADMITTED: 3, ApplicationDecision.PENDING: 2,
         ApplicationDecision.REJECTED: 1}


@dataclass
class MatrixRow:
    provider: Organisation
    cells: list[str]


@dataclass
class LotSummary:
    lot: Lot
    call_offs: list[CallOff] = field(default_factory=list)
    admitted: int = 0

    @property
    def annual_value(self) -> Decimal:
        return sum((c.contract.annual_value for c in self.call_offs), ZERO)


@dataclass
class FrameworkOverview:
    framework: Framework
    parties: list[FrameworkParty]
    lots: list[LotSummary]
    matrix: list[MatrixRow]
    windows: list[ProcurementWindow]
    window: WindowState
    called_off_annual: Decimal
    called_off_whole_life: Decimal
    call_off_count: int
    pending_applications: list[ProviderApplication]

    @property
    def lead(self) -> FrameworkParty | None:
        return next((p for p in self.parties if p.is_lead), None)

    @property
    def percent_of_estimate(self) -> Decimal | None:
        estimate = self.framework.estimated_total_value
        if not estimate:
            return None
        return (self.called_off_whole_life * 100 / estimate).quantize(Decimal("0.1"))


def mark_openable(call_offs, user) -> None:
    """Set ``can_open`` on each call-off: the user's organisation is party to its contract.
    Every party of the framework sees every call-off's summary row (reference, provider,
    commissioning parties, annual value), so the framework's totals stay true; only the
    call-off's own parties open it. Uses the prefetched shares: no queries."""
    for call_off in call_offs:
        call_off.can_open = access.is_platform_admin(user) or access.is_contract_party(
            user, call_off.contract)


def framework_overview(framework: Framework, *, today: date, user=None) -> FrameworkOverview:
    """Everything the framework page shows, in a fixed number of queries whatever the number
    of lots, providers, applications and call-offs (parties, lots, applications, call-offs
    with shares and options, windows: one query each). With ``user``, each call-off says
    whether that user may open it (``mark_openable``)."""
    parties = list(framework.party_rows.select_related("organisation"))
    lots = list(framework.lots.all())
    applications = list(
        ProviderApplication.objects.filter(lot__framework=framework)
        .select_related("provider", "lot").order_by("provider__name", "lot__number", "pk")
    )
    call_offs = list(
        CallOff.objects.filter(lot__framework=framework)
        .select_related("contract__provider", "contract__lead_commissioner")
        .prefetch_related(
            Prefetch("contract__shares",
                     queryset=CommissioningShare.objects.select_related("organisation")),
            "contract__extension_options",
        ).order_by("lot__number", "called_off_on", "pk")
    )
    windows = list(framework.windows.all())
    if user is not None:
        mark_openable(call_offs, user)

    column = {lot.pk: index for index, lot in enumerate(lots)}
    best: dict[int, dict[int, str]] = defaultdict(dict)
    providers: dict[int, Organisation] = {}
    for application in applications:
        providers[application.provider_id] = application.provider
        held = best[application.provider_id].get(application.lot_id)
        if held is None or _RANK[application.decision] > _RANK[held]:
            best[application.provider_id][application.lot_id] = application.decision
    matrix = []
    for provider in sorted(providers.values(), key=lambda o: o.name.lower()):
        cells = ["–"] * len(lots)
        for lot_id, decision in best[provider.pk].items():
            cells[column[lot_id]] = CELL_TEXT[decision]
        matrix.append(MatrixRow(provider, cells))

    summaries = {lot.pk: LotSummary(lot) for lot in lots}
    for decisions in best.values():
        for lot_id, decision in decisions.items():
            if decision == ApplicationDecision.ADMITTED:
                summaries[lot_id].admitted += 1
    whole_life = ZERO
    for call_off in call_offs:
        summaries[call_off.lot_id].call_offs.append(call_off)
        contract = call_off.contract
        whole_life += whole_life_value(
            start=contract.start_date, initial_end=contract.initial_end_date,
            annual_value=contract.annual_value,
            option_months=[o.length_months for o in contract.extension_options.all()],
        )
    return FrameworkOverview(
        framework=framework, parties=parties, lots=list(summaries.values()), matrix=matrix,
        windows=windows, window=window_state(windows, today),
        called_off_annual=sum((c.contract.annual_value for c in call_offs), ZERO),
        called_off_whole_life=whole_life, call_off_count=len(call_offs),
        pending_applications=[a for a in applications
                              if a.decision == ApplicationDecision.PENDING],
    )


def admitted_providers(lot: Lot) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        framework_applications__lot=lot,
        framework_applications__decision=ApplicationDecision.ADMITTED,
    ).distinct().order_by("name")


# --- Applications ----------------------------------------------------------------------------

def framework_applications(framework: Framework) -> QuerySet[ProviderApplication]:
    return (ProviderApplication.objects.filter(lot__framework=framework)
            .select_related("provider", "lot", "window", "evaluated_by")
            .order_by("decision", "provider__name", "lot__number"))


def get_application_for_user(user, pk: int) -> ProviderApplication:
    return get_object_or_404(
        ProviderApplication.objects.for_user(user).select_related(
            "provider", "lot__framework__partnership", "window", "evaluated_by",
            "submitted_by"),
        pk=pk,
    )


def own_applications(user) -> QuerySet[ProviderApplication]:
    """A provider user's applications and admissions (their organisation's), nobody else's."""
    if not access.is_provider_user(user):
        return ProviderApplication.objects.none()
    return (ProviderApplication.objects.for_user(user)
            .select_related("lot__framework", "window")
            .order_by("lot__framework__reference", "lot__number", "-submitted_on"))


def frameworks_for_provider(user, *, today: date) -> QuerySet[Framework]:
    """Frameworks a provider user may see the provider-facing page of: those taking new
    providers in a window open today, and those its organisation has applied to."""
    if not access.is_provider_user(user):
        return Framework.objects.none()
    organisation = access.current_organisation(user)
    window_open = ProcurementWindow.objects.filter(
        framework=OuterRef("pk"), opens__lte=today, closes__gte=today)
    applied = ProviderApplication.objects.filter(lot__framework=OuterRef("pk"),
                                                 provider=organisation)
    accepting = Q(status=FrameworkStatus.OPEN_FOR_APPLICATIONS) | Q(
        status=FrameworkStatus.LIVE, open_to_new_providers=True)
    return Framework.objects.filter((accepting & Exists(window_open)) | Exists(applied)) \
        .order_by("reference", "pk")


def frameworks_open_for_applications(user, *, today: date) -> list[Framework]:
    """The provider's "Apply" list: frameworks taking new providers with a window open now."""
    frameworks = frameworks_for_provider(user, today=today).prefetch_related("windows")
    return [f for f in frameworks if accepts_new_providers(f)
            and any(w.is_open_on(today) for w in f.windows.all())]


def get_framework_for_provider(user, pk: int, *, today: date) -> Framework:
    framework = frameworks_for_provider(user, today=today).filter(pk=pk).first()
    if framework is None:
        raise Http404
    return framework
