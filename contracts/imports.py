"""Reading an existing contract register from a CSV or XLSX file, and checking every row.

The file is checked and read by ``commissioning.uploads`` (size, type by content, archive
checks, and the sheet streamed with the row, column and cell limits below enforced while it is
read); this module knows what a register's rows mean.

Every problem is reported with the spreadsheet row number and the file's column name, so the
user can fix the whole file in one go. Organisations and existing references are loaded once
up front: checking a row costs no database query. Nothing here writes to the database.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from commissioning import identifiers, uploads
from commissioning.inputs import AmountError, money_message, parse_money
from commissioning.models import (
    Organisation,
    OrganisationKind,
    Partnership,
    PartnershipMember,
    User,
)
from commissioning.spreadsheets import FORMULA_STARTS
from contracts import cpv, procurement_words, validation
from contracts.models import (
    Contract,
    ContractStatus,
    ProcurementRoute,
    ServiceArea,
)

MAX_ROWS = 20_000
MAX_COLUMNS = 100
MAX_CELLS = 600_000  # 20,000 rows of 30 columns
ASYNC_ROWS = 1_000  # larger files are checked and imported by a Celery task


# The file as a whole cannot be used; the message says why and what to do.
ImportFileError = uploads.UploadRefused


# --- Fields the register needs, and the column names registers commonly use ------------------
#
# The Local Government Transparency Code's contracts register headings come first in each
# list ("Contract reference number", "Title of agreement", "Service category label",
# "Organisation label", "Extension period (months)", "VAT that cannot be recovered" ...), then
# the variants councils use.

@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""
    money: bool = False


ORGANISATION_HEADINGS = ("organisation label", "organisation name", "organisation",
                         "local authority", "council", "authority")

FIELDS: tuple[ImportField, ...] = (
    ImportField("reference", "Contract reference", True,
                ("contract reference number", "reference number", "reference", "ref",
                 "contract reference", "contract ref", "contract id", "contract number",
                 "contract no", "contract ref no")),
    ImportField("title", "Title", True,
                ("title of agreement", "title", "contract title", "contract name", "name",
                 "service name", "agreement title")),
    ImportField("description", "Description", False,
                ("description of goods and services", "description of the goods or services",
                 "description", "contract description", "details", "scope", "summary")),
    ImportField("service_area", "Service area", True,
                ("service category label", "service category", "service area", "department",
                 "department responsible", "responsible department",
                 "department / service area", "department service area", "directorate",
                 "service", "category"),
                "Adult social care, Children's services, Public health, Mental health, "
                "Learning disability, Carers, Community health or Other"),
    ImportField("provider", "Provider", True,
                ("supplier name", "provider", "supplier", "provider name", "name of supplier",
                 "contractor", "vendor")),
    ImportField("provider_registration_number", "Provider's company number", False,
                ("supplier registered company number", "supplier company number",
                 "company number", "companies house number", "company registration number",
                 "provider company number")),
    # A column that may hold either: a company number or a charity number, told by its shape.
    ImportField("provider_registration", "Provider's registration number", False,
                ("supplier registration number", "provider registration number",
                 "registration number"),
                "A Companies House number (like 01234567 or SC123456) or a charity number "
                "(like 1123456)"),
    ImportField("provider_charity_number", "Provider's charity number", False,
                ("supplier registered charity number", "supplier charity number",
                 "charity number", "charity registration number",
                 "registered charity number")),
    ImportField("provider_ppon", "Provider's PPON", False,
                ("supplier ppon", "ppon", "provider ppon", "supplier ppon number",
                 "public procurement organisation number",
                 "supplier public procurement organisation number"),
                "From the Central Digital Platform, like PHDQ-2359-NZMP"),
    ImportField("provider_sme", "Provider is an SME", False,
                ("sme", "sme supplier type", "supplier is an sme", "is the supplier an sme",
                 "sme (y/n)", "small or medium enterprise", "sme status"),
                "Yes or No, for providers new to the service"),
    ImportField("provider_vcse", "Provider is a VCSE", False,
                ("vcse", "vcse supplier type", "supplier is a vcse", "is the supplier a vcse",
                 "vcse (y/n)", "voluntary community or social enterprise", "vcse status"),
                "Yes or No, for providers new to the service"),
    ImportField("holder", "Contract holder", True,
                ("contract holder", "holder", "contracting authority", "buyer",
                 "contracting organisation", *ORGANISATION_HEADINGS)),
    ImportField("lead_commissioner", "Lead commissioner", True,
                ("lead commissioner", "lead", "commissioner", "lead organisation",
                 *ORGANISATION_HEADINGS)),
    ImportField("procurement_regime", "Procurement regime", False,
                ("procurement regime", "regime", "regulations", "procurement regulations")),
    ImportField("procurement_route", "Procurement route", True,
                ("procurement route", "procurement process", "route", "procurement method",
                 "procedure", "method", "procurement procedure", "route to market",
                 "procedure type", "procurement type"),
                "For example Open procedure, Light touch regime, Negotiated without notice, "
                "Framework call-off, Direct Award C, Grant"),
    ImportField("tendered", "Tendered", False, ("tendered", "tendered?", "competitively tendered")),
    ImportField("status", "Status", False, ("status", "contract status")),
    ImportField("start_date", "Start date", True,
                ("contract start date", "start date", "start", "contract start",
                 "commencement date")),
    ImportField("end_date", "End date", True,
                ("contract end date", "end date", "end", "expiry date", "contract end",
                 "initial end date", "end date of initial term")),
    ImportField("extension_options", "Extension options (months)", False,
                ("extension period (months)", "extension period", "extension options",
                 "extension options (months)", "extensions", "extension",
                 "possible extension (months)", "optional extension (months)")),
    ImportField("notice_period_months", "Notice period (months)", False,
                ("notice period", "notice period (months)", "notice period months")),
    ImportField("annual_value", "Annual value", True,
                ("annual value", "annual value (£)", "annual contract value",
                 "value per annum", "value p/a", "annual value £", "value"), money=True),
    ImportField("vat_not_recoverable", "VAT not recoverable", False,
                ("vat that cannot be recovered", "vat not recoverable",
                 "vat not recoverable (£)", "irrecoverable vat", "non-recoverable vat"),
                money=True),
    ImportField("review_date", "Review date", False, ("review date", "next review date",
                                                      "next review")),
    ImportField("service_lines", "Service lines", False,
                ("service lines", "pathways", "service lines / pathways"),
                "Separated by semicolons"),
    # Not "CPV label" (the Transparency Code's column of words, not codes).
    ImportField("cpv_codes", "CPV codes", False,
                ("cpv", "cpv code", "cpv codes", "cpv code(s)", "classification",
                 "cpv classification", "main cpv code", "cpv codes (main first)"),
                "8-digit codes from the CPV 2008 list, the main one first, separated by "
                "semicolons or commas, like 85311000-2; 85312000"),
    ImportField("find_a_tender_notice_id", "Find a Tender notice", False,
                ("fts notice", "fts notice id", "fts notice identifier", "fts notice number",
                 "fts reference", "find a tender reference", "find a tender notice",
                 "find a tender notice id", "find a tender notice identifier",
                 "find a tender notice reference", "notice id", "notice identifier",
                 "notice reference", "contract award notice", "contract details notice"),
                "Like 012345-2025 or 2025/S 000-012345"),
    ImportField("find_a_tender_procedure_id", "Find a Tender procedure", False,
                ("fts procedure", "fts procurement identifier", "fts ocid",
                 "find a tender procedure", "find a tender procurement identifier",
                 "find a tender ocid", "procurement identifier", "procurement id",
                 "procedure identifier", "ocid"),
                "Its OCID, like ocds-h6vhtk-04f3a1"),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED_FIELDS = tuple(f.name for f in FIELDS if f.required)
# Fields that may read the same column as another field (a register's one organisation
# column is both the contract holder and the lead commissioner).
SHARED_COLUMNS = frozenset({"holder", "lead_commissioner"})


def normalise_header(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text or "").casefold())


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Field → header for the headers that match a field's common names. A header is used
    once (the holder and lead commissioner may share one); exact names win over aliases."""
    by_normal: dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(normalise_header(header), header)
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for pass_names in ("label", "aliases"):
        for fld in FIELDS:
            if fld.name in mapping:
                continue
            names = [fld.label] if pass_names == "label" else list(fld.aliases)
            for name in names:
                header = by_normal.get(normalise_header(name))
                if header is not None and (header not in used or (fld.name in SHARED_COLUMNS
                                           and mapping.get("holder") == header)):
                    mapping[fld.name] = header
                    used.add(header)
                    break
    return mapping


