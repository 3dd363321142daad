from django.urls import path

from monitoring.reports import views

report_urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/monthly/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/monthly/<int:pk>/download/", views.report_download,
         name="report_download"),
    path("reports/committee/new/", views.committee_report_new,
         name="committee_report_new"),
    path("reports/committee/<int:pk>/", views.committee_report_detail,
         name="committee_report_detail"),
    path("reports/committee/<int:pk>/export/", views.committee_report_export,
         name="committee_report_export"),
    path("reports/committee/exports/<int:pk>/", views.committee_export_download,
         name="committee_export_download"),
]
