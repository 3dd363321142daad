"""Revoke pending invitations to a provider that nobody inside it (nor a platform
administrator) sent: before issue 13 a partnership administrator could invite anyone into a
provider linked to their partnership, and such a link, once accepted, would open the
provider's other partnerships' data (see commissioning/access.py, "Who may give whom a role").
"""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone

COMMISSIONING_KINDS = ("local_authority", "nhs_commissioner")


def revoke(apps, schema_editor):
    Invitation = apps.get_model("commissioning", "Invitation")
    Membership = apps.get_model("commissioning", "Membership")
    approver_inside = Membership.objects.filter(
        user=OuterRef("invited_by"), organisation=OuterRef("organisation"),
        role="provider_approver", is_active=True)
    Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, invited_by__is_superuser=False,
    ).exclude(organisation__kind__in=COMMISSIONING_KINDS).exclude(
        Exists(approver_inside)).update(revoked_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("commissioning", "0003_outbound_email")]
    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
