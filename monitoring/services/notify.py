"""Who hears about a return, and the one way monitoring's e-mails are queued (the outbox)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from commissioning.email import email_queue, render_plain_text
from commissioning.models import PROVIDER_ROLES, Membership, Role
from contracts.models import Contract
from monitoring.models import PerformanceReturn


def notify_commissioners(performance_return: PerformanceReturn, subject: str,
                         body_template: str, extra: dict | None = None) -> None:
    contract = performance_return.contract
    recipients = set()
    if contract.contract_manager_id and contract.contract_manager.email:
        recipients.add(contract.contract_manager.email)
    recipients.update(
        Membership.objects.filter(
            organisation_id=contract.lead_commissioner_id, is_active=True,
            role__in=[Role.COMMISSIONER, Role.CONTRACT_MANAGER], user__is_active=True,
        ).values_list("user__email", flat=True)
    )
    queue_mail(recipients, subject, body_template, performance_return, extra)


def provider_emails(contract: Contract) -> set[str]:
    return set(Membership.objects.filter(
        organisation_id=contract.provider_id, is_active=True, role__in=list(PROVIDER_ROLES),
        user__is_active=True,
    ).values_list("user__email", flat=True))


def queue_mail(recipients: Iterable[str], subject: str, template: str,
               performance_return: PerformanceReturn | None, extra: dict | None = None) -> None:
    recipients = sorted(r for r in recipients if r)
    if not recipients:
        return
    context = {"return": performance_return, "site_url": settings.SITE_URL, **(extra or {})}
    email_queue(subject=subject, body=render_plain_text(template, context), to=recipients)


