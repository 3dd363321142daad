"""Section 75 agreements, schemes, budgets, contributions, actuals and risk share.

Money is ``Decimal`` in ``DecimalField(max_digits=14, decimal_places=2)`` everywhere. A
financial year is stored as the calendar year in which it starts (2025 means "2025/26");
months are stored as the first day of the month.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from commissioning import access
from commissioning.models import Organisation, Partnership
from commissioning.periods import FinancialYear, financial_year_start


def money_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def percent_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, **kwargs)


def year_label(year: int) -> str:
    """2025 -> "2025/26" (the financial year whose start is stored in ``year`` columns)."""
    return FinancialYear.of(year).label


def month_label(month: date) -> str:
    return month.strftime("%B %Y")


# --- Choices ---------------------------------------------------------------------------------

class AgreementKind(models.TextChoices):
    SECTION_75 = "section_75", "Section 75 partnership agreement"
    SECTION_256 = "section_256", "Section 256 transfer"


class ArrangementType(models.TextChoices):
    POOLED_FUND = "pooled_fund", "Pooled fund"
    LEAD_COMMISSIONING = "lead_commissioning", "Lead commissioning"
    INTEGRATED_PROVISION = "integrated_provision", "Integrated provision"


class RiskShareRule(models.TextChoices):
    FIXED_SPLIT = "fixed_split", "Fixed split (each partner's percentage)"
    PROPORTIONAL = "proportional", "In proportion to contributions"
    OWN = "own", "Each partner bears its own (the scheme's nominated lead)"


class UnderspendRule(models.TextChoices):
    CARRY_FORWARD = "carry_forward", "Carried forward to the next year"
    RETURN_TO_PARTNERS = "return_to_partners", "Returned to partners"


class SchemeType(models.TextChoices):
    """Better Care Fund planning template scheme types."""

    ASSISTIVE_TECHNOLOGIES = "assistive_technologies", "Assistive technologies and equipment"
    CARE_TRANSITION = "care_transition", "Care transition"
    CARERS_SERVICES = "carers_services", "Carers services"
    COMMUNITY_BASED = "community_based", "Community based schemes"
    DFG_RELATED = "dfg_related", "DFG related schemes"
    ENABLERS = "enablers", "Enablers for integration"
    HICM = "hicm", "High impact change model for managing transfer of care"
    HOME_CARE = "home_care", "Home care or domiciliary care"
    HOUSING_RELATED = "housing_related", "Housing related schemes"
    CARE_PLANNING = "care_planning", "Integrated care planning and navigation"
    BED_BASED_IC = "bed_based_ic", "Bed based intermediate care services"
    HOME_BASED_IC = "home_based_ic", "Home-based intermediate care services"
    RESIDENTIAL = "residential", "Residential placements"
    WORKFORCE = "workforce", "Workforce recruitment and retention"
    OTHER = "other", "Other"


class BudgetType(models.TextChoices):
    POOLED = "pooled", "Pooled"
    ALIGNED = "aligned", "Aligned"


class Commissioner(models.TextChoices):
    LA = "la", "Local authority"
    NHS = "nhs", "NHS"
    JOINT = "joint", "Joint"


class AreaOfSpend(models.TextChoices):
    SOCIAL_CARE = "social_care", "Social care"
    COMMUNITY_HEALTH = "community_health", "Community health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    PRIMARY_CARE = "primary_care", "Primary care"
    ACUTE = "acute", "Acute"
    OTHER = "other", "Other"


# --- Agreements ------------------------------------------------------------------------------

class AgreementQuerySet(models.QuerySet):
    def for_user(self, user) -> AgreementQuerySet:
        """Agreements the user may see (``access.visible_agreements_q``): those their
        organisation is a partner in; platform administrators all; providers nothing."""
        return self.filter(access.visible_agreements_q(user))


class Section75Agreement(models.Model):
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="funding_agreements"
    )
    kind = models.CharField(max_length=20, choices=AgreementKind.choices,
                            default=AgreementKind.SECTION_75)
    title = models.CharField(max_length=250)
    reference = models.CharField(max_length=50, blank=True)
    partners = models.ManyToManyField(
        Organisation, through="AgreementPartner", related_name="funding_agreements"
    )
    host_partner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="hosted_agreements",
        help_text="The partner that hosts the pooled fund",
    )
    pooled_fund_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="pooled_funds_managed",
    )
    arrangement_type = models.CharField(max_length=30, choices=ArrangementType.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    review_date = models.DateField(null=True, blank=True)
    governance_board = models.CharField(max_length=200, blank=True)
    aims = models.TextField(blank=True)
    risk_share_rule = models.CharField(max_length=20, choices=RiskShareRule.choices)
    underspend_rule = models.CharField(max_length=30, choices=UnderspendRule.choices)
    parallel_reduction = models.BooleanField(
        "parallel reduction clause", default=False,
        help_text="A reduction by one partner is mirrored proportionally by the others",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgreementQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["partnership__name", "title"]
        verbose_name = "Section 75 agreement"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="agreement_end_not_before_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("funding:agreement_detail", args=[self.pk])

    @property
    def years(self) -> list[int]:
        """The financial years (start years) the agreement runs in."""
        return list(range(financial_year_start(self.start_date),
                          financial_year_start(self.end_date) + 1))

    def covers_month(self, month: date) -> bool:
        return self.start_date.replace(day=1) <= month <= self.end_date


class AgreementPartner(models.Model):
    agreement = models.ForeignKey(
        Section75Agreement, on_delete=models.CASCADE, related_name="agreement_partners"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="agreement_memberships"
    )
    risk_share_percent = percent_field(
        "risk share (%)", null=True, blank=True,
        help_text="Used when the agreement's risk share is a fixed split",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation"], name="agreement_partner_unique"
            ),
            models.CheckConstraint(
                condition=Q(risk_share_percent__isnull=True)
                | (Q(risk_share_percent__gte=0) & Q(risk_share_percent__lte=100)),
                name="agreement_partner_share_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.agreement}"


# --- Reference data --------------------------------------------------------------------------

class FundingSource(models.Model):
    """Where money comes from (administrators may add more)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    is_bcf = models.BooleanField("part of the Better Care Fund", default=False)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField("active", default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


# --- Schemes and budgets ---------------------------------------------------------------------

class Scheme(models.Model):
    agreement = models.ForeignKey(
        Section75Agreement, on_delete=models.CASCADE, related_name="schemes"
    )
    code = models.CharField("scheme ID", max_length=30, help_text='For example, "BCF-07"')
    name = models.CharField(max_length=200)
    lead_partner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="schemes_led",
        verbose_name="nominated lead",
    )
    scheme_type = models.CharField(max_length=30, choices=SchemeType.choices)
    sub_type = models.CharField(max_length=120, blank=True)
    budget_type = models.CharField(max_length=10, choices=BudgetType.choices,
                                   default=BudgetType.POOLED)
    is_bcf = models.BooleanField("Better Care Fund scheme", default=False)
    commissioner = models.CharField(max_length=10, choices=Commissioner.choices)
    nhs_percent = percent_field("% NHS", null=True, blank=True)
    la_percent = percent_field("% LA", null=True, blank=True)
    provider = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="funded_schemes",
    )
    provider_text = models.CharField(
        "provider", max_length=200, blank=True, help_text="When the provider is not listed"
    )
    area_of_spend = models.CharField(max_length=20, choices=AreaOfSpend.choices,
                                     default=AreaOfSpend.SOCIAL_CARE)
    planned_outputs = models.DecimalField(max_digits=12, decimal_places=2, null=True,
                                          blank=True)
    output_units = models.CharField(max_length=80, blank=True)
    is_new = models.BooleanField("new scheme", default=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "code"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "code"], name="scheme_unique_code"),
            models.CheckConstraint(
                condition=(Q(nhs_percent__isnull=True)
                           | (Q(nhs_percent__gte=0) & Q(nhs_percent__lte=100)))
                & (Q(la_percent__isnull=True) | (Q(la_percent__gte=0) & Q(la_percent__lte=100))),
                name="scheme_commissioner_percent_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("funding:scheme_detail", args=[self.agreement_id, self.pk])

    @property
    def provider_name(self) -> str:
        return self.provider.name if self.provider_id else self.provider_text

    @property
    def commissioner_description(self) -> str:
        if self.commissioner == Commissioner.JOINT:
            return f"Joint ({self.nhs_percent or 0}% NHS, {self.la_percent or 0}% LA)"
        return self.get_commissioner_display()


class SchemeBudget(models.Model):
    """A scheme's budget for a financial year."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="budgets")
    year = models.PositiveSmallIntegerField("financial year")
    amount = money_field()
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "year"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year"], name="scheme_budget_unique_year"),
            models.CheckConstraint(condition=Q(amount__gte=0),
                                   name="scheme_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} {year_label(self.year)}: £{self.amount:,}"

    @property
    def year_label(self) -> str:
        return year_label(self.year)


# --- Contributions ---------------------------------------------------------------------------

class Contribution(models.Model):
    """A partner's contribution to a scheme for a financial year from one funding source."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="contributions")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                related_name="funding_contributions")
    year = models.PositiveSmallIntegerField("financial year")
    source = models.ForeignKey(FundingSource, on_delete=models.PROTECT,
                               related_name="contributions", verbose_name="funding source")
    amount = money_field()
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "year", "partner__name", "source__order"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "partner", "year", "source"],
                                    name="contribution_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0),
                                   name="contribution_not_negative"),
        ]
        indexes = [models.Index(fields=["year", "partner"])]

    def __str__(self) -> str:
        return f"{self.partner} to {self.scheme.code} {year_label(self.year)} ({self.source})"

    @property
    def year_label(self) -> str:
        return year_label(self.year)


