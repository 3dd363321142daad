"""Monitoring's downloads come from the one spreadsheet writer (commissioning/spreadsheets.py)."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.urls import reverse
from openpyxl import load_workbook

from contracts.tests.factories import contract_for
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter


def test_it_streams_the_overview_as_csv_and_xlsx_with_formulas_neutralised(world, client_for):
    contract = contract_for(world, reference="=CMD-1", title="@SUM(A1) service")
    kpi_with_target(contract, code="K1", name="Visits", target="100")
    fill_and_submit(contract, quarter(date(2025, 5, 1)), world.provider_x_user,
                    values={"K1": "50"})
    client = client_for(world.commissioner_a)
    csv_file = client.get(reverse("monitoring:overview"), {"format": "csv"})
    assert csv_file.streaming and csv_file["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(csv_file.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Reference", "Title", "Provider"]
    assert rows[1][:2] == ["'=CMD-1", "'@SUM(A1) service"]
    xlsx = client.get(reverse("monitoring:overview"), {"format": "xlsx"})
    assert xlsx.streaming
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert [c.value for c in sheet[2]][:2] == ["'=CMD-1", "'@SUM(A1) service"]
    assert sheet["F2"].value == 1 and sheet["F2"].data_type == "n"  # a count stays a number
