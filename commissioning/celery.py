"""The Celery app: Redis broker in production, in-process (eager) when no broker is set."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")

app = Celery("commissioning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat runs in Europe/London (CELERY_TIMEZONE). Jobs are safe to run twice: each one records
# what it did in the database and skips what is already done.
app.conf.beat_schedule = {
    "return-reminders": {
        "task": "monitoring.tasks.send_return_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "report-sweep": {
        "task": "monitoring.tasks.sweep_reports",
        "schedule": crontab(minute="*/5"),
    },
    "register-import-sweep": {
        "task": "contracts.tasks.sweep_register_imports",
        "schedule": crontab(minute="*/5"),
    },
    "email-outbox-sweep": {
        "task": "commissioning.tasks.sweep_email_outbox",
        "schedule": crontab(minute="*/5"),
    },
    # Leavers whose organisation account was closed: suspended here too (commissioning/sso.py).
    "single-sign-on-leavers": {
        "task": "commissioning.tasks.suspend_dormant_sso_accounts",
        "schedule": crontab(hour=5, minute=15),
    },
    "contract-key-date-alerts": {
        "task": "contracts.tasks.send_key_date_alerts",
        "schedule": crontab(hour=7, minute=0),
    },
    # The monthly joint monitoring report runs at 06:00 every weekday in the first week; the
    # task itself only acts on the first working day of the month (bank holidays included).
    "monthly-joint-monitoring-reports": {
        "task": "monitoring.tasks.start_monthly_reports",
        "schedule": crontab(hour=6, minute=0, day_of_month="1-7", day_of_week="mon-fri"),
    },
}
