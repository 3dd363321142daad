"""Frameworks, lots, provider admissions, procurement windows and call-offs.

A framework is set up by several commissioners under an Inter Authority Agreement and split
into lots. Providers apply to lots during procurement windows and are admitted after a
light-touch evaluation; commissioners then call off services from a lot, jointly or
individually. Each call-off is a contract in the register (``CallOff.contract``).

These models belong to the ``contracts`` app (same app label and tables as when they lived in
``contracts/models.py``); ``ContractsConfig.import_models`` loads this module with the app's
own models. The register's models never import this module, so frameworks depend on the
register and not the other way round.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from commissioning import access
from commissioning.models import Organisation, Partnership
from commissioning.periods import add_months
from contracts.models import Contract, term_description


class FrameworkStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    OPEN_FOR_APPLICATIONS = "open_for_applications", "Open for applications"
    LIVE = "live", "Live"
    EXPIRED = "expired", "Expired"


class CallOffRules(models.TextChoices):
    DIRECT_AWARD_ALLOWED = "direct_award_allowed", "Direct award or mini-competition"
    MINI_COMPETITION_ONLY = "mini_competition_only", "Mini-competition only"


class FrameworkQuerySet(models.QuerySet):
    def for_user(self, user) -> FrameworkQuerySet:
        """Frameworks the user may see (``access.visible_frameworks_q``): those their
        organisation is a party to; platform administrators all. Providers never see a
        framework's own page (it shows other providers); they reach frameworks only through
        ``frameworks.selectors.frameworks_for_provider``."""
        return self.filter(access.visible_frameworks_q(user))


class Framework(models.Model):
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="frameworks"
    )
    reference = models.CharField(max_length=50)
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    parties = models.ManyToManyField(
        Organisation, through="FrameworkParty", related_name="frameworks"
    )
    start_date = models.DateField()
    initial_term_months = models.PositiveSmallIntegerField("initial term (months)")
    extension_months = models.PositiveSmallIntegerField(
        "extension (months)", default=0, help_text="The longest extension the framework allows"
    )
    estimated_total_value = models.DecimalField(max_digits=14, decimal_places=2)
    open_to_new_providers = models.BooleanField(
        default=False,
        help_text="An open framework (Procurement Act 2023): new providers may join in "
                  "later procurement windows",
    )
    call_off_rules = models.CharField(
        max_length=30, choices=CallOffRules.choices, default=CallOffRules.DIRECT_AWARD_ALLOWED
    )
    status = models.CharField(
        max_length=30, choices=FrameworkStatus.choices, default=FrameworkStatus.PLANNED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FrameworkQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "reference"], name="framework_unique_reference"
            ),
            models.CheckConstraint(
                condition=Q(estimated_total_value__gte=0), name="framework_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(initial_term_months__gt=0), name="framework_term_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:framework_detail", args=[self.pk])

    @property
    def initial_end_date(self) -> date:
        return add_months(self.start_date, self.initial_term_months) - timedelta(days=1)

    @property
    def end_date(self) -> date:
        """The last day of the framework including its extension."""
        return add_months(
            self.start_date, self.initial_term_months + self.extension_months
        ) - timedelta(days=1)

    @property
    def term_description(self) -> str:
        """"5 years + up to 2 years"."""
        return term_description(
            start=self.start_date, initial_end=self.initial_end_date,
            option_months=[self.extension_months] if self.extension_months else [],
        )


class FrameworkParty(models.Model):
    """A commissioner that signed the framework's Inter Authority Agreement."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="party_rows")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="framework_parties"
    )
    is_lead = models.BooleanField("lead party", default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "-is_lead", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "organisation"], name="framework_party_unique"
            ),
            models.UniqueConstraint(
                fields=["framework"], condition=Q(is_lead=True), name="framework_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}{' (lead)' if self.is_lead else ''}"


class LotStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    UNDER_REVIEW = "under_review", "Under review"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Lot(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    provider_skills = models.TextField("required provider skills", blank=True,
                                       help_text="One skill per line")
    outcomes = models.TextField("high-level outcomes", blank=True,
                                help_text="One outcome per line")
    status = models.CharField(max_length=20, choices=LotStatus.choices, default=LotStatus.ACTIVE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "number"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="lot_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="lot_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Lot {self.number}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:lot_detail", args=[self.framework_id, self.pk])

    @property
    def skills_list(self) -> list[str]:
        return [line.strip(" •-") for line in self.provider_skills.splitlines() if line.strip()]

    @property
    def outcomes_list(self) -> list[str]:
        return [line.strip(" •-") for line in self.outcomes.splitlines() if line.strip()]


class ProcurementWindow(models.Model):
    """A period in which providers may apply to join the framework's lots."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="windows")
    opens = models.DateField()
    closes = models.DateField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gte=F("opens")),
                                   name="window_closes_not_before_opens"),
            models.UniqueConstraint(fields=["framework", "opens"], name="window_unique_opening"),
        ]

    def __str__(self) -> str:
        return f"{self.opens:%-d %B %Y} to {self.closes:%-d %B %Y}"

    def is_open_on(self, day: date) -> bool:
        return self.opens <= day <= self.closes


class EvaluationResult(models.TextChoices):
    CRITERIA_MET = "met", "Criteria met"
    CRITERIA_NOT_MET = "not_met", "Criteria not met"


class ApplicationDecision(models.TextChoices):
    PENDING = "pending", "Applied"
    ADMITTED = "admitted", "Admitted"
    REJECTED = "rejected", "Rejected"


class ProviderApplicationQuerySet(models.QuerySet):
    def for_user(self, user) -> ProviderApplicationQuerySet:
        """Applications the user may see: a provider user its own organisation's; on the
        commissioning side, those to the frameworks the user sees (``access``); else none."""
        if access.is_provider_user(user):
            return self.filter(provider_id=access.current_organisation(user).pk)
        return self.filter(access.visible_frameworks_q(user, prefix="lot__framework__"))

    def admitted(self) -> ProviderApplicationQuerySet:
        """Applications whose provider was admitted to the lot (the register asks this through
        ``lot.applications.admitted()`` without importing this module)."""
        return self.filter(decision=ApplicationDecision.ADMITTED)


class ProviderApplication(models.Model):
    """A provider's application to one lot: its light-touch evaluation and the decision."""

    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="framework_applications"
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="applications")
    window = models.ForeignKey(
        ProcurementWindow, on_delete=models.PROTECT, related_name="applications"
    )
    submitted_on = models.DateField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    evaluation = models.CharField(max_length=10, choices=EvaluationResult.choices, blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name="evaluator",
    )
    evaluated_on = models.DateField(null=True, blank=True)
    evaluation_notes = models.TextField(blank=True)
    decision = models.CharField(
        max_length=10, choices=ApplicationDecision.choices, default=ApplicationDecision.PENDING
    )
    framework_agreement_date = models.DateField(null=True, blank=True)

    objects = ProviderApplicationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["lot", "provider__name", "submitted_on"]
        constraints = [
            # One live application per provider and lot; a rejected provider may reapply.
            models.UniqueConstraint(
                fields=["provider", "lot"], condition=~Q(decision="rejected"),
                name="application_one_live_per_lot",
            ),
            models.CheckConstraint(
                condition=~Q(decision="admitted")
                | (Q(evaluation="met") & Q(framework_agreement_date__isnull=False)),
                name="application_admitted_needs_met_and_agreement",
            ),
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(evaluation=""),
                name="application_rejected_needs_evaluation",
            ),
        ]
        indexes = [models.Index(fields=["provider", "decision"])]

    def __str__(self) -> str:
        return f"{self.provider} – {self.lot}"


class AwardMethod(models.TextChoices):
    DIRECT_AWARD = "direct_award", "Direct award"
    MINI_COMPETITION = "mini_competition", "Mini-competition"


class FundingArrangement(models.TextChoices):
    SECTION_75 = "section_75", "Section 75 agreement"
    SECTION_256 = "section_256", "Section 256 agreement"
    OWN_BUDGET = "own_budget", "One partner's own budget"


class CallOffQuerySet(models.QuerySet):
    def for_user(self, user) -> CallOffQuerySet:
        """Call-offs the user may open: those whose contract their organisation is party to.
        Other parties of the framework see only a summary row (``framework_overview``)."""
        return self.filter(access.party_contracts_q(user, "contract__"))


class CallOff(models.Model):
    """A service called off from a lot by one or several of the framework's parties.

    The contract it created holds the provider, dates, value and the commissioners' shares.
    """

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="call_offs")
    contract = models.OneToOneField(Contract, on_delete=models.PROTECT, related_name="call_off")
    award_method = models.CharField(max_length=20, choices=AwardMethod.choices)
    direct_award_justification = models.TextField(blank=True)
    funding_arrangement = models.CharField(max_length=20, choices=FundingArrangement.choices)
    called_off_on = models.DateField("date of the call-off decision")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CallOffQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["lot", "called_off_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(award_method="direct_award") | ~Q(direct_award_justification=""),
                name="call_off_direct_award_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"Call-off {self.contract.reference} from {self.lot}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:call_off_detail", args=[self.pk])


class MiniCompetitionInvitation(models.Model):
    """An admitted provider invited to a mini-competition, and its bid if one came in."""

    call_off = models.ForeignKey(CallOff, on_delete=models.CASCADE, related_name="invitations")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    bid_received = models.BooleanField(default=False)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                help_text="Out of 100")

    history = HistoricalRecords()

    class Meta:
        ordering = ["call_off", "-score", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["call_off", "provider"],
                                    name="invitation_unique_provider"),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | (Q(bid_received=True) & Q(score__gte=0) & Q(score__lte=100)),
                name="invitation_score_for_bids_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} invited to {self.call_off}"
