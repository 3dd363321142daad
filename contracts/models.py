"""The contract register: contracts, their lines, shares, options, decisions and changes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Round
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from simple_history.models import HistoricalRecords

from commissioning import access
from commissioning.models import Organisation, Partnership
from commissioning.periods import add_months, months_between
from contracts import cpv

PENNY = Decimal("0.01")


class ServiceArea(models.TextChoices):
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    CHILDRENS_SERVICES = "childrens_services", "Children's services"
    PUBLIC_HEALTH = "public_health", "Public health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    CARERS = "carers", "Carers"
    COMMUNITY_HEALTH = "community_health", "Community health"
    OTHER = "other", "Other"


class ProcurementRegime(models.TextChoices):
    PCR_2015 = "pcr_2015", "Public Contracts Regulations 2015"
    PA_2023 = "pa_2023", "Procurement Act 2023"
    PSR = "psr", "Provider Selection Regime"
    GRANT = "grant", "Grant"
    SPOT_PURCHASE = "spot_purchase", "Spot purchase"


class ProcurementRoute(models.TextChoices):
    PCR_OPEN = "pcr_open", "Open procedure"
    PCR_RESTRICTED = "pcr_restricted", "Restricted procedure"
    PCR_COMPETITIVE_DIALOGUE = "pcr_competitive_dialogue", "Competitive dialogue"
    PCR_LIGHT_TOUCH = "pcr_light_touch", "Light touch regime"
    PCR_NEGOTIATED_WITHOUT_NOTICE = (
        "pcr_negotiated_without_notice", "Negotiated procedure without prior publication"
    )
    PA_OPEN = "pa_open", "Open procedure"
    PA_COMPETITIVE_FLEXIBLE = "pa_competitive_flexible", "Competitive flexible procedure"
    PA_DIRECT_AWARD = "pa_direct_award", "Direct award"
    PA_FRAMEWORK_CALL_OFF = "pa_framework_call_off", "Framework call-off"
    PSR_DIRECT_AWARD_A = "psr_direct_award_a", "Direct Award A"
    PSR_DIRECT_AWARD_B = "psr_direct_award_b", "Direct Award B"
    PSR_DIRECT_AWARD_C = "psr_direct_award_c", "Direct Award C"
    PSR_MOST_SUITABLE_PROVIDER = "psr_most_suitable_provider", "Most Suitable Provider"
    PSR_COMPETITIVE_PROCESS = "psr_competitive_process", "Competitive Process"
    GRANT = "grant", "Grant agreement"
    SPOT_PURCHASE = "spot_purchase", "Spot purchase"


R = ProcurementRoute
ROUTES_BY_REGIME: dict[str, tuple[str, ...]] = {
    ProcurementRegime.PCR_2015: (R.PCR_OPEN, R.PCR_RESTRICTED, R.PCR_COMPETITIVE_DIALOGUE,
                                 R.PCR_LIGHT_TOUCH, R.PCR_NEGOTIATED_WITHOUT_NOTICE),
    ProcurementRegime.PA_2023: (R.PA_OPEN, R.PA_COMPETITIVE_FLEXIBLE, R.PA_DIRECT_AWARD,
                                R.PA_FRAMEWORK_CALL_OFF),
    ProcurementRegime.PSR: (R.PSR_DIRECT_AWARD_A, R.PSR_DIRECT_AWARD_B, R.PSR_DIRECT_AWARD_C,
                            R.PSR_MOST_SUITABLE_PROVIDER, R.PSR_COMPETITIVE_PROCESS),
    ProcurementRegime.GRANT: (R.GRANT,),
    ProcurementRegime.SPOT_PURCHASE: (R.SPOT_PURCHASE,),
}


def route_belongs_to_regime(regime: str, route: str) -> bool:
    return route in ROUTES_BY_REGIME.get(regime, ())


class ContractStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROCUREMENT = "in_procurement", "In procurement"
    AWARDED = "awarded", "Awarded (standstill)"
    LIVE = "live", "Live"
    EXTENDED = "extended", "Extended"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


ACTIVE_STATUSES = (ContractStatus.AWARDED, ContractStatus.LIVE, ContractStatus.EXTENDED)


class OngoingCosts(models.TextChoices):
    """How a committee paper's financial block describes the cost (seed 000: "Recurring Cost")."""

    RECURRING = "recurring", "Recurring cost"
    NON_RECURRING = "non_recurring", "Non-recurring (one-off) cost"


