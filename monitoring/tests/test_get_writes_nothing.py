"""Reading a monitoring page writes nothing: no reporting period is created, no stored RAG count
is filled in, whoever reads it. Periods are opened by the services and the daily task, counts by
the services that change what they count (issue 14)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.tests.factories import contract_for
from monitoring.models import PerformanceAssessment, PerformanceReturn, ReportingPeriod
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

# executemany() is logged as "N times: <sql>".
WRITE = re.compile(r"^\s*(\d+ times: )?\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture
def pages(world) -> list[str]:
    """The main monitoring pages, about a contract with a submitted return, as a reader finds
    them after data was loaded in bulk: no counts stored, no rows for this year's periods."""
    contract = contract_for(world, reference="READ-1", title="Read only")
    kpi = kpi_with_target(contract, code="R1", target="100")
    ret = fill_and_submit(contract, quarter(), world.provider_x_user, values={"R1": "90"})
    assessment = PerformanceAssessment.objects.create(contract=contract,
                                                      financial_year="2025/26")
    PerformanceReturn.objects.update(rag_red=None, rag_amber=None, rag_green=None,
                                     rag_kpis=None)
    ReportingPeriod.objects.filter(start_date__gt=quarter().end_date).delete()
    ended = "2025-26-q4"  # ended, no row: nobody has reported on it yet
    return [
        "/", reverse("monitoring:return_list"), reverse("monitoring:overview"),
        reverse("monitoring:inbox"), reverse("monitoring:service_users"),
        reverse("monitoring:contract_performance", args=[contract.pk]),
        reverse("monitoring:return_review", args=[ret.pk]),
        reverse("monitoring:return_form", args=[contract.pk, quarter().code]),
        reverse("monitoring:return_form", args=[contract.pk, ended]),
        reverse("monitoring:return_check", args=[contract.pk, quarter().code]),
        reverse("monitoring:return_upload", args=[contract.pk, ended]),
        reverse("monitoring:evidence_upload", args=[contract.pk, ended]),
        reverse("monitoring:service_users_upload", args=[contract.pk, ended]),
        reverse("monitoring:kpi_edit", args=[kpi.pk]),
        reverse("monitoring:target_set", args=[kpi.pk]),
        reverse("monitoring:assessment", args=[assessment.pk]),
        "/reports/",
    ]


def test_it_writes_nothing_while_any_persona_reads_a_monitoring_page(world, client_for, pages):
    for name, user in world.personas().items():
        client = client_for(user)
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code in (200, 302, 404), (name, url, response.status_code)
            writes = [q["sql"] for q in queries.captured_queries
                      if WRITE.match(q["sql"]) and "django_session" not in q["sql"]]
            assert writes == [], (name, url, writes)
