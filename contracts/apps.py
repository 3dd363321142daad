from importlib import import_module

from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contract register"

    def import_models(self) -> None:
        """Load the frameworks subpackage's models with the register's (same app label and
        tables). ``contracts.models`` does not import them itself: frameworks build on the
        register (a call-off is a contract), so the register must not depend on them."""
        super().import_models()
        import_module(f"{self.name}.frameworks.models")

    def ready(self) -> None:
        # Imported here, not at the top: models may not be imported before the app registry
        # is ready (this module is read while Django loads the apps).
        from commissioning.history import register_history
        from contracts.frameworks.models import CallOff, Framework, Lot, ProviderApplication
        from contracts.models import Contract

        register_history("contracts.contract", lambda user: Contract.objects.for_user(user))
        register_history("contracts.framework", lambda user: Framework.objects.for_user(user))
        register_history("contracts.lot", lambda user: Lot.objects.filter(
            framework__in=Framework.objects.for_user(user)))
        register_history("contracts.calloff", lambda user: CallOff.objects.for_user(user))
        register_history("contracts.providerapplication",
                         lambda user: ProviderApplication.objects.for_user(user))
