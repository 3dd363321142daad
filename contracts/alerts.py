"""Key-date alerts: each contract manager e-mailed (through the outbox) the alerts due today,
each alert once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commissioning import access
from commissioning.email import email_queue, render_plain_text
from contracts.models import KeyDateAlert
from contracts.selectors import key_date_alerts_due


@dataclass(frozen=True)
class AlertsSent:
    created: int
    already_sent: int


def key_date_alerts_send(*, today: date | None = None) -> AlertsSent:
    """E-mail each contract manager the key-date alerts due today, each alert once.

    The KeyDateAlert unique constraint is the guard: an alert row is inserted first and the
    e-mail is sent only after that insert commits, so a second run (or a second beat) finds
    the row and sends nothing.
    """
    today = today or timezone.localdate()
    created = skipped = 0
    manager_is_party: dict[int, bool] = {}
    for alert in key_date_alerts_due(today=today):
        contract = alert.contract
        if contract.contract_manager is None:
            continue
        # Shares may have moved since the manager was chosen: an alert names the contract,
        # so it goes only to a manager who still works for one of its parties.
        if contract.pk not in manager_is_party:
            manager_is_party[contract.pk] = access.works_for_any(
                contract.contract_manager, access.contract_party_ids(contract))
        if not manager_is_party[contract.pk]:
            continue
        with transaction.atomic():
            row, was_created = KeyDateAlert.objects.get_or_create(
                contract=alert.contract, kind=alert.kind, due_date=alert.due_date,
                threshold=alert.threshold, recipient=alert.contract.contract_manager,
            )
            if not was_created:
                skipped += 1
                continue
            created += 1
            _queue_alert_email(row, alert)
    return AlertsSent(created=created, already_sent=skipped)


def _queue_alert_email(row: KeyDateAlert, alert) -> None:
    """Put the alert's e-mail in the outbox in the same transaction as the alert row: if the
    mail server or the broker is down, the e-mail waits and is sent later, never lost."""
    contract = alert.contract
    context = {"alert": alert, "contract": contract, "recipient": row.recipient,
               "url": settings.SITE_URL + contract.get_absolute_url()}
    email_queue(subject=f"{alert.title}: {contract.reference} {contract.title}",
                body=render_plain_text("contracts/email/key_date_alert.txt", context),
                to=[row.recipient.email])
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])