def column_of(mapping: dict[str, object], name: str) -> str | None:
    """The file's column a field reads, or None (not in the file, or the same value for
    every row)."""
    value = mapping.get(name)
    return value if isinstance(value, str) and value else None


def fixed_value(mapping: dict[str, object], name: str) -> str | None:
    """The value chosen on the mapping page for every row, or None."""
    value = mapping.get(name)
    return value.get("value") if isinstance(value, dict) else None


# --- Reading the file ------------------------------------------------------------------------

@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[list[object]]  # data rows, in file order
    numbers: list[int] = field(default_factory=list)  # each row's number in the file

    def number(self, index: int) -> int:
        return self.numbers[index] if self.numbers else index + 2


# A register saved without an extension is read as the CSV it almost always is.
REGISTER_FILE_TYPES = {**uploads.file_types(".csv", ".txt", ".xlsx"),
                       "": uploads.file_types(".csv")[".csv"]}
REGISTER_FILES = "a CSV or XLSX file"


def _header_row(cells: list[object]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        text = str(cell).strip() if cell is not None else ""
        text = text or f"Column {index}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        headers.append(text)
    while headers and headers[-1].startswith("Column ") and not cells[len(headers) - 1]:
        headers.pop()
    return headers


def read_table(name: str, data: bytes) -> Table:
    """Check the file and read its first sheet: headers and data rows (blank rows skipped).
    A formula in an XLSX cell is read as its text, as the same cell reads in a CSV."""
    file = io.BytesIO(data)
    kind = uploads.check_file(file, name=name, allowed=REGISTER_FILE_TYPES,
                              description=REGISTER_FILES).family
    limits = uploads.Limits(rows=MAX_ROWS, columns=MAX_COLUMNS, cells=MAX_CELLS,
                            advice=f"Split it into files of up to {MAX_ROWS:,} rows")
    headers: list[str] | None = None
    rows: list[list[object]] = []
    numbers: list[int] = []
    for number, cells in uploads.read_rows(file, kind, limits, encodings=("utf-8-sig", "cp1252"),
                                           delimiters=",;\t", formulas=True):
        if headers is None:
            headers = _header_row(cells)
            continue
        if kind == uploads.XLSX:
            rows.append(list(cells[:len(headers)]))
            numbers.append(number)
            continue
        if len(cells) > len(headers) and not uploads.is_blank(cells[len(headers):]):
            raise ImportFileError(
                f"Row {number}: the row has {len(cells)} values but the header row has "
                f"{len(headers)} columns. Check for a missing quote or an extra comma"
            )
        rows.append(cells)
        numbers.append(number)
    where = "The first worksheet" if kind == uploads.XLSX else "The selected file"
    if not headers:
        raise ImportFileError(f"{where} has no header row")
    if not rows:
        raise ImportFileError(f"{where} has a header row but no contracts")
    return Table("xlsx" if kind == uploads.XLSX else "csv", headers, rows, numbers)


# --- Parsing cells ---------------------------------------------------------------------------
#
# These turn a cell into a Python value and say so when they cannot ("31/02/2021", "£75k").
# Whether the value is allowed (an end before the start, a negative amount, a route outside
# its regime ...) is the register's rule, asked of ``contracts.validation`` for every row.

class CellError(ValueError):
    pass


MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})
MONTHS["sept"] = 9
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")
_TEXT_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([a-z]+)\.?,?[\s\-]+(\d{2}|\d{4})$")
DATE_HINT = "like 01/04/2021, 1 April 2021 or 2021-04-01"


