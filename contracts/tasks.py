"""Celery tasks for the contract register: thin, and safe to run twice."""

from __future__ import annotations

from celery import shared_task

from contracts import services
from contracts.alerts import key_date_alerts_send


@shared_task(name="contracts.tasks.send_key_date_alerts")
def send_key_date_alerts() -> dict[str, int]:
    """Daily: e-mail contract managers the key-date alerts due today (each one once)."""
    result = key_date_alerts_send()
    return {"created": result.created, "already_sent": result.already_sent}


@shared_task(name="contracts.tasks.validate_register_import")
def validate_register_import(import_id: int) -> None:
    """Check every row of a large uploaded register (claims the import; safe to run twice)."""
    services.register_import_validate(import_id=import_id)


@shared_task(name="contracts.tasks.run_register_import")
def run_register_import(import_id: int) -> None:
    """Import a confirmed register in one transaction (claims the import; safe to run twice)."""
    services.register_import_run(import_id=import_id)


@shared_task(name="contracts.tasks.sweep_register_imports")
def sweep_register_imports() -> int:
    """Every few minutes: hand over imports that missed their worker (broker outage, dead
    worker)."""
    return services.register_import_sweep()