class Instalment(models.Model):
    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE,
                                     related_name="instalments")
    due_date = models.DateField()
    amount = money_field()
    paid_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contribution", "due_date"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_positive"),
        ]

    def __str__(self) -> str:
        return f"£{self.amount:,} due {self.due_date:%d/%m/%Y}"


class DecisionFields(models.Model):
    """Who decided, when and under which report: recorded with every change of money."""

    decision_maker = models.CharField(max_length=200)
    decision_date = models.DateField("date of decision")
    decision_reference = models.CharField("report or decision reference", max_length=80)

    class Meta:
        abstract = True


class ContributionChange(DecisionFields):
    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE,
                                     related_name="changes")
    previous_amount = money_field()
    new_amount = money_field()
    reason = models.TextField(blank=True)
    mirrored_from = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="mirrors",
        help_text="The reduction this one mirrors under the parallel reduction clause",
    )
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(new_amount__gte=0),
                                   name="contribution_change_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.contribution}: £{self.previous_amount:,} → £{self.new_amount:,}"


# --- Top-slices ------------------------------------------------------------------------------

class TopSlice(models.Model):
    """A percentage of a scheme's (or the whole agreement's) budget held back for a purpose,
    such as the 15% Bromley Well innovation fund."""

    agreement = models.ForeignKey(Section75Agreement, on_delete=models.CASCADE,
                                  related_name="top_slices")
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="top_slices",
                               help_text="Leave blank to reserve from the whole agreement")
    year = models.PositiveSmallIntegerField("financial year")
    name = models.CharField(max_length=120)
    percent = percent_field("percentage")

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "year", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=0) & Q(percent__lte=100),
                                   name="top_slice_percent_0_to_100"),
            models.UniqueConstraint(fields=["agreement", "scheme", "year", "name"],
                                    name="top_slice_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent}%) {year_label(self.year)}"


class TopSliceDrawdown(DecisionFields):
    top_slice = models.ForeignKey(TopSlice, on_delete=models.CASCADE, related_name="drawdowns")
    amount = money_field()
    purpose = models.CharField(max_length=250)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["top_slice", "decision_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="drawdown_positive"),
        ]

    def __str__(self) -> str:
        return f"£{self.amount:,} from {self.top_slice.name}"


# --- Contracts funded ------------------------------------------------------------------------

class AllocationBasis(models.TextChoices):
    AMOUNT = "amount", "A fixed amount"
    SHARE = "share", "A share of the contract's annual value"


class ContractFunding(models.Model):
    """Part of a contract's annual value paid from a scheme and funding source."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE,
                                 related_name="funding_allocations")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT,
                               related_name="contract_allocations")
    source = models.ForeignKey(FundingSource, on_delete=models.PROTECT,
                               related_name="contract_allocations",
                               verbose_name="funding source")
    basis = models.CharField(max_length=10, choices=AllocationBasis.choices)
    amount = money_field(
        "annual amount", help_text="For a share, worked out from the annual value when saved"
    )
    share_percent = percent_field("share (%)", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "scheme__code", "source__order"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "scheme", "source"],
                                    name="contract_funding_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0),
                                   name="contract_funding_not_negative"),
            models.CheckConstraint(
                condition=Q(share_percent__isnull=True)
                | (Q(share_percent__gte=0) & Q(share_percent__lte=100)),
                name="contract_funding_share_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} ({self.source}): £{self.amount:,}"


# --- Actuals, forecasts and month close ------------------------------------------------------

class MonthlyActual(models.Model):
    """Actual spend on a scheme in a month, and the forecast outturn for the year as at then."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="actuals")
    month = models.DateField(help_text="The first day of the month")
    actual = money_field("actual spend")
    forecast_outturn = money_field("forecast outturn for the year", null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "month"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "month"], name="actual_unique_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="actual_month_first_day"),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.scheme.code} {month_label(self.month)}"


class MonthClose(models.Model):
    """A month a finance officer has closed for an agreement: its figures are locked."""

    agreement = models.ForeignKey(Section75Agreement, on_delete=models.CASCADE,
                                  related_name="month_closes")
    month = models.DateField()
    is_closed = models.BooleanField(default=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    reopened_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "month"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "month"], name="month_close_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="month_close_first_day"),
        ]

    def __str__(self) -> str:
        return f"{month_label(self.month)} {'closed' if self.is_closed else 'open'}"


