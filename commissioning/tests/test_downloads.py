"""Download file names (RFC 6266) and worksheet titles come from one helper."""

import io
import re
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from commissioning.downloads import content_disposition, sheet_title
from contracts.tests.factories import contract_for
from monitoring.tests.factories import kpi_with_target, quarter

# RFC 6266 with RFC 8187: one quoted ASCII name (no quote or backslash inside), optionally
# followed by one extended UTF-8 name made only of attr-chars and percent escapes.
STRICT = re.compile(
    r'^attachment; filename="(?P<name>[\x20\x21\x23-\x5b\x5d-\x7e]+)"'
    r"(?:; filename\*=UTF-8''(?P<extended>[A-Za-z0-9!#$&+.^_`|~%-]+))?$")


def parsed(header: str) -> tuple[str, str | None]:
    match = STRICT.match(header)
    assert match, f"not a strict RFC 6266 header: {header!r}"
    extended = match["extended"]
    return match["name"], unquote(extended) if extended else None


@pytest.mark.parametrize(("given", "ascii_name", "extended"), [
    ('return-AB"; filename="evil.html.csv', "return-AB; filename=evil.html.csv", None),
    ("..\\..\\etc/passwd.pdf", "etcpasswd.pdf", None),
    ("Report\r\nSet-Cookie: x=1.pdf", "ReportSet-Cookie x=1.pdf", None),
    ("Café – Part 2.pdf", "Cafe _ Part 2.pdf", "Café – Part 2.pdf"),
    ('"', "download", None),
])
def test_it_builds_one_safe_file_name_and_a_utf8_one_when_needed(given, ascii_name, extended):
    assert parsed(content_disposition(given)) == (ascii_name, extended)


@pytest.mark.parametrize("given", ["return-DH*1-2026-q1", "a/b\\c?d:e[f]g", "'quoted'",
                                   "x" * 40, "*?:", "Résumé of [Q1]"])
def test_it_gives_worksheet_titles_excel_accepts(given):
    title = sheet_title(given)
    assert 0 < len(title) <= 31
    workbook = Workbook()
    workbook.active.title = title  # openpyxl raises on a title Excel would refuse
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert load_workbook(buffer).sheetnames == [title]


@pytest.fixture
def return_template(world, client_for):
    client = client_for(world.provider_x_user)

    def download(reference: str, fmt: str):
        contract = contract_for(world, reference=reference, title="Dementia Hub")
        kpi_with_target(contract, code="DH1", name="Referrals")
        return client.get(reverse("monitoring:return_template",
                                  args=[contract.pk, quarter().code, fmt]))

    return download


def test_a_quote_in_a_contract_reference_does_not_inject_a_second_file_name(return_template):
    response = return_template('DH"; filename="evil.html', "csv")
    assert response.status_code == 200
    name, extended = parsed(response["Content-Disposition"])
    assert name.endswith(".csv") and '"' not in name and extended is None
    assert response["Cache-Control"] == "private, no-store"


def test_a_star_in_a_contract_reference_still_gives_a_valid_xlsx_template(return_template):
    response = return_template("DH*1/2?", "xlsx")
    assert response.status_code == 200
    name, _extended = parsed(response["Content-Disposition"])
    assert name.endswith(".xlsx") and "*" not in name and "/" not in name
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [c.value for c in workbook.active[2]][:2] == ["DH1", "Referrals"]
    assert "*" not in workbook.active.title