def parse_date(value: object, noun: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().casefold()
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _NUMERIC_DATE.match(text):
            year = int(match[3])
            return date(year + 2000 if year < 100 else year, int(match[2]), int(match[1]))
        if (match := _TEXT_DATE.match(text)) and match[2] in MONTHS:
            year = int(match[3])
            return date(year + 2000 if year < 100 else year, MONTHS[match[2]], int(match[1]))
    except ValueError:
        raise CellError(f"Enter the {noun} as a real date, {DATE_HINT}") from None
    raise CellError(f"Enter the {noun} as a date, {DATE_HINT}")


def parse_amount(value: object, noun: str) -> Decimal | None:
    """Pounds, read by the forms' own parser (``commissioning.inputs.parse_money``): 2700000,
    "£ 450,000", "1,234,567.50"; "£75k" is refused with its reason, and a negative amount by
    the register's rule (``validation.amount_problem``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = parse_money(value)
    except AmountError as error:
        raise CellError(money_message(noun, error)) from None
    problem = validation.amount_problem(noun, amount)
    if problem:
        raise CellError(problem)
    return amount


def parse_whole_number(value: object, noun: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 4:
        # "²" is a digit to isdigit(); and never int() a 10,000-digit run
        raise CellError(f"Enter the {noun} as a whole number of months, like 3")
    return int(text)


def parse_options(value: object) -> list[int]:
    """"12, 12" or "24" (a Transparency Code register's "Extension period (months)": one
    option of that length) → lengths in months; how long one may be is the register's rule."""
    if value is None:
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    parts = [p for p in re.split(r"[,;+\s]+", str(value).strip()) if p]
    if any(not (p.isascii() and p.isdigit()) or len(p) > 4 for p in parts):
        raise CellError("Enter each extension option as a number of months between 1 and "
                        "120, separated by commas, like 12, 12")
    return [int(p) for p in parts]


def parse_cpv_codes(value: object) -> list[str]:
    """A register's CPV cell ("85311000-2 Social work services with accommodation; 85312000")
    read by the one CPV reader (``contracts.cpv.check_list``): the main code first. A workbook
    cell holding the number 3000000 is the code 03000000 with its leading zero dropped."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, int | float) and not isinstance(value, bool) and \
            float(value).is_integer():
        value = str(int(value)).zfill(8)
    try:
        return cpv.check_list(str(value))
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def parse_checked(value: object, rule: Callable[[str], str]) -> str:
    """A cell read by one of ``commissioning.identifiers``' rules; blank is ""."""
    text = _text(value)
    if not text:
        return ""
    try:
        return rule(text)
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def parse_identifier(value: object, scheme: str) -> tuple[str, str] | None:
    """(scheme, number) for a provider's identifier cell, in the register's own format
    (``commissioning.identifiers.check``). A charity number written SC0... is a Scottish
    charity's (OSCR); a number Excel turned into 3914810 keeps its leading zero."""
    text = _text(value)
    if not text:
        return None
    if scheme == "GB-CHC" and identifiers.normalise(text).startswith("SC"):
        scheme = "GB-SC"
    try:
        return scheme, identifiers.check(scheme, text)
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def parse_registration(value: object) -> tuple[str, str] | None:
    """A "registration number" column that may hold a company or a charity number: 6 or 7
    digits (maybe ``-N``) is a Charity Commission number, anything else a Companies House one
    (a company number has 8 characters: Companies House writes the leading zeros)."""
    text = identifiers.normalise(_text(value))
    if not text:
        return None
    scheme = "GB-CHC" if re.fullmatch(r"\d{6,7}(?:-\d{1,3})?", text) else "GB-COH"
    try:
        return scheme, identifiers.check(scheme, text)
    except ValidationError:
        raise CellError("Enter the provider's Companies House number (like 01234567 or "
                        "SC123456) or charity number (like 1123456)") from None


YES = {"yes", "y", "true", "1", "tendered", "x"}
NO = {"no", "n", "false", "0", "not tendered"}


def parse_yes_no(value: object, noun: str, *, word: str = "") -> bool | None:
    """Yes/No; for a flag column its own word too ("SME" yes, "Non-SME" or "Not SME" no)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    key = normalise_header(text)
    if text in YES or (word and key == word):
        return True
    if text in NO or (word and key in (f"non{word}", f"not{word}", f"not an{word}",
                                       f"nota{word}", f"notan{word}")):
        return False
    raise CellError(f"Enter Yes or No for {noun}")


def _choice_index(choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    index = {}
    for value, label in choices:
        index[normalise_header(value)] = value
        index[normalise_header(label)] = value
    for key, value in (extra or {}).items():
        index[normalise_header(key)] = value
    return index


SERVICE_AREA_INDEX = _choice_index(ServiceArea.choices, {
    "adults": ServiceArea.ADULT_SOCIAL_CARE, "adult services": ServiceArea.ADULT_SOCIAL_CARE,
    "adult social services": ServiceArea.ADULT_SOCIAL_CARE,
    "adult social care and health": ServiceArea.ADULT_SOCIAL_CARE,
    "children": ServiceArea.CHILDRENS_SERVICES,
    "children and families": ServiceArea.CHILDRENS_SERVICES,
    "childrens social care": ServiceArea.CHILDRENS_SERVICES,
    "children's and education services": ServiceArea.CHILDRENS_SERVICES,
    "education and children's services": ServiceArea.CHILDRENS_SERVICES,
    "learning disabilities": ServiceArea.LEARNING_DISABILITY,
    "community health services": ServiceArea.COMMUNITY_HEALTH,
    "public health services": ServiceArea.PUBLIC_HEALTH,
})
STATUS_INDEX = _choice_index(ContractStatus.choices, {
    "awarded": ContractStatus.AWARDED, "standstill": ContractStatus.AWARDED,
    "active": ContractStatus.LIVE, "current": ContractStatus.LIVE,
    "procurement": ContractStatus.IN_PROCUREMENT, "ended": ContractStatus.EXPIRED,
})
TENDERED_ROUTES = frozenset({
    ProcurementRoute.PCR_OPEN, ProcurementRoute.PA_OPEN, ProcurementRoute.PCR_RESTRICTED,
    ProcurementRoute.PCR_COMPETITIVE_DIALOGUE, ProcurementRoute.PA_COMPETITIVE_FLEXIBLE,
    ProcurementRoute.PSR_COMPETITIVE_PROCESS})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # The app's own downloads put an apostrophe before text that starts like a formula
    # (commissioning.spreadsheets.safe_cell); a file fixed and uploaded again reads as before.
    if text[:1] == "'" and text[1:2] and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    return text


def formula_like(value: object) -> bool:
    """Text a spreadsheet would run as a formula (= + - @ first), not a plain signed number."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) \
        and not _SIGNED_NUMBER.match(value)


_SIGNED_NUMBER = re.compile(r"^[-+]\s*£?\s*[\d,]*\.?\d+$")
FORMULA_WARNING = ("Starts with '{first}', so a spreadsheet may treat it as a formula. It is "
                   "imported as text exactly as shown: check it is what you meant")


def organisation_key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


# --- Checking rows ---------------------------------------------------------------------------

# The register's field (validation) → the import's field (and so the file's column).
_FIELD_OF_RULE = {"initial_end_date": "end_date", "new_provider_name": "provider",
                  "cpv_code": "cpv_codes", "additional_cpv_codes": "cpv_codes",
                  "new_provider_kind": "provider", "contract_manager": "holder",
                  "shares": "holder"}


@dataclass
class RowResult:
    row: int
    values: dict[str, object] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    new_provider: str | None = None  # organisation_key of a provider to be created
    existing: bool = False  # its reference is in the register already: left as it is

    @property
    def importable(self) -> bool:
        return not self.errors and not self.existing

    def preview(self) -> dict[str, object]:
        v = self.values

        def day(key: str) -> str:
            value = v.get(key)
            return value.strftime("%d/%m/%Y") if isinstance(value, date) else ""

        value = v.get("annual_value")
        return {
            "row": self.row, "reference": v.get("reference", ""), "title": v.get("title", ""),
            "provider": v.get("provider_name", ""), "holder": v.get("holder_name", ""),
            "lead": v.get("lead_name", ""), "start": day("start_date"), "end": day("end_date"),
            "annual_value": f"{value:f}" if isinstance(value, Decimal) else "",
            "status": ContractStatus(v["status"]).label if v.get("status") else "",
            "route": ProcurementRoute(v["procurement_route"]).label
            if v.get("procurement_route") else "",
            "new_provider": bool(self.new_provider), "existing": self.existing,
            "errors": [{"column": c, "message": m} for c, m in self.errors],
            "warnings": [{"column": c, "message": m} for c, m in self.warnings],
        }


@dataclass
class CheckResult:
    rows: list[RowResult]
    new_providers: list[dict[str, object]]  # name, registration_number, sme, vcse, rows
    register: validation.Register | None = None

    @property
    def errors(self) -> list[dict[str, object]]:
        return [{"row": r.row, "column": c, "message": m} for r in self.rows for c, m in r.errors]

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)

    @property
    def importable(self) -> list[RowResult]:
        return [r for r in self.rows if r.importable]


