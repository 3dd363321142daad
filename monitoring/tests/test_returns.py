"""The provider portal and the commissioners' review: the promises in issue 6."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from contracts.tests.factories import ShareFactory, contract_for
from monitoring import reporting_periods
from monitoring.models import (
    PerformanceReturn,
    ReturnStatus,
    ReturnValue,
    ReturnVersion,
)
from monitoring.services import return_uploads
from monitoring.services import returns as return_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, percentage_kpi, quarter


@pytest.fixture
def setup(world):
    contract = contract_for(world, reference="BW-001", title="Bromley Well")
    # Jointly commissioned: the ICB's share makes it a party, so it sees the returns too.
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=Decimal("74"))
    ShareFactory(contract=contract, organisation=world.icb_a, share_percent=Decimal("26"))
    count = kpi_with_target(contract, code="BW1", name="People supported")
    pct = percentage_kpi(contract, code="BW2", name="Improved quality of life")
    period = quarter()
    return world, contract, count, pct, period


def form_url(contract, period, name="return_form"):
    return reverse(f"monitoring:{name}", args=[contract.pk, period.code])


def post_data(count, pct, *, value="120", num="9", den="10", action="save", version=""):
    return {
        f"kpi-{count.pk}-value": value, f"kpi-{count.pk}-commentary": "Busy quarter",
        f"kpi-{pct.pk}-numerator": num, f"kpi-{pct.pk}-denominator": den,
        f"kpi-{pct.pk}-commentary": "", "overall_commentary": "All well",
        "version": version, "action": action,
    }


def test_it_lists_returns_due_for_the_providers_own_contracts(setup, client_for):
    world, _contract, *_ = setup
    other = contract_for(world, provider=world.provider_y, reference="AGE-1", title="Age UK")
    kpi_with_target(other)
    page = client_for(world.provider_x_user).get(reverse("monitoring:return_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "BW-001" in text and "AGE-1" not in text
    assert "Overdue" in text


def test_it_shows_every_kpi_with_its_target_and_the_previous_period(setup, client_for):
    world, contract, _count, _pct, period = setup
    fill_and_submit(contract, reporting_periods.previous_period(period), world.provider_x_user,
                    values={"BW1": "77"})
    page = client_for(world.provider_x_user).get(form_url(contract, period))
    text = page.content.decode()
    assert "BW1 People supported" in text and "BW2 Improved quality of life" in text
    assert "at least 100 people" in text and "at least 90%" in text
    assert "2024/25 Q4: 77 people" in text


def test_it_saves_a_draft_and_computes_the_percentage(setup, client_for):
    world, contract, count, pct, period = setup
    client = client_for(world.provider_x_user)
    response = client.post(form_url(contract, period), post_data(count, pct, num="2",
                                                                 den="3"))
    assert response.status_code == 302
    ret = PerformanceReturn.objects.get(contract=contract, period=period)
    assert ret.status == ReturnStatus.DRAFT
    value = ReturnValue.objects.get(performance_return=ret, kpi=pct)
    assert value.value == Decimal("66.67")
    assert "66.67%" in client.get(form_url(contract, period)).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"num": "11", "den": "10"}, "numerator", "must not be more than the total"),
        ({"value": "-3"}, "value", "Enter 0 or more"),
        ({"value": "lots"}, "value", "must be a number"),
        ({"den": "ten"}, "denominator", "must be a number"),
        ({"value": "1.234"}, "value", "no more than 2 decimal places"),
    ],
)
def test_it_refuses_bad_figures_next_to_the_field_and_saves_nothing(setup, client_for, changes,
                                                                    field, message):
    world, contract, count, pct, period = setup
    data = post_data(count, pct, **changes)
    response = client_for(world.provider_x_user).post(form_url(contract, period), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert message in text
    assert "govuk-error-summary" in text and "govuk-error-message" in text
    kpi = pct if field in ("numerator", "denominator") else count
    assert f'id="id_kpi-{kpi.pk}-{field}-error"' in text or f"kpi-{kpi.pk}-{field}" in text
    # What was typed is still there.
    typed = next(iter(changes.values()))
    assert f'value="{typed}"' in text
    assert not ReturnValue.objects.exists()


def test_the_database_refuses_a_numerator_above_its_denominator(setup):
    _world, contract, count, pct, period = setup
    ret = PerformanceReturn.objects.create(contract=contract, period=period)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnValue.objects.create(performance_return=ret, kpi=pct, numerator=Decimal("5"),
                                   denominator=Decimal("4"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnValue.objects.create(performance_return=ret, kpi=count, value=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PerformanceReturn.objects.create(contract=contract, period=period)


def test_it_refuses_a_period_that_has_not_ended(setup, client_for):
    world, contract, count, pct, _period = setup
    future = quarter(date(2030, 5, 1))
    client = client_for(world.provider_x_user)
    assert "once the period has ended" in client.get(form_url(contract, future)).content.decode()
    response = client.post(form_url(contract, future), post_data(count, pct))
    assert response.status_code == 200
    assert "until the period has ended on 30 June 2030" in response.content.decode()
    assert not PerformanceReturn.objects.exists()


def test_a_failed_submit_keeps_the_draft_and_what_was_typed(setup, client_for):
    world, contract, count, pct, period = setup
    client = client_for(world.provider_x_user)
    data = post_data(count, pct, den="", action="continue")
    response = client.post(form_url(contract, period), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Enter the total for BW2" in text
    assert 'value="120"' in text and 'value="9"' in text
    # The draft was saved despite the incomplete submit.
    ret = PerformanceReturn.objects.get(contract=contract, period=period)
    assert ReturnValue.objects.get(performance_return=ret, kpi=count).value == Decimal("120")
    assert ReturnValue.objects.get(performance_return=ret, kpi=pct).numerator == Decimal("9")


def test_the_whole_journey_draft_check_submit_query_resubmit_accept(
    setup, client_for, django_capture_on_commit_callbacks
):
    world, contract, count, pct, period = setup
    provider = client_for(world.provider_x_user)
    response = provider.post(form_url(contract, period),
                             post_data(count, pct, action="continue"))
    assert response.status_code == 302 and response.url == form_url(contract, period,
                                                                    "return_check")
    check = provider.get(response.url)
    assert "Check your answers" in check.content.decode()
    ret = PerformanceReturn.objects.get()
    # The declaration is required.
    refused = provider.post(response.url, {"version": ret.version})
    assert "Confirm that the figures are correct" in refused.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = provider.post(response.url, {"version": ret.version, "declaration": "on"})
    assert done.status_code == 302
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED
    assert ReturnVersion.objects.filter(performance_return=ret).count() == 1
    assert [sorted(m.to) for m in mail.outbox] == [
        sorted([world.commissioner_a.email, world.contract_manager_a.email])]

    # Both joint commissioners see the one return.
    commissioner = client_for(world.commissioner_a)
    assert "BW-001" in commissioner.get(reverse("monitoring:inbox")).content.decode()
    assert "BW-001" in client_for(world.icb_commissioner_a).get(
        reverse("monitoring:inbox")).content.decode()
    review_url = reverse("monitoring:return_review", args=[ret.pk])
    refused = commissioner.post(review_url, {"decision": "query", "comment": "",
                                             "version": ret.version})
    assert "Enter what the provider needs to check" in refused.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        commissioner.post(review_url, {"decision": "query", f"query-{count.pk}": "Seems high",
                                       "comment": "", "version": ret.version})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.QUERIED
    assert ReturnValue.objects.get(performance_return=ret, kpi=count).query_comment == \
        "Seems high"
    assert sorted(mail.outbox[0].to) == sorted([world.provider_x_user.email,
                                                world.provider_x_approver.email])
    assert "Seems high" in provider.get(form_url(contract, period)).content.decode()

    provider.post(form_url(contract, period),
                  post_data(count, pct, value="95", action="continue", version=ret.version))
    ret.refresh_from_db()
    provider.post(form_url(contract, period, "return_check"),
                  {"version": ret.version, "declaration": "on"})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED
    versions = list(ReturnVersion.objects.filter(performance_return=ret).order_by("number"))
    assert [v.values["BW1"]["value"] for v in versions] == ["120.00", "95.00"]

    commissioner.post(review_url, {"decision": "accept", "comment": "", "version": ret.version})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.ACCEPTED


def test_an_accepted_return_cannot_be_changed_by_any_service_or_view(setup, client_for):
    world, contract, count, pct, period = setup
    ret = fill_and_submit(contract, period, world.provider_x_user)
    return_services.return_accept(performance_return=ret, expected_version=ret.version,
                                  accepted_by=world.commissioner_a)
    ret.refresh_from_db()
    before = list(ReturnValue.objects.values_list("value", "numerator", "commentary"))
    with pytest.raises(ValidationError, match="locked"):
        return_services.return_save_draft(contract=contract, period=period, values=[
            return_services.ValueInput(kpi_id=count.pk, value=Decimal("1"))],
            overall_commentary="", expected_version=ret.version, saved_by=world.provider_x_user)
    with pytest.raises(ValidationError, match="locked"):
        return_services.return_submit(performance_return=ret, declaration=True,
                                      expected_version=ret.version,
                                      submitted_by=world.provider_x_user)
    with pytest.raises(ValidationError):
        return_services.return_query(performance_return=ret, expected_version=ret.version,
                                     kpi_comments={}, comment="Reopen",
                                     queried_by=world.commissioner_a)
    with pytest.raises(ValidationError, match="locked"):
        return_uploads.evidence_upload(performance_return=ret, upload=None, kpi=None,
                                       uploaded_by=world.provider_x_user)
    result = return_uploads.return_import(contract=contract, period=period, upload=_csv(
        "kpi_code,value,numerator,denominator\nBW1,5,,\n"), imported_by=world.provider_x_user)
    assert result.errors and "locked" in result.errors[0][2]
    provider = client_for(world.provider_x_user)
    response = provider.post(form_url(contract, period), post_data(count, pct, value="1",
                                                                   version=ret.version))
    assert "locked" in response.content.decode()
    assert provider.get(form_url(contract, period, "return_check")).status_code == 302
    commissioner = client_for(world.commissioner_a)
    assert commissioner.post(reverse("monitoring:return_review", args=[ret.pk]),
                             {"decision": "query", "comment": "x",
                              "version": ret.version}).status_code == 404
    assert list(ReturnValue.objects.values_list("value", "numerator", "commentary")) == before
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.ACCEPTED


def test_a_stale_version_is_refused_and_keeps_what_was_typed(setup, client_for):
    world, contract, count, pct, period = setup
    client = client_for(world.provider_x_user)
    client.post(form_url(contract, period), post_data(count, pct))
    ret = PerformanceReturn.objects.get()
    client.post(form_url(contract, period), post_data(count, pct, value="130",
                                                      version=ret.version))
    stale = client.post(form_url(contract, period), post_data(count, pct, value="140",
                                                              version=ret.version))
    text = stale.content.decode()
    assert "Someone else changed this return" in text and 'value="140"' in text
    assert ReturnValue.objects.get(kpi=count).value == Decimal("130")


def _csv(text: str, name: str = "return.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.mark.parametrize("persona", ["provider_y_user", "commissioner_b", "outsider",
                                     "commissioner_a", "finance_officer_a"])
def test_the_wrong_persona_gets_404_on_the_return_form(setup, client_for, persona):
    world, contract, count, pct, period = setup
    client = client_for(getattr(world, persona))
    for name in ("return_form", "return_check", "evidence_upload", "return_upload",
                 "service_users_upload"):
        assert client.get(form_url(contract, period, name)).status_code == 404, name
    assert client.post(form_url(contract, period), post_data(count, pct)).status_code == 404
    assert not PerformanceReturn.objects.exists()


@pytest.mark.parametrize("persona", ["provider_x_user", "provider_y_user", "commissioner_b",
                                     "outsider"])
def test_the_wrong_persona_gets_404_on_the_review_page(setup, client_for, persona):
    world, contract, _count, _pct, period = setup
    ret = fill_and_submit(contract, period, world.provider_x_user)
    client = client_for(getattr(world, persona))
    url = reverse("monitoring:return_review", args=[ret.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "accept", "version": ret.version}).status_code == 404
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED


def test_read_only_commissioners_see_but_cannot_decide(setup, client_for):
    world, contract, _count, _pct, period = setup
    ret = fill_and_submit(contract, period, world.provider_x_user)
    client = client_for(world.read_only_a)
    url = reverse("monitoring:return_review", args=[ret.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Save decision" not in page.content.decode()
    assert client.post(url, {"decision": "accept", "version": ret.version}).status_code == 404


def test_commissioner_b_never_sees_partnership_a_returns(setup, client_for):
    world, contract, _count, _pct, period = setup
    fill_and_submit(contract, period, world.provider_x_user)
    inbox = client_for(world.commissioner_b).get(reverse("monitoring:inbox"))
    assert inbox.status_code == 200 and "BW-001" not in inbox.content.decode()
    assert client_for(world.provider_x_user).get(reverse("monitoring:inbox")).status_code == 404


def test_it_says_plainly_when_the_number_achieving_is_more_than_the_total(world, client_for):
    """Issue 20, item 11: a KPI named "% contacted…" made the message unreadable."""
    contract = contract_for(world, reference="DH-001", title="Dementia hub")
    pct = percentage_kpi(contract, code="DH4", name="% contacted by the hub within 10 "
                                                   "working days of referral")
    period = quarter()
    client = client_for(world.provider_x_user)
    page = client.get(form_url(contract, period)).content.decode()
    assert f'name="kpi-{pct.pk}-numerator"' in page and f'name="kpi-{pct.pk}-denominator"' in page
    response = client.post(form_url(contract, period), {
        f"kpi-{pct.pk}-numerator": "200", f"kpi-{pct.pk}-denominator": "150",
        f"kpi-{pct.pk}-commentary": "", "overall_commentary": "", "version": "",
        "action": "save"})
    text = response.content.decode()
    message = ("The number achieving it for DH4 must not be more than the total: 200 is more "
               "than 150")
    assert text.count(message) == 2  # in the error summary and next to the field
    assert f'<a href="#id_kpi-{pct.pk}-numerator">{message}</a>' in text
    assert "achieving %" not in text
    assert not PerformanceReturn.objects.exists()
