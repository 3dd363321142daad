import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from commissioning.locking import ConcurrentEditError
from contracts import documents, lifecycle, services
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractDocument,
    ContractStatus,
    DecisionMaker,
    KeyDateAlert,
    ProcurementRegime,
    ProcurementRoute,
)
from contracts.tasks import send_key_date_alerts
from contracts.tests.factories import ExtensionOptionFactory, ShareFactory, contract_for

pytestmark = pytest.mark.django_db


def new_input(world, **overrides) -> services.ContractInput:
    values = dict(  # noqa: C408 - reads like the keyword arguments it becomes
        reference="BW-2017", title="Bromley Well", service_area="adult_social_care",
        provider=world.provider_x, holder=world.council_a, lead_commissioner=world.council_a,
        partnership=world.partnership_a, procurement_regime=ProcurementRegime.PCR_2015,
        procurement_route=ProcurementRoute.PCR_COMPETITIVE_DIALOGUE,
        start_date=date(2017, 10, 1), initial_end_date=date(2020, 9, 30),
        annual_value=Decimal("2700000"), extension_option_months=(12, 12),
        service_lines=("Carers' Support Services", "Dementia Support Services"),
        shares=(services.ShareInput(world.council_a, Decimal("70")),
                services.ShareInput(world.icb_a, Decimal("30"))),
    )
    values.update(overrides)
    return services.ContractInput(**values)


def decision(**kwargs) -> services.DecisionInput:
    return services.DecisionInput(decision_maker=DecisionMaker.DELEGATED_OFFICER,
                                  meeting_date=date(2020, 3, 1), outcome="Extend", **kwargs)


def test_it_creates_a_contract_with_lines_options_and_shares(world):
    contract = services.contract_create(data=new_input(world), created_by=world.commissioner_a)
    assert contract.service_lines.count() == 2
    assert [o.length_months for o in contract.extension_options.all()] == [12, 12]
    assert contract.shares.count() == 2
    assert contract.history.first().history_user == world.commissioner_a
    # Lines and options are written in bulk, with their own history rows all the same.
    for related in (contract.service_lines.all(), contract.extension_options.all()):
        for row in related:
            assert [h.history_user for h in row.history.all()] == [world.commissioner_a]


def test_it_refuses_a_duplicate_reference_for_the_same_holder(world):
    services.contract_create(data=new_input(world), created_by=world.commissioner_a)
    with pytest.raises(ValidationError) as error:
        services.contract_create(data=new_input(world, reference="bw-2017"),
                                 created_by=world.commissioner_a)
    assert "already has a contract with reference" in error.value.message_dict["reference"][0]
    assert Contract.objects.count() == 1


def test_it_refuses_shares_that_do_not_add_up_to_100_and_saves_nothing(world):
    shares = (services.ShareInput(world.council_a, Decimal("70")),
              services.ShareInput(world.icb_a, Decimal("20")))
    with pytest.raises(ValidationError) as error:
        services.contract_create(data=new_input(world, shares=shares),
                                 created_by=world.commissioner_a)
    assert error.value.message_dict["shares"] == [
        "The shares must add up to 100%. They add up to 90%"
    ]
    assert Contract.objects.count() == 0


def test_it_refuses_a_share_for_an_organisation_outside_the_partnership(world):
    contract = contract_for(world)
    with pytest.raises(ValidationError) as error:
        lifecycle.shares_set(contract=contract, set_by=world.commissioner_a, shares=[
            services.ShareInput(world.council_b, Decimal("100"))])
    assert "is not a partner" in error.value.message_dict["shares"][0]


def test_it_replaces_shares_that_add_up_to_100(world):
    contract = contract_for(world)
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=100)
    lifecycle.shares_set(contract=contract, set_by=world.commissioner_a, shares=[
        services.ShareInput(world.council_a, Decimal("33.33")),
        services.ShareInput(world.icb_a, Decimal("66.67"), joint_monitoring=False)])
    assert sorted(CommissioningShare.objects.values_list("share_percent", flat=True)) == [
        Decimal("33.33"), Decimal("66.67")]


