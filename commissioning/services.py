"""Writes for the core app: invitations and memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from commissioning import access
from commissioning.email import email_queue, render_plain_text
from commissioning.models import Invitation, Membership, Organisation, Role, User


class InvitationError(Exception):
    """An invitation that cannot be used; the message is safe to show to the person."""


@transaction.atomic
def invitation_create(
    *, invited_by: User, email: str, full_name: str, organisation: Organisation, role: str
) -> Invitation:
    """Invite a person to an organisation with a role.

    The inviter must be allowed to give that role there (``access.roles_user_can_grant``).
    Nobody is given a role without accepting it: a new person sets a password through a
    one-time link; a person who already has an account opens the same link, signs in as that
    account and accepts. Until then they have no access (see ``access`` for why).
    """
    if role not in access.roles_user_can_grant(invited_by, organisation):
        raise InvitationError(
            f"You cannot give the role of {Role(role).label.lower()} at "
            f"{organisation.display_name}")
    email = email.strip().lower()
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
    body = render_plain_text(
        "emails/invitation.txt",
        {"invitation": invitation, "link": link, "service_name": settings.SERVICE_NAME,
         "has_account": User.objects.filter(email__iexact=email).exists()},
    )
    email_queue(
        subject=f"You have been invited to {settings.SERVICE_NAME}", body=body, to=[email]
    )
    return invitation


def invitation_has_account(invitation: Invitation) -> bool:
    """Someone already has an account with the invitation's address: they accept it signed
    in as that account, never by setting a password through the link."""
    return User.objects.filter(email__iexact=invitation.email).exists()


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


def _claim(token: str) -> Invitation:
    invitation = invitation_for_token(token)
    # Lock the row so a double-submit cannot accept it twice.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise InvitationError("This invitation has already been used.")
    return invitation


def _grant(invitation: Invitation, user: User) -> None:
    Membership.objects.update_or_create(
        user=user, organisation=invitation.organisation, role=invitation.role,
        defaults={"is_active": True},
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Create the invited person's account with their chosen password; the link then dies.

    Only for a new person: the link never sets the password of an existing account (whoever
    holds the link would take the account over) and never grants it a role unseen.
    """
    invitation = _claim(token)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationError(
            "You already have an account. Sign in with your email address and password, then "
            "open the invitation link again to accept it.")
    user = User.objects.create_user(
        email=invitation.email, password=password, full_name=invitation.full_name
    )
    _grant(invitation, user)
    return user


@transaction.atomic
def invitation_accept_as(*, token: str, user: User) -> Invitation:
    """A signed-in person accepts an invitation addressed to their own account."""
    invitation = _claim(token)
    if not user.is_authenticated or user.email.lower() != invitation.email.lower():
        raise InvitationError(
            f"This invitation is for {invitation.email}. Sign out, then sign in as "
            f"{invitation.email} to accept it.")
    _grant(invitation, user)
    return invitation


@transaction.atomic
def invitation_accept_through_provider(*, invitation: Invitation) -> User:
    """A new person whose organisation signs its people in through its own account service
    (single sign-on, ``commissioning/sso.py``) accepts their pending invitation by signing in
    there with the invited, verified address: the account is made without a password and
    gets the role the inviter chose, nothing more."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at or invitation.is_expired:
        raise InvitationError("This invitation can no longer be used.")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationError("You already have an account.")
    user = User.objects.create_user(email=invitation.email, password=None,
                                    full_name=invitation.full_name)
    _grant(invitation, user)
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
