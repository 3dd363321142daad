"""Production parity: the production configuration, run for real, used over HTTPS.

``scripts/prod-parity.sh`` starts it (DEBUG=false, collectstatic with the manifest storage,
gunicorn with TLS on 127.0.0.1, a celery worker and beat on Redis, PostgreSQL with the demo
data, an SMTP server on loopback) and runs this module; without it the module is skipped.
Everything here goes through the pages as a person would: signing in through the sign-in
form (setting up the authenticator from the setup key the page shows), following links by
their text and filling in only the fields the forms render. Every PDF kind is produced and
read back; every spreadsheet export is downloaded and opened; a password-reset e-mail is
received over SMTP and its link followed.
"""

from __future__ import annotations

import csv
import io
import json
import mailbox
import os
import re
import time
from base64 import b32decode
from email.message import Message
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from pypdf import PdfReader

from commissioning.tests.browser import totp_code, wait_for_a_fresh_step
from commissioning.tests.http_pages import Page

pytestmark = [
    pytest.mark.prodparity,
    pytest.mark.skipif(not os.environ.get("PROD_PARITY_URL"),
                       reason="run by scripts/prod-parity.sh against the production set-up"),
]

PASSWORD = "Demo-commissioning-2026"
REPORT_OFFICER = "report.officer@bromley.example.org"
COMMISSIONER = "josepha.reynolds@bromley.example.org"
PROVIDER = "submitter@bromleywell.example.org"
VIEWER = "viewer@bromley.example.org"
PARTNERSHIP = "Bromley"
AGREEMENT = "Bromley Section 75 Partnership Agreement"


class Browser:
    """One person's HTTPS session with the running server (cookies kept, CA trusted)."""

    def __init__(self, base: str, ca: str) -> None:
        self.base = base
        self.ca = ca  # passed on each request: REQUESTS_CA_BUNDLE would win over Session.verify
        self.http = requests.Session()

    def get(self, url: str, **kwargs) -> Page:
        response = self.http.get(self._absolute(url), timeout=60, verify=self.ca, **kwargs)
        assert response.status_code == 200, (url, response.status_code, response.text[:2000])
        return Page(response)

    def download(self, url: str, *, attachment: bool = True):
        response = self.http.get(self._absolute(url), timeout=120, verify=self.ca)
        assert response.status_code == 200, (url, response.status_code, response.text[:2000])
        if attachment:  # a download: named safely, never kept by a cache or the browser
            assert response.headers["Content-Disposition"].startswith('attachment; filename="')
            cache = {d.strip() for d in response.headers["Cache-Control"].split(",")}
            assert {"private", "no-store"} <= cache, (url, cache)
        return response

    def submit(self, page: Page, button: str, **fields: str) -> Page:
        form = page.form(button)
        for name, value in fields.items():
            form.fill(name, value)
        return self.send(form, button)

    def send(self, form, button: str) -> Page:
        assert form.method == "post", form
        response = self.http.post(form.action, data=form.data(button), timeout=120, verify=self.ca,
                                  headers={"Referer": form.action})
        assert response.status_code in (200, 400), (form.action, response.status_code,
                                                    response.text[:3000])
        return Page(response)

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else self.base + url


@pytest.fixture(scope="module")
def site() -> dict:
    return {"base": os.environ["PROD_PARITY_URL"], "ca": os.environ["PROD_PARITY_CA"],
            "mail": Path(os.environ["PROD_PARITY_MAIL"]),
            "logs": Path(os.environ["PROD_PARITY_LOGS"])}


def totp_now(key: bytes) -> str:
    wait_for_a_fresh_step()
    return totp_code(key)


def sign_in(site: dict, email: str, password: str = PASSWORD) -> Browser:
    """Through the sign-in form; a commissioner-side user then sets up an authenticator
    from the setup key the page shows, as a person typing it into an app would."""
    browser = Browser(site["base"], site["ca"])
    page = browser.get("/sign-in/")
    page = browser.submit(page, "Sign in", username=email, password=password)
    assert "two-factor" in page.url or "Sign out" in page.text, page.text[:1000]
    keys = site["logs"] / "authenticator-keys.json"  # so a re-run (PROD_PARITY_HOLD) can sign in
    known = json.loads(keys.read_text()) if keys.exists() else {}
    if "/two-factor/verify/" in page.url:
        time.sleep(30 - time.time() % 30 + 0.2)  # a new code: each code works only once
        page = browser.submit(page, "Continue",
                              otp_token=totp_now(b32decode(known[email])))
    elif "/two-factor/setup/" in page.url:
        key_text = re.search(r'govuk-details__text">[^<]*<strong[^>]*>([A-Z2-7 ]+)</strong>',
                             page.html).group(1)
        compact = key_text.replace(" ", "")
        key = b32decode(compact + "=" * (-len(compact) % 8))
        keys.write_text(json.dumps({**known, email: compact + "=" * (-len(compact) % 8)}))
        page = browser.submit(page, "Continue", otp_token=totp_now(key))
        assert "backup codes" in page.text.lower(), page.text[:1000]
        page = browser.get(page.link("I have saved my backup codes"))
    assert "Sign out" in page.text, page.text[:1000]
    return browser