def status_on(status: str, current_end: date, today: date) -> str:
    """The status a contract shows on ``today``: the one rule. A contract recorded as
    awarded, live or extended whose current end date has passed has expired, whatever was
    last recorded. (``ContractQuerySet.with_term`` writes the same rule in SQL as
    ``status_now`` for the register's filter and sort.)"""
    if status in ACTIVE_STATUSES and current_end < today:
        return ContractStatus.EXPIRED
    return status


class TermEnd(models.Func):
    """SQL for a contract's current end date: the day before (initial end + 1 day + N months).

    Month arithmetic clamps to the month's last day on both databases, exactly like
    ``commissioning.periods.add_months``, so filtering and sorting in SQL agree with Python.
    """

    output_field = models.DateField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor
        raise NotImplementedError(f"TermEnd is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        months_sql, months_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"((({day_sql}) + 1) + make_interval(months => ({months_sql})::integer)"
            " - interval '1 day')::date"
        )
        return sql, (*day_params, *months_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        months_sql, months_params = compiler.compile(self.source_expressions[1])
        start = f"date({day_sql}, '+1 day')"
        start_params = list(day_params)
        # date(start of month + N months + (day - 1) days), clamped to that month's last day.
        shifted = (
            f"date({start}, 'start of month', '+' || ({months_sql}) || ' months', "
            f"'+' || (CAST(strftime('%%d', {start}) AS INTEGER) - 1) || ' days')"
        )
        shifted_params = [*start_params, *months_params, *start_params]
        month_end = (
            f"date({start}, 'start of month', '+' || (({months_sql}) + 1) || ' months', "
            "'-1 day')"
        )
        month_end_params = [*start_params, *months_params]
        sql = f"date(MIN({shifted}, {month_end}), '-1 day')"
        return sql, (*shifted_params, *month_end_params)


class AddDays(models.Func):
    """SQL for ``day + timedelta(days=N)`` (N an integer), a date on both databases."""

    output_field = models.DateField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor
        raise NotImplementedError(f"AddDays is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"(({day_sql}) + ({days_sql})::integer)", (*day_params, *days_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return (f"date({day_sql}, (CASE WHEN ({days_sql}) < 0 THEN '' ELSE '+' END) || "
                f"({days_sql}) || ' days')", (*day_params, *days_params, *days_params))


class DaysBetween(models.Func):
    """SQL for ``(later - earlier).days`` of two dates."""

    output_field = models.IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor
        raise NotImplementedError(f"DaysBetween is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        later_sql, later_params = compiler.compile(self.source_expressions[0])
        earlier_sql, earlier_params = compiler.compile(self.source_expressions[1])
        return f"(({later_sql}) - ({earlier_sql}))", (*later_params, *earlier_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        later_sql, later_params = compiler.compile(self.source_expressions[0])
        earlier_sql, earlier_params = compiler.compile(self.source_expressions[1])
        return (f"CAST(ROUND(julianday({later_sql}) - julianday({earlier_sql})) AS INTEGER)",
                (*later_params, *earlier_params))


def whole_life_value(
    *, start: date, initial_end: date, annual_value: Decimal, option_months: list[int]
) -> Decimal:
    """Annual value × (initial term + every option), to the penny.

    Whole months count as twelfths of a year; any days left over count pro rata over 365.
    """
    end = initial_end + timedelta(days=1)
    months = months_between(start, end)
    leftover_days = (end - add_months(start, months)).days
    months += sum(option_months)
    years = Decimal(months) / Decimal(12) + Decimal(leftover_days) / Decimal(365)
    return (annual_value * years).quantize(PENNY, rounding=ROUND_HALF_UP)


def whole_life_value_sql(prefix: str = "") -> models.Expression:
    """``whole_life_value`` of a contract in SQL, for filtering on it (the s.52 threshold,
    change notices); ``prefix`` reaches the contract from another model ("contract__").
    The same months and leftover days, exact over one division (Python's sum of twelfths
    and 365ths can differ only on an exact half penny). Tested against the Python rule in
    ``contracts/tests/test_notices_sql.py``."""
    start = F(f"{prefix}start_date")
    end = AddDays(F(f"{prefix}initial_end_date"), Value(1))  # end exclusive

    def plus_months(months: models.Expression) -> models.Expression:
        # add_months(start, m) is TermEnd(start - 1 day, m) + 1 day (both clamp the same way).
        return AddDays(TermEnd(AddDays(start, Value(-1)), months), Value(1))

    integer = models.IntegerField()
    rough = models.ExpressionWrapper(
        (ExtractYear(end) - ExtractYear(start)) * 12 + ExtractMonth(end) - ExtractMonth(start),
        output_field=integer)
    months = models.ExpressionWrapper(
        rough - Case(When(GreaterThan(plus_months(rough), end), then=Value(1)), default=Value(0)),
        output_field=integer)
    leftover_days = DaysBetween(end, plus_months(months))
    options = Coalesce(Subquery(
        ExtensionOption.objects.filter(contract=OuterRef(f"{prefix}pk")).order_by()
        .values("contract").annotate(total=Sum("length_months")).values("total")), 0)
    twelfths_of_365 = models.ExpressionWrapper(
        (months + options) * 365 + leftover_days * 12, output_field=integer)
    decimal = models.DecimalField(max_digits=20, decimal_places=2)
    return Round(models.ExpressionWrapper(
        F(f"{prefix}annual_value") * twelfths_of_365 / Value(Decimal(12 * 365)),
        output_field=decimal), 2, output_field=decimal)


def term_description(*, start: date, initial_end: date, option_months: list[int]) -> str:
    """"3 years + up to 2 years"."""
    def years(months: int) -> str:
        if months and months % 12 == 0:
            count = months // 12
            return f"{count} year{'s' if count != 1 else ''}"
        return f"{months} month{'s' if months != 1 else ''}"

    text = years(months_between(start, initial_end + timedelta(days=1)))
    if option_months:
        text += f" + up to {years(sum(option_months))}"
    return text


class ContractQuerySet(models.QuerySet):
    def for_user(self, user) -> ContractQuerySet:
        """Contracts the user may see (the one visibility rule, ``access.visible_contracts_q``):
        a commissioner-side user those their organisation holds, leads or has a share of;
        a provider user those their organisation delivers; platform administrators all."""
        return self.filter(access.visible_contracts_q(user))

    def with_term(self) -> ContractQuerySet:
        """Annotate ``extra_months`` (exercised options + term variations) and ``current_end``
        so lists can filter and sort on the derived end date without loading related rows."""
        exercised = (
            ExtensionOption.objects.filter(contract=OuterRef("pk"), exercised=True)
            .order_by()
            .values("contract")
            .annotate(total=Sum("length_months"))
            .values("total")
        )
        varied = (
            Variation.objects.filter(contract=OuterRef("pk"))
            .order_by()
            .values("contract")
            .annotate(total=Sum("term_change_months"))
            .values("total")
        )
        return self.annotate(
            extra_months=Coalesce(Subquery(exercised), 0) + Coalesce(Subquery(varied), 0)
        ).annotate(current_end=TermEnd(F("initial_end_date"), F("extra_months"))).annotate(
            status_now=Case(  # contracts.models.status_on, in SQL
                When(status__in=ACTIVE_STATUSES, current_end__lt=timezone.localdate(),
                     then=Value(ContractStatus.EXPIRED.value)),
                default=F("status"), output_field=models.CharField()))


class Contract(models.Model):
    reference = models.CharField(max_length=50)
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    service_area = models.CharField(max_length=30, choices=ServiceArea.choices)
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_provided"
    )
    holder = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_held",
        verbose_name="contract holder", help_text="The partner that signs the contract",
    )
    lead_commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_led"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="contracts"
    )
    contract_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="contracts_managed",
    )
    procurement_regime = models.CharField(max_length=20, choices=ProcurementRegime.choices)
    procurement_route = models.CharField(max_length=40, choices=ProcurementRoute.choices)
    tendered = models.BooleanField(default=False)
    works = models.BooleanField(
        "works contract", default=False,
        help_text="Works contracts have a 15% modification threshold instead of 10%",
    )
    start_date = models.DateField()
    initial_end_date = models.DateField()
    notice_period_months = models.PositiveSmallIntegerField(default=0)
    annual_value = models.DecimalField(max_digits=14, decimal_places=2)
    vat_not_recoverable = models.DecimalField(
        "VAT not recoverable", max_digits=14, decimal_places=2, default=Decimal("0")
    )
    status = models.CharField(
        max_length=20, choices=ContractStatus.choices, default=ContractStatus.PLANNED
    )
    # What a committee paper's financial and customer-impact blocks need (seeds 000-003).
    # Sources of funding come from the contract's scheme links (funding.ContractFunding);
    # funding_sources_text states them where there are no links or a paper words them its way.
    funding_sources_text = models.CharField(
        "sources of funding", max_length=250, blank=True,
        help_text="As a committee paper states them, for example 'Core LBB/CCG/BCF'",
    )
    ongoing_costs = models.CharField(max_length=20, choices=OngoingCosts.choices, blank=True)
    ongoing_annual_cost = models.DecimalField(
        "ongoing annual cost", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="Blank when it is the annual value",
    )
    budget_head = models.CharField("budget head or performance centre", max_length=120,
                                   blank=True)
    total_current_budget = models.DecimalField(
        "total current budget for this head", max_digits=14, decimal_places=2, null=True,
        blank=True,
    )
    estimated_users = models.PositiveIntegerField(
        "estimated number of users or beneficiaries", null=True, blank=True,
        help_text="Current and projected",
    )
    awarded_on = models.DateField(null=True, blank=True)
    standstill_end_date = models.DateField(null=True, blank=True)
    # Classification and Find a Tender identifiers (issue 16): codes from contracts/cpv.py's
    # CPV 2008 list, identifiers checked by commissioning/identifiers.py.
    cpv_code = models.CharField("main CPV code", max_length=8, blank=True)
    additional_cpv_codes = models.JSONField("additional CPV codes", default=list, blank=True)
    find_a_tender_notice_id = models.CharField(
        "Find a Tender notice identifier", max_length=11, blank=True)
    find_a_tender_procedure_id = models.CharField(
        "Find a Tender procedure identifier", max_length=18, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "reference"], name="contract_unique_reference_per_holder"
            ),
            models.CheckConstraint(
                condition=Q(annual_value__gte=0), name="contract_annual_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(vat_not_recoverable__gte=0), name="contract_vat_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(ongoing_annual_cost__isnull=True) | Q(ongoing_annual_cost__gte=0),
                name="contract_ongoing_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_current_budget__isnull=True)
                | Q(total_current_budget__gte=0),
                name="contract_total_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(initial_end_date__gte=F("start_date")),
                name="contract_end_not_before_start",
            ),
        ]
        indexes = [
            models.Index(fields=["partnership", "status"]),
            models.Index(fields=["provider"]),
            models.Index(fields=["initial_end_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    @property
    def cpv_classifications(self) -> list[tuple[str, str]]:
        """(code, English label) for the main CPV code then the additional ones."""
        codes = [self.cpv_code] if self.cpv_code else []
        codes += [c for c in self.additional_cpv_codes or [] if c != self.cpv_code]
        return [(code, cpv.label(code)) for code in codes]

    # --- Derived values (never stored) ---------------------------------------------------

    @property
    def extra_term_months(self) -> int:
        """Months added to the initial term by exercised options and term variations."""
        annotated = getattr(self, "extra_months", None)
        if annotated is not None:
            return int(annotated)
        options = sum(o.length_months for o in self.extension_options.all() if o.exercised)
        return options + sum(v.term_change_months for v in self.variations.all())

    @property
    def current_end_date(self) -> date:
        """Initial end date moved on by the exercised options (and term variations)."""
        return add_months(self.initial_end_date + timedelta(days=1),
                          self.extra_term_months) - timedelta(days=1)

    @property
    def shown_status(self) -> str:
        """The status to show today (``status_on``): expired once the current end date has
        passed, even if it was last recorded as live or extended."""
        annotated = self.__dict__.get("status_now")
        if annotated is not None:
            return annotated
        end = self.__dict__.get("current_end") or self.current_end_date
        return status_on(self.status, end, timezone.localdate())

    def get_shown_status_display(self) -> str:
        return ContractStatus(self.shown_status).label

    @property
    def maximum_end_date(self) -> date:
        """The end date if every extension option were exercised."""
        options = sum(o.length_months for o in self.extension_options.all())
        varied = sum(v.term_change_months for v in self.variations.all())
        return add_months(self.initial_end_date + timedelta(days=1), options + varied) - \
            timedelta(days=1)

    @property
    def initial_term_months(self) -> int:
        return months_between(self.start_date, self.initial_end_date + timedelta(days=1))

    @property
    def whole_life_value(self) -> Decimal:
        """Annual value × total possible term (initial term and all options), exact in Decimal."""
        return whole_life_value(
            start=self.start_date, initial_end=self.initial_end_date,
            annual_value=self.annual_value,
            option_months=[o.length_months for o in self.extension_options.all()],
        )

    @property
    def term_description(self) -> str:
        """"3 years + up to 2 years" style summary."""
        return term_description(
            start=self.start_date, initial_end=self.initial_end_date,
            option_months=[o.length_months for o in self.extension_options.all()],
        )

    @property
    def next_option(self) -> ExtensionOption | None:
        return next(
            (o for o in sorted(self.extension_options.all(), key=lambda o: o.sequence)
             if not o.exercised),
            None,
        )

    @property
    def modification_threshold_percent(self) -> Decimal:
        return Decimal("15") if self.works else Decimal("10")


class ServiceLine(models.Model):
    """A pathway or service within a contract (e.g. the 8 Bromley Well pathways)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="service_lines")
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "name"], name="service_line_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CommissioningShare(models.Model):
    """A commissioning partner's share of a contract's cost. Shares add up to 100%."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contract_shares"
    )
    share_percent = models.DecimalField("share (%)", max_digits=5, decimal_places=2)
    joint_monitoring = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-share_percent", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "organisation"], name="share_unique_organisation"
            ),
            models.CheckConstraint(
                condition=Q(share_percent__gte=0) & Q(share_percent__lte=100),
                name="share_percent_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.share_percent}%"


class DecisionMaker(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    CABINET = "cabinet", "Cabinet"
    COMMITTEE = "committee", "Committee"
    ICB_BOARD = "icb_board", "ICB Board"
    DELEGATED_OFFICER = "delegated_officer", "Delegated officer"
    HEALTH_AND_WELLBEING_BOARD = "health_and_wellbeing_board", "Health and Wellbeing Board"


class DecisionPurpose(models.TextChoices):
    AWARD = "award", "Award"
    EXTENSION = "extension", "Extension"
    VARIATION = "variation", "Variation"
    RECOMMISSIONING = "recommissioning", "Re-commissioning"
    TERMINATION = "termination", "Termination"


class Decision(models.Model):
    """A governance decision that authorised something about a contract."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="decisions")
    purpose = models.CharField(max_length=20, choices=DecisionPurpose.choices)
    decision_maker = models.CharField(max_length=30, choices=DecisionMaker.choices)
    body_name = models.CharField(
        "decision-making body", max_length=200, blank=True,
        help_text="For example, Care Services PDS Committee",
    )
    meeting_date = models.DateField("date of decision")
    report_reference = models.CharField(max_length=50, blank=True)
    is_key = models.BooleanField("key decision", default=False)
    is_urgent = models.BooleanField("urgent", default=False)
    call_in_applies = models.BooleanField("call-in applies", default=False)
    outcome = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "meeting_date", "pk"]

    def __str__(self) -> str:
        reference = f" ({self.report_reference})" if self.report_reference else ""
        return (f"{self.get_purpose_display()} decision, "
                f"{date_format(self.meeting_date)}{reference}")  # as |date shows it

    @property
    def decision_type(self) -> str:
        """"Non-Urgent Executive Key", as committee papers print it."""
        return " ".join(
            [
                "Urgent" if self.is_urgent else "Non-Urgent",
                self.get_decision_maker_display(),
                "Key" if self.is_key else "Non-Key",
            ]
        )


class ExtensionOption(models.Model):
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="extension_options"
    )
    sequence = models.PositiveSmallIntegerField()
    length_months = models.PositiveSmallIntegerField()
    exercised = models.BooleanField(default=False)
    exercised_decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sequence"], name="extension_option_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(length_months__gt=0), name="extension_option_length_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Option {self.sequence}: {self.length_months} months"


class ReviewDate(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="review_dates")
    date = models.DateField()
    description = models.CharField(max_length=200)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.description}"


class Variation(models.Model):
    """A change to a contract's value or term (the change log)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="variations")
    date = models.DateField()
    description = models.TextField()
    value_change = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"),
        help_text="Negative for a reduction",
    )
    term_change_months = models.SmallIntegerField(default=0)
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="variations"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "date", "pk"]

    def __str__(self) -> str:
        return f"Variation {self.date:%d/%m/%Y}"

    @property
    def percent_of_original_value(self) -> Decimal | None:
        """The value change as a % of the contract's whole-life value (None if that is 0)."""
        original = self.contract.whole_life_value
        if not original:
            return None
        return (abs(self.value_change) * 100 / original).quantize(PENNY)

    @property
    def change_notice_required(self) -> bool:
        """Procurement Act 2023: over 10% of value (15% works), or any change of term."""
        if self.term_change_months:
            return True
        original = self.contract.whole_life_value
        if not original:
            return bool(self.value_change)
        # Compare unrounded: 10.00001% is over a 10% threshold.
        return abs(self.value_change) * 100 > self.contract.modification_threshold_percent * \
            original


class DocumentKind(models.TextChoices):
    SIGNED_CONTRACT = "signed_contract", "Signed contract"
    SPECIFICATION = "specification", "Specification"
    COMMITTEE_REPORT = "committee_report", "Committee report"
    OTHER = "other", "Other"


def document_upload_to(instance: ContractDocument, filename: str) -> str:
    # The stored name is random: the user's file name never reaches the file system.
    return f"contract-documents/{uuid.uuid4().hex}"


class ContractDocument(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("contracts:document_download", args=[self.contract_id, self.pk])


class AlertKind(models.TextChoices):
    EXPIRY = "expiry", "Contract ending"
    STANDSTILL_END = "standstill_end", "Standstill period ends"
    REVIEW = "review", "Review date"
    EXTENSION_DECISION = "extension_decision", "Extension decision due"


class KeyDateAlert(models.Model):
    """One alert e-mail sent. The unique constraint makes the daily task safe to run twice."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    due_date = models.DateField()
    threshold = models.CharField(max_length=30, blank=True, help_text='e.g. "12 months"')
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="key_date_alerts"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "due_date", "threshold", "recipient"],
                name="key_date_alert_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_date:%d/%m/%Y} ({self.threshold})"


# --- Register import ---------------------------------------------------------------------------

class RegisterImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Columns to match"
    VALIDATION_QUEUED = "validation_queued", "Waiting to be checked"
    VALIDATING = "validating", "Being checked"
    VALIDATED = "validated", "Checked"
    IMPORT_QUEUED = "import_queued", "Waiting to be imported"
    IMPORTING = "importing", "Being imported"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


def register_import_upload_to(instance: RegisterImport, filename: str) -> str:
    # The stored name is random: the user's file name never reaches the file system.
    return f"register-imports/{uuid.uuid4().hex}"


class RegisterImportQuerySet(models.QuerySet):
    def for_user(self, user) -> RegisterImportQuerySet:
        """Imports the user may see: the ones they uploaded, while they may still import into
        the partnership (``access.partnerships_for_user``); nobody else's, administrators
        included (an import holds a whole file of someone's register)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(created_by=user,
                           partnership__in=access.partnerships_for_user(user))


class RegisterImport(models.Model):
    """An uploaded contract register on its way in: the file, the column mapping, the
    result of checking every row, and where the import has got to.

    The status moves uploaded → (validation queued →) validating → validated →
    (import queued →) importing → imported; a task claims a queued row with a conditional
    update, so running it twice does the work once.
    """

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="register_imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="register_imports"
    )
    file = models.FileField(upload_to=register_import_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    file_kind = models.CharField(max_length=4)  # "csv" or "xlsx", from the content
    status = models.CharField(
        max_length=20, choices=RegisterImportStatus.choices, default=RegisterImportStatus.UPLOADED
    )
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    new_providers = models.JSONField(default=list, blank=True)
    create_providers_as = models.CharField(max_length=30, blank=True)
    failure = models.TextField(blank=True)
    task_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegisterImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "status"])]

    def __str__(self) -> str:
        return f"Import of {self.original_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("contracts:import_detail", args=[self.pk])

    @property
    def in_progress(self) -> bool:
        return self.status in (
            RegisterImportStatus.VALIDATION_QUEUED, RegisterImportStatus.VALIDATING,
            RegisterImportStatus.IMPORT_QUEUED, RegisterImportStatus.IMPORTING,
        )


# --- Transparency notices (Procurement Act 2023, Provider Selection Regime) -----------------
#
# Which notices are due, and by when, is worked out from the register (contracts.notices);
# only what an officer records, that a notice was published, is stored.


class NoticeKind(models.TextChoices):
    UK7 = "uk7", "UK7 contract details notice"
    UK9 = "uk9", "UK9 contract performance notice"
    UK10 = "uk10", "UK10 contract change notice"
    UK11 = "uk11", "UK11 contract termination notice"
    PAYMENTS = "payments", "Payments compliance notice"
    PSR_INTENTION = "psr_intention", "PSR notice of intention to award"
    PSR_AWARD = "psr_award", "PSR confirmation of award"


class NoticePublication(models.Model):
    """An officer's record that a notice was published (on Find a Tender), with the notice's
    identifier and date. ``event`` says which event it answers ("award", "variation-12",
    "assessment-2025-26", "2026-04-01/2026-09-30" for a payments period)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="notice_publications")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="notice_publications")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    event = models.CharField(max_length=60)
    notice_identifier = models.CharField("notice identifier", max_length=60)
    published_on = models.DateField("date published")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["published_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "contract", "kind", "event"],
                                    name="notice_publication_once_per_event",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.notice_identifier}"
