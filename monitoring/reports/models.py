"""Generated reports: the monthly joint monitoring report and committee reports.

Every generated report is a database row with its status, so a retried task, a second beat
or a double-click never makes two of the same report (see monitoring/reports/services.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from commissioning.access import partnerships_for_user, visible_committee_reports_q
from commissioning.models import Partnership


def report_upload_to(instance, filename: str) -> str:
    # Random names: a guessed file name never reveals a report, and downloads go through a
    # permission-checked view anyway. The extension follows the format (PDF or Word).
    extension = ".docx" if filename.lower().endswith(".docx") else ".pdf"
    return f"reports/{uuid.uuid4().hex}{extension}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being produced"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class MonthlyReportQuerySet(models.QuerySet):
    def for_user(self, user) -> MonthlyReportQuerySet:
        return self.filter(partnership__in=partnerships_for_user(user))


class MonthlyReport(models.Model):
    """The monthly joint monitoring report of one partnership for one month."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE,
                                    related_name="monthly_reports")
    month = models.DateField(help_text="The first day of the month reported on")
    status = models.CharField(max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    task_id = models.CharField(max_length=64, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to=report_upload_to, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = MonthlyReportQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["task_id"])

    class Meta:
        ordering = ["-month", "partnership__name"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "month"],
                                    name="monthly_report_one_per_partnership_month"),
            models.CheckConstraint(condition=models.Q(month__day=1),
                                   name="monthly_report_month_is_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.partnership.display_name}: {self.month:%B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:report_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)


class CommitteeReportType(models.TextChoices):
    CONTRACT_AWARD = "contract_award", "Contract award"
    EXTENSION = "extension", "Contract extension"
    RECOMMISSIONING = "recommissioning", "Re-commissioning or market engagement"
    PERFORMANCE = "performance", "Performance update"
    SECTION75_REVIEW = "section75_review", "Section 75 annual review"


class DecisionMakerChoice(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    CABINET = "cabinet", "Cabinet"
    PDS_COMMITTEE = "pds", "Policy Development and Scrutiny Committee"
    CONTRACTS_SUB_COMMITTEE = "contracts_sub", "Contracts Sub-Committee"
    ICB_BOARD = "icb_board", "ICB Board"
    HWB = "hwb", "Health and Wellbeing Board"
    INTEGRATED_COMMISSIONING_BOARD = "icb_joint", "Integrated Commissioning Board"
    DELEGATED_OFFICER = "delegated", "Delegated officer"


class CommitteeReportQuerySet(models.QuerySet):
    def for_user(self, user) -> CommitteeReportQuerySet:
        """Reports about what the user is party to (``access.visible_committee_reports_q``)."""
        return self.filter(visible_committee_reports_q(user))


class CommitteeReport(models.Model):
    """A committee report drafted from the register, budgets and KPIs; officers edit the
    prose. The source is one of a contract, framework, Section 75 agreement or (none of those)
    the partnership itself."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE,
                                    related_name="committee_reports")
    report_type = models.CharField(max_length=20, choices=CommitteeReportType.choices)
    contract = models.ForeignKey("contracts.Contract", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="committee_reports")
    framework = models.ForeignKey("contracts.Framework", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="committee_reports")
    agreement = models.ForeignKey("funding.Section75Agreement", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="committee_reports")
    title = models.CharField(max_length=250)
    decision_maker = models.CharField(max_length=20, choices=DecisionMakerChoice.choices)
    meeting_name = models.CharField(max_length=200, help_text="e.g. Care Services PDS Committee")
    meeting_date = models.DateField()
    is_key_decision = models.BooleanField("key decision", default=False)
    is_urgent = models.BooleanField("urgent", default=False)
    contact_name = models.CharField("contact officer", max_length=150)
    contact_phone = models.CharField("contact telephone", max_length=40, blank=True)
    contact_email = models.EmailField("contact e-mail", blank=True)
    chief_officer = models.CharField(max_length=200)
    ward = models.CharField(max_length=100, default="Borough-wide")
    report_reference = models.CharField(max_length=30, blank=True, help_text="e.g. CS17033")
    sections = models.JSONField(default=list, help_text="[{key, title, body, exempt}]")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CommitteeReportQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-meeting_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(contract__isnull=True, framework__isnull=True)
                    | models.Q(contract__isnull=True, agreement__isnull=True)
                    | models.Q(framework__isnull=True, agreement__isnull=True)
                ),
                name="committee_report_one_source",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("monitoring:committee_report_detail", args=[self.pk])

    @property
    def decision_type(self) -> str:
        """As the councils write it: "Non-Urgent Executive Key"."""
        urgency = "Urgent" if self.is_urgent else "Non-Urgent"
        key = "Key" if self.is_key_decision else "Non-Key"
        return f"{urgency} {self.get_decision_maker_display()} {key}"

    @property
    def has_exempt_sections(self) -> bool:
        return any(section.get("exempt") for section in self.sections)


class ReportPart(models.TextChoices):
    PART_1 = "part1", "Part 1 (public)"
    PART_2 = "part2", "Part 2 (exempt)"


class ExportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document"


EXPORT_CONTENT_TYPES = {
    ExportFormat.PDF: "application/pdf",
    ExportFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class CommitteeReportExport(models.Model):
    """Every export is kept, with the version exported, its format and who exported it."""

    report = models.ForeignKey(CommitteeReport, on_delete=models.CASCADE,
                               related_name="exports")
    version = models.PositiveIntegerField()
    part = models.CharField(max_length=5, choices=ReportPart.choices)
    file_format = models.CharField("format", max_length=4, choices=ExportFormat.choices,
                                   default=ExportFormat.PDF)
    file = models.FileField(upload_to=report_upload_to)
    page_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="PDFs only: Word lays out its own pages")
    size_bytes = models.PositiveIntegerField()
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    exported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-exported_at"]

    def __str__(self) -> str:
        return (f"{self.report} v{self.version} {self.get_part_display()} "
                f"({self.get_file_format_display()})")

    @property
    def content_type(self) -> str:
        return EXPORT_CONTENT_TYPES[self.file_format]

    @property
    def download_name(self) -> str:
        return (f"{self.report.title[:80]} v{self.version} {self.get_part_display()}."
                f"{self.file_format}")
