"""Performance monitoring: KPI definitions and targets, reporting periods, provider returns,
their review, Procurement Act assessments and pseudonymised service-user lists."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from commissioning import access
from contracts.models import Contract, ServiceLine

VALUE = {"max_digits": 14, "decimal_places": 2}


class Quadrant(models.TextChoices):
    """Outcomes Based Accountability."""

    HOW_MUCH = "how_much", "How much did we do?"
    HOW_WELL = "how_well", "How well did we do it?"
    BETTER_OFF = "better_off", "Is anyone better off?"


class DataType(models.TextChoices):
    COUNT = "count", "Count"
    PERCENTAGE = "percentage", "Percentage (numerator and denominator)"
    DAYS = "days", "Number of days"
    MONEY = "money", "Money (£)"
    YES_NO = "yes_no", "Yes or no"
    TEXT = "text", "Text"


NUMERIC_TYPES = frozenset({DataType.COUNT, DataType.PERCENTAGE, DataType.DAYS, DataType.MONEY})


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"
    RANGE = "range", "Within a range"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual (reported with the Q4 return)"


class KPIFields(models.Model):
    """What a KPI template and a contract's KPI share."""

    code = models.CharField(max_length=20)
    name = models.CharField(max_length=250)
    definition = models.TextField(blank=True, help_text="How the measure is counted")
    quadrant = models.CharField("OBA quadrant", max_length=20, choices=Quadrant.choices)
    data_type = models.CharField(max_length=20, choices=DataType.choices)
    unit = models.CharField(max_length=40, blank=True, help_text='e.g. "referrals", "%"')
    direction = models.CharField(max_length=10, choices=Direction.choices,
                                 default=Direction.HIGHER)
    baseline = models.DecimalField(null=True, blank=True, **VALUE)
    frequency = models.CharField(max_length=10, choices=Frequency.choices,
                                 default=Frequency.QUARTERLY)
    evidence_required = models.BooleanField(default=False)
    is_s52 = models.BooleanField(
        "Procurement Act s.52 KPI", default=False,
        help_text="One of the key performance indicators published under section 52",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_numeric(self) -> bool:
        return self.data_type in NUMERIC_TYPES

    @property
    def is_percentage(self) -> bool:
        return self.data_type == DataType.PERCENTAGE


class KPITemplateSet(models.Model):
    """A library entry: a named set of KPIs a commissioner can copy onto a contract."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI template set"

    def __str__(self) -> str:
        return self.name


class KPITemplate(KPIFields):
    template_set = models.ForeignKey(KPITemplateSet, on_delete=models.CASCADE,
                                     related_name="templates")
    default_target = models.DecimalField(null=True, blank=True, **VALUE)
    default_upper = models.DecimalField(null=True, blank=True, **VALUE)
    default_tolerance = models.DecimalField(default=Decimal("0"), **VALUE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["template_set", "order", "code"]
        verbose_name = "KPI template"
        constraints = [
            models.UniqueConstraint(fields=["template_set", "code"],
                                    name="kpi_template_unique_code"),
        ]


class KPIQuerySet(models.QuerySet):
    def for_user(self, user) -> KPIQuerySet:
        return self.filter(access.visible_contracts_q(user, "contract__"))


class KPI(KPIFields):
    """A contract's KPI. Targets live in ``KPITarget`` rows so past periods keep theirs."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="kpis")
    service_line = models.ForeignKey(ServiceLine, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="kpis",
                                     help_text="Leave blank for a KPI of the whole contract")
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = KPIQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "order", "code"]
        verbose_name = "KPI"
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="kpi_unique_code"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("monitoring:contract_performance", args=[self.contract_id]) + \
            f"#kpi-{self.pk}"

    def applies_to(self, period: ReportingPeriod) -> bool:
        """Whether this KPI is reported in a return for ``period``."""
        if period.kind == PeriodKind.MONTH:
            return self.frequency == Frequency.MONTHLY
        if self.frequency == Frequency.QUARTERLY:
            return True
        return self.frequency == Frequency.ANNUAL and period.quarter == 4


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", "Quarter"
    MONTH = "month", "Month"


class ReportingPeriod(models.Model):
    """A financial-year quarter or month. Created on demand by ``services.period_get``."""

    kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    code = models.SlugField(max_length=20, unique=True, help_text='e.g. "2025-26-q3"')
    label = models.CharField(max_length=40, help_text='e.g. "2025/26 Q3"')
    financial_year = models.CharField(max_length=7)
    quarter = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True,
                                             help_text="Month of the financial year, 1 = April")
    start_date = models.DateField()
    end_date = models.DateField()
    due_date = models.DateField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["start_date", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "start_date"], name="period_unique_start"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")),
                                   name="period_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.label


