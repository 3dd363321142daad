"""How the monthly report's pages read (issue 20, item 6), checked on the rendered PDF: text
read back page by page (pypdf), as a person reads each printed page."""

from __future__ import annotations

import io
import re
from datetime import date
from itertools import pairwise

import pytest
from pypdf import PdfReader

from contracts.tests.factories import ShareFactory, contract_for
from funding.tests.factories import actual, agreement_for, contribute, scheme_for
from monitoring import charts
from monitoring.reports import services as report_services
from monitoring.reports.data import monthly_report_data
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db

MONTH = date(2025, 7, 1)
LONG_TITLE = "Integrated dementia navigation hub"


def _pages(content: bytes) -> list[list[str]]:
    """Each page's lines, top to bottom, without the running header and footer."""
    pages = []
    for page in PdfReader(io.BytesIO(content)).pages:
        lines = [line.strip() for line in (page.extract_text() or "").splitlines()]
        pages.append([line for line in lines if line and not re.match(
            r"^((OFFICIAL ?)?(Page \d+ of \d+)?|.*Joint monitoring report, July 2025)$", line)])
    return pages


def _joint(world, **kwargs):
    """A contract both partners fund, so the partnership's report includes it."""
    contract = contract_for(world, **kwargs)
    ShareFactory(contract=contract, organisation=world.council_a)
    ShareFactory(contract=contract, organisation=world.icb_a)
    return contract


@pytest.fixture
def report(world):
    # Contracts with a few KPIs each (headings fall in many places down the pages), and one
    # with so many KPIs that its table runs over several pages.
    for n in range(14):
        contract = _joint(world, title=f"Carers support service {n}",
                                reference=f"CS-{n:04d}")
        for k in range(3 + n % 5):
            kpi_with_target(contract, code=f"K{k}", name=f"Carers supported {k}", target="100")
        ret = fill_and_submit(contract, quarter(), world.provider_x_user, values={"K0": "55"},
                              today=date(2025, 7, 10))
        # Commentary of many lengths moves each next heading to a different height on its page.
        ret.values.filter(kpi__code="K0").update(commentary=" ".join(["Busier"] * (n * 7 % 41)))
    long = _joint(world, title=LONG_TITLE, reference="DN-0001")
    for k in range(45):
        kpi_with_target(long, code=f"N{k}", name=f"Navigation measure {k}", target="100")
    fill_and_submit(long, quarter(), world.provider_x_user, today=date(2025, 7, 10))

    agreement = agreement_for(world, title="Bromley Section 75 agreement",
                              start_date=date(2024, 4, 1), end_date=date(2029, 3, 31))
    equipment = scheme_for(agreement, code="S75-02", budget="9000000",
                           name="Integrated community equipment service and minor adaptations")
    contribute(equipment, world.council_a, "4500000")
    contribute(equipment, world.icb_a, "4500000", code="nhs-baseline")
    actual(equipment, date(2025, 7, 1), "647358.11", forecast="7765432.49")  # −£1,234,568
    care = scheme_for(agreement, code="S75-01", name="Intermediate Care", budget="1200000")
    contribute(care, world.council_a, "600000")
    contribute(care, world.icb_a, "600000", code="nhs-baseline")
    actual(care, date(2025, 7, 1), "100000", forecast="1199999.60")  # a variance of −£0.40
    data = monthly_report_data(partnership=world.partnership_a, month=MONTH)
    assert len(data.sections) == 15
    return data, report_services.render_monthly_report(data)


def test_the_printed_report_reads_as_a_person_expects(report):
    """One rendering (it takes a while), read page by page: amounts keep their minus sign and
    never say "−£0"; no contract heading is left at the foot of a page; a KPI table that runs
    on names its contract on every page; the summary chart labels each bar with its value."""
    data, rendered = report
    pages = _pages(rendered.content)
    lines = [line for page in pages for line in page]
    text = "\n".join(lines)

    # Amounts: the minus sign stays with its amount; a variance of −£0.40 shows as £0.
    assert "−£1,234,568" in text
    for line in lines:
        assert line not in ("−", "-", "−£", "-£"), "a minus sign alone on a line"
        assert not re.search(r"(^|[^\d,])−\s*$", line), f"line ends in a minus sign: {line!r}"
    assert "−£0" not in text.replace("−£0.", "")  # −£0.20 is a real amount; −£0 is not

    # Headings stay with what they introduce.
    headings = {f"{s.contract.title} ({s.contract.reference})" for s in data.sections}
    for number, page in enumerate(pages, start=1):
        tail = page[-3:]
        assert not any(line in headings for line in tail), (number, tail)
        assert not (tail and tail[-1].startswith("Provider: ")), (number, tail)
        assert not (tail and re.match(r"^\d\. ", tail[-1])), (number, tail)  # a section title

    # The long KPI table names its contract on every page it runs to.
    with_rows = [n for n, page in enumerate(pages, start=1)
                 if any(re.match(r"^N\d+ Navigation", line) for line in page)]
    assert len(with_rows) >= 2, "the long table should run over at least two pages"
    for number in with_rows:
        assert any(LONG_TITLE in line for line in pages[number - 1]), number

    # The summary chart: every bar labelled with its value, on an axis of round numbers.
    svg = str(data.rag_chart)
    bars = re.findall(r"<rect [^>]*><title>([^<]+): (\d+)</title></rect>", svg)
    assert bars, svg
    labels = re.findall(r'<text class="bar-value"[^>]*>(\d+)</text>', svg)
    assert sorted(labels) == sorted(value for _label, value in bars)
    ticks = [int(t) for t in re.findall(r'<text class="axis-tick"[^>]*>(\d+)</text>', svg)]
    assert ticks[0] == 0 and len(ticks) >= 3
    assert len({b - a for a, b in pairwise(ticks)}) == 1, ticks  # evenly spaced
    assert ticks[-1] >= max(int(v) for _l, v in bars)
    summary = " ".join(next(page for page in pages if page and page[0] == "1. Executive summary"))
    assert all(f" {value} " in f" {summary} " for _label, value in bars)


def test_it_gives_sensible_axis_ticks_for_small_and_large_counts():
    for high, expected in ((1, [0, 1]), (7, [0, 2, 4, 6, 8]), (15, [0, 5, 10, 15]),
                           (120, [0, 50, 100, 150])):
        svg = str(charts.bar_chart([("A", high, "red")], title="t"))
        ticks = [int(t) for t in re.findall(r'class="axis-tick"[^>]*>(\d+)<', svg)]
        assert ticks == expected, (high, ticks)
