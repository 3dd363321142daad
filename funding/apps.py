from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = "Funding and pooled budgets"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which cannot be
        # imported while Django is still loading the apps (this module is read first).
        from commissioning.history import register_history
        from funding.models import Scheme, Section75Agreement

        register_history("funding.section75agreement",
                         lambda user: Section75Agreement.objects.for_user(user))
        register_history(
            "funding.scheme",
            lambda user: Scheme.objects.filter(
                agreement__in=Section75Agreement.objects.for_user(user)),
        )
