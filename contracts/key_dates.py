"""A contract's key dates over a stretch of time, for calendars: when it ends, when notice
must be given or an extension option decided, when its standstill ends, its review dates.

The dashboard's alerts (``contracts.selectors.key_date_alerts_due``) say which of these are
due *today*; this lists them ahead, from the same derived end date (``with_term``) and the
same notice deadline (``notice_deadline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from commissioning.periods import add_months
from contracts.models import ACTIVE_STATUSES, Contract, ContractStatus, ExtensionOption, ReviewDate

END, NOTICE, EXTENSION_DECISION, STANDSTILL_END, REVIEW = (
    "end", "notice", "extension-decision", "standstill-end", "review")


def notice_deadline(end: date, notice_months: int) -> date:
    """The last day to give notice, or to decide on the next extension option: the current
    end date less the notice period."""
    return add_months(end, -notice_months)


@dataclass(frozen=True)
class KeyDate:
    contract_id: int
    reference: str
    title: str
    kind: str
    date: date
    summary: str
    key: str  # stable within the contract: the same event keeps it when its date moves


def contract_key_dates(*, contracts: QuerySet[Contract], since: date, until: date
                       ) -> list[KeyDate]:
    """Key dates between ``since`` and ``until`` of the given contracts (already scoped to
    what the user may see), in three queries whatever the number of contracts."""
    rows = list(
        contracts.with_term().filter(status__in=ACTIVE_STATUSES, current_end__gte=since)
        .order_by().values_list("pk", "reference", "title", "status", "current_end",
                                "standstill_end_date", "notice_period_months"))
    ids = [row[0] for row in rows]
    next_option: dict[int, tuple[int, int]] = {}
    for contract_id, sequence, months in (
        ExtensionOption.objects.filter(contract_id__in=ids, exercised=False)
        .order_by("contract_id", "-sequence").values_list("contract_id", "sequence",
                                                          "length_months")
    ):
        next_option[contract_id] = (sequence, months)  # the lowest sequence wins
    found: list[KeyDate] = []

    def add(pk, reference, title, kind, when, summary, key=""):
        if since <= when <= until:
            found.append(KeyDate(pk, reference, title, kind, when, summary, key or kind))

    for pk, reference, title, status, end, standstill, notice in rows:
        add(pk, reference, title, END, end, f"{reference} ends")
        if status == ContractStatus.AWARDED and standstill:
            add(pk, reference, title, STANDSTILL_END, standstill,
                f"{reference}: standstill period ends")
        option = next_option.get(pk)
        deadline = notice_deadline(end, notice)
        if option is not None and status in (ContractStatus.LIVE, ContractStatus.EXTENDED):
            add(pk, reference, title, EXTENSION_DECISION, deadline,
                f"{reference}: decide on extension option {option[0]} "
                f"({option[1]} months) by today", f"{EXTENSION_DECISION}-{option[0]}")
        elif notice and status != ContractStatus.AWARDED:
            add(pk, reference, title, NOTICE, deadline,
                f"{reference}: last day to give notice ({notice} months)")
    for pk, reference, title, review_pk, when, description in (
        ReviewDate.objects.filter(contract__in=contracts, date__gte=since, date__lte=until)
        .values_list("contract_id", "contract__reference", "contract__title", "pk", "date",
                     "description")
    ):
        add(pk, reference, title, REVIEW, when, f"{reference}: review ({description})",
            f"{REVIEW}-{review_pk}")
    return sorted(found, key=lambda k: (k.date, k.reference, k.kind))
