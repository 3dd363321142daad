"""The read-only API through HTTP with real tokens: what each persona reads, and every kind of
bad input answered with a JSON 4xx."""

from __future__ import annotations

import csv
import io
import json
import re
from base64 import b64encode
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openapi_spec_validator import validate

from api import facts, tokens
from api.contract_rows import contract_rows
from api.models import ApiToken
from api.serializers import ContractSerializer, KPIValueRow, MonthlyActualRow, plain_rows
from api.throttling import PerTokenThrottle
from commissioning.models import Membership
from contracts.models import Contract
from contracts.selectors import contract_register
from contracts.tests.factories import (
    DecisionFactory,
    ExtensionOptionFactory,
    ReviewDateFactory,
    ServiceLineFactory,
    ShareFactory,
    VariationFactory,
    contract_for,
)
from funding.tests.factories import actual, agreement_for, scheme_for
from monitoring.models import DataType, ReturnValue
from monitoring.selectors import SHOWN_STATUSES
from monitoring.tests.factories import (
    fill_and_submit,
    kpi_with_target,
    percentage_kpi,
    quarter,
)

pytestmark = pytest.mark.django_db


def token_for(user, **kwargs) -> str:
    return tokens.token_create(user=user, name="Power BI", days=kwargs.get("days", 90)).secret