class KPITarget(models.Model):
    """A target in force from a period onwards, until a later target replaces it."""

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="targets")
    valid_from = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="valid from period")
    target_value = models.DecimalField(
        null=True, blank=True, help_text="Blank until a baseline exists", **VALUE
    )
    upper_value = models.DecimalField(null=True, blank=True,
                                      help_text="Top of the range (within a range only)",
                                      **VALUE)
    amber_tolerance = models.DecimalField(default=Decimal("0"), **VALUE)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kpi", "valid_from__start_date"]
        verbose_name = "KPI target"
        constraints = [
            models.UniqueConstraint(fields=["kpi", "valid_from"], name="kpi_target_unique_period"),
            models.CheckConstraint(condition=Q(amber_tolerance__gte=0),
                                   name="kpi_target_tolerance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.code} target {self.target_value} from {self.valid_from}"


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    QUERIED = "queried", "Queried"
    ACCEPTED = "accepted", "Accepted"


EDITABLE_STATUSES = frozenset({ReturnStatus.DRAFT, ReturnStatus.QUERIED})


class ReturnQuerySet(models.QuerySet):
    def for_user(self, user) -> ReturnQuerySet:
        """Returns of the contracts the user may see (providers: their own contracts only)."""
        return self.filter(access.visible_contracts_q(user, "contract__"))


class PerformanceReturn(models.Model):
    """One provider return per contract and period, serving every joint commissioner."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="returns")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=10, choices=ReturnStatus.choices,
                              default=ReturnStatus.DRAFT)
    version = models.PositiveIntegerField(default=1, editable=False,
                                          help_text="Optimistic lock: bumped on every change")
    overall_commentary = models.TextField(blank=True)
    query_comment = models.TextField(blank=True, help_text="The commissioner's overall query")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The return's RAG counts over the contract's active KPIs, kept for the performance
    # overview (monitoring.overview.performance_overview). Worked out again, in the same
    # transaction, by each service that changes the return, its values, or the contract's
    # KPIs or targets (monitoring.overview.rag_counts_refresh); empty until then (the
    # overview works empty ones out as it reads, without keeping them).
    rag_red = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rag_amber = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rag_green = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rag_kpis = models.PositiveIntegerField(null=True, blank=True, editable=False)
    rag_epoch = models.PositiveIntegerField(default=0, editable=False,
                                            help_text="Bumped each time the counts are emptied")

    objects = ReturnQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["rag_red", "rag_amber", "rag_green",
                                                 "rag_kpis", "rag_epoch"])

    class Meta:
        ordering = ["-period__start_date", "contract__reference"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "period"],
                                    name="return_unique_contract_period"),
        ]
        indexes = [models.Index(fields=["status", "period"])]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.period.label}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:return_review", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class ReturnValue(models.Model):
    """One KPI's figure in a return. Percentages are computed from numerator and denominator."""

    performance_return = models.ForeignKey(PerformanceReturn, on_delete=models.CASCADE,
                                           related_name="values")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="values")
    value = models.DecimalField(null=True, blank=True, max_digits=14, decimal_places=2)
    numerator = models.DecimalField(null=True, blank=True, **VALUE)
    denominator = models.DecimalField(null=True, blank=True, **VALUE)
    yes_no = models.BooleanField(null=True, blank=True)
    text = models.TextField(blank=True)
    commentary = models.TextField(blank=True)
    query_comment = models.TextField(blank=True, help_text="The commissioner's query")

    history = HistoricalRecords()

    class Meta:
        ordering = ["performance_return", "kpi__order", "kpi__code"]
        constraints = [
            models.UniqueConstraint(fields=["performance_return", "kpi"],
                                    name="return_value_unique_kpi"),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True) | Q(denominator__isnull=True)
                | Q(numerator__lte=F("denominator")),
                name="return_value_numerator_not_above_denominator",
            ),
            models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0),
                                   name="return_value_not_negative"),
            models.CheckConstraint(condition=Q(numerator__isnull=True) | Q(numerator__gte=0),
                                   name="return_value_numerator_not_negative"),
            models.CheckConstraint(condition=Q(denominator__isnull=True) | Q(denominator__gte=0),
                                   name="return_value_denominator_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.code}: {self.display}"

    @property
    def display(self) -> str:
        return display_value(self.kpi, self.value, self.yes_no, self.text)


def display_value(kpi: KPI, value: Decimal | None, yes_no: bool | None, text: str) -> str:
    if kpi.data_type == DataType.YES_NO:
        return "" if yes_no is None else ("Yes" if yes_no else "No")
    if kpi.data_type == DataType.TEXT:
        return text
    if value is None:
        return ""
    if kpi.data_type == DataType.PERCENTAGE:
        return f"{value.normalize():f}%"
    if kpi.data_type == DataType.MONEY:
        return f"£{value:,.2f}"
    text_value = f"{value.normalize():f}"
    return f"{text_value} {kpi.unit}".strip()


class ReturnVersion(models.Model):
    """A snapshot of each submitted version of a return. Never changed after it is written."""

    performance_return = models.ForeignKey(PerformanceReturn, on_delete=models.CASCADE,
                                           related_name="versions")
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+")
    overall_commentary = models.TextField(blank=True)
    values = models.JSONField(help_text="KPI code → value, numerator, denominator, commentary")

    history = HistoricalRecords()

    class Meta:
        ordering = ["performance_return", "number"]
        constraints = [
            models.UniqueConstraint(fields=["performance_return", "number"],
                                    name="return_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of {self.performance_return_id}"


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    QUERIED = "queried", "Queried"


class ReturnReview(models.Model):
    """Each commissioner decision on a submitted version (the query trail)."""

    performance_return = models.ForeignKey(PerformanceReturn, on_delete=models.CASCADE,
                                           related_name="reviews")
    version_number = models.PositiveIntegerField()
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    kpi_comments = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    reviewed_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["performance_return", "reviewed_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} version {self.version_number}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Random stored name: the provider's file name never reaches the file system.
    return f"return-evidence/{uuid.uuid4().hex}"


class Evidence(models.Model):
    performance_return = models.ForeignKey(PerformanceReturn, on_delete=models.CASCADE,
                                           related_name="evidence")
    kpi = models.ForeignKey(KPI, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    file = models.FileField(upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["performance_return", "uploaded_at"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("monitoring:evidence_download", args=[self.pk])


class ReminderKind(models.TextChoices):
    BEFORE_DUE = "before_due", "5 working days before the due date"
    AFTER_DUE = "after_due", "1 day after the due date"


class ReminderSent(models.Model):
    """One reminder e-mail per contract, period and kind: the daily task may run twice."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "period", "kind"],
                                    name="reminder_sent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.contract_id} {self.period}"


class Rating(models.TextChoices):
    """Procurement Act 2023 contract performance notice ratings."""

    GOOD = "good", "Good"
    APPROACHING = "approaching", "Approaching target"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    INADEQUATE = "inadequate", "Inadequate"
    OTHER = "other", "Other"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Final"


class AssessmentQuerySet(models.QuerySet):
    def for_user(self, user) -> AssessmentQuerySet:
        """Assessments of the contracts the user is a commissioning party to."""
        return self.filter(access.party_contracts_q(user, "contract__"))


class PerformanceAssessment(models.Model):
    """The annual Procurement Act 2023 assessment of a contract's KPIs."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT,
                                 related_name="performance_assessments")
    financial_year = models.CharField(max_length=7)
    status = models.CharField(max_length=10, choices=AssessmentStatus.choices,
                              default=AssessmentStatus.DRAFT)
    summary = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    finalised_at = models.DateTimeField(null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-financial_year"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "financial_year"],
                                    name="assessment_unique_year"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} assessment {self.financial_year}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:assessment", args=[self.pk])


class AssessmentRating(models.Model):
    assessment = models.ForeignKey(PerformanceAssessment, on_delete=models.CASCADE,
                                   related_name="ratings")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(max_length=25, choices=Rating.choices)
    suggested_rating = models.CharField(max_length=25, choices=Rating.choices)
    explanation = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "kpi__order", "kpi__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "kpi"], name="rating_unique_kpi"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.code}: {self.get_rating_display()}"


class ServiceUserList(models.Model):
    """A provider's list of people supported in a period: only keyed hashes are kept."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="service_user_lists")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)
    count = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period__start_date"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "period"],
                                    name="service_user_list_unique_period"),
        ]

    def __str__(self) -> str:
        return f"Service users {self.contract_id} {self.period}"


class PseudonymisedServiceUser(models.Model):
    service_user_list = models.ForeignKey(ServiceUserList, on_delete=models.CASCADE,
                                          related_name="entries")
    nhs_number_hash = models.CharField(max_length=64, db_index=True)

    history = HistoricalRecords(excluded_fields=["nhs_number_hash"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service_user_list", "nhs_number_hash"],
                                    name="service_user_unique_hash"),
        ]

    def __str__(self) -> str:
        return "Pseudonymised service user"

