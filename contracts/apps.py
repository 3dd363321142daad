from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contract register"

    def ready(self) -> None:
        from commissioning.history import register_history
        from contracts.models import Contract

        register_history("contracts.contract", lambda user: Contract.objects.for_user(user))

        from contracts.framework_selectors import visible_applications
        from contracts.models import CallOff, Framework, Lot

        register_history("contracts.framework", lambda user: Framework.objects.for_user(user))
        register_history("contracts.lot", lambda user: Lot.objects.filter(
            framework__in=Framework.objects.for_user(user)))
        register_history("contracts.calloff", lambda user: CallOff.objects.for_user(user))
        register_history("contracts.providerapplication", visible_applications)
