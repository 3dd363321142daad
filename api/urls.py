from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.routers import SimpleRouter

from . import account_views, views

app_name = "api"

router = SimpleRouter(trailing_slash=True)
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("lots", views.LotViewSet, basename="lot")
router.register("admissions", views.AdmissionViewSet, basename="admission")
router.register("call-offs", views.CallOffViewSet, basename="call-off")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("schemes", views.SchemeViewSet, basename="scheme")
router.register("budgets", views.BudgetViewSet, basename="budget")
router.register("contributions", views.ContributionViewSet, basename="contribution")
router.register("kpis", views.KPIViewSet, basename="kpi")
router.register("returns", views.ReturnViewSet, basename="return")
router.register("periods", views.PeriodViewSet, basename="period")
router.register("facts/kpi-values", views.KPIValueFacts, basename="kpi-values")
router.register("facts/monthly-actuals", views.MonthlyActualFacts, basename="monthly-actuals")

# The API authenticates each request itself (a token, or the session): the service's
# sign-in redirect would send an API client an HTML page.
for pattern in router.urls:
    login_not_required(pattern.callback)

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/facts/kpi-values.csv", login_not_required(views.KPIValueCSV.as_view()),
         name="kpi-values-csv"),
    path("api/v1/facts/monthly-actuals.csv",
         login_not_required(views.MonthlyActualCSV.as_view()), name="monthly-actuals-csv"),
    path("api/v1/schema/", login_not_required(SpectacularJSONAPIView.as_view()),
         name="schema"),
    path("api/v1/docs/", account_views.api_docs, name="docs"),
    path("api/v1/calendar/<str:secret>/", account_views.calendar_feed, name="calendar"),
    path("account/api-tokens/", account_views.token_list, name="tokens"),
    path("account/api-tokens/new/", account_views.token_create, name="token_create"),
    path("account/api-tokens/<int:pk>/revoke/", account_views.token_revoke,
         name="token_revoke"),
    path("account/api-access/", account_views.organisation_access,
         name="organisation_access"),
    path("account/calendar/new/", account_views.feed_create, name="feed_create"),
    path("account/calendar/turn-off/", account_views.feed_revoke, name="feed_revoke"),
]