class ImportStatus(models.TextChoices):
    INVALID = "invalid", "Has errors"
    READY = "ready", "Ready to confirm"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"


class FinanceImport(models.Model):
    """An uploaded finance system export, kept between preview and confirmation."""

    agreement = models.ForeignKey(Section75Agreement, on_delete=models.CASCADE,
                                  related_name="finance_imports")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=ImportStatus.choices)
    rows = models.JSONField(default=list, blank=True,
                            help_text="Parsed rows (amounts as strings)")
    errors = models.JSONField(default=list, blank=True,
                              help_text="Row, column and message for each error")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["rows"])

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


# --- Risk share ------------------------------------------------------------------------------

class RiskShareOutcome(models.Model):
    """A partner's share of the year-end variance, recorded by ``year_end_close``."""

    agreement = models.ForeignKey(Section75Agreement, on_delete=models.CASCADE,
                                  related_name="risk_share_outcomes")
    year = models.PositiveSmallIntegerField("financial year")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    budget = money_field()
    outturn = money_field()
    variance = money_field("agreement variance")
    share_amount = money_field("partner's share")
    rule = models.CharField(max_length=20, choices=RiskShareRule.choices)
    underspend_rule = models.CharField(max_length=30, choices=UnderspendRule.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "year", "partner__name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "year", "partner"],
                                    name="risk_share_outcome_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {year_label(self.year)}: £{self.share_amount:,}"


ZERO = Decimal("0.00")
