"""Keep the performance overview's stored RAG counts honest: any change to a return, its
values, or a contract's KPIs or targets empties the counts of the returns it can affect, and
the overview works them out again the next time it needs them."""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from monitoring.models import KPI, KPITarget, PerformanceReturn, ReturnValue

RAG_FIELDS = ("rag_red", "rag_amber", "rag_green", "rag_kpis")


def forget_rag_counts(**filters) -> None:
    """Empty the stored counts. The epoch goes up even when they are already empty, so a
    count worked out from data read before this change is never stored after it."""
    PerformanceReturn.objects.filter(**filters).update(
        **dict.fromkeys(RAG_FIELDS), rag_epoch=F("rag_epoch") + 1)


@receiver([post_save, post_delete], sender=PerformanceReturn)
def _return_changed(sender, instance: PerformanceReturn, **kwargs) -> None:
    forget_rag_counts(pk=instance.pk)


@receiver([post_save, post_delete], sender=ReturnValue)
def _value_changed(sender, instance: ReturnValue, **kwargs) -> None:
    forget_rag_counts(pk=instance.performance_return_id)


@receiver([post_save, post_delete], sender=KPI)
def _kpi_changed(sender, instance: KPI, **kwargs) -> None:
    forget_rag_counts(contract_id=instance.contract_id)


@receiver([post_save, post_delete], sender=KPITarget)
def _target_changed(sender, instance: KPITarget, **kwargs) -> None:
    forget_rag_counts(contract__kpis=instance.kpi_id)
