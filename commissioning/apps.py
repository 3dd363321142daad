from django.apps import AppConfig


class CommissioningConfig(AppConfig):
    name = "commissioning"
    verbose_name = "Organisations, partnerships and people"

    def ready(self) -> None:
        from commissioning import access
        from commissioning.history import register_history

        register_history("commissioning.partnership", access.partnerships_for_user)
