"""A user's key dates as an iCalendar feed (RFC 5545), written with the ``icalendar`` library.

Each event is an all-day event with a UID that names the thing and the kind of date, never
the date itself, so that when a contract is extended its end-date event moves in the
subscriber's calendar instead of a second one appearing. Each links back to its page.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from commissioning import access
from contracts.key_dates import contract_key_dates
from contracts.models import Contract
from monitoring.models import KPI, PeriodKind, ReportingPeriod
from monitoring.reporting_periods import period_for
from monitoring.selectors import provider_task_list

LOOK_BACK = timedelta(days=92)
LOOK_AHEAD = timedelta(days=2 * 366)
OPEN_STATUSES = ("pending", "draft", "overdue", "queried")


def _uid_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "joint-commissioning"


def _event(uid: str, day: date, summary: str, url: str, description: str, stamp: datetime
           ) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{_uid_domain()}")
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", f"{description}\n{url}".strip())
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event


def key_date_calendar(user, *, today: date | None = None) -> bytes:
    """The feed of the user's key dates, acting for their current organisation: the contracts
    they see (``Contract.objects.for_user``), and the return due dates of those contracts."""
    today = today or timezone.localdate()
    since, until = today - LOOK_BACK, today + LOOK_AHEAD
    stamp = timezone.now()
    site = settings.SITE_URL
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.SERVICE_NAME}//Key dates//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{settings.SERVICE_NAME}: key dates")
    calendar.add("x-published-ttl", "PT6H")
    contracts = Contract.objects.for_user(user)
    for key_date in contract_key_dates(contracts=contracts, since=since, until=until):
        url = site + reverse("contracts:detail", args=[key_date.contract_id])
        calendar.add_component(_event(
            f"contract-{key_date.contract_id}-{key_date.key}", key_date.date,
            key_date.summary, url, key_date.title, stamp))
    for uid, day, summary, url in _return_due_dates(user, contracts, today, since, until):
        calendar.add_component(_event(uid, day, summary, site + url, "", stamp))
    return calendar.to_ical()


def _return_due_dates(user, contracts, today, since, until):
    """Providers: each of their own returns still to send (the task list of their dashboard).
    The commissioning side: one event per quarter or month whose returns fall due for the
    contracts they see."""
    if access.is_provider_user(user):
        for item in provider_task_list(user=user, today=today):
            if item.status in OPEN_STATUSES and since <= item.period.due_date <= until:
                yield (f"return-{item.contract.pk}-{item.period.code}", item.period.due_date,
                       f"{item.contract.reference}: {item.period.label} return due",
                       reverse("monitoring:return_form",
                               args=[item.contract.pk, item.period.code]))
        return
    kinds = set(KPI.objects.filter(contract__in=contracts, is_active=True)
                .values_list("frequency", flat=True).distinct())
    if not kinds:
        return
    wanted = [PeriodKind.QUARTER] + ([PeriodKind.MONTH] if "monthly" in kinds else [])
    periods = list(ReportingPeriod.objects.filter(kind__in=wanted, due_date__gte=since,
                                                  due_date__lte=until))
    # The quarter running now, unsaved if nothing has been recorded against it yet (reading
    # a feed writes nothing).
    current = period_for(kind=PeriodKind.QUARTER, day=today)
    if current.pk is None and since <= current.due_date <= until:
        periods.append(current)
    for period in periods:
        yield (f"returns-due-{period.code}", period.due_date,
               f"Provider returns for {period.label} due", reverse("monitoring:inbox"))
