"""Demo world for the core app, drawn from the committee papers in shared/seeds/.

Bromley Council with the ICB that replaced Bromley CCG; Merton Council with its ICB;
Cambridgeshire County Council, Peterborough City Council and their ICB; the providers the
papers name; and a demo user for every role. Safe to run any number of times.
"""

from __future__ import annotations

from commissioning.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Partnership,
    PartnershipMember,
    Role,
    User,
)

DEMO_PASSWORD = "Demo-commissioning-2026"

K = OrganisationKind
ORGANISATIONS = [
    # name, short name, kind, ODS code, registration number, SME, VCSE
    ("London Borough of Bromley", "Bromley Council", K.LOCAL_AUTHORITY, "", "", False, False),
    ("NHS South East London Integrated Care Board", "NHS South East London ICB",
     K.NHS_COMMISSIONER, "QKK", "", False, False),
    ("London Borough of Merton", "Merton Council", K.LOCAL_AUTHORITY, "", "", False, False),
    ("NHS South West London Integrated Care Board", "NHS South West London ICB",
     K.NHS_COMMISSIONER, "QWE", "", False, False),
    ("Cambridgeshire County Council", "Cambridgeshire County Council", K.LOCAL_AUTHORITY, "",
     "", False, False),
    ("Peterborough City Council", "Peterborough City Council", K.LOCAL_AUTHORITY, "", "",
     False, False),
    ("NHS Cambridgeshire and Peterborough Integrated Care Board",
     "NHS Cambridgeshire and Peterborough ICB", K.NHS_COMMISSIONER, "QUE", "", False, False),
    # Providers named in the papers
    ("Bromley Third Sector Enterprise", "Bromley Well", K.VCSE, "", "09988123", True, True),
    ("Bromley Healthcare Community Interest Company", "Bromley Healthcare", K.VCSE, "DXB",
     "06940218", False, True),
    ("Alzheimer's Society (Bromley Dementia Hub)", "Bromley Dementia Hub", K.VCSE, "", "296645",
     False, True),
    ("Central London Community Healthcare NHS Trust", "CLCH", K.NHS_TRUST, "RYX", "", False,
     False),
    ("South West London and St George's Mental Health NHS Trust", "SWLSTG", K.NHS_TRUST, "RQY",
     "", False, False),
    ("Carers Support Merton", "Carers Support Merton", K.VCSE, "", "1085736", True, True),
    ("Care Network Cambridgeshire", "Care Network", K.VCSE, "", "1068783", True, True),
    ("Caring Together Charity", "Caring Together", K.VCSE, "", "1112405", True, True),
    ("Hunts Forum of Voluntary Organisations", "Hunts Forum", K.VCSE, "", "1079836", True, True),
    ("Age UK Cambridgeshire and Peterborough", "Age UK Cambridgeshire and Peterborough", K.VCSE,
     "", "1085776", True, True),
    ("Volunteer Action Cambridgeshire", "Volunteer Action", K.VCSE, "", "1112522", True, True),
]

PARTNERSHIPS = [
    ("Bromley Council and NHS South East London ICB", "Bromley Joint Commissioning",
     "Integrated Commissioning Board",
     ["London Borough of Bromley", "NHS South East London Integrated Care Board"]),
    ("Merton Council and NHS South West London ICB", "Merton Joint Commissioning",
     "Merton Health and Care Together Committee",
     ["London Borough of Merton", "NHS South West London Integrated Care Board"]),
    ("Cambridgeshire and Peterborough Joint Commissioning", "Cambridgeshire and Peterborough",
     "Joint Commissioning Board",
     ["Cambridgeshire County Council", "Peterborough City Council",
      "NHS Cambridgeshire and Peterborough Integrated Care Board"]),
]

