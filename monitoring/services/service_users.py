"""Service-user lists: NHS numbers uploaded for a period, kept only as keyed hashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from commissioning import uploads
from commissioning.models import User
from contracts.models import Contract
from monitoring import nhs_numbers
from monitoring.models import (
    PerformanceReturn,
    PseudonymisedServiceUser,
    ReportingPeriod,
    ServiceUserList,
)
from monitoring.reporting_periods import period_saved
from monitoring.services.returns import check_editable, check_period_ended

MAX_SERVICE_USER_ROWS = 100_000
SERVICE_USER_LIMITS = uploads.Limits(
    rows=MAX_SERVICE_USER_ROWS, columns=20, cells=10 * MAX_SERVICE_USER_ROWS,
    advice=f"A list can have up to {MAX_SERVICE_USER_ROWS:,} NHS numbers")


@dataclass
class ServiceUserImport:
    errors: list[tuple[int, str]] = field(default_factory=list)
    service_user_list: ServiceUserList | None = None
    duplicates: int = 0


def service_users_upload(*, contract: Contract, period: ReportingPeriod, upload: UploadedFile,
                         uploaded_by: User, today: date | None = None) -> ServiceUserImport:
    """Replace the period's list with the keyed hashes of the uploaded NHS numbers.

    One number per line (first column; a header row "NHS number" is allowed). Every invalid
    line is reported by row and nothing is saved; the clear numbers are never stored.
    """
    result = ServiceUserImport()
    hashes: set[str] = set()
    try:
        check_period_ended(period, today)
        # The list belongs to the period's return: like its other uploads, an accepted (locked)
        # or submitted return takes none, refused before the file is read.
        current = (PerformanceReturn.objects.filter(contract=contract, period_id=period.pk)
                   .select_related("period").first())
        if current is not None:
            check_editable(current)
        kind = uploads.check_for_field(upload, uploads.file_types(".csv"),
                                       uploads.described(".csv")).family
        for index, (number, row) in enumerate(uploads.read_rows(upload, kind,
                                                                 SERVICE_USER_LIMITS)):
            raw = str(row[0]).strip() if row else ""
            if not raw or (index == 0 and not any(ch.isdigit() for ch in raw)):
                continue
            try:
                digest = nhs_numbers.pseudonymise(raw)
            except nhs_numbers.InvalidNHSNumber as error:
                result.errors.append((number, str(error)))
                continue
            if digest in hashes:
                result.duplicates += 1
            hashes.add(digest)
    except ValidationError as error:
        result.errors.append((0, "; ".join(error.messages)))
        return result
    except uploads.UploadRefused as error:
        result.errors.append((0, str(error)))
        return result
    if not hashes and not result.errors:
        result.errors.append((0, "The file has no NHS numbers"))
    if result.errors:
        return result
    with transaction.atomic():
        period = period_saved(period)
        service_user_list, _ = ServiceUserList.objects.select_for_update().get_or_create(
            contract=contract, period=period, defaults={"uploaded_by": uploaded_by}
        )
        service_user_list.entries.all().delete()
        PseudonymisedServiceUser.objects.bulk_create(
            PseudonymisedServiceUser(service_user_list=service_user_list, nhs_number_hash=h)
            for h in sorted(hashes)
        )
        service_user_list.count = len(hashes)
        service_user_list.uploaded_by = uploaded_by
        service_user_list._history_user = uploaded_by
        service_user_list.save()
    result.service_user_list = service_user_list
    return result
