"""The KPI library: sets commissioners copy onto contracts (seed 003 and the BCF metrics)."""

from decimal import Decimal

from django.db import migrations

D = Decimal
# code, name, quadrant, data type, unit, direction, frequency, target, tolerance, s.52,
# evidence, definition
LIBRARY = {
    "Bromley Well generic outputs": (
        "The outputs measured across all eight Bromley Well pathways (seed 003).",
        [
            ("BW-G1", "% service users with an improved quality of life in terms of health "
             "and wellbeing", "better_off", "percentage", "%", "higher", "quarterly", D("80"),
             D("5"), True, False, "Service users whose wellbeing score improved between "
             "assessment and review, out of all reviewed"),
            ("BW-G2", "% service users supported to avoid crisis, including emergency hospital "
             "admissions", "better_off", "percentage", "%", "higher", "quarterly", D("85"),
             D("5"), True, False, "Service users with no unplanned admission during support"),
            ("BW-G3", "% service users supported to delay or prevent social care packages",
             "better_off", "percentage", "%", "higher", "quarterly", D("75"), D("5"), True,
             False, "Including increases to existing packages"),
            ("BW-G4", "% service users accessing relevant information, advice and guidance",
             "how_well", "percentage", "%", "higher", "quarterly", D("90"), D("5"), False,
             False, ""),
            ("BW-G5", "% service users developing plans for the future", "better_off",
             "percentage", "%", "higher", "quarterly", D("70"), D("10"), False, False, ""),
            ("BW-G6", "Number of service users supported", "how_much", "count", "people",
             "higher", "quarterly", D("600"), D("60"), False, False, ""),
        ],
    ),
    "Dementia Hub": (
        "Outputs and KPIs of the Bromley Dementia Hub (seed 003).",
        [
            ("DH1", "Referrals to the hub (caseload of 60 a month)", "how_much", "count",
             "referrals", "higher", "quarterly", D("180"), D("18"), True, False,
             "The contract sets a caseload of 60 referrals a month: 180 a quarter"),
            ("DH2", "% contacted by the hub within 10 working days of referral", "how_well",
             "percentage", "%", "higher", "quarterly", D("95"), D("5"), True, False, ""),
            ("DH3", "% of residents diagnosed with dementia supported through the hub",
             "how_well", "percentage", "%", "higher", "quarterly", D("100"), D("10"), True,
             True, "Memory clinic diagnoses in the quarter referred and supported"),
            ("DH4", "Service user satisfaction", "better_off", "percentage", "%", "higher",
             "quarterly", D("90"), D("5"), False, False,
             "Service users rating the service good or excellent, out of those surveyed"),
            ("DH5", "% still living in the same setting 12 months after diagnosis",
             "better_off", "percentage", "%", "higher", "quarterly", None, D("0"), False,
             False, "Target set once the service has a baseline"),
            ("DH6", "Average support hours per client", "how_much", "count", "hours",
             "within_range", "quarterly", D("6"), D("1"), False, False, ""),
            ("DH7", "Carers trained and supported", "how_much", "count", "carers", "higher",
             "quarterly", D("45"), D("5"), False, False, ""),
        ],
    ),
    "BCF metrics": (
        "Better Care Fund national metrics.",
        [
            ("BCF1", "Emergency admissions, people aged 65 and over, per 100,000", "better_off",
             "count", "per 100,000", "lower", "quarterly", D("5500"), D("250"), False, False,
             ""),
            ("BCF2", "% discharged to their usual place of residence", "better_off",
             "percentage", "%", "higher", "quarterly", D("93"), D("2"), False, False, ""),
            ("BCF3", "Admissions to residential and nursing care, 65 and over, per 100,000",
             "better_off", "count", "per 100,000", "lower", "annual", D("540"), D("30"), False,
             False, ""),
            ("BCF4", "% of older people still at home 91 days after discharge into reablement",
             "better_off", "percentage", "%", "higher", "quarterly", D("82"), D("3"), False,
             False, ""),
        ],
    ),
}


def load(apps, schema_editor):
    TemplateSet = apps.get_model("monitoring", "KPITemplateSet")
    Template = apps.get_model("monitoring", "KPITemplate")
    for name, (description, rows) in LIBRARY.items():
        template_set, _ = TemplateSet.objects.update_or_create(
            name=name, defaults={"description": description})
        for order, row in enumerate(rows, start=1):
            (code, title, quadrant, data_type, unit, direction, frequency, target, tolerance,
             s52, evidence, definition) = row
            if direction == "within_range":
                direction, upper = "range", (target + 2 if target is not None else None)
                target = target - 2 if target is not None else None
            else:
                upper = None
            Template.objects.update_or_create(
                template_set=template_set, code=code,
                defaults={"name": title, "quadrant": quadrant, "data_type": data_type,
                          "unit": unit, "direction": direction, "frequency": frequency,
                          "default_target": target, "default_upper": upper,
                          "default_tolerance": tolerance, "is_s52": s52,
                          "evidence_required": evidence, "definition": definition,
                          "order": order},
            )


def unload(apps, schema_editor):
    apps.get_model("monitoring", "KPITemplateSet").objects.filter(name__in=LIBRARY).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_kpis_returns_assessments")]

    operations = [migrations.RunPython(load, unload)]