@pytest.fixture(scope="module")
def report_officer(site) -> Browser:
    return sign_in(site, REPORT_OFFICER)


@pytest.fixture(scope="module")
def commissioner(site) -> Browser:
    return sign_in(site, COMMISSIONER)


def pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def assert_pdf(response, *expected: str) -> str:
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text, pages = pdf_text(response.content)
    assert pages >= 1
    flat = " ".join(text.split())
    for phrase in expected:
        assert phrase in flat, (phrase, flat[:2000])
    return flat


def test_it_serves_the_collected_hashed_static_files(site, report_officer):
    page = report_officer.get("/")
    sheets = re.findall(r'href="(/static/[^"]+\.css)"', page.html)
    assert sheets and all(re.search(r"\.[0-9a-f]{12}\.css$", s) for s in sheets), sheets
    response = report_officer.download(sheets[0], attachment=False)
    assert "text/css" in response.headers["Content-Type"]
    assert "no-store" not in response.headers.get("Cache-Control", "")  # cached for long
    headers = page.response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "camera=()" in headers["Permissions-Policy"]
    assert {"private", "no-store"} <= {d.strip() for d in headers["Cache-Control"].split(",")}


def test_it_produces_the_monthly_report_through_the_worker(site, report_officer):
    page = report_officer.get("/reports/")
    form = page.form("Produce report")
    partnership = next(f for f in form.fields if f.name == "partnership")
    form.fill("partnership", next(label for _value, label in partnership.options
                                  if PARTNERSHIP in label))
    status = report_officer.send(form, "Produce report")
    assert "/reports/monthly/" in status.url, status.text[:1000]
    deadline = time.monotonic() + 240
    while "Download the report (PDF)" not in status.text:
        assert "could not be produced" not in status.text, status.text[:3000]
        assert time.monotonic() < deadline, "the worker did not finish the report in 240 s"
        time.sleep(2)
        status = report_officer.get(status.url)
    download = report_officer.download(status.link("Download the report (PDF)"))
    text = assert_pdf(download, "Joint monitoring report")
    assert re.search(r"Page 1 of \d+", text), text[:1000]


def test_it_exports_committee_report_parts_1_and_2(site, report_officer):
    contracts = report_officer.get("/contracts/")
    contract = report_officer.get(contracts.link("CS17033-PSIS"))  # a Bromley Well contract
    start = report_officer.get(contract.link("Write a committee report"))
    form = start.form("Create")
    decision_maker = next(f for f in form.fields if f.name == "decision_maker")
    form.fill("report_type", "performance").fill(
        "decision_maker", next(label for value, label in decision_maker.options if value))
    form.fill("meeting_name", "Adult Care and Health PDS Committee")
    form.fill("meeting_date", "04/07/2027").fill("chief_officer", "Director of Adult Care")
    draft = report_officer.send(form, "Create")
    assert "/reports/committee/" in draft.url, draft.text[:2000]
    # Mark the first section exempt (Part 2) with text that only Part 2 may show.
    form = draft.form("Save")
    first = next(f.name for f in form.fields if f.name.startswith("body-"))
    key = first.removeprefix("body-")
    form.fill(first, "Commercially sensitive pricing schedule for the prime provider.")
    form.tick(f"exempt-{key}")
    saved = report_officer.send(form, "Save")
    assert "Draft saved" in saved.text, saved.text[:2000]
    saved = report_officer.submit(saved, "Export Part 1 PDF")
    assert "exported" in saved.text, saved.text[:2000]
    saved = report_officer.submit(saved, "Export Part 2 (exempt) PDF")
    assert "exported" in saved.text, saved.text[:2000]
    part1 = report_officer.download(saved.link("Part 1"))
    part2 = report_officer.download(saved.link("Part 2"))
    text1 = assert_pdf(part1)
    text2 = assert_pdf(part2, "Commercially sensitive pricing schedule")
    assert "Commercially sensitive pricing schedule" not in text1
    assert text1 != text2


def test_it_downloads_the_pooled_fund_statement_pdf(site, commissioner):
    agreements = commissioner.get("/funding/")
    agreement = commissioner.get(agreements.link(AGREEMENT))
    statement = commissioner.get(agreement.link("Pooled fund statement"))
    download = commissioner.download(statement.link("Download as PDF"))
    assert_pdf(download, "pooled")


