"""Build a realistic large (or small) world for benchmarks and load tests, fast.

``manage.py generate_scale_data --size {small,large}``

large: 20 partnerships, 60 commissioning organisations, 1,500 providers, 10,000 contracts
(with service lines, shares, extension options and decisions), 40 frameworks with 150 lots,
60,000 KPIs with targets, 8 quarters of returns (≈ 480,000 KPI values), 300 Section 75
schemes with 5 years of budgets and contributions and 36 months of actuals, 5,000 users.
small: about a twentieth of that (the same shape, so query counts can be compared).

Rows go in with ``bulk_create`` (and PostgreSQL ``COPY`` for the biggest tables); no
``save()`` per row and no history rows. It lives in monitoring because monitoring may import
every app.

Safety: the command refuses a database that holds anything it did not generate (a marker
table records what it made; users' e-mail addresses end in ``scale.invalid``) unless
``--force`` is given, and refuses SQLite for the large size.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning.models import Membership, Organisation, Partnership, PartnershipMember, User
from commissioning.periods import add_months, financial_year_start
from contracts.frameworks import models as contract_models
from contracts.models import (
    ROUTES_BY_REGIME,
    CommissioningShare,
    Contract,
    Decision,
    ExtensionOption,
    ServiceLine,
)
from funding.models import (
    AgreementPartner,
    ContractFunding,
    Contribution,
    FundingSource,
    MonthlyActual,
    Scheme,
    SchemeBudget,
    SchemeType,
    Section75Agreement,
)
from monitoring.models import KPI, KPITarget, PerformanceReturn, ReturnValue, ReturnVersion
from monitoring.overview import read_rag_counts, store_rag_counts
from monitoring.reporting_periods import period_saved, recent_periods

MARKER_TABLE = "scale_data_marker"
EMAIL_DOMAIN = "scale.invalid"
PASSWORD = "Scale-data-2026!"
SEED = 2026

# Personas the benchmarks and the load test sign in as (see bench/).
PERSONAS = {
    "commissioner": f"commissioner@{EMAIL_DOMAIN}",
    "finance": f"finance@{EMAIL_DOMAIN}",
    "provider": f"provider@{EMAIL_DOMAIN}",
    "admin": f"admin@{EMAIL_DOMAIN}",
}


@dataclass(frozen=True)
class Size:
    partnerships: int
    providers: int
    contracts: int
    frameworks: int
    lots: int
    kpis_per_contract: int
    quarters: int
    schemes: int
    users: int


SIZES = {
    "large": Size(partnerships=20, providers=1500, contracts=10_000, frameworks=40, lots=150,
                  kpis_per_contract=6, quarters=8, schemes=300, users=5000),
    "small": Size(partnerships=2, providers=75, contracts=500, frameworks=2, lots=8,
                  kpis_per_contract=6, quarters=8, schemes=15, users=250),
}

PLACES = [
    "Barnet", "Bexley", "Bromley", "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney",
    "Haringey", "Harrow", "Havering", "Hillingdon", "Hounslow", "Islington", "Lambeth",
    "Lewisham", "Merton", "Newham", "Redbridge", "Richmond", "Southwark", "Sutton",
    "Wandsworth", "Kent", "Surrey", "Essex", "Hertfordshire", "Norfolk", "Suffolk",
    "Cambridgeshire", "Lincolnshire", "Devon", "Cornwall", "Dorset", "Somerset", "Wiltshire",
    "Oxfordshire", "Buckinghamshire", "Derbyshire", "Nottinghamshire", "Leicestershire",
    "Staffordshire", "Shropshire", "Cheshire", "Lancashire", "Cumbria", "Durham",
    "Northumberland", "Gloucestershire", "Worcestershire", "Warwickshire", "Hampshire",
    "West Sussex", "East Sussex", "Bristol", "Leeds", "Sheffield", "Bradford", "Wakefield",
    "Kirklees", "Calderdale", "Manchester", "Salford", "Stockport", "Wigan", "Bolton",
    "Liverpool", "Sefton", "Wirral", "Birmingham", "Coventry", "Sandwell", "Dudley",
    "Walsall", "Wolverhampton", "Newcastle", "Sunderland", "Gateshead", "York", "Hull",
]
ICB_AREAS = [
    "North Central London", "North East London", "South East London", "South West London",
    "North West London", "Kent and Medway", "Surrey Heartlands", "Mid and South Essex",
    "Hertfordshire and West Essex", "Norfolk and Waveney", "Suffolk and North East Essex",
    "Cambridgeshire and Peterborough", "Lincolnshire", "Devon", "Cornwall and the Isles of "
    "Scilly", "Dorset", "Somerset", "Bath and North East Somerset, Swindon and Wiltshire",
    "Buckinghamshire, Oxfordshire and Berkshire West", "Derby and Derbyshire",
    "Nottingham and Nottinghamshire", "Leicester, Leicestershire and Rutland",
    "Staffordshire and Stoke-on-Trent", "Shropshire, Telford and Wrekin",
    "Cheshire and Merseyside", "Lancashire and South Cumbria", "North East and North Cumbria",
    "Gloucestershire", "Herefordshire and Worcestershire", "Coventry and Warwickshire",
    "Hampshire and Isle of Wight", "Sussex", "Bristol, North Somerset and South "
    "Gloucestershire", "West Yorkshire", "South Yorkshire", "Greater Manchester",
    "Birmingham and Solihull", "Black Country", "Humber and North Yorkshire",
    "Bedfordshire, Luton and Milton Keynes",
]
PROVIDER_PATTERNS = [
    ("Age UK {p}", "vcse"), ("{p} Mind", "vcse"), ("{p} Carers Centre", "vcse"),
    ("{p} Citizens Advice", "vcse"), ("{p} Community Health NHS Trust", "nhs_trust"),
    ("{p} Healthcare NHS Foundation Trust", "nhs_trust"), ("{p} Home Care Ltd", "independent"),
    ("{p} Dementia Support", "vcse"), ("{p} Wellbeing CIC", "vcse"),
    ("{p} Advocacy Service", "vcse"), ("{p} Independent Living Trust", "vcse"),
    ("{p} Housing Association", "independent"), ("{p} Care Homes Ltd", "independent"),
    ("{p} Youth Partnership", "vcse"), ("{p} Drug and Alcohol Service", "vcse"),
    ("{p} Stroke Recovery", "vcse"), ("{p} Sight Loss Charity", "vcse"),
    ("{p} Deaf Centre", "vcse"), ("{p} Learning Disability Partnership", "vcse"),
    ("{p} Foodbank Network", "vcse"), ("{p} Reablement Services Ltd", "independent"),
    ("{p} Domiciliary Care Ltd", "independent"), ("{p} Hospice", "vcse"),
    ("{p} Voluntary Action", "vcse"),
]
SERVICES = {
    "adult_social_care": ["Home care", "Reablement", "Extra care housing", "Day opportunities",
                          "Supported living", "Shared lives", "Residential respite"],
    "childrens_services": ["Family hubs", "Short breaks", "Early help", "Youth support",
                           "Parenting programme"],
    "public_health": ["Stop smoking", "Sexual health", "Drug and alcohol recovery",
                      "NHS health checks", "Healthy weight"],
    "mental_health": ["Crisis café", "Recovery college", "Talking therapies",
                      "Community mental health support", "Peer support"],
    "learning_disability": ["Employment support", "Supported living", "Advocacy",
                            "Positive behaviour support"],
    "carers": ["Carers support", "Young carers", "Carers' breaks", "Carers' assessments"],
    "community_health": ["Falls prevention", "Social prescribing", "Hospital discharge",
                         "Community nursing", "Wheelchair service"],
    "other": ["Information and advice", "Digital inclusion", "Befriending"],
}
LINES = ["Information and advice", "Assessment", "Outreach", "Group sessions",
         "One-to-one support", "Volunteering", "Navigation", "Crisis response"]
FIRST = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Femi", "Grace", "Harry", "Imran",
         "Jess", "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie",
         "Tom", "Uzma", "Victoria", "William", "Yasmin", "Zoe", "Amir", "Bethan", "Callum",
         "Deepa", "Owen", "Hannah"]
LAST = ["Smith", "Jones", "Patel", "Williams", "Brown", "Taylor", "Khan", "Davies", "Evans",
        "Wilson", "Thomas", "Johnson", "Roberts", "Ahmed", "Walker", "Wright", "Hughes",
        "Green", "Hall", "Edwards", "Okafor", "Murphy", "Singh", "Clarke", "Lewis"]
KPI_SHAPES = [
    # name, quadrant, data type, unit, direction, target range
    ("People supported", "how_much", "count", "people", "higher", (80, 900)),
    ("Referrals received", "how_much", "count", "referrals", "higher", (50, 600)),
    ("Seen within 10 working days", "how_well", "percentage", "%", "higher", (70, 95)),
    ("Days from referral to first contact", "how_well", "days", "days", "lower", (5, 30)),
    ("Outcomes improved at review", "better_off", "percentage", "%", "higher", (60, 90)),
    ("Safeguarding training complete", "how_well", "yes_no", "", "higher", (1, 1)),
    ("Hours of support delivered", "how_much", "count", "hours", "higher", (500, 8000)),
    ("Cost per person supported", "how_well", "money", "", "lower", (150, 2400)),
]


def _batched(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = str(value)
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def copy_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows without Python model instances: PostgreSQL COPY, else bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=2000)
        return
    columns = [model._meta.get_field(name).column for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        for chunk in _batched(rows, 100_000):
            buffer = io.StringIO()
            for row in chunk:
                buffer.write("\t".join(_copy_value(v) for v in row))
                buffer.write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({column_sql}) FROM STDIN", buffer)


def marker_state() -> dict | None:
    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT size, details FROM {MARKER_TABLE} ORDER BY id DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    details = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    return {"size": row[0], **details}


def write_marker(size: str, details: dict) -> None:
    with connection.cursor() as cursor:
        json_type = "jsonb" if connection.vendor == "postgresql" else "text"
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (id integer PRIMARY KEY, "
                       f"size varchar(10) NOT NULL, details {json_type} NOT NULL)")
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")  # noqa: S608
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (id, size, details) VALUES (1, %s, %s)",  # noqa: S608
                       [size, json.dumps(details)])


def database_state() -> tuple[str, dict | None]:
    """("empty" | "generated" | "foreign", marker)."""

    marker = marker_state()
    organisations = Organisation.objects.count()
    anything = organisations or User.objects.exists() or Contract.objects.exists()
    if not anything:
        return "empty", marker
    foreign_users = User.objects.exclude(email__endswith=EMAIL_DOMAIN).exists()
    if marker and not foreign_users and organisations == marker.get("organisations") and \
            Contract.objects.count() == marker.get("contracts"):
        return "generated", marker
    return "foreign", marker


def kpis_and_returns(contracts: list[Contract], *, rng: random.Random, today: date,
                     now: datetime, quarters: int, kpis_per_contract: int,
                     lines_by_contract: dict[int, list], staff_by_provider: dict[int, list],
                     reviewers_by_partnership: dict[int, list],
                     step=lambda label: None) -> dict[str, int]:
    """KPIs (``kpis_per_contract`` of ``KPI_SHAPES`` each) with targets (a third changed half
    way), the last ``quarters`` quarters' returns of every contract that has started (most
    accepted; the latest quarter a mix of submitted, accepted, queried, draft and missing)
    with values around their targets, versions and stored RAG counts.
    Used by generate_scale_data and by bench/bench_register.py's data set; returns counts."""
    # The generator writes: it creates the quarters' rows (pages only read them).
    periods = [period_saved(period) for period in recent_periods(
        kind="quarter", today=today, count=quarters)]
    first_period = periods[0]
    target_change = periods[len(periods) // 2]
    kpi_rows = []
    meta: dict[tuple[int, str], tuple] = {}
    for contract in contracts:
        lines = lines_by_contract[contract.pk]
        for order, shape in enumerate(rng.sample(KPI_SHAPES, kpis_per_contract)):
            name, quadrant, data_type, unit, direction, (low, high) = shape
            code = f"KPI{order + 1:02d}"
            line = lines[order % len(lines)] if order % 2 and lines else None
            target = Decimal(rng.randrange(low, high + 1))
            kpi_rows.append((
                contract.pk, line.pk if line else None, code, name,
                f"{name}, counted from the provider's case management system", quadrant,
                data_type, unit, direction, None, "quarterly", order == 0,
                order < 3 and contract.annual_value > 5_000_000, order, True, now))
            meta[(contract.pk, code)] = (data_type, direction, target)
    copy_rows(KPI, ["contract", "service_line", "code", "name", "definition", "quadrant",
                    "data_type", "unit", "direction", "baseline", "frequency",
                    "evidence_required", "is_s52", "order", "is_active", "created_at"],
              kpi_rows)
    contract_ids = [c.pk for c in contracts]
    kpis = list(KPI.objects.filter(contract_id__in=contract_ids)
                .values_list("pk", "contract_id", "code"))
    kpis_by_contract: dict[int, list] = defaultdict(list)
    target_rows = []
    for pk, contract_id, code in kpis:
        data_type, direction, target = meta[(contract_id, code)]
        kpis_by_contract[contract_id].append((pk, data_type, direction, target))
        tolerance = Decimal("5") if data_type == "percentage" else (
            (target / 10).quantize(Decimal("1")))
        target_rows.append((pk, first_period.pk, target, None, tolerance, now))
        if pk % 3 == 0:
            better = target * Decimal("1.1") if direction == "higher" else target * \
                Decimal("0.9")
            if data_type == "percentage":
                better = min(better, Decimal("99"))
            if data_type == "yes_no":
                better = target
            target_rows.append((pk, target_change.pk, better.quantize(Decimal("1")),
                                None, tolerance, now))
    copy_rows(KPITarget, ["kpi", "valid_from", "target_value", "upper_value",
                          "amber_tolerance", "created_at"], target_rows)
    step(f"{len(kpis):,} KPIs and {len(target_rows):,} targets")

    return_rows = []
    latest = periods[-1]
    for contract in contracts:
        if contract.status in ("planned", "in_procurement", "awarded"):
            continue
        end = contract.initial_end_date + timedelta(days=365 if contract.status ==
                                                    "extended" else 0)
        submitters = staff_by_provider.get(contract.provider_id) or [None]
        checkers = reviewers_by_partnership[contract.partnership_id] or [None]
        for period in periods:
            if period.end_date < contract.start_date or period.start_date > end:
                continue
            if period is latest:
                status = rng.choices(["submitted", "accepted", "queried", "draft", None],
                                     [40, 30, 10, 10, 10])[0]
            elif period is periods[-2]:
                status = rng.choices(["accepted", "submitted", "queried"], [90, 7, 3])[0]
            else:
                status = "accepted"
            if status is None:
                continue
            submitted_at = timezone.make_aware(
                datetime.combine(period.due_date - timedelta(
                    days=rng.randrange(0, 15)), datetime.min.time())) \
                + timedelta(hours=rng.randrange(8, 18))
            done = status != "draft"
            reviewed = status in ("accepted", "queried")
            return_rows.append((
                contract.pk, period.pk, status, 1 + (status == "queried"),
                "Activity was in line with the plan this quarter; referrals rose after "
                "the winter campaign." if done else "",
                "Please explain the drop in people supported." if status == "queried"
                else "",
                submitted_at if done else None,
                (rng.choice(submitters).pk if submitters[0] else None) if done else None,
                submitted_at + timedelta(days=rng.randrange(3, 20)) if reviewed else None,
                (rng.choice(checkers).pk if checkers[0] else None) if reviewed else None,
                submitted_at - timedelta(days=10), submitted_at, 0))
    # COPY fills no Python defaults: rag_epoch (NOT NULL, default 0) is given.
    copy_rows(PerformanceReturn, [
        "contract", "period", "status", "version", "overall_commentary", "query_comment",
        "submitted_at", "submitted_by", "reviewed_at", "reviewed_by", "created_at",
        "updated_at", "rag_epoch"], return_rows)
    returns = list(PerformanceReturn.objects.filter(contract_id__in=contract_ids)
                   .values_list("pk", "contract_id", "period_id", "status", "submitted_at",
                                "submitted_by_id"))
    value_rows, version_rows = [], []
    recent = {periods[-1].pk, periods[-2].pk}
    for pk, contract_id, period_id, status, submitted_at, submitted_by in returns:
        snapshot = {}
        for kpi_pk, data_type, _direction, target in kpis_by_contract[contract_id]:
            if status == "draft" and rng.random() < 0.4:
                continue  # a draft is partly filled in
            value = numerator = denominator = yes_no = None
            if data_type == "yes_no":
                yes_no = rng.random() < 0.9
            elif data_type == "percentage":
                denominator = Decimal(rng.randrange(40, 400))
                achieved = min(Decimal("1"), target / 100 + Decimal(
                    rng.uniform(-0.2, 0.1)).quantize(Decimal("0.01")))
                numerator = (denominator * max(achieved, Decimal("0"))).quantize(
                    Decimal("1"))
                value = (numerator * 100 / denominator).quantize(Decimal("0.01"))
            else:
                factor = Decimal(rng.uniform(0.7, 1.25)).quantize(Decimal("0.01"))
                value = (target * factor).quantize(
                    Decimal("0.01") if data_type == "money" else Decimal("1"))
            commentary = "" if rng.random() < 0.7 else \
                "Below target because of staff vacancies; recruitment is under way."
            value_rows.append((pk, kpi_pk, value, numerator, denominator, yes_no, "",
                               commentary, ""))
            snapshot[str(kpi_pk)] = None if value is None else str(value)
        if status != "draft" and period_id in recent:
            version_rows.append((pk, 1, submitted_at, submitted_by, "",
                                 json.dumps(snapshot)))
    copy_rows(ReturnValue, ["performance_return", "kpi", "value", "numerator",
                            "denominator", "yes_no", "text", "commentary",
                            "query_comment"], value_rows)
    copy_rows(ReturnVersion, ["performance_return", "number", "submitted_at",
                              "submitted_by", "overall_commentary", "values"], version_rows)
    step(f"{len(returns):,} returns and {len(value_rows):,} values")
    # The services keep each return's RAG counts as they change it (rag_counts_refresh);
    # rows copied in bulk bypass them, so they are worked out here as those services would.
    for chunk in _batched(contract_ids, 2000):
        store_rag_counts(read_rag_counts(chunk))
    step("RAG counts of the latest shown returns")
    return {"kpis": len(kpis), "kpi_targets": len(target_rows),
            "reporting_periods": len(periods), "returns": len(returns),
            "return_values": len(value_rows), "return_versions": len(version_rows)}


class Command(BaseCommand):
    help = "Generate a realistic small or large data set for benchmarks (bulk inserts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--size", choices=sorted(SIZES), default="small")
        parser.add_argument(
            "--force", action="store_true",
            help="Add generated data even though the database holds other data",
        )

    def handle(self, *args, size: str, force: bool, **options) -> None:
        if size == "large" and connection.vendor != "postgresql":
            raise CommandError("The large data set needs PostgreSQL (set DATABASE_URL); "
                               "SQLite is refused.")
        state, marker = database_state()
        if state == "generated":
            if marker and marker.get("size") == size and not force:
                self.stdout.write(f"The {size} generated data set is already here; nothing "
                                  "to do.")
                return
            if not force:
                raise CommandError(
                    f"This database already holds the generated {marker['size']} data set. "
                    "Use an empty database (or --force to add another set on top).")
        if state == "foreign" and not force:
            raise CommandError(
                "Refusing to run: this database holds data the generator did not create "
                "(organisations, users or contracts without the generator's marker). Point "
                "DATABASE_URL at an empty database, or pass --force to add generated data "
                "alongside it.")
        started = time.perf_counter()
        generator = Generator(SIZES[size], stdout=self.stdout, force=force)
        with transaction.atomic():
            details = generator.run()
            write_marker(size, details)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        details["seconds"] = round(elapsed, 1)
        self.stdout.write(self.style.SUCCESS(
            f"Generated the {size} data set in {elapsed:.1f} s: "
            + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in details.items()
                        if isinstance(v, int))))


