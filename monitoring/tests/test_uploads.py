"""Spreadsheet returns, evidence files and NHS number lists."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from commissioning.tests import hostile_files as hostile
from contracts.tests.factories import contract_for
from monitoring.models import (
    Evidence,
    PerformanceReturn,
    PseudonymisedServiceUser,
    ReturnValue,
    ServiceUserList,
)
from monitoring.tests.factories import kpi_with_target, percentage_kpi, quarter


@pytest.fixture
def setup(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = contract_for(world, reference="DH-1", title="Dementia Hub")
    count = kpi_with_target(contract, code="DH1", name="Referrals")
    pct = percentage_kpi(contract, code="DH2", name="Contacted within 10 working days")
    return world, contract, count, pct, quarter()


def url(name, contract, period, *extra):
    return reverse(f"monitoring:{name}", args=[contract.pk, period.code, *extra])


def upload(client, contract, period, name, content: bytes):
    return client.post(url("return_upload", contract, period),
                       {"file": SimpleUploadedFile(name, content)})


def test_it_offers_the_template_as_csv_and_xlsx(setup, client_for):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    csv_file = client.get(url("return_template", contract, period, "csv"))
    text = b"".join(csv_file.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffkpi_code,kpi_name,value,numerator,denominator,commentary")
    assert "DH1,Referrals" in text and "DH2,Contacted within 10 working days" in text
    xlsx = client.get(url("return_template", contract, period, "xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [c.value for c in sheet[2]][:2] == ["DH1", "Referrals"]


def test_it_imports_a_csv_return_as_a_draft(setup, client_for):
    world, contract, count, pct, period = setup
    response = upload(client_for(world.provider_x_user), contract, period, "r.csv",
                      b"kpi_code,value,numerator,denominator,commentary\n"
                      b"DH1,181,,,Busy\nDH2,,45,50,\n")
    assert response.status_code == 302
    ret = PerformanceReturn.objects.get()
    assert ReturnValue.objects.get(performance_return=ret, kpi=count).value == Decimal("181")
    assert ReturnValue.objects.get(performance_return=ret, kpi=pct).value == Decimal("90.00")


def test_it_imports_an_xlsx_return(setup, client_for):
    world, contract, _count, pct, period = setup
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"])
    sheet.append(["DH1", "Referrals", 150, None, None, None])
    sheet.append(["DH2", "Contacted", None, 30, 40, "ok"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(client_for(world.provider_x_user), contract, period, "r.xlsx",
                      buffer.getvalue())
    assert response.status_code == 302
    assert ReturnValue.objects.get(kpi=pct).value == Decimal("75.00")


def test_it_reports_every_row_and_column_error_and_saves_nothing(setup, client_for):
    world, contract, _count, _pct, period = setup
    response = upload(client_for(world.provider_x_user), contract, period, "r.csv",
                      b"kpi_code,value,numerator,denominator\n"
                      b"DH1,lots,,\nXX9,1,,\nDH2,,60,50\nDH1,-4,,\n")
    text = response.content.decode()
    assert response.status_code == 200
    assert "&#x27;lots&#x27; is not a number" in text
    assert "XX9 is not a KPI of this contract" in text
    assert "The numerator must not be more than the denominator" in text
    assert "appears more than once" in text
    assert "Nothing was saved" in text
    assert not PerformanceReturn.objects.exists()


def test_a_spreadsheet_figure_has_the_limits_of_the_form(setup, client_for):
    """Issue 14: the spreadsheet return read its figures with its own parser, which took
    three decimal places and figures too large for the database that the page refuses; one
    parser (commissioning.inputs.parse_figure) now reads both, in the same words."""
    world, contract, _count, _pct, period = setup
    response = upload(client_for(world.provider_x_user), contract, period, "r.csv",
                      b"kpi_code,value,numerator,denominator\n"
                      b"DH1,1.234,,\nDH2,,1000000000000,1000000000001\n")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Value must have no more than 2 decimal places" in text
    assert "Numerator is too large" in text
    assert "Nothing was saved" in text
    assert not PerformanceReturn.objects.exists()


def test_it_refuses_missing_columns_and_files_that_are_not_spreadsheets(setup, client_for):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    text = upload(client, contract, period, "r.csv", b"code,amount\nDH1,4\n").content.decode()
    assert "Missing columns: kpi_code, value, numerator, denominator" in text
    text = upload(client, contract, period, "r.xlsx", b"not really a workbook").content.decode()
    assert "not a real XLSX file" in text
    assert not PerformanceReturn.objects.exists()


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_evidence_is_checked_by_signature_and_size_and_stored_under_a_random_name(
    setup, client_for, settings
):
    world, contract, count, _pct, period = setup
    client = client_for(world.provider_x_user)
    evidence_url = url("evidence_upload", contract, period)
    fake = client.post(evidence_url, {"file": SimpleUploadedFile("report.pdf", b"MZ\x90\x00")})
    assert "not a real PDF file" in fake.content.decode()
    exe = client.post(evidence_url, {"file": SimpleUploadedFile("run.exe", b"%PDF-1.4")})
    assert "must be a PDF, Word (DOCX), Excel (XLSX) or CSV file" in exe.content.decode()
    settings.MAX_UPLOAD_BYTES = 1024
    big = client.post(evidence_url, {"file": SimpleUploadedFile("big.pdf",
                                                                 b"%PDF-1.4" + b"x" * 2000)})
    assert "must be smaller than" in big.content.decode()
    settings.MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    assert not Evidence.objects.exists()
    ok = client.post(evidence_url, {"file": SimpleUploadedFile("Q1 survey.docx", _docx()),
                                    "kpi": count.pk})
    assert ok.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.original_name == "Q1 survey.docx"
    assert "survey" not in evidence.file.name and evidence.kpi == count


def test_evidence_downloads_only_through_the_permission_checked_view(setup, client_for):
    world, contract, _count, _pct, period = setup
    client_for(world.provider_x_user).post(
        url("evidence_upload", contract, period),
        {"file": SimpleUploadedFile("e.pdf", b"%PDF-1.4 evidence")})
    evidence = Evidence.objects.get()
    download = evidence.get_absolute_url()
    # The ICB shares the contract (a party); a partner without a share would get a 404.
    contract.shares.create(organisation=world.icb_a, share_percent=Decimal("40"))
    for user in (world.provider_x_user, world.commissioner_a, world.icb_commissioner_a):
        response = client_for(user).get(download)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content) == b"%PDF-1.4 evidence"
    for user in (world.provider_y_user, world.commissioner_b, world.outsider):
        assert client_for(user).get(download).status_code == 404


def test_nhs_numbers_are_validated_by_row_and_stored_only_as_keyed_hashes(setup, client_for):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    target = url("service_users_upload", contract, period)
    bad = client.post(target, {"file": SimpleUploadedFile(
        "n.csv", b"NHS number\n943 476 5919\n9434765918\n12345\n")})
    text = bad.content.decode()
    assert "This is not a valid NHS number" in text and "must be 10 digits" in text
    assert "<td class=\"govuk-table__cell\">3</td>" in text
    assert not ServiceUserList.objects.exists()
    good = client.post(target, {"file": SimpleUploadedFile(
        "n.csv", b"NHS number\n943 476 5919\n943-476-5919\n4010232137\n")})
    assert good.status_code == 302
    service_list = ServiceUserList.objects.get()
    assert service_list.count == 2
    hashes = list(PseudonymisedServiceUser.objects.values_list("nhs_number_hash", flat=True))
    assert all(len(h) == 64 and "9434765919" not in h for h in hashes)


def test_the_report_shows_counts_and_overlaps_never_numbers(setup, client_for):
    world, contract, _count, _pct, period = setup
    other = contract_for(world, reference="BW-9", title="Bromley Well carers")
    kpi_with_target(other)
    provider = client_for(world.provider_x_user)
    provider.post(url("service_users_upload", contract, period), {"file": SimpleUploadedFile(
        "a.csv", b"9434765919\n4010232137\n")})
    provider.post(url("service_users_upload", other, period), {"file": SimpleUploadedFile(
        "b.csv", b"9434765919\n")})
    page = client_for(world.commissioner_a).get(reverse("monitoring:service_users"))
    text = page.content.decode()
    assert "DH-1 Dementia Hub" in text and "BW-9 Bromley Well carers" in text
    assert "9434765919" not in text and "943 476 5919" not in text
    assert "People in both" in text
    assert client_for(world.provider_x_user).get(
        reverse("monitoring:service_users")).status_code == 404
    assert "DH-1" not in client_for(world.commissioner_b).get(
        reverse("monitoring:service_users")).content.decode()


# --- Hostile files (built here): refused next to the file field, nothing saved ----------------

def test_evidence_refuses_a_zip_bomb_and_stores_nothing(setup, client_for, settings):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    evidence_url = url("evidence_upload", contract, period)
    page = client.get(evidence_url).content.decode()
    assert 'type="file"' in page and 'name="file"' in page
    bomb = hostile.zip_bomb_xlsx(150)
    response = client.post(evidence_url, {"file": SimpleUploadedFile("survey.xlsx", bomb)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body and "govuk-error-message" in body
    assert "The selected file is too large when uncompressed" in body
    assert not Evidence.objects.exists()
    assert not PerformanceReturn.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_return_spreadsheet_is_refused_at_its_row_limit_while_it_is_read(setup, client_for):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    assert 'name="file"' in client.get(url("return_upload", contract, period)).content.decode()
    # Malformed XML follows row 1,002: a reader that only counts rows after reading the whole
    # sheet never gets to the count.
    data = hostile.rows_then_garbage_xlsx(
        ["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"],
        ["DH1", "Referrals", 4, "", "", ""], rows=1_001)
    body = upload(client, contract, period, "return.xlsx", data).content.decode()
    assert "The file has more than 1,000 rows. Use the template: one row for each KPI" in body
    assert "govuk-error-summary" in body
    assert not PerformanceReturn.objects.exists()


def test_a_return_spreadsheet_with_a_row_wider_than_any_template_is_refused(setup, client_for):
    world, contract, _count, _pct, period = setup
    client = client_for(world.provider_x_user)
    body = upload(client, contract, period, "return.xlsx",
                  hostile.wide_row_xlsx(200_000)).content.decode()
    assert "The file has more than 50 columns" in body
    assert not PerformanceReturn.objects.exists()
