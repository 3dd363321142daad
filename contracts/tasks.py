"""Celery tasks for the contract register: thin, and safe to run twice."""

from __future__ import annotations

from celery import shared_task

from contracts.services import key_date_alerts_send


@shared_task(name="contracts.tasks.send_key_date_alerts")
def send_key_date_alerts() -> dict[str, int]:
    """Daily: e-mail contract managers the key-date alerts due today (each one once)."""
    result = key_date_alerts_send()
    return {"created": result.created, "already_sent": result.already_sent}