class _Directory:
    """Organisations by every name a register may use, loaded once for the whole file."""

    def __init__(self, partnership: Partnership) -> None:
        members = [m.organisation for m in PartnershipMember.objects.filter(
            partnership=partnership).select_related("organisation")]
        self.partnership = partnership
        self.members: dict[str, Organisation] = {}
        for organisation in members:
            for key in (organisation.name, organisation.short_name, organisation.ods_code):
                if key:
                    self.members.setdefault(organisation_key(key), organisation)
        self.organisations: dict[str, Organisation] = {}
        fields = ("id", "name", "short_name", "registration_number", "kind", "ods_code")
        for organisation in Organisation.objects.only(*fields):
            for key in (organisation.name, organisation.short_name,
                        organisation.registration_number):
                if key:
                    self.organisations.setdefault(organisation_key(key), organisation)


def check_rows(
    table: Table, mapping: dict[str, object], *, partnership: Partnership,
    user: User | None = None, today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Read every row and ask the register's rules (``validation.contract_problems``) about
    it; return values, problems (by the file's column) and warnings per row.

    ``user``: the person importing, who must be a party to each contract (as when adding one
    through the pages); None checks the rows without that rule. A row whose reference the
    holder already has in the register is left as it is (``existing``): the reference is the
    key, so the same file uploaded twice changes nothing."""
    today = today or timezone.localdate()
    directory = _Directory(partnership)
    register = validation.Register.load(partnership, bulk=True)
    columns = {name: table.headers.index(column_of(mapping, name))
               for name in FIELDS_BY_NAME if column_of(mapping, name) in table.headers}
    fixed = {name: fixed_value(mapping, name) for name in FIELDS_BY_NAME
             if fixed_value(mapping, name) is not None}
    labels = {name: column_of(mapping, name) or FIELDS_BY_NAME[name].label
              for name in FIELDS_BY_NAME}
    new_providers: dict[str, dict[str, object]] = {}
    unsaved: dict[str, Organisation] = {}
    results: list[RowResult] = []
    for index, cells in enumerate(table.rows):
        result = _check_row(table.number(index), cells, columns, fixed, labels, directory,
                            register, user, today, unsaved)
        results.append(result)
        if result.importable and result.new_provider:
            values = result.values
            entry = new_providers.setdefault(result.new_provider, {
                "name": values["provider_name"][:200],
                "registration_number": values["provider_registration_number"][:20],
                "sme": None, "vcse": None, "rows": []})
            for flag in ("sme", "vcse"):
                if entry[flag] is None:
                    entry[flag] = values.get(f"provider_{flag}")
            entry["rows"].append(result.row)
        if progress and (index + 1) % 500 == 0:
            progress(index + 1)
    return CheckResult(results, list(new_providers.values()), register)


def _check_row(row_number, cells, columns, fixed, labels, directory: _Directory,
               register: validation.Register, user, today, unsaved) -> RowResult:
    result = RowResult(row_number)
    values = result.values
    failed: set[str] = set()

    def cell(name: str) -> object:
        if name in fixed:
            return fixed[name]
        position = columns.get(name)
        if position is None or position >= len(cells):
            return None
        value = cells[position]
        return _text(value) if isinstance(value, str) else value

    def error(name: str, message: str) -> None:
        if name not in failed:
            failed.add(name)
            result.errors.append((labels[name], message))

    def parse(name: str, parser, *args, **kwargs):
        try:
            return parser(cell(name), *args, **kwargs)
        except CellError as problem:
            error(name, str(problem))
            return None

    seen_columns: set[int] = set()
    for name, position in columns.items():
        value = cells[position] if position < len(cells) else None
        if position not in seen_columns and formula_like(value):
            seen_columns.add(position)
            result.warnings.append((labels[name], FORMULA_WARNING.format(first=value[0])))

    values["reference"] = _text(cell("reference"))
    values["title"] = _text(cell("title"))
    values["description"] = _text(cell("description"))
    area = _text(cell("service_area"))
    values["service_area"] = SERVICE_AREA_INDEX.get(normalise_header(area))
    if not area:
        error("service_area", "Enter the service area")
    elif values["service_area"] is None:
        error("service_area", f"'{area}' is not a service area. Use one of: "
                              f"{FIELDS_BY_NAME['service_area'].hint}")

    # Organisations are found by any of their names; whether they may be parties is a rule.
    for name, noun, key in (("holder", "contract holder", "holder_name"),
                            ("lead_commissioner", "lead commissioner", "lead_name")):
        text = _text(cell(name))
        values[key] = text
        organisation = directory.members.get(organisation_key(text)) if text else None
        values[name] = organisation
        if not text:
            error(name, f"Enter the {noun}")
        elif organisation is None:
            error(name, f"'{text}' is not a partner in {directory.partnership.name}. The "
                        f"{noun} must be one of the partnership's organisations")
    provider_name = _text(cell("provider"))
    # The provider's identifiers, in the registers' own formats (commissioning.identifiers):
    # a new provider is created with them; a known one is found by its number.
    company = parse("provider_registration_number", parse_identifier, "GB-COH")
    charity = parse("provider_charity_number", parse_identifier, "GB-CHC")
    either = parse("provider_registration", parse_registration)
    values["provider_ppon"] = (parse("provider_ppon", parse_identifier, "GB-PPON")
                               or ("", ""))[1]
    scheme, registration = company or charity or either or ("", "")
    values["provider_name"] = provider_name
    values["provider_registration_number"] = registration
    values["provider_registration_scheme"] = scheme
    values["provider_sme"] = parse("provider_sme", parse_yes_no, "SME", word="sme")
    values["provider_vcse"] = parse("provider_vcse", parse_yes_no, "VCSE", word="vcse")
    provider = directory.organisations.get(organisation_key(registration)) \
        if registration else None
    if provider is None and provider_name:
        provider = directory.organisations.get(organisation_key(provider_name))
    if provider is None and provider_name:
        # New to the service: one unsaved organisation for every row that names it.
        result.new_provider = organisation_key(provider_name)
        provider = unsaved.get(result.new_provider)
        if provider is None:
            provider = unsaved[result.new_provider] = Organisation(
                name=provider_name, registration_number=registration[:20],
                registration_scheme=scheme, ppon=values["provider_ppon"],
                kind=OrganisationKind.INDEPENDENT_PROVIDER)
    values["provider"] = provider if provider is not None and provider.pk else None
    if not provider_name and provider is None:
        error("provider", "Enter the provider")

    # Procurement: the words councils use, read by the one vocabulary
    start = parse("start_date", parse_date, "start date")
    route_text = _text(cell("procurement_route"))
    values["procurement_regime"] = values["procurement_route"] = None
    if not route_text:
        error("procurement_route", "Enter the procurement route")
    else:
        try:
            read = procurement_words.read_procurement(
                route_text, regime_text=_text(cell("procurement_regime")),
                started=start or today)
        except procurement_words.UnknownWords as problem:
            error("procurement_route", str(problem))
        else:
            values["procurement_regime"], values["procurement_route"] = read.regime, read.route
    tendered = parse("tendered", parse_yes_no, "tendered")
    if tendered is None:
        tendered = values["procurement_route"] in TENDERED_ROUTES
    values["tendered"] = bool(tendered)

    end = parse("end_date", parse_date, "end date")
    values["start_date"], values["end_date"] = start, end
    values["review_date"] = parse("review_date", parse_date, "review date")
    values["extension_options"] = parse("extension_options", parse_options) or []
    values["notice_period_months"] = parse("notice_period_months", parse_whole_number,
                                           "notice period") or 0
    values["annual_value"] = parse("annual_value", parse_amount, "annual value")
    values["vat_not_recoverable"] = parse("vat_not_recoverable", parse_amount,
                                          "VAT not recoverable") or Decimal("0")

    status_text = _text(cell("status"))
    status = STATUS_INDEX.get(normalise_header(status_text)) if status_text else None
    if status_text and status is None:
        error("status", f"'{status_text}' is not a status. Use Planned, In procurement, "
                        "Awarded, Live, Extended, Expired or Terminated")
    if status is None and start and end:
        status = (ContractStatus.EXPIRED if end < today else
                  ContractStatus.LIVE if start <= today else ContractStatus.AWARDED)
    values["status"] = status
    lines = _text(cell("service_lines"))
    values["service_lines"] = [s.strip()[:200] for s in lines.split(";") if s.strip()]
    values["cpv_codes"] = parse("cpv_codes", parse_cpv_codes) or []
    values["find_a_tender_notice_id"] = parse(
        "find_a_tender_notice_id", parse_checked, identifiers.check_find_a_tender_notice)
    values["find_a_tender_procedure_id"] = parse(
        "find_a_tender_procedure_id", parse_checked,
        identifiers.check_find_a_tender_procedure)

    holder = values["holder"]
    if holder is not None and values["reference"] and register.reference_taken(
            holder.pk, values["reference"], None):
        result.existing = True  # the reference is the key: already imported, left as it is
        result.errors.clear()
        return result

    # Every rule of the register, asked of the one implementation.
    contract = Contract(
        reference=values["reference"], title=values["title"],
        service_area=values["service_area"] or ServiceArea.OTHER, provider=provider,
        holder=holder, lead_commissioner=values["lead_commissioner"],
        partnership=directory.partnership,
        procurement_regime=values["procurement_regime"] or "",
        procurement_route=values["procurement_route"] or "",
        start_date=start, initial_end_date=end,
        notice_period_months=values["notice_period_months"],
        annual_value=values["annual_value"], vat_not_recoverable=values["vat_not_recoverable"],
        status=status or ContractStatus.PLANNED,
        cpv_code=values["cpv_codes"][0] if values["cpv_codes"] else "",
        additional_cpv_codes=values["cpv_codes"][1:],
        find_a_tender_notice_id=values["find_a_tender_notice_id"],
        find_a_tender_procedure_id=values["find_a_tender_procedure_id"],
    )
    problems = validation.contract_problems(
        contract, register=register, user=user,
        extension_option_months=values["extension_options"], check_creator=user is not None,
        where=f"row {row_number}")
    for rule_field, message in problems.items():
        name = _FIELD_OF_RULE.get(rule_field, rule_field)
        if name not in FIELDS_BY_NAME or (name == "provider" and rule_field ==
                                          "new_provider_kind"):
            continue  # the kind of a new provider is chosen when the import is confirmed
        if name in ("holder", "lead_commissioner") and values.get(name) is None:
            continue  # already named: not one of the partnership's organisations
        error(name, message)
    return result


def problem_rows(table: Table, preview: list[dict]) -> tuple[list[str], list[list[object]]]:
    """The file's rows that have problems, in its own layout, each with a "Problems" column:
    ready to fix and upload again (the rows already imported are not in it)."""
    problems = {row["row"]: "; ".join(f"{e['column']}: {e['message']}" for e in row["errors"])
                for row in preview if row["errors"]}
    rows = []
    for index, cells in enumerate(table.rows):
        number = table.number(index)
        if number in problems:
            padded = list(cells) + [None] * (len(table.headers) - len(cells))
            rows.append([*padded[:len(table.headers)], problems[number]])
    return [*table.headers, "Problems"], rows


def table_from_file(file, name: str) -> Table:
    file.open("rb")
    try:
        data = file.read()
    finally:
        file.close()
    return read_table(name, data)
