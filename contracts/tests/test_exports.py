"""Exports: the Transparency Code layout (CSV, XLSX); who may download OCDS (test_ocds.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from commissioning.spreadsheets import safe_cell
from contracts.exports import TRANSPARENCY_HEADER
from contracts.models import ContractStatus, ServiceArea
from contracts.tests.factories import (
    DecisionFactory,
    ExtensionOptionFactory,
    ReviewDateFactory,
    ShareFactory,
    VariationFactory,
    contract_for,
    full_contract,
)
from contracts.tests.test_views import listed_references

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "xlsx", "json"]


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def register(world):
    world.provider_x.registration_number = "07654321"
    world.provider_x.save()
    bromley_well = full_contract(
        world, reference="BW-1", title="=HYPERLINK(\"http://evil\",\"Bromley Well\")",
        description="+44 20 8313 4000 @home\tservice", annual_value=Decimal("2700000.00"),
        start_date=date(2017, 10, 1), initial_end_date=date(2020, 9, 30),
    )
    planned = contract_for(world, reference="PH-2", title="Sexual health",
                           provider=world.provider_y, status=ContractStatus.PLANNED,
                           service_area=ServiceArea.PUBLIC_HEALTH)
    merton = contract_for(world, reference="MER-1", title="Merton community services",
                          partnership=world.partnership_b, holder=world.council_b,
                          lead_commissioner=world.council_b)
    return bromley_well, planned, merton


# --- Who may export what ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_it_refuses_the_export_to_someone_without_a_register(world, client_for, register, fmt):
    response = client_for(world.outsider).get(reverse("contracts:export", args=[fmt]))
    assert response.status_code == 404


def test_it_refuses_an_unknown_format(world, client_for):
    response = client_for(world.commissioner_a).get(reverse("contracts:export", args=["pdf"]))
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["commissioner_b", "provider_y_user", "outsider"])
def test_it_refuses_a_contracts_ocds_to_the_wrong_persona(world, client_for, register,
                                                          persona):
    bromley_well = register[0]
    response = client_for(getattr(world, persona)).get(
        reverse("contracts:ocds", args=[bromley_well.pk]))
    assert response.status_code == 404


def test_it_exports_only_the_providers_own_contracts(world, client_for, register):
    rows = csv_rows(client_for(world.provider_x_user).get(reverse("contracts:export",
                                                                  args=["csv"])))
    assert [r[0] for r in rows[1:]] == ["BW-1", "MER-1"]  # both provided by X
    rows = csv_rows(client_for(world.provider_y_user).get(reverse("contracts:export",
                                                                  args=["csv"])))
    assert [r[0] for r in rows[1:]] == ["PH-2"]
    rows = csv_rows(client_for(world.commissioner_b).get(reverse("contracts:export",
                                                                 args=["csv"])))
    assert [r[0] for r in rows[1:]] == ["MER-1"]


def test_it_filters_the_export_exactly_like_the_list(world, client_for, register):
    client = client_for(world.commissioner_a)
    for query in ({}, {"status": "planned"}, {"q": "sexual"}, {"provider": world.provider_x.pk},
                  {"service_area": "public_health", "sort": "-reference"},
                  {"status": "not-a-status"}):
        listed = client.get(reverse("contracts:list"), query)
        expected = listed_references(listed)
        rows = csv_rows(client.get(reverse("contracts:export", args=["csv"]), query))
        assert [r[0] for r in rows[1:]] == expected, query
        package = json.loads(body(client.get(reverse("contracts:export", args=["json"]),
                                             query)))
        assert len(package["releases"]) == len(expected)


def test_the_register_page_links_to_the_filtered_exports(world, client_for, register):
    response = client_for(world.commissioner_a).get(reverse("contracts:list"),
                                                    {"status": "planned"})
    assert b'href="/contracts/export.csv?status=planned"' in response.content
    assert b"Import a register" in response.content


# --- CSV -------------------------------------------------------------------------------------

def test_the_csv_has_a_bom_the_transparency_columns_and_neutralised_formulas(world, client_for,
                                                                             register):
    response = client_for(world.commissioner_a).get(reverse("contracts:export", args=["csv"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(client_for(world.commissioner_a).get(reverse("contracts:export",
                                                                 args=["csv"])))
    assert rows[0] == TRANSPARENCY_HEADER
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Reference"] == "BW-1"
    assert row["Title"] == "'=HYPERLINK(\"http://evil\",\"Bromley Well\")"
    assert row["Description"] == "'+44 20 8313 4000 @home\tservice"
    assert row["Supplier registration number"] == "07654321"
    assert row["Annual value (£)"] == "2700000.00"
    # 3 years + two 12-month options (full_contract) = 5 years at £2.7m
    assert row["Whole-life value (£)"] == "13500000.00"
    assert row["Start date"] == "2017-10-01"
    assert row["End date"] == "2021-09-30"  # one option exercised
    assert row["Tendered"] == "Yes" and row["SME"] == "Yes" and row["VCSE"] == "Yes"
    assert row["Contract holder"] == world.council_a.name


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_it_neutralises_every_formula_start(text):
    assert safe_cell(text) == "'" + text


def test_it_keeps_numbers_and_dates_as_they_are():
    assert safe_cell(Decimal("-5.00")) == Decimal("-5.00")
    assert safe_cell(date(2021, 4, 1)) == date(2021, 4, 1)
    assert safe_cell(None) == ""
    assert safe_cell(True) == "Yes"
    assert safe_cell("Age UK") == "Age UK"


# --- XLSX ------------------------------------------------------------------------------------

def test_the_xlsx_opens_with_openpyxl_with_numbers_and_dates(world, client_for, register):
    response = client_for(world.commissioner_a).get(reverse("contracts:export", args=["xlsx"]),
                                                    {"q": "BW-1"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(body(response)))
    sheet = workbook.active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == TRANSPARENCY_HEADER
    cells = dict(zip(TRANSPARENCY_HEADER, rows[1], strict=True))
    assert cells["Title"].value.startswith("'=HYPERLINK")
    assert cells["Title"].data_type == "s"
    assert cells["Annual value (£)"].value == 2700000
    assert cells["Annual value (£)"].number_format == "#,##0.00"
    assert cells["Start date"].value == datetime(2017, 10, 1)
    assert cells["Start date"].number_format == "dd/mm/yyyy"
    assert len(rows) == 2


# The OCDS release packages are tested in test_ocds.py.


# --- Query counts ----------------------------------------------------------------------------

def _contracts(world, count: int, start: int) -> None:
    for n in range(start, start + count):
        contract = contract_for(world, reference=f"Q-{n:03d}")
        ExtensionOptionFactory(contract=contract, sequence=1)
        ReviewDateFactory(contract=contract, date=date(2099, 1, 1))
        decision = DecisionFactory(contract=contract)
        VariationFactory(contract=contract, decision=decision)
        ShareFactory(contract=contract, organisation=world.council_a,
                     share_percent=Decimal("100"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_export_runs_the_same_number_of_queries_at_two_sizes(world, client_for, fmt):
    client = client_for(world.commissioner_a)
    url = reverse("contracts:export", args=[fmt])
    client.get(url)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"q": "Q-"})
            content = body(response)
        assert response.status_code == 200 and content
        return len(queries)

    _contracts(world, 2, 0)
    small = count()
    _contracts(world, 20, 100)
    assert count() == small