def api(secret: str | None, path: str, method: str = "get", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return getattr(Client(), method)(path, **headers, **extra)


def body(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def all_rows(secret: str, path: str) -> list[dict]:
    rows, url = [], path
    while url:
        page = body(api(secret, url))
        rows += page["results"]
        url = page["next"]
    return rows


@pytest.fixture
def data(world):
    a = contract_for(world, reference="A-CON-1", title="Carers support")
    ShareFactory(contract=a, organisation=world.council_a, share_percent=Decimal("70"))
    ShareFactory(contract=a, organisation=world.icb_a, share_percent=Decimal("30"))
    ExtensionOptionFactory(contract=a, sequence=1)
    b = contract_for(world, reference="B-CON-1", partnership=world.partnership_b,
                     holder=world.council_b, lead_commissioner=world.council_b,
                     provider=world.provider_y)
    kpi = kpi_with_target(a, code="K1", target="100", tolerance="10")
    period = quarter(date(2025, 5, 1))
    fill_and_submit(a, period, world.provider_x_user, values={"K1": "95"},
                    today=date(2025, 7, 10))
    kpi_b = kpi_with_target(b, code="KB")
    fill_and_submit(b, period, world.provider_y_user, today=date(2025, 7, 10))
    agreement = agreement_for(world)
    scheme = scheme_for(agreement, code="BCF-01")
    actual(scheme, date(2025, 4, 1), "1234.50")
    return {"a": a, "b": b, "kpi": kpi, "kpi_b": kpi_b, "period": period, "scheme": scheme}


def test_it_serves_an_openapi_schema_that_validates(world):
    response = api(token_for(world.commissioner_a), reverse("api:schema"))
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert "/api/v1/facts/kpi-values/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["personalAccessToken"]["scheme"] == "bearer"


def test_it_gives_a_commissioner_their_contracts_with_money_as_strings(world, data):
    rows = all_rows(token_for(world.commissioner_a), reverse("api:contract-list"))
    assert [r["reference"] for r in rows] == ["A-CON-1"]
    row = rows[0]
    assert row["annual_value"] == "100000.00"
    assert row["start_date"] == "2024-04-01"
    assert {s["organisation"]["id"]: s["share_percent"] for s in row["shares"]} == {
        world.council_a.pk: "70.00", world.icb_a.pk: "30.00"}
    assert row["extension_options"][0]["sequence"] == 1
    assert row["decisions"] == []


def test_it_shows_a_provider_its_contract_without_decisions(world, data):
    rows = all_rows(token_for(world.provider_x_user), reverse("api:contract-list"))
    assert [r["reference"] for r in rows] == ["A-CON-1"]
    assert rows[0]["decisions"] is None and rows[0]["variations"] is None


def test_it_answers_an_object_the_user_may_not_see_with_a_404(world, data):
    response = api(token_for(world.commissioner_a),
                   reverse("api:contract-detail", args=[data["b"].pk]))
    assert response.status_code == 404
    assert body(response)["status"] == 404
    assert "B-CON-1" not in response.content.decode()


def test_it_gives_kpi_values_flat_with_rag_as_json_and_csv(world, data):
    secret = token_for(world.commissioner_a)
    rows = all_rows(secret, reverse("api:kpi-values-list"))
    assert len(rows) == 1
    row = rows[0]
    assert (row["contract_reference"], row["kpi_code"], row["value"], row["target"],
            row["rag"]) == ("A-CON-1", "K1", "95.00", "100.00", "amber")
    assert row["period_code"] == data["period"].code and row["financial_year"] == "2025/26"
    response = api(secret, reverse("api:kpi-values-csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["contract_reference"], r["value"], r["rag"]) for r in table] == [
        ("A-CON-1", "95.00", "amber")]
    assert "KB" not in text


def test_it_reads_kpi_values_of_exactly_the_contracts_the_user_sees(world, data):
    # facts.kpi_values_for_user filters on a list of return ids sent as one array (AnyOf);
    # the reference is the plain join through the one visibility rule.
    other = contract_for(world, reference="A-SHARED", holder=world.icb_a,
                         lead_commissioner=world.icb_a)
    ShareFactory(contract=other, organisation=world.council_a)
    kpi_with_target(other, code="S1")
    fill_and_submit(other, quarter(date(2025, 8, 1)), world.provider_x_user,
                    today=date(2025, 10, 10))
    draft = contract_for(world, reference="A-DRAFT")
    kpi_with_target(draft, code="D1")
    seen = set()
    for name, user in world.personas().items():
        got = list(facts.kpi_values_for_user(user).values_list("pk", flat=True))
        expected = set(ReturnValue.objects.filter(
            performance_return__contract__in=Contract.objects.for_user(user),
            performance_return__status__in=SHOWN_STATUSES).values_list("pk", flat=True))
        assert len(got) == len(set(got)) and set(got) == expected, name
        seen |= expected
    assert seen == set(ReturnValue.objects.values_list("pk", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an array is PostgreSQL's")
@pytest.mark.parametrize("which", ["none", "unknown", "all", "one, repeated"])
def test_any_of_picks_the_same_rows_as_in(world, data, which):
    every = list(ReturnValue.objects.values_list("performance_return_id", flat=True))
    ids = {"none": [], "unknown": [0], "all": every, "one, repeated": every[:1] * 3}[which]
    with_array = ReturnValue.objects.filter(facts.AnyOf(F("performance_return_id"), ids))
    assert "= ANY(" in str(with_array.query)
    assert (sorted(with_array.values_list("pk", flat=True))
            == sorted(ReturnValue.objects.filter(performance_return_id__in=ids)
                      .values_list("pk", flat=True)))


def _agreeing(serializer_class, rows: list[dict]) -> list[dict]:
    plain = plain_rows(serializer_class)(rows)
    documented = serializer_class(rows, many=True).data
    assert json.dumps(plain) == json.dumps(documented)
    return plain


def test_it_gives_flat_rows_exactly_as_the_documented_serializers_do(world, data):
    pct = percentage_kpi(data["a"], code="P1")
    submitted = fill_and_submit(data["a"], quarter(date(2025, 8, 1)), world.provider_x_user,
                                today=date(2025, 10, 10))
    for kpi, answer in (
        (kpi_with_target(data["a"], code="Y1", data_type=DataType.YES_NO, target="1"),
         {"yes_no": True}),
        (kpi_with_target(data["a"], code="T1", data_type=DataType.TEXT, target=None),
         {"text": "Waiting list closed"}),
    ):
        ReturnValue.objects.create(performance_return=submitted, kpi=kpi, **answer)
    rows = facts.finish_kpi_values(list(
        facts.kpi_values_for_user(world.commissioner_a).order_by("pk")))
    plain = _agreeing(KPIValueRow, rows)
    by_kpi = {row["kpi_code"]: row for row in plain}
    assert by_kpi[pct.code]["numerator"] is not None and by_kpi["Y1"]["yes_no"] is True
    assert by_kpi["T1"]["text"] == "Waiting list closed" and by_kpi["T1"]["rag"] is None
    # Values not straight from the database go through the fields' own representation.
    row = dict(rows[0], value=Decimal("95"), numerator=Decimal("1.005"), denominator=7,
               yes_no=False, text="", target=None, rag="green", kpi_id=str(rows[0]["kpi_id"]))
    assert _agreeing(KPIValueRow, [row])[0]["value"] == "95.00"
    actuals = facts.with_financial_year(list(
        facts.monthly_actuals_for_user(world.finance_officer_a)))
    assert _agreeing(MonthlyActualRow, actuals)
    assert _agreeing(MonthlyActualRow, [dict(actuals[0], forecast_outturn=None)])


def test_it_filters_kpi_values_by_a_partnership_of_the_users_own_only(world, data):
    secret = token_for(world.commissioner_a)
    url = reverse("api:kpi-values-list")
    rows = all_rows(secret, f"{url}?partnership={world.partnership_a.pk}")
    assert [r["contract_reference"] for r in rows] == ["A-CON-1"]
    response = api(secret, f"{url}?partnership={world.partnership_b.pk}")
    assert response.status_code == 400 and "partnership" in body(response)["detail"]


def test_it_gives_monthly_actuals_flat_with_financial_year(world, data):
    rows = all_rows(token_for(world.finance_officer_a), reverse("api:monthly-actuals-list"))
    assert [(r["scheme_code"], r["month"], r["financial_year"], r["actual"],
             r["partner_id"]) for r in rows] == [
        ("BCF-01", "2025-04-01", "2025/26", "1234.50", world.council_a.pk)]
    assert all_rows(token_for(world.provider_x_user), reverse("api:monthly-actuals-list")) == []


def test_it_shows_the_same_contracts_as_the_register_page(world, data, client_for):
    for user in (world.commissioner_a, world.commissioner_b, world.provider_x_user,
                 world.staff_admin, world.finance_officer_a):
        api_refs = {r["reference"] for r in all_rows(token_for(user),
                                                     reverse("api:contract-list"))}
        page = client_for(user).get(reverse("contracts:list")).content.decode()
        page_refs = {ref for ref in ("A-CON-1", "B-CON-1") if ref in page}
        assert api_refs == page_refs, user


def test_it_pages_with_a_cursor(world, data):
    for n in range(4):
        contract_for(world, reference=f"A-MORE-{n}")
    secret = token_for(world.commissioner_a)
    first = body(api(secret, reverse("api:contract-list") + "?page_size=2"))
    assert len(first["results"]) == 2 and first["next"]
    refs = [r["reference"] for r in first["results"]]
    url = first["next"]
    while url:
        page = body(api(secret, url))
        refs += [r["reference"] for r in page["results"]]
        url = page["next"]
    assert sorted(refs) == sorted(["A-CON-1", *(f"A-MORE-{n}" for n in range(4))])


def test_it_filters_like_the_register(world, data):
    contract_for(world, reference="A-OTHER", provider=world.provider_y)
    secret = token_for(world.commissioner_a)
    rows = all_rows(secret, reverse("api:contract-list") + "?provider=Age")
    assert [r["reference"] for r in rows] == ["A-OTHER"]
    rows = all_rows(secret, reverse("api:contract-list") + "?q=carers")
    assert [r["reference"] for r in rows] == ["A-CON-1"]


# --- Bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, code", [
    (None, "not_authenticated"),
    ("Bearer", "token_malformed"),
    ("Basic dXNlcjpwYXNz", "token_malformed"),
    ("Bearer jc_not-a-token-anyone-issued", "token_invalid"),
    ("Bearer something-else", "token_malformed"),
    ("Bearer " + "jc_" + "x" * 5000, "token_malformed"),
])
def test_it_refuses_a_missing_or_malformed_token_with_a_401(world, data, header, code):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get(reverse("api:contract-list"), **extra)
    assert response.status_code == 401
    assert body(response)["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_an_expired_token(world, data):
    secret = token_for(world.commissioner_a)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api(secret, reverse("api:contract-list"))
    assert (response.status_code, body(response)["code"]) == (401, "token_expired")


def test_it_refuses_a_revoked_token(world, data):
    created = tokens.token_create(user=world.commissioner_a, name="x", days=1)
    assert api(created.secret, reverse("api:contract-list")).status_code == 200
    tokens.token_revoke(token=created.token)
    response = api(created.secret, reverse("api:contract-list"))
    assert (response.status_code, body(response)["code"]) == (401, "token_revoked")


def test_it_takes_the_data_away_when_the_role_goes(world, data):
    secret = token_for(world.commissioner_a)
    assert len(all_rows(secret, reverse("api:contract-list"))) == 1
    Membership.objects.filter(user=world.commissioner_a).update(is_active=False)
    response = api(secret, reverse("api:contract-list"))
    assert (response.status_code, body(response)["code"]) == (401, "token_no_access")


def test_it_refuses_tokens_of_an_organisation_that_turned_api_access_off(world, data):
    secret = token_for(world.commissioner_a)
    world.council_a.api_access_enabled = False
    world.council_a.save()
    response = api(secret, reverse("api:contract-list"))
    assert (response.status_code, body(response)["code"]) == (403, "api_access_off")


def test_it_records_when_a_token_was_last_used(world, data):
    created = tokens.token_create(user=world.commissioner_a, name="x", days=1)
    assert created.token.last_used_at is None
    api(created.secret, reverse("api:contract-list"))
    created.token.refresh_from_db()
    assert created.token.last_used_at is not None


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_writes_with_a_405(world, data, method):
    secret = token_for(world.commissioner_a)
    for url in (reverse("api:contract-list"),
                reverse("api:contract-detail", args=[data["a"].pk])):
        response = api(secret, url, method, data="{}", content_type="application/json")
        assert response.status_code == 405, url
        assert body(response)["code"] == "method_not_allowed"
    assert data["a"].__class__.objects.filter(pk=data["a"].pk).exists()


@pytest.mark.parametrize("query, field", [
    ("?colour=red", "colour"),
    ("?status=bogus", "status"),
    ("?lead_commissioner=not-a-number", "lead_commissioner"),
    ("?page_size=1000000", "page_size"),
    ("?page_size=0", "page_size"),
    ("?page_size=" + "9" * 5000, "page_size"),
    ("?cursor=not-base64!!", "cursor"),
    ("?cursor=" + b64encode(b"p=1%27;drop").decode(), "cursor"),
    ("?cursor=" + b64encode(b"o=99999999999999999999").decode(), "cursor"),
    ("?cursor=" + b64encode(b"p=" + b"9" * 40).decode(), "cursor"),
])
def test_it_answers_bad_filters_and_cursors_with_a_400_naming_them(world, data, query, field):
    response = api(token_for(world.commissioner_a), reverse("api:contract-list") + query)
    assert response.status_code == 400, response.content
    assert field in body(response)["detail"]


@pytest.mark.parametrize("name", ["api:kpi-values-list", "api:kpi-values-csv",
                                  "api:monthly-actuals-list", "api:monthly-actuals-csv"])
def test_it_refuses_unknown_filters_on_the_flat_tables(world, data, name):
    secret = token_for(world.commissioner_a)
    assert api(secret, reverse(name) + "?finanical_year=2025/26").status_code == 400
    if "actuals" in name:
        response = api(secret, reverse(name) + "?financial_year=2025")
        assert response.status_code == 400
        assert "financial_year" in body(response)["detail"]


def test_it_answers_an_id_that_is_not_a_number_with_a_404(world, data):
    secret = token_for(world.commissioner_a)
    for path in ("/api/v1/contracts/abc/", "/api/v1/contracts/" + "9" * 19 + "/",
                 "/api/v1/contracts/999999999999999999/"):
        assert api(secret, path).status_code == 404, path


def test_it_throttles_each_token_with_a_429(world, data, monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "3/min"})
    first, second = token_for(world.commissioner_a), token_for(world.commissioner_a)
    codes = [api(first, reverse("api:period-list")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = api(first, reverse("api:period-list"))
    assert body(refused)["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert api(second, reverse("api:period-list")).status_code == 200


def test_it_serves_uncounted_when_the_cache_that_counts_does_not_answer(world, data,
                                                                        settings):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    response = api(token_for(world.commissioner_a), reverse("api:contract-list"))
    assert response.status_code == 200
    assert [r["reference"] for r in body(response)["results"]] == ["A-CON-1"]


def test_it_never_answers_with_a_500_for_any_list_and_persona(world, data):
    names = ("contract", "provider", "framework", "lot", "admission", "call-off",
             "agreement", "scheme", "budget", "contribution", "kpi", "return",
             "period", "kpi-values", "monthly-actuals")
    for user in world.personas().values():
        if not Membership.objects.filter(user=user).exists() and not user.is_superuser:
            continue
        secret = token_for(user)
        for name in names:
            response = api(secret, reverse(f"api:{name}-list"))
            assert response.status_code == 200, (user, name, response.content[:300])


def test_it_shows_a_token_only_once_and_stores_only_its_hash(world):
    created = tokens.token_create(user=world.commissioner_a, name="x", days=1)
    row = ApiToken.objects.get()
    assert created.secret not in (row.token_hash, row.prefix)
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)


def test_it_refuses_writes_from_a_signed_in_session_with_a_405(world, data, client_for):
    client = client_for(world.commissioner_a)
    assert client.get(reverse("api:contract-list")).status_code == 200
    response = client.post(reverse("api:contract-list"), data="{}",
                           content_type="application/json")
    assert (response.status_code, body(response)["code"]) == (405, "method_not_allowed")


def test_it_documents_every_endpoint_on_a_page(world, client_for):
    page = client_for(world.finance_officer_a).get(reverse("api:docs")).content.decode()
    for path in ("/api/v1/contracts/", "/api/v1/facts/kpi-values/", "/api/v1/periods/{id}/"):
        assert f"GET {path}" in page, path
    assert "page_size" in page and "annual_value" in page


def test_it_gives_contracts_exactly_as_the_documented_serializer_does(world, data, rf):
    a = data["a"]
    ServiceLineFactory(contract=a, name="Advice")
    ServiceLineFactory(contract=a, name="Breaks")
    ReviewDateFactory(contract=a)
    DecisionFactory(contract=a)
    VariationFactory(contract=a)
    request = rf.get("/api/v1/contracts/")
    for user, is_provider in ((world.commissioner_a, False), (world.provider_x_user, True)):
        contracts = list(contract_register(user=user))
        documented = ContractSerializer(contracts, many=True, context={
            "request": request, "is_provider": is_provider}).data
        built = contract_rows(contracts, request=request, is_provider=is_provider)
        assert json.loads(json.dumps(built)) == json.loads(json.dumps(documented))
        assert built[0]["service_lines"] and (is_provider or built[0]["variations"])


@pytest.mark.parametrize("name", ["api:contract-list", "api:kpi-values-list"])
def test_it_reads_a_page_in_the_same_number_of_queries_however_many_rows(world, data, name):
    secret = token_for(world.commissioner_a)
    url = reverse(name) + "?page_size=100"

    def queries() -> tuple[int, int]:
        api(secret, url)  # the token's last use is written once a minute, not per request
        with CaptureQueriesContext(connection) as captured:
            rows = len(body(api(secret, url))["results"])
        return len(captured), rows

    before, rows_before = queries()
    period = quarter(date(2025, 5, 1))
    for n in range(3):
        extra = contract_for(world, reference=f"A-MORE-{n}", title=f"More {n}")
        ShareFactory(contract=extra, organisation=world.council_a)
        ServiceLineFactory(contract=extra)
        kpi_with_target(extra, code=f"M{n}")
        kpi_with_target(extra, code=f"N{n}")
        fill_and_submit(extra, period, world.provider_x_user, today=date(2025, 7, 10))
    after, rows_after = queries()
    assert rows_after > rows_before
    assert after == before
