"""Seed the funding sources every partnership uses; administrators may add more."""

from django.db import migrations

SOURCES = [
    # code, name, part of the Better Care Fund
    ("council-core", "Council core budget", False),
    ("nhs-baseline", "NHS/ICB baseline", False),
    ("bcf-nhs-minimum", "BCF NHS minimum contribution", True),
    ("ibcf", "Improved Better Care Fund (iBCF)", True),
    ("dfg", "Disabled Facilities Grant", True),
    ("discharge", "Discharge funding", True),
    ("public-health", "Public health grant", False),
    ("additional-la", "Additional LA contribution", True),
    ("additional-nhs", "Additional NHS contribution", True),
]


def seed(apps, schema_editor):
    FundingSource = apps.get_model("funding", "FundingSource")
    for order, (code, name, is_bcf) in enumerate(SOURCES, start=1):
        FundingSource.objects.update_or_create(
            code=code, defaults={"name": name, "is_bcf": is_bcf, "order": order * 10}
        )


def unseed(apps, schema_editor):
    FundingSource = apps.get_model("funding", "FundingSource")
    FundingSource.objects.filter(code__in=[code for code, _n, _b in SOURCES],
                                 contributions__isnull=True,
                                 contract_allocations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_funding_agreements")]

    operations = [migrations.RunPython(seed, unseed)]
