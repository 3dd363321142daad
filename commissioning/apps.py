from django.apps import AppConfig


class CommissioningConfig(AppConfig):
    name = "commissioning"
    verbose_name = "Organisations, partnerships and people"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which cannot be
        # imported while Django is still loading the apps (this module is read first).
        from django.db.models.signals import post_migrate

        from commissioning import access, checks, datacache  # noqa: F401 - checks registers itself
        from commissioning.history import register_history
        from commissioning.sign_in_log import connect as connect_sign_in_log

        connect_sign_in_log()
        post_migrate.connect(datacache.install_triggers, sender=self,
                             dispatch_uid="commissioning.datacache.install_triggers")

        register_history("commissioning.partnership", access.partnerships_for_user)