class Generator:
    def __init__(self, size: Size, *, stdout, force: bool) -> None:
        self.size = size
        self.stdout = stdout
        self.force = force
        self.rng = random.Random(SEED)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.counts: dict[str, int] = {}
        self._step_started = time.perf_counter()
        self.suffix = ""

    def step(self, label: str) -> None:
        now = time.perf_counter()
        self.stdout.write(f"  {label}: {now - self._step_started:.1f} s")
        self._step_started = now

    def run(self) -> dict:
        if self.force and Organisation.objects.exists():
            # Names are unique: keep generated ones apart from whatever is already there.
            self.suffix = f" ({Organisation.objects.count()})"
        self.organisations()
        self.users()
        self.contracts()
        self.frameworks()
        self.kpis_and_returns()
        self.funding()
        return self.counts

    # --- Organisations and partnerships ---------------------------------------------------

    def organisations(self) -> None:
        n = self.size.partnerships
        places = PLACES[: 2 * n] if 2 * n <= len(PLACES) else [
            f"{PLACES[i % len(PLACES)]} {i // len(PLACES) + 1}" for i in range(2 * n)]
        councils = []
        for index, place in enumerate(places):
            name = (f"London Borough of {place}" if index < 23 else f"{place} Council")
            councils.append(Organisation(
                name=name + self.suffix, short_name=f"{place} Council",
                kind="local_authority", ods_code=""))
        icbs = [
            Organisation(name=f"NHS {ICB_AREAS[i % len(ICB_AREAS)]} Integrated Care Board"
                         + (f" {i // len(ICB_AREAS) + 1}" if i >= len(ICB_AREAS) else "")
                         + self.suffix,
                         short_name=f"{ICB_AREAS[i % len(ICB_AREAS)].split(',')[0]} ICB",
                         kind="nhs_commissioner")
            for i in range(n)
        ]
        providers = []
        for i in range(self.size.providers):
            pattern, kind = PROVIDER_PATTERNS[i % len(PROVIDER_PATTERNS)]
            place = PLACES[(i // len(PROVIDER_PATTERNS)) % len(PLACES)]
            round_ = i // (len(PROVIDER_PATTERNS) * len(PLACES))
            name = pattern.format(p=place) + (f" {round_ + 1}" if round_ else "")
            providers.append(Organisation(
                name=name + self.suffix, short_name=name[:60],
                kind={"vcse": "vcse", "nhs_trust": "nhs_trust"}.get(kind,
                                                                   "independent_provider"),
                is_vcse=kind == "vcse", is_sme=kind != "nhs_trust" and i % 3 != 0,
                registration_number=f"{1_000_000 + i}"))
        Organisation.objects.bulk_create(councils + icbs + providers, batch_size=2000)
        self.councils, self.icbs, self.providers = councils, icbs, providers
        partnerships = [
            Partnership(name=f"{councils[2 * i].short_name}, {councils[2 * i + 1].short_name} "
                             f"and {icbs[i].short_name} Partnership{self.suffix}",
                        short_name=f"{councils[2 * i].short_name.split()[0]} partnership",
                        board_name="Joint Commissioning Board")
            for i in range(n)
        ]
        Partnership.objects.bulk_create(partnerships)
        members = []
        self.members: dict[int, list] = {}
        for i, partnership in enumerate(partnerships):
            orgs = [councils[2 * i], councils[2 * i + 1], icbs[i]]
            # Every other ICB also sits in the next partnership: its people see two.
            if i % 2 == 0 and n > 1:
                orgs_next = icbs[i]
                members.append(PartnershipMember(partnership=partnerships[(i + 1) % n],
                                                 organisation=orgs_next,
                                                 joined_on=date(2020, 4, 1)))
            members += [PartnershipMember(partnership=partnership, organisation=o,
                                          joined_on=date(2019, 4, 1)) for o in orgs]
            self.members[partnership.pk] = orgs
        PartnershipMember.objects.bulk_create(members)
        self.partnerships = partnerships
        # Big providers (NHS trusts) hold many contracts; most charities a handful.
        self.provider_weights = [12 if p.kind == "nhs_trust" else
                                 (3 if p.kind == "independent_provider" else 1)
                                 for p in providers]
        self.counts.update(partnerships=n, commissioning_organisations=len(councils) +
                           len(icbs), providers=len(providers),
                           organisations=len(councils) + len(icbs) + len(providers))
        self.step("organisations and partnerships")

    # --- Users -----------------------------------------------------------------------------

    def users(self) -> None:
        password = make_password(PASSWORD)  # hashed once: PBKDF2 per user would take hours
        users, memberships = [], []
        commissioner_roles = ["commissioner", "commissioner", "contract_manager",
                              "contract_manager", "finance_officer", "report_officer",
                              "read_only", "partnership_admin"]
        serial = 0

        def person(org, role: str, email: str | None = None, **extra) -> User:
            nonlocal serial
            serial += 1
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            slug = "".join(ch for ch in (org.short_name if org else "staff").lower()
                           if ch.isalnum())[:20]
            user = User(email=email or f"{first}.{last}.{serial}@{slug}.{EMAIL_DOMAIN}".lower(),
                        full_name=f"{first} {last}", password=password,
                        job_title=role.replace("_", " ").capitalize(), **extra)
            users.append(user)
            if org is not None:
                memberships.append((user, org, role))
            return user

        persona_icb = self.icbs[0]  # sits in partnerships 0 and 1
        persona_provider = max(
            (p for p in self.providers if p.kind == "nhs_trust"), key=lambda p: p.pk)
        self.persona_provider = persona_provider
        commissioner = person(persona_icb, "commissioner", PERSONAS["commissioner"])
        commissioner.full_name = "Casey Commissioner"
        finance = person(persona_icb, "finance_officer", PERSONAS["finance"])
        finance.full_name = "Frankie Finance"
        provider_user = person(persona_provider, "provider_submitter", PERSONAS["provider"])
        provider_user.full_name = "Parveen Provider"
        person(None, "admin", PERSONAS["admin"], is_staff=True, is_superuser=True)
        commissioning_orgs = self.councils + self.icbs
        per_org = max(8, (self.size.users * 24 // 100) // len(commissioning_orgs))
        for org in commissioning_orgs:
            for i in range(per_org):
                person(org, commissioner_roles[i % len(commissioner_roles)])
        while len(users) < self.size.users:
            org = self.providers[len(users) % len(self.providers)]
            person(org, "provider_submitter" if len(users) % 3 else "provider_approver")
        User.objects.bulk_create(users, batch_size=2000)
        Membership.objects.bulk_create(
            [Membership(user=u, organisation=o, role=r) for u, o, r in memberships],
            batch_size=5000)
        # Commissioners must use two factors: each has a confirmed authenticator app whose
        # key is derived from the e-mail address (bench/loadtest.py can compute codes).
        commissioner_side = {u.pk for u, o, _r in memberships if o.kind in (
            "local_authority", "nhs_commissioner")}
        TOTPDevice.objects.bulk_create(
            [TOTPDevice(user=u, name="Authenticator app", confirmed=True,
                        key=totp_key(u.email))
             for u in users if u.pk in commissioner_side or u.is_superuser],
            batch_size=5000)
        self.staff_by_org: dict[int, list] = defaultdict(list)
        for user, org, role in memberships:
            self.staff_by_org[org.pk].append((user, role))
        self.counts.update(users=len(users), memberships=len(memberships))
        self.step("users, memberships and authenticator devices")

    # --- Contracts ---------------------------------------------------------------------------

    def contracts(self) -> None:
        rng = self.rng
        regimes = list(ROUTES_BY_REGIME.items())
        areas = list(SERVICES)
        contracts = []
        per_partnership = self.size.contracts // len(self.partnerships)
        providers = self.providers
        cumulative = list(itertools.accumulate(self.provider_weights))
        for p_index, partnership in enumerate(self.partnerships):
            orgs = self.members[partnership.pk]
            managers = [u for org in orgs for u, role in self.staff_by_org[org.pk]
                        if role == "contract_manager"]
            for n in range(per_partnership):
                area = areas[rng.randrange(len(areas))]
                service = rng.choice(SERVICES[area])
                regime, routes = regimes[rng.randrange(len(regimes))]
                # Most contracts started two to six years ago and run past today (some on an
                # exercised extension); a few ended long ago, a few have not started yet.
                kind = rng.random()
                if kind < 0.03:
                    start = self.today + timedelta(days=rng.randrange(30, 240))
                    years = rng.choice([3, 4, 5])
                elif kind < 0.06:
                    start = self.today - timedelta(days=rng.randrange(6 * 365, 8 * 365))
                    years = 3
                else:
                    start = self.today - timedelta(days=rng.randrange(800, 2200))
                    years = (self.today - start).days // 365 + rng.choice([0, 1, 1, 2, 3])
                initial_end = date(start.year + years, start.month, 1) - timedelta(days=1)
                if initial_end < self.today:
                    status = "extended" if initial_end > self.today - timedelta(days=300) \
                        else rng.choice(["expired", "expired", "terminated"])
                elif start > self.today:
                    status = rng.choice(["planned", "in_procurement", "awarded"])
                else:
                    status = "live"
                lead = orgs[n % len(orgs)]
                place = lead.short_name.split()[0]
                value = Decimal(int(rng.lognormvariate(12.2, 1.1)) // 100 * 100 + 50)
                contracts.append(Contract(
                    reference=f"{place[:3].upper()}-{p_index:02d}-{n:05d}",
                    title=f"{service} – {place}",
                    description=f"{service} for adults and families in {place}",
                    service_area=area,
                    provider=rng.choices(providers, cum_weights=cumulative)[0],
                    holder=lead, lead_commissioner=lead, partnership=partnership,
                    contract_manager=rng.choice(managers) if managers else None,
                    procurement_regime=regime, procurement_route=rng.choice(routes),
                    tendered=regime in ("pcr_2015", "pa_2023"), start_date=start,
                    initial_end_date=initial_end, notice_period_months=rng.choice([3, 6]),
                    annual_value=min(value, Decimal("45000000")), status=status,
                    awarded_on=start - timedelta(days=45),
                ))
        # The persona provider also delivers a realistic handful of contracts in each of the
        # persona commissioner's partnerships (its task list is what the benchmark opens).
        Contract.objects.bulk_create(contracts, batch_size=2000)
        self.contracts_list = contracts
        shares, lines, options, decisions = [], [], [], []
        for contract in contracts:
            orgs = self.members[contract.partnership_id]
            council, icb = orgs[0] if contract.lead_commissioner_id != orgs[1].pk else orgs[1], \
                orgs[2]
            split = rng.choice([50, 60, 70, 100])
            shares.append(CommissioningShare(contract=contract, organisation=council,
                                             share_percent=Decimal(split)))
            if split < 100:
                shares.append(CommissioningShare(contract=contract, organisation=icb,
                                                 share_percent=Decimal(100 - split)))
            # Most contracts are monitored jointly by every partner (a 0% share), so they
            # appear in the partnership's monthly joint monitoring report; the rest stay with
            # the partners that pay for them.
            if rng.random() < 0.8:
                paying = {council.pk} | ({icb.pk} if split < 100 else set())
                shares += [CommissioningShare(contract=contract, organisation=org,
                                              share_percent=Decimal(0), joint_monitoring=True)
                           for org in orgs if org.pk not in paying]
            for i, name in enumerate(rng.sample(LINES, rng.randrange(2, 5))):
                lines.append(ServiceLine(contract=contract, name=name, order=i))
            for seq in range(1, rng.choice([1, 2, 2, 3])):
                options.append(ExtensionOption(
                    contract=contract, sequence=seq, length_months=12,
                    exercised=contract.status == "extended" and seq == 1))
            decisions.append(Decision(
                contract=contract, purpose="award",
                decision_maker=rng.choice(["executive", "cabinet", "icb_board",
                                           "delegated_officer"]),
                body_name="Joint Commissioning Board", meeting_date=contract.start_date -
                timedelta(days=rng.randrange(40, 120)),
                report_reference=f"JCB{contract.start_date:%y}-{rng.randrange(1000):03d}",
                is_key=contract.annual_value > 500_000, outcome="Approved"))
            if contract.status == "extended":
                decisions.append(Decision(
                    contract=contract, purpose="extension", decision_maker="executive",
                    meeting_date=contract.initial_end_date - timedelta(days=150),
                    report_reference=f"EXT-{contract.pk}", outcome="Option 1 exercised"))
        CommissioningShare.objects.bulk_create(shares, batch_size=5000)
        ServiceLine.objects.bulk_create(lines, batch_size=5000)
        ExtensionOption.objects.bulk_create(options, batch_size=5000)
        Decision.objects.bulk_create(decisions, batch_size=5000)
        self.lines_by_contract: dict[int, list] = defaultdict(list)
        for line in lines:
            self.lines_by_contract[line.contract_id].append(line)
        self.counts.update(contracts=len(contracts), service_lines=len(lines),
                           shares=len(shares), extension_options=len(options),
                           decisions=len(decisions))
        self.step("contracts, service lines, shares, options and decisions")

    # --- Frameworks (only once the models exist) ---------------------------------------------

    def frameworks(self) -> None:
        needed = ("Framework", "FrameworkParty", "Lot", "ProcurementWindow",
                  "ProviderApplication", "CallOff")
        if not all(hasattr(contract_models, name) for name in needed) or \
                contract_models.Framework._meta.db_table not in \
                connection.introspection.table_names():
            self.stdout.write("  frameworks: models not there yet, skipped")
            return
        Framework = contract_models.Framework
        rng = self.rng
        frameworks, parties, lots, windows = [], [], [], []
        lot_titles = ["Home care", "Reablement", "Supported living", "Day opportunities",
                      "Carers' breaks", "Advocacy", "Community support", "Specialist care"]
        for i in range(self.size.frameworks):
            partnership = self.partnerships[i % len(self.partnerships)]
            start = self.today - timedelta(days=rng.randrange(0, 3 * 365))
            frameworks.append(Framework(
                partnership=partnership, reference=f"FW-{i:03d}",
                title=f"{rng.choice(lot_titles)} framework {start.year}",
                description="Joint framework under an Inter Authority Agreement",
                start_date=start, initial_term_months=48, extension_months=24,
                estimated_total_value=Decimal(rng.randrange(2, 80)) * 1_000_000,
                open_to_new_providers=i % 2 == 0, status="live"))
        Framework.objects.bulk_create(frameworks)
        for i, framework in enumerate(frameworks):
            orgs = self.members[framework.partnership_id]
            parties += [contract_models.FrameworkParty(framework=framework, organisation=o,
                                                       is_lead=o is orgs[0]) for o in orgs]
            windows.append(contract_models.ProcurementWindow(
                framework=framework, opens=framework.start_date - timedelta(days=90),
                closes=framework.start_date - timedelta(days=60)))
            count = self.size.lots // self.size.frameworks + (
                1 if i < self.size.lots % self.size.frameworks else 0)
            for number in range(1, count + 1):
                lots.append(contract_models.Lot(
                    framework=framework, number=number,
                    title=lot_titles[(i + number) % len(lot_titles)],
                    provider_skills="Registered with the CQC\nTrauma-informed practice",
                    outcomes="People stay independent at home\nFewer hospital admissions"))
        contract_models.FrameworkParty.objects.bulk_create(parties)
        contract_models.ProcurementWindow.objects.bulk_create(windows)
        contract_models.Lot.objects.bulk_create(lots)
        window_by_framework = {w.framework_id: w for w in windows}
        applications = []
        for lot in lots:
            window = window_by_framework[lot.framework_id]
            for provider in rng.sample(self.providers, min(12, len(self.providers))):
                admitted = rng.random() < 0.8
                applications.append(contract_models.ProviderApplication(
                    provider=provider, lot=lot, window=window,
                    submitted_on=window.opens + timedelta(days=5),
                    evaluation="met" if admitted else "not_met",
                    evaluated_on=window.closes + timedelta(days=10),
                    decision="admitted" if admitted else "rejected",
                    framework_agreement_date=window.closes + timedelta(days=20)
                    if admitted else None))
        contract_models.ProviderApplication.objects.bulk_create(applications, batch_size=5000)
        # Some contracts of each partnership were called off from its frameworks' lots.
        lots_by_partnership = defaultdict(list)
        framework_partnership = {f.pk: f.partnership_id for f in frameworks}
        for lot in lots:
            lots_by_partnership[framework_partnership[lot.framework_id]].append(lot)
        call_offs = []
        for contract in self.contracts_list[::25]:
            candidates = lots_by_partnership.get(contract.partnership_id)
            if not candidates:
                continue
            call_offs.append(contract_models.CallOff(
                lot=rng.choice(candidates), contract=contract, award_method="direct_award",
                direct_award_justification="Highest ranked provider on the lot",
                funding_arrangement="section_75",
                called_off_on=contract.start_date - timedelta(days=30)))
        contract_models.CallOff.objects.bulk_create(call_offs, batch_size=5000)
        self.counts.update(frameworks=len(frameworks), lots=len(lots),
                           provider_applications=len(applications), call_offs=len(call_offs))
        self.step("frameworks, lots, windows, applications and call-offs")

    # --- KPIs, targets, returns and values -------------------------------------------------

    def kpis_and_returns(self) -> None:
        provider_staff = {org_id: [u for u, _r in staff]
                          for org_id, staff in self.staff_by_org.items()}
        reviewers = {p.pk: [u for org in self.members[p.pk] for u, r in
                            self.staff_by_org[org.pk] if r in ("commissioner",
                                                                "contract_manager")]
                     for p in self.partnerships}
        self.counts.update(kpis_and_returns(
            self.contracts_list, rng=self.rng, today=self.today, now=self.now,
            quarters=self.size.quarters, kpis_per_contract=self.size.kpis_per_contract,
            lines_by_contract=self.lines_by_contract, staff_by_provider=provider_staff,
            reviewers_by_partnership=reviewers, step=self.step))

    # --- Section 75 agreements ----------------------------------------------------------------

    def funding(self) -> None:
        rng = self.rng
        this_year = financial_year_start(self.today)
        first_year = this_year - 4  # five financial years, the current one last
        sources = {s.code: s for s in FundingSource.objects.all()}
        agreements = []
        for partnership in self.partnerships:
            orgs = self.members[partnership.pk]
            agreements.append(Section75Agreement(
                partnership=partnership, title=f"{partnership.short_name.split()[0]} Better "
                f"Care Fund pooled budget{self.suffix}",
                reference=f"S75-{partnership.pk:03d}", host_partner=orgs[0],
                arrangement_type="pooled_fund", start_date=date(first_year, 4, 1),
                end_date=date(this_year + 1, 3, 31),
                review_date=date(this_year, 10, 1), governance_board="Health and Wellbeing "
                "Board", aims="Joined-up care closer to home", risk_share_rule=rng.choice(
                    ["fixed_split", "proportional", "own"]),
                underspend_rule="carry_forward", parallel_reduction=True))
        Section75Agreement.objects.bulk_create(agreements)
        partners = []
        for agreement in agreements:
            orgs = self.members[agreement.partnership_id]
            shares = [Decimal("40"), Decimal("20"), Decimal("40")]
            partners += [AgreementPartner(agreement=agreement, organisation=o,
                                          risk_share_percent=s)
                         for o, s in zip(orgs, shares, strict=True)]
        AgreementPartner.objects.bulk_create(partners)
        types = list(SchemeType.values)
        schemes = []
        per_agreement = self.size.schemes // len(agreements)
        for agreement in agreements:
            orgs = self.members[agreement.partnership_id]
            for n in range(per_agreement):
                scheme_type = types[n % len(types)]
                schemes.append(Scheme(
                    agreement=agreement, code=f"BCF-{n + 1:02d}",
                    name=f"{SchemeType(scheme_type).label} {n // len(types) + 1}",
                    lead_partner=orgs[n % 3], scheme_type=scheme_type,
                    is_bcf=True, commissioner=["la", "nhs", "joint"][n % 3],
                    nhs_percent=Decimal("50") if n % 3 == 2 else None,
                    la_percent=Decimal("50") if n % 3 == 2 else None,
                    provider=rng.choice(self.providers),
                    area_of_spend=["social_care", "community_health", "mental_health"][n % 3],
                    planned_outputs=Decimal(rng.randrange(100, 5000)), output_units="people"))
        Scheme.objects.bulk_create(schemes, batch_size=2000)
        budgets, contributions, actuals, allocations = [], [], [], []
        months = [add_months(self.today.replace(day=1), -i) for i in range(36, 0, -1)]
        la, nhs = sources.get("council-core"), sources.get("bcf-nhs-minimum")
        ibcf = sources.get("ibcf")
        contracts_by_partnership = defaultdict(list)
        for contract in self.contracts_list:
            contracts_by_partnership[contract.partnership_id].append(contract)
        for scheme in schemes:
            orgs = self.members[scheme.agreement.partnership_id]
            base = Decimal(rng.randrange(200, 6000)) * 1000
            for year in range(first_year, this_year + 1):
                amount = (base * Decimal("1.03") ** (year - first_year)).quantize(Decimal("1"))
                budgets.append(SchemeBudget(scheme=scheme, year=year, amount=amount))
                council_part = (amount * Decimal("0.4")).quantize(Decimal("1"))
                ibcf_part = (amount * Decimal("0.15")).quantize(Decimal("1"))
                rows = [(orgs[0], la, council_part), (orgs[0], ibcf, ibcf_part),
                        (orgs[2], nhs, amount - council_part - ibcf_part)]
                contributions += [Contribution(scheme=scheme, partner=o, year=year, source=s,
                                               amount=a) for o, s, a in rows if s]
            for month in months:
                year_amount = base * Decimal("1.03") ** (financial_year_start(month) -
                                                       first_year)
                actual = (year_amount / 12 * Decimal(rng.uniform(0.85, 1.12))).quantize(
                    Decimal("0.01"))
                actuals.append(MonthlyActual(
                    scheme=scheme, month=month, actual=actual,
                    forecast_outturn=(year_amount * Decimal(rng.uniform(0.95, 1.05))).quantize(
                        Decimal("0.01"))))
            candidates = contracts_by_partnership[scheme.agreement.partnership_id]
            contract = candidates[scheme.pk % len(candidates)] if candidates else None
            if contract is not None and nhs:
                allocations.append(ContractFunding(
                    contract=contract, scheme=scheme, source=nhs, basis="amount",
                    amount=min(contract.annual_value, base).quantize(Decimal("0.01"))))
        SchemeBudget.objects.bulk_create(budgets, batch_size=5000)
        Contribution.objects.bulk_create(contributions, batch_size=5000)
        MonthlyActual.objects.bulk_create(actuals, batch_size=5000)
        ContractFunding.objects.bulk_create(allocations, batch_size=5000)
        self.counts.update(agreements=len(agreements), schemes=len(schemes),
                           scheme_budgets=len(budgets), contributions=len(contributions),
                           monthly_actuals=len(actuals), contract_funding=len(allocations))
        self.step("Section 75 agreements, schemes, budgets, contributions and actuals")


def totp_key(email: str) -> str:
    """A generated user's authenticator key (hex), derived from the e-mail address so the
    load test can compute codes. Generated data only: never for real accounts."""

    return hashlib.sha256(f"scale-data:{email}".encode()).hexdigest()[:40]
