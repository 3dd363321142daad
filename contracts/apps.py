from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contract register"

    def ready(self) -> None:
        from commissioning.history import register_history
        from contracts.models import Contract

        register_history("contracts.contract", lambda user: Contract.objects.for_user(user))
