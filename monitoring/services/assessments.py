"""Procurement Act 2023 s.52 performance assessments: drafted from the returns, rated and
finalised by the commissioner."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User
from commissioning.periods import FinancialYear
from contracts.models import Contract
from monitoring.models import (
    AssessmentRating,
    AssessmentStatus,
    PerformanceAssessment,
    Rating,
)
from monitoring.rag import suggested_rating
from monitoring.selectors import kpi_year_rags


@transaction.atomic
def assessment_draft(*, contract: Contract, financial_year: str,
                     drafted_by: User) -> PerformanceAssessment:
    """Draft (or redraft) the year's assessment, rating each KPI from its returns."""

    FinancialYear.parse(financial_year)  # raises ValueError for a bad label
    assessment, _ = PerformanceAssessment.objects.get_or_create(
        contract=contract, financial_year=financial_year, defaults={"created_by": drafted_by},
    )
    if assessment.status == AssessmentStatus.FINAL:
        raise ValidationError({"__all__": f"The {financial_year} assessment is final"})
    existing = {r.kpi_id: r for r in assessment.ratings.all()}
    for kpi, rags in kpi_year_rags(contract=contract, financial_year=financial_year):
        suggestion = suggested_rating(rags)
        row = existing.get(kpi.pk)
        if row is None:
            AssessmentRating.objects.create(assessment=assessment, kpi=kpi, rating=suggestion,
                                            suggested_rating=suggestion)
        elif row.suggested_rating != suggestion:
            row.suggested_rating = suggestion
            row.save(update_fields=["suggested_rating"])
    return assessment


@transaction.atomic
def assessment_update(*, assessment: PerformanceAssessment, ratings: dict[int, tuple[str, str]],
                      summary: str, updated_by: User, finalise: bool = False
                      ) -> PerformanceAssessment:
    """Record the commissioner's ratings (kpi id -> (rating, explanation)); optionally
    finalise, after which the assessment cannot change."""
    locked = PerformanceAssessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status == AssessmentStatus.FINAL:
        raise ValidationError({"__all__": "This assessment is final and cannot be changed"})
    errors = {}
    for row in locked.ratings.select_related("kpi"):
        rating, explanation = ratings.get(row.kpi_id, (row.rating, row.explanation))
        if rating not in Rating.values:
            errors[f"rating-{row.kpi_id}"] = f"Select a rating for {row.kpi.name}"
            continue
        if rating != row.suggested_rating and not explanation.strip():
            errors[f"explanation-{row.kpi_id}"] = (
                f"Explain why {row.kpi.name} is rated differently from the returns"
            )
            continue
        row.rating, row.explanation = rating, explanation.strip()
        row._history_user = updated_by
        row.save(update_fields=["rating", "explanation"])
    if errors:
        raise ValidationError(errors)
    locked.summary = summary.strip()
    if finalise:
        locked.status = AssessmentStatus.FINAL
        locked.finalised_by, locked.finalised_at = updated_by, timezone.now()
    locked._history_user = updated_by
    locked.save()
    return locked