def test_it_refuses_an_end_date_before_the_start_and_a_route_from_another_regime(world):
    with pytest.raises(ValidationError) as error:
        services.contract_create(
            data=new_input(world, initial_end_date=date(2017, 9, 30),
                           procurement_route=ProcurementRoute.PSR_DIRECT_AWARD_C),
            created_by=world.commissioner_a)
    errors = error.value.message_dict
    assert errors["initial_end_date"] == [
        "The end date must be the same as or after the start date"]
    assert errors["procurement_route"] == [
        "Direct Award C is not a route under Public Contracts Regulations 2015"]


def test_it_refuses_a_holder_outside_the_partnership(world):
    with pytest.raises(ValidationError) as error:
        services.contract_create(data=new_input(world, holder=world.council_b),
                                 created_by=world.commissioner_a)
    assert "holder" in error.value.message_dict


def test_it_refuses_a_second_edit_from_the_same_version_and_keeps_the_first(world):
    contract = contract_for(world, title="Original")
    version = contract.version
    services.contract_update(contract=contract, expected_version=version,
                             updated_by=world.commissioner_a, title="First edit")
    with pytest.raises(ConcurrentEditError):
        services.contract_update(contract=contract, expected_version=version,
                                 updated_by=world.icb_commissioner_a, title="Second edit")
    contract.refresh_from_db()
    assert contract.title == "First edit"
    assert contract.version == version + 1


@pytest.mark.parametrize(("old", "new", "reason"), [
    (ContractStatus.PLANNED, ContractStatus.LIVE,
     "A planned contract cannot go live before it is awarded"),
    (ContractStatus.LIVE, ContractStatus.EXTENDED,
     "To extend a contract, exercise one of its extension options"),
    (ContractStatus.EXPIRED, ContractStatus.LIVE, "An expired contract cannot change status"),
    (ContractStatus.LIVE, ContractStatus.PLANNED,
     "A contract that is live cannot become planned"),
])
def test_it_refuses_illegal_status_transitions_with_a_reason(world, old, new, reason):
    contract = contract_for(world, status=old)
    with pytest.raises(ValidationError) as error:
        lifecycle.contract_change_status(contract=contract, new_status=new,
                                        changed_by=world.commissioner_a,
                                        expected_version=contract.version)
    assert error.value.message_dict["status"] == [reason]
    contract.refresh_from_db()
    assert contract.status == old


def test_it_sets_a_10_calendar_day_standstill_under_pcr_2015(world):
    contract = contract_for(world, status=ContractStatus.IN_PROCUREMENT)
    contract = lifecycle.contract_change_status(
        contract=contract, new_status=ContractStatus.AWARDED, changed_by=world.commissioner_a,
        expected_version=contract.version, on=date(2026, 12, 18))
    assert contract.standstill_end_date == date(2026, 12, 28)
    assert contract.awarded_on == date(2026, 12, 18)


@pytest.mark.parametrize(("regime", "route"), [
    (ProcurementRegime.PA_2023, ProcurementRoute.PA_OPEN),
    (ProcurementRegime.PSR, ProcurementRoute.PSR_COMPETITIVE_PROCESS),
])
def test_it_sets_an_8_working_day_standstill_across_christmas(world, regime, route):
    contract = contract_for(world, status=ContractStatus.IN_PROCUREMENT,
                            procurement_regime=regime, procurement_route=route)
    contract = lifecycle.contract_change_status(
        contract=contract, new_status=ContractStatus.AWARDED, changed_by=world.commissioner_a,
        expected_version=contract.version, on=date(2026, 12, 18))
    assert contract.standstill_end_date == date(2027, 1, 4)


def test_it_refuses_to_go_live_during_standstill(world):
    contract = contract_for(world, status=ContractStatus.AWARDED,
                            standstill_end_date=date(2026, 12, 28))
    with pytest.raises(ValidationError):
        lifecycle.contract_change_status(
            contract=contract, new_status=ContractStatus.LIVE, changed_by=world.commissioner_a,
            expected_version=contract.version, on=date(2026, 12, 28))
    contract = lifecycle.contract_change_status(
        contract=contract, new_status=ContractStatus.LIVE, changed_by=world.commissioner_a,
        expected_version=contract.version, on=date(2026, 12, 29))
    assert contract.status == ContractStatus.LIVE


