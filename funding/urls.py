from django.urls import path

from funding import views

app_name = "funding"

A = "funding/agreements/<int:pk>/"
S = A + "schemes/<int:scheme_pk>/"

urlpatterns = [
    path("funding/", views.agreement_list, name="agreement_list"),
    path("funding/agreements/new/", views.agreement_create, name="agreement_create"),
    path(A, views.agreement_detail, name="agreement_detail"),
    path(A + "edit/", views.agreement_edit, name="agreement_edit"),
    path(A + "schemes/new/", views.scheme_create, name="scheme_create"),
    path(S, views.scheme_detail, name="scheme_detail"),
    path(S + "edit/", views.scheme_edit, name="scheme_edit"),
    path(S + "budget/", views.budget_set, name="budget_set"),
    path(S + "contributions/new/", views.contribution_set, name="contribution_set"),
    path(S + "actuals/", views.actual_record, name="actual_record"),
    path(S + "contract-funding/<int:allocation_pk>/remove/", views.contract_funding_remove,
         name="contract_funding_remove"),
    path(A + "contributions/<int:contribution_pk>/instalments/new/", views.instalment_add,
         name="instalment_add"),
    path(A + "contributions/<int:contribution_pk>/reduce/", views.contribution_reduce,
         name="contribution_reduce"),
    path(A + "top-slices/new/", views.top_slice_create, name="top_slice_create"),
    path(A + "top-slices/<int:top_slice_pk>/draw/", views.top_slice_draw, name="top_slice_draw"),
    path(A + "contract-funding/new/", views.contract_funding_add, name="contract_funding_add"),
    path(A + "months/", views.months, name="months"),
    path(A + "year-end/<int:year>/", views.year_end, name="year_end"),
    path(A + "import/", views.import_upload, name="import_upload"),
    path(A + "import/<int:import_pk>/", views.import_preview, name="import_preview"),
    path(A + "statements/<int:year>/", views.statement, name="statement"),
    path(A + "statements/<int:year>/pdf/", views.statement_pdf, name="statement_pdf"),
    path(A + "bcf/<int:year>/", views.bcf_plan, name="bcf_plan"),
    path(A + "bcf/<int:year>/<str:fmt>/", views.bcf_plan_export, name="bcf_plan_export"),
]
