from django.urls import path

from contracts import lookups, notice_views, views
from contracts.frameworks.urls import framework_urlpatterns

app_name = "contracts"

urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/new/", views.contract_create_start, name="create"),
    path("contracts/export.<str:fmt>", views.register_export, name="export"),
    path("contracts/lookups/cpv-codes.json", lookups.cpv_search, name="cpv_search"),
    path("contracts/lookups/providers.json", lookups.provider_names, name="provider_names"),
    path("contracts/import/", views.import_start, name="import"),
    path("contracts/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("contracts/import/<int:pk>/columns/", views.import_map, name="import_map"),
    path("contracts/import/<int:pk>/problems/", views.import_problems, name="import_problems"),
    path("contracts/<int:pk>/ocds.json", views.contract_ocds, name="ocds"),
    path("contracts/<int:pk>/notices/<str:kind>/<str:event>/", notice_views.notice_detail,
         name="notice"),
    path("contracts/<int:pk>/notices/<str:kind>/<str:event>/ocds.json",
         notice_views.notice_ocds, name="notice_ocds"),
    path("contracts/payments-compliance/<int:organisation_pk>/<str:period_end>/",
         notice_views.payments_notice, name="payments_notice"),
    path("contracts/psr-summary/<int:organisation_pk>/<str:year>/", notice_views.psr_summary,
         name="psr_summary"),
    path("contracts/new/check/", views.contract_create_check, name="create_check"),
    path("contracts/new/<slug:step>/", views.contract_create_step, name="create_step"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="edit"),
    path("contracts/<int:pk>/status/", views.contract_status, name="status"),
    path("contracts/<int:pk>/committee-papers/", views.contract_cover, name="cover"),
    path("contracts/<int:pk>/extension/", views.extension_exercise, name="extension"),
    path("contracts/<int:pk>/decisions/new/", views.decision_record, name="decision"),
    path("contracts/<int:pk>/variations/new/", views.variation_record, name="variation"),
    path("contracts/<int:pk>/review-dates/new/", views.review_date_add, name="review_date"),
    path("contracts/<int:pk>/shares/", views.shares_set, name="shares"),
    path("contracts/<int:pk>/documents/new/", views.document_upload, name="document_upload"),
    path("contracts/<int:pk>/documents/<int:document_pk>/", views.document_download,
         name="document_download"),
]

urlpatterns += framework_urlpatterns
