import io
from datetime import date

import pytest

from commissioning import demo as core_demo
from contracts import demo
from contracts.models import CommissioningShare, Contract, Decision, ServiceLine
from contracts.selectors import key_date_alerts_due

pytestmark = pytest.mark.django_db


def test_it_loads_the_seed_contracts_twice_without_duplicates():
    core_demo.load(io.StringIO())
    demo.load(io.StringIO())
    counts = (Contract.objects.count(), ServiceLine.objects.count(), Decision.objects.count(),
              CommissioningShare.objects.count())
    demo.load(io.StringIO())
    assert counts == (Contract.objects.count(), ServiceLine.objects.count(),
                      Decision.objects.count(), CommissioningShare.objects.count())
    well = Contract.objects.get(reference="CS17033-PSIS")
    assert well.service_lines.count() == 8
    assert well.term_description == "3 years + up to 2 years"
    assert well.contract_manager.email == "alicia.munday@bromley.example.org"
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {"live", "extended", "in_procurement"} <= statuses
    assert any(a.kind == "expiry" for a in key_date_alerts_due(today=date.today()))
    for contract in Contract.objects.prefetch_related("shares"):
        assert sum(s.share_percent for s in contract.shares.all()) == 100
