"""Shared set-up for the benchmarks that run on the generated data set
(``manage.py generate_scale_data``): Django on the database named by DATABASE_URL, the
personas, and the objects each page is measured on."""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_register import _client_for, _setup_django

ROOT = Path(__file__).resolve().parent.parent


def setup(*, migrate: bool = False) -> None:
    """Django on PostgreSQL (created if missing), DEBUG off, test Client host allowed."""

    _setup_django()
    if migrate:
        # Django is set up at run time, not on import; these modules need it.
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def generate(size: str) -> float:
    """Generate the data set (a no-op if it is already there); seconds taken."""
    # Django is set up at run time, not on import; these modules need it.
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("generate_scale_data", size=size)
    return time.perf_counter() - started


def client_for(email: str):
    """A test Client signed in with both factors (the generator gave every commissioner a
    confirmed authenticator device)."""

    return _client_for(email)


def personas() -> dict[str, str]:
    # Django is set up at run time, not on import; these modules need it.
    from monitoring.management.commands.generate_scale_data import PERSONAS

    return PERSONAS


@dataclass
class Targets:
    """The objects the pages are measured on, all visible to the personas."""

    contract_id: int
    framework_id: int | None
    agreement_id: int
    return_contract_id: int
    return_period_code: str
    partnership_id: int


def targets() -> Targets:
    # Django is set up at run time, not on import; these modules need it.
    from django.db.models import Count

    from commissioning.models import User
    from contracts.models import Contract
    from funding.models import Section75Agreement
    from monitoring.models import PerformanceReturn
    from monitoring.reporting_periods import recent_periods

    people = personas()
    commissioner = User.objects.get(email=people["commissioner"])
    provider = User.objects.get(email=people["provider"])
    visible = Contract.objects.for_user(commissioner)
    # The richest contract the commissioner can see: most KPIs and decisions.
    contract = (visible.filter(status="extended")
                .annotate(k=Count("kpis", distinct=True), d=Count("decisions", distinct=True))
                .order_by("-k", "-d", "pk").first()) or visible.order_by("pk").first()
    framework_id = None
    try:
        # Django is set up at run time, not on import; these modules need it.
        from contracts.frameworks.models import Framework

        framework = (Framework.objects.for_user(commissioner).annotate(n=Count("lots"))
                     .order_by("-n", "pk").first())
        framework_id = framework.pk if framework else None
    except ImportError:
        pass
    agreement = Section75Agreement.objects.for_user(commissioner).order_by("pk").first()
    # Django is set up at run time, not on import; these modules need it.
    from django.utils import timezone

    latest = recent_periods(kind="quarter", today=timezone.localdate(), count=1)[-1]
    provider_contracts = Contract.objects.for_user(provider).filter(kpis__isnull=False)
    editable = (PerformanceReturn.objects.filter(contract__in=provider_contracts,
                                                 period=latest, status="draft")
                .order_by("pk").first())
    return_contract = editable.contract_id if editable else \
        provider_contracts.order_by("pk").first().pk
    return Targets(contract_id=contract.pk, framework_id=framework_id,
                   agreement_id=agreement.pk, return_contract_id=return_contract,
                   return_period_code=latest.code, partnership_id=contract.partnership_id)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p95": percentile(values, 0.95),
            "n": len(values)}


def write_json(path: str | None, data) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str))


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "")
