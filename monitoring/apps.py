from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from commissioning import access
        from commissioning.history import register_history
        from monitoring import signals  # noqa: F401  (connects the receivers)
        from monitoring.models import KPI, KPITarget, PerformanceAssessment, PerformanceReturn

        register_history("monitoring.kpi", lambda user: KPI.objects.for_user(user))
        register_history("monitoring.kpitarget",
                         lambda user: KPITarget.objects.filter(kpi__in=KPI.objects.for_user(user)))
        register_history("monitoring.performancereturn",
                         lambda user: PerformanceReturn.objects.for_user(user))
        register_history("monitoring.performanceassessment",
                         lambda user: PerformanceAssessment.objects.for_user(user))

        from monitoring.reports.models import CommitteeReport, MonthlyReport

        # A report's history shows every section's text, Part 2 included: exempt roles only.
        register_history("monitoring.committeereport",
                         lambda user: CommitteeReport.objects.for_user(user)
                         if access.can_open_exempt_information(user)
                         else CommitteeReport.objects.none())
        register_history("monitoring.monthlyreport",
                         lambda user: MonthlyReport.objects.for_user(user))
