"""Who may change contracts and their documents. Seeing a contract is decided by
``Contract.objects.for_user``; these functions decide what a user may do with one they see."""

from __future__ import annotations

from commissioning import access
from commissioning.models import PartnershipMember, Role
from contracts.models import Contract, ContractDocument, DocumentKind

EDITING_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.PARTNERSHIP_ADMIN)

# Providers may fetch the documents that bind them, not the commissioners' committee papers.
PROVIDER_DOCUMENT_KINDS = frozenset({DocumentKind.SIGNED_CONTRACT, DocumentKind.SPECIFICATION})


def _partnership_ids(user) -> frozenset[int]:
    """Partnerships of the user's current organisation, cached on the user for the request."""
    organisation = access.current_organisation(user)
    if organisation is None:
        return frozenset()
    cache = getattr(user, "_contract_partnership_ids", None)
    if cache is None or cache[0] != organisation.pk:
        ids = frozenset(
            PartnershipMember.objects.filter(organisation=organisation).values_list(
                "partnership_id", flat=True
            )
        )
        cache = (organisation.pk, ids)
        user._contract_partnership_ids = cache
    return cache[1]


def can_create_contract(user) -> bool:
    """A commissioner, contract manager or partnership administrator of a partner organisation."""
    if access.is_platform_admin(user):
        return True
    return (
        access.is_commissioner_side(user)
        and access.has_role(user, *EDITING_ROLES)
        and bool(_partnership_ids(user))
    )


def can_edit_contract(user, contract: Contract) -> bool:
    """Editing roles at an organisation in the contract's partnership; never providers or
    read-only, finance or report officers."""
    if access.is_platform_admin(user):
        return True
    return (
        access.is_commissioner_side(user)
        and access.has_role(user, *EDITING_ROLES)
        and contract.partnership_id in _partnership_ids(user)
    )


def can_upload_document(user, contract: Contract) -> bool:
    return can_edit_contract(user, contract)


def can_download_document(user, document: ContractDocument) -> bool:
    """Anyone on the commissioning side who sees the contract; its provider only the signed
    contract and the specification. The caller has already checked the contract is visible."""
    if access.is_platform_admin(user):
        return True
    if access.is_commissioner_side(user):
        return document.contract.partnership_id in _partnership_ids(user)
    if access.is_provider_user(user):
        organisation = access.current_organisation(user)
        return (
            document.contract.provider_id == organisation.pk
            and document.kind in PROVIDER_DOCUMENT_KINDS
        )
    return False


def can_export_register(user) -> bool:
    """Anyone who has a register to see: the commissioning side, providers (their own
    contracts only, through ``for_user``) and platform administrators."""
    return (access.is_platform_admin(user) or access.is_commissioner_side(user)
            or access.is_provider_user(user))


def can_import_register(user) -> bool:
    """The people who may add contracts one by one may also import a register."""
    return can_create_contract(user)


# --- Frameworks ------------------------------------------------------------------------------
# Seeing a framework is decided by ``Framework.objects.for_user``; these decide what a user may
# do with one. Providers act only through their own applications.

def can_create_framework(user) -> bool:
    """The same people who may add contracts to the register."""
    return can_create_contract(user)


def can_edit_framework(user, framework) -> bool:
    """Editing roles at an organisation in the framework's partnership: set up lots and
    windows, evaluate applications, call off services."""
    if access.is_platform_admin(user):
        return True
    return (
        access.is_commissioner_side(user)
        and access.has_role(user, *EDITING_ROLES)
        and framework.partnership_id in _partnership_ids(user)
    )


def can_apply_to_frameworks(user) -> bool:
    """A provider user applies for its own organisation."""
    return access.is_provider_user(user)
