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

from commissioning import uploads
from commissioning.inputs import AmountError, money_message, parse_money
from commissioning.models import Organisation, Partnership, PartnershipMember
from contracts.models import (
    ROUTES_BY_REGIME,
    Contract,
    ContractStatus,
    ProcurementRegime,
    ProcurementRoute,
    ServiceArea,
)

MAX_ROWS = 20_000
MAX_COLUMNS = 100
MAX_CELLS = 600_000  # 20,000 rows of 30 columns
ASYNC_ROWS = 1_000  # larger files are checked and imported by a Celery task
PCR_END = date(2025, 2, 24)  # procurements started from this day fall under the 2023 Act
PENNY = Decimal("0.01")


# The file as a whole cannot be used; the message says why and what to do.
ImportFileError = uploads.UploadRefused


# --- Fields the register needs, and the column names registers commonly use ------------------

@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


FIELDS: tuple[ImportField, ...] = (
    ImportField("reference", "Contract reference", True,
                ("reference", "ref", "contract reference", "contract ref", "contract id",
                 "contract number", "contract no")),
    ImportField("title", "Title", True,
                ("title", "contract title", "contract name", "name", "service name")),
    ImportField("description", "Description", False,
                ("description", "contract description", "details", "scope", "summary")),
    ImportField("service_area", "Service area", True,
                ("service area", "department", "department / service area",
                 "department service area", "directorate", "service", "category"),
                "Adult social care, Children's services, Public health, Mental health, "
                "Learning disability, Carers, Community health or Other"),
    ImportField("provider", "Provider", True,
                ("provider", "supplier", "supplier name", "provider name", "contractor",
                 "vendor")),
    ImportField("provider_registration_number", "Provider registration number", False,
                ("supplier registration number", "provider registration number",
                 "registration number", "company number", "charity number",
                 "companies house number")),
    ImportField("holder", "Contract holder", True,
                ("contract holder", "holder", "contracting authority", "buyer",
                 "contracting organisation")),
    ImportField("lead_commissioner", "Lead commissioner", True,
                ("lead commissioner", "lead", "commissioner", "lead organisation")),
    ImportField("procurement_regime", "Procurement regime", False,
                ("procurement regime", "regime", "regulations")),
    ImportField("procurement_route", "Procurement route", True,
                ("procurement route", "route", "procurement method", "procedure", "method",
                 "procurement procedure"),
                "For example Open procedure, Light touch regime, Direct Award C, Grant"),
    ImportField("tendered", "Tendered", False, ("tendered", "tendered?", "competitively tendered")),
    ImportField("status", "Status", False, ("status", "contract status")),
    ImportField("start_date", "Start date", True,
                ("start date", "start", "contract start", "contract start date",
                 "commencement date")),
    ImportField("end_date", "End date", True,
                ("end date", "end", "expiry date", "contract end", "contract end date",
                 "initial end date", "end date of initial term")),
    ImportField("extension_options", "Extension options (months)", False,
                ("extension options", "extension options (months)", "extensions",
                 "extension")),
    ImportField("notice_period_months", "Notice period (months)", False,
                ("notice period", "notice period (months)", "notice period months")),
    ImportField("annual_value", "Annual value", True,
                ("annual value", "annual value (£)", "value", "annual contract value",
                 "value per annum", "value p/a", "annual value £")),
    ImportField("vat_not_recoverable", "VAT not recoverable", False,
                ("vat not recoverable", "vat not recoverable (£)", "irrecoverable vat")),
    ImportField("review_date", "Review date", False, ("review date", "next review date",
                                                      "next review")),
    ImportField("service_lines", "Service lines", False,
                ("service lines", "pathways", "service lines / pathways"),
                "Separated by semicolons"),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED_FIELDS = tuple(f.name for f in FIELDS if f.required)


def normalise_header(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text or "").casefold())


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Field → header for the headers that match a field's common names. Each header is used
    once; exact names win over aliases."""
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
                if header is not None and header not in used:
                    mapping[fld.name] = header
                    used.add(header)
                    break
    return mapping


# --- Reading the file ------------------------------------------------------------------------

@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[list[object]]  # data rows, in file order; row i is spreadsheet row i + 2


REGISTER_FILE_TYPES = {
    ".csv": ("text/csv", uploads.TEXT),
    ".txt": ("text/plain", uploads.TEXT),
    "": ("text/csv", uploads.TEXT),
    ".xlsx": (uploads.XLSX_CONTENT_TYPE, uploads.XLSX),
}
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
    """Check the file and read its first sheet: headers and data rows (blank rows skipped)."""
    file = io.BytesIO(data)
    kind = uploads.check_file(file, name=name, allowed=REGISTER_FILE_TYPES,
                              description=REGISTER_FILES).family
    limits = uploads.Limits(rows=MAX_ROWS, columns=MAX_COLUMNS, cells=MAX_CELLS,
                            advice=f"Split it into files of up to {MAX_ROWS:,} rows")
    headers: list[str] | None = None
    rows: list[list[object]] = []
    for number, cells in uploads.read_rows(file, kind, limits, encodings=("utf-8-sig", "cp1252"),
                                           delimiters=",;\t"):
        if headers is None:
            headers = _header_row(cells)
            continue
        if kind == uploads.XLSX:
            rows.append(list(cells[:len(headers)]))
            continue
        if len(cells) > len(headers) and not uploads.is_blank(cells[len(headers):]):
            raise ImportFileError(
                f"Row {number}: the row has {len(cells)} values but the header row has "
                f"{len(headers)} columns. Check for a missing quote or an extra comma"
            )
        rows.append(cells)
    where = "The first worksheet" if kind == uploads.XLSX else "The selected file"
    if not headers:
        raise ImportFileError(f"{where} has no header row")
    if not rows:
        raise ImportFileError(f"{where} has a header row but no contracts")
    return Table("xlsx" if kind == uploads.XLSX else "csv", headers, rows)


# --- Parsing cells ---------------------------------------------------------------------------

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
    "£2,700,000.00", "2,700,000"; negative amounts are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = parse_money(value)
    except AmountError as error:
        raise CellError(money_message(noun, error)) from None
    if amount < 0:
        raise CellError(f"The {noun} must be £0 or more")
    return amount


def parse_whole_number(value: object, noun: str, *, maximum: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):  # "²" is a digit to isdigit()
        raise CellError(f"Enter the {noun} as a whole number of months")
    if len(text.lstrip("0")) > len(str(maximum)):  # and never int() 10,000 digits
        raise CellError(f"The {noun} must be {maximum} months or fewer")
    number = int(text)
    if number > maximum:
        raise CellError(f"The {noun} must be {maximum} months or fewer")
    return number


def parse_options(value: object) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    parts = [p for p in re.split(r"[,;+\s]+", str(value).strip()) if p]
    lengths = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 \
                or not 0 < int(part) <= 120:  # never int() a 10,000-digit run
            raise CellError("Enter each extension option as a number of months between 1 "
                            "and 120, separated by commas, like 12, 12")
        lengths.append(int(part))
    if len(lengths) > 10:
        raise CellError("A contract can have up to 10 extension options")
    return lengths


YES = {"yes", "y", "true", "1", "tendered"}
NO = {"no", "n", "false", "0", "not tendered"}


def parse_yes_no(value: object, noun: str) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in YES:
        return True
    if text in NO:
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
    "children": ServiceArea.CHILDRENS_SERVICES,
    "children and families": ServiceArea.CHILDRENS_SERVICES,
    "childrens social care": ServiceArea.CHILDRENS_SERVICES,
    "learning disabilities": ServiceArea.LEARNING_DISABILITY,
    "community health services": ServiceArea.COMMUNITY_HEALTH,
})
REGIME_INDEX = _choice_index(ProcurementRegime.choices, {
    "pcr": ProcurementRegime.PCR_2015, "pcr 2015": ProcurementRegime.PCR_2015,
    "public contracts regulations": ProcurementRegime.PCR_2015,
    "procurement act": ProcurementRegime.PA_2023, "pa 2023": ProcurementRegime.PA_2023,
    "psr": ProcurementRegime.PSR,
})
STATUS_INDEX = _choice_index(ContractStatus.choices, {
    "awarded": ContractStatus.AWARDED, "standstill": ContractStatus.AWARDED,
    "active": ContractStatus.LIVE, "current": ContractStatus.LIVE,
    "procurement": ContractStatus.IN_PROCUREMENT, "ended": ContractStatus.EXPIRED,
})
# Route label → the routes that carry it (an "Open procedure" exists under PCR and the Act).
ROUTE_INDEX: dict[str, list[str]] = {}
for _route, _label in ProcurementRoute.choices:
    for _key in {normalise_header(_route), normalise_header(_label)}:
        ROUTE_INDEX.setdefault(_key, []).append(_route)
for _alias, _routes in {
    "open": [ProcurementRoute.PCR_OPEN, ProcurementRoute.PA_OPEN],
    "open tender": [ProcurementRoute.PCR_OPEN, ProcurementRoute.PA_OPEN],
    "restricted": [ProcurementRoute.PCR_RESTRICTED],
    "light touch": [ProcurementRoute.PCR_LIGHT_TOUCH],
    "ltr": [ProcurementRoute.PCR_LIGHT_TOUCH],
    "direct award": [ProcurementRoute.PA_DIRECT_AWARD],
    "call off": [ProcurementRoute.PA_FRAMEWORK_CALL_OFF],
    "grant": [ProcurementRoute.GRANT],
    "spot": [ProcurementRoute.SPOT_PURCHASE],
    "msp": [ProcurementRoute.PSR_MOST_SUITABLE_PROVIDER],
}.items():
    ROUTE_INDEX.setdefault(normalise_header(_alias), _routes)
REGIME_OF_ROUTE = {route: regime for regime, routes in ROUTES_BY_REGIME.items()
                   for route in routes}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def organisation_key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


# --- Checking rows ---------------------------------------------------------------------------

@dataclass
class RowResult:
    row: int
    values: dict[str, object] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    new_provider: str | None = None  # organisation_key of a provider to be created

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
            "new_provider": bool(self.new_provider),
            "errors": [{"column": c, "message": m} for c, m in self.errors],
        }


@dataclass
class CheckResult:
    rows: list[RowResult]
    new_providers: list[dict[str, object]]  # name, registration_number, rows

    @property
    def errors(self) -> list[dict[str, object]]:
        return [{"row": r.row, "column": c, "message": m} for r in self.rows for c, m in r.errors]

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)


class _Directory:
    """Organisations and existing references, loaded once for the whole file."""

    def __init__(self, partnership: Partnership) -> None:
        members = [m.organisation for m in PartnershipMember.objects.filter(
            partnership=partnership).select_related("organisation")]
        self.partnership = partnership
        self.importer_ids: frozenset[int] | None = None  # see check_rows
        self.member_ids = {o.pk for o in members}
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
        # Only these may be named (contracts.selectors.providers_known_to); another provider
        # already on the service is refused rather than matched by its name.
        from contracts.selectors import providers_known_to

        self.known_provider_ids = set(
            providers_known_to(partnership).values_list("pk", flat=True))
        self.references = {
            (holder_id, reference.casefold())
            for holder_id, reference in Contract.objects.filter(
                holder_id__in=self.member_ids).values_list("holder_id", "reference")
        }


def check_rows(
    table: Table, mapping: dict[str, str], *, partnership: Partnership,
    today: date | None = None, progress: Callable[[int], None] | None = None,
    importer_ids: frozenset[int] | None = None,
) -> CheckResult:
    """Check every row against the register's rules; return values and errors per row.

    ``importer_ids``: the importing user's organisations; each row's holder or lead
    commissioner must be one of them, so nobody imports a contract they could not then see
    (``commissioning.access``). None (a platform administrator) skips that check."""
    from django.utils import timezone

    today = today or timezone.localdate()
    directory = _Directory(partnership)
    directory.importer_ids = importer_ids
    columns = {name: table.headers.index(header) for name, header in mapping.items()
               if header in table.headers}
    seen_references: dict[tuple[int, str], int] = {}
    new_providers: dict[str, dict[str, object]] = {}
    results: list[RowResult] = []
    for index, cells in enumerate(table.rows):
        result = _check_row(index + 2, cells, columns, mapping, directory, today,
                            seen_references, new_providers)
        results.append(result)
        if progress and (index + 1) % 500 == 0:
            progress(index + 1)
    return CheckResult(results, list(new_providers.values()))


def _check_row(row_number, cells, columns, mapping, directory: _Directory, today,
               seen_references, new_providers) -> RowResult:
    result = RowResult(row_number)
    values = result.values

    def cell(name: str) -> object:
        position = columns.get(name)
        if position is None or position >= len(cells):
            return None
        value = cells[position]
        return value.strip() if isinstance(value, str) else value

    def error(name: str, message: str) -> None:
        result.errors.append((mapping.get(name, FIELDS_BY_NAME[name].label), message))

    def parse(name: str, parser, *args, **kwargs):
        try:
            return parser(cell(name), *args, **kwargs)
        except CellError as problem:
            error(name, str(problem))
            return None

    # Text
    for name, limit in (("reference", 50), ("title", 250)):
        text = _text(cell(name))
        values[name] = text
        if not text:
            error(name, f"Enter the {FIELDS_BY_NAME[name].label.lower()}")
        elif len(text) > limit:
            error(name, f"The {FIELDS_BY_NAME[name].label.lower()} must be {limit} characters "
                        "or fewer")
    values["description"] = _text(cell("description"))

    area = _text(cell("service_area"))
    values["service_area"] = SERVICE_AREA_INDEX.get(normalise_header(area))
    if not area:
        error("service_area", "Enter the service area")
    elif values["service_area"] is None:
        error("service_area", f"'{area}' is not a service area. Use one of: "
                              f"{FIELDS_BY_NAME['service_area'].hint}")

    # Organisations
    for name, noun in (("holder", "contract holder"), ("lead_commissioner", "lead commissioner")):
        text = _text(cell(name))
        values[f"{'lead' if name == 'lead_commissioner' else 'holder'}_name"] = text
        organisation = directory.members.get(organisation_key(text)) if text else None
        values[name] = organisation
        if not text:
            error(name, f"Enter the {noun}")
        elif organisation is None:
            error(name, f"'{text}' is not a partner in {directory.partnership.name}. The "
                        f"{noun} must be one of the partnership's organisations")
    importer_ids = directory.importer_ids
    if importer_ids is not None and values.get("holder") and values.get("lead_commissioner") \
            and not {values["holder"].pk, values["lead_commissioner"].pk} & importer_ids:
        error("holder", "Your organisation must be the contract holder or the lead "
                        "commissioner: only a contract's parties see it")
    provider_name = _text(cell("provider"))
    registration = _text(cell("provider_registration_number"))
    values["provider_name"] = provider_name
    values["provider_registration_number"] = registration
    provider = None
    if registration:
        provider = directory.organisations.get(organisation_key(registration))
    if provider is None and provider_name:
        provider = directory.organisations.get(organisation_key(provider_name))
    values["provider"] = provider
    if not provider_name and provider is None:
        error("provider", "Enter the provider")
    elif provider is not None and provider.pk in directory.member_ids:
        error("provider", f"{provider.name} is a commissioning partner, so it cannot be the "
                          "provider")
    elif provider is not None and provider.is_commissioner:
        error("provider", f"{provider.name} is a commissioning organisation, not a provider")
    elif provider is not None and provider.pk not in directory.known_provider_ids:
        error("provider", f"{provider.name} does not work for {directory.partnership.name}: "
                          "name a provider that delivers one of its contracts or applied to "
                          "one of its frameworks, or one that is new to the service")
    elif provider is None:
        key = organisation_key(provider_name)
        result.new_provider = key
        entry = new_providers.setdefault(
            key, {"name": provider_name[:200], "registration_number": registration[:20],
                  "rows": []})
        entry["rows"].append(row_number)
        if len(provider_name) > 200:
            error("provider", "The provider name must be 200 characters or fewer")

    # Procurement
    regime_text = _text(cell("procurement_regime"))
    regime = REGIME_INDEX.get(normalise_header(regime_text)) if regime_text else None
    if regime_text and regime is None:
        error("procurement_regime", f"'{regime_text}' is not a procurement regime. Use Public "
                                    "Contracts Regulations 2015, Procurement Act 2023, "
                                    "Provider Selection Regime, Grant or Spot purchase")
    route_text = _text(cell("procurement_route"))
    routes = ROUTE_INDEX.get(normalise_header(route_text), []) if route_text else []
    start = parse("start_date", parse_date, "start date")
    route = None
    if not route_text:
        error("procurement_route", "Enter the procurement route")
    elif not routes:
        error("procurement_route", f"'{route_text}' is not a procurement route. "
                                   f"{FIELDS_BY_NAME['procurement_route'].hint}")
    else:
        candidates = [r for r in routes if REGIME_OF_ROUTE[r] == regime] if regime else routes
        if len(candidates) > 1:
            # An "Open procedure" started before 24 February 2025 ran under PCR 2015.
            wanted = ProcurementRegime.PCR_2015 if (start or today) < PCR_END \
                else ProcurementRegime.PA_2023
            candidates = [r for r in candidates if REGIME_OF_ROUTE[r] == wanted] or candidates
        if not candidates:
            error("procurement_route",
                  f"{route_text} is not a route under {ProcurementRegime(regime).label}")
        else:
            route = candidates[0]
            regime = REGIME_OF_ROUTE[route]
    values["procurement_regime"] = regime
    values["procurement_route"] = route
    tendered = parse("tendered", parse_yes_no, "tendered")
    if tendered is None and route:
        tendered = route in (ProcurementRoute.PCR_OPEN, ProcurementRoute.PA_OPEN,
                             ProcurementRoute.PCR_RESTRICTED,
                             ProcurementRoute.PCR_COMPETITIVE_DIALOGUE,
                             ProcurementRoute.PA_COMPETITIVE_FLEXIBLE,
                             ProcurementRoute.PSR_COMPETITIVE_PROCESS)
    values["tendered"] = bool(tendered)

    # Dates
    end = parse("end_date", parse_date, "end date")
    values["start_date"], values["end_date"] = start, end
    if start is None and not any(c == mapping.get("start_date") for c, _m in result.errors):
        error("start_date", "Enter the start date")
    if end is None and not any(c == mapping.get("end_date") for c, _m in result.errors):
        error("end_date", "Enter the end date")
    if start and end and end < start:
        error("end_date", f"The end date ({end:%d/%m/%Y}) must be the same as or after the "
                          f"start date ({start:%d/%m/%Y})")
    values["review_date"] = parse("review_date", parse_date, "review date")
    values["extension_options"] = parse("extension_options", parse_options) or []
    values["notice_period_months"] = parse("notice_period_months", parse_whole_number,
                                           "notice period", maximum=60) or 0

    # Money
    annual = parse("annual_value", parse_amount, "annual value")
    if annual is None and not any(c == mapping.get("annual_value") for c, _m in result.errors):
        error("annual_value", "Enter the annual value")
    values["annual_value"] = annual
    values["vat_not_recoverable"] = parse("vat_not_recoverable", parse_amount,
                                          "VAT not recoverable") or Decimal("0")

    # Status: as given, or from the dates
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

    # Duplicates, in the file and in the register (references are unique per holder)
    holder = values.get("holder")
    reference = values["reference"]
    if reference and holder is not None:
        key = (holder.pk, reference.casefold())
        if key in directory.references:
            error("reference", f"{holder.display_name} already has a contract with reference "
                               f"{reference} in the register")
        elif key in seen_references:
            error("reference", f"Reference {reference} is also used in row "
                               f"{seen_references[key]} for the same contract holder")
        else:
            seen_references[key] = row_number
    return result


def table_from_file(file, name: str) -> Table:
    file.open("rb")
    try:
        data = file.read()
    finally:
        file.close()
    return read_table(name, data)
