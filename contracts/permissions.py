"""Who may change contracts and their documents. Seeing a contract is decided by
``Contract.objects.for_user``; these functions decide what a user may do with one they see."""

from __future__ import annotations

from commissioning import access
from commissioning.models import Role
from contracts.models import Contract, ContractDocument, DocumentKind

EDITING_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.PARTNERSHIP_ADMIN)

# Providers may fetch the documents that bind them, not the commissioners' committee papers.
PROVIDER_DOCUMENT_KINDS = frozenset({DocumentKind.SIGNED_CONTRACT, DocumentKind.SPECIFICATION})


def can_create_contract(user) -> bool:
    """A commissioner, contract manager or partnership administrator of a partner organisation
    (whose organisation must then be one of the new contract's parties: ``contract_create``)."""
    return access.may_create_for_parties(user, EDITING_ROLES)


def can_edit_contract(user, contract: Contract) -> bool:
    """Editing roles at one of the contract's parties (holder, lead commissioner, a share);
    never providers or read-only, finance or report officers, nor other partners."""
    return access.may_change_contract(user, contract, EDITING_ROLES)


def editable_contracts(user, contracts):
    """``can_edit_contract`` for a queryset: those of ``contracts`` the user may change."""
    return contracts.filter(access.changeable_contracts_q(user, EDITING_ROLES))


def can_upload_document(user, contract: Contract) -> bool:
    return can_edit_contract(user, contract)


def can_download_document(user, document: ContractDocument) -> bool:
    """Any commissioner-side user of one of the contract's parties; its provider only the
    signed contract and the specification."""
    if access.is_platform_admin(user):
        return True
    if access.is_contract_party(user, document.contract):
        return True
    return (access.is_contract_provider(user, document.contract)
            and document.kind in PROVIDER_DOCUMENT_KINDS)


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
    """Editing roles at one of the framework's parties: set up lots and windows, evaluate
    applications, call off services."""
    return access.may_change_framework(user, framework, EDITING_ROLES)


def can_apply_to_frameworks(user) -> bool:
    """A provider user applies for its own organisation."""
    return access.is_provider_user(user)