R = Role
USERS = [
    # e-mail, full name, job title, phone, [(organisation, role)]
    ("josepha.reynolds@bromley.example.org", "Josepha Reynolds",
     "Joint Commissioning Development Lead", "020 8461 7395",
     [("London Borough of Bromley", R.COMMISSIONER), ("London Borough of Bromley",
                                                       R.PARTNERSHIP_ADMIN)]),
    ("alicia.munday@bromley.example.org", "Alicia Munday", "Head of Programme Design",
     "020 8313 4559", [("London Borough of Bromley", R.CONTRACT_MANAGER)]),
    ("finance.officer@bromley.example.org", "Priya Shah", "Finance Business Partner, ECHS",
     "020 8313 4100", [("London Borough of Bromley", R.FINANCE_OFFICER)]),
    ("report.officer@bromley.example.org", "Graham Walters", "Democratic Services Officer",
     "020 8461 7743", [("London Borough of Bromley", R.REPORT_OFFICER)]),
    ("viewer@bromley.example.org", "Sam Okafor", "Councillor support officer", "",
     [("London Borough of Bromley", R.READ_ONLY)]),
    ("paul.feven@selondon-icb.example.org", "Paul Feven", "Director of Programmes",
     "020 8313 4000", [("NHS South East London Integrated Care Board", R.COMMISSIONER)]),
    ("richard.ellis@merton.example.org", "Richard Ellis", "Head of Strategy & Partnerships",
     "020 8545 3000", [("London Borough of Merton", R.COMMISSIONER)]),
    ("sandra.pedley@cpicb.example.org", "Sandra Pedley", "Commissioning Manager - Integration",
     "01223 725 400",
     [("NHS Cambridgeshire and Peterborough Integrated Care Board", R.COMMISSIONER)]),
    ("submitter@bromleywell.example.org", "Dee Francis", "Performance Officer", "",
     [("Bromley Third Sector Enterprise", R.PROVIDER_SUBMITTER)]),
    ("approver@bromleywell.example.org", "Morgan Ellis", "Chief Executive", "",
     [("Bromley Third Sector Enterprise", R.PROVIDER_APPROVER)]),
    ("submitter@ageuk-cap.example.org", "Jo Harrington", "Contracts Manager", "",
     [("Age UK Cambridgeshire and Peterborough", R.PROVIDER_SUBMITTER)]),
    ("commissioner@cambridgeshire.example.org", "Helen Dyer", "Commissioner, Adult Social Care",
     "", [("Cambridgeshire County Council", R.COMMISSIONER)]),
    ("commissioner@peterborough.example.org", "Tom Okoro", "Commissioner, Adult Social Care",
     "", [("Peterborough City Council", R.COMMISSIONER)]),
    ("submitter@dementiahub.example.org", "Niamh O'Connor", "Hub Services Manager", "",
     [("Alzheimer's Society (Bromley Dementia Hub)", R.PROVIDER_SUBMITTER)]),
    ("admin@example.org", "Service Administrator", "Platform administrator", "", []),
]



def upsert(model, defaults: dict | None = None, **lookup):
    """``update_or_create`` that writes only when something changed, so running the demo
    again changes nothing, not even the history. Returns ``(obj, created)``."""
    defaults = defaults or {}
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **defaults), True
    changed = [name for name, value in defaults.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, defaults[name])
        obj.save()
    return obj, False


def load(stdout) -> None:
    organisations: dict[str, Organisation] = {}
    for name, short, kind, ods, reg, sme, vcse in ORGANISATIONS:
        organisations[name], _ = upsert(
            Organisation, name=name,
            defaults={"short_name": short, "kind": kind, "ods_code": ods,
                      "registration_number": reg, "is_sme": sme, "is_vcse": vcse},
        )
    for name, short, board, members in PARTNERSHIPS:
        partnership, _ = upsert(
            Partnership, name=name, defaults={"short_name": short, "board_name": board}
        )
        for member in members:
            PartnershipMember.objects.get_or_create(
                partnership=partnership, organisation=organisations[member]
            )
    for email, full_name, title, phone, roles in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=full_name,
                job_title=title, phone=phone,
            )
        if email == "admin@example.org" and not user.is_superuser:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        for org_name, role in roles:
            Membership.objects.get_or_create(
                user=user, organisation=organisations[org_name], role=role
            )
    stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
    for email, full_name, _title, _phone, roles in USERS:
        described = ", ".join(f"{Role(r).label} at {o}" for o, r in roles) or "staff administrator"
        stdout.write(f"  {email:42} {full_name}: {described}")
