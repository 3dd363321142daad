"""Writes for the core app: invitations and memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from commissioning.email import email_queue
from commissioning.models import Invitation, Membership, Organisation, User


class InvitationError(Exception):
    """An invitation that cannot be used; the message is safe to show to the person."""


@transaction.atomic
def invitation_create(
    *, invited_by: User, email: str, full_name: str, organisation: Organisation, role: str
) -> Invitation | Membership:
    """Invite a person to an organisation with a role.

    A new person gets a one-time link to set a password. A person who already has an account
    is given the role straight away and told by e-mail.
    """
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        membership, _ = Membership.objects.update_or_create(
            user=existing, organisation=organisation, role=role, defaults={"is_active": True}
        )
        body = render_to_string(
            "emails/role_granted.txt",
            {"user": existing, "organisation": organisation, "membership": membership,
             "site_url": settings.SITE_URL, "service_name": settings.SERVICE_NAME},
        )
        email_queue(
            subject=f"You now have access to {organisation.display_name}",
            body=body,
            to=[existing.email],
        )
        return membership

    # A new invitation replaces any earlier pending one for the same person and organisation.
    Invitation.objects.pending().filter(email__iexact=email, organisation=organisation).update(
        revoked_at=timezone.now()
    )
    token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        email=email,
        full_name=full_name.strip(),
        organisation=organisation,
        role=role,
        token_hash=token_hash,
        invited_by=invited_by,
        expires_at=Invitation.default_expiry(),
    )
    link = settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})
    body = render_to_string(
        "emails/invitation.txt",
        {"invitation": invitation, "link": link, "service_name": settings.SERVICE_NAME},
    )
    email_queue(
        subject=f"You have been invited to {settings.SERVICE_NAME}", body=body, to=[email]
    )
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """Find a usable invitation; raises InvitationError with a message for the person."""
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or invitation.revoked_at:
        raise InvitationError(
            "This invitation link is not valid. Ask your administrator to send a new one."
        )
    if invitation.accepted_at:
        raise InvitationError(
            "This invitation has already been used. Sign in with your email address and "
            "password, or reset your password."
        )
    if invitation.is_expired:
        raise InvitationError(
            "This invitation link has expired. Ask your administrator to send a new one."
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Create the invited person's account with their chosen password; the link then dies."""
    invitation = invitation_for_token(token)
    # Lock the row so a double-submit cannot accept it twice.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationError("This invitation has already been used.")
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=invitation.full_name
        )
    else:
        user.set_password(password)
        user.save(update_fields=["password"])
    Membership.objects.update_or_create(
        user=user, organisation=invitation.organisation, role=invitation.role,
        defaults={"is_active": True},
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
