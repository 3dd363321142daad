from importlib import import_module

from django.apps import AppConfig

# The app's models live in two modules: monitoring.models (KPIs, periods, returns,
# assessments) and monitoring.reports.models (generated reports), one app label and one set of
# migrations. Both are imported while Django loads models, so monitoring.models need not import
# the reports package (which imports it).
MODEL_MODULES = ("monitoring.reports.models",)


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def import_models(self) -> None:
        super().import_models()
        for module in MODEL_MODULES:
            import_module(module)

    def ready(self) -> None:
        # Imported here, not at the top: this module is loaded before the app registry is
        # ready, and models cannot be imported then.
        from commissioning import access
        from commissioning.history import register_history
        from monitoring.models import KPI, KPITarget, PerformanceAssessment, PerformanceReturn
        from monitoring.reports.models import CommitteeReport, MonthlyReport

        register_history("monitoring.kpi", lambda user: KPI.objects.for_user(user))
        register_history("monitoring.kpitarget",
                         lambda user: KPITarget.objects.filter(kpi__in=KPI.objects.for_user(user)))
        register_history("monitoring.performancereturn",
                         lambda user: PerformanceReturn.objects.for_user(user))
        register_history("monitoring.performanceassessment",
                         lambda user: PerformanceAssessment.objects.for_user(user))

        # A report's history shows every section's text, Part 2 included: exempt roles only.
        register_history("monitoring.committeereport",
                         lambda user: CommitteeReport.objects.for_user(user)
                         if access.can_open_exempt_information(user)
                         else CommitteeReport.objects.none())
        register_history("monitoring.monthlyreport",
                         lambda user: MonthlyReport.objects.for_user(user))
