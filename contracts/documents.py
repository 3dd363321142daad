"""A contract's documents: stored only after ``commissioning.uploads`` has checked them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from commissioning import uploads
from commissioning.models import User
from contracts.models import (
    Contract,
    ContractDocument,
    DocumentKind,
)

DOCUMENT_EXTENSIONS = (".pdf", ".docx", ".xlsx", ".odt", ".csv", ".txt")
DOCUMENT_TYPES = uploads.file_types(*DOCUMENT_EXTENSIONS)
ALLOWED_DESCRIPTION = uploads.described(*DOCUMENT_EXTENSIONS)


@transaction.atomic
def document_upload(
    *, contract: Contract, kind: str, upload: UploadedFile, uploaded_by: User
) -> ContractDocument:
    """Store a document under a random name after ``commissioning.uploads`` has checked it
    (size, type by content, and for DOCX/XLSX/ODT the archive: bombs, macros, embedded files)."""
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": "Select what kind of document this is"})
    checked = uploads.check_for_field(upload, DOCUMENT_TYPES, ALLOWED_DESCRIPTION)
    document = ContractDocument(
        contract=contract, kind=kind, original_name=checked.name, size=upload.size,
        content_type=checked.content_type, uploaded_by=uploaded_by,
    )
    document.file.save(checked.name, upload, save=False)
    document._history_user = uploaded_by
    try:
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    return document