def test_it_exercises_an_extension_through_a_decision(world):
    contract = contract_for(world, initial_end_date=date(2027, 3, 31))
    first = ExtensionOptionFactory(contract=contract, sequence=1, length_months=12)
    second = ExtensionOptionFactory(contract=contract, sequence=2, length_months=12)
    with pytest.raises(ValidationError):
        lifecycle.extension_exercise(contract=contract, option=second, decision=decision(),
                                    exercised_by=world.commissioner_a,
                                    expected_version=contract.version)
    contract = lifecycle.extension_exercise(
        contract=contract, option=first, decision=decision(report_reference="ECHS-1"),
        exercised_by=world.commissioner_a, expected_version=contract.version)
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.status == ContractStatus.EXTENDED
    assert contract.current_end_date == date(2028, 3, 31)
    first.refresh_from_db()
    assert first.exercised and first.exercised_decision.report_reference == "ECHS-1"
    assert contract.history.first().history_user == world.commissioner_a


def test_it_records_a_variation_with_a_negative_value(world):
    contract = contract_for(world)
    variation = lifecycle.variation_record(
        contract=contract, recorded_by=world.commissioner_a, date=date(2025, 1, 1),
        description="Reduced hours", value_change=Decimal("-5000"))
    assert variation.value_change == Decimal("-5000")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_it_stores_an_allowed_document_under_a_random_name(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = contract_for(world)
    document = documents.document_upload(
        contract=contract, kind="signed_contract", uploaded_by=world.commissioner_a,
        upload=SimpleUploadedFile("Signed contract.docx", _docx()))
    assert document.original_name == "Signed contract.docx"
    assert document.file.name.startswith("contract-documents/")
    assert "Signed" not in document.file.name
    assert document.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("evil.exe", b"MZ\x90\x00", "must be a PDF"),
    ("fake.pdf", b"<html>not a pdf</html>", "not a real PDF"),
    ("fake.docx", b"%PDF-1.7 really a pdf", "not a real DOCX"),
    ("binary.csv", b"\x00\x01\x02", "is not a CSV file"),
])
def test_it_refuses_documents_whose_type_or_content_is_not_allowed(world, settings, tmp_path,
                                                                   name, content, message):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as error:
        documents.document_upload(contract=contract_for(world), kind="other",
                                 uploaded_by=world.commissioner_a,
                                 upload=SimpleUploadedFile(name, content))
    assert message in error.value.message_dict["file"][0]
    assert ContractDocument.objects.count() == 0


def test_it_refuses_an_oversized_document(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError) as error:
        documents.document_upload(contract=contract_for(world), kind="other",
                                 uploaded_by=world.commissioner_a,
                                 upload=SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 2000))
    assert "must be smaller than" in error.value.message_dict["file"][0]


def test_it_refuses_a_contract_manager_who_works_for_none_of_its_parties(world):
    """Key-date alerts name the contract: its manager must be able to open it."""
    council_only = (services.ShareInput(world.council_a, Decimal("100")),)
    with pytest.raises(ValidationError) as refused:
        services.contract_create(
            data=new_input(world, shares=council_only,
                           contract_manager=world.icb_commissioner_a),
            created_by=world.commissioner_a)
    assert "contract manager must work for" in str(refused.value.message_dict["contract_manager"])
    assert not Contract.objects.exists()
    contract = services.contract_create(
        data=new_input(world, contract_manager=world.icb_commissioner_a),  # the ICB shares it
        created_by=world.commissioner_a)
    assert contract.contract_manager == world.icb_commissioner_a
    outside = contract_for(world, reference="OUT-1")
    with pytest.raises(ValidationError):
        services.contract_update(contract=outside, expected_version=outside.version,
                                 updated_by=world.commissioner_a,
                                 contract_manager=world.icb_commissioner_a)
    outside.refresh_from_db()
    assert outside.contract_manager is None


def test_no_alert_goes_to_a_manager_whose_organisation_no_longer_shares_the_contract(
        world, django_capture_on_commit_callbacks):
    contract = contract_for(world, initial_end_date=date.today() + timedelta(days=60),
                            contract_manager=world.icb_commissioner_a, notice_period_months=0)
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=100)
    share = ShareFactory(contract=contract, organisation=world.icb_a, share_percent=0)
    share.delete()  # the ICB stopped monitoring it; the manager was never changed
    with django_capture_on_commit_callbacks(execute=True):
        assert send_key_date_alerts() == {"created": 0, "already_sent": 0}
    assert not KeyDateAlert.objects.exists() and mail.outbox == []
