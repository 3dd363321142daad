"""Load the demo world: each installed app's ``demo.load`` in dependency order."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from commissioning import queueing


class Command(BaseCommand):
    help = "Create realistic demo data from the seed committee papers (safe to run twice)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).load(self.stdout)
        # Embedded set-up: e-mails queued by the demo run on the in-process worker thread;
        # let them finish before the command exits.
        queueing.in_process.wait_idle()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
