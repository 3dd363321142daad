from django.urls import path

from monitoring import report_views

report_urlpatterns = [
    path("reports/", report_views.report_list, name="report_list"),
    path("reports/monthly/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("reports/monthly/<int:pk>/download/", report_views.report_download,
         name="report_download"),
    path("reports/committee/new/", report_views.committee_report_new,
         name="committee_report_new"),
    path("reports/committee/<int:pk>/", report_views.committee_report_detail,
         name="committee_report_detail"),
    path("reports/committee/<int:pk>/export/", report_views.committee_report_export,
         name="committee_report_export"),
    path("reports/committee/exports/<int:pk>/", report_views.committee_export_download,
         name="committee_export_download"),
]
