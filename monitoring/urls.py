from django.urls import path, register_converter

from monitoring import dashboard_views, views

app_name = "monitoring"


class FormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")

RETURN = "returns/<int:contract_pk>/<slug:period_code>/"

urlpatterns = [
    # Provider portal
    path("returns/", views.return_list, name="return_list"),
    path(RETURN, views.return_form, name="return_form"),
    path(RETURN + "check/", views.return_check, name="return_check"),
    path(RETURN + "submitted/", views.return_submitted, name="return_submitted"),
    path(RETURN + "evidence/", views.evidence_upload, name="evidence_upload"),
    path(RETURN + "template.<fmt:fmt>", views.return_template, name="return_template"),
    path(RETURN + "upload/", views.return_upload, name="return_upload"),
    path(RETURN + "service-users/", views.service_users_upload, name="service_users_upload"),
    path("returns/evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    # Commissioners
    path("monitoring/", views.overview, name="overview"),
    path("monitoring/inbox/", views.inbox, name="inbox"),
    path("monitoring/notices/", dashboard_views.notices_due, name="notices_due"),
    path("monitoring/key-dates/", dashboard_views.key_dates, name="key_dates"),
    path("monitoring/returns/<int:pk>/", views.return_review, name="return_review"),
    path("returns/<int:pk>/versions/<int:number>/", views.return_version,
         name="return_version"),
    path("monitoring/contracts/<int:pk>/", views.contract_performance,
         name="contract_performance"),
    path("monitoring/contracts/<int:pk>/kpis/new/", views.kpi_create, name="kpi_create"),
    path("monitoring/contracts/<int:pk>/kpis/copy/", views.templates_copy,
         name="templates_copy"),
    path("monitoring/kpis/<int:pk>/edit/", views.kpi_edit, name="kpi_edit"),
    path("monitoring/kpis/<int:pk>/targets/new/", views.target_set, name="target_set"),
    path("monitoring/contracts/<int:pk>/assessments/new/", views.assessment_start,
         name="assessment_start"),
    path("monitoring/assessments/<int:pk>/", views.assessment, name="assessment"),
    path("monitoring/service-users/", views.service_users_report, name="service_users"),
]

from monitoring.reports.urls import report_urlpatterns  # noqa: E402

urlpatterns += report_urlpatterns