def _csv(response) -> list[list[str]]:
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response) -> list[list]:
    assert "spreadsheetml" in response.headers["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_it_exports_every_spreadsheet(site, commissioner):
    register = commissioner.get("/contracts/")
    rows = _csv(commissioner.download(register.link("CSV", exact=True)))
    assert len(rows) > 2
    sheet = _xlsx(commissioner.download(register.link("Excel", exact=True)))
    assert len(sheet) == len(rows) and sheet[0][0] == rows[0][0]
    package = json.loads(commissioner.download(register.link("OCDS JSON")).content)
    assert package["releases"]
    contract_url = register.link("CS17033-PSIS")
    contract_pk = re.search(r"/contracts/(\d+)/", contract_url).group(1)
    one = json.loads(commissioner.download(f"/contracts/{contract_pk}/ocds.json").content)
    assert len(one["releases"]) == 1
    # Performance overview and a contract's KPIs.
    overview = commissioner.get("/monitoring/")
    assert len(_csv(commissioner.download(overview.link("Download CSV")))) > 1
    _xlsx(commissioner.download(overview.link("Download Excel")))
    performance = commissioner.get(f"/monitoring/contracts/{contract_pk}/")
    assert len(_csv(commissioner.download(performance.link("Download KPIs (CSV)")))) > 1
    _xlsx(commissioner.download(performance.link("(Excel)")))
    # A Procurement Act performance assessment, drafted from the year's returns.
    assessment = commissioner.submit(performance,
                                     "Draft an assessment from the year's returns")
    assert "/monitoring/assessments/" in assessment.url, assessment.text[:2000]
    notice = _csv(commissioner.download(
        assessment.link("Download for the contract performance notice (CSV)")))
    assert len(notice) > 1
    # The Better Care Fund expenditure plan.
    agreements = commissioner.get("/funding/")
    agreement = commissioner.get(agreements.link(AGREEMENT))
    plan = commissioner.get(agreement.link("Better Care Fund plan"))
    assert len(_csv(commissioner.download(plan.link("Download CSV")))) > 1
    _xlsx(commissioner.download(plan.link("Download Excel")))


def test_a_change_shows_at_once_on_the_remembered_register(site, commissioner):
    """The register's list is remembered in Redis for everyone who sees the same contracts
    (commissioning.datacache); a change saved through the pages, by whichever gunicorn worker,
    shows on the next register page, in the production set-up."""
    colleague = sign_in(site, VIEWER)  # the same council, another person (and role)
    for person in (commissioner, colleague, commissioner):
        register = person.get("/contracts/")
    contract = commissioner.get(register.link("CS17033-PSIS"))
    form = commissioner.get(contract.link("Change details")).form("Save changes")
    title = next(f.value for f in form.fields if f.name == "title")
    renamed = f"{title} (renamed in the parity run)"
    try:
        commissioner.send(form.fill("title", renamed), "Save changes")
        for person in (commissioner, colleague):
            assert renamed in person.get("/contracts/").text
    finally:
        form = commissioner.get(contract.link("Change details")).form("Save changes")
        commissioner.send(form.fill("title", title), "Save changes")
    for person in (commissioner, colleague):
        page = person.get("/contracts/").text
        assert title in page and renamed not in page


def test_a_provider_downloads_the_return_template(site):
    provider = sign_in(site, PROVIDER)
    returns = provider.get("/returns/")
    due = next(href for text, href in returns.links if "/returns/" in href and re.search(
        r"/returns/\d+/[\w-]+/$", href))
    form = provider.get(due)
    rows = _csv(provider.download(form.link("download the template (CSV)")))
    assert rows[0][0] and len(rows) > 1
    sheet = _xlsx(provider.download(form.link("(Excel)")))
    assert len(sheet) == len(rows) and sheet[1][0] == rows[1][0]


def _messages_to(maildir: Path, address: str) -> list[Message]:
    box = mailbox.Maildir(maildir, create=False)
    return [message for message in box if address in message.get("To", "")]


def test_a_password_reset_e_mail_arrives_over_smtp_and_its_link_works(site):
    browser = Browser(site["base"], site["ca"])
    page = browser.get("/password-reset/")
    sent = browser.submit(page, "Send reset link", email=VIEWER)
    assert "/password-reset/sent/" in sent.url
    deadline = time.monotonic() + 60
    while not (messages := _messages_to(site["mail"], VIEWER)):
        assert time.monotonic() < deadline, "no reset e-mail reached the SMTP server in 60 s"
        time.sleep(0.5)
    body = messages[-1].get_payload(decode=True).decode()
    link = re.search(r"https://127\.0\.0\.1:\d+/password-reset/\S+/\S+/", body).group(0)
    assert link.startswith(site["base"])
    choose = browser.get(link)
    new_password = "Another-reset-password-2027"
    done = browser.submit(choose, "Save password", new_password1=new_password,
                          new_password2=new_password)
    assert "/password-reset/complete/" in done.url, done.text[:2000]
    again = sign_in(site, VIEWER, new_password)
    assert "Sign out" in again.get("/").text


def test_the_worker_beat_and_mail_server_are_still_running(site):
    for pid in os.environ["PROD_PARITY_PIDS"].split():
        os.kill(int(pid), 0)  # raises if the process has gone
    beat = (site["logs"] / "beat.log").read_text()
    assert "beat: Starting" in beat
    worker = (site["logs"] / "worker.log").read_text()
    assert "ready." in worker
