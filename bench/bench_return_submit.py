"""Submitting a 40-KPI provider return, server-side, on PostgreSQL.

    scripts/with-test-services.sh .venv/bin/python bench/bench_return_submit.py

Builds one provider with 31 contracts of 40 KPIs each (half counts, half percentages), saves
each return's draft, then times the real submit request (the check-your-answers POST with the
declaration, through Django's test Client signed in as the provider) and, separately, saving
a complete 40-KPI draft through the service. Prints median, p95 and the query count.
"""

from __future__ import annotations

import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTRACTS = 31
KPIS = 40


def main() -> None:
    # Importable once ROOT is on sys.path (this file also runs as a script).
    from bench import scale

    scale.setup(migrate=True)
    # Django is set up at run time, not on import; these modules need it.
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from commissioning.models import Membership, Organisation, OrganisationKind, Role, User
    from commissioning.tests.factories import CouncilFactory, PartnershipFactory
    from contracts.tests.factories import ContractFactory
    from monitoring import selectors
    from monitoring.services import returns as return_services
    from monitoring.tests.factories import kpi_with_target, percentage_kpi, quarter

    if Organisation.objects.filter(name="Bench Provider").exists():
        raise SystemExit("This database already has the benchmark's data: use a fresh one.")
    council = CouncilFactory(name="Bench Council")
    partnership = PartnershipFactory(name="Bench Partnership", organisations=[council])
    provider = Organisation.objects.create(name="Bench Provider", kind=OrganisationKind.VCSE)
    user = User.objects.create_user(email="bench.provider@example.org", full_name="Bench",
                                    password="Bench-password-2026")
    Membership.objects.create(user=user, organisation=provider,
                              role=Role.PROVIDER_SUBMITTER)
    period = quarter()
    contracts = []
    for n in range(CONTRACTS):
        contract = ContractFactory(reference=f"BENCH-{n:03d}", provider=provider,
                                   holder=council, lead_commissioner=council,
                                   partnership=partnership)
        for k in range(KPIS):
            if k % 2:
                percentage_kpi(contract, code=f"P{k}", name=f"Percentage {k}")
            else:
                kpi_with_target(contract, code=f"C{k}", name=f"Count {k}")
        contracts.append(contract)

    def inputs_for(contract):
        values = []
        for kpi in selectors.kpis_for_period(contract, period):
            if kpi.is_percentage:
                values.append(return_services.ValueInput(kpi_id=kpi.pk, numerator=Decimal(9),
                                                         denominator=Decimal(10)))
            else:
                values.append(return_services.ValueInput(kpi_id=kpi.pk, value=Decimal(120)))
        return values

    draft_times, draft_queries = [], []
    for contract in contracts:
        values = inputs_for(contract)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            return_services.return_save_draft(contract=contract, period=period, values=values,
                                              overall_commentary="Steady quarter",
                                              expected_version=None, saved_by=user)
            draft_times.append((time.perf_counter() - started) * 1000)
        draft_queries.append(len(queries.captured_queries))

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    submit_times, submit_queries = [], []
    # Django is set up at run time, not on import; these modules need it.
    from monitoring.models import PerformanceReturn

    for contract in contracts:
        ret = PerformanceReturn.objects.get(contract=contract, period=period)
        url = f"/returns/{contract.pk}/{period.code}/check/"
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(url, {"declaration": "on", "version": ret.version})
            submit_times.append((time.perf_counter() - started) * 1000)
        submit_queries.append(len(queries.captured_queries))
        assert response.status_code == 302 and "submitted" in response["Location"], response
    skip_first = 1  # the first request warms caches (templates, URL resolver)

    def row(name, times, queries):
        times = times[skip_first:]
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        return (f"| {name} | {len(times)} | {statistics.median(times):.1f} | {p95:.1f} | "
                f"{min(queries)}–{max(queries)} |")

    print(f"\n40-KPI return ({KPIS} KPIs: {KPIS // 2} counts, {KPIS // 2} percentages)\n")
    print("| Step | Requests | Median ms | p95 ms | Queries |")
    print("|---|---:|---:|---:|---:|")
    print(row("Save a complete draft (service)", draft_times, draft_queries))
    print(row("Submit with the declaration (HTTP POST)", submit_times, submit_queries))
    median = statistics.median(submit_times[skip_first:])
    print(f"\nTarget: submit median under 200 ms: {'met' if median < 200 else 'NOT met'} "
          f"({median:.1f} ms)")


if __name__ == "__main__":
    main()
