"""Property-based fuzzing of every import: the contract register, the finance system export,
the monitoring return spreadsheet and the service users' NHS numbers.

Files are random CSVs (random headings and rows, ragged rows, quotes, NULs, huge cells,
UTF-8/UTF-16/latin-1 with and without a BOM), real workbooks made with openpyxl from
plausible-or-hostile cells, and broken or dangerous workbooks (random bytes behind a zip
header, truncated, corrupted, a zip bomb, a billion-laughs XML bomb, an external entity, macros,
over the size limit, over the row limit).

Properties, for every file:
- never a server error (the test client raises on one; nothing here catches it);
- a refused file saves nothing (every domain and history table has the same rows);
- a refusal says what is wrong: the row and column, or the problem with the file;
- an import either saves every row or none, and what it saves passes ``full_clean``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissioning.tests import strategies as fz
from contracts import imports as register_imports
from contracts.models import Contract, RegisterImport, RegisterImportStatus
from contracts.tests.factories import contract_for
from funding import imports as finance_imports
from funding.models import FinanceImport, ImportStatus, MonthlyActual
from funding.tests.factories import agreement_for, close, scheme_for
from monitoring.models import DataType, PerformanceReturn, ReturnValue, ServiceUserList
from monitoring.nhs_numbers import check_digit
from monitoring.tests.factories import kpi_with_target, percentage_kpi, quarter

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz_settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


# A refusal must name the row and column, or the problem with the file.
SPECIFIC = re.compile(
    r"\brow \d|\d[\d,]* (?:rows|errors?)|column|heading|header|CSV|XLSX|Excel|workbook|"
    r"worksheet|macro|empty|smaller than|too large|UTF-8|not a|NHS number|Enter|must|Select|"
    r"unpacked", re.I)
# What the refusal of each dangerous file must say.
EXPECTED = {
    "zip_bomb": r"too large when (?:uncompressed|unpacked)",
    "xml_bomb": r"XLSX|Excel|workbook", "xxe": r"XLSX|Excel|workbook|column|no rows|empty",
    "macros": r"macro|must be a CSV", "oversized": r"smaller than",
    "too_many_rows": r"more than [\d,]+ rows",
    "ole": r"xls|CSV|XLSX|Excel", "empty": r"empty", "png": r"CSV|XLSX|Excel",
    "pdf": r"CSV|XLSX|Excel",
}


# A browser always sends the CSRF token, so a real POST is never empty (the test client does
# not check the token).
BROWSER = {"csrfmiddlewaretoken": "token"}


def assert_specific(message: str) -> None:
    assert message.strip(), "an error page without an error message"
    assert SPECIFIC.search(message), f"vague error message: {message[:300]!r}"


XLSX_KINDS = ("zip_bomb", "xml_bomb", "xxe", "macros")


def assert_refused_as_expected(kind, message: str, *, csv_only: bool = False) -> None:
    """A dangerous file is refused, and the message says why."""
    if kind is None:
        return
    expected = r"must be a CSV file" if csv_only and kind in XLSX_KINDS else EXPECTED[kind]
    assert re.search(expected, message, re.I), (kind, message[:300])


def assert_not_dangerous(kind) -> None:
    assert kind is None, f"a dangerous file ({kind}) was accepted"


def one_of_weighted(*pairs):
    """st.one_of with rough weights (each strategy repeated ``weight`` times)."""
    return st.one_of(*[s for weight, s in pairs for _ in range(weight)])


# --- Dangerous files, shared by every import -------------------------------------------------

def dangerous_files(real_xlsx: bytes, too_many_rows: bytes):
    """(name, bytes, kind) for the files every import must refuse, saying why."""
    makers = {
        "zip_bomb": fz.zip_bomb, "xml_bomb": fz.xml_bomb, "xxe": fz.external_entity,
        "macros": lambda: fz.with_macros(real_xlsx),
        "oversized": lambda: fz.oversized(django_settings.MAX_UPLOAD_BYTES),
        "too_many_rows": lambda: too_many_rows,
        "ole": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        "empty": lambda: b"",
        "png": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        "pdf": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    }
    return st.sampled_from((
        ("bomb.xlsx", "zip_bomb"), ("laughs.xlsx", "xml_bomb"), ("xxe.xlsx", "xxe"),
        ("macros.xlsm", "macros"), ("hidden-macros.xlsx", "macros"), ("big.csv", "oversized"),
        ("many.csv", "too_many_rows"), ("old.xls", "ole"), ("empty.csv", "empty"),
        ("image.png", "png"), ("register.pdf", "pdf"),
    )).map(lambda pair: (pair[0], makers[pair[1]](), pair[1]))


def table_files(columns: dict, *, max_rows: int = 6):
    """(name, bytes) of a table with (some of) the real headings and plausible-or-hostile
    cells, as CSV in a random encoding or as a real XLSX."""

    cells = {n: one_of_weighted((4, strategy), (1, fz.cell_text()))
             for n, strategy in columns.items()}

    @st.composite
    def build(draw):
        names = draw(st.lists(st.sampled_from(list(columns)), unique=True, min_size=1,
                              max_size=len(columns)))
        if draw(st.integers(min_value=0, max_value=3)):
            names = [n for n in columns if n in names or draw(st.integers(0, 4))]
        rows = [names]
        for _ in range(draw(st.integers(min_value=0, max_value=max_rows))):
            rows.append([draw(cells[n]) for n in names])
        if draw(st.integers(min_value=0, max_value=2)) == 0:
            return draw(st.sampled_from(("upload.xlsx", "upload.XLSX"))), \
                fz.xlsx_from_rows(rows), None
        encoding = draw(st.sampled_from(("utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1",
                                         "cp1252")))

        buffer = io.StringIO()
        csv.writer(buffer).writerows([[str(c) for c in r] for r in rows])
        data = buffer.getvalue().encode(encoding, errors="replace")
        name = draw(st.sampled_from(("upload.csv", "upload.csv", "upload.txt", "upload")))
        return name, data, None

    return build()


def chaos_files(header_pool):
    return st.one_of(
        st.tuples(st.sampled_from(("chaos.csv", "chaos.txt", "chaos")),
                  fz.csv_bytes(header_pool), st.none()),
        st.tuples(st.sampled_from(("broken.xlsx", "broken.csv")),
                  fz.malformed_xlsx(st.lists(st.lists(fz.cell_text(), max_size=4),
                                             max_size=4)), st.none()),
        st.tuples(st.sampled_from(("bytes.csv", "bytes.xlsx")), st.binary(max_size=3000),
                  st.none()),
    )


def any_file(columns: dict, header_pool, real_xlsx: bytes, too_many_rows: bytes):
    return one_of_weighted(
        (5, table_files(columns)),
        (3, chaos_files(header_pool)),
        (1, dangerous_files(real_xlsx, too_many_rows)),
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return tmp_path


def nhs_number(nine: int) -> str | None:
    first = f"{nine:09d}"
    digit = check_digit(first)
    return None if digit is None else first + str(digit)


def many_rows_csv(header: str, line: str, count: int) -> bytes:
    return (header + "\r\n" + (line + "\r\n") * count).encode()


# --- Contract register import ----------------------------------------------------------------

def test_register_import_never_fails_and_saves_all_or_nothing(world, client_for, media):
    client = client_for(world.commissioner_a)
    start_url = reverse("contracts:import")
    organisation_names = ("Bromley Council", "SEL ICB", "London Borough of Bromley",
                          "Merton Council", "Bromley Well", "Age UK", "New Provider CIC")
    columns = {
        "Contract reference": st.integers(min_value=1, max_value=10 ** 6).map(
            lambda n: f"IMP-{n}"),
        "Title": st.sampled_from(("Carers support", "Dementia hub", "Day care")),
        "Description": st.text(max_size=30),
        "Service area": st.sampled_from(("Adult social care", "Carers", "Public health",
                                         "Mental health", "Children's services", "Other",
                                         "Space")),
        "Provider": st.sampled_from(organisation_names),
        "Provider registration number": st.sampled_from(("", "01234567", "RC000123")),
        "Contract holder": st.sampled_from(organisation_names),
        "Lead commissioner": st.sampled_from(organisation_names),
        "Procurement regime": st.sampled_from(("", "PCR 2015", "Procurement Act", "PSR",
                                               "Brexit")),
        "Procurement route": st.sampled_from(("Open procedure", "Light touch regime", "Grant",
                                              "Direct award", "Spot", "Auction")),
        "Tendered": st.sampled_from(("Yes", "No", "", "Maybe")),
        "Status": st.sampled_from(("", "Live", "Awarded", "Expired", "Zombie")),
        "Start date": one_of_weighted((3, fz.plausible_date()), (1, fz.date_text())),
        "End date": one_of_weighted((3, fz.plausible_date()), (1, fz.date_text())),
        "Extension options (months)": st.sampled_from(("", "12", "12, 12", "0", "121", "²")),
        "Notice period (months)": st.sampled_from(("", "3", "6", "61", "-1", "²", "3.5")),
        "Annual value": fz.money_text(),
        "VAT not recoverable": fz.money_text(),
        "Review date": one_of_weighted((2, fz.plausible_date()), (1, fz.date_text())),
        "Service lines": st.sampled_from(("", "Carers; Dementia", ";;;", "x" * 300)),
    }
    header_pool = tuple(columns) + tuple(a for f in register_imports.FIELDS for a in f.aliases)
    real = fz.xlsx_from_rows([list(columns), ["R-1", "T"]])
    too_many = many_rows_csv("Contract reference,Title", "R,T", register_imports.MAX_ROWS + 1)
    partnership_ids = st.one_of(
        st.just(str(world.partnership_a.pk)), st.just(str(world.partnership_a.pk)),
        st.just(str(world.partnership_b.pk)), st.sampled_from(fz.HUGE_INTS))

    @fuzz_settings(130)
    @given(file=any_file(columns, header_pool, real, too_many), partnership=partnership_ids)
    def run(file, partnership):
        name, data, kind = file
        fz.count_import("contracts register")
        before = fz.snapshot()
        imports_before = RegisterImport.objects.count()
        response = client.post(start_url, {"partnership": partnership,
                                           "file": SimpleUploadedFile(name, data)})
        if response.status_code != 302:
            assert response.status_code == 200
            assert fz.has_error_summary(response)
            message = fz.error_text(response)
            assert_specific(message)
            if partnership == str(world.partnership_a.pk):  # else the partnership is refused
                assert_refused_as_expected(kind, message)
            assert fz.changes(before, fz.snapshot()) == {}
            return
        assert_not_dangerous(kind)
        assert RegisterImport.objects.count() == imports_before + 1
        register_import = RegisterImport.objects.latest("pk")
        # Match the columns as suggested, then check every row.
        mapping = {k: v for k, v in register_import.mapping.items() if v}
        response = client.post(reverse("contracts:import_map", args=[register_import.pk]),
                               {**mapping, **BROWSER})
        register_import.refresh_from_db()
        if response.status_code != 302:
            assert response.status_code == 200 and fz.has_error_summary(response)
            message = fz.error_text(response)
            assert_specific(message)
            assert_refused_as_expected(kind, message)
        contracts_before = Contract.objects.count()
        if register_import.status == RegisterImportStatus.FAILED:
            assert_specific(register_import.failure)
        for problem in register_import.errors:
            assert problem["row"] >= 2 and problem["column"] and problem["message"].strip()
        if register_import.status == RegisterImportStatus.VALIDATED:
            detail = client.get(register_import.get_absolute_url())
            assert detail.status_code == 200
            response = client.post(register_import.get_absolute_url(),
                                   {"create_providers": "on", "provider_kind": "vcse", **BROWSER})
            assert response.status_code in (200, 302)
            register_import.refresh_from_db()
        after = fz.snapshot()
        imported = Contract.objects.count() - contracts_before
        if register_import.status == RegisterImportStatus.IMPORTED:
            assert imported == register_import.row_count == register_import.imported_count
            fz.check_saved_rows(before, after)
        else:
            assert imported == 0
            changed = fz.changes(before, after)
            changed.pop("contracts.RegisterImport", None)
            assert changed == {}, changed

    run()


# --- Finance system import -------------------------------------------------------------------

def test_finance_import_never_fails_and_saves_all_or_nothing(world, client_for, media):
    agreement = agreement_for(world)
    for code in ("BCF-01", "BCF-02", "DFG"):
        scheme_for(agreement, code=code)
    close(agreement, date(2025, 5, 1))
    client = client_for(world.finance_officer_a)
    upload_url = reverse("funding:import_upload", args=[agreement.pk])
    months = st.one_of(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 1, 1)).flatmap(
            lambda d: st.sampled_from((d.strftime("%d/%m/%Y"), d.strftime("%m/%Y"),
                                       d.strftime("%Y-%m"), d.strftime("%b %Y"),
                                       d.strftime("%B %Y"), d.strftime("%b-%y"),
                                       d.isoformat()))),
        fz.date_text())
    columns = {
        "Scheme code": st.sampled_from(("BCF-01", "bcf-02", "DFG", "NOPE", "", "BCF-01 ")),
        "Month": months,
        "Actual": fz.money_text(),
        "Forecast": st.one_of(st.just(""), fz.money_text()),
        "Cost centre": st.text(max_size=10),
    }
    header_pool = (*columns, "Period", "Spend", "Outturn", "Scheme", "Code", "Date")
    real = fz.xlsx_from_rows([list(columns), ["BCF-01", "Apr 2025", 1, 2]])
    too_many = many_rows_csv("Scheme code,Month,Actual,Forecast", "BCF-01,Apr 2025,1,2",
                             finance_imports.MAX_ROWS + 1)

    @fuzz_settings(130)
    @given(file=any_file(columns, header_pool, real, too_many))
    def run(file):
        name, data, kind = file
        fz.count_import("funding finance")
        before = fz.snapshot()
        imports_before = FinanceImport.objects.count()
        response = client.post(upload_url, {"file": SimpleUploadedFile(name, data)})
        if response.status_code != 302:
            assert response.status_code == 400
            assert fz.has_error_summary(response)
            message = fz.error_text(response)
            assert_specific(message)
            assert_refused_as_expected(kind, message)
            assert fz.changes(before, fz.snapshot()) == {}
            return
        assert_not_dangerous(kind)
        assert FinanceImport.objects.count() == imports_before + 1
        finance_import = FinanceImport.objects.latest("pk")
        for problem in finance_import.errors:
            assert problem["row"] >= 2 and problem["column"] and problem["message"].strip()
        preview = client.get(response.url)
        assert preview.status_code in (200, 400)
        actuals_before = MonthlyActual.objects.count()
        response = client.post(response.url, BROWSER)
        finance_import.refresh_from_db()
        after = fz.snapshot()
        if response.status_code == 302:
            assert finance_import.status == ImportStatus.CONFIRMED
            fz.check_saved_rows(before, after)
        else:
            assert response.status_code == 400 and fz.has_error_summary(response)
            message = fz.error_text(response)
            assert_specific(message)
            assert_refused_as_expected(kind, message)
            assert MonthlyActual.objects.count() == actuals_before
            changed = fz.changes(before, after)
            for label in ("funding.FinanceImport", "funding.HistoricalFinanceImport"):
                changed.pop(label, None)
            assert changed == {}, changed

    run()


# --- Monitoring: the return as a spreadsheet -------------------------------------------------

@pytest.fixture
def monitored(world):
    contract = contract_for(world, reference="DH-1", title="Dementia Hub")
    kpi_with_target(contract, code="DH1", name="Referrals")
    percentage_kpi(contract, code="DH2", name="Contacted within 10 working days")
    kpi_with_target(contract, code="DH3", name="Open on Saturdays", data_type=DataType.YES_NO,
                    target=None)
    kpi_with_target(contract, code="DH4", name="Highlights", data_type=DataType.TEXT,
                    target=None)
    kpi_with_target(contract, code="DH5", name="Spend", data_type=DataType.MONEY)
    return contract, quarter()


def test_return_upload_never_fails_and_saves_all_or_nothing(world, client_for, media,
                                                            monitored):
    contract, period = monitored
    client = client_for(world.provider_x_user)
    upload_url = reverse("monitoring:return_upload", args=[contract.pk, period.code])
    figures = one_of_weighted((3, st.integers(min_value=0, max_value=500).map(str)),
                              (1, fz.money_text()), (1, st.sampled_from(("yes", "no", "y"))))
    columns = {
        "kpi_code": st.sampled_from(("DH1", "DH2", "dh3", "DH4", "DH5", "DH9", "", " DH1 ")),
        "kpi_name": st.text(max_size=10),
        "value": figures, "numerator": figures, "denominator": figures,
        "commentary": st.text(max_size=40),
    }
    real = fz.xlsx_from_rows([list(columns), ["DH1", "Referrals", 3, "", "", ""]])
    too_many = many_rows_csv("kpi_code,value,numerator,denominator", "DH1,1,,",
                             20_001)

    @fuzz_settings(130)
    @given(file=any_file(columns, tuple(columns), real, too_many))
    def run(file):
        name, data, kind = file
        fz.count_import("monitoring return")
        before = fz.snapshot()
        response = client.post(upload_url, {"file": SimpleUploadedFile(name, data)})
        after = fz.snapshot()
        if response.status_code == 302:
            assert_not_dangerous(kind)
            assert PerformanceReturn.objects.filter(contract=contract, period=period).exists()
            assert ReturnValue.objects.filter(performance_return__contract=contract).exists()
            fz.check_saved_rows(before, after)
            return
        assert response.status_code == 200
        assert fz.has_error_summary(response)
        message = fz.error_text(response)
        assert_specific(message)
        assert_refused_as_expected(kind, message)
        assert fz.changes(before, after) == {}

    run()


# --- Monitoring: NHS numbers of people supported ---------------------------------------------

def test_service_users_upload_never_fails_and_saves_all_or_nothing(world, client_for, media,
                                                                   monitored):
    contract, period = monitored
    client = client_for(world.provider_x_user)
    upload_url = reverse("monitoring:service_users_upload", args=[contract.pk, period.code])
    valid = st.integers(min_value=100_000_000, max_value=999_999_999).map(nhs_number).filter(
        bool)
    numbers = one_of_weighted(
        (4, valid),
        (2, valid.map(lambda n: f"{n[:3]} {n[3:6]} {n[6:]}")),
        (1, valid.map(lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}")),
        (1, st.integers(min_value=0, max_value=10 ** 11).map(str)),
        (1, fz.cell_text()),
    )
    columns = {"NHS number": numbers, "Name": st.text(max_size=10)}
    real = fz.xlsx_from_rows([["NHS number"], ["9434765919"]])
    too_many = many_rows_csv("NHS number", "9434765919", 100_001)

    @fuzz_settings(100)
    @given(file=any_file(columns, tuple(columns), real, too_many))
    def run(file):
        name, data, kind = file
        fz.count_import("monitoring service users")
        before = fz.snapshot()
        response = client.post(upload_url, {"file": SimpleUploadedFile(name, data)})
        after = fz.snapshot()
        if response.status_code == 302:
            assert_not_dangerous(kind)
            assert ServiceUserList.objects.filter(contract=contract, period=period).exists()
            fz.check_saved_rows(before, after)
            return
        assert response.status_code == 200
        assert fz.has_error_summary(response)
        message = fz.error_text(response)
        assert_specific(message)
        assert_refused_as_expected(kind, message, csv_only=True)
        assert fz.changes(before, after) == {}

    run()
